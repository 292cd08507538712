//! Projects and what each one configures: incident types, priorities, severities, tag types and
//! tags, plus `GET /taxonomies` for everything a declaration form needs in one call.

pub mod entry;
pub mod priorities;
pub mod projects;
pub mod severities;
pub mod tags;
pub mod types;

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Query;
use crate::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use priorities::IncidentPriorityOut;
use projects::ProjectOut;
use serde::{Deserialize, Serialize};
use severities::IncidentSeverityOut;
use types::IncidentTypeOut;
use utoipa::{IntoParams, ToSchema};

/// Project, taxonomy and tag routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/taxonomies", get(all))
        .merge(projects::router())
        .merge(types::router())
        .merge(priorities::router())
        .merge(severities::router())
        .merge(tags::router())
}

/// The taxonomies of one project.
#[derive(Serialize, ToSchema)]
pub struct TaxonomiesOut {
    /// The project.
    pub project: ProjectOut,
    /// Its incident types, in view order.
    pub types: Vec<IncidentTypeOut>,
    /// Its priorities, in view order.
    pub priorities: Vec<IncidentPriorityOut>,
    /// Its severities, in view order.
    pub severities: Vec<IncidentSeverityOut>,
}

/// Which project's taxonomies.
#[derive(Deserialize, IntoParams)]
pub struct TaxonomiesQuery {
    /// Project slug (the default project when absent).
    pub project: Option<String>,
}

/// The incident types, priorities and severities of a project.
#[utoipa::path(get, path = "/api/v1/taxonomies", tag = "taxonomies", params(TaxonomiesQuery),
    responses((status = 200, body = TaxonomiesOut), (status = 404, body = ErrorBody)))]
pub async fn all(
    State(s): State<AppState>,
    _auth: Auth,
    Query(q): Query<TaxonomiesQuery>,
) -> ApiResult<axum::Json<TaxonomiesOut>> {
    let slug = q
        .project
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let p = s.engine.projects().get_or_default(slug).await?;
    let out = TaxonomiesOut {
        types: s
            .engine
            .taxonomy()
            .incident_types(dispatch_core::ProjectId(p.id))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
        priorities: s
            .engine
            .taxonomy()
            .incident_priorities(dispatch_core::ProjectId(p.id))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
        severities: s
            .engine
            .taxonomy()
            .incident_severities(dispatch_core::ProjectId(p.id))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
        project: ProjectOut::new(&s.engine, p),
    };
    Ok(axum::Json(out))
}
