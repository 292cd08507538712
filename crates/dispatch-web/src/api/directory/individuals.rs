//! Individuals: the people of the directory. The e-mail address is the identity, so two people
//! never share one.

use crate::api::parse;
use crate::api::rows::{set, set_opt};
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
use dispatch_core::values::{AadObjectId, Email, MatrixId, Name, WebLink};
use dispatch_core::{Patch, ValidationError};
use dispatch_engine::data::model::individual;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Individual routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/individuals", get(list).post(create))
        .route("/individuals/{id}", get(show).patch(update))
}

/// A person of the directory.
#[derive(Serialize, ToSchema)]
pub struct IndividualOut {
    /// Id.
    pub id: i64,
    /// E-mail address (the identity).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Job title.
    pub title: Option<String>,
    /// A page about them.
    pub weblink: Option<String>,
    /// Their Microsoft Teams id (Azure AD object id), which Teams messages are mapped by.
    pub teams_id: Option<String>,
    /// Their Matrix user ID (`@alice:example.org`): how the Matrix transport knows them.
    pub matrix_id: Option<String>,
    /// When they were added.
    pub created_at: DateTime<Utc>,
}

impl From<individual::Model> for IndividualOut {
    fn from(i: individual::Model) -> Self {
        Self {
            id: i.id,
            email: i.email,
            name: i.name,
            title: i.title,
            weblink: i.weblink,
            teams_id: i.teams_id,
            matrix_id: i.matrix_id,
            created_at: i.created_at,
        }
    }
}

/// A new person.
#[derive(Deserialize, ToSchema)]
pub struct IndividualIn {
    /// E-mail address (required; unique).
    #[schema(required = true)]
    pub email: Option<String>,
    /// Display name (the address's local part when absent).
    pub name: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// A page about them (`http(s)://…`).
    pub weblink: Option<String>,
    /// Their Microsoft Teams id (Azure AD object id; unique).
    pub teams_id: Option<String>,
    /// Their Matrix user ID (`@alice:example.org`; unique).
    pub matrix_id: Option<String>,
}

/// Changes to a person: absent fields are kept, `null` clears title, weblink, Teams id and Matrix
/// ID.
#[derive(Deserialize, ToSchema)]
pub struct IndividualPatch {
    /// New e-mail address (unique).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub email: Patch<String>,
    /// New name.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Patch<String>,
    /// New title; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub title: Patch<String>,
    /// New link; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub weblink: Patch<String>,
    /// New Teams id (Azure AD object id, unique); `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub teams_id: Patch<String>,
    /// New Matrix user ID; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub matrix_id: Patch<String>,
}

impl From<IndividualIn> for IndividualPatch {
    fn from(b: IndividualIn) -> Self {
        Self {
            email: b.email.into(),
            name: b.name.into(),
            title: b.title.into(),
            weblink: b.weblink.into(),
            teams_id: b.teams_id.into(),
            matrix_id: b.matrix_id.into(),
        }
    }
}

impl IndividualPatch {
    /// Writes the changes into `row`, recording every bad field.
    fn apply(self, row: &mut individual::Model, e: &mut ValidationError) {
        let email = parse::parsed(e, "email", self.email, Email::parse);
        set(&mut row.email, email.map(|m| m.as_str().to_string()));
        let name = parse::parsed(e, "name", self.name, Name::parse);
        set(&mut row.name, name.map(Name::into_inner));
        let title = parse::clearable(e, "title", self.title, Name::parse);
        set_opt(&mut row.title, title.map(Name::into_inner));
        let weblink = parse::clearable(e, "weblink", self.weblink, WebLink::parse);
        set_opt(&mut row.weblink, weblink.map(|w| w.as_str().to_string()));
        let teams_id = parse::clearable(e, "teams_id", self.teams_id, AadObjectId::parse);
        set_opt(&mut row.teams_id, teams_id.map(|t| t.as_str().to_string()));
        let matrix_id = parse::clearable(e, "matrix_id", self.matrix_id, MatrixId::parse);
        set_opt(
            &mut row.matrix_id,
            matrix_id.map(|m| m.as_str().to_string()),
        );
    }
}

/// Which people, and which page of them.
#[derive(Deserialize, IntoParams)]
pub struct IndividualQuery {
    /// Only those whose e-mail or name contains this text (ignoring case).
    pub q: Option<String>,
    /// Page, from 1.
    pub page: Option<i64>,
    /// Rows per page, 1-100 (default 50).
    pub per_page: Option<i64>,
}

/// People of the directory, by e-mail.
#[utoipa::path(get, path = "/api/v1/individuals", tag = "directory", params(IndividualQuery),
    responses((status = 200, body = Page<IndividualOut>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    _auth: Auth,
    Query(q): Query<IndividualQuery>,
) -> ApiResult<axum::Json<Page<IndividualOut>>> {
    let mut e = ValidationError::default();
    let (page, per_page) = parse::paging(&mut e, q.page, q.per_page, 50);
    e.into_result()?;
    let (rows, total) = s
        .engine
        .directory()
        .individuals(q.q.as_deref(), page, per_page)
        .await?;
    let items = rows.into_iter().map(Into::into).collect();
    Ok(axum::Json(Page {
        items,
        total,
        total_exact: true,
        page,
        per_page,
    }))
}

/// Adds a person.
#[utoipa::path(post, path = "/api/v1/individuals", request_body(content = IndividualIn, example = json!({"email": "grace@example.com", "name": "Grace", "title": "SRE"})), tag = "directory",
    responses((status = 201, body = IndividualOut), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    _auth: Auth,
    Json(b): Json<IndividualIn>,
) -> ApiResult<(StatusCode, axum::Json<IndividualOut>)> {
    let mut e = ValidationError::default();
    parse::required(&mut e, "email", &b.email);
    let mut row = individual::Model {
        title: None,
        weblink: None,
        teams_id: None,
        created_at: dispatch_core::now(),
        ..Default::default()
    };
    IndividualPatch::from(b).apply(&mut row, &mut e);
    if row.name.is_empty() && !row.email.is_empty() {
        let local = row.email.split('@').next().unwrap_or(&row.email);
        row.name = local.to_string();
    }
    e.into_result()?;
    let saved = s.engine.directory().create(row).await?;
    Ok((StatusCode::CREATED, axum::Json(saved.into())))
}

/// One person.
#[utoipa::path(get, path = "/api/v1/individuals/{id}", tag = "directory", params(("id" = i64, Path)),
    responses((status = 200, body = IndividualOut), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<IndividualOut>> {
    Ok(axum::Json(
        s.engine
            .directory()
            .individual(dispatch_core::IndividualId(id))
            .await?
            .into(),
    ))
}

/// Changes a person.
#[utoipa::path(patch, path = "/api/v1/individuals/{id}", request_body = IndividualPatch,
    tag = "directory", params(("id" = i64, Path)),
    responses((status = 200, body = IndividualOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
    Json(b): Json<IndividualPatch>,
) -> ApiResult<axum::Json<IndividualOut>> {
    let before = s
        .engine
        .directory()
        .individual(dispatch_core::IndividualId(id))
        .await?;
    let mut row = before.clone();
    let mut e = ValidationError::default();
    b.apply(&mut row, &mut e);
    e.into_result()?;
    Ok(axum::Json(
        s.engine.directory().update(&before, row).await?.into(),
    ))
}
