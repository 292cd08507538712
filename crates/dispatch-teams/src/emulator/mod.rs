//! An emulator of the Microsoft services the Teams transport talks to, for tests, following
//! Microsoft's public docs: the Bot Framework's OpenID metadata and signing keys (with an RSA
//! key it signs Bot Connector tokens with), the identity platform's client-credentials token
//! endpoint, the Bot Connector's conversations API, and the Graph calls Dispatch makes (a team's
//! channels, members and tabs, archive/unarchive, users). Collections are paged with
//! `@odata.nextLink`; Graph can be told to answer 429 with `Retry-After`. Every call is recorded.

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use ring::signature::{RsaKeyPair, RsaPublicKeyComponents, RSA_PKCS1_SHA256};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

mod connector;
mod graph;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
/// The kid the emulator publishes its key under.
pub const KID: &str = "emu-key-1";

/// One recorded call.
#[derive(Debug, Clone)]
pub struct Call {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path (and query).
    pub path: String,
    /// The JSON body, if any.
    pub body: Value,
}

/// A website tab.
#[derive(Debug, Clone, Default)]
pub struct Tab {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Where it points.
    pub url: String,
}

/// A channel of the team.
#[derive(Debug, Clone, Default)]
pub struct Channel {
    /// `19:…@thread.tacv2`.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// `standard` or `private`.
    pub membership: String,
    /// Archived.
    pub archived: bool,
    /// Members (AAD object ids) of a private channel, owners first.
    pub members: Vec<String>,
    /// Its tabs.
    pub tabs: Vec<Tab>,
    /// The bot's posts: (activity id, activity).
    pub posts: Vec<(String, Value)>,
}

#[derive(Default)]
struct Inner {
    base: String,
    tenant: String,
    team: String,
    channels: Vec<Channel>,
    team_members: Vec<String>,
    /// (AAD object id, e-mail, name).
    users: Vec<(String, String, String)>,
    /// One-to-one conversations: (conversation id, user).
    direct: Vec<(String, String)>,
    /// Activities the bot sent anywhere: (conversation, reply-to, activity).
    sent: Vec<(String, Option<String>, Value)>,
    calls: Vec<Call>,
    tokens: HashMap<String, &'static str>,
    rate_limit: u32,
    page_size: usize,
    next: u32,
}

/// The emulator: one bot app, one tenant, one team.
#[derive(Clone)]
pub struct Emulator {
    app_id: String,
    password: String,
    /// The published signing key and its kid (rotated by [`Emulator::rotate_key`]).
    key: Arc<Mutex<(Arc<RsaKeyPair>, String)>>,
    inner: Arc<Mutex<Inner>>,
}

pub(super) fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

impl Emulator {
    /// An emulator of bot `app_id` (password `password`) in `tenant`, team `team`, signing
    /// tokens with `key_der` (an RSA private key, PKCS#1 DER).
    pub fn new(app_id: &str, password: &str, tenant: &str, team: &str, key_der: &[u8]) -> Self {
        Self {
            app_id: app_id.into(),
            password: password.into(),
            key: Arc::new(Mutex::new((
                Arc::new(RsaKeyPair::from_der(key_der).expect("an RSA key (PKCS#1 DER)")),
                KID.to_string(),
            ))),
            inner: Arc::new(Mutex::new(Inner {
                tenant: tenant.into(),
                team: team.into(),
                page_size: 2,
                ..Default::default()
            })),
        }
    }

    /// Adds a user of the directory; their AAD object id.
    pub fn add_user(&self, email: &str, name: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        inner.next += 1;
        let id = format!("00000000-0000-0000-0000-{:012}", inner.next);
        inner.users.push((id.clone(), email.into(), name.into()));
        id
    }

    /// Adds a channel made elsewhere (to page past).
    pub fn add_channel(&self, name: &str) {
        let mut inner = self.inner.lock().unwrap();
        inner.next += 1;
        let id = format!("19:other{}@thread.tacv2", inner.next);
        inner.channels.push(Channel {
            id,
            name: name.into(),
            membership: "standard".into(),
            ..Default::default()
        });
    }

    /// The one-to-one conversation of the bot with `user` (as Teams opens it when the user
    /// writes to the bot first).
    pub fn personal_conversation(&self, user: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        let id = format!("a:direct-{user}");
        if !inner.direct.iter().any(|d| d.0 == id) {
            inner.direct.push((id.clone(), user.into()));
        }
        id
    }

    /// Answers the next `n` Graph calls with 429 and `Retry-After: 1`.
    pub fn rate_limit_next(&self, n: u32) {
        self.inner.lock().unwrap().rate_limit = n;
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().unwrap().calls.clone()
    }

    /// Every channel.
    pub fn channels(&self) -> Vec<Channel> {
        self.inner.lock().unwrap().channels.clone()
    }

    /// The team's members (AAD object ids).
    pub fn team_members(&self) -> Vec<String> {
        self.inner.lock().unwrap().team_members.clone()
    }

    /// Every activity the bot sent: (conversation, the activity it replied to, the activity).
    pub fn sent(&self) -> Vec<(String, Option<String>, Value)> {
        self.inner.lock().unwrap().sent.clone()
    }

    /// The service URL activities carry (the connector's base).
    pub fn service_url(&self) -> String {
        format!("{}/connector/", self.inner.lock().unwrap().base)
    }

    /// The OpenID metadata URL.
    pub fn openid_url(&self) -> String {
        format!("{}/botframework/openid", self.inner.lock().unwrap().base)
    }

    /// The login base (`{login}/{tenant}/oauth2/v2.0/token`).
    pub fn login_url(&self) -> String {
        format!("{}/login", self.inner.lock().unwrap().base)
    }

