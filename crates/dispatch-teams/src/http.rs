//! The one way this crate calls Microsoft: JSON over HTTPS with a bearer token, where HTTP 429
//! is waited out as its `Retry-After` asks (a few times, briefly; longer waits go back to the job
//! queue as [`TeamsError::RateLimited`]), and an error answer keeps Microsoft's error code.

use serde_json::Value;
use std::time::Duration;

/// How many 429s one call waits out before giving up.
const RATE_LIMIT_WAITS: u32 = 3;
/// The longest `Retry-After` a call waits out in place.
const MAX_RETRY_AFTER: u64 = 30;

/// A failed call to Microsoft.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TeamsError {
    /// Microsoft answered with an error status and (usually) an error code.
    #[error("{what}: HTTP {status} {code}: {message}")]
    Api {
        /// The call, e.g. `POST /teams/{id}/channels`.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The error code (`error.code` in Graph and the connector, `error` in the token
        /// endpoint).
        code: String,
        /// The error's message.
        message: String,
    },
    /// HTTP 429; try again after this many seconds.
    #[error("{what}: rate limited, retry after {retry_after}s")]
    RateLimited {
        /// The call.
        what: String,
        /// Seconds to wait.
        retry_after: u64,
    },
    /// No usable answer: connection refused, timeout, not JSON.
    #[error("{what}: {message}")]
    Transport {
        /// The call.
        what: String,
        /// What went wrong.
        message: String,
    },
}

impl TeamsError {
    /// The HTTP status of an error answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            TeamsError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// An HTTP client with a timeout.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client with a timeout builds")
}

/// Sends the request `build` makes (again after each 429 waited out); the answer's JSON (`null`
/// for an empty body, as a 202 or 204 has).
pub async fn send(
    what: &str,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<Value, TeamsError> {
    let mut waited = 0;
    loop {
        match send_once(what, build()).await {
            Err(TeamsError::RateLimited { retry_after, .. })
                if waited < RATE_LIMIT_WAITS && retry_after <= MAX_RETRY_AFTER =>
            {
                waited += 1;
                tokio::time::sleep(Duration::from_secs(retry_after)).await;
            }
            other => return other,
        }
    }
}

async fn send_once(what: &str, request: reqwest::RequestBuilder) -> Result<Value, TeamsError> {
    let transport = |message: String| TeamsError::Transport {
        what: what.to_string(),
        message,
    };
    let response = request.send().await.map_err(|e| transport(e.to_string()))?;
    let status = response.status();
    if status.as_u16() == 429 {
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(30);
        return Err(TeamsError::RateLimited {
            what: what.to_string(),
            retry_after,
        });
    }
    let text = response
        .text()
        .await
        .map_err(|e| transport(e.to_string()))?;
    let body: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).map_err(|e| transport(format!("HTTP {status}: {e}")))?
    };
    if status.is_success() {
        return Ok(body);
    }
    // Graph and the connector: `{"error": {"code", "message"}}`; the token endpoint:
    // `{"error": "invalid_client", "error_description"}`.
    let (code, message) = match &body["error"] {
        Value::String(code) => (code.clone(), body["error_description"].as_str()),
        e => (
            e["code"].as_str().unwrap_or("unknown").to_string(),
            e["message"].as_str(),
        ),
    };
    Err(TeamsError::Api {
        what: what.to_string(),
        status: status.as_u16(),
        code,
        message: message.unwrap_or_default().to_string(),
    })
}

/// A path segment escaped: ids such as `19:abc@thread.tacv2;messageid=1` keep their `:` and
/// `@` (as Microsoft writes them) and have everything else outside the unreserved set encoded.
pub fn escape(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' | b'@' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
