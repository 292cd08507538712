//! The REST API under `/api/v1`: one module per entity, each with its own routes.

pub mod account;
pub mod cases;
pub mod commands;
pub mod config;
pub mod cost_models;
pub mod costs;
pub mod directory;
pub mod files;
pub mod incidents;
pub mod insights;
pub mod jobs;
pub mod membership;
pub mod oncall;
pub mod outbox;
pub mod pagerduty;
pub mod parse;
pub mod project_members;
pub mod providers;
pub mod records;
pub mod room;
pub mod rows;
pub mod rules;
pub mod signal_ingest;
pub mod signal_limit;
pub mod signal_signing;
pub mod signals;
pub mod stakeholders;
pub mod taxonomy;
pub mod timeline;
pub mod webhooks;

use crate::error::ApiError;
use crate::AppState;
use axum::Router;

/// Every `/api/v1` route but the OpenAPI document's (see [`crate::app_with`], which mounts
/// both; the document names the API's handlers, so the API does not name it).
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(incidents::router())
        .merge(insights::router())
        .merge(costs::router())
        .merge(cost_models::router())
        .merge(timeline::router())
        .merge(records::router())
        .merge(taxonomy::router())
        .merge(directory::router())
        .merge(jobs::router())
        .merge(outbox::router())
        .merge(room::router())
        .merge(commands::router())
        .merge(files::router())
        .merge(oncall::router())
        .merge(webhooks::router())
        .merge(config::router())
        .merge(dispatch_slack::transport::router())
        .merge(dispatch_teams::transport::router())
        .merge(providers::router())
        .merge(pagerduty::router())
        .merge(account::router())
        .merge(membership::router())
        .merge(stakeholders::router())
        .merge(rules::router())
        .merge(project_members::router())
        .merge(signals::router())
        .merge(cases::router())
}

/// Unknown routes answer in the error envelope.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("route".into())
}

/// Known routes called with the wrong method answer in the error envelope.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
