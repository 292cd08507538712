//! An emulator of the Microsoft services the Teams transport talks to, for tests, following
//! Microsoft's public docs: the Bot Framework's OpenID metadata and signing keys (with an RSA
//! key it signs Bot Connector tokens with), the identity platform's client-credentials token
//! endpoint, the Bot Connector's conversations API, and the Graph calls Dispatch makes (a team's
//! channels, members and tabs, archive/unarchive, users). Collections are paged with
//! `@odata.nextLink`; Graph can be told to answer 429 with `Retry-After`. Every call is recorded.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use ring::signature::{RsaKeyPair, RsaPublicKeyComponents, RSA_PKCS1_SHA256};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

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

fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
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
            .route("/connector/v3/conversations", post(create_conversation))
            .route(
                "/connector/v3/conversations/{conversation}/activities",
                post(send_activity),
            )
            .route(
                "/connector/v3/conversations/{conversation}/activities/{activity}",
                post(reply_activity).put(update_activity),
            )
            .route(
                "/connector/v3/conversations/{conversation}/members/{member}",
                get(member),
            )
            .fallback(graph)
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

fn connector_auth(emu: &Emulator, headers: &HeaderMap) -> Option<Response> {
    (emu.bearer(headers) != Some("bot")).then(|| {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Authorization has been denied for this request."})),
        )
            .into_response()
    })
}

