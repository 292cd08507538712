//! Single sign-on end to end. An OIDC provider emulator (discovery document, JWKS, authorize,
//! token endpoint with a PKCE check and client authentication by `client_secret_post` or
//! `client_secret_basic`, ID tokens signed RS256 with a key its JWKS publishes, or HS256 with the
//! client secret) runs on 127.0.0.1; the test plays the browser through the authorization-code
//! flow with PKCE and ends signed in; ID tokens for another audience, expired, badly signed,
//! signed with another key or with another nonce are refused. Also: trusted-header authentication
//! counts only from the configured proxy addresses.

use crate::common::TestApp;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const CLIENT_ID: &str = "dispatch";
const CLIENT_SECRET: &str = "emulator-secret";

/// The emulator's state: issued codes, what the token endpoint was sent, and how to misbehave.
#[derive(Default)]
struct Provider {
    issuer: String,
    email: String,
    /// `ok`, `wrong_audience`, `bad_signature`, `other_key`, `expired`, `expired_30s_ago`,
    /// `wrong_nonce`.
    mode: String,
    /// How ID tokens are signed: `RS256` (the JWKS key) or `HS256` (the client secret).
    alg: String,
    /// code → (code challenge, nonce, redirect URI).
    codes: HashMap<String, (String, String, String)>,
    /// Token requests refused (bad verifier, secret or code).
    refused: Vec<String>,
}

type Shared = Arc<Mutex<Provider>>;

async fn discovery(State(p): State<Shared>) -> axum::Json<Value> {
    let issuer = p.lock().unwrap().issuer.clone();
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["RS256", "HS256"],
    }))
}

async fn authorize(
    State(p): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["scope"].split(' ').any(|s| s == "openid"));
    let code = format!("code-{}", q["state"].len() + q["nonce"].len());
    p.lock().unwrap().codes.insert(
        code.clone(),
        (
            q["code_challenge"].clone(),
            q["nonce"].clone(),
            q["redirect_uri"].clone(),
        ),
    );
    Redirect::to(&format!(
        "{}?code={code}&state={}",
        q["redirect_uri"], q["state"]
    ))
}

/// The emulator's RSA key (a 2048-bit test key, PKCS#1 DER), published in its JWKS as `k1`.
fn rsa_key() -> ring::signature::RsaKeyPair {
    ring::signature::RsaKeyPair::from_der(include_bytes!("common/oidc_rsa_key.der")).unwrap()
}

async fn jwks() -> axum::Json<Value> {
    let key = rsa_key();
    let public = ring::signature::RsaPublicKeyComponents::<Vec<u8>>::from(key.public());
    axum::Json(json!({"keys": [
        {"kty": "RSA", "kid": "k0", "use": "sig", "alg": "RS256", "n": B64.encode([0xc1; 256]), "e": "AQAB"},
        {"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "n": B64.encode(&public.n), "e": B64.encode(&public.e)}
    ]}))
}

/// A key the provider does not publish (a 2048-bit test key, PKCS#1 DER).
fn other_rsa_key() -> ring::signature::RsaKeyPair {
    ring::signature::RsaKeyPair::from_der(include_bytes!("common/oidc_other_rsa_key.der")).unwrap()
}

/// A signed JWT: RS256 with `key` (claiming to be the JWKS key `k1`), or HS256 with `secret`.
fn jwt(claims: &Value, alg: &str, key: ring::signature::RsaKeyPair, secret: &[u8]) -> String {
    let head = json!({"alg": alg, "typ": "JWT", "kid": "k1"});
    let head = B64.encode(head.to_string());
    let body = B64.encode(claims.to_string());
    let signed = format!("{head}.{body}");
    let signature = if alg == "RS256" {
        let mut sig = vec![0; key.public().modulus_len()];
        key.sign(
            &ring::signature::RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            signed.as_bytes(),
            &mut sig,
        )
        .unwrap();
        sig
    } else {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(signed.as_bytes());
        mac.finalize().into_bytes().to_vec()
    };
    format!("{signed}.{}", B64.encode(signature))
}

/// The client secret from the form (`client_secret_post`) or the `Authorization: Basic` header
/// (`client_secret_basic`), once the client id there is ours.
fn client_secret(headers: &axum::http::HeaderMap, f: &HashMap<String, String>) -> Option<String> {
    if let Some(basic) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let pair = base64::engine::general_purpose::STANDARD
            .decode(basic)
            .ok()?;
        let (id, secret) = std::str::from_utf8(&pair).ok()?.split_once(':')?;
        return (id == CLIENT_ID).then(|| secret.to_string());
    }
    (f.get("client_id").map(String::as_str) == Some(CLIENT_ID))
        .then(|| f.get("client_secret").cloned())
        .flatten()
}

