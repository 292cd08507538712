//! Placeholder router, filled in by the directory module.

use crate::AppState;
use axum::Router;

/// directory routes.
pub fn router() -> Router<AppState> {
    Router::new()
}
