//! Tag types and tags of a project. Incidents name tags as `name` or `type:name`, so neither
//! kind of name may contain a colon.

use crate::api::parse;
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::values::Name;
use dispatch_core::ValidationError;
use dispatch_engine::data::model::{tag, tag_type};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// Tag type and tag routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{slug}/tag-types",
            get(list_types).post(create_type),
        )
        .route("/projects/{slug}/tags", get(list_tags).post(create_tag))
}

/// A tag type.
#[derive(Serialize, ToSchema)]
pub struct TagTypeOut {
    /// Id.
    pub id: i64,
    /// Name (the `type` in `type:name`).
    pub name: String,
    /// What it is for.
    pub description: String,
    /// An incident carries at most one tag of this type.
    pub exclusive: bool,
    /// Every incident must carry a tag of this type.
    pub required: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<tag_type::Model> for TagTypeOut {
    fn from(t: tag_type::Model) -> Self {
        Self {
            id: t.id,
            name: t.name,
            description: t.description,
            exclusive: t.exclusive,
            required: t.required,
            created_at: t.created_at,
        }
    }
}

/// A tag.
#[derive(Serialize, ToSchema)]
pub struct TagOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// What it means.
    pub description: String,
    /// Its tag type's name, if it has one.
    pub tag_type: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl TagOut {
    fn new(t: tag::Model, tag_type: Option<String>) -> Self {
        Self {
            id: t.id,
            name: t.name,
            description: t.description,
            tag_type,
            created_at: t.created_at,
        }
    }
}

/// A new tag type.
#[derive(Deserialize, ToSchema)]
pub struct TagTypeIn {
    /// Name (required; no colon).
    #[schema(required = true)]
    pub name: Option<String>,
    /// What it is for.
    pub description: Option<String>,
    /// An incident carries at most one tag of this type (default false).
    pub exclusive: Option<bool>,
    /// Every incident must carry a tag of this type (default false).
    pub required: Option<bool>,
}

/// A new tag.
#[derive(Deserialize, ToSchema)]
pub struct TagIn {
    /// Name (required; no colon).
    #[schema(required = true)]
    pub name: Option<String>,
    /// What it means.
    pub description: Option<String>,
    /// The name of its tag type, or `null` for none.
    pub tag_type: Option<String>,
}

/// A tag or tag type name: a [`Name`] without a colon.
fn tag_name(e: &mut ValidationError, raw: &Option<String>) -> Option<String> {
    let name = parse::required(e, "name", raw).and_then(|n| e.check(Name::parse("name", n)))?;
    if name.as_str().contains(':') {
        e.push(
            "name",
            "must not contain ':' (it separates a tag type from a tag)",
        );
        return None;
    }
    Some(name.into_inner())
}

/// The tag types of a project, by name.
#[utoipa::path(get, path = "/api/v1/projects/{slug}/tag-types", tag = "tags",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 200, body = Vec<TagTypeOut>), (status = 404, body = ErrorBody)))]
pub async fn list_types(
    State(s): State<AppState>,
    _auth: Auth,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Vec<TagTypeOut>>> {
    let p = s.engine.projects().get(&slug).await?;
    let types = s
        .engine
        .taxonomy()
        .tag_types(dispatch_core::ProjectId(p.id))
        .await?;
    Ok(axum::Json(types.into_iter().map(Into::into).collect()))
}

/// Creates a tag type.
#[utoipa::path(post, path = "/api/v1/projects/{slug}/tag-types", tag = "tags",
    request_body = TagTypeIn, params(("slug" = String, Path, description = "Project slug")),
    responses((status = 201, body = TagTypeOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_type(
    State(s): State<AppState>,
    _auth: Auth,
    Path(slug): Path<String>,
    Json(b): Json<TagTypeIn>,
) -> ApiResult<(StatusCode, axum::Json<TagTypeOut>)> {
    let p = s.engine.projects().get(&slug).await?;
    let mut e = ValidationError::default();
    let name = tag_name(&mut e, &b.name);
    let description = parse::description(&mut e, "description", b.description.into());
    e.into_result()?;
    let row = tag_type::Model {
        project_id: p.id,
        name: name.expect("checked"),
        description: description.unwrap_or_default(),
        exclusive: b.exclusive.unwrap_or(false),
        required: b.required.unwrap_or(false),
        created_at: dispatch_core::now(),
        ..Default::default()
    };
    let saved = s.engine.directory().create(row).await?;
    Ok((StatusCode::CREATED, axum::Json(saved.into())))
}

/// The tags of a project, by name.
#[utoipa::path(get, path = "/api/v1/projects/{slug}/tags", tag = "tags",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 200, body = Vec<TagOut>), (status = 404, body = ErrorBody)))]
pub async fn list_tags(
    State(s): State<AppState>,
    _auth: Auth,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Vec<TagOut>>> {
    let p = s.engine.projects().get(&slug).await?;
    let types: HashMap<i64, String> = s
        .engine
        .taxonomy()
        .tag_types(dispatch_core::ProjectId(p.id))
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let tags = s
        .engine
        .taxonomy()
        .tags(dispatch_core::ProjectId(p.id))
        .await?;
    Ok(axum::Json(
        tags.into_iter()
            .map(|t| {
                let tag_type = t.tag_type_id.and_then(|id| types.get(&id).cloned());
                TagOut::new(t, tag_type)
            })
            .collect(),
    ))
}

/// Creates a tag.
#[utoipa::path(post, path = "/api/v1/projects/{slug}/tags", tag = "tags",
    request_body = TagIn, params(("slug" = String, Path, description = "Project slug")),
    responses((status = 201, body = TagOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_tag(
    State(s): State<AppState>,
    _auth: Auth,
    Path(slug): Path<String>,
    Json(b): Json<TagIn>,
) -> ApiResult<(StatusCode, axum::Json<TagOut>)> {
    let p = s.engine.projects().get(&slug).await?;
    let mut e = ValidationError::default();
    let name = tag_name(&mut e, &b.name);
    let description = parse::description(&mut e, "description", b.description.into());
    let tag_type = match b.tag_type.as_deref().map(str::trim) {
        None => None,
        Some(wanted) => {
            let types = s
                .engine
                .taxonomy()
                .tag_types(dispatch_core::ProjectId(p.id))
                .await?;
            let found = types.into_iter().find(|t| t.name == wanted);
            if found.is_none() {
                e.push(
                    "tag_type",
                    format!("no tag type {wanted:?} in project {}", p.slug),
                );
            }
            found
        }
    };
    e.into_result()?;
    let row = tag::Model {
        project_id: p.id,
        tag_type_id: tag_type.as_ref().map(|t| t.id),
        name: name.expect("checked"),
        description: description.unwrap_or_default(),
        created_at: dispatch_core::now(),
        ..Default::default()
    };
    let t = s.engine.directory().create(row).await?;
    let out = TagOut::new(t, tag_type.map(|tt| tt.name));
    Ok((StatusCode::CREATED, axum::Json(out)))
}
