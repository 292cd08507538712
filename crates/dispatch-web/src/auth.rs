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
