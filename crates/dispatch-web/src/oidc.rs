//! OIDC single sign-on: the authorization-code flow with PKCE. `/auth/oidc/login` sends the
//! browser to the provider with a fresh state, nonce and code challenge (kept in a short-lived
//! HttpOnly cookie, so any replica can finish the flow); `/auth/oidc/callback` exchanges the code
//! (with the verifier and the client secret), checks the ID token (signature — RS256 from the
//! provider's JWKS, or HS256 with the client secret —, issuer, audience, expiry, nonce), takes
//! the e-mail from the configured claim, creates the user as a member on first sign-in and
//! starts a session.

use crate::auth::{cookie, RequestOrigin};
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

const FLOW_COOKIE: &str = "dispatch_oidc";

/// OIDC routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/oidc/login", get(start))
        .route("/auth/oidc/callback", get(callback))
}

/// An OIDC relying party.
#[derive(Debug, Clone)]
pub struct OidcClient {
    /// The issuer URL; discovery is at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// Client id.
    pub client_id: String,
    /// Client secret (sent in the token request; the HS256 key).
    pub client_secret: String,
    /// Scopes, space-separated (`openid email profile` by default).
    pub scopes: String,
    /// The claim with the e-mail address (`email` by default).
    pub email_claim: String,
    /// Where the provider sends the browser back: `{public_url}/auth/oidc/callback`.
    pub redirect_uri: String,
    /// HTTP client for discovery, token and JWKS requests.
    pub http: reqwest::Client,
}

/// What discovery tells.
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: Option<String>,
}

fn random() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    B64.encode(b)
}

fn fail(what: impl std::fmt::Display) -> ApiError {
    tracing::warn!(reason = %what, "single sign-on failed");
    ApiError::Forbidden(format!("single sign-on failed: {what}"))
}

impl OidcClient {
    async fn get_json(&self, url: &str) -> ApiResult<Value> {
        let res = self.http.get(url).send().await.map_err(fail)?;
        if !res.status().is_success() {
            return Err(fail(format!("{url} answered {}", res.status())));
        }
        res.json().await.map_err(fail)
    }

    async fn discover(&self) -> ApiResult<Discovery> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let d = self.get_json(&url).await?;
        let field = |k: &str| {
            d[k].as_str()
                .map(str::to_string)
                .ok_or_else(|| fail(format!("discovery has no {k}")))
        };
        Ok(Discovery {
            issuer: field("issuer")?,
            authorization_endpoint: field("authorization_endpoint")?,
            token_endpoint: field("token_endpoint")?,
            jwks_uri: d["jwks_uri"].as_str().map(str::to_string),
        })
    }

    /// Checks an ID token's signature and claims; answers its claims.
    async fn verify(&self, d: &Discovery, id_token: &str, nonce: &str) -> ApiResult<Value> {
        let mut parts = id_token.split('.');
        let (Some(h), Some(p), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(fail("the ID token is not a JWT"));
        };
        let header: Value = serde_json::from_slice(&B64.decode(h).map_err(fail)?).map_err(fail)?;
        let signature = B64.decode(sig).map_err(fail)?;
        let signed = format!("{h}.{p}");
        match header["alg"].as_str() {
            Some("HS256") => {
                let mut mac =
                    Hmac::<Sha256>::new_from_slice(self.client_secret.as_bytes()).map_err(fail)?;
                mac.update(signed.as_bytes());
                mac.verify_slice(&signature)
                    .map_err(|_| fail("bad ID token signature"))?;
            }
            Some("RS256") => {
                let jwks = self
                    .get_json(d.jwks_uri.as_deref().ok_or_else(|| fail("no jwks_uri"))?)
                    .await?;
                let kid = header["kid"].as_str();
                let key = jwks["keys"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|k| k["kty"] == "RSA" && (kid.is_none() || k["kid"].as_str() == kid))
                    .ok_or_else(|| fail("no matching key in the JWKS"))?;
                let n = B64
                    .decode(key["n"].as_str().unwrap_or_default())
                    .map_err(fail)?;
                let e = B64
                    .decode(key["e"].as_str().unwrap_or_default())
                    .map_err(fail)?;
                ring::signature::RsaPublicKeyComponents { n, e }
                    .verify(
                        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                        signed.as_bytes(),
                        &signature,
                    )
                    .map_err(|_| fail("bad ID token signature"))?;
            }
            other => return Err(fail(format!("unsupported ID token algorithm {other:?}"))),
        }
        let claims: Value = serde_json::from_slice(&B64.decode(p).map_err(fail)?).map_err(fail)?;
        if claims["iss"].as_str() != Some(d.issuer.as_str()) {
            return Err(fail("the ID token is from another issuer"));
        }
        let aud_ok = match &claims["aud"] {
            Value::String(a) => *a == self.client_id,
            Value::Array(a) => a.iter().any(|x| x.as_str() == Some(&self.client_id)),
            _ => false,
        };
        if !aud_ok {
            return Err(fail("the ID token is for another client"));
        }
        let now = chrono::Utc::now().timestamp();
        if claims["exp"].as_i64().is_none_or(|exp| exp + 60 < now) {
            return Err(fail("the ID token has expired"));
        }
        if claims["nonce"].as_str() != Some(nonce) {
            return Err(fail("the ID token's nonce does not match"));
        }
        Ok(claims)
    }
}

