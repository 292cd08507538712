//! The signal pages: a project's definitions, each with its alerts per hour over the last day
//! and its latest instances, and the project's filters; their create and edit forms. Every form
//! becomes the JSON body the API takes and goes through the API's own handler (the settings
//! pages' way, [`super::settings::to_json`]): a bad field comes back beside that field, nothing
//! saved. Reading is for everyone; changing needs the API's rule (an admin, or the project's).

use super::settings::{self, body, fixed, options, out, select, Field, Kind};
use super::{render, see_other, Caller, Chrome, Form};
use crate::api::signals::{self as api, DefinitionOut, FilterOut, InstanceOut};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Path, Query};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use dispatch_core::{ProjectId, SignalDefinitionId, SignalFilterId, ValidationError};
use dispatch_engine::signal::views::HOURS;
use dispatch_engine::signal::InstanceQuery;
use serde::Deserialize;
use serde_json::{json, Value};

/// Which project a list shows (the default project when absent).
#[derive(Deserialize, Default)]
pub struct ProjectQuery {
    /// The project's slug.
    pub project: Option<String>,
}

/// A project's slug and name, for the project picker.
pub(super) async fn projects(s: &AppState) -> ApiResult<Vec<(String, String)>> {
    Ok(s.engine
        .projects()
        .list()
        .await?
        .into_iter()
        .map(|p| (p.slug, p.name))
        .collect())
}

/// The project a list or form is about.
async fn project_of(
    s: &AppState,
    named: Option<&str>,
) -> ApiResult<dispatch_engine::data::model::project::Model> {
    let named = named.map(str::trim).filter(|p| !p.is_empty());
    Ok(s.engine.projects().get_or_default(named).await?)
}

/// What the caller may see of a project's signal configuration, and whether it is hidden from
/// them (a members-only project they do not use is *not found* to them: the page says so).
fn seen_or_members_only<T>(
    project: &dispatch_engine::data::model::project::Model,
    read: dispatch_engine::Result<Vec<T>>,
) -> ApiResult<(Vec<T>, bool)> {
    match read {
        Ok(rows) => Ok((rows, false)),
        Err(dispatch_engine::Error::NotFound(_)) if project.members_only => Ok((Vec::new(), true)),
        Err(e) => Err(e.into()),
    }
}

/// Whether the caller may change the project's definitions and filters.
pub(super) async fn may_configure(s: &AppState, caller: &Caller, slug: &str) -> bool {
    caller.auth.require_configure(&s.engine, slug).await.is_ok()
}

/// One bar of a definition's alerts-per-hour chart.
pub struct Bar {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Height (at least 1 when the hour had any alert).
    pub h: u32,
    /// What it says on hover.
    pub label: String,
}

/// Chart size: one 8-unit slot per hour, 32 units high.
const BAR_SLOT: u32 = 8;
const CHART_H: u32 = 32;

/// The bars of `counts` (oldest hour first, the last one ending now).
fn bars(counts: &[u64]) -> Vec<Bar> {
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let n = counts.len();
    counts
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let h = if c == 0 {
                0
            } else {
                ((c * u64::from(CHART_H)) / max).max(1) as u32
            };
            let ago = n - i;
            Bar {
                x: i as u32 * BAR_SLOT,
                y: CHART_H - h,
                h,
                label: format!(
                    "{c} alert{} {}–{} hours ago",
                    if c == 1 { "" } else { "s" },
                    ago,
                    ago - 1
                ),
            }
        })
        .collect()
}

/// A definition as its list shows it.
pub struct DefinitionRow {
    /// The definition.
    pub d: DefinitionOut,
    /// Its alerts per hour, as bars.
    pub bars: Vec<Bar>,
    /// Alerts in the last day.
    pub day: u64,
    /// Alerts ever (still stored).
    pub total: u64,
    /// The latest few.
    pub recent: Vec<InstanceOut>,
}

