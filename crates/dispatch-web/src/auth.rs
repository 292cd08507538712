//! Authentication: who is calling. An API token (`Authorization: Bearer dsp_…`) names a person
//! and a scope; a web session cookie names a person (and state-changing requests must carry the
//! session's CSRF token). The caller's organization role is their user's. The policy layer
//! (`policy::enforce`, which resolves the credential with these pieces and the trusted header)
//! authenticates every request once and hands the caller to handlers as [`Auth`].

use crate::error::ApiError;
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use dispatch_engine::admin::Authenticated;
use dispatch_engine::audit::Origin;
use dispatch_engine::Actor;
use std::net::SocketAddr;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "dispatch_session";
/// The header that carries a session's CSRF token on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

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

    /// Whether the caller is an admin (or above).
    pub fn is_admin(&self) -> bool {
        self.0.is_admin()
    }

    /// Refuses (403) callers who may not change the configuration of the project `slug`:
    /// organization admins (and above) may everywhere, project admins in their project.
    pub async fn require_configure(
        &self,
        engine: &dispatch_engine::Engine,
        slug: &str,
    ) -> Result<(), ApiError> {
        if engine.projects().may_configure(&self.0, slug).await? {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "changing project {slug} needs an admin, or the admin role in that project"
            )))
        }
    }

    /// Refuses (403) callers who are not admins or owners; `what` names the action.
    pub fn require_admin(&self, what: &str) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "{what} needs an admin or owner"
            )))
        }
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

/// Where the request came from: the peer address (or, from a trusted proxy, the first address
/// of `X-Forwarded-For`) and the user agent.
#[derive(Clone)]
pub struct RequestOrigin(pub Origin);

impl FromRequestParts<AppState> for RequestOrigin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(RequestOrigin(origin(parts, state)))
    }
}

/// The peer's address, when the server records it.
pub fn peer(parts: &Parts) -> Option<SocketAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// Where a request came from.
pub fn origin(parts: &Parts, state: &AppState) -> Origin {
    let peer = peer(parts);
    let forwarded = peer
        .filter(|p| state.auth.trusts_proxy(p.ip()))
        .and_then(|_| parts.headers.get("x-forwarded-for"))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string());
    Origin {
        addr: forwarded.or_else(|| peer.map(|p| p.ip().to_string())),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(200).collect()),
    }
}

/// A cookie's value.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
