//! The web UI over HTTP, as a browser without JavaScript uses it: signed-out pages send people to
//! sign in, forms carry the session's CSRF token, mistakes come back beside their fields, lists
//! hide what the caller may not see, and the incident page runs an incident from report to
//! close. (tests/browser.rs walks the same in a real Chromium.)

use crate::common::pages::{signed_in, wait_for, Session, PASSWORD};
use crate::common::{spawn_app, urlencode, TestApp};
use async_trait::async_trait;
use dispatch_core::provider::{
    Created, IncidentContext, ProviderError, ProviderResult, ResourceProvider,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// An answer as a browser sees it (redirects not followed).
#[derive(Debug)]
struct Page {
    status: StatusCode,
    location: Option<String>,
    content_type: String,
    html: String,
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

enum As<'a> {
    Nobody,
    Session(&'a Session),
    Token(&'a str),
}

async fn send(
    app: &TestApp,
    who: As<'_>,
    method: Method,
    path: &str,
    form: &[(&str, &str)],
) -> Page {
    let mut req = browser().request(method.clone(), format!("{}{path}", app.base));
    match who {
        As::Nobody => {}
        As::Session(s) => req = req.header("cookie", &s.cookie),
        As::Token(t) => req = req.bearer_auth(t),
    }
    if method == Method::POST {
        let body: Vec<String> = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect();
        req = req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.join("&"));
    }
    let res = req.send().await.unwrap();
    Page {
        status: res.status(),
        location: res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(String::from),
        content_type: res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        html: res.text().await.unwrap_or_default(),
    }
}

async fn get(app: &TestApp, who: As<'_>, path: &str) -> Page {
    send(app, who, Method::GET, path, &[]).await
}

async fn post(app: &TestApp, who: As<'_>, path: &str, form: &[(&str, &str)]) -> Page {
    send(app, who, Method::POST, path, form).await
}

/// Fills a UI route template with real ids.
fn fill(template: &str, key: &str) -> String {
    let id = if template.starts_with("/incidents/") {
        key
    } else {
        "1"
    };
    template
        .replace("{id}", id)
        .replace("{task_id}", "1")
        .replace("{event_id}", "1")
        .replace("{document_id}", "1")
        .replace("{name}", "app.css")
        .replace("{slug}", "default")
        .replace("{section}", "projects")
        .replace("{action}", "delete")
}

#[tokio::test]
async fn signed_out_every_page_sends_people_to_the_sign_in_page_and_back() {
    let app = spawn_app().await;
    let key = app.declare("Disk full").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    for (method, template) in dispatch_web::ui::ROUTES {
        let path = fill(template, &key);
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let p = send(&app, As::Nobody, m, &path, &[]).await;
        if template.starts_with("/assets/") {
            assert_eq!(p.status, StatusCode::OK, "{path}");
            continue;
        }
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{method} {path}: {p:?}");
        let to = p.location.unwrap();
        assert!(to.starts_with("/auth/login"), "{method} {path} → {to}");
        if *method == "GET" {
            assert!(to.contains(&urlencode(&path)), "{path} → {to}");
        }
    }
    // The sign-in form keeps where to go, and goes there (never to another site).
    let p = get(&app, As::Nobody, "/auth/login?next=%2Ftasks").await;
    assert!(
        p.html.contains(r#"name="next" value="/tasks""#),
        "{}",
        p.html
    );
    assert!(p.html.contains("<form"));
    for bad in ["%2F%09%2Fevil.example", "%2F%2Fevil.example", "%2F%0D%0Ax"] {
        let p = get(&app, As::Nobody, &format!("/auth/login?next={bad}")).await;
        assert_eq!(p.status, StatusCode::OK, "{bad}");
        assert!(!p.html.contains(r#"name="next""#), "{bad}: {}", p.html);
    }
    signed_in(&app, "ann@example.com", "member").await;
    for (next, want) in [
        ("/tasks", "/tasks"),
        ("https://evil.example.com/", "/"),
        ("/\t/evil.example", "/"),
        ("/%09/evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/\r\nSet-Cookie:x=1", "/"),
        ("/%0d%0aSet-Cookie:x=1", "/"),
        ("/\0", "/"),
    ] {
        let p = post(
            &app,
            As::Nobody,
            "/auth/login",
            &[
                ("email", "ann@example.com"),
                ("password", PASSWORD),
                ("next", next),
            ],
        )
        .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER);
        assert_eq!(p.location.as_deref(), Some(want));
    }
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn a_failed_sign_in_or_set_up_answers_with_its_form_and_the_error_on_it() {
    let app = spawn_app().await;
    signed_in(&app, "ann@example.com", "member").await;
    // A wrong password: the form again, the e-mail kept, the error said, still a 401.
    let p = post(
        &app,
        As::Nobody,
        "/auth/login",
        &[
            ("email", "ann@example.com"),
            ("password", "not-the-right-one"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(
        p.content_type.starts_with("text/html"),
        "{}",
        p.content_type
    );
    assert!(p
        .html
        .contains(r#"<form method="post" action="/auth/login">"#));
    assert!(p.html.contains("Wrong e-mail or password."), "{}", p.html);
    assert!(p.html.contains(r#"value="ann@example.com""#), "{}", p.html);
    // A field left empty names it.
    let p = post(
        &app,
        As::Nobody,
        "/auth/login",
        &[("email", "ann@example.com")],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("password: is required"), "{}", p.html);
    // The API still answers JSON.
    let r = app
        .http
        .post(format!("{}/auth/login", app.base))
        .json(&json!({"email": "ann@example.com", "password": "not-the-right-one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    // A spent or unknown set-up link: the set-up form with the error.
    let p = post(
        &app,
        As::Nobody,
        "/auth/setup",
        &[
            ("token", "no-such-token"),
            ("password", "a long enough passphrase"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(p.html.contains(r#"action="/auth/setup""#), "{}", p.html);
    assert!(p.html.contains(r#"class="error""#), "{}", p.html);
}

#[tokio::test]
async fn pages_load_nothing_from_another_host_and_follow_the_system_colour_scheme() {
    let app = spawn_app().await;
    let s = signed_in(&app, "ann@example.com", "member").await;
    let p = get(&app, As::Session(&s), "/incidents").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.content_type.starts_with("text/html"));
    for needle in ["src=\"http", "src=\"//", "href=\"http", "href=\"//"] {
        assert!(!p.html.contains(needle), "{needle} in the page");
    }
    for asset in ["/assets/app.css", "/assets/htmx.min.js", "/assets/app.js"] {
        assert!(p.html.contains(asset), "{asset} not linked");
        let a = get(&app, As::Nobody, asset).await;
        assert_eq!(a.status, StatusCode::OK, "{asset}");
        assert!(!a.html.is_empty());
    }
    let css = get(&app, As::Nobody, "/assets/app.css").await.html;
    assert!(css.contains("prefers-color-scheme: dark"));
    assert_eq!(
        get(&app, As::Nobody, "/assets/nope.js").await.status,
        StatusCode::NOT_FOUND
    );
    // The home page is the incidents list.
    let home = get(&app, As::Session(&s), "/").await;
    assert_eq!(home.location.as_deref(), Some("/incidents"));
}

#[tokio::test]
async fn a_form_needs_the_sessions_csrf_token() {
    let app = spawn_app().await;
    let s = signed_in(&app, "ann@example.com", "member").await;
    let form = [("title", "Queue stuck"), ("description", "jobs pile up")];
    let p = post(&app, As::Session(&s), "/report", &form).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.content_type.starts_with("text/html"), "{p:?}");
    assert!(p.html.contains("CSRF"));
    assert_eq!(app.get("/incidents").await.body["total"], 0);
    let mut with = form.to_vec();
    with.push(("_csrf", &s.csrf));
    let p = post(&app, As::Session(&s), "/report", &with).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{p:?}");
    assert_eq!(p.location.as_deref(), Some("/incidents/INC-1"));
    // The form carries the token the page was rendered with.
    let page = get(&app, As::Session(&s), "/report").await;
    assert!(page
        .html
        .contains(&format!(r#"name="_csrf" value="{}""#, s.csrf)));
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn a_report_with_mistakes_shows_each_error_beside_its_field_and_saves_nothing() {
    let app = spawn_app().await;
    let s = signed_in(&app, "ann@example.com", "member").await;
    let p = post(
        &app,
        As::Session(&s),
        "/report",
        &[
            ("_csrf", &s.csrf),
            ("title", ""),
            ("description", "the checkout is slow"),
            ("priority", "not-a-priority"),
            ("visibility", "secret"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    for id in ["r-title-e", "r-priority-e", "r-visibility-e"] {
        assert!(p.html.contains(&format!(r#"id="{id}""#)), "no {id}");
    }
    assert!(p.html.contains("the checkout is slow"), "typed text kept");
    assert!(!p.html.contains(r#"id="r-description-e""#));
    assert_eq!(app.get("/incidents").await.body["total"], 0);
}

#[tokio::test]
async fn the_list_filters_sorts_pages_exports_and_hides_restricted_incidents() {
    let app = spawn_app().await;
    for t in ["Alpha outage", "Beta outage", "Gamma outage"] {
        app.declare(t).await;
    }
    let r = app
        .post(
            "/incidents",
            json!({"title": "Secret breach", "description": "d", "visibility": "restricted"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let member = app.token_with("mia@example.com", "member", "read").await;
    let page = get(&app, As::Token(&member), "/incidents").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Alpha outage"));
    assert!(
        !page.html.contains("Secret breach"),
        "restricted shown to a member"
    );
    assert!(page.html.contains("3 incidents"));
    let admin = get(&app, As::Token(&app.token), "/incidents").await;
    assert!(admin.html.contains("Secret breach"));
    assert!(admin.html.contains("4 incidents"));
    let p = get(&app, As::Token(&member), "/incidents/INC-4").await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(p.content_type.starts_with("text/html"));

    let f = format!("/incidents?filter={}", urlencode(r#"title ~ "beta""#));
    let p = get(&app, As::Token(&member), &f).await;
    assert!(p.html.contains("Beta outage") && !p.html.contains("Alpha outage"));
    let p = get(&app, As::Token(&member), "/incidents?q=gamma").await;
    assert!(p.html.contains("Gamma outage") && !p.html.contains("Beta outage"));
    let p = get(
        &app,
        As::Token(&member),
        "/incidents?filter=priority+%3D%3D",
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains(r#"id="f-filter-e""#));
    let p = get(&app, As::Token(&member), "/incidents?status=nope").await;
    assert!(p.html.contains(r#"id="f-status-e""#));

    let p = get(
        &app,
        As::Token(&member),
        "/incidents?sort=title&per_page=1&page=2",
    )
    .await;
    assert!(p.html.contains("Beta outage"), "title order, second page");
    assert!(p.html.contains("Page 2 of 3"));
    assert!(p.html.contains("sort=title"), "pager keeps the filters");

    let res = browser()
        .get(format!("{}/incidents.csv?status=active", app.base))
        .bearer_auth(&member)
        .send()
        .await
        .unwrap();
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("key,title,status"));
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(!csv.contains("Secret breach"));
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn the_incident_page_runs_an_incident_from_report_to_close() {
    let app = spawn_app().await;
    let s = signed_in(&app, "ann@example.com", "member").await;
    let csrf = s.csrf.as_str();
    let p = post(
        &app,
        As::Session(&s),
        "/report",
        &[
            ("_csrf", csrf),
            ("title", "Payments down"),
            ("description", "5xx"),
        ],
    )
    .await;
    let page_url = p.location.unwrap();
    let pending = get(&app, As::Session(&s), &page_url).await;
    assert_eq!(pending.status, StatusCode::OK);
    assert!(pending.html.contains("The room is being set up"));
    app.run_pending_jobs().await;
    let ready = get(&app, As::Session(&s), &page_url).await.html;
    assert!(ready.contains(r#"data-kind="conversation" data-status="ready""#));

    // A chat command in the room, and a plain message.
    let to = |p: Page| {
        p.location
            .unwrap_or_else(|| panic!("no redirect: {} {}", p.status, p.html))
    };
    let room = format!("{page_url}/room");
    to(post(
        &app,
        As::Session(&s),
        &room,
        &[
            ("_csrf", csrf),
            ("text", "/dispatch-assign-role bob@example.com scribe"),
        ],
    )
    .await);
    to(post(
        &app,
        As::Session(&s),
        &room,
        &[("_csrf", csrf), ("text", "looking at the load balancer")],
    )
    .await);
    let participants = app.get("/incidents/INC-1/participants").await.body;
    let bob = participants
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["email"] == "bob@example.com")
        .expect("bob joined");
    assert!(bob["roles"].as_array().unwrap().contains(&json!("scribe")));
    let p = post(
        &app,
        As::Session(&s),
        &room,
        &[("_csrf", csrf), ("text", "  ")],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains(r#"id="room-text-e""#));
    // htmx gets the room back in place.
    let res = browser()
        .post(format!("{}{room}", app.base))
        .header("cookie", &s.cookie)
        .header("hx-request", "true")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("_csrf={}&text=rollback+started", urlencode(csrf)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let fragment = res.text().await.unwrap();
    assert!(
        fragment.starts_with(r#"<section class="panel" id="room""#),
        "{fragment}"
    );
    assert!(fragment.contains("rollback started"));

    // A task, resolved; a tactical report with a missing field, then complete.
    to(post(
        &app,
        As::Session(&s),
        &format!("{page_url}/tasks"),
        &[
            ("_csrf", csrf),
            ("description", "Fail over"),
            ("assignees", "bob@example.com"),
            ("priority", "high"),
        ],
    )
    .await);
    let tasks = app.get("/incidents/INC-1/tasks").await.body;
    assert_eq!(tasks[0]["description"], "Fail over");
    assert_eq!(tasks[0]["assignees"][0]["email"], "bob@example.com");
    let p = post(
        &app,
        As::Session(&s),
        &format!("{page_url}/tasks"),
        &[
            ("_csrf", csrf),
            ("description", "x"),
            ("assignees", "not-an-email"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains(r#"id="task-assignees-e""#));
    let task_id = tasks[0]["id"].as_i64().unwrap();
    to(post(
        &app,
        As::Session(&s),
        &format!("{page_url}/tasks/{task_id}/resolve"),
        &[("_csrf", csrf)],
    )
    .await);
    assert_eq!(
        app.get("/incidents/INC-1/tasks").await.body[0]["status"],
        "resolved"
    );
    let p = post(
        &app,
        As::Session(&s),
        &format!("{page_url}/reports"),
        &[("_csrf", csrf), ("conditions", "bad"), ("actions", "")],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.html.contains(r#"id="report-actions-e""#) && p.html.contains(r#"id="report-needs-e""#)
    );
    assert!(!p.html.contains(r#"id="report-conditions-e""#));
    to(post(
        &app,
        As::Session(&s),
        &format!("{page_url}/reports"),
        &[
            ("_csrf", csrf),
            ("conditions", "bad"),
            ("actions", "fail over"),
            ("needs", "none"),
        ],
    )
    .await);
    assert_eq!(
        app.get("/incidents/INC-1/reports").await.body[0]["details"]["actions"],
        "fail over"
    );
    // The next report starts from this one.
    let p = get(&app, As::Session(&s), &page_url).await;
    assert!(
        p.html
            .contains(r#"<textarea id="report-actions" name="actions">fail over</textarea>"#),
        "the report form is not prefilled"
    );

    // Stable, closed; closing twice says why on the page.
    to(post(
        &app,
        As::Session(&s),
        &format!("{page_url}/stable"),
        &[("_csrf", csrf)],
    )
    .await);
    to(post(
        &app,
        As::Session(&s),
        &format!("{page_url}/close"),
        &[("_csrf", csrf)],
    )
    .await);
    assert_eq!(app.get("/incidents/INC-1").await.body["status"], "closed");
    let p = post(
        &app,
        As::Session(&s),
        &format!("{page_url}/close"),
        &[("_csrf", csrf)],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains(r#"class="failure""#));
    app.run_pending_jobs().await;

    let html = get(&app, As::Session(&s), &page_url).await.html;
    for needle in [
        "Payments down",
        "looking at the load balancer",
        "Fail over",
        "fail over",
        "bob@example.com",
        "Re-open",
    ] {
        assert!(html.contains(needle), "{needle} not on the page");
    }
    // The tasks page lists it (resolved).
    let tasks = get(&app, As::Session(&s), "/tasks?status=resolved")
        .await
        .html;
    assert!(tasks.contains("Fail over"));
}

/// The incident page reads the incident (with its parts), the caller's standing in it and its
/// timeline once for all its parts and forms, and the rest side by side: a member's page took 69
/// statements when each part read them again, 38 now; the page shows the same.
#[tokio::test]
async fn the_incident_page_reads_the_incident_its_timeline_and_the_callers_standing_once() {
    let app = spawn_app().await;
    let s = signed_in(&app, "ann@example.com", "member").await;
    let page_url = report_as(&app, &s, "Checkout slow").await;
    app.run_pending_jobs().await;
    // Once to settle what a first request writes (the session's last use).
    assert_eq!(
        get(&app, As::Session(&s), &page_url).await.status,
        StatusCode::OK
    );
    let db = app.engine.db();
    let before = db.statements_run();
    let page = get(&app, As::Session(&s), &page_url).await;
    let ran = db.statements_run() - before;
    assert_eq!(page.status, StatusCode::OK);
    assert!(ran <= 40, "the incident page ran {ran} statements");
    // Every part is there, from the reads shared.
    for part in [
        "Checkout slow",
        r#"data-live="header""#,
        r#"data-live="timeline""#,
        r#"data-kind="conversation" data-status="ready""#,
        r#"id="timeline-type""#,
        "ann@example.com",
    ] {
        assert!(page.html.contains(part), "{part} missing");
    }
}

#[tokio::test]
async fn a_participant_may_not_close_an_incident_and_a_member_may_not_see_a_restricted_one() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/incidents",
            json!({"title": "Breach", "description": "d", "visibility": "restricted"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.run_pending_jobs().await;
    let pat = app.token_with("pat@example.com", "member", "write").await;
    let r = app
        .post(
            "/incidents/INC-1/roles",
            json!({"email": "pat@example.com", "role": "participant"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        get(&app, As::Token(&pat), "/incidents/INC-1").await.status,
        StatusCode::OK
    );
    let p = post(&app, As::Token(&pat), "/incidents/INC-1/close", &[]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.content_type.starts_with("text/html"));
    assert_eq!(app.get("/incidents/INC-1").await.body["status"], "active");
    let mia = app.token_with("mia@example.com", "member", "write").await;
    for path in ["/incidents/INC-1", "/incidents/INC-1/events"] {
        assert_eq!(
            get(&app, As::Token(&mia), path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let p = post(
        &app,
        As::Token(&mia),
        "/incidents/INC-1/room",
        &[("text", "hi")],
    )
    .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn the_live_stream_sends_the_parts_that_change() {
    let app = spawn_app().await;
    app.declare("Cache stampede").await;
    app.run_pending_jobs().await;
    let mut res = browser()
        .get(format!("{}/incidents/INC-1/events", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut seen = String::new();
    wait_for(&mut res, &mut seen, "event: timeline").await;
    for part in ["event: header", "event: room", "event: resources"] {
        wait_for(&mut res, &mut seen, part).await;
    }
    seen.clear();
    let r = app
        .post(
            "/incidents/INC-1/room/messages",
            json!({"text": "is anyone on the cache?"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    wait_for(&mut res, &mut seen, "is anyone on the cache?").await;
    assert!(seen.contains("event: room"), "{seen}");
}

/// Opens the live stream of an incident with a token or a session cookie and reads it until its
/// first part arrived.
async fn open_stream(app: &TestApp, who: As<'_>, key: &str) -> reqwest::Response {
    let mut req = browser().get(format!("{}/incidents/{key}/events", app.base));
    match who {
        As::Nobody => {}
        As::Session(s) => req = req.header("cookie", &s.cookie),
        As::Token(t) => req = req.bearer_auth(t),
    }
    let mut res = req.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{key}");
    wait_for(&mut res, &mut String::new(), "event: header").await;
    res
}

/// Reads a stream until the server ends it (60 s at most, so a stream that never ends fails
/// the test instead of hanging it).
async fn ends(res: &mut reqwest::Response, why: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        match tokio::time::timeout_at(deadline, res.chunk()).await {
            Ok(Ok(Some(_))) => continue,
            Ok(Ok(None)) | Ok(Err(_)) => return,
            Err(_) => panic!("the live stream went on after {why}"),
        }
    }
}

#[tokio::test]
async fn a_live_stream_ends_when_its_caller_loses_access() {
    let app = spawn_app().await;
    let declare = |title: &'static str, visibility: &'static str| {
        let app = &app;
        async move {
            let r = app
                .post(
                    "/incidents",
                    json!({"title": title, "description": "d", "visibility": visibility}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
            r.body["name"].as_str().unwrap().to_string()
        }
    };
    let secret = declare("Breach", "restricted").await;
    let open = declare("Outage", "open").await;
    app.run_pending_jobs().await;
    let sid = signed_in(&app, "sid@example.com", "member").await;
    for email in [
        "pat@example.com",
        "dee@example.com",
        "tom@example.com",
        "sid@example.com",
    ] {
        app.give_role(&secret, email, "participant").await;
    }

    // Removed from the restricted incident.
    let pat = app.token_with("pat@example.com", "member", "read").await;
    let mut res = open_stream(&app, As::Token(&pat), &secret).await;
    app.remove_participant(&secret, "pat@example.com").await;
    ends(&mut res, "its participant was removed").await;
    let again = get(
        &app,
        As::Token(&pat),
        &format!("/incidents/{secret}/events"),
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    // The account is disabled.
    let dee = app.token_with("dee@example.com", "member", "read").await;
    let mut res = open_stream(&app, As::Token(&dee), &secret).await;
    let id = app.user_id("dee@example.com").await;
    let r = app
        .patch(&format!("/users/{id}"), json!({"disabled": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    ends(&mut res, "its account was disabled").await;

    // The token is revoked.
    let tom = app.token_with("tom@example.com", "member", "write").await;
    let mut res = open_stream(&app, As::Token(&tom), &secret).await;
    app.revoke_own_token(&tom).await;
    ends(&mut res, "its token was revoked").await;

    // The session ends (signing out).
    let mut res = open_stream(&app, As::Session(&sid), &secret).await;
    let out = browser()
        .post(format!("{}/auth/logout", app.base))
        .header("cookie", &sid.cookie)
        .header("x-csrf-token", &sid.csrf)
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success(), "{}", out.status());
    ends(&mut res, "its session ended").await;

    // An open incident is restricted under a member's eyes.
    let mia = app.token_with("mia@example.com", "member", "read").await;
    let mut res = open_stream(&app, As::Token(&mia), &open).await;
    let r = app
        .patch(
            &format!("/incidents/{open}"),
            json!({"visibility": "restricted"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    ends(&mut res, "the incident was restricted").await;

    // Someone who keeps access keeps the stream: the owner's sees the next message.
    let mut res = open_stream(&app, As::Token(&app.token), &open).await;
    app.post(
        &format!("/incidents/{open}/room/messages"),
        json!({"text": "still streaming"}),
    )
    .await;
    wait_for(&mut res, &mut String::new(), "still streaming").await;
    app.run_pending_jobs().await;
}

/// A ticket provider that fails until told otherwise.
struct Down;

#[async_trait]
impl ResourceProvider for Down {
    fn slug(&self) -> &'static str {
        "down-ticket"
    }

    async fn create(&self, _key: &str, _ctx: &IncidentContext) -> ProviderResult<Created> {
        Err(ProviderError::new("down-ticket", "503 Service Unavailable"))
    }
}

#[tokio::test]
async fn a_failed_resource_has_a_retry_button_that_requeues_its_job() {
    let app = TestApp::builder()
        .providers(|mut p| {
            p.ticket = std::sync::Arc::new(Down);
            p
        })
        .expect_failed_jobs(
            "the ticket vendor is down: its provision job fails, and again once retried",
        )
        .spawn()
        .await;
    app.declare("Vendor down").await;
    app.run_pending_jobs().await;
    let html = get(&app, As::Token(&app.token), "/incidents/INC-1")
        .await
        .html;
    assert!(html.contains(r#"data-kind="ticket" data-status="failed""#));
    let failed = app.get("/jobs?state=failed").await.body;
    let id = failed[0]["id"].as_i64().unwrap();
    assert!(
        html.contains(&format!(r#"action="/jobs/{id}/retry""#)),
        "no retry button"
    );
    let p = post(
        &app,
        As::Token(&app.token),
        &format!("/jobs/{id}/retry"),
        &[],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{p:?}");
    assert_eq!(
        p.location.as_deref(),
        Some("/incidents/INC-1?done=retried#resources-h")
    );
    let job = &app.get("/jobs?state=queued").await.body[0];
    assert_eq!(job["id"], id);
    let html = get(&app, As::Token(&app.token), "/incidents/INC-1")
        .await
        .html;
    assert!(html.contains(r#"data-kind="ticket" data-status="pending""#));
    // The test leaves the job failing again; nothing else is queued.
    app.run_pending_jobs().await;
}

// ---------------------------------------------------------------------------------------------
// Responders' pages: the timeline's tools, people, documents, reports, feedback, account, status.

/// Reports an incident through the form as this person; answers its page's URL.
#[tokio::test]
async fn the_commander_edits_the_incident_on_its_page_and_a_member_sees_no_life_cycle_or_edit_actions(
) {
    let app = spawn_app().await;
    let ic = signed_in(&app, "ic@example.com", "member").await;
    let page_url = report_as(&app, &ic, "Disk full on db-7").await;
    app.run_pending_jobs().await;
    let p = get(&app, As::Session(&ic), &page_url).await;
    assert_eq!(p.status, StatusCode::OK);
    // The edit form holds the current values; the life-cycle buttons are there for the IC.
    assert!(
        p.html.contains(r#"name="title" value="Disk full on db-7""#),
        "{}",
        p.html
    );
    assert!(p.html.contains(r#"name="resolution""#));
    assert!(p.html.contains(&format!(r#"href="{page_url}/close""#)));
    // Title and resolution changed, the rest sent as it was: only those two change.
    let before = app.get("/incidents/INC-1/timeline").await.body;
    let p = post(
        &app,
        As::Session(&ic),
        &format!("{page_url}/edit"),
        &[
            ("_csrf", &ic.csrf),
            ("title", "Disk full on db-7 (WAL)"),
            ("description", "d"),
            ("resolution", "Grew the WAL volume."),
            ("type", "default"),
            ("priority", "low"),
            ("severity", "undetermined"),
            ("visibility", "open"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let inc = app.get("/incidents/INC-1").await.body;
    assert_eq!(inc["title"], "Disk full on db-7 (WAL)");
    assert_eq!(inc["resolution"], "Grew the WAL volume.");
    let after = app.get("/incidents/INC-1/timeline").await.body;
    let added: Vec<&Value> = after
        .as_array()
        .unwrap()
        .iter()
        .skip(before.as_array().unwrap().len())
        .collect();
    let text = serde_json::to_string(&added).unwrap();
    assert!(
        !text.contains("priority") && !text.contains("severity"),
        "{text}"
    );
    // A bad value is shown beside its field, with what was typed; nothing changes.
    let p = post(
        &app,
        As::Session(&ic),
        &format!("{page_url}/edit"),
        &[
            ("_csrf", &ic.csrf),
            ("title", "   "),
            ("priority", "nonsense"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains(r#"id="edit-title-e""#), "{}", p.html);
    assert_eq!(
        app.get("/incidents/INC-1").await.body["title"],
        "Disk full on db-7 (WAL)"
    );
    // A member who only looks on sees neither the life-cycle buttons nor the edit form.
    let mo = signed_in(&app, "mo@example.com", "member").await;
    let p = get(&app, As::Session(&mo), &page_url).await;
    assert_eq!(p.status, StatusCode::OK);
    for action in ["/close\"", "/stable\"", "/edit\""] {
        assert!(!p.html.contains(action), "{action} shown to a member");
    }
    app.run_pending_jobs().await;
}

/// Closing from the page asks for the resolution and names what is still open; the pages the
/// incident's links open (document, files, group, room, close) are pages, and the resource
/// links point at them, not at the API.
#[tokio::test]
async fn closing_asks_for_the_resolution_and_every_link_opens_a_page() {
    let app = spawn_app().await;
    let ic = signed_in(&app, "ic@example.com", "member").await;
    let page_url = report_as(&app, &ic, "Disk full on db-7").await;
    app.run_pending_jobs().await;
    app.post(
        "/incidents/INC-1/tasks",
        json!({"description": "Grow the volume"}),
    )
    .await;
    let inc = app.get("/incidents/INC-1").await.body;
    for r in inc["resources"].as_array().unwrap() {
        let link = r["link"].as_str().unwrap_or_default();
        assert!(!link.contains("/api/"), "{r}");
    }
    let doc = inc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "document")
        .and_then(|r| r["link"].as_str())
        .expect("a document link")
        .trim_start_matches("http://127.0.0.1:8080")
        .to_string();
    for path in [
        doc.as_str(),
        "/incidents/INC-1/files",
        "/incidents/INC-1/group",
        "/incidents/INC-1/room",
        "/incidents/INC-1/close",
    ] {
        let p = get(&app, As::Session(&ic), path).await;
        assert_eq!(p.status, StatusCode::OK, "{path}: {}", p.html);
        assert!(p.content_type.starts_with("text/html"), "{path}");
    }
    let close = get(&app, As::Session(&ic), &format!("{page_url}/close")).await;
    assert!(close.html.contains("still open"), "{}", close.html);
    assert!(close.html.contains("Grow the volume"));
    assert!(close.html.contains("No resolution yet"));
    // An empty resolution is refused beside its field, and nothing changes.
    let p = post(
        &app,
        As::Session(&ic),
        &format!("{page_url}/close"),
        &[("_csrf", &ic.csrf), ("resolution", "  ")],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains(r#"id="close-resolution-e""#), "{}", p.html);
    assert_eq!(app.get("/incidents/INC-1").await.body["status"], "active");
    let p = post(
        &app,
        As::Session(&ic),
        &format!("{page_url}/close"),
        &[
            ("_csrf", &ic.csrf),
            ("resolution", "Grew the volume to 2 TB."),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{p:?}");
    let inc = app.get("/incidents/INC-1").await.body;
    assert_eq!(inc["status"], "closed");
    assert_eq!(inc["resolution"], "Grew the volume to 2 TB.");
    app.run_pending_jobs().await;
    // The frozen document says Closed; the page says who held the roles.
    let docs = app.get("/incidents/INC-1/documents").await.body;
    let body = docs[0]["body"].as_str().unwrap_or_default().to_lowercase();
    assert!(
        body.contains("closed") && !body.contains("stable"),
        "{body}"
    );
    let p = get(&app, As::Session(&ic), &page_url).await;
    assert!(
        p.html.contains("was reporter, incident commander"),
        "{}",
        p.html
    );
    assert!(!p.html.contains(r#"action="/incidents/INC-1/tasks""#));
}

async fn report_as(app: &TestApp, s: &Session, title: &str) -> String {
    let p = post(
        app,
        As::Session(s),
        "/report",
        &[("_csrf", &s.csrf), ("title", title), ("description", "d")],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{p:?}");
    p.location.unwrap()
}

/// An htmx request's answer (status, body).
async fn htmx(
    app: &TestApp,
    s: &Session,
    method: Method,
    path: &str,
    form: &str,
) -> (StatusCode, String) {
    let mut req = browser()
        .request(method.clone(), format!("{}{path}", app.base))
        .header("cookie", &s.cookie)
        .header("hx-request", "true");
    if method == Method::POST {
        req = req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_string());
    }
    let res = req.send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

#[tokio::test]
async fn the_timeline_filters_pins_takes_custom_events_and_exports_markdown() {
    let app = spawn_app().await;
    let s = signed_in(&app, "ann@example.com", "member").await;
    let csrf = s.csrf.as_str();
    let page_url = report_as(&app, &s, "Payments down").await;
    app.run_pending_jobs().await;
    let events = format!("{page_url}/timeline");

    // Mistakes come back beside their fields; nothing is added.
    let p = post(
        &app,
        As::Session(&s),
        &events,
        &[
            ("_csrf", csrf),
            ("description", " "),
            ("occurred_at", "yesterday-ish"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.html.contains(r#"id="event-description-e""#),
        "no description error"
    );
    assert!(
        p.html.contains(r#"id="event-occurred-at-e""#),
        "no time error"
    );
    assert!(p.html.contains("yesterday-ish"), "typed value kept");
    let p = post(
        &app,
        As::Session(&s),
        &events,
        &[("description", "no token")],
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "CSRF");
    assert_eq!(
        app.get("/incidents/INC-1/timeline?type=custom")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // A custom event at a given time (UTC), then pinned from the page.
    let p = post(
        &app,
        As::Session(&s),
        &events,
        &[
            ("_csrf", csrf),
            ("description", "Rolled back deploy 42"),
            ("occurred_at", "2026-11-25T09:30"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{p:?}");
    let custom = app.get("/incidents/INC-1/timeline?type=custom").await.body;
    assert_eq!(custom[0]["description"], "Rolled back deploy 42");
    assert_eq!(custom[0]["occurred_at"], "2026-11-25T09:30:00Z");
    assert_eq!(custom[0]["pinned"], false);
    let eid = custom[0]["id"].as_i64().unwrap();
    let p = post(
        &app,
        As::Session(&s),
        &format!("{page_url}/timeline/{eid}/pin"),
        &[],
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "pin needs the CSRF token");
    let p = post(
        &app,
        As::Session(&s),
        &format!("{page_url}/timeline/{eid}/pin"),
        &[("_csrf", csrf)],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{p:?}");
    let custom = app.get("/incidents/INC-1/timeline?type=custom").await.body;
    assert_eq!(custom[0]["pinned"], true);
    let pins = app
        .get("/incidents/INC-1/timeline?type=event_pinned")
        .await
        .body;
    assert_eq!(
        pins.as_array().unwrap().len(),
        1,
        "the pin is on the timeline"
    );
    assert_eq!(pins[0]["details"]["event_id"], eid);
    assert_eq!(
        app.get("/incidents/INC-1/timeline/verify").await.body["valid"],
        true,
        "the chain is intact"
    );
    let html = get(&app, As::Session(&s), &page_url).await.html;
    let pinned_at = html
        .find(r#"aria-label="Pinned events""#)
        .expect("a pinned list");
    let all_at = html.find(r#"aria-label="Events""#).unwrap();
    assert!(pinned_at < all_at, "pinned events come first");
    assert!(html.contains(&format!(r#"<li id="event-{eid}" class="pinned">"#)));

    // Filtered by type: as a plain GET and in place for htmx.
    let p = get(&app, As::Session(&s), &format!("{page_url}?type=custom")).await;
    assert!(p.html.contains(r#"id="timeline-filtered""#));
    assert!(p.html.contains(r#"<option value="custom" selected>"#));
    let declared = app
        .get("/incidents/INC-1/timeline?type=incident_declared")
        .await
        .body[0]["id"]
        .as_i64()
        .unwrap();
    assert!(
        !p.html.contains(&format!(r#"id="event-{declared}""#)),
        "other types hidden"
    );
    assert!(p.html.contains(&format!(r#"id="event-{eid}""#)));
    let p = get(
        &app,
        As::Session(&s),
        &format!("{page_url}/timeline?type=custom"),
    )
    .await;
    assert_eq!(
        p.location.as_deref(),
        Some("/incidents/INC-1?type=custom#timeline")
    );
    let (status, fragment) = htmx(
        &app,
        &s,
        Method::GET,
        &format!("{page_url}/timeline?type=custom"),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        fragment.starts_with(r#"<section class="panel" id="timeline""#),
        "{fragment}"
    );
    assert!(!fragment.contains(&format!(r#"id="event-{declared}""#)));
    // Unpinned in place by htmx: the events come back without the pin.
    let (status, fragment) = htmx(
        &app,
        &s,
        Method::POST,
        &format!("{page_url}/timeline/{eid}/unpin"),
        &format!("_csrf={}&type=custom", urlencode(csrf)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        fragment.contains(&format!(r#"action="/incidents/INC-1/timeline/{eid}/pin""#)),
        "{fragment}"
    );
    assert_eq!(
        app.get("/incidents/INC-1/timeline?type=custom").await.body[0]["pinned"],
        false
    );
    app.post(&format!("/incidents/INC-1/timeline/{eid}/pin"), json!({}))
        .await;

    // Exported as markdown, from the page and the API.
    let res = browser()
        .get(format!("{}{page_url}/timeline.md", app.base))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/markdown"));
    let md = res.text().await.unwrap();
    assert!(md.starts_with("# INC-1 Payments down: timeline"), "{md}");
    let pinned = md.split("## Events").next().unwrap();
    assert!(
        pinned.contains("## Pinned") && pinned.contains("Rolled back deploy 42"),
        "{md}"
    );
    assert!(md.contains("2026-11-25 09:30:00 UTC"));
    assert!(md.contains("`incident_declared`"));
    let api = browser()
        .get(format!(
            "{}/api/v1/incidents/INC-1/timeline.md?type=custom",
            app.base
        ))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::OK);
    let md = api.text().await.unwrap();
    assert!(
        md.contains("Rolled back deploy 42") && !md.contains("incident_declared"),
        "{md}"
    );

    // A restricted incident's timeline does not exist for a member outside it.
    app.post(
        "/incidents",
        json!({"title": "Breach", "description": "d", "visibility": "restricted"}),
    )
    .await;
    let mia = app.token_with("mia@example.com", "member", "write").await;
    for (m, path) in [
        ("GET", "/incidents/INC-2/timeline.md"),
        ("GET", "/incidents/INC-2/timeline?type=custom"),
        ("POST", "/incidents/INC-2/timeline"),
        ("POST", "/incidents/INC-2/timeline/1/pin"),
    ] {
        let p = send(
            &app,
            As::Token(&mia),
            Method::from_bytes(m.as_bytes()).unwrap(),
            path,
            &[("description", "x")],
        )
        .await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{m} {path}");
    }
    // A member who may see the incident but not keep its record has no pin buttons or form.
    let p = get(&app, As::Token(&mia), "/incidents/INC-1").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        !p.html.contains(r#"class="inline pin""#),
        "no pin buttons for a member"
    );
    assert!(!p.html.contains(r#"id="event-description""#));
    let p = post(
        &app,
        As::Token(&mia),
        "/incidents/INC-1/timeline",
        &[("description", "x")],
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn people_are_given_roles_on_call_is_engaged_and_anyone_may_join_or_subscribe() {
    let app = spawn_app().await;
    let s = signed_in(&app, "ann@example.com", "member").await;
    let csrf = s.csrf.as_str();
    let page_url = report_as(&app, &s, "Queue stuck").await;
    app.run_pending_jobs().await;
    let roles = format!("{page_url}/roles");
    let p = post(
        &app,
        As::Session(&s),
        &roles,
        &[("_csrf", csrf), ("email", "not-an-email"), ("role", "boss")],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains(r#"id="role-email-e""#) && p.html.contains(r#"id="role-role-e""#));
    let p = post(
        &app,
        As::Session(&s),
        &roles,
        &[("email", "bob@example.com"), ("role", "scribe")],
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "CSRF");
    let p = post(
        &app,
        As::Session(&s),
        &roles,
        &[
            ("_csrf", csrf),
            ("email", "bob@example.com"),
            ("role", "scribe"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{p:?}");
    let people = app.get("/incidents/INC-1/participants").await.body;
    let bob = people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["email"] == "bob@example.com")
        .expect("bob");
    assert!(bob["roles"].as_array().unwrap().contains(&json!("scribe")));

    // Engage a service's on-call: a mistake beside the field, then paged.
    let sid = app
        .post("/projects/default/services", json!({"name": "payments"}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let r = app.call(Method::PUT, &format!("/services/{sid}/rotation"), Some(json!({"members": ["olga@example.com"], "shift_hours": 168, "handoff_time": "00:00", "start_date": today, "time_zone": "UTC"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let engage = format!("{page_url}/engage");
    let html = get(&app, As::Session(&s), &page_url).await.html;
    assert!(
        html.contains(r#"<option value="payments">"#),
        "services offered"
    );
    let p = post(
        &app,
        As::Session(&s),
        &engage,
        &[("_csrf", csrf), ("service", "")],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains(r#"id="engage-service-e""#));
    let p = post(
        &app,
        As::Session(&s),
        &engage,
        &[("_csrf", csrf), ("service", "billing")],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains(r#"id="engage-service-e""#) && p.html.contains("payments"));
    let p = post(
        &app,
        As::Session(&s),
        &engage,
        &[("_csrf", csrf), ("service", "payments"), ("page", "on")],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{p:?}");
    let people = app.get("/incidents/INC-1/participants").await.body;
    assert!(
        people
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["email"] == "olga@example.com"),
        "{people}"
    );
    let pages = app.get("/pages").await.body;
    assert!(
        pages
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["email"] == "olga@example.com"),
        "{pages}"
    );

    // Someone else joins and subscribes from the page.
    let mia = signed_in(&app, "mia@example.com", "member").await;
    let p = post(
        &app,
        As::Session(&mia),
        &format!("{page_url}/join"),
        &[("_csrf", &mia.csrf)],
    )
    .await;
    assert_eq!(
        p.location.as_deref(),
        Some("/incidents/INC-1?done=joined#participants-h"),
        "{p:?}"
    );
    let p = post(
        &app,
        As::Session(&mia),
        &format!("{page_url}/subscribe"),
        &[("_csrf", &mia.csrf)],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{p:?}");
    let people = app.get("/incidents/INC-1/participants").await.body;
    assert!(people
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["email"] == "mia@example.com"));
    let subs = app.get("/incidents/INC-1/subscribers").await.body;
    assert!(subs.to_string().contains("mia@example.com"), "{subs}");
    // A participant may not hand out roles.
    let p = post(
        &app,
        As::Session(&mia),
        &roles,
        &[
            ("_csrf", &mia.csrf),
            ("email", "x@example.com"),
            ("role", "scribe"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    // A restricted incident cannot be joined by someone who may not see it.
    app.post(
        "/incidents",
        json!({"title": "Breach", "description": "d", "visibility": "restricted"}),
    )
    .await;
    for path in [
        "/incidents/INC-2/join",
        "/incidents/INC-2/subscribe",
        "/incidents/INC-2/engage",
        "/incidents/INC-2/roles",
    ] {
        let p = post(&app, As::Session(&mia), path, &[("_csrf", &mia.csrf)]).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{path}");
    }
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn documents_render_markdown_safely_and_a_hand_edit_is_never_overwritten() {
    let app = spawn_app().await;
    let s = signed_in(&app, "ann@example.com", "member").await;
    let csrf = s.csrf.as_str();
    let page_url = report_as(&app, &s, "Login broken").await;
    app.run_pending_jobs().await;
    let docs = app.get("/incidents/INC-1/documents").await.body;
    let doc = &docs[0];
    let id = doc["id"].as_i64().expect("the incident document");
    // Kept current by Dispatch until someone edits it.
    assert_eq!(
        app.patch("/incidents/INC-1", json!({"title": "Login broken in EU"}))
            .await
            .status,
        StatusCode::OK
    );
    app.run_pending_jobs().await;
    let body = app.get(&format!("/documents/{id}")).await.body["body"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        body.contains("Login broken in EU"),
        "the template is re-rendered: {body}"
    );

    let edit = format!("{page_url}/documents/{id}");
    let text = "# Findings\n\nThe **cache** expired.\n\n<script>alert('x')</script>\n\n[run me](javascript:alert(1)) <img src=x onerror=alert(2)>";
    let p = post(&app, As::Session(&s), &edit, &[("body", text)]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "CSRF");
    let p = post(
        &app,
        As::Session(&s),
        &edit,
        &[("_csrf", csrf), ("body", text)],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{p:?}");
    let saved = app.get(&format!("/documents/{id}")).await.body;
    assert_eq!(saved["body"], text);
    assert_eq!(saved["edited_by"], "ann@example.com");
    let edits = app
        .get("/incidents/INC-1/timeline?type=document_edited")
        .await
        .body;
    assert_eq!(
        edits.as_array().unwrap().len(),
        1,
        "the edit is on the timeline"
    );
    let html = get(&app, As::Session(&s), &page_url).await.html;
    // The rendered document (the edit form's textarea holds the markdown itself, escaped).
    let start = html
        .find(r#"<div class="markdown">"#)
        .expect("a rendered document");
    let rendered = &html[start..start + html[start..].find("</div>").unwrap()];
    assert!(
        rendered.contains("<h1>Findings</h1>") && rendered.contains("<strong>cache</strong>"),
        "markdown rendered: {rendered}"
    );
    assert!(
        rendered.contains("&lt;script&gt;alert"),
        "raw HTML shown as text"
    );
    assert!(!html.contains("<script>alert"), "no script injected");
    assert!(
        !rendered.contains("javascript:") && !rendered.contains("<img"),
        "no script link or handler: {rendered}"
    );
    assert!(!html.contains("<img src=x"));
    assert!(html.contains("edited by ann@example.com"));
    // The engine no longer re-renders it.
    assert_eq!(
        app.patch(
            "/incidents/INC-1",
            json!({"title": "Login broken everywhere"})
        )
        .await
        .status,
        StatusCode::OK
    );
    app.run_pending_jobs().await;
    assert_eq!(
        app.get(&format!("/documents/{id}")).await.body["body"],
        text
    );

    // Too long: the error beside the field, the document as it was.
    let long = "x".repeat(200_001);
    let p = post(
        &app,
        As::Session(&s),
        &edit,
        &[("_csrf", csrf), ("body", &long)],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains(&format!(r#"id="document-{id}-body-e""#)));
    assert_eq!(
        app.get(&format!("/documents/{id}")).await.body["body"],
        text
    );
    // The API edit, and who may edit.
    let r = app
        .patch(
            &format!("/incidents/INC-1/documents/{id}"),
            json!({"body": "## API edit"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["body"], "## API edit");
    let r = app
        .patch(&format!("/incidents/INC-1/documents/{id}"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mia = app.token_with("mia@example.com", "member", "write").await;
    let p = post(&app, As::Token(&mia), &edit, &[("body", "mine now")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(
        !get(&app, As::Token(&mia), &page_url)
            .await
            .html
            .contains(&format!(r#"action="{edit}""#)),
        "no edit form"
    );
    // Closed: read-only, said on the page.
    post(
        &app,
        As::Session(&s),
        &format!("{page_url}/close"),
        &[("_csrf", csrf)],
    )
    .await;
    app.run_pending_jobs().await;
    let r = app
        .patch(
            &format!("/incidents/INC-1/documents/{id}"),
            json!({"body": "late"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    let p = post(
        &app,
        As::Session(&s),
        &edit,
        &[("_csrf", csrf), ("body", "late")],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("read-only"));
    // A restricted incident's documents are not found for outsiders.
    app.post(
        "/incidents",
        json!({"title": "Breach", "description": "d", "visibility": "restricted"}),
    )
    .await;
    let p = post(
        &app,
        As::Token(&mia),
        "/incidents/INC-2/documents/1",
        &[("body", "x")],
    )
    .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn an_executive_report_and_feedback_after_close_from_the_page() {
    let app = spawn_app().await;
    let s = signed_in(&app, "ann@example.com", "member").await;
    let csrf = s.csrf.as_str();
    let page_url = report_as(&app, &s, "Search slow").await;
    app.run_pending_jobs().await;
    let exec = format!("{page_url}/reports/executive");
    let p = post(
        &app,
        As::Session(&s),
        &exec,
        &[
            ("_csrf", csrf),
            ("current_status", "degraded"),
            ("overview", ""),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.html.contains(r#"id="exec-overview-e""#) && p.html.contains(r#"id="exec-next_steps-e""#)
    );
    assert!(!p.html.contains(r#"id="exec-current_status-e""#));
    assert_eq!(
        app.get("/incidents/INC-1/reports")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        0,
        "nothing half-saved"
    );
    let p = post(
        &app,
        As::Session(&s),
        &exec,
        &[
            ("_csrf", csrf),
            ("current_status", "degraded"),
            ("overview", "index rebuild"),
            ("next_steps", "wait"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{p:?}");
    let reports = app.get("/incidents/INC-1/reports").await.body;
    assert_eq!(reports[0]["kind"], "executive");
    assert_eq!(reports[0]["details"]["overview"], "index rebuild");

    // Bob takes part; after close he is asked for feedback, and only the commander reads it.
    let bob = signed_in(&app, "bob@example.com", "member").await;
    post(
        &app,
        As::Session(&bob),
        &format!("{page_url}/join"),
        &[("_csrf", &bob.csrf)],
    )
    .await;
    assert!(
        !get(&app, As::Session(&bob), &page_url)
            .await
            .html
            .contains(r#"id="feedback-h""#),
        "not before close"
    );
    post(
        &app,
        As::Session(&s),
        &format!("{page_url}/close"),
        &[("_csrf", csrf)],
    )
    .await;
    app.run_pending_jobs().await;
    assert!(get(&app, As::Session(&bob), &page_url)
        .await
        .html
        .contains(r#"id="feedback-h""#));
    let fb = format!("{page_url}/feedback");
    let p = post(
        &app,
        As::Session(&bob),
        &fb,
        &[("_csrf", &bob.csrf), ("rating", "9"), ("comment", "smooth")],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains(r#"id="feedback-rating-e""#) && p.html.contains("smooth"));
    assert_eq!(
        app.get("/incidents/INC-1/feedback")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let p = post(&app, As::Session(&bob), &fb, &[("rating", "4")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "CSRF");
    let p = post(
        &app,
        As::Session(&bob),
        &fb,
        &[
            ("_csrf", &bob.csrf),
            ("rating", "4"),
            ("comment", "smooth hand-offs"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{p:?}");
    let stored = app.get("/incidents/INC-1/feedback").await.body;
    assert_eq!(stored[0]["rating"], 4);
    assert_eq!(stored[0]["email"], "bob@example.com");
    let theirs = get(&app, As::Session(&bob), &page_url).await.html;
    assert!(theirs.contains("Update feedback") && !theirs.contains(r#"id="feedback-list-h""#));
    // Nor does the API show a participant everyone's feedback.
    let api = get(&app, As::Session(&bob), "/api/v1/incidents/INC-1/feedback").await;
    assert_eq!(api.status, StatusCode::FORBIDDEN, "{api:?}");
    let ic = get(&app, As::Session(&s), &page_url).await.html;
    assert!(
        ic.contains(r#"id="feedback-list-h""#) && ic.contains("smooth hand-offs"),
        "the commander reads it"
    );
    // Someone who did not take part is not asked and may not answer.
    let mia = app.token_with("mia@example.com", "member", "write").await;
    assert!(!get(&app, As::Token(&mia), &page_url)
        .await
        .html
        .contains(r#"id="feedback-h""#));
    let p = post(&app, As::Token(&mia), &fb, &[("rating", "1")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn the_account_page_mints_shows_once_lists_and_revokes_tokens() {
    let app = spawn_app().await;
    let s = signed_in(&app, "ann@example.com", "member").await;
    let csrf = s.csrf.as_str();
    let p = get(&app, As::Session(&s), "/account").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains(r#"<dd id="me-email">ann@example.com</dd>"#));
    assert!(
        p.html.contains(r#"action="/auth/logout""#),
        "a sign-out button"
    );
    let p = post(
        &app,
        As::Session(&s),
        "/account/tokens",
        &[
            ("_csrf", csrf),
            ("name", ""),
            ("scope", "root"),
            ("expires_at", "2001-01-01"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    for id in ["token-name-e", "token-scope-e"] {
        assert!(p.html.contains(&format!(r#"id="{id}""#)), "no {id}");
    }
    let p = post(
        &app,
        As::Session(&s),
        "/account/tokens",
        &[
            ("_csrf", csrf),
            ("name", "ci"),
            ("expires_at", "2001-01-01"),
        ],
    )
    .await;
    assert!(p.html.contains(r#"id="token-expires-e""#), "a past expiry");
    let p = post(&app, As::Session(&s), "/account/tokens", &[("name", "ci")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "CSRF");
    assert_eq!(
        app.call_as(
            Some(&app.token_with("ann@example.com", "member", "read").await),
            Method::GET,
            "/tokens",
            None
        )
        .await
        .body
        .as_array()
        .unwrap()
        .len(),
        1,
        "nothing minted but the test's own"
    );

    let p = post(
        &app,
        As::Session(&s),
        "/account/tokens",
        &[
            ("_csrf", csrf),
            ("name", "ci"),
            ("scope", "write"),
            ("expires_at", "2099-12-31"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::CREATED);
    let start = p
        .html
        .find(r#"<code id="minted-secret" class="secret">"#)
        .expect("the secret shown")
        + r#"<code id="minted-secret" class="secret">"#.len();
    let secret = &p.html[start..start + p.html[start..].find('<').unwrap()];
    assert!(secret.len() > 20, "{secret}");
    assert!(p.html.contains("2099-12-31 23:59 UTC"));
    let me = app.call_as(Some(secret), Method::GET, "/me", None).await;
    assert_eq!(me.body["email"], "ann@example.com");
    assert_eq!(me.body["scope"], "write");
    // Listed by prefix, never again in full.
    let p = get(&app, As::Session(&s), "/account").await;
    assert!(!p.html.contains(secret), "the secret is shown once");
    assert!(
        p.html.contains(&format!("<code>{}…</code>", &secret[..8]))
            || p.html.contains("data-prefix"),
        "listed by prefix"
    );
    let tokens = app
        .call_as(Some(secret), Method::GET, "/tokens", None)
        .await
        .body;
    let id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ci")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let p = post(
        &app,
        As::Session(&s),
        &format!("/account/tokens/{id}/revoke"),
        &[],
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "CSRF");
    let p = post(
        &app,
        As::Session(&s),
        &format!("/account/tokens/{id}/revoke"),
        &[("_csrf", csrf)],
    )
    .await;
    assert_eq!(p.location.as_deref(), Some("/account"), "{p:?}");
    assert_eq!(
        app.call_as(Some(secret), Method::GET, "/me", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Nobody revokes another person's token.
    let bob = signed_in(&app, "bob@example.com", "member").await;
    let p = post(
        &app,
        As::Session(&bob),
        &format!("/account/tokens/{id}/revoke"),
        &[("_csrf", &bob.csrf)],
    )
    .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_status_page_lists_what_is_under_way_that_the_caller_may_see() {
    let app = spawn_app().await;
    app.declare("Alpha outage").await;
    app.declare("Beta outage").await;
    app.post(
        "/incidents",
        json!({"title": "Secret breach", "description": "d", "visibility": "restricted"}),
    )
    .await;
    app.post("/incidents/INC-2/stable", json!({})).await;
    app.post("/incidents/INC-2/close", json!({})).await;
    app.run_pending_jobs().await;
    let mia = signed_in(&app, "mia@example.com", "member").await;
    let p = get(&app, As::Session(&mia), "/status").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("Alpha outage") && p.html.contains(r#"data-key="INC-1""#));
    assert!(
        !p.html.contains("Beta outage"),
        "closed incidents are not under way"
    );
    assert!(
        !p.html.contains("Secret breach"),
        "restricted shown to a member"
    );
    assert!(p.html.contains("1 incident under way"));
    assert!(
        p.html.contains(r#"action="/incidents/INC-1/join""#)
            && p.html.contains(r#"action="/incidents/INC-1/subscribe""#)
    );
    let admin = get(&app, As::Token(&app.token), "/status").await;
    assert!(admin.html.contains("Secret breach"));
    let p = post(
        &app,
        As::Session(&mia),
        "/incidents/INC-1/join",
        &[("_csrf", &mia.csrf), ("back", "/status")],
    )
    .await;
    assert_eq!(p.location.as_deref(), Some("/status"), "{p:?}");
    let people = app.get("/incidents/INC-1/participants").await.body;
    assert!(people
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["email"] == "mia@example.com"));
    let p = post(
        &app,
        As::Session(&mia),
        "/incidents/INC-1/subscribe",
        &[("back", "/status")],
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "CSRF");
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn the_room_lists_the_chat_commands_for_typing_a_slash_and_without_javascript() {
    let app = spawn_app().await;
    app.declare("Cache cold").await;
    app.run_pending_jobs().await;
    let html = get(&app, As::Token(&app.token), "/incidents/INC-1")
        .await
        .html;
    for c in dispatch_core::chat::COMMANDS {
        assert!(
            html.contains(&format!(r#"<option value="/{} ">"#, c.name)),
            "{} not offered",
            c.name
        );
        assert!(
            html.contains(&format!("<code>/{}", c.name)),
            "{} not in the help list",
            c.name
        );
    }
    assert!(html.contains(r#"id="commands-help""#));
    let js = get(&app, As::Nobody, "/assets/app.js").await.html;
    assert!(js.contains("command-hints"));
}

#[tokio::test]
async fn the_oncall_page_shows_schedules_and_admins_add_overrides_there() {
    let app = spawn_app().await;
    let admin = signed_in(&app, "ada@example.com", "admin").await;
    let member = signed_in(&app, "ann@example.com", "member").await;
    let sid = app
        .post("/projects/default/services", json!({"name": "payments"}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let billing = app
        .post("/projects/default/services", json!({"name": "billing"}))
        .await
        .body["id"]
        .to_string();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let r = app
        .call(
            Method::PUT,
            &format!("/services/{sid}/rotation"),
            Some(
                json!({"members": ["olga@example.com", "pete@example.com"], "shift_hours": 24,
                "handoff_time": "00:00", "start_date": today, "time_zone": "UTC"}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let oncall = format!("/services/{sid}/oncall");
    let rotation_now = app.get(&oncall).await.body["current"]["email"].clone();
    assert_eq!(rotation_now, "olga@example.com");

    // The schedule: members in order, shift length, handoff, zone, and the week's shifts.
    let p = get(&app, As::Session(&member), "/oncall").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        p.html.contains(&format!(r#"id="schedule-{sid}""#)),
        "{}",
        p.html
    );
    assert!(
        p.html
            .contains("<li>olga@example.com</li><li>pete@example.com</li>"),
        "members in order"
    );
    assert!(p.html.contains("24-hour shifts, handing off at 00:00 UTC"));
    let shifts = p.html.matches(r#"<tr class="shift">"#).count();
    assert!((7..=8).contains(&shifts), "{shifts} daily shifts in 7 days");
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d 00:00")
        .to_string();
    assert!(p.html.contains(&tomorrow), "tomorrow's handoff shown");
    // Members see no form and may not add one.
    assert!(!p.html.contains(r#"id="override-form""#));
    let now = chrono::Utc::now();
    let from = (now - chrono::Duration::hours(1))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let until = (now + chrono::Duration::hours(2))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let sid_s = sid.to_string();
    let good = [
        ("service", sid_s.as_str()),
        ("email", "zed@example.com"),
        ("starts_at", from.as_str()),
        ("ends_at", until.as_str()),
    ];
    let mut with = good.to_vec();
    with.push(("_csrf", &member.csrf));
    let p = post(&app, As::Session(&member), "/oncall/overrides", &with).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{p:?}");

    // Admins get the form; mistakes come back beside their fields and save nothing.
    let p = get(&app, As::Session(&admin), "/oncall").await;
    assert!(p.html.contains(r#"id="override-form""#));
    assert!(p
        .html
        .contains(&format!(r#"name="_csrf" value="{}""#, admin.csrf)));
    let p = post(
        &app,
        As::Session(&admin),
        "/oncall/overrides",
        &[
            ("_csrf", &admin.csrf),
            ("service", &sid_s),
            ("email", "not-an-email"),
            ("starts_at", "soon"),
            ("ends_at", &until),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{p:?}");
    assert!(p.html.contains(r#"id="ov-email-e""#) && p.html.contains(r#"id="ov-starts_at-e""#));
    assert!(!p.html.contains(r#"id="ov-ends_at-e""#) && !p.html.contains(r#"id="ov-service-e""#));
    assert!(
        p.html.contains(r#"value="not-an-email""#),
        "typed text kept"
    );
    let p = post(
        &app,
        As::Session(&admin),
        "/oncall/overrides",
        &[
            ("_csrf", &admin.csrf),
            ("service", &sid_s),
            ("email", "zed@example.com"),
            ("starts_at", &until),
            ("ends_at", &from),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains(r#"id="ov-ends_at-e""#), "{}", p.html);
    let mut no_rotation = good.to_vec();
    no_rotation[0] = ("service", billing.as_str());
    no_rotation.push(("_csrf", &admin.csrf));
    let p = post(&app, As::Session(&admin), "/oncall/overrides", &no_rotation).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains(r#"id="ov-service-e""#));
    let v = app.get(&oncall).await.body;
    assert_eq!(v["current"]["email"], rotation_now, "nothing saved: {v}");
    assert_eq!(v["current"]["overridden"], false);

    // A good override: the person is on call now, on the page and over the API.
    let mut with = good.to_vec();
    with.push(("_csrf", &admin.csrf));
    let p = post(&app, As::Session(&admin), "/oncall/overrides", &with).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{p:?}");
    assert_eq!(p.location.as_deref(), Some("/oncall"));
    let v = app.get(&oncall).await.body;
    assert_eq!(v["current"]["email"], "zed@example.com");
    assert_eq!(v["current"]["overridden"], true);
    let p = get(&app, As::Session(&member), "/oncall").await;
    let now_table = &p.html[p.html.find(r#"id="oncall-now""#).unwrap()..];
    let now_table = &now_table[..now_table.find("</table>").unwrap()];
    assert!(
        now_table.contains("zed@example.com (override)"),
        "{now_table}"
    );
    assert!(p.html.contains(r#"<tr class="override">"#));
    assert!(p.html.contains(&format!(
        "{} UTC</td><td>{} UTC</td><td>zed@example.com",
        from.replace('T', " "),
        until.replace('T', " ")
    )));
}

/// The headers of a GET, and its body.
async fn headers_of(
    app: &TestApp,
    who: As<'_>,
    path: &str,
) -> (reqwest::header::HeaderMap, String) {
    let mut req = browser().get(format!("{}{path}", app.base));
    match who {
        As::Nobody => {}
        As::Session(s) => req = req.header("cookie", &s.cookie),
        As::Token(t) => req = req.bearer_auth(t),
    }
    let res = req.send().await.unwrap();
    let headers = res.headers().clone();
    (headers, res.text().await.unwrap_or_default())
}

/// Checks the security headers of one answer; answers whether it was an HTML page.
fn check_security_headers(path: &str, h: &reqwest::header::HeaderMap, body: &str) -> bool {
    let get = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    assert_eq!(get("x-content-type-options"), "nosniff", "{path}");
    if !get("content-type").starts_with("text/html") {
        return false;
    }
    assert_eq!(
        get("content-security-policy"),
        dispatch_web::headers::CONTENT_SECURITY_POLICY,
        "{path}"
    );
    assert_eq!(get("x-frame-options"), "DENY", "{path}");
    assert!(
        ["same-origin", "no-referrer"].contains(&get("referrer-policy")),
        "{path}"
    );
    assert!(get("permissions-policy").contains("camera=()"), "{path}");
    assert!(
        h.get("strict-transport-security").is_none(),
        "no HSTS over plain http: {path}"
    );
    // What the policy would refuse: inline scripts, inline handlers, inline styles.
    let lower = body.to_lowercase();
    assert!(!lower.contains("<script>"), "an inline script on {path}");
    assert!(!lower.contains("<style"), "an inline style sheet on {path}");
    assert!(!lower.contains(" style="), "a style attribute on {path}");
    let handler = lower.match_indices(" on").any(|(i, _)| {
        let rest = &lower[i + 3..];
        let name: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
        !name.is_empty() && rest[name.len()..].starts_with('=')
    });
    assert!(!handler, "an inline event handler on {path}");
    true
}

#[tokio::test]
async fn every_page_carries_the_security_headers_signed_in_and_out() {
    let app = spawn_app().await;
    let key = app.declare("Disk full").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    let ada = signed_in(&app, "ada@example.com", "admin").await;
    let mut paths: Vec<String> = dispatch_web::ui::ROUTES
        .iter()
        .filter(|(m, t)| *m == "GET" && !t.ends_with("/events"))
        .map(|(_, t)| fill(t, &key))
        .collect();
    for section in [
        "users",
        "audit",
        "engagement-rules",
        "webhooks",
        "individuals",
    ] {
        paths.push(format!("/settings/{section}"));
    }
    paths.extend(
        [
            "/auth/login?next=%2Ftasks",
            "/auth/setup?token=nope",
            "/api/v1/docs",
            "/incidents/INC-404",
            "/no-such-page",
        ]
        .map(String::from),
    );
    let mut pages = 0;
    for path in &paths {
        for who in [As::Nobody, As::Session(&ada)] {
            let (h, body) = headers_of(&app, who, path).await;
            pages += usize::from(check_security_headers(path, &h, &body));
        }
    }
    assert!(pages >= 20, "only {pages} HTML pages seen");
    // The API's JSON and the assets are not pages, but are never sniffed either.
    for path in [
        "/api/v1/incidents",
        "/assets/app.js",
        "/api/v1/openapi.json",
    ] {
        let (h, _) = headers_of(&app, As::Token(&app.token), path).await;
        assert!(!check_security_headers(path, &h, ""), "{path}");
    }
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn with_an_https_public_url_every_answer_asks_for_https_from_then_on() {
    let options = dispatch_web::WebOptions {
        auth: dispatch_web::WebAuth {
            secure_cookies: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let app = TestApp::builder().web_options(options).spawn().await;
    for path in ["/auth/login", "/api/v1/incidents"] {
        let (h, _) = headers_of(&app, As::Token(&app.token), path).await;
        assert_eq!(h["strict-transport-security"], "max-age=31536000", "{path}");
    }
}