async fn token(
    State(p): State<Shared>,
    headers: axum::http::HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> axum::response::Response {
    let mut p = p.lock().unwrap();
    let refuse = |p: &mut Provider, why: &str| {
        p.refused.push(why.to_string());
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_grant"})),
        )
            .into_response()
    };
    if f.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return refuse(&mut p, "grant type");
    }
    if client_secret(&headers, &f).as_deref() != Some(CLIENT_SECRET) {
        return refuse(&mut p, "client secret");
    }
    let code = f.get("code").map_or("", String::as_str);
    let Some((challenge, nonce, redirect)) = p.codes.remove(code) else {
        return refuse(&mut p, "unknown or reused code");
    };
    let verifier = f.get("code_verifier").map_or("", String::as_str);
    if B64.encode(Sha256::digest(verifier.as_bytes())) != challenge {
        return refuse(&mut p, "PKCE verifier");
    }
    if f.get("redirect_uri") != Some(&redirect) {
        return refuse(&mut p, "redirect URI");
    }
    let now = chrono::Utc::now().timestamp();
    let aud = if p.mode == "wrong_audience" {
        "someone-else"
    } else {
        CLIENT_ID
    };
    let exp = match p.mode.as_str() {
        "expired" => now - 3600,
        "expired_30s_ago" => now - 30,
        _ => now + 300,
    };
    let nonce = if p.mode == "wrong_nonce" {
        format!("{nonce}-other")
    } else {
        nonce
    };
    let claims = json!({"iss": p.issuer, "aud": aud, "sub": "u-1", "email": p.email,
        "email_verified": true, "nonce": nonce, "iat": now - 60, "exp": exp});
    let key = if p.mode == "other_key" {
        other_rsa_key()
    } else {
        rsa_key()
    };
    let mut id_token = jwt(&claims, &p.alg, key, CLIENT_SECRET.as_bytes());
    if p.mode == "bad_signature" {
        // Signed, then the claims swapped for others: the signature no longer matches.
        let forged = json!({"iss": p.issuer, "aud": CLIENT_ID, "sub": "u-2",
            "email": "mallory@example.com", "nonce": claims["nonce"], "iat": now, "exp": now + 300});
        let parts: Vec<&str> = id_token.split('.').collect();
        id_token = format!(
            "{}.{}.{}",
            parts[0],
            B64.encode(forged.to_string()),
            parts[2]
        );
    }
    axum::Json(json!({"access_token": "at", "token_type": "Bearer", "id_token": id_token}))
        .into_response()
}

async fn start_provider(email: &str) -> Shared {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(Mutex::new(Provider {
        issuer,
        email: email.into(),
        mode: "ok".into(),
        alg: "RS256".into(),
        ..Default::default()
    }));
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .route("/jwks", get(jwks))
        .with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    state
}

async fn app_with_sso(provider: &Shared) -> TestApp {
    let issuer = provider.lock().unwrap().issuer.clone();
    TestApp::builder()
        .auth(move |base| dispatch_web::WebAuth {
            oidc: Some(dispatch_web::oidc::OidcClient {
                issuer,
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                scopes: "openid email".into(),
                email_claim: "email".into(),
                redirect_uri: format!("{base}/auth/oidc/callback"),
                http: reqwest::Client::new(),
            }),
            ..Default::default()
        })
        .spawn()
        .await
}