/// Where to go after signing in.
#[derive(Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// Sends the browser to the identity provider.
#[utoipa::path(get, path = "/auth/oidc/login", tag = "auth",
    params(("next" = Option<String>, Query, description = "Where to go once signed in (a path on this server)")),
    responses((status = 303, description = "To the identity provider"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn start(State(s): State<AppState>, Query(q): Query<StartQuery>) -> ApiResult<Response> {
    let oidc = s
        .auth
        .oidc
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("single sign-on (not configured)".into()))?;
    let d = oidc.discover().await?;
    let (state, nonce, verifier) = (random(), random(), random());
    let challenge = B64.encode(Sha256::digest(verifier.as_bytes()));
    let url = reqwest::Url::parse_with_params(
        &d.authorization_endpoint,
        &[
            ("response_type", "code"),
            ("client_id", oidc.client_id.as_str()),
            ("redirect_uri", oidc.redirect_uri.as_str()),
            ("scope", oidc.scopes.as_str()),
            ("state", state.as_str()),
            ("nonce", nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .map_err(fail)?;
    let next = crate::redirect::safe_next(q.next.as_deref());
    let flow = B64.encode(serde_json::json!([state, nonce, verifier, next]).to_string());
    let secure = if s.auth.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let mut res = Redirect::to(url.as_str()).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{FLOW_COOKIE}={flow}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=600{secure}"
        ))
        .map_err(fail)?,
    );
    Ok(res)
}

/// The provider's answer.
#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Finishes single sign-on: checks the answer, signs the person in, sets the session cookie.
#[utoipa::path(get, path = "/auth/oidc/callback", tag = "auth",
    params(("code" = Option<String>, Query, description = "The provider's authorization code"),
        ("state" = Option<String>, Query, description = "The state the sign-in started with"),
        ("error" = Option<String>, Query, description = "The provider's refusal")),
    responses((status = 303, description = "Signed in: to where the sign-in started"), (status = 403, body = crate::error::ErrorBody)))]
pub async fn callback(
    State(s): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> ApiResult<Response> {
    let oidc = s
        .auth
        .oidc
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("single sign-on (not configured)".into()))?;
    if let Some(e) = q.error {
        return Err(fail(format!("the provider answered {e}")));
    }
    let flow: Vec<String> = cookie(&headers, FLOW_COOKIE)
        .and_then(|c| B64.decode(c).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|v: &Vec<String>| v.len() == 4)
        .ok_or_else(|| fail("no sign-in under way in this browser"))?;
    let (state, nonce, verifier, next) = (&flow[0], &flow[1], &flow[2], &flow[3]);
    if q.state.as_deref() != Some(state.as_str()) {
        return Err(fail("the state does not match"));
    }
    let code = q.code.ok_or_else(|| fail("no code"))?;
    let d = oidc.discover().await?;
    let res = oidc
        .http
        .post(&d.token_endpoint)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", oidc.redirect_uri.as_str()),
            ("client_id", oidc.client_id.as_str()),
            ("client_secret", oidc.client_secret.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .map_err(fail)?;
    if !res.status().is_success() {
        return Err(fail(format!(
            "the token endpoint answered {}",
            res.status()
        )));
    }
    let tokens: Value = res.json().await.map_err(fail)?;
    let id_token = tokens["id_token"]
        .as_str()
        .ok_or_else(|| fail("no ID token"))?;
    let claims = oidc.verify(&d, id_token, nonce).await?;
    if claims["email_verified"] == Value::Bool(false) {
        return Err(fail("the e-mail address is not verified"));
    }
    let email = claims[oidc.email_claim.as_str()]
        .as_str()
        .ok_or_else(|| fail(format!("no {} claim", oidc.email_claim)))?;
    let email = dispatch_core::values::Email::parse("email", email).map_err(fail)?;
    let who = s
        .engine
        .external_user(&email, dispatch_engine::access::Credential::Local)
        .await?
        .ok_or_else(|| fail("this account is disabled"))?;
    let start = s.engine.start_session(who.user_id, "oidc", &origin).await?;
    let mut res = crate::login::started(&s, start, true, Some(next));
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "dispatch_oidc=; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=0",
        ),
    );
    Ok(res)
}
