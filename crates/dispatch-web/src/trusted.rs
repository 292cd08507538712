//! Trusted-header authentication, for deployments behind an authenticating proxy: off by
//! default; when a header name is configured, a request *from one of the configured proxy
//! addresses* that carries the header is the person whose e-mail it names (created as a member
//! on first sight). From any other address the header is ignored.

use crate::error::ApiError;
use crate::AppState;
use axum::http::request::Parts;
use dispatch_engine::admin::Authenticated;
use std::net::IpAddr;

/// Trusted-header settings.
#[derive(Debug, Clone, Default)]
pub struct TrustedHeader {
    /// The header with the signed-in person's e-mail, e.g. `X-Forwarded-Email` (`None`: off).
    pub header: Option<String>,
    /// The proxies' addresses; the header counts only on requests from these.
    pub proxies: Vec<IpAddr>,
}

/// The caller named by the trusted header, when it is on and the request comes from a proxy.
pub async fn authenticate(
    parts: &Parts,
    state: &AppState,
) -> Result<Option<Authenticated>, ApiError> {
    let cfg = &state.auth.trusted;
    let Some(name) = &cfg.header else {
        return Ok(None);
    };
    let Some(peer) = crate::auth::peer(parts) else {
        return Ok(None);
    };
    if !cfg.proxies.contains(&peer.ip()) {
        return Ok(None);
    }
    let Some(email) = parts
        .headers
        .get(name.as_str())
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let Ok(email) = dispatch_core::values::Email::parse("email", email) else {
        return Ok(None);
    };
    Ok(state
        .engine
        .accounts()
        .external_user(&email, dispatch_engine::access::Credential::TrustedHeader)
        .await?)
}
