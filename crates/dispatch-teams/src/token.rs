//! App-only access tokens from the Microsoft identity platform's client-credentials grant: one
//! source for the Bot Connector (`https://api.botframework.com/.default`) and one for Graph
//! (`https://graph.microsoft.com/.default`). A token is kept until a minute before it expires.

use crate::http::{self, TeamsError};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The Bot Framework's token endpoint (multi-tenant bots).
pub const BOT_TOKEN_URL: &str =
    "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token";
/// The Bot Connector's scope.
pub const BOT_SCOPE: &str = "https://api.botframework.com/.default";
/// Graph's scope.
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// The token endpoint of a tenant (`https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`
/// with the default `login_url`).
pub fn tenant_token_url(login_url: &str, tenant: &str) -> String {
    format!(
        "{}/{tenant}/oauth2/v2.0/token",
        login_url.trim_end_matches('/')
    )
}

/// Tokens for one app and scope, cached.
pub struct TokenSource {
    url: String,
    client_id: String,
    secret: String,
    scope: String,
    http: reqwest::Client,
    cached: Mutex<Option<(String, Instant)>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("url", &self.url)
            .field("client_id", &self.client_id)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// Tokens for app `client_id` (its password `secret`) from `url`, for `scope`.
    pub fn new(url: &str, client_id: &str, secret: &str, scope: &str) -> Self {
        Self {
            url: url.to_string(),
            client_id: client_id.to_string(),
            secret: secret.to_string(),
            scope: scope.to_string(),
            http: http::client(),
            cached: Mutex::new(None),
        }
    }

    /// A live token: the cached one, or a fresh one.
    pub async fn token(&self) -> Result<String, TeamsError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, until)) = cached.as_ref() {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.secret.as_str()),
            ("scope", self.scope.as_str()),
        ];
        let body = http::send("POST token", || self.http.post(&self.url).form(&form)).await?;
        let token = body["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| TeamsError::Transport {
                what: "POST token".into(),
                message: "the answer has no access_token".into(),
            })?
            .to_string();
        let lifetime = body["expires_in"].as_u64().unwrap_or(3599);
        let until = Instant::now() + Duration::from_secs(lifetime.saturating_sub(60));
        *cached = Some((token.clone(), until));
        Ok(token)
    }
}