/// `GET /signals`.
#[derive(Template)]
#[template(path = "signals/definitions.html")]
struct DefinitionsPage {
    chrome: Chrome,
    project: String,
    projects: Vec<(String, String)>,
    rows: Vec<DefinitionRow>,
    /// The project is members-only and the caller not one of them: nothing of it is shown.
    members_only: bool,
    may_change: bool,
    chart_w: u32,
    chart_h: u32,
}

/// `GET /signals`: a project's definitions with what they received.
pub async fn definitions(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ProjectQuery>,
) -> ApiResult<Response> {
    let project = project_of(&s, q.project.as_deref()).await?;
    let signals = s.engine.signals();
    let (defs, members_only) = seen_or_members_only(
        &project,
        signals
            .definitions(caller.auth.viewer(), &project.slug)
            .await,
    )?;
    let ids: Vec<SignalDefinitionId> = defs.iter().map(|d| SignalDefinitionId(d.id)).collect();
    let mut counts = signals.hourly_counts(&ids).await?;
    let mut rows = Vec::new();
    for d in defs {
        let id = SignalDefinitionId(d.id);
        let c = counts.remove(&id).unwrap_or_else(|| vec![0; HOURS]);
        let (recent, total) = signals
            .instances(
                &InstanceQuery {
                    definition: Some(id),
                    ..InstanceQuery::seen_by(caller.auth.viewer())
                },
                1,
                5,
            )
            .await?;
        rows.push(DefinitionRow {
            d: d.into(),
            day: c.iter().sum(),
            bars: bars(&c),
            total,
            recent: recent.into_iter().map(Into::into).collect(),
        });
    }
    let page = DefinitionsPage {
        chrome: caller.chrome("Signals", "signals"),
        may_change: may_configure(&s, &caller, &project.slug).await,
        project: project.slug,
        projects: projects(&s).await?,
        rows,
        members_only,
        chart_w: HOURS as u32 * BAR_SLOT,
        chart_h: CHART_H,
    };
    Ok(render(StatusCode::OK, &page))
}

/// A definition's or filter's form.
#[derive(Template)]
#[template(path = "signals/form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    /// The list it comes from (address, title).
    back: (String, String),
    action: String,
    fields: Vec<Field>,
    form: Form,
    /// Where "delete" posts (edit forms).
    delete: Option<String>,
}

impl FormPage {
    /// Where Cancel goes.
    fn back(&self) -> String {
        self.back.0.clone()
    }
}

/// The definition form's fields, the project's taxonomy and services offered.
async fn definition_fields(s: &AppState, project: ProjectId) -> ApiResult<Vec<Field>> {
    use Kind::{Area, Check, List, Number, Text};
    let f = Field::new;
    let tax = s.engine.taxonomy();
    let named = |rows: Vec<(String, String)>| select(options(rows, "None"));
    let types = tax.incident_types(project).await?;
    let priorities = tax.incident_priorities(project).await?;
    let severities = tax.incident_severities(project).await?;
    let services = s.engine.directory().services(project).await?;
    Ok(vec![
        f("name", "Name", Text).required(),
        f("owner", "Owner", Text).clearable().hint("a team or a person"),
        f("description", "Description", Area).clearable(),
        f("runbook_url", "Runbook link", Text).clearable(),
        f("source", "Source", fixed(dispatch_core::signal::SignalSource::NAMES, None))
            .hint("the endpoint its alerts come through: /api/v1/signals/<source>"),
        f("match", "Label matcher", Text)
            .clearable()
            .from("match_text")
            .hint("alertname=\"HighErrorRate\", service=~\"pay.*\", env!=\"dev\"; empty: every alert of the source"),
        f("enabled", "Enabled (takes alerts)", Check),
        f("create_case", "A new alert opens a case", Check),
        f("case_type", "Case type", named(types.into_iter().map(|t| (t.slug, t.name)).collect()))
            .clearable()
            .hint("also the escalated incident's type"),
        f("case_priority", "Case priority", named(priorities.into_iter().map(|t| (t.slug, t.name)).collect()))
            .clearable(),
        f("case_severity", "Case severity", named(severities.into_iter().map(|t| (t.slug, t.name)).collect()))
            .clearable(),
        f(
            "service_id",
            "On-call service (its person is assigned the case)",
            Kind::Select {
                options: options(services.into_iter().map(|v| (v.id.to_string(), v.name)), "None"),
                numeric: true,
            },
        )
        .clearable(),
        f("conversation_target", "Conversation target", Text).clearable().hint("where the case's thread goes (a channel name)"),
        f("tags", "Tags", List).hint("the project's tags a new case starts with, comma-separated: name or type:name"),
        f("entity_types", "Entity types", Area).hint(
            "one per line: host: label=instance · user: regex=user=(\\w+) · ip: path=host.ip",
        ),
        f("dedup_window_seconds", "Deduplication window (seconds)", Number).hint("3600 = an hour"),
        f("fields.title", "Generic source: title path", Text).hint("e.g. check.name"),
        f("fields.fingerprint", "Generic source: fingerprint path", Text),
        f("fields.labels", "Generic source: labels path", Text),
        f("fields.severity", "Generic source: severity path", Text),
        f("fields.status", "Generic source: status path", Text),
        f("fields.link", "Generic source: link path", Text),
    ])
}

