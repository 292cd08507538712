//! OIDC single sign-on: the authorization-code flow with PKCE, on the `openidconnect` crate.
//! `/auth/oidc/login` discovers the provider and sends the browser to it with a fresh state, nonce
//! and S256 code challenge (kept in a short-lived HttpOnly cookie, so any replica can finish the
//! flow); `/auth/oidc/callback` exchanges the code (with the verifier and the client secret), has
//! the crate check the ID token (signature — RS256 from the provider's JWKS, or HS256 with the
//! client secret —, issuer, audience, expiry, nonce), takes the e-mail from the configured claim,
//! creates the user as a member on first sign-in and starts a session.

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
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, DiscoveryError, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IdTokenFields, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, SignatureVerificationError, StandardErrorResponse,
    StandardTokenResponse, TokenResponse as _,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

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

/// The ID token's claims beyond the standard ones, kept so that any claim can carry the e-mail.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(transparent)]
struct OtherClaims(HashMap<String, Value>);

impl AdditionalClaims for OtherClaims {}

type Tokens = StandardTokenResponse<
    IdTokenFields<
        OtherClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

/// The relying party as built from discovery (authorization endpoint set, token endpoint maybe).
type Rp = openidconnect::Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

fn fail(what: impl std::fmt::Display) -> ApiError {
    tracing::warn!(reason = %what, "single sign-on failed");
    ApiError::Forbidden(format!("single sign-on failed: {what}"))
}

/// The reason an ID token was refused, in the words sign-in failures have always used.
fn refused(e: ClaimsVerificationError) -> ApiError {
    use ClaimsVerificationError as C;
    use SignatureVerificationError as S;
    match e {
        C::InvalidIssuer(_) => fail("the ID token is from another issuer"),
        C::InvalidAudience(_) => fail("the ID token is for another client"),
        C::Expired(_) => fail("the ID token has expired"),
        C::InvalidNonce(_) => fail("the ID token's nonce does not match"),
        C::SignatureVerification(S::NoMatchingKey) => fail("no matching key in the JWKS"),
        C::SignatureVerification(S::DisallowedAlg(a) | S::UnsupportedAlg(a)) => {
            fail(format!("unsupported ID token algorithm {a}"))
        }
        C::SignatureVerification(_) => fail("bad ID token signature"),
        other => fail(other),
    }
}

impl OidcClient {
    /// Discovery (the metadata and the JWKS), as a relying party with our redirect URI. The
    /// provider's issuer must be the configured one; a trailing `/` on either side is forgiven.
    async fn discover(&self) -> ApiResult<Rp> {
        let configured = self.issuer.trim_end_matches('/');
        let mut metadata = None;
        for issuer in [configured.to_string(), format!("{configured}/")] {
            let url = IssuerUrl::new(issuer).map_err(fail)?;
            match CoreProviderMetadata::discover_async(url, &self.http).await {
                Ok(m) => {
                    metadata = Some(m);
                    break;
                }
                Err(DiscoveryError::Validation(_)) => continue,
                Err(DiscoveryError::Response(status, _, _)) => {
                    return Err(fail(format!(
                        "{configured}/.well-known/openid-configuration answered {status}"
                    )))
                }
                Err(DiscoveryError::Parse(e)) => {
                    return Err(fail(format!("discovery has no valid {}", e.path())))
                }
                Err(e) => return Err(fail(e)),
            }
        }
        let metadata =
            metadata.ok_or_else(|| fail("discovery names another issuer than configured"))?;
        Ok(Rp::from_provider_metadata(
            metadata,
            ClientId::new(self.client_id.clone()),
            Some(ClientSecret::new(self.client_secret.clone())),
        )
        // The client secret goes in the token request's form, as it always has.
        .set_auth_type(AuthType::RequestBody)
        .set_redirect_uri(RedirectUrl::new(self.redirect_uri.clone()).map_err(fail)?))
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
    let rp = oidc.discover().await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = rp.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    // The configured scopes as they are (`openid` among them), in their order.
    for scope in oidc.scopes.split_whitespace().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.to_string()));
    }
    let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
    let next = crate::redirect::safe_next(q.next.as_deref());
    let flow = B64.encode(
        serde_json::json!([state.secret(), nonce.secret(), verifier.secret(), next]).to_string(),
    );
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
    let rp = oidc.discover().await?;
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .map_err(fail)?
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.clone()))
        .request_async(&oidc.http)
        .await
        .map_err(|e| match e {
            RequestTokenError::ServerResponse(e) => {
                fail(format!("the token endpoint answered {}", e.error()))
            }
            RequestTokenError::Parse(e, _) => fail(format!("the token endpoint's answer: {e}")),
            e => fail(e),
        })?;
    let id_token = tokens.id_token().ok_or_else(|| fail("no ID token"))?;
    let verifier = rp
        .id_token_verifier()
        // RS256 from the JWKS, or HS256 with the client secret.
        .set_allowed_algs([
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            CoreJwsSigningAlgorithm::HmacSha256,
        ])
        // A minute's leeway for clocks apart.
        .set_time_fn(|| chrono::Utc::now() - chrono::Duration::seconds(60))
        // The ID token must name this client; other audiences beside it are let be.
        .set_other_audience_verifier_fn(|_| true);
    let claims = id_token
        .claims(&verifier, &Nonce::new(nonce.clone()))
        .map_err(refused)?;
    if claims.email_verified() == Some(false) {
        return Err(fail("the e-mail address is not verified"));
    }
    let all = serde_json::to_value(claims).map_err(fail)?;
    let email = all[oidc.email_claim.as_str()]
        .as_str()
        .ok_or_else(|| fail(format!("no {} claim", oidc.email_claim)))?;
    let email = dispatch_core::values::Email::parse("email", email).map_err(fail)?;
    let who = s
        .engine
        .accounts()
        .external_user(&email, dispatch_engine::access::Credential::Local)
        .await?
        .ok_or_else(|| fail("this account is disabled"))?;
    let start = s
        .engine
        .sessions()
        .start(dispatch_core::UserId(who.user_id), "oidc", &origin)
        .await?;
    let mut res = crate::login::started(&s, start, true, Some(next));
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "dispatch_oidc=; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=0",
        ),
    );
    Ok(res)
}
