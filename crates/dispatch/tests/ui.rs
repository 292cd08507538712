//! The web UI over HTTP, as a browser without JavaScript uses it: signed-out pages send people to
//! sign in, forms carry the session's CSRF token, mistakes come back beside their fields, lists
//! hide what the caller may not see, and the incident page runs an incident from report to
//! close. (tests/browser.rs walks the same in a real Chromium.)

mod common;

use async_trait::async_trait;
use common::pages::{signed_in, Session, PASSWORD};
use common::{spawn_app, spawn_app_with, urlencode, TestApp};
use dispatch_core::provider::{
    Created, IncidentContext, ProviderError, ProviderResult, ResourceProvider,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

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
        .replace("{name}", "app.css")
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
    signed_in(&app, "ann@example.com", "member").await;
    for (next, want) in [("/tasks", "/tasks"), ("https://evil.example.com/", "/")] {
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
}

/// Reads a stream until `needle` arrived (15 s at most).
async fn wait_for(res: &mut reqwest::Response, seen: &mut String, needle: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    while !seen.contains(needle) {
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {needle:?} in the stream: {seen}"))
            .unwrap()
            .expect("stream open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
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
    let app = spawn_app_with(|mut p| {
        p.ticket = std::sync::Arc::new(Down);
        p
    })
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
    assert_eq!(p.location.as_deref(), Some("/incidents/INC-1"));
    let job = &app.get("/jobs?state=queued").await.body[0];
    assert_eq!(job["id"], id);
    let html = get(&app, As::Token(&app.token), "/incidents/INC-1")
        .await
        .html;
    assert!(html.contains(r#"data-kind="ticket" data-status="pending""#));
    // The test leaves the job failing again; nothing else is queued.
    app.run_pending_jobs().await;
}
