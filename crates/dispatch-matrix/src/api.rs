//! A small client of the Matrix client-server API (`/_matrix/client/v3`) as the bot user: an
//! access token, or a user and password it logs in with on first use (and again when the
//! homeserver forgets the token). Errors keep the homeserver's `errcode`; HTTP 429 is waited out
//! as `retry_after_ms` asks, a few times, before it goes back to the job queue as an error.
//! Messages are sent with a transaction id, so a resent request makes one event.

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// How many 429s one call waits out before giving up.
const RATE_LIMIT_WAITS: u32 = 3;
/// The longest wait a 429 may ask for that a call waits out in place.
const MAX_RETRY_AFTER_MS: u64 = 30_000;

/// A failed call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatrixError {
    /// The homeserver refused: its HTTP status, `errcode` and `error`.
    #[error("{what}: {status} {errcode}: {error}")]
    Api {
        /// What was asked.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The Matrix error code, e.g. `M_FORBIDDEN`.
        errcode: String,
        /// The homeserver's explanation.
        error: String,
    },
    /// Rate limited; try again after this many milliseconds.
    #[error("{what}: rate limited, retry after {retry_after_ms} ms")]
    RateLimited {
        /// What was asked.
        what: String,
        /// Milliseconds to wait.
        retry_after_ms: u64,
    },
    /// No usable answer: connection refused, timeout, not JSON.
    #[error("{what}: {message}")]
    Transport {
        /// What was asked.
        what: String,
        /// What went wrong.
        message: String,
    },
}

impl MatrixError {
    /// The Matrix error code, when the homeserver gave one.
    pub fn errcode(&self) -> Option<&str> {
        match self {
            MatrixError::Api { errcode, .. } => Some(errcode),
            _ => None,
        }
    }

    /// Whether it is a 404 (`M_NOT_FOUND`).
    pub fn not_found(&self) -> bool {
        matches!(self, MatrixError::Api { status: 404, .. })
    }
}

/// How the bot signs in.
#[derive(Clone)]
pub enum Credentials {
    /// An access token (`DISPATCH_MATRIX_ACCESS_TOKEN`).
    Token(String),
    /// A user and password (`DISPATCH_MATRIX_USER`, `DISPATCH_MATRIX_PASSWORD`): logged in with
    /// `m.login.password` on first use.
    Password {
        /// The user (`bot` or `@bot:example.org`).
        user: String,
        /// The password.
        password: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Token(_) => f.write_str("Token(…)"),
            Credentials::Password { user, .. } => write!(f, "Password {{ user: {user:?} }}"),
        }
    }
}

/// The bot's session: its token and user id, once known.
#[derive(Debug, Default)]
struct Session {
    token: Option<String>,
    user_id: Option<String>,
}

/// A client of one homeserver as the bot; clones share the session.
#[derive(Debug, Clone)]
pub struct MatrixApi {
    base: String,
    credentials: Credentials,
    session: Arc<Mutex<Session>>,
    http: reqwest::Client,
}

