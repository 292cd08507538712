//! Per-source request signatures on the signal endpoints (optional). A secret configured for a
//! source (`alertmanager`, for every project) or for one project's source (`security/generic`)
//! makes that source's requests carry `X-Dispatch-Timestamp` and `X-Dispatch-Signature`
//! ([`dispatch_core::signal::signature`]); without a valid one the request is refused with 401
//! naming the problem before anything is read. The bearer token is still required (the policy
//! layer checks it first). A signature is taken once: the same one again within the tolerance
//! is a replay, refused too.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dispatch_core::signal::signature::{self, SignatureError, TOLERANCE_SECONDS};
use std::collections::HashMap;
use std::sync::Mutex;

/// The configured secrets, by `source` or `project/source`, and the signatures already taken.
#[derive(Default)]
pub struct SignalSigning {
    secrets: HashMap<String, Vec<u8>>,
    seen: Mutex<HashMap<String, i64>>,
}

impl std::fmt::Debug for SignalSigning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut keys: Vec<&String> = self.secrets.keys().collect();
        keys.sort();
        f.debug_struct("SignalSigning")
            .field("secrets_for", &keys)
            .finish()
    }
}

impl SignalSigning {
    /// Secrets by `source` (every project) or `project/source`; empty ones are left out.
    pub fn new(secrets: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            secrets: secrets
                .into_iter()
                .filter(|(_, s)| !s.is_empty())
                .map(|(k, s)| (k.trim().to_lowercase(), s.into_bytes()))
                .collect(),
            seen: Mutex::default(),
        }
    }

    /// The secret of a project's source: its own, else the source's.
    fn secret(&self, project: &str, source: &str) -> Option<&[u8]> {
        self.secrets
            .get(&format!("{project}/{source}"))
            .or_else(|| self.secrets.get(source))
            .map(Vec::as_slice)
    }

    /// Takes a signature once: a second time (within the tolerance) is a replay.
    fn first_time(&self, signature: &str, now: i64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.retain(|_, at| now - *at <= 2 * TOLERANCE_SECONDS);
        seen.insert(signature.to_string(), now).is_none()
    }
}

/// The layer of the signal routes: checks the request's signature when its source has a secret.
pub async fn verify(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if state.signal_signing.secrets.is_empty() {
        return next.run(req).await;
    }
    match check(&state, req).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn check(state: &AppState, req: Request) -> Result<Request, ApiError> {
    let source = req
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let named = query_project(req.uri().query());
    let project = match named {
        Some(p) => p,
        None => state.engine.signals().project_slug(None).await?,
    };
    let Some(secret) = state.signal_signing.secret(&project, &source) else {
        return Ok(req);
    };
    let (parts, body) = req.into_parts();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let timestamp = header(signature::TIMESTAMP_HEADER);
    let sig = header(signature::SIGNATURE_HEADER);
    let bytes = axum::body::to_bytes(body, crate::MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(crate::MAX_BODY_BYTES))?;
    let now = dispatch_core::now().timestamp();
    let refuse = |e: SignatureError| ApiError::BadSignature(e.to_string());
    signature::verify(secret, timestamp.as_deref(), sig.as_deref(), &bytes, now).map_err(refuse)?;
    if !state
        .signal_signing
        .first_time(sig.as_deref().unwrap_or_default(), now)
    {
        return Err(refuse(SignatureError::Replayed));
    }
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}

/// The `project` query parameter, lower-cased.
fn query_project(query: Option<&str>) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query?)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "project")
        .map(|(_, v)| v.trim().to_lowercase())
        .filter(|v| !v.is_empty())
}
