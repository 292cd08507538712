//! Placeholder router, filled in by the taxonomy module.

use crate::AppState;
use axum::Router;

/// taxonomy routes.
pub fn router() -> Router<AppState> {
    Router::new()
}
