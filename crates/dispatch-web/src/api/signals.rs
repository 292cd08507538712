//! Signal definitions (per project), signal filters and the signal instances received: the
//! configuration of the signals pipeline and what it took in. The ingest endpoints are in
//! [`super::signal_ingest`], cases in [`super::cases`].

use crate::api::parse;
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::wire::Page;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::signal::{EntityType, FieldMap, FilterKind, FilterMode, Matchers, SignalSource};
use dispatch_core::{Patch, ServiceId, SignalDefinitionId, SignalFilterId, ValidationError};
use dispatch_engine::data::model::{signal_definition, signal_filter, signal_instance};
use dispatch_engine::signal::{
    DefinitionInput, DefinitionQuery, FilterInput, FilterQuery, InstanceQuery,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// Signal configuration routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{slug}/signal-definitions",
            get(list_definitions).post(create_definition),
        )
        .route(
            "/projects/{slug}/signal-definitions/{id}",
            get(show_definition)
                .patch(update_definition)
                .delete(delete_definition),
        )
        .route("/signal-definitions", get(list_all_definitions))
        .route("/signal-filters", get(list_filters).post(create_filter))
        .route(
            "/signal-filters/{id}",
            get(show_filter).patch(update_filter).delete(delete_filter),
        )
        .route("/signal-instances", get(list_instances))
}