async fn create_conversation(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    emu.record("POST", "/connector/v3/conversations", &body);
    if let Some(denied) = connector_auth(&emu, &headers) {
        return denied;
    }
    let user = body["members"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut inner = emu.inner.lock().unwrap();
    if !inner.users.iter().any(|u| u.0 == user) {
        return graph_error(
            StatusCode::NOT_FOUND,
            "UserNotFound",
            "the member is not in the tenant",
        );
    }
    let id = match inner.direct.iter().find(|d| d.1 == user) {
        Some(d) => d.0.clone(),
        None => {
            let id = format!("a:direct-{user}");
            inner.direct.push((id.clone(), user));
            id
        }
    };
    Json(json!({"id": id})).into_response()
}

/// Records an activity the bot sent; its id, or the error answer.
fn deliver(
    emu: &Emulator,
    conversation: &str,
    reply_to: Option<String>,
    activity: Value,
) -> Response {
    let mut inner = emu.inner.lock().unwrap();
    inner.next += 1;
    let id = format!("1700000000{:03}", inner.next);
    // A channel's id, or a reply thread in it (`19:…;messageid=…`).
    let channel = conversation.split(';').next().unwrap_or_default();
    if let Some(c) = inner.channels.iter_mut().find(|c| c.id == channel) {
        if c.archived {
            return graph_error(
                StatusCode::FORBIDDEN,
                "ConversationBlockedByUser",
                "the channel is archived",
            );
        }
        c.posts.push((id.clone(), activity.clone()));
    } else if !inner.direct.iter().any(|d| d.0 == conversation) {
        return graph_error(
            StatusCode::NOT_FOUND,
            "ConversationNotFound",
            "no such conversation",
        );
    }
    inner.sent.push((conversation.into(), reply_to, activity));
    Json(json!({"id": id})).into_response()
}

async fn send_activity(
    State(emu): State<Emulator>,
    Path(conversation): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    emu.record(
        "POST",
        &format!("/connector/v3/conversations/{conversation}/activities"),
        &body,
    );
    if let Some(denied) = connector_auth(&emu, &headers) {
        return denied;
    }
    deliver(&emu, &conversation, None, body)
}

async fn reply_activity(
    State(emu): State<Emulator>,
    Path((conversation, activity)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    emu.record(
        "POST",
        &format!("/connector/v3/conversations/{conversation}/activities/{activity}"),
        &body,
    );
    if let Some(denied) = connector_auth(&emu, &headers) {
        return denied;
    }
    deliver(&emu, &conversation, Some(activity), body)
}

async fn update_activity(
    State(emu): State<Emulator>,
    Path((conversation, activity)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    emu.record(
        "PUT",
        &format!("/connector/v3/conversations/{conversation}/activities/{activity}"),
        &body,
    );
    if let Some(denied) = connector_auth(&emu, &headers) {
        return denied;
    }
    let mut inner = emu.inner.lock().unwrap();
    for c in &mut inner.channels {
        if let Some(p) = c.posts.iter_mut().find(|p| p.0 == activity) {
            p.1 = body;
            return Json(json!({"id": activity})).into_response();
        }
    }
    graph_error(
        StatusCode::NOT_FOUND,
        "ActivityNotFound",
        "no such activity",
    )
}

async fn member(
    State(emu): State<Emulator>,
    Path((conversation, member)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    emu.record(
        "GET",
        &format!("/connector/v3/conversations/{conversation}/members/{member}"),
        &Value::Null,
    );
    if let Some(denied) = connector_auth(&emu, &headers) {
        return denied;
    }
    // Members are addressed by their Teams id (`29:…`), which the emulator derives from the
    // AAD object id as `29:{aadObjectId}`.
    let aad = member.strip_prefix("29:").unwrap_or(&member);
    let inner = emu.inner.lock().unwrap();
    match inner.users.iter().find(|u| u.0 == aad) {
        Some((id, email, name)) => Json(json!({"id": member, "aadObjectId": id, "name": name,
            "email": email, "userPrincipalName": email, "tenantId": inner.tenant}))
        .into_response(),
        None => graph_error(
            StatusCode::NOT_FOUND,
            "MemberNotFoundInConversation",
            "no such member",
        ),
    }
}

/// One page of `items` at `skip`, with the next page's link.
fn page(base_url: &str, query: &HashMap<String, String>, items: Vec<Value>, size: usize) -> Value {
    let skip: usize = query
        .get("$skiptoken")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let value: Vec<Value> = items.iter().skip(skip).take(size).cloned().collect();
    let mut out = json!({ "value": value });
    if skip + size < items.len() {
        let mut q: Vec<String> = query
            .iter()
            .filter(|(k, _)| k.as_str() != "$skiptoken")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        q.push(format!("$skiptoken={}", skip + size));
        out["@odata.nextLink"] = json!(format!("{base_url}?{}", q.join("&")));
    }
    out
}

fn channel_json(c: &Channel, base: &str) -> Value {
    json!({"id": c.id, "displayName": c.name, "description": c.description,
        "membershipType": c.membership, "isArchived": c.archived,
        "webUrl": format!("{base}/teams-web/channel/{}", c.id)})
}

async fn graph(
    State(emu): State<Emulator>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = uri.path().to_string();
    emu.record(method.as_str(), &uri.to_string(), &body);
    let Some(rest) = path.strip_prefix("/graph/v1.0/") else {
        return graph_error(StatusCode::NOT_FOUND, "NotFound", "unknown path");
    };
    {
        let mut inner = emu.inner.lock().unwrap();
        if inner.rate_limit > 0 {
            inner.rate_limit -= 1;
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "1")],
                Json(json!({"error": {"code": "TooManyRequests", "message": "Please retry again later."}})),
            )
                .into_response();
        }
    }
    if emu.bearer(&headers) != Some("graph") {
        return graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token is empty or invalid.",
        );
    }
    let segments: Vec<String> = rest.split('/').map(percent_decode).collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let mut inner = emu.inner.lock().unwrap();
    let base = inner.base.clone();
    let url = format!("{base}{path}");
    let size = inner.page_size;
    if let ["users", id] = segs.as_slice() {
        let id = id.to_lowercase();
        return match inner.users.iter().find(|u| u.0 == id || u.1.to_lowercase() == id) {
            Some((id, email, name)) => Json(json!({"id": id, "mail": email,
                "userPrincipalName": email, "displayName": name}))
            .into_response(),
            None => graph_error(StatusCode::NOT_FOUND, "Request_ResourceNotFound",
                "Resource does not exist or one of its queried reference-property objects are not present."),
        };
    }
    let ["teams", team, rest @ ..] = segs.as_slice() else {
        return graph_error(StatusCode::NOT_FOUND, "NotFound", "unknown path");
    };
    if *team != inner.team {
        return graph_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "No team found with Group Id",
        );
    }
    let user_of = |b: &Value| -> Option<String> {
        let bind = b["user@odata.bind"].as_str()?;
        let start = bind.find("users('")? + 7;
        Some(bind[start..].trim_end_matches("')").to_string())
    };
    match (method.as_str(), rest) {
        ("GET", ["channels"]) => {
            let items = inner
                .channels
                .iter()
                .map(|c| channel_json(c, &base))
                .collect();
            Json(page(&url, &query, items, size)).into_response()
        }
        ("POST", ["channels"]) => {
            let name = body["displayName"].as_str().unwrap_or_default().to_string();
            if name.is_empty() || name.chars().count() > 50 {
                return graph_error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "displayName is invalid",
                );
            }
            if inner
                .channels
                .iter()
                .any(|c| c.name.eq_ignore_ascii_case(&name))
            {
                return graph_error(
                    StatusCode::CONFLICT,
                    "NameAlreadyExists",
                    "Channel name already existed",
                );
            }
            let membership = body["membershipType"]
                .as_str()
                .unwrap_or("standard")
                .to_string();
            let mut members = Vec::new();
            if membership == "private" {
                let owner = body["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|m| {
                        m["roles"]
                            .as_array()
                            .is_some_and(|r| r.iter().any(|x| x == "owner"))
                    })
                    .and_then(user_of);
                match owner {
                    Some(o) if inner.users.iter().any(|u| u.0 == o) => members.push(o),
                    _ => {
                        return graph_error(
                            StatusCode::BAD_REQUEST,
                            "BadRequest",
                            "A private channel created with application permissions needs an owner",
                        )
                    }
                }
            }
            inner.next += 1;
            let c = Channel {
                id: format!("19:{:08x}@thread.tacv2", inner.next),
                name,
                description: body["description"].as_str().unwrap_or_default().into(),
                membership,
                members,
                ..Default::default()
            };
            let out = channel_json(&c, &base);
            inner.channels.push(c);
            (StatusCode::CREATED, Json(out)).into_response()
        }
        (m, ["channels", channel, more @ ..]) => {
            let channel = channel.to_string();
            let Some(i) = inner.channels.iter().position(|c| c.id == channel) else {
                return graph_error(StatusCode::NOT_FOUND, "NotFound", "Channel not found");
            };
            let tab_app = format!(
                "{}/graph/v1.0/appCatalogs/teamsApps/{}",
                base,
                crate::graph::WEBSITE_APP
            );
            let users: Vec<String> = inner.users.iter().map(|u| u.0.clone()).collect();
            let next = inner.next + 1;
            let c = &mut inner.channels[i];
            let answer = match (m, more) {
                ("GET", []) => Json(channel_json(c, &base)).into_response(),
                ("PATCH", []) => {
                    if c.archived {
                        return graph_error(
                            StatusCode::FORBIDDEN,
                            "Forbidden",
                            "the channel is archived",
                        );
                    }
                    if let Some(d) = body["description"].as_str() {
                        if d.chars().count() > 1024 {
                            return graph_error(
                                StatusCode::BAD_REQUEST,
                                "BadRequest",
                                "description is too long",
                            );
                        }
                        c.description = d.into();
                    }
                    StatusCode::NO_CONTENT.into_response()
                }
                ("POST", ["members"]) => {
                    if c.membership == "standard" {
                        return graph_error(
                            StatusCode::BAD_REQUEST,
                            "BadRequest",
                            "Members can only be added to private or shared channels",
                        );
                    }
                    let Some(u) = user_of(&body).filter(|u| users.contains(u)) else {
                        return graph_error(StatusCode::NOT_FOUND, "NotFound", "User not found");
                    };
                    if c.members.contains(&u) {
                        return graph_error(StatusCode::CONFLICT, "Conflict", "already a member");
                    }
                    c.members.push(u.clone());
                    (
                        StatusCode::CREATED,
                        Json(json!({"id": format!("m-{u}"), "userId": u})),
                    )
                        .into_response()
                }
                ("GET", ["tabs"]) => {
                    let items = c
                        .tabs
                        .iter()
                        .map(|t| {
                            json!({"id": t.id, "displayName": t.name,
                        "configuration": {"contentUrl": t.url, "websiteUrl": t.url},
                        "teamsApp": {"id": crate::graph::WEBSITE_APP}})
                        })
                        .collect();
                    Json(page(&url, &query, items, size)).into_response()
                }
                ("POST", ["tabs"]) => {
                    if body["teamsApp@odata.bind"].as_str() != Some(tab_app.as_str()) {
                        return graph_error(
                            StatusCode::BAD_REQUEST,
                            "BadRequest",
                            "unknown teamsApp",
                        );
                    }
                    let t = Tab {
                        id: format!("tab-{next}"),
                        name: body["displayName"].as_str().unwrap_or_default().into(),
                        url: body["configuration"]["contentUrl"]
                            .as_str()
                            .unwrap_or_default()
                            .into(),
                    };
                    let out = json!({"id": t.id, "displayName": t.name});
                    c.tabs.push(t);
                    (StatusCode::CREATED, Json(out)).into_response()
                }
                ("PATCH", ["tabs", tab]) => match c.tabs.iter_mut().find(|t| t.id == *tab) {
                    Some(t) => {
                        if let Some(u) = body["configuration"]["contentUrl"].as_str() {
                            t.url = u.into();
                        }
                        Json(json!({"id": t.id, "displayName": t.name})).into_response()
                    }
                    None => graph_error(StatusCode::NOT_FOUND, "NotFound", "Tab not found"),
                },
                ("POST", ["archive"]) | ("POST", ["unarchive"]) => {
                    let archive = more[0] == "archive";
                    if c.archived == archive {
                        return graph_error(
                            StatusCode::BAD_REQUEST,
                            "BadRequest",
                            if archive {
                                "The channel is already archived"
                            } else {
                                "The channel is not archived"
                            },
                        );
                    }
                    c.archived = archive;
                    StatusCode::ACCEPTED.into_response()
                }
                _ => graph_error(StatusCode::NOT_FOUND, "NotFound", "unknown path"),
            };
            inner.next = next;
            answer
        }
        ("POST", ["members"]) => {
            let Some(u) = user_of(&body).filter(|u| inner.users.iter().any(|x| &x.0 == u)) else {
                return graph_error(StatusCode::NOT_FOUND, "NotFound", "User not found");
            };
            if inner.team_members.contains(&u) {
                return graph_error(StatusCode::CONFLICT, "Conflict", "already a member");
            }
            inner.team_members.push(u.clone());
            (
                StatusCode::CREATED,
                Json(json!({"id": format!("m-{u}"), "userId": u})),
            )
                .into_response()
        }
        _ => graph_error(StatusCode::NOT_FOUND, "NotFound", "unknown path"),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