/// A browser that does not follow redirects; answers status, `Location`, and cookies set.
async fn visit(url: &str, cookies: &[String]) -> (StatusCode, String, Vec<String>) {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = browser.get(url);
    if !cookies.is_empty() {
        let pairs: Vec<&str> = cookies
            .iter()
            .map(|c| c.split(';').next().unwrap())
            .collect();
        req = req.header("cookie", pairs.join("; "));
    }
    let res = req.send().await.unwrap();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let set: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    (res.status(), location, set)
}

/// Runs the flow up to the callback; answers the callback URL and the flow cookie.
async fn to_callback(app: &TestApp) -> (String, Vec<String>) {
    to_callback_next(app, "/api/v1/me").await
}

/// [`to_callback`] with this (URL-encoded) `next`.
async fn to_callback_next(app: &TestApp, next: &str) -> (String, Vec<String>) {
    let (status, to_provider, cookies) =
        visit(&format!("{}/auth/oidc/login?next={next}", app.base), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to_provider.contains("code_challenge="), "{to_provider}");
    assert!(cookies[0].starts_with("dispatch_oidc=") && cookies[0].contains("HttpOnly"));
    let (status, callback, _) = visit(&to_provider, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(callback.starts_with(&format!("{}/auth/oidc/callback?code=", app.base)));
    (callback, cookies)
}

#[tokio::test]
async fn single_sign_on_signs_a_new_person_in_end_to_end_with_pkce() {
    let provider = start_provider("Olga@Example.com").await;
    let app = app_with_sso(&provider).await;
    let page = app
        .http
        .get(format!("{}/auth/login", app.base))
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("/auth/oidc/login"));

    let (callback, flow) = to_callback(&app).await;
    let (status, next, cookies) = visit(&callback, &flow).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{next}");
    assert_eq!(next, "/api/v1/me");
    let session = cookies
        .iter()
        .find(|c| c.starts_with("dispatch_session="))
        .expect("a session cookie")
        .clone();
    let me = app
        .http
        .get(format!("{}/api/v1/me", app.base))
        .header("cookie", session.split(';').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["email"], "olga@example.com");
    assert_eq!(me["role"], "member", "created as a member on first sign-in");
    assert!(provider.lock().unwrap().refused.is_empty());

    let users = app.get("/users").await.body;
    assert!(users
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["email"] == "olga@example.com" && u["kind"] == "person"));
    let log = app.get("/audit?action=sign_in").await.body;
    assert_eq!(log[0]["details"]["method"], "oidc");

    // The same answer cannot be replayed: the code is spent.
    let (status, _, _) = visit(&callback, &flow).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(provider.lock().unwrap().refused, ["unknown or reused code"]);
}

#[tokio::test]
async fn single_sign_on_returns_only_to_a_path_on_this_server() {
    let provider = start_provider("olga@example.com").await;
    let app = app_with_sso(&provider).await;
    for next in [
        "%2F%09%2Fevil.example",
        "%2F%2Fevil.example",
        "%2F%5Cevil.example",
        "https%3A%2F%2Fevil.example",
        "%2F%0D%0ASet-Cookie%3Ax%3D1",
    ] {
        let (callback, flow) = to_callback_next(&app, next).await;
        let (status, to, _) = visit(&callback, &flow).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{next}");
        assert_eq!(to, "/", "{next}");
    }
}

/// The flow to the end; answers whether it signed someone in.
async fn signs_in(app: &TestApp) -> bool {
    let (callback, flow) = to_callback(app).await;
    let (status, _, cookies) = visit(&callback, &flow).await;
    let session = cookies.iter().any(|c| c.starts_with("dispatch_session="));
    assert_eq!(session, status == StatusCode::SEE_OTHER, "{status}");
    session
}

#[tokio::test]
async fn an_rs256_id_token_is_verified_with_the_providers_jwks_and_hs256_still_works() {
    let provider = start_provider("rita@example.com").await;
    let app = app_with_sso(&provider).await;
    assert!(signs_in(&app).await, "RS256 with the JWKS key k1");
    provider.lock().unwrap().alg = "HS256".into();
    assert!(signs_in(&app).await, "HS256 with the client secret");
    assert!(provider.lock().unwrap().refused.is_empty());
    let log = app.get("/audit?action=sign_in").await.body;
    assert_eq!(log.as_array().unwrap().len(), 2, "{log}");
}