    /// Graph's base.
    pub fn graph_url(&self) -> String {
        format!("{}/graph/v1.0", self.inner.lock().unwrap().base)
    }

    /// A JWT with `claims`, signed RS256 by `key` under `kid`.
    pub fn sign_with(key: &RsaKeyPair, kid: &str, claims: &Value) -> String {
        let head = B64.encode(json!({"alg": "RS256", "typ": "JWT", "kid": kid}).to_string());
        let body = B64.encode(claims.to_string());
        let signed = format!("{head}.{body}");
        let mut sig = vec![0; key.public().modulus_len()];
        key.sign(
            &RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            signed.as_bytes(),
            &mut sig,
        )
        .expect("sign");
        format!("{signed}.{}", B64.encode(sig))
    }

    /// The claims of a good Bot Connector token for this bot and `service_url`, valid for an
    /// hour from now.
    pub fn claims(&self, service_url: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({"iss": crate::auth::ISSUER, "aud": self.app_id, "serviceUrl": service_url,
            "nbf": now - 10, "exp": now + 3600, "iat": now - 10})
    }

    /// Rotates the signing key, as the Bot Framework does: `key_der` (PKCS#1 DER) is published
    /// under `kid` instead of the old key, and tokens are signed with it from now on.
    pub fn rotate_key(&self, key_der: &[u8], kid: &str) {
        let key = RsaKeyPair::from_der(key_der).expect("an RSA key (PKCS#1 DER)");
        *self.key.lock().unwrap() = (Arc::new(key), kid.to_string());
    }

    /// A JWT with `claims` signed by the emulator's published key.
    pub fn sign(&self, claims: &Value) -> String {
        let (key, kid) = self.key.lock().unwrap().clone();
        Self::sign_with(&key, &kid, claims)
    }

    /// A good Bot Connector token for activities from the emulator's service URL.
    pub fn bot_token(&self) -> String {
        self.sign(&self.claims(&self.service_url()))
    }

    /// The HTTP app.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/botframework/openid", get(openid))
            .route("/botframework/keys", get(keys))
            .route("/login/{tenant}/oauth2/v2.0/token", post(token))
            .route(
                "/connector/v3/conversations",
                post(connector::create_conversation),
            )
            .route(
                "/connector/v3/conversations/{conversation}/activities",
                post(connector::send_activity),
            )
            .route(
                "/connector/v3/conversations/{conversation}/activities/{activity}",
                post(connector::reply_activity).put(connector::update_activity),
            )
            .route(
                "/connector/v3/conversations/{conversation}/members/{member}",
                get(connector::member),
            )
            .fallback(graph::graph)
            .with_state(self.clone())
    }

    /// Serves the emulator on 127.0.0.1 (an ephemeral port); its base URL.
    pub async fn spawn(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the Microsoft emulator");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        self.inner.lock().unwrap().base = base.clone();
        let app = self.router();
        tokio::spawn(async move { axum::serve(listener, app).await });
        base
    }

    fn record(&self, method: &str, path: &str, body: &Value) {
        self.inner.lock().unwrap().calls.push(Call {
            method: method.into(),
            path: path.into(),
            body: body.clone(),
        });
    }

    /// The kind of token (`bot` or `graph`) the request's bearer is, if it is one issued here.
    fn bearer(&self, headers: &HeaderMap) -> Option<&'static str> {
        let token = headers
            .get("authorization")?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?;
        self.inner.lock().unwrap().tokens.get(token).copied()
    }
}

async fn openid(State(emu): State<Emulator>) -> Json<Value> {
    let base = emu.inner.lock().unwrap().base.clone();
    Json(json!({
        "issuer": crate::auth::ISSUER,
        "authorization_endpoint": "https://invalid.botframework.com",
        "jwks_uri": format!("{base}/botframework/keys"),
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
    }))
}

async fn keys(State(emu): State<Emulator>) -> Json<Value> {
    emu.record("GET", "/botframework/keys", &Value::Null);
    let (key, kid) = emu.key.lock().unwrap().clone();
    let public = RsaPublicKeyComponents::<Vec<u8>>::from(key.public());
    Json(json!({"keys": [{
        "kty": "RSA", "use": "sig", "kid": kid,
        "n": B64.encode(&public.n), "e": B64.encode(&public.e),
        "endorsements": ["msteams", "webchat"],
    }]}))
}

async fn token(
    State(emu): State<Emulator>,
    Path(tenant): Path<String>,
    Form(f): Form<BTreeMap<String, String>>,
) -> Response {
    let arg = |k: &str| f.get(k).cloned().unwrap_or_default();
    emu.record(
        "POST",
        &format!("/login/{tenant}/oauth2/v2.0/token"),
        &json!(arg("scope")),
    );
    let oauth = |status: StatusCode, error: &str, description: &str| {
        (
            status,
            Json(json!({"error": error, "error_description": description})),
        )
            .into_response()
    };
    if arg("grant_type") != "client_credentials" {
        return oauth(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "AADSTS70003",
        );
    }
    if arg("client_id") != emu.app_id || arg("client_secret") != emu.password {
        return oauth(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
        );
    }
    let mut inner = emu.inner.lock().unwrap();
    let kind = match (tenant.as_str(), arg("scope").as_str()) {
        ("botframework.com", "https://api.botframework.com/.default") => "bot",
        (t, "https://graph.microsoft.com/.default") if t == inner.tenant => "graph",
        _ => {
            drop(inner);
            return oauth(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "AADSTS70011: The provided value for scope is not valid.",
            );
        }
    };
    inner.next += 1;
    let token = format!("{kind}-token-{}", inner.next);
    inner.tokens.insert(token.clone(), kind);
    Json(
        json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
        "access_token": token}),
    )
    .into_response()
}
