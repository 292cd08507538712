//! Bearer-token authentication for `/api/v1`. The token's person is the actor on the timeline.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use dispatch_engine::admin::Authenticated;
use dispatch_engine::Actor;

/// An authenticated caller; extracting it answers 401 when the token is missing or not live.
pub struct Auth(pub Authenticated);

impl Auth {
    /// The caller as the actor of a command.
    pub fn actor(&self) -> &Actor {
        &self.0.actor
    }

    /// Whether the token is an admin's or an owner's.
    pub fn is_admin(&self) -> bool {
        matches!(self.0.role.as_str(), "admin" | "owner")
    }

    /// Refuses (403) callers whose token is not an admin's or an owner's; `what` names the action.
    pub fn require_admin(&self, what: &str) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "{what} needs an admin or owner token"
            )))
        }
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        let (scheme, token) = header
            .trim()
            .split_once(' ')
            .ok_or(ApiError::Unauthorized)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(ApiError::Unauthorized);
        }
        match state.engine.authenticate(token.trim()).await? {
            Some(a) => Ok(Auth(a)),
            None => Err(ApiError::Unauthorized),
        }
    }
}