/// Percent-encodes one path segment (room ids hold `!` and `:`, aliases `#`).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl MatrixApi {
    /// A client of the homeserver at `base` (e.g. `https://matrix.example.org`).
    pub fn new(base: &str, credentials: Credentials) -> Self {
        let http = reqwest::Client::builder()
            // Longer than the longest /sync long-poll this crate asks for.
            .timeout(Duration::from_secs(90))
            .build()
            .expect("an HTTP client with a timeout builds");
        let token = match &credentials {
            Credentials::Token(t) => Some(t.clone()),
            Credentials::Password { .. } => None,
        };
        Self {
            base: base.trim_end_matches('/').to_string(),
            credentials,
            session: Arc::new(Mutex::new(Session {
                token,
                user_id: None,
            })),
            http,
        }
    }

    /// The homeserver's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The access token: the configured one, or one from a password login (made now if none).
    async fn token(&self) -> Result<String, MatrixError> {
        let mut session = self.session.lock().await;
        if let Some(t) = &session.token {
            return Ok(t.clone());
        }
        let Credentials::Password { user, password } = &self.credentials else {
            unreachable!("a token credential always has its token");
        };
        let body = json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": password,
            "initial_device_display_name": "Dispatch",
        });
        let answer = self
            .send_once(
                "login",
                reqwest::Method::POST,
                "/_matrix/client/v3/login",
                Some(&body),
                None,
            )
            .await?;
        let token = answer["access_token"]
            .as_str()
            .ok_or_else(|| MatrixError::Transport {
                what: "login".into(),
                message: "the answer has no access_token".into(),
            })?
            .to_string();
        session.token = Some(token.clone());
        session.user_id = answer["user_id"].as_str().map(String::from);
        Ok(token)
    }

    /// The bot's own user id (`whoami`, asked once).
    pub async fn user_id(&self) -> Result<String, MatrixError> {
        if let Some(id) = self.session.lock().await.user_id.clone() {
            return Ok(id);
        }
        let me = self
            .get("whoami", "/_matrix/client/v3/account/whoami")
            .await?;
        let id = me["user_id"]
            .as_str()
            .ok_or_else(|| MatrixError::Transport {
                what: "whoami".into(),
                message: "the answer has no user_id".into(),
            })?
            .to_string();
        self.session.lock().await.user_id = Some(id.clone());
        Ok(id)
    }

    /// A GET of `path` (under the base URL).
    pub async fn get(&self, what: &str, path: &str) -> Result<Value, MatrixError> {
        self.call(what, reqwest::Method::GET, path, None).await
    }

    /// Calls the API with the bot's token; a 429 is waited out a few times, and an unknown
    /// token (a password login's, forgotten) is replaced by a new login once.
    pub async fn call(
        &self,
        what: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, MatrixError> {
        let mut waited = 0;
        let mut relogged = false;
        loop {
            let token = self.token().await?;
            match self
                .send_once(what, method.clone(), path, body, Some(&token))
                .await
            {
                Err(MatrixError::RateLimited { retry_after_ms, .. })
                    if waited < RATE_LIMIT_WAITS && retry_after_ms <= MAX_RETRY_AFTER_MS =>
                {
                    waited += 1;
                    tokio::time::sleep(Duration::from_millis(retry_after_ms)).await;
                }
                Err(e)
                    if e.errcode() == Some("M_UNKNOWN_TOKEN")
                        && !relogged
                        && matches!(self.credentials, Credentials::Password { .. }) =>
                {
                    relogged = true;
                    self.session.lock().await.token = None;
                }
                other => return other,
            }
        }
    }

    async fn send_once(
        &self,
        what: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Result<Value, MatrixError> {
        let transport = |message: String| MatrixError::Transport {
            what: what.to_string(),
            message,
        };
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| transport(e.to_string()))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| transport(e.to_string()))?;
        let answer: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .map_err(|e| transport(format!("HTTP {status}, not JSON: {e}")))?
        };
        if status == 429 {
            return Err(MatrixError::RateLimited {
                what: what.to_string(),
                retry_after_ms: answer["retry_after_ms"].as_u64().unwrap_or(1000),
            });
        }
        if !(200..300).contains(&status) {
            return Err(MatrixError::Api {
                what: what.to_string(),
                status,
                errcode: answer["errcode"].as_str().unwrap_or("M_UNKNOWN").into(),
                error: answer["error"].as_str().unwrap_or_default().into(),
            });
        }
        Ok(answer)
    }

    /// Creates a room (`POST /createRoom` with `body`); its id.
    pub async fn create_room(&self, body: &Value) -> Result<String, MatrixError> {
        let answer = self
            .call(
                "createRoom",
                reqwest::Method::POST,
                "/_matrix/client/v3/createRoom",
                Some(body),
            )
            .await?;
        room_id(&answer, "createRoom")
    }

    /// The room an alias (`#name:server`) points at, if any.
    pub async fn resolve_alias(&self, alias: &str) -> Result<Option<String>, MatrixError> {
        let path = format!("/_matrix/client/v3/directory/room/{}", segment(alias));
        match self.get("resolve alias", &path).await {
            Ok(answer) => room_id(&answer, "resolve alias").map(Some),
            Err(e) if e.not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A room's state event of `kind` and `key`; `None` when it has none.
    pub async fn state(
        &self,
        room: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Value>, MatrixError> {
        let path = format!(
            "/_matrix/client/v3/rooms/{}/state/{}/{}",
            segment(room),
            segment(kind),
            segment(key)
        );
        match self.get(kind, &path).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sets a room's state event of `kind` and `key`.
    pub async fn set_state(
        &self,
        room: &str,
        kind: &str,
        key: &str,
        content: &Value,
    ) -> Result<(), MatrixError> {
        let path = format!(
            "/_matrix/client/v3/rooms/{}/state/{}/{}",
            segment(room),
            segment(kind),
            segment(key)
        );
        self.call(kind, reqwest::Method::PUT, &path, Some(content))
            .await
            .map(drop)
    }

    /// Sends an event of `kind` with transaction id `txn` (the same id again makes no second
    /// event); the event's id.
    pub async fn send(
        &self,
        room: &str,
        kind: &str,
        txn: &str,
        content: &Value,
    ) -> Result<String, MatrixError> {
        let path = format!(
            "/_matrix/client/v3/rooms/{}/send/{}/{}",
            segment(room),
            segment(kind),
            segment(txn)
        );
        let answer = self
            .call(kind, reqwest::Method::PUT, &path, Some(content))
            .await?;
        answer["event_id"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| MatrixError::Transport {
                what: kind.into(),
                message: "the answer has no event_id".into(),
            })
    }

    /// One event of a room.
    pub async fn event(&self, room: &str, event_id: &str) -> Result<Value, MatrixError> {
        let path = format!(
            "/_matrix/client/v3/rooms/{}/event/{}",
            segment(room),
            segment(event_id)
        );
        self.get("event", &path).await
    }

    /// The members of a room with their membership (`join`, `invite`, `leave`, …).
    pub async fn members(&self, room: &str) -> Result<Vec<(String, String)>, MatrixError> {
        let path = format!("/_matrix/client/v3/rooms/{}/members", segment(room));
        let answer = self.get("members", &path).await?;
        Ok(answer["chunk"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                Some((
                    e["state_key"].as_str()?.to_string(),
                    e["content"]["membership"].as_str()?.to_string(),
                ))
            })
            .collect())
    }

    /// Invites a user to a room.
    pub async fn invite(&self, room: &str, user: &str) -> Result<(), MatrixError> {
        let path = format!("/_matrix/client/v3/rooms/{}/invite", segment(room));
        self.call(
            "invite",
            reqwest::Method::POST,
            &path,
            Some(&json!({ "user_id": user })),
        )
        .await
        .map(drop)
    }

    /// Joins a room the bot was invited to (by id or alias).
    pub async fn join(&self, room: &str) -> Result<(), MatrixError> {
        let path = format!("/_matrix/client/v3/join/{}", segment(room));
        self.call("join", reqwest::Method::POST, &path, Some(&json!({})))
            .await
            .map(drop)
    }

    /// One `/sync`: from `since` (everything when `None`), waiting up to `timeout` for news,
    /// with `filter` (inline JSON).
    pub async fn sync(
        &self,
        since: Option<&str>,
        timeout: Duration,
        filter: &Value,
    ) -> Result<Value, MatrixError> {
        let mut path = format!(
            "/_matrix/client/v3/sync?timeout={}&filter={}",
            timeout.as_millis(),
            segment(&filter.to_string())
        );
        if let Some(since) = since {
            path.push_str(&format!("&since={}", segment(since)));
        }
        self.get("sync", &path).await
    }
}

fn room_id(answer: &Value, what: &str) -> Result<String, MatrixError> {
    answer["room_id"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| MatrixError::Transport {
            what: what.into(),
            message: "the answer has no room_id".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::segment;

    #[test]
    fn room_ids_and_aliases_are_encoded_as_one_path_segment() {
        assert_eq!(segment("!abc:localhost"), "%21abc%3Alocalhost");
        assert_eq!(segment("#inc-1:example.org"), "%23inc-1%3Aexample.org");
        assert_eq!(segment("m.room.name"), "m.room.name");
    }
}
