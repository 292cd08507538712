//! What incident types, priorities and severities have in common over the API, written once:
//! listing, reading, creating and changing an entry of a project, and the fields every entry
//! has. Each kind declares only what differs ([`Entry`]): its bodies, the values of a new entry
//! and how its own fields are checked. The route handlers of each kind are thin, one per route for
//! the OpenAPI document, and written once ([`entry_routes`]).

use crate::api::parse;
use crate::api::rows::{set, slug_from_name};
use crate::error::ApiResult;
use crate::AppState;
use axum::http::StatusCode;
use dispatch_core::values::{Name, Slug};
use dispatch_core::{Patch, ValidationError};
use dispatch_engine::data::Taxonomy;
use serde::Serialize;

/// A taxonomy entry as the API sees it.
pub trait Entry: Taxonomy {
    /// The answer body.
    type Out: From<Self> + Serialize;
    /// The body that creates one.
    type In: Into<Self::Patch>;
    /// The body that changes one.
    type Patch;
    /// A new entry before the body is applied: the defaults of its fields.
    fn fresh() -> Self;
    /// The name a create body gives (required).
    fn name_in(b: &Self::In) -> &Option<String>;
    /// Writes the changes into `row`, recording every bad field.
    fn apply(p: Self::Patch, row: &mut Self, e: &mut ValidationError);
    /// Its name, and its slug to fill in.
    fn name_and_slug(&mut self) -> (&str, &mut String);
}

/// The fields every entry starts with: name, slug and description (in this order).
pub fn apply_head(
    e: &mut ValidationError,
    (name, slug, description): (Patch<String>, Patch<String>, Patch<String>),
    (row_name, row_slug, row_description): (&mut String, &mut String, &mut String),
) {
    let name = parse::parsed(e, "name", name, Name::parse);
    set(row_name, name.map(Name::into_inner));
    let slug = parse::parsed(e, "slug", slug, Slug::parse);
    set(row_slug, slug.map(|s| s.as_str().to_string()));
    set(
        row_description,
        parse::description(e, "description", description),
    );
}

/// The default and enabled flags every entry has.
pub fn apply_flags(
    e: &mut ValidationError,
    (default, enabled): (Patch<bool>, Patch<bool>),
    (row_default, row_enabled): (&mut bool, &mut bool),
) {
    set(row_default, parse::not_null(e, "default", default));
    set(row_enabled, parse::not_null(e, "enabled", enabled));
}

/// The entries of a project, in view order.
pub async fn list<T: Entry>(s: &AppState, slug: &str) -> ApiResult<axum::Json<Vec<T::Out>>> {
    let p = s.engine.projects().get(slug).await?;
    let rows: Vec<T> = s
        .engine
        .taxonomy()
        .list(dispatch_core::ProjectId(p.id))
        .await?;
    Ok(axum::Json(rows.into_iter().map(Into::into).collect()))
}

/// One entry of a project.
pub async fn show<T: Entry>(s: &AppState, slug: &str, id: i64) -> ApiResult<axum::Json<T::Out>> {
    let p = s.engine.projects().get(slug).await?;
    let row: T = s
        .engine
        .taxonomy()
        .entry(dispatch_core::ProjectId(p.id), id.into())
        .await?;
    Ok(axum::Json(row.into()))
}

/// Creates an entry: the name is required, the slug derived from it when absent.
pub async fn create<T: Entry>(
    s: &AppState,
    slug: &str,
    b: T::In,
) -> ApiResult<(StatusCode, axum::Json<T::Out>)> {
    let p = s.engine.projects().get(slug).await?;
    let mut e = ValidationError::default();
    parse::required(&mut e, "name", T::name_in(&b));
    let mut row = T::fresh();
    T::apply(b.into(), &mut row, &mut e);
    let (name, slug) = row.name_and_slug();
    slug_from_name(slug, name);
    e.into_result()?;
    let saved = s
        .engine
        .taxonomy()
        .save(dispatch_core::ProjectId(p.id), None, row)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(saved.into())))
}

/// Changes an entry: absent fields are kept.
pub async fn update<T: Entry>(
    s: &AppState,
    slug: &str,
    id: i64,
    b: T::Patch,
) -> ApiResult<axum::Json<T::Out>> {
    let p = s.engine.projects().get(slug).await?;
    let before: T = s
        .engine
        .taxonomy()
        .entry(dispatch_core::ProjectId(p.id), id.into())
        .await?;
    let mut row = before.clone();
    let mut e = ValidationError::default();
    T::apply(b, &mut row, &mut e);
    e.into_result()?;
    let saved = s
        .engine
        .taxonomy()
        .save(dispatch_core::ProjectId(p.id), Some(&before), row)
        .await?;
    Ok(axum::Json(saved.into()))
}

/// The four routes of one taxonomy — list, create, show and change — as thin handlers over the
/// functions above, each with its OpenAPI entry. A kind writes one line:
/// `entry_routes!(model, "/api/v1/projects/{slug}/KIND", "…/{id}", In, Out, Patch, "plural", "singular")`.
macro_rules! entry_routes {
    ($model:ty, $path:tt, $item:tt, $In:ident, $Out:ident, $Patch:ident, $plural:tt, $one:tt) => {
        #[doc = concat!("The ", $plural, " of a project, in view order.")]
        #[utoipa::path(get, path = $path, tag = "taxonomies",
            params(("slug" = String, Path, description = "Project slug")),
            responses((status = 200, body = Vec<$Out>), (status = 404, body = ErrorBody)))]
        pub async fn list(
            State(s): State<AppState>,
            _auth: Auth,
            Path(slug): Path<String>,
        ) -> ApiResult<axum::Json<Vec<$Out>>> {
            entry::list::<$model>(&s, &slug).await
        }

        #[doc = concat!("Creates ", $one, ".")]
        #[utoipa::path(post, path = $path, tag = "taxonomies",
            request_body = $In, params(("slug" = String, Path, description = "Project slug")),
            responses((status = 201, body = $Out), (status = 404, body = ErrorBody),
                (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
        pub async fn create(
            State(s): State<AppState>,
            _auth: Auth,
            Path(slug): Path<String>,
            Json(b): Json<$In>,
        ) -> ApiResult<(StatusCode, axum::Json<$Out>)> {
            entry::create::<$model>(&s, &slug, b).await
        }

        #[doc = concat!("One of the ", $plural, ".")]
        #[utoipa::path(get, path = $item, tag = "taxonomies",
            params(("slug" = String, Path, description = "Project slug"), ("id" = i64, Path)),
            responses((status = 200, body = $Out), (status = 404, body = ErrorBody)))]
        pub async fn show(
            State(s): State<AppState>,
            _auth: Auth,
            Path((slug, id)): Path<(String, i64)>,
        ) -> ApiResult<axum::Json<$Out>> {
            entry::show::<$model>(&s, &slug, id).await
        }

        #[doc = concat!("Changes ", $one, ": absent fields are kept.")]
        #[utoipa::path(patch, path = $item, tag = "taxonomies",
            request_body = $Patch,
            params(("slug" = String, Path, description = "Project slug"), ("id" = i64, Path)),
            responses((status = 200, body = $Out), (status = 404, body = ErrorBody),
                (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
        pub async fn update(
            State(s): State<AppState>,
            _auth: Auth,
            Path((slug, id)): Path<(String, i64)>,
            Json(b): Json<$Patch>,
        ) -> ApiResult<axum::Json<$Out>> {
            entry::update::<$model>(&s, &slug, id, b).await
        }
    };
}
pub(crate) use entry_routes;