#[tokio::test]
async fn an_rs256_id_token_for_another_audience_expired_badly_signed_or_with_another_nonce_is_refused(
) {
    let provider = start_provider("vic@example.com").await;
    let app = app_with_sso(&provider).await;
    for mode in [
        "wrong_audience",
        "expired",
        "bad_signature",
        "other_key",
        "wrong_nonce",
    ] {
        provider.lock().unwrap().mode = mode.into();
        assert!(!signs_in(&app).await, "{mode} was accepted");
    }
    let users = app.get("/users").await.body.to_string();
    assert!(
        !users.contains("vic@example.com") && !users.contains("mallory"),
        "{users}"
    );
    provider.lock().unwrap().mode = "ok".into();
    assert!(signs_in(&app).await, "a good token still signs in");
}

#[tokio::test]
async fn each_refused_id_token_is_refused_for_its_own_reason_and_clocks_may_be_a_minute_apart() {
    let provider = start_provider("wes@example.com").await;
    let app = app_with_sso(&provider).await;
    for (mode, reason) in [
        ("wrong_audience", "the ID token is for another client"),
        ("expired", "the ID token has expired"),
        ("bad_signature", "bad ID token signature"),
        ("other_key", "bad ID token signature"),
        ("wrong_nonce", "the ID token's nonce does not match"),
    ] {
        provider.lock().unwrap().mode = mode.into();
        let (callback, flow) = to_callback(&app).await;
        let res = reqwest::Client::new()
            .get(&callback)
            .header("cookie", flow[0].split(';').next().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{mode}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains(&format!("single sign-on failed: {reason}")),
            "{mode}: {body}"
        );
    }
    provider.lock().unwrap().mode = "expired_30s_ago".into();
    assert!(signs_in(&app).await, "expired 30 s ago: within a minute");
    assert!(provider.lock().unwrap().refused.is_empty());
}

#[tokio::test]
async fn single_sign_on_refuses_a_forged_state_a_foreign_audience_and_a_bad_signature() {
    let provider = start_provider("pia@example.com").await;
    provider.lock().unwrap().alg = "HS256".into();
    let app = app_with_sso(&provider).await;
    let (callback, flow) = to_callback(&app).await;
    let forged = callback.replace("state=", "state=x");
    assert_eq!(visit(&forged, &flow).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        visit(&callback, &[]).await.0,
        StatusCode::FORBIDDEN,
        "no sign-in under way in this browser"
    );
    for mode in ["wrong_audience", "bad_signature"] {
        provider.lock().unwrap().mode = mode.into();
        let (callback, flow) = to_callback(&app).await;
        let (status, _, cookies) = visit(&callback, &flow).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{mode}");
        assert!(cookies.iter().all(|c| !c.starts_with("dispatch_session=")));
    }
    let users = app.get("/users").await.body;
    assert!(!users.to_string().contains("pia@example.com"));
}

#[tokio::test]
async fn the_trusted_header_counts_only_from_the_configured_proxies() {
    let header = |proxy: &str| {
        let proxy = proxy.parse().unwrap();
        move |_: &str| dispatch_web::WebAuth {
            trusted: dispatch_web::trusted::TrustedHeader {
                header: Some("X-Forwarded-Email".into()),
                proxies: vec![proxy],
            },
            ..Default::default()
        }
    };
    let behind = TestApp::builder().auth(header("127.0.0.1")).spawn().await;
    let me = |app: &TestApp| {
        app.http
            .get(format!("{}/api/v1/me", app.base))
            .header("x-forwarded-email", "Quinn@example.com")
            .send()
    };
    let r = me(&behind).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["email"], "quinn@example.com");
    assert_eq!(body["role"], "member");

    let elsewhere = TestApp::builder().auth(header("10.9.8.7")).spawn().await;
    assert_eq!(
        me(&elsewhere).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let off = crate::common::spawn_app().await;
    assert_eq!(me(&off).await.unwrap().status(), StatusCode::UNAUTHORIZED);
}
