//! Authentication: who is calling. An API token (`Authorization: Bearer dsp_…`) names a person
//! and a scope; the caller's organization role is their user's. The policy layer
//! ([`crate::policy`]) authenticates every request once and hands the caller to handlers as
//! [`Auth`].

use crate::error::ApiError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use dispatch_engine::admin::Authenticated;
use dispatch_engine::Actor;

/// An authenticated caller, put in the request by the policy layer.
#[derive(Clone)]
pub struct Auth(pub Authenticated);

impl Auth {
    /// The caller as the actor of a command.
    pub fn actor(&self) -> &Actor {
        &self.0.actor
    }

    /// The caller as the reader of a list: restricted incidents they may not see are left out.
    pub fn viewer(&self) -> dispatch_engine::access::Viewer {
        self.0.viewer()
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Only the policy layer authenticates; a handler outside it gets no caller.
        parts
            .extensions
            .get::<Auth>()
            .cloned()
            .ok_or(ApiError::Unauthorized)
    }
}

/// The caller behind the request's credential: `None` when there is none or it is not live.
pub async fn authenticate(
    parts: &mut Parts,
    state: &AppState,
) -> Result<Option<Authenticated>, ApiError> {
    let Some(header) = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
    else {
        return Ok(None);
    };
    let Some((scheme, token)) = header.trim().split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Ok(None);
    }
    Ok(state.engine.authenticate(token.trim()).await?)
}
