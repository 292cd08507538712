//! Is this activity from the Bot Connector? Microsoft's "Authenticate requests from the Bot
//! Connector service": the `Authorization: Bearer` JWT must be signed (RS256) by a key the
//! Bot Framework's OpenID metadata publishes (its `jwks_uri`), endorsed for the `msteams`
//! channel when the key lists endorsements; `iss` must be `https://api.botframework.com`,
//! `aud` the bot's app id, the token current (`exp`, `nbf`, five minutes of clock skew), and
//! its `serviceUrl` claim the activity's `serviceUrl`. Keys are cached; an unknown `kid`
//! fetches them again, at most once per refresh interval.

use crate::http;
use base64::Engine as _;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The Bot Framework's OpenID metadata.
pub const OPENID_URL: &str = "https://login.botframework.com/v1/.well-known/openidconfiguration";
/// The issuer of Bot Connector tokens.
pub const ISSUER: &str = "https://api.botframework.com";
/// Clock skew allowed on `exp` and `nbf`.
pub const SKEW_SECONDS: i64 = 300;
/// The least time between two fetches of the keys for an unknown `kid`.
pub const REFETCH_EVERY: Duration = Duration::from_secs(5 * 60);

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Why a request was refused (answered 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unauthorized(pub String);

fn no(why: impl Into<String>) -> Unauthorized {
    Unauthorized(why.into())
}

#[derive(Clone)]
struct Key {
    n: Vec<u8>,
    e: Vec<u8>,
    endorsements: Option<Vec<String>>,
}

#[derive(Default)]
struct Keys {
    by_kid: HashMap<String, Key>,
    fetched_at: Option<Instant>,
}

/// Checks Bot Connector tokens for one bot.
pub struct BotAuth {
    app_id: String,
    openid_url: String,
    refetch_every: Duration,
    http: reqwest::Client,
    keys: Mutex<Keys>,
}

impl BotAuth {
    /// Checks tokens for the bot `app_id`, with the keys the metadata at `openid_url` names.
    pub fn new(app_id: &str, openid_url: &str) -> Self {
        Self {
            app_id: app_id.to_string(),
            openid_url: openid_url.to_string(),
            refetch_every: REFETCH_EVERY,
            http: http::client(),
            keys: Mutex::new(Keys::default()),
        }
    }

    /// The same, fetching keys for an unknown `kid` at most once per `every`.
    pub fn refetch_every(mut self, every: Duration) -> Self {
        self.refetch_every = every;
        self
    }

    /// Checks the `Authorization` header of an activity whose `serviceUrl` is `service_url`;
    /// the token's claims when it is good.
    pub async fn verify(
        &self,
        authorization: Option<&str>,
        service_url: &str,
        now: i64,
    ) -> Result<Value, Unauthorized> {
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| no("the request has no Bearer token"))?
            .trim();
        let mut parts = token.split('.');
        let (Some(head), Some(body), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(no("the token is not a JWT"));
        };
        let decode = |part: &str| {
            B64.decode(part)
                .map_err(|_| no("the token is not base64url"))
        };
        let header: Value = serde_json::from_slice(&decode(head)?)
            .map_err(|_| no("the token's header is not JSON"))?;
        if header["alg"] != "RS256" {
            return Err(no("the token is not signed with RS256"));
        }
        let kid = header["kid"]
            .as_str()
            .ok_or_else(|| no("the token names no key"))?;
        let key = self.key(kid).await?;
        let signed = format!("{head}.{body}");
        ring::signature::RsaPublicKeyComponents {
            n: &key.n,
            e: &key.e,
        }
        .verify(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            signed.as_bytes(),
            &decode(sig)?,
        )
        .map_err(|_| no("the token's signature does not verify"))?;
        let claims: Value = serde_json::from_slice(&decode(body)?)
            .map_err(|_| no("the token's claims are not JSON"))?;
        check_claims(&claims, &self.app_id, service_url, now)?;
        if let Some(endorsements) = &key.endorsements {
            if !endorsements.iter().any(|e| e == "msteams") {
                return Err(no("the signing key is not endorsed for msteams"));
            }
        }
        Ok(claims)
    }

    /// The key `kid`: cached, or fetched (once per refresh interval for a kid not known).
    async fn key(&self, kid: &str) -> Result<Key, Unauthorized> {
        let mut keys = self.keys.lock().await;
        if let Some(k) = keys.by_kid.get(kid) {
            return Ok(k.clone());
        }
        let recent = keys
            .fetched_at
            .is_some_and(|at| at.elapsed() < self.refetch_every);
        if !recent {
            match self.fetch_keys().await {
                Ok(fresh) => {
                    keys.by_kid = fresh;
                    keys.fetched_at = Some(Instant::now());
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the Bot Framework's signing keys could not be fetched");
                    return Err(no("the signing keys are not available"));
                }
            }
        }
        keys.by_kid
            .get(kid)
            .cloned()
            .ok_or_else(|| no("the token is signed by a key the Bot Framework does not publish"))
    }

    async fn fetch_keys(&self) -> Result<HashMap<String, Key>, crate::TeamsError> {
        let meta = http::send("GET openid metadata", || self.http.get(&self.openid_url)).await?;
        let jwks_uri = meta["jwks_uri"].as_str().unwrap_or_default().to_string();
        let jwks = http::send("GET jwks", || self.http.get(&jwks_uri)).await?;
        let mut out = HashMap::new();
        for k in jwks["keys"].as_array().into_iter().flatten() {
            let (Some(kid), Some(n), Some(e)) =
                (k["kid"].as_str(), k["n"].as_str(), k["e"].as_str())
            else {
                continue;
            };
            let (Ok(n), Ok(e)) = (B64.decode(n), B64.decode(e)) else {
                continue;
            };
            let endorsements = k["endorsements"].as_array().map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            });
            out.insert(kid.to_string(), Key { n, e, endorsements });
        }
        Ok(out)
    }
}

