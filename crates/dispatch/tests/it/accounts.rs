//! Accounts end to end: set-up links and local passwords, web sessions (cookie attributes, CSRF,
//! sign-out, idle and absolute timeouts, rate limiting, no user enumeration), API tokens over the
//! API (scopes, prefix-only listing, last use, revocation), disabling, roles and the audit log.

use crate::common::{spawn_app, TestApp};
use dispatch_engine::accounts::session::SessionSettings;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const PASSWORD: &str = "violet kettle drumbeat";

/// A user created by the owner, with their password set through the set-up link.
async fn person(app: &TestApp, email: &str, role: &str) -> Value {
    app.person_with_password(email, role, PASSWORD).await
}

/// Signs in; answers the status, the JSON body and the session cookie's `Set-Cookie`.
async fn sign_in(
    app: &TestApp,
    email: &str,
    password: &str,
) -> (StatusCode, Value, Option<String>) {
    let res = app
        .http
        .post(format!("{}/auth/login", app.base))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("dispatch_session="))
        .map(str::to_string);
    let body = res.json().await.unwrap_or(Value::Null);
    (status, body, cookie)
}

/// A request with a session cookie (and a CSRF token, when given).
async fn with_cookie(
    app: &TestApp,
    cookie: &str,
    csrf: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let pair = cookie.split(';').next().unwrap();
    let mut req = app
        .http
        .request(method, format!("{}{path}", app.base))
        .header("cookie", pair);
    if let Some(t) = csrf {
        req = req.header("x-csrf-token", t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_person_sets_a_password_from_the_link_signs_in_with_a_session_and_signs_out() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/users",
            json!({"email": "Ann@Example.com", "role": "member"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["email"], "ann@example.com");
    assert_eq!(r.body["has_password"], false);
    let link = r.body["setup_link"].as_str().unwrap();
    assert!(link.contains("/auth/setup?token="), "{link}");
    let token = link.split("token=").nth(1).unwrap();
    let path = &link[link.find("/auth/setup").unwrap()..];
    let page = app
        .http
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains(token));
    for weak in ["short", "password1234", "ann@example.com!!"] {
        let r = app
            .call_url(
                None,
                Method::POST,
                "/auth/setup",
                Some(json!({"token": token, "password": weak})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{weak}");
        assert_eq!(crate::common::error_fields(&r.body), ["password"]);
    }
    let set = |t: &str| {
        app.call_url(
            None,
            Method::POST,
            "/auth/setup",
            Some(json!({"token": t, "password": PASSWORD})),
        )
    };
    assert_eq!(set(token).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        set(token).await.status,
        StatusCode::NOT_FOUND,
        "a set-up link works once"
    );

    let (status, body, cookie) = sign_in(&app, "ANN@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cookie = cookie.expect("a session cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "no Secure flag over plain http");
    let csrf = body["csrf_token"].as_str().unwrap().to_string();
    let (status, me) = with_cookie(&app, &cookie, None, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], "ann@example.com");
    assert_eq!(me["role"], "member");
    assert_eq!(me["csrf_token"], csrf.as_str());

    let declare = json!({"title": "From the browser", "description": "d"});
    let (status, body) = with_cookie(
        &app,
        &cookie,
        None,
        Method::POST,
        "/api/v1/incidents",
        Some(declare.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token: {body}");
    let (status, _) = with_cookie(
        &app,
        &cookie,
        Some("wrong"),
        Method::POST,
        "/api/v1/incidents",
        Some(declare.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = with_cookie(
        &app,
        &cookie,
        Some(&csrf),
        Method::POST,
        "/api/v1/incidents",
        Some(declare),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["reporter"]["email"], "ann@example.com");
    let events = app.get("/incidents/INC-1/timeline").await.body;
    assert_eq!(events[0]["transport"], "web");

    let (status, _) = with_cookie(
        &app,
        &cookie,
        Some(&csrf),
        Method::POST,
        "/auth/logout",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = with_cookie(&app, &cookie, None, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session was revoked");
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn a_failed_sign_in_says_the_same_for_unknown_people_wrong_passwords_and_disabled_accounts() {
    let app = spawn_app().await;
    person(&app, "bob@example.com", "member").await;
    person(&app, "cy@example.com", "member").await;
    let users = app.get("/users").await.body;
    let cy = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "cy@example.com")
        .unwrap()["id"]
        .clone();
    let r = app
        .patch(&format!("/users/{cy}"), json!({"disabled": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let unknown = sign_in(&app, "nobody@example.com", PASSWORD).await;
    let wrong = sign_in(&app, "bob@example.com", "not the password").await;
    let disabled = sign_in(&app, "cy@example.com", PASSWORD).await;
    for (status, body, cookie) in [&unknown, &wrong, &disabled] {
        assert_eq!(*status, StatusCode::UNAUTHORIZED);
        assert!(cookie.is_none());
        assert_eq!(*body, unknown.1);
    }
    assert_eq!(unknown.1["error"]["message"], "wrong e-mail or password");
    // A form sign-in answers with a redirect (never to another site).
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = no_redirect
        .post(format!("{}/auth/login", app.base))
        .form(&[
            ("email", "bob@example.com"),
            ("password", PASSWORD),
            ("next", "//evil.example.com/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/");
    assert!(res.headers().get("set-cookie").is_some());
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_refused_with_a_clear_429() {
    let app = spawn_app().await;
    person(&app, "dee@example.com", "member").await;
    for _ in 0..5 {
        let (status, _, _) = sign_in(&app, "dee@example.com", "guess guess guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let res = app
        .http
        .post(format!("{}/auth/login", app.base))
        .json(&json!({"email": "dee@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= 900);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests");
    // Another person is not locked out by it.
    person(&app, "eli@example.com", "member").await;
    assert_eq!(
        sign_in(&app, "eli@example.com", PASSWORD).await.0,
        StatusCode::OK
    );
}

/// Another server on the same database, as a second replica would be: its own connections,
/// its own engine and web layer. Answers its base URL.
async fn replica(app: &TestApp) -> String {
    let db = app.db.open().await;
    let engine = dispatch_engine::Engine::new(db);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let web = dispatch_web::app_with(engine, dispatch_web::WebOptions::default())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, web).await.unwrap() });
    base
}

async fn sign_in_at(
    base: &str,
    email: &str,
    password: &str,
) -> (StatusCode, Value, Option<String>) {
    let res = reqwest::Client::new()
        .post(format!("{base}/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, res.json().await.unwrap_or(Value::Null), retry)
}

#[tokio::test]
async fn the_sign_in_limit_holds_across_replicas_and_restarts_and_tells_no_one_who_exists() {
    let app = spawn_app().await;
    person(&app, "dee@example.com", "member").await;
    let (a, b) = (app.base.clone(), replica(&app).await);
    // Five failures, spread over two replicas, use up the e-mail's allowance on both.
    for (i, base) in [&a, &b, &a, &b, &a].into_iter().enumerate() {
        let (status, body, _) = sign_in_at(base, "dee@example.com", "guess guess guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}: {body}");
    }
    for base in [&a, &b] {
        let (status, body, retry) = sign_in_at(base, "dee@example.com", PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["error"]["code"], "too_many_requests");
        let wait: u64 = retry.expect("Retry-After").parse().unwrap();
        assert!(wait > 0 && wait <= 900, "{wait}");
    }
    // A replica started afterwards (a restart) still refuses.
    let c = replica(&app).await;
    assert_eq!(
        sign_in_at(&c, "dee@example.com", PASSWORD).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // No enumeration: an unknown account fails and is limited exactly like a known one.
    person(&app, "eli@example.com", "member").await;
    let known = sign_in_at(&a, "eli@example.com", "wrong wrong wrong").await;
    let unknown = sign_in_at(&b, "nobody@example.com", "wrong wrong wrong").await;
    assert_eq!(known.0, StatusCode::UNAUTHORIZED);
    assert_eq!((known.0, &known.1), (unknown.0, &unknown.1));
    for base in [&a, &b, &c, &a] {
        sign_in_at(base, "nobody@example.com", "wrong wrong wrong").await;
    }
    assert_eq!(
        sign_in_at(&c, "nobody@example.com", "wrong wrong wrong")
            .await
            .0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Nothing in the database names who tried.
    let keys =
        dispatch_store::testing::column(app.engine.db(), "SELECT key_hash FROM login_throttle")
            .await;
    assert!(!keys.is_empty());
    for key in keys.into_iter().flatten() {
        assert!(!key.contains('@') && key.len() == 64, "{key}");
    }
}

async fn me(app: &TestApp, cookie: String) -> StatusCode {
    with_cookie(app, &cookie, None, Method::GET, "/api/v1/me", None)
        .await
        .0
}

#[tokio::test]
async fn sessions_end_when_idle_too_long_and_at_their_absolute_end() {
    let idle = TestApp::builder()
        .sessions(SessionSettings {
            idle: chrono::TimeDelta::seconds(1),
            lifetime: chrono::TimeDelta::hours(1),
        })
        .spawn()
        .await;
    person(&idle, "fay@example.com", "member").await;
    let (_, _, cookie) = sign_in(&idle, "fay@example.com", PASSWORD).await;
    let cookie = cookie.unwrap();
    assert_eq!(me(&idle, cookie.clone()).await, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(me(&idle, cookie).await, StatusCode::UNAUTHORIZED);

    let short = TestApp::builder()
        .sessions(SessionSettings {
            idle: chrono::TimeDelta::hours(1),
            lifetime: chrono::TimeDelta::seconds(1),
        })
        .spawn()
        .await;
    person(&short, "fay@example.com", "member").await;
    let (_, _, cookie) = sign_in(&short, "fay@example.com", PASSWORD).await;
    let cookie = cookie.unwrap();
    assert!(cookie.contains("Max-Age="), "{cookie}");
    assert_eq!(me(&short, cookie.clone()).await, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(me(&short, cookie).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn api_tokens_are_scoped_listed_by_prefix_recorded_when_used_and_revocable() {
    let app = spawn_app().await;
    let mia = app.token_with("mia@example.com", "member", "write").await;
    let mint = |scope: &str| {
        app.call_as(
            Some(&mia),
            Method::POST,
            "/tokens",
            Some(json!({"name": "ci", "scope": scope})),
        )
    };
    let r = mint("admin").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(crate::common::error_fields(&r.body), ["scope"]);
    let r = mint("read").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let read = r.body["token"].as_str().unwrap().to_string();
    assert!(read.starts_with("dsp_") && read.starts_with(r.body["prefix"].as_str().unwrap()));
    let id = r.body["id"].as_i64().unwrap();

    let listed = app
        .call_as(Some(&mia), Method::GET, "/tokens", None)
        .await
        .body;
    let text = listed.to_string();
    assert!(!text.contains(&read), "the list shows prefixes only");
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["owner"] == "mia@example.com" && t.get("token").is_none()));
    assert!(listed[0]["last_used_at"].is_null());

    let r = app
        .call_as(Some(&read), Method::GET, "/incidents", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .call_as(
            Some(&read),
            Method::POST,
            "/incidents",
            Some(json!({"title": "t", "description": "d"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a read token cannot write");
    // When a token was last used is written beside the request, not before its answer: look
    // until it shows (a few seconds at most).
    let mut used = Value::Null;
    for _ in 0..100 {
        let listed = app
            .call_as(Some(&mia), Method::GET, "/tokens", None)
            .await
            .body;
        used = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap()
            .clone();
        if used["last_used_at"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(used["last_used_at"].is_string(), "{used}");

    // Other people's tokens are not the member's to revoke; their own are.
    let other = app.token_with("ned@example.com", "member", "write").await;
    let others = app
        .call_as(Some(&other), Method::GET, "/tokens", None)
        .await
        .body;
    let r = app
        .call_as(
            Some(&mia),
            Method::DELETE,
            &format!("/tokens/{}", others[0]["id"]),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .call_as(Some(&mia), Method::DELETE, &format!("/tokens/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["revoked_at"].is_string());
    let r = app
        .call_as(Some(&read), Method::GET, "/incidents", None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "a revoked token is 401");

    let r = app
        .call_as(
            Some(&mia),
            Method::POST,
            "/tokens",
            Some(json!({"expires_at": "2001-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(crate::common::error_fields(&r.body), ["expires_at"]);
    let r = app
        .call_as(Some(&mia), Method::GET, "/tokens?all=true", None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn admins_mint_tokens_for_service_accounts_and_a_disabled_account_stops_working() {
    let app = spawn_app().await;
    let mia = app.token_with("mia@example.com", "member", "admin").await;
    let r = app
        .call_as(
            Some(&mia),
            Method::POST,
            "/tokens",
            Some(json!({"service_account": "ci-bot@example.com"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(
            "/tokens",
            json!({"name": "ci", "scope": "write", "service_account": "ci-bot@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["owner"], "ci-bot@example.com");
    let bot = r.body["token"].as_str().unwrap().to_string();
    let r = app
        .call_as(
            Some(&bot),
            Method::POST,
            "/incidents",
            Some(json!({"title": "From CI", "description": "d"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let users = app.get("/users").await.body;
    let bot_user = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "ci-bot@example.com")
        .unwrap();
    assert_eq!(bot_user["kind"], "service");
    assert_eq!(
        sign_in(&app, "ci-bot@example.com", PASSWORD).await.0,
        StatusCode::UNAUTHORIZED,
        "service accounts do not sign in"
    );
    let r = app
        .patch(
            &format!("/users/{}", bot_user["id"]),
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["disabled"], true);
    let r = app
        .call_as(Some(&bot), Method::GET, "/incidents", None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .post(
            "/tokens",
            json!({"name": "ci-2", "service_account": "ci-bot@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("disabled"));
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn only_owners_change_roles_and_the_last_owner_stays() {
    let app = spawn_app().await;
    let ada = app.token_with("ada@example.com", "admin", "admin").await;
    let users = app.get("/users").await.body;
    let find = |email: &str| {
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == email)
            .unwrap()["id"]
            .clone()
    };
    let (owner, admin) = (find("admin@example.com"), find("ada@example.com"));
    let r = app
        .call_as(
            Some(&ada),
            Method::PATCH,
            &format!("/users/{admin}"),
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "admins cannot promote themselves"
    );
    let r = app
        .patch(&format!("/users/{owner}"), json!({"role": "member"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    let r = app
        .patch(&format!("/users/{admin}"), json!({"role": "manager"}))
        .await;
    assert_eq!(r.body["role"], "manager");
    let r = app
        .call_as(
            Some(&ada),
            Method::POST,
            "/projects",
            Some(json!({"name": "Security", "slug": "security", "key_prefix": "SEC"})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "managers create projects: {:?}",
        r.body
    );
    let r = app
        .patch(&format!("/users/{admin}"), json!({"role": "boss"}))
        .await;
    assert_eq!(crate::common::error_fields(&r.body), ["role"]);
}

#[tokio::test]
async fn the_audit_log_records_sign_ins_token_writes_and_permission_changes_for_admins() {
    let app = spawn_app().await;
    person(&app, "gus@example.com", "member").await;
    sign_in(&app, "gus@example.com", "wrong wrong wrong").await;
    sign_in(&app, "gus@example.com", PASSWORD).await;
    app.post("/incidents", json!({"title": "t", "description": "d"}))
        .await;
    // A refused write changes nothing and leaves no entry.
    let refused = app.post("/incidents", json!({"title": ""})).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.post("/projects/default/tags", json!({"name": "audited"}))
        .await;
    let users = app.get("/users").await.body;
    let gus = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "gus@example.com")
        .unwrap()["id"]
        .clone();
    app.patch(&format!("/users/{gus}"), json!({"role": "admin"}))
        .await;
    let log = app.get("/audit?limit=100").await.body;
    let entries = log.as_array().unwrap();
    let has = |action: &str, outcome: &str, f: &dyn Fn(&Value) -> bool| {
        entries
            .iter()
            .any(|e| e["action"] == action && e["outcome"] == outcome && f(e))
    };
    assert!(has("sign_in", "failed", &|e| e["actor"] == "gus@example.com"));
    assert!(has("sign_in", "ok", &|e| e["source_addr"] == "127.0.0.1"));
    assert!(has("api.write", "ok", &|e| {
        e["target"] == "POST /api/v1/incidents"
            && e["actor"] == "admin@example.com"
            && e["credential"].as_str().unwrap().starts_with("token")
    }));
    // One entry per change, written in the change's own transaction.
    let declares: Vec<_> = entries
        .iter()
        .filter(|e| e["target"] == "POST /api/v1/incidents")
        .collect();
    assert_eq!(declares.len(), 1, "{declares:?}");
    assert_eq!(declares[0]["details"]["status"], "committed");
    assert!(has("config.changed", "ok", &|e| e["target"]
        == "POST /api/v1/projects/default/tags"));
    assert!(has("user.role_changed", "ok", &|e| e["details"]["to"]
        == "admin"
        && e["target"] == "gus@example.com"));
    assert!(has("user.created", "ok", &|e| e["target"] == "gus@example.com"));
    assert!(entries
        .windows(2)
        .all(|w| w[0]["id"].as_i64() > w[1]["id"].as_i64()));
    let only = app.get("/audit?action=sign_in").await.body;
    assert!(only
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["action"] == "sign_in"));
    let mia = app.token_with("mia@example.com", "member", "admin").await;
    let r = app.call_as(Some(&mia), Method::GET, "/audit", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn creating_a_user_that_exists_is_a_conflict_and_leaves_the_account_as_it_was() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/users",
            json!({"email": "owen@example.com", "role": "owner"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let first_link = r.body["setup_link"].as_str().unwrap().to_string();
    person(&app, "pat@example.com", "member").await;
    let r = app
        .post(
            "/users",
            json!({"email": "bot@example.com", "kind": "service"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    // Without a password (the test's owner too), with one, and a service account: all 409.
    for (email, role, kind) in [
        ("owen@example.com", "member", "person"),
        ("Owen@Example.com", "owner", "person"),
        ("admin@example.com", "member", "person"),
        ("pat@example.com", "owner", "person"),
        ("bot@example.com", "admin", "service"),
        ("bot@example.com", "member", "person"),
    ] {
        let r = app
            .post(
                "/users",
                json!({"email": email, "role": role, "kind": kind}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{email}: {:?}", r.body);
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("already has an account"), "{message}");
        assert!(r.body.get("setup_link").is_none());
    }
    for (email, role) in [
        ("owen@example.com", "owner"),
        ("admin@example.com", "owner"),
        ("pat@example.com", "member"),
        ("bot@example.com", "member"),
    ] {
        assert_eq!(app.user(email).await["role"], role, "{email}");
    }
    let created = app.get("/audit?action=user.created").await.body;
    let owen: Vec<_> = created
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == "owen@example.com")
        .collect();
    assert_eq!(owen.len(), 1, "{created}");
    // No fresh link was issued: the first one still works.
    let r = app.choose_password(&first_link, PASSWORD).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
}

#[tokio::test]
async fn the_last_enabled_owner_can_be_neither_demoted_nor_disabled() {
    let app = spawn_app().await;
    let admin = app.user("admin@example.com").await["id"].clone();
    for change in [json!({"role": "member"}), json!({"disabled": true})] {
        let r = app.patch(&format!("/users/{admin}"), change.clone()).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{change}: {:?}", r.body);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("last owner"),
            "{:?}",
            r.body
        );
    }
    // A disabled owner does not count as the other owner.
    app.post(
        "/users",
        json!({"email": "owen@example.com", "role": "owner"}),
    )
    .await;
    let owen = app.user("owen@example.com").await["id"].clone();
    let r = app
        .patch(&format!("/users/{owen}"), json!({"disabled": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app
        .patch(&format!("/users/{admin}"), json!({"role": "admin"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    // With another enabled owner, the role changes, and the audit log says from what to what.
    app.patch(&format!("/users/{owen}"), json!({"disabled": false}))
        .await;
    let r = app
        .patch(&format!("/users/{owen}"), json!({"role": "manager"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["role"], "manager");
    let log = app.get("/audit?action=user.role_changed").await.body;
    assert_eq!(log[0]["target"], "owen@example.com", "{log}");
    assert_eq!(log[0]["details"], json!({"from": "owner", "to": "manager"}));
    assert_eq!(app.user("admin@example.com").await["role"], "owner");
}

#[tokio::test]
async fn an_owner_issues_a_fresh_set_up_link_only_to_a_person_without_a_password() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/users",
            json!({"email": "nia@example.com", "role": "admin"}),
        )
        .await;
    let old = r.body["setup_link"].as_str().unwrap().to_string();
    let nia = r.body["id"].clone();
    let r = app
        .post(&format!("/users/{nia}/setup-link"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["role"], "admin", "the role is left as it was");
    let new = r.body["setup_link"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(
        app.choose_password(&old, PASSWORD).await.status,
        StatusCode::NOT_FOUND,
        "the old link stopped working"
    );
    assert_eq!(
        app.choose_password(&new, PASSWORD).await.status,
        StatusCode::NO_CONTENT
    );
    let r = app
        .post(&format!("/users/{nia}/setup-link"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("already has a password"));
    let r = app
        .post(
            "/users",
            json!({"email": "bot@example.com", "kind": "service"}),
        )
        .await;
    let r = app
        .post(&format!("/users/{}/setup-link", r.body["id"]), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    let r = app.post("/users/9999/setup-link", json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let mia = app.token_with("mia@example.com", "admin", "admin").await;
    let r = app
        .call_as(
            Some(&mia),
            Method::POST,
            &format!("/users/{nia}/setup-link"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "owners only");
    let log = app.get("/audit?action=user.setup_link_issued").await.body;
    assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
    assert_eq!(log[0]["target"], "nia@example.com");
}

/// Authenticates `token` on `engine` until `done` holds for the answer; panics after 5 s.
async fn authenticate_until(
    engine: &dispatch_engine::Engine,
    token: &str,
    what: &str,
    done: impl Fn(&Option<dispatch_engine::access::Authenticated>) -> bool,
) -> Option<dispatch_engine::access::Authenticated> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let who = engine.credentials().authenticate(token).await.unwrap();
        if done(&who) {
            return who;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: still {who:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_token_seen_by_a_replica_stops_working_there_when_changed_anywhere() {
    let app = spawn_app().await;
    let mia = app.token_with("mia@example.com", "member", "write").await;
    // A second replica that hears the database's announcements, as `dispatch serve` does.
    let b = dispatch_engine::Engine::new(app.db.open().await);
    let listener = b.listen_for_announcements();
    let a_listener = app.engine.listen_for_announcements();
    let statements = || b.db().statements_run();
    let who = authenticate_until(&b, &mia, "mia's token works", |w| w.is_some()).await;
    assert_eq!(who.unwrap().actor.email, "mia@example.com");
    if listener.is_some() {
        // PostgreSQL: once listening, a token seen a moment ago is not read again.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let before = statements();
            assert!(b.credentials().authenticate(&mia).await.unwrap().is_some());
            if statements() == before {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the token is read every time"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    // Renamed by any writer (here plain SQL, as an operator would): the replica sees the new name.
    let raw = app.db.open().await;
    let renamed = dispatch_store::testing::execute(
        &raw,
        "UPDATE individuals SET name = 'Mia Renamed' WHERE email = 'mia@example.com'",
    )
    .await;
    assert_eq!(renamed, 1);
    authenticate_until(&b, &mia, "the rename reaches the replica", |w| {
        w.as_ref().is_some_and(|w| w.actor.name == "Mia Renamed")
    })
    .await;

    // Revoked through the other replica's API: refused here too.
    let tokens = app
        .call_as(Some(&mia), Method::GET, "/tokens", None)
        .await
        .body;
    let r = app
        .call_as(
            Some(&mia),
            Method::DELETE,
            &format!("/tokens/{}", tokens[0]["id"]),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    authenticate_until(
        &b,
        &mia,
        "the revocation reaches the replica",
        Option::is_none,
    )
    .await;

    // Disabled through the other replica: every token of the account is refused here.
    let ned = app.token_with("ned@example.com", "member", "write").await;
    for engine in [&b, &app.engine, &b, &app.engine] {
        assert!(engine
            .credentials()
            .authenticate(&ned)
            .await
            .unwrap()
            .is_some());
    }
    let users = app.get("/users").await.body;
    let id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "ned@example.com")
        .unwrap()["id"]
        .clone();
    let r = app
        .patch(&format!("/users/{id}"), json!({"disabled": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    authenticate_until(
        &b,
        &ned,
        "the disabling reaches the replica",
        Option::is_none,
    )
    .await;
    // The replica that made the change refuses at once, without waiting for its announcement.
    let r = app
        .call_as(Some(&ned), Method::GET, "/incidents", None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    for l in [listener, a_listener].into_iter().flatten() {
        l.abort();
    }
}