/// A signal definition.
#[derive(Serialize, ToSchema)]
pub struct DefinitionOut {
    /// Id.
    pub id: i64,
    /// The project's id.
    pub project_id: i64,
    /// Name, unique in the project.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Who owns it.
    pub owner: String,
    /// Its runbook.
    pub runbook_url: Option<String>,
    /// `alertmanager`, `grafana`, `pagerduty` or `generic`.
    pub source: SignalSource,
    /// The label matcher: an object of exact values when every matcher is `=`, else its
    /// text form (`alertname="X", service=~"pay.*"`).
    #[serde(rename = "match")]
    #[schema(value_type = Object)]
    pub matcher: Value,
    /// The label matcher's text form.
    pub match_text: String,
    /// Whether it takes alerts.
    pub enabled: bool,
    /// Whether a new alert opens a case.
    pub create_case: bool,
    /// The case's incident type slug.
    pub case_type: Option<String>,
    /// The case's priority slug.
    pub case_priority: Option<String>,
    /// The case's severity slug.
    pub case_severity: Option<String>,
    /// The on-call service whose person is assigned new cases.
    pub service_id: Option<i64>,
    /// Where the case's thread goes.
    pub conversation_target: Option<String>,
    /// The tags a new case starts with (`name`, or `type:name` for a typed tag).
    pub tags: Vec<String>,
    /// Entity extractors.
    pub entity_types: Vec<EntityType>,
    /// A generic source's field paths.
    pub fields: FieldMap,
    /// Alerts with the same fingerprint within this many seconds join the first one's case.
    pub dedup_window_seconds: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<signal_definition::Model> for DefinitionOut {
    fn from(d: signal_definition::Model) -> Self {
        let input = DefinitionInput::from_row(&d);
        let matcher = input
            .matcher
            .as_equalities()
            .map(Value::Object)
            .unwrap_or_else(|| Value::String(d.matcher.clone()));
        Self {
            id: d.id,
            project_id: d.project_id,
            name: d.name,
            description: d.description,
            owner: d.owner,
            runbook_url: d.runbook_url,
            source: input.source,
            matcher,
            match_text: d.matcher,
            enabled: d.enabled,
            create_case: d.create_case,
            case_type: d.case_type,
            case_priority: d.case_priority,
            case_severity: d.case_severity,
            service_id: d.service_id,
            conversation_target: d.conversation_target,
            tags: input.tags,
            entity_types: input.entity_types,
            fields: input.fields,
            dedup_window_seconds: d.dedup_window_seconds,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// A new definition (`name` and `source` required) or, in a PATCH, the fields to change
/// (absent fields are kept; `null` clears an optional one).
#[derive(Deserialize, ToSchema)]
pub struct DefinitionIn {
    /// Name, unique in the project.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Patch<String>,
    /// What it is for.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    /// Who owns it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub owner: Patch<String>,
    /// Its runbook (http or https URL).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub runbook_url: Patch<String>,
    /// `alertmanager`, `grafana`, `pagerduty` or `generic`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub source: Patch<String>,
    /// Which alerts: `{"alertname": "HighErrorRate"}` (exact values) or
    /// `"alertname=\"HighErrorRate\", service=~\"pay.*\""`; absent or empty: every alert of the source.
    #[serde(default, rename = "match")]
    #[schema(value_type = Option<Object>)]
    pub matcher: Patch<Value>,
    /// Whether it takes alerts (default true).
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub enabled: Patch<bool>,
    /// Whether a new alert opens a case (default true).
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub create_case: Patch<bool>,
    /// The case's incident type slug (also the escalated incident's).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub case_type: Patch<String>,
    /// The case's priority slug.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub case_priority: Patch<String>,
    /// The case's severity slug.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub case_severity: Patch<String>,
    /// The on-call service whose current person is assigned new cases.
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub service_id: Patch<i64>,
    /// Where the case's thread goes (a channel name).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub conversation_target: Patch<String>,
    /// The tags a new case starts with (`name` or `type:name`), each one the project has: a
    /// name it has no tag of is a 422 on `tags` naming it. A tag the definition already names
    /// may stay after the project removed it.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Patch<Vec<String>>,
    /// Entity extractors: `{"name": "host", "label": "instance"}`, `{"name": "ip", "path":
    /// "host.ip"}` or `{"name": "user", "regex": "user=(\\w+)"}`.
    #[serde(default)]
    #[schema(value_type = Option<Vec<EntityType>>)]
    pub entity_types: Patch<Vec<EntityType>>,
    /// A generic source's field paths (`title`, `severity`, `fingerprint`, `labels`, `link`,
    /// `status`).
    #[serde(default)]
    #[schema(value_type = Option<FieldMap>)]
    pub fields: Patch<FieldMap>,
    /// The deduplication window in seconds (default 3600).
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub dedup_window_seconds: Patch<i64>,
}

/// A clearable short text: `null` or empty clears it.
fn text(e: &mut ValidationError, field: &str, p: Patch<String>, into: &mut Option<String>) {
    let max = 500;
    match p {
        Patch::Absent => {}
        Patch::Null => *into = None,
        Patch::Value(v) if v.trim().is_empty() => *into = None,
        Patch::Value(v) if v.chars().count() > max => {
            e.push(field, format!("must be at most {max} characters"))
        }
        Patch::Value(v) => *into = Some(v.trim().to_string()),
    }
}

impl DefinitionIn {
    /// Applies the fields given onto `d`, recording every bad one.
    fn apply(self, e: &mut ValidationError, d: &mut DefinitionInput) {
        if let Some(n) = parse::not_null(e, "name", self.name) {
            d.name = n;
        }
        if let Some(v) = parse::description(e, "description", self.description) {
            d.description = v;
        }
        let mut owner = Some(d.owner.clone());
        text(e, "owner", self.owner, &mut owner);
        d.owner = owner.unwrap_or_default();
        match parse::clearable(
            e,
            "runbook_url",
            self.runbook_url,
            dispatch_core::values::WebLink::parse,
        ) {
            Patch::Absent => {}
            Patch::Null => d.runbook_url = None,
            Patch::Value(u) => d.runbook_url = Some(u.as_str().to_string()),
        }
        if let Some(s) = parse::not_null(e, "source", self.source) {
            if let Some(s) = parse::enum_field(e, "source", Some(&s)) {
                d.source = s;
            }
        }
        match self.matcher {
            Patch::Absent => {}
            Patch::Null => d.matcher = Matchers::default(),
            Patch::Value(v) => {
                if let Some(m) = e.check(Matchers::from_json("match", &v)) {
                    d.matcher = m;
                }
            }
        }
        if let Some(v) = parse::not_null(e, "enabled", self.enabled) {
            d.enabled = v;
        }
        if let Some(v) = parse::not_null(e, "create_case", self.create_case) {
            d.create_case = v;
        }
        text(e, "case_type", self.case_type, &mut d.case_type);
        text(e, "case_priority", self.case_priority, &mut d.case_priority);
        text(e, "case_severity", self.case_severity, &mut d.case_severity);
        match self.service_id {
            Patch::Absent => {}
            Patch::Null => d.service_id = None,
            Patch::Value(v) => d.service_id = Some(ServiceId(v)),
        }
        text(
            e,
            "conversation_target",
            self.conversation_target,
            &mut d.conversation_target,
        );
        match self.tags {
            Patch::Absent => {}
            Patch::Null => d.tags.clear(),
            Patch::Value(v) => d.tags = v,
        }
        match self.entity_types {
            Patch::Absent => {}
            Patch::Null => d.entity_types.clear(),
            Patch::Value(v) => d.entity_types = v,
        }
        match self.fields {
            Patch::Absent => {}
            Patch::Null => d.fields = FieldMap::default(),
            Patch::Value(v) => d.fields = v,
        }
        if let Some(w) = parse::not_null(e, "dedup_window_seconds", self.dedup_window_seconds) {
            d.dedup_window_seconds = w;
        }
        if let Err(err) = d.check() {
            for f in err.fields {
                if !e.fields.iter().any(|x| x.field == f.field) {
                    e.fields.push(f);
                }
            }
        }
    }
}

/// A project's signal definitions, by name.
#[utoipa::path(get, path = "/api/v1/projects/{slug}/signal-definitions", tag = "signals",
    params(("slug" = String, Path)),
    responses((status = 200, body = Vec<DefinitionOut>), (status = 404, body = ErrorBody)))]
pub async fn list_definitions(
    State(s): State<AppState>,
    auth: Auth,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Vec<DefinitionOut>>> {
    let rows = s
        .engine
        .signals()
        .definitions(auth.0.viewer(), &slug)
        .await?;
    Ok(axum::Json(rows.into_iter().map(Into::into).collect()))
}

/// Which definitions to list. Multi-valued filters take comma-separated values.
#[derive(Deserialize, IntoParams)]
pub struct DefinitionListQuery {
    /// Only this project's (by slug).
    pub project: Option<String>,
    /// Only these sources: `alertmanager`, `grafana`, `pagerduty`, `generic`.
    pub source: Option<String>,
    /// Only the enabled ones (`true`) or the disabled ones (`false`).
    pub enabled: Option<bool>,
    /// Page, from 1.
    pub page: Option<i64>,
    /// Rows per page, 1-100 (default 50).
    pub per_page: Option<i64>,
}

/// Signal definitions of every project (or one), by project and name, paged. A value a filter
/// does not know is refused (422 naming it).
#[utoipa::path(get, path = "/api/v1/signal-definitions", tag = "signals", params(DefinitionListQuery),
    responses((status = 200, body = Page<DefinitionOut>), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_all_definitions(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<DefinitionListQuery>,
) -> ApiResult<axum::Json<Page<DefinitionOut>>> {
    let mut e = ValidationError::default();
    let (page, per_page) = parse::paging(&mut e, q.page, q.per_page, 50);
    let query = DefinitionQuery {
        project: q.project,
        sources: parse::enum_list(&mut e, "source", q.source.as_deref()),
        enabled: q.enabled,
        viewer: auth.0.viewer(),
    };
    e.into_result()?;
    let (rows, total) = s
        .engine
        .signals()
        .definition_list(&query, page, per_page)
        .await?;
    Ok(axum::Json(Page::of(rows, total, page, per_page)))
}

/// Creates a signal definition: which alerts of a source it takes and what they open.
#[utoipa::path(post, path = "/api/v1/projects/{slug}/signal-definitions", tag = "signals",
    params(("slug" = String, Path)),
    request_body(content = DefinitionIn, example = json!({"name": "High error rate", "source": "alertmanager",
        "match": {"alertname": "HighErrorRate"}, "create_case": true, "dedup_window_seconds": 3600})),
    responses((status = 201, body = DefinitionOut), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_definition(
    State(s): State<AppState>,
    _auth: Auth,
    Path(slug): Path<String>,
    Json(b): Json<DefinitionIn>,
) -> ApiResult<(StatusCode, axum::Json<DefinitionOut>)> {
    let mut e = ValidationError::default();
    if b.name.is_absent() {
        e.push("name", "is required");
    }
    if b.source.is_absent() {
        e.push("source", "is required");
    }
    let mut d = DefinitionInput::new("", SignalSource::Generic, Matchers::default());
    b.apply(&mut e, &mut d);
    e.fields.dedup_by(|a, b| a.field == b.field);
    e.into_result()?;
    let saved = s.engine.signals().create_definition(&slug, d).await?;
    Ok((StatusCode::CREATED, axum::Json(saved.into())))
}

/// One signal definition.
#[utoipa::path(get, path = "/api/v1/projects/{slug}/signal-definitions/{id}", tag = "signals",
    params(("slug" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = DefinitionOut), (status = 404, body = ErrorBody)))]
pub async fn show_definition(
    State(s): State<AppState>,
    auth: Auth,
    Path((slug, id)): Path<(String, i64)>,
) -> ApiResult<axum::Json<DefinitionOut>> {
    let d = s
        .engine
        .signals()
        .definition(auth.0.viewer(), &slug, SignalDefinitionId(id))
        .await?;
    Ok(axum::Json(d.into()))
}

/// Changes a signal definition: absent fields are kept.
#[utoipa::path(patch, path = "/api/v1/projects/{slug}/signal-definitions/{id}", tag = "signals",
    params(("slug" = String, Path), ("id" = i64, Path)), request_body = DefinitionIn,
    responses((status = 200, body = DefinitionOut), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_definition(
    State(s): State<AppState>,
    auth: Auth,
    Path((slug, id)): Path<(String, i64)>,
    Json(b): Json<DefinitionIn>,
) -> ApiResult<axum::Json<DefinitionOut>> {
    let signals = s.engine.signals();
    let current = signals
        .definition(auth.0.viewer(), &slug, SignalDefinitionId(id))
        .await?;
    let mut d = DefinitionInput::from_row(&current);
    let mut e = ValidationError::default();
    b.apply(&mut e, &mut d);
    e.into_result()?;
    let saved = signals
        .update_definition(&slug, SignalDefinitionId(id), d)
        .await?;
    Ok(axum::Json(saved.into()))
}

/// Deletes a signal definition and its instances (cases it opened stay).
#[utoipa::path(delete, path = "/api/v1/projects/{slug}/signal-definitions/{id}", tag = "signals",
    params(("slug" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_definition(
    State(s): State<AppState>,
    _auth: Auth,
    Path((slug, id)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    s.engine
        .signals()
        .delete_definition(&slug, SignalDefinitionId(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A signal filter.
#[derive(Serialize, ToSchema)]
pub struct FilterOut {
    /// Id.
    pub id: i64,
    /// The project's id.
    pub project_id: i64,
    /// Name, unique in the project.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// `snooze` or `deduplicate`.
    pub kind: FilterKind,
    /// Which alerts (labels, and entities by type name), in the text form.
    pub expression: String,
    /// `active`, `monitor`, `inactive`, or `expired` once `expires_at` passed.
    pub mode: FilterMode,
    /// When it stops acting.
    pub expires_at: Option<DateTime<Utc>>,
    /// A deduplicate filter's window in seconds.
    pub window_seconds: i64,
    /// Who made it.
    pub created_by: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<signal_filter::Model> for FilterOut {
    fn from(f: signal_filter::Model) -> Self {
        let mode = dispatch_engine::signal::filter_mode(&f, dispatch_core::now());
        Self {
            id: f.id,
            project_id: f.project_id,
            name: f.name,
            description: f.description,
            kind: f.kind.parse().unwrap_or(FilterKind::Snooze),
            expression: f.expression,
            mode,
            expires_at: f.expires_at,
            window_seconds: f.window_seconds,
            created_by: f.created_by,
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

/// A new filter (`name` and `expression` required) or, in a PATCH, the fields to change.
#[derive(Deserialize, ToSchema)]
pub struct FilterIn {
    /// The project's slug (default project when absent); not changed by a PATCH.
    pub project: Option<String>,
    /// Name, unique in the project.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Patch<String>,
    /// What it is for.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    /// `snooze` (default) or `deduplicate`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub kind: Patch<String>,
    /// Which alerts: `service="payments", env=~"stag.*"` or `{"service": "payments"}`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub expression: Patch<Value>,
    /// `active` (default), `monitor` (records what it would do) or `inactive`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub mode: Patch<String>,
    /// When it stops acting (RFC 3339); `null`: never.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub expires_at: Patch<String>,
    /// A deduplicate filter's window in seconds (default 3600).
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub window_seconds: Patch<i64>,
}

impl FilterIn {
    fn apply(self, e: &mut ValidationError, f: &mut FilterInput) {
        if let Some(n) = parse::not_null(e, "name", self.name) {
            if n.trim().is_empty() || n.chars().count() > 200 {
                e.push("name", "must be 1-200 characters");
            }
            f.name = n;
        }
        if let Some(v) = parse::description(e, "description", self.description) {
            f.description = v;
        }
        if let Some(k) = parse::not_null(e, "kind", self.kind) {
            if let Some(k) = parse::enum_field(e, "kind", Some(&k)) {
                f.kind = k;
            }
        }
        if let Some(v) = parse::not_null(e, "expression", self.expression) {
            if let Some(m) = e.check(Matchers::from_json("expression", &v)) {
                if m.0.is_empty() {
                    e.push("expression", "must hold at least one matcher");
                }
                f.expression = m;
            }
        }
        if let Some(m) = parse::not_null(e, "mode", self.mode) {
            match parse::enum_field::<FilterMode>(e, "mode", Some(&m)) {
                Some(FilterMode::Expired) => e.push(
                    "mode",
                    "expired is set by expires_at; use active, monitor or inactive",
                ),
                Some(m) => f.mode = m,
                None => {}
            }
        }
        match self.expires_at {
            Patch::Absent => {}
            Patch::Null => f.expires_at = None,
            Patch::Value(v) => f.expires_at = parse::time(e, "expires_at", Some(&v)),
        }
        if let Some(w) = parse::not_null(e, "window_seconds", self.window_seconds) {
            if !(0..=30 * 86_400).contains(&w) {
                e.push("window_seconds", "must be between 0 and 2592000 (30 days)");
            }
            f.window_seconds = w;
        }
    }
}

/// Which filters to list. Multi-valued filters take comma-separated values.
#[derive(Deserialize, IntoParams)]
pub struct FilterListQuery {
    /// Only this project's (by slug).
    pub project: Option<String>,
    /// Only these kinds: `snooze`, `deduplicate`.
    pub kind: Option<String>,
    /// Only these modes as they stand now: `active`, `monitor`, `inactive`, `expired`.
    pub mode: Option<String>,
    /// Page, from 1.
    pub page: Option<i64>,
    /// Rows per page, 1-100 (default 50).
    pub per_page: Option<i64>,
}

/// Signal filters, by project and name, paged. A value a filter does not know is refused (422
/// naming it).
#[utoipa::path(get, path = "/api/v1/signal-filters", tag = "signals", params(FilterListQuery),
    responses((status = 200, body = Page<FilterOut>), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_filters(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<FilterListQuery>,
) -> ApiResult<axum::Json<Page<FilterOut>>> {
    let mut e = ValidationError::default();
    let (page, per_page) = parse::paging(&mut e, q.page, q.per_page, 50);
    let query = FilterQuery {
        project: q.project,
        kinds: parse::enum_list(&mut e, "kind", q.kind.as_deref()),
        modes: parse::enum_list(&mut e, "mode", q.mode.as_deref()),
        viewer: auth.0.viewer(),
    };
    e.into_result()?;
    let (rows, total) = s
        .engine
        .signals()
        .filter_list(&query, page, per_page)
        .await?;
    Ok(axum::Json(Page::of(rows, total, page, per_page)))
}

/// Creates a filter: snooze alerts matching an expression until it expires, or deduplicate
/// them within its own window.
#[utoipa::path(post, path = "/api/v1/signal-filters", tag = "signals",
    request_body(content = FilterIn, example = json!({"name": "Payments maintenance",
        "expression": "service=\"payments\"", "mode": "active", "expires_at": "2030-01-01T00:00:00Z"})),
    responses((status = 201, body = FilterOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_filter(
    State(s): State<AppState>,
    auth: Auth,
    Json(b): Json<FilterIn>,
) -> ApiResult<(StatusCode, axum::Json<FilterOut>)> {
    let slug = super::rules::project_or_default(&s, b.project.clone()).await?;
    auth.require_configure(&s.engine, &slug).await?;
    let mut e = ValidationError::default();
    if b.name.is_absent() {
        e.push("name", "is required");
    }
    if b.expression.is_absent() {
        e.push("expression", "is required");
    }
    let mut f = FilterInput {
        project: Some(slug),
        name: String::new(),
        description: String::new(),
        kind: FilterKind::Snooze,
        expression: Matchers::default(),
        mode: FilterMode::Active,
        expires_at: None,
        window_seconds: dispatch_core::signal::DEFAULT_DEDUP_WINDOW,
    };
    b.apply(&mut e, &mut f);
    e.into_result()?;
    let saved = s
        .engine
        .signals()
        .create_filter(f, &auth.actor().email)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(saved.into())))
}

/// One filter.
#[utoipa::path(get, path = "/api/v1/signal-filters/{id}", tag = "signals", params(("id" = i64, Path)),
    responses((status = 200, body = FilterOut), (status = 404, body = ErrorBody)))]
pub async fn show_filter(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<FilterOut>> {
    let f = s
        .engine
        .signals()
        .filter(auth.0.viewer(), SignalFilterId(id))
        .await?;
    Ok(axum::Json(f.into()))
}

/// Changes a filter: absent fields are kept (its project stays).
#[utoipa::path(patch, path = "/api/v1/signal-filters/{id}", tag = "signals", params(("id" = i64, Path)),
    request_body = FilterIn,
    responses((status = 200, body = FilterOut), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_filter(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(b): Json<FilterIn>,
) -> ApiResult<axum::Json<FilterOut>> {
    let signals = s.engine.signals();
    let current = signals.filter(auth.0.viewer(), SignalFilterId(id)).await?;
    let mut e = ValidationError::default();
    if b.project.is_some() {
        e.push(
            "project",
            "a filter stays in its project; make a new one instead",
        );
    }
    let mut f = FilterInput {
        project: None,
        name: current.name.clone(),
        description: current.description.clone(),
        kind: current.kind.parse().unwrap_or(FilterKind::Snooze),
        expression: Matchers::parse("expression", &current.expression).unwrap_or_default(),
        mode: current.mode.parse().unwrap_or(FilterMode::Active),
        expires_at: current.expires_at,
        window_seconds: current.window_seconds,
    };
    b.apply(&mut e, &mut f);
    e.into_result()?;
    Ok(axum::Json(
        signals.update_filter(SignalFilterId(id), f).await?.into(),
    ))
}

/// Deletes a filter.
#[utoipa::path(delete, path = "/api/v1/signal-filters/{id}", tag = "signals", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_filter(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    s.engine.signals().delete_filter(SignalFilterId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One alert received.
#[derive(Serialize, ToSchema)]
pub struct InstanceOut {
    /// Id.
    pub id: i64,
    /// The project's id.
    pub project_id: i64,
    /// The definition it matched.
    pub definition_id: i64,
    /// The endpoint it came through.
    pub source: String,
    /// What identifies the same alert across sends.
    pub fingerprint: String,
    /// `firing`, `acknowledged` or `resolved`.
    pub status: String,
    /// What is wrong.
    pub title: String,
    /// The severity the source gave.
    pub severity: Option<String>,
    /// A link back to the source.
    pub link: Option<String>,
    /// The alert's labels.
    #[schema(value_type = Object)]
    pub labels: Value,
    /// Entities found (`{"type", "value"}`).
    #[schema(value_type = Vec<Object>)]
    pub entities: Value,
    /// The alert as received.
    #[schema(value_type = Object)]
    pub raw: Value,
    /// `none`, `deduplicate` or `snooze`.
    pub filter_action: String,
    /// The filter that acted (or, with `none`, a monitor-mode filter that would have).
    pub filter_id: Option<i64>,
    /// The first instance of this alert, when deduplicated.
    pub duplicate_of: Option<i64>,
    /// The case it opened or joined.
    pub case_id: Option<i64>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// When the source said it was over.
    pub resolved_at: Option<DateTime<Utc>>,
}

impl From<signal_instance::Model> for InstanceOut {
    fn from(i: signal_instance::Model) -> Self {
        let json = |s: &str| serde_json::from_str(s).unwrap_or(Value::Null);
        Self {
            id: i.id,
            project_id: i.project_id,
            definition_id: i.definition_id,
            labels: json(&i.labels),
            entities: json(&i.entities),
            raw: json(&i.raw),
            source: i.source,
            fingerprint: i.fingerprint,
            status: i.status,
            title: i.title,
            severity: i.severity,
            link: i.link,
            filter_action: i.filter_action,
            filter_id: i.filter_id,
            duplicate_of: i.duplicate_of,
            case_id: i.case_id,
            received_at: i.received_at,
            resolved_at: i.resolved_at,
        }
    }
}

/// Which instances to list. Multi-valued filters take comma-separated values.
#[derive(Deserialize, IntoParams)]
pub struct InstanceListQuery {
    /// Only this definition's.
    pub definition: Option<i64>,
    /// Only this case's.
    pub case: Option<i64>,
    /// Only this project's (by slug).
    pub project: Option<String>,
    /// Only these statuses: `firing`, `acknowledged`, `resolved`.
    pub status: Option<String>,
    /// Only these filter actions: `none`, `deduplicate`, `snooze`.
    pub filter_action: Option<String>,
    /// Page, from 1.
    pub page: Option<i64>,
    /// Rows per page, 1-100 (default 50).
    pub per_page: Option<i64>,
}

/// Signal instances, newest first. A value a filter does not know is refused (422 naming it).
#[utoipa::path(get, path = "/api/v1/signal-instances", tag = "signals", params(InstanceListQuery),
    responses((status = 200, body = Page<InstanceOut>), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_instances(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<InstanceListQuery>,
) -> ApiResult<axum::Json<Page<InstanceOut>>> {
    let mut e = ValidationError::default();
    let (page, per_page) = parse::paging(&mut e, q.page, q.per_page, 50);
    let query = InstanceQuery {
        definition: q.definition.map(SignalDefinitionId),
        case: q.case.map(dispatch_core::CaseId),
        project: q.project,
        statuses: parse::enum_list(&mut e, "status", q.status.as_deref()),
        actions: parse::enum_list(&mut e, "filter_action", q.filter_action.as_deref()),
        viewer: auth.viewer(),
    };
    e.into_result()?;
    let (rows, total) = s.engine.signals().instances(&query, page, per_page).await?;
    Ok(axum::Json(Page::of(rows, total, page, per_page)))
}