/// Entity types as the form writes them, one per line (`host: label=instance`).
fn entity_lines(types: &Value) -> String {
    types
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let name = t["name"].as_str()?;
            ["label", "regex", "path"]
                .iter()
                .find_map(|k| t[*k].as_str().map(|v| format!("{name}: {k}={v}")))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The form's entity-type lines as the API's list, or why a line is not one.
fn entity_types_of(text: &str) -> Result<Value, ValidationError> {
    let mut e = ValidationError::default();
    let mut out = Vec::new();
    for (i, line) in text.lines().map(str::trim).enumerate() {
        if line.is_empty() {
            continue;
        }
        let parsed = line.split_once(':').and_then(|(name, rest)| {
            let (kind, value) = rest.trim().split_once('=')?;
            let kind = kind.trim();
            ["label", "regex", "path"]
                .contains(&kind)
                .then(|| json!({"name": name.trim(), kind: value.trim()}))
        });
        match parsed {
            Some(v) => out.push(v),
            None => e.push(
                "entity_types",
                format!(
                    "line {}: write name: label=…, name: regex=… or name: path=…",
                    i + 1
                ),
            ),
        }
    }
    e.into_result()?;
    Ok(Value::Array(out))
}

/// The body a submitted definition form makes.
fn definition_body(fields: &[Field], pairs: &[(String, String)], create: bool) -> ApiResult<Value> {
    let mut b = settings::to_json(fields, pairs)?;
    let lines = pairs
        .iter()
        .rev()
        .find(|(k, _)| k == "entity_types")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    b["entity_types"] = entity_types_of(lines)?;
    if create {
        // A new record's empty fields are absent: the API's defaults apply.
        if let Value::Object(m) = &mut b {
            m.retain(|_, v| !v.is_null());
        }
    }
    Ok(b)
}

/// Shows a submitted form again with why it failed: each error beside its field (an error of
/// a field the form does not have, or of one entity type, goes where it can be read).
fn failed(mut page: FormPage, pairs: &[(String, String)], e: ApiError) -> ApiResult<Response> {
    let e = match e {
        ApiError::Validation(v) => {
            let mut out = ValidationError::default();
            for f in v.fields {
                let field = if f.field.starts_with("entity_types") {
                    "entity_types".to_string()
                } else {
                    f.field.clone()
                };
                if page.fields.iter().any(|x| x.name == field) {
                    out.push(&field, f.message);
                } else {
                    out.push("form", format!("{}: {}", f.field, f.message));
                }
            }
            ApiError::Validation(out)
        }
        other => other,
    };
    let mut form = settings::values_typed(&page.fields, pairs);
    form.fail(e)?;
    page.form = form;
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

fn definitions_back(slug: &str) -> (String, String) {
    (format!("/signals?project={slug}"), "Signals".into())
}

async fn definition_form(
    s: &AppState,
    caller: &Caller,
    slug: &str,
    id: Option<i64>,
) -> ApiResult<FormPage> {
    let project = s.engine.projects().get(slug).await?;
    let fields = definition_fields(s, ProjectId(project.id)).await?;
    let (heading, action, delete, form) = match id {
        None => (
            format!("New signal definition · {}", project.name),
            format!("/projects/{slug}/signal-definitions"),
            None,
            Form::with_values([
                ("source", "alertmanager".to_string()),
                ("enabled", "on".to_string()),
                ("create_case", "on".to_string()),
                ("dedup_window_seconds", "3600".to_string()),
            ]),
        ),
        Some(id) => {
            let d: DefinitionOut = s
                .engine
                .signals()
                .definition(caller.auth.viewer(), slug, SignalDefinitionId(id))
                .await?
                .into();
            let record = out(&d);
            let mut form = settings::values_of(&fields, &record);
            form.set("entity_types", entity_lines(&record["entity_types"]));
            (
                format!("Signal definition: {}", d.name),
                format!("/projects/{slug}/signal-definitions/{id}"),
                Some(format!("/projects/{slug}/signal-definitions/{id}/delete")),
                form,
            )
        }
    };
    Ok(FormPage {
        chrome: caller.chrome(heading.clone(), "signals"),
        heading,
        back: definitions_back(slug),
        action,
        fields,
        form,
        delete,
    })
}

/// `GET /projects/{slug}/signal-definitions/new`.
pub async fn new_definition(
    State(s): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<Response> {
    let page = definition_form(&s, &caller, &slug, None).await?;
    Ok(render(StatusCode::OK, &page))
}

/// `GET /projects/{slug}/signal-definitions/{id}`: its edit form.
pub async fn edit_definition(
    State(s): State<AppState>,
    caller: Caller,
    Path((slug, id)): Path<(String, i64)>,
) -> ApiResult<Response> {
    let page = definition_form(&s, &caller, &slug, Some(id)).await?;
    Ok(render(StatusCode::OK, &page))
}

/// Creates (`id` none) or changes a definition from its submitted form through the API's
/// handler; back to the list, or the form again with the mistakes beside their fields.
async fn save_definition(
    s: AppState,
    caller: Caller,
    slug: String,
    id: Option<i64>,
    pairs: Vec<(String, String)>,
) -> ApiResult<Response> {
    let page = definition_form(&s, &caller, &slug, id).await?;
    let st = State(s.clone());
    let auth = caller.auth.clone();
    let result = match definition_body(&page.fields, &pairs, id.is_none()) {
        Ok(b) => match id {
            None => api::create_definition(st, auth, Path(slug.clone()), body(b)?)
                .await
                .map(drop),
            Some(id) => api::update_definition(st, auth, Path((slug.clone(), id)), body(b)?)
                .await
                .map(drop),
        },
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other(&definitions_back(&slug).0)),
        Err(e) => failed(page, &pairs, e),
    }
}

/// `POST /projects/{slug}/signal-definitions`: creates one, as the API does.
pub async fn create_definition(
    State(s): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> ApiResult<Response> {
    save_definition(s, caller, slug, None, pairs).await
}

/// `POST /projects/{slug}/signal-definitions/{id}`: changes one, as the API's PATCH does.
pub async fn update_definition(
    State(s): State<AppState>,
    caller: Caller,
    Path((slug, id)): Path<(String, i64)>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> ApiResult<Response> {
    save_definition(s, caller, slug, Some(id), pairs).await
}

/// `POST /projects/{slug}/signal-definitions/{id}/{action}`: `enable`, `disable` or `delete`.
pub async fn act_on_definition(
    State(s): State<AppState>,
    caller: Caller,
    Path((slug, id, action)): Path<(String, i64, String)>,
) -> ApiResult<Response> {
    let st = || State(s.clone());
    let path = || Path((slug.clone(), id));
    match action.as_str() {
        "enable" | "disable" => drop(
            api::update_definition(
                st(),
                caller.auth.clone(),
                path(),
                body(json!({"enabled": action == "enable"}))?,
            )
            .await?,
        ),
        "delete" => drop(api::delete_definition(st(), caller.auth.clone(), path()).await?),
        other => {
            return Err(ApiError::NotFound(format!(
                "{other} of a signal definition"
            )))
        }
    }
    Ok(see_other(&definitions_back(&slug).0))
}

/// `GET /signal-filters`.
#[derive(Template)]
#[template(path = "signals/filters.html")]
struct FiltersPage {
    chrome: Chrome,
    project: String,
    projects: Vec<(String, String)>,
    filters: Vec<FilterOut>,
    /// The project is members-only and the caller not one of them: nothing of it is shown.
    members_only: bool,
    may_change: bool,
}

/// `GET /signal-filters`: a project's filters.
pub async fn filters(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ProjectQuery>,
) -> ApiResult<Response> {
    let project = project_of(&s, q.project.as_deref()).await?;
    let (rows, members_only) = seen_or_members_only(
        &project,
        s.engine
            .signals()
            .filters(caller.auth.viewer(), &project.slug)
            .await,
    )?;
    let page = FiltersPage {
        chrome: caller.chrome("Signal filters", "signals"),
        may_change: may_configure(&s, &caller, &project.slug).await,
        project: project.slug,
        projects: projects(&s).await?,
        filters: rows.into_iter().map(Into::into).collect(),
        members_only,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The filter form's fields.
pub(super) fn filter_fields() -> Vec<Field> {
    use Kind::{Area, Number, Text};
    let f = Field::new;
    vec![
        f("name", "Name", Text).required(),
        f("description", "Description", Area).clearable(),
        f("kind", "Action", fixed(&["snooze", "deduplicate"], None))
            .hint("snooze: stored, opens no case · deduplicate: joins the first alert's case within the window"),
        f("expression", "Expression", Text).required().hint(
            "labels and entities, e.g. service=\"payments\", env=~\"stag.*\", host=\"db1\"",
        ),
        f("mode", "Mode", fixed(&["active", "monitor", "inactive"], None))
            .hint("monitor: only records what it would have done"),
        f("expires_at", "Expires", Text)
            .clearable()
            .hint("RFC 3339 or a date, e.g. 2026-12-04T06:00:00Z; empty: never"),
        f("window_seconds", "Window (seconds, deduplicate)", Number),
    ]
}

fn filters_back(slug: &str) -> (String, String) {
    (
        format!("/signal-filters?project={slug}"),
        "Signal filters".into(),
    )
}

/// A filter the caller may see, and the slug of its project.
async fn filter_of(s: &AppState, caller: &Caller, id: i64) -> ApiResult<(FilterOut, String)> {
    let f: FilterOut = s
        .engine
        .signals()
        .filter(caller.auth.viewer(), SignalFilterId(id))
        .await?
        .into();
    let slug = s
        .engine
        .projects()
        .list()
        .await?
        .into_iter()
        .find(|p| p.id == f.project_id)
        .map(|p| p.slug)
        .unwrap_or_default();
    Ok((f, slug))
}

async fn filter_form(
    s: &AppState,
    caller: &Caller,
    project: Option<&str>,
    id: Option<i64>,
) -> ApiResult<FormPage> {
    let fields = filter_fields();
    let (heading, slug, action, delete, form) = match id {
        None => {
            let p = project_of(s, project).await?;
            caller.auth.require_configure(&s.engine, &p.slug).await?;
            (
                format!("New signal filter · {}", p.name),
                p.slug.clone(),
                format!("/signal-filters?project={}", p.slug),
                None,
                Form::with_values([
                    ("kind", "snooze".to_string()),
                    ("mode", "active".to_string()),
                    ("window_seconds", "3600".to_string()),
                ]),
            )
        }
        Some(id) => {
            let (f, slug) = filter_of(s, caller, id).await?;
            let form = settings::values_of(&fields, &out(&f));
            (
                format!("Signal filter: {}", f.name),
                slug,
                format!("/signal-filters/{id}"),
                Some(format!("/signal-filters/{id}/delete")),
                form,
            )
        }
    };
    Ok(FormPage {
        chrome: caller.chrome(heading.clone(), "signals"),
        heading,
        back: filters_back(&slug),
        action,
        fields,
        form,
        delete,
    })
}

/// `GET /signal-filters/new?project=`.
pub async fn new_filter(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ProjectQuery>,
) -> ApiResult<Response> {
    let page = filter_form(&s, &caller, q.project.as_deref(), None).await?;
    Ok(render(StatusCode::OK, &page))
}

/// `GET /signal-filters/{id}`: its edit form.
pub async fn edit_filter(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let page = filter_form(&s, &caller, None, Some(id)).await?;
    Ok(render(StatusCode::OK, &page))
}

/// `POST /signal-filters?project=`: creates one, as the API does.
pub async fn create_filter(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ProjectQuery>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let page = filter_form(&s, &caller, q.project.as_deref(), None).await?;
    let slug = page
        .back
        .0
        .rsplit('=')
        .next()
        .unwrap_or_default()
        .to_string();
    let result = match settings::to_json(&page.fields, &pairs) {
        Ok(mut b) => {
            if let Value::Object(m) = &mut b {
                m.retain(|_, v| !v.is_null());
            }
            b["project"] = Value::from(slug.clone());
            api::create_filter(State(s.clone()), caller.auth.clone(), body(b)?)
                .await
                .map(drop)
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(see_other(&filters_back(&slug).0)),
        Err(e) => failed(page, &pairs, e),
    }
}

/// `POST /signal-filters/{id}`: changes one, as the API's PATCH does.
pub async fn update_filter(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let page = filter_form(&s, &caller, None, Some(id)).await?;
    let result = match settings::to_json(&page.fields, &pairs) {
        Ok(b) => api::update_filter(State(s.clone()), caller.auth.clone(), Path(id), body(b)?)
            .await
            .map(drop),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(see_other(&page.back.0)),
        Err(e) => failed(page, &pairs, e),
    }
}

/// `POST /signal-filters/{id}/delete`.
pub async fn delete_filter(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let (_, slug) = filter_of(&s, &caller, id).await?;
    api::delete_filter(State(s.clone()), caller.auth.clone(), Path(id)).await?;
    Ok(see_other(&filters_back(&slug).0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_type_lines_read_back_as_they_were_written() {
        let text = "host: label=instance\nuser: regex=user=(\\w+)\n\nip: path=host.ip";
        let v = entity_types_of(text).unwrap();
        assert_eq!(
            v,
            json!([{"name": "host", "label": "instance"}, {"name": "user", "regex": "user=(\\w+)"},
                   {"name": "ip", "path": "host.ip"}])
        );
        assert_eq!(entity_lines(&v), text.replace("\n\n", "\n"));
        let e = entity_types_of("host label instance").unwrap_err();
        assert!(e.fields[0].message.starts_with("line 1:"), "{e:?}");
    }

    #[test]
    fn bars_scale_to_the_busiest_hour_and_show_any_alert() {
        let b = bars(&[0, 1, 100]);
        assert_eq!(b[0].h, 0);
        assert_eq!(b[1].h, 1, "one alert among a hundred is still visible");
        assert_eq!(b[2].h, CHART_H);
        assert_eq!(b[2].x, 2 * BAR_SLOT);
        assert_eq!(b[2].label, "100 alerts 1–0 hours ago");
    }
}