/// The claims of a verified token: issuer, audience, lifetime, service URL.
fn check_claims(
    claims: &Value,
    app_id: &str,
    service_url: &str,
    now: i64,
) -> Result<(), Unauthorized> {
    if claims["iss"] != ISSUER {
        return Err(no("the token is not issued by the Bot Framework"));
    }
    let audience_ok = match &claims["aud"] {
        Value::String(a) => a == app_id,
        Value::Array(a) => a.iter().any(|v| v == app_id),
        _ => false,
    };
    if !audience_ok {
        return Err(no("the token is not for this bot"));
    }
    let exp = claims["exp"]
        .as_i64()
        .ok_or_else(|| no("the token has no expiry"))?;
    if now > exp + SKEW_SECONDS {
        return Err(no("the token has expired"));
    }
    if claims["nbf"]
        .as_i64()
        .is_some_and(|nbf| now + SKEW_SECONDS < nbf)
    {
        return Err(no("the token is not valid yet"));
    }
    let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
    match claims["serviceUrl"].as_str() {
        Some(claimed) if same(claimed, service_url) => Ok(()),
        _ => Err(no("the token's serviceUrl is not the activity's")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(exp: i64) -> Value {
        json!({"iss": ISSUER, "aud": "app-1", "exp": exp, "nbf": exp - 3600,
            "serviceUrl": "https://smba.example/teams/"})
    }

    #[test]
    fn claims_are_checked_with_five_minutes_of_skew() {
        let now = 1_700_000_000;
        let ok = |c: &Value| check_claims(c, "app-1", "https://smba.example/teams", now);
        assert!(ok(&claims(now + 60)).is_ok());
        assert!(ok(&claims(now - 200)).is_ok(), "within the skew");
        assert!(ok(&claims(now - 400)).unwrap_err().0.contains("expired"));
        let mut c = claims(now + 60);
        c["aud"] = json!("someone-else");
        assert!(ok(&c).unwrap_err().0.contains("not for this bot"));
        let mut c = claims(now + 60);
        c["iss"] = json!("https://sts.windows.net/x/");
        assert!(ok(&c).is_err());
        let mut c = claims(now + 60);
        c["serviceUrl"] = json!("https://evil.example/");
        assert!(ok(&c).unwrap_err().0.contains("serviceUrl"));
        let mut c = claims(now + 4000);
        c["nbf"] = json!(now + 1000);
        assert!(ok(&c).unwrap_err().0.contains("not valid yet"));
    }
}
