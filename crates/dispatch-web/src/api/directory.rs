//! The directory: individuals (people, identified by e-mail), and the teams and on-call services
//! of each project.

pub mod individuals;
pub mod services;
pub mod teams;

use crate::AppState;
use axum::Router;

/// Directory routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(individuals::router())
        .merge(teams::router())
        .merge(services::router())
}
