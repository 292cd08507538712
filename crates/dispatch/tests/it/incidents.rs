//! API tests for incidents: declare, read, update, list, life cycle, roles and bad input.

use crate::common::receiver::Receiver;
use crate::common::{actor_of, declare_on, error_fields, spawn_app, TestApp};
use dispatch_core::provider::{
    Created, IncidentContext, ProviderError, ProviderResult, ResourceProvider,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn declaring_an_incident_returns_it_with_its_key_commander_and_participants() {
    let app = spawn_app().await;
    let r = app
        .post("/incidents", json!({"title": "Database latency spike", "description": "p99 up 10x", "priority": "High", "tags": ["db"]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let i = &r.body;
    assert_eq!(i["name"], "INC-1");
    assert_eq!(i["status"], "active");
    assert_eq!(i["priority"], "high");
    assert_eq!(
        i["severity"], "undetermined",
        "the default severity applies"
    );
    assert_eq!(i["type"], "default");
    assert_eq!(i["visibility"], "open");
    assert_eq!(i["tags"], json!(["db"]));
    assert_eq!(
        i["commander"]["email"], "admin@example.com",
        "the reporter commands by default"
    );
    let roles = &i["participants"][0]["roles"];
    assert_eq!(roles, &json!(["reporter", "incident_commander"]));
    assert_eq!(
        app.declare("Second").await["name"],
        "INC-2",
        "keys count up per project"
    );
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn an_incident_can_be_read_by_id_and_by_key() {
    let app = spawn_app().await;
    let i = app.declare("Queue backlog").await;
    let by_id = app.get(&format!("/incidents/{}", i["id"])).await;
    let by_key = app.get("/incidents/inc-1").await;
    assert_eq!(by_id.status, StatusCode::OK);
    assert_eq!(by_key.status, StatusCode::OK);
    assert_eq!(by_id.body["name"], by_key.body["name"]);
    assert_eq!(
        app.get("/incidents/NOPE-999999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/incidents/424242").await.status,
        StatusCode::NOT_FOUND
    );
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn patch_changes_only_the_fields_it_names_and_null_clears_the_resolution() {
    let app = spawn_app().await;
    app.declare("Disk full").await;
    let r = app
        .patch(
            "/incidents/INC-1",
            json!({"description": "disk 100% on db-3", "resolution": "rotated logs"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["title"], "Disk full");
    assert_eq!(r.body["description"], "disk 100% on db-3");
    assert_eq!(r.body["resolution"], "rotated logs");
    let r = app
        .patch("/incidents/INC-1", json!({"severity": "high"}))
        .await;
    assert_eq!(
        r.body["resolution"], "rotated logs",
        "an absent field is kept"
    );
    assert_eq!(r.body["severity"], "high");
    let r = app
        .patch("/incidents/INC-1", json!({"resolution": null}))
        .await;
    assert_eq!(r.body["resolution"], json!(null), "null clears");
    let r = app.patch("/incidents/INC-1", json!({"title": null})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r.body), vec!["title"]);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named_and_nothing_written() {
    let app = spawn_app().await;
    let cases = [
        (json!({"title": "", "description": "x"}), "title"),
        (
            json!({"title": "x".repeat(201), "description": "x"}),
            "title",
        ),
        (json!({"description": "x"}), "title"),
        (json!({"title": "t"}), "description"),
        (
            json!({"title": "t", "description": "x", "type": "nope"}),
            "type",
        ),
        (
            json!({"title": "t", "description": "x", "priority": "urgent"}),
            "priority",
        ),
        (
            json!({"title": "t", "description": "x", "severity": "apocalyptic"}),
            "severity",
        ),
        (
            json!({"title": "t", "description": "x", "visibility": "secret"}),
            "visibility",
        ),
        (
            json!({"title": "t", "description": "x", "commander": "not-an-email"}),
            "commander",
        ),
        (json!({"title": 5, "description": "x"}), "title"),
        (
            json!({"title": "t", "description": "x", "tags": "db"}),
            "tags",
        ),
    ];
    for (body, field) in cases {
        let r = app.post("/incidents", body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            r.body
        );
        assert_eq!(r.body["error"]["code"], "validation_failed");
        assert!(
            error_fields(&r.body).contains(&field.to_string()),
            "{body} should name {field}: {:?}",
            r.body
        );
    }
    let r = app
        .raw(Method::POST, "/incidents", "application/json", "{not json")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"]["code"], "bad_request");
    let r = app
        .raw(Method::POST, "/incidents", "text/plain", "title=x")
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(r.body["error"]["message"].is_string());
    for q in [
        "per_page=100000",
        "per_page=0",
        "page=0",
        "per_page=abc",
        "status=burning",
        "sort=colour",
        "reported_after=yesterday",
    ] {
        let r = app.get(&format!("/incidents?{q}")).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{q}: {:?}",
            r.body
        );
        assert_eq!(error_fields(&r.body).len(), 1, "{q}: {:?}", r.body);
    }
    let list = app.get("/incidents").await;
    assert_eq!(list.body["total"], 0, "no rejected request wrote anything");
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused() {
    let app = spawn_app().await;
    for token in [None, Some("not-a-token"), Some("dsp_0000")] {
        let r = app.call_as(token, Method::GET, "/incidents", None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.body["error"]["code"], "unauthorized");
        let r = app
            .call_as(
                token,
                Method::POST,
                "/incidents",
                Some(json!({"title": "t", "description": "d"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.get("/incidents").await.body["total"], 0);
    let doc = app.call_as(None, Method::GET, "/openapi.json", None).await;
    assert_eq!(
        doc.status,
        StatusCode::OK,
        "the OpenAPI document needs no token"
    );
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc.body["paths"]["/api/v1/incidents"]["post"].is_object());
}

#[tokio::test]
async fn the_token_holder_is_the_actor_on_the_timeline() {
    let app = spawn_app().await;
    let bob = app.token_for("bob@example.com").await;
    let r = app
        .call_as(
            Some(&bob),
            Method::POST,
            "/incidents",
            Some(json!({"title": "t", "description": "d"})),
        )
        .await;
    assert_eq!(r.body["reporter"]["email"], "bob@example.com");
    let events = app.get("/incidents/INC-1/timeline").await.body;
    assert!(events
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["actor"] == "bob@example.com" && e["transport"] == "api"));
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn the_list_filters_sorts_and_pages_and_reports_the_total() {
    let app = spawn_app().await;
    for (title, priority, tags) in [
        ("Checkout errors in eu-west", "high", vec!["payments"]),
        ("Slow search results", "low", vec![]),
        (
            "Payment provider timeouts",
            "medium",
            vec!["payments", "vendor"],
        ),
    ] {
        let r = app.post("/incidents", json!({"title": title, "description": "seen by customers", "priority": priority, "tags": tags})).await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    app.call(Method::POST, "/incidents/INC-2/stable", None)
        .await;
    let names = |r: &crate::common::Res| {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let all = app.get("/incidents").await;
    assert_eq!(all.body["total"], 3);
    assert_eq!(
        names(&all),
        ["INC-3", "INC-2", "INC-1"],
        "newest first by default"
    );
    assert_eq!(
        names(&app.get("/incidents?status=active").await),
        ["INC-3", "INC-1"]
    );
    assert_eq!(
        names(&app.get("/incidents?status=stable,closed").await),
        ["INC-2"]
    );
    assert_eq!(names(&app.get("/incidents?priority=High").await), ["INC-1"]);
    assert_eq!(
        names(&app.get("/incidents?tag=payments&sort=name").await),
        ["INC-1", "INC-3"]
    );
    assert_eq!(
        names(&app.get("/incidents?tag=payments,vendor").await),
        ["INC-3"]
    );
    let found = app.get("/incidents?q=paym").await;
    assert_eq!(names(&found), ["INC-3"], "search matches word prefixes");
    assert_eq!(
        (&found.body["total"], &found.body["total_exact"]),
        (&serde_json::json!(1), &serde_json::json!(true)),
        "a search's count is exact below its limit: {}",
        found.body
    );
    assert_eq!(all.body["total_exact"], true);
    assert_eq!(
        names(&app.get("/incidents?q=customers%20slow").await),
        ["INC-2"]
    );
    assert_eq!(
        names(
            &app.get("/incidents?severity=undetermined&type=default&project=default&sort=-name")
                .await
        ),
        ["INC-3", "INC-2", "INC-1"]
    );
    assert_eq!(
        app.get("/incidents?reported_after=2999-01-01").await.body["total"],
        0
    );
    assert_eq!(
        app.get("/incidents?reported_before=2999-01-01&reported_after=2000-01-01")
            .await
            .body["total"],
        3
    );
    let page2 = app.get("/incidents?per_page=2&page=2&sort=name").await;
    assert_eq!(
        page2.body["total"], 3,
        "the total counts every match, not the page"
    );
    assert_eq!(names(&page2), ["INC-3"]);
    assert_eq!(
        app.get("/incidents?commander=admin@example.com").await.body["total"],
        3
    );
    assert_eq!(
        app.get("/incidents?commander=nobody@example.com")
            .await
            .body["total"],
        0
    );
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn status_transitions_follow_the_life_cycle() {
    let app = spawn_app().await;
    app.declare("Login failures").await;
    let r = app
        .call(Method::POST, "/incidents/INC-1/stable", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "stable");
    assert!(r.body["stable_at"].is_string());
    let again = app
        .call(Method::POST, "/incidents/INC-1/stable", None)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["error"]["code"], "conflict");
    let r = app.call(Method::POST, "/incidents/1/close", None).await;
    assert_eq!(r.body["status"], "closed");
    assert!(r.body["closed_at"].is_string());
    let r = app
        .call(Method::POST, "/incidents/INC-1/reopen", None)
        .await;
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["closed_at"], json!(null));
    let r = app
        .patch("/incidents/INC-1", json!({"status": "closed"}))
        .await;
    assert_eq!(
        r.body["status"], "closed",
        "PATCH of status takes the same path"
    );
    assert!(
        r.body["stable_at"].is_string(),
        "closing an active incident also stamps stable_at"
    );
    let changes: Vec<_> = app
        .get("/incidents/INC-1/timeline?type=status_changed")
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["details"]["status"]["after"].clone())
        .collect();
    assert_eq!(
        changes,
        vec![
            json!("stable"),
            json!("closed"),
            json!("active"),
            json!("closed")
        ]
    );
    assert_eq!(
        app.call(Method::POST, "/incidents/NOPE-1/close", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn assigning_a_new_commander_keeps_the_history_and_one_active_commander() {
    let app = spawn_app().await;
    app.declare("Cache stampede").await;
    let r = app
        .post(
            "/incidents/INC-1/roles",
            json!({"email": "Carol@Example.com", "role": "incident_commander"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["commander"]["email"], "carol@example.com");
    let active_ics: Vec<_> = r.body["participants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["roles"]
                .as_array()
                .unwrap()
                .contains(&json!("incident_commander"))
        })
        .map(|p| p["email"].clone())
        .collect();
    assert_eq!(active_ics, vec![json!("carol@example.com")]);
    let admin = r.body["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["email"] == "admin@example.com")
        .unwrap()
        .clone();
    let ic_role = admin["role_history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["role"] == "incident_commander")
        .unwrap()
        .clone();
    assert!(
        ic_role["renounced_at"].is_string(),
        "the previous commander's role was renounced, not deleted"
    );
    assert_eq!(admin["roles"], json!(["reporter"]));
    let r = app
        .post(
            "/incidents/INC-1/roles",
            json!({"email": "dave@example.com", "role": "scribe"}),
        )
        .await;
    assert_eq!(r.body["participants"].as_array().unwrap().len(), 3);
    let r = app
        .post(
            "/incidents/INC-1/roles",
            json!({"email": "dave@example.com", "role": "chef"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r.body), vec!["role"]);
    let people = app.get("/incidents/INC-1/participants").await;
    assert_eq!(people.body.as_array().unwrap().len(), 3);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn concurrent_declarations_get_distinct_keys() {
    let app = spawn_app().await;
    let mut handles = Vec::new();
    for i in 0..12 {
        let (http, base, token) = (app.http.clone(), app.base.clone(), app.token.clone());
        handles.push(tokio::spawn(async move {
            let r = http
                .post(format!("{base}/api/v1/incidents"))
                .bearer_auth(token)
                .json(&json!({"title": format!("parallel {i}"), "description": "d"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            r.json::<serde_json::Value>().await.unwrap()["name"]
                .as_str()
                .unwrap()
                .to_string()
        }));
    }
    let mut names = Vec::new();
    for h in handles {
        names.push(h.await.unwrap());
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 12);
    assert_eq!(app.get("/incidents").await.body["total"], 12);
    app.run_pending_jobs().await;
}

/// On PostgreSQL a declaration takes its number outside its transaction, so that declarations
/// do not wait for each other's; that statement has a connection of its own, so a pool whose
/// every connection is held by a declaration's transaction still numbers them (taking the
/// number from the same pool would wait on itself until the pool's time-out).
#[tokio::test]
async fn declarations_filling_a_small_pool_are_all_numbered_once() {
    let app = spawn_app().await;
    let db = dispatch_store::Db::connect_with(&app.db.url, Some(2))
        .await
        .unwrap();
    let engine = dispatch_engine::Engine::new(db);
    let actor = actor_of(&engine, &app.token).await;
    let mut running = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (engine, actor) = (engine.clone(), actor.clone());
        running.spawn(async move { declare_on(&engine, &actor, &format!("small pool {i}")).await });
    }
    let mut names = Vec::new();
    while let Some(answer) = running.join_next().await {
        names.push(answer.unwrap());
    }
    names.sort_by_key(|n| n[4..].parse::<u32>().unwrap());
    let expected: Vec<String> = (1..=8).map(|n| format!("INC-{n}")).collect();
    assert_eq!(names, expected, "every number taken once, none skipped");
    app.run_pending_jobs().await;
}

/// On PostgreSQL a declaration is three statements beside `BEGIN` and `COMMIT`: the number with
/// the keys of its rows, the webhook subscriptions, and every insert as one statement; on SQLite,
/// whose inserts answer their keys, each insert is a statement of its own. Either way every row
/// is there.
#[tokio::test]
async fn a_declaration_sends_its_inserts_as_one_statement_on_postgres() {
    let app = spawn_app().await;
    let engine = dispatch_engine::Engine::new(app.db.open().await);
    let actor = actor_of(&engine, &app.token).await;
    declare_on(&engine, &actor, "reads the project's configuration").await;
    let before = engine.db().statements_run();
    let name = declare_on(&engine, &actor, "counted").await;
    let ran = engine.db().statements_run() - before;
    match engine.db().backend() {
        dispatch_store::Backend::Postgres => {
            assert_eq!(ran, 3, "number and keys, subscriptions, inserts")
        }
        dispatch_store::Backend::Sqlite => assert!(ran >= 8, "an insert per table: {ran}"),
    }
    let inc = app.get(&format!("/incidents/{name}")).await.body;
    assert_eq!(inc["participants"].as_array().unwrap().len(), 1, "{inc:#}");
    assert_eq!(inc["resources"].as_array().unwrap().len(), 6, "{inc:#}");
    let verified = app.get(&format!("/incidents/{name}/timeline/verify")).await;
    assert_eq!(verified.body["valid"], true, "{:?}", verified.body);
    assert_eq!(verified.body["events"], 3, "{:?}", verified.body);
    app.run_pending_jobs().await;
}

/// A ticket provider (with a slug of its own, so its series are this test's) that fails its
/// first call.
struct FailsOnce(std::sync::atomic::AtomicBool);

#[async_trait::async_trait]
impl ResourceProvider for FailsOnce {
    fn slug(&self) -> &'static str {
        "metrics-test-ticket"
    }

    async fn create(&self, key: &str, ctx: &IncidentContext) -> ProviderResult<Created> {
        if !self.0.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Err(ProviderError::new("metrics-test-ticket", "503"));
        }
        Ok(Created {
            external_id: format!("T-{}", ctx.id),
            link: Some(format!("https://tickets.example.com/{key}")),
            ..Default::default()
        })
    }
}

/// The value of the series whose line starts with `series` (name and labels), if present.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn health_readiness_and_metrics_answer_without_a_token() {
    let app = TestApp::builder()
        .providers(|mut p| {
            p.ticket = std::sync::Arc::new(FailsOnce(Default::default()));
            p
        })
        .spawn()
        .await;
    app.declare("x").await;
    for path in ["/healthz", "/readyz"] {
        let r = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    // The ticket fails once and is retried: two attempts of the provisioning job.
    app.run_pending_jobs().await;
    app.run_pending_jobs().await;
    let scrape = || async {
        let r = app
            .http
            .get(format!("{}/metrics", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()["content-type"],
            "text/plain; version=0.0.4",
            "the Prometheus text format"
        );
        r.text().await.unwrap()
    };
    let m = scrape().await;
    // The series that existed before the recorder: counts and time sums per exact status.
    // Other tests share the process's recorder, so shared routes count at least this test's calls;
    // only this test calls /readyz.
    let created =
        "dispatch_http_requests_total{method=\"POST\",route=\"/api/v1/incidents\",status=\"201\"}";
    assert!(sample(&m, created).is_some_and(|n| n >= 1.0), "{m}");
    let ready = "{method=\"GET\",route=\"/readyz\",status=\"200\"}";
    assert_eq!(
        sample(&m, &format!("dispatch_http_requests_total{ready}")),
        Some(1.0),
        "{m}"
    );
    assert!(
        sample(&m, &format!("dispatch_http_request_seconds_sum{ready}")).is_some_and(|s| s > 0.0),
        "{m}"
    );
    // The latency histogram, per method, route template and status class.
    let hist = "dispatch_http_request_duration_seconds";
    let ready_class = "{method=\"GET\",route=\"/readyz\",status=\"2xx\"";
    for bucket in ["0.001", "0.1", "60", "+Inf"] {
        let line = format!("{hist}_bucket{ready_class},le=\"{bucket}\"}}");
        assert!(sample(&m, &line).is_some(), "{line} in {m}");
    }
    assert_eq!(
        sample(&m, &format!("{hist}_bucket{ready_class},le=\"+Inf\"}}")),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        sample(&m, &format!("{hist}_count{ready_class}}}")),
        Some(1.0),
        "{m}"
    );
    assert!(m.contains(&format!("# TYPE {hist} histogram")), "{m}");
    // Job attempts and failures per kind (shared with other tests: at least ours).
    let provision = "{kind=\"provision\"}";
    assert!(
        sample(&m, &format!("dispatch_job_attempts_total{provision}")).is_some_and(|n| n >= 2.0),
        "{m}"
    );
    assert!(
        sample(
            &m,
            "dispatch_job_failures_total{kind=\"provision\",last=\"false\"}"
        )
        .is_some_and(|n| n >= 1.0),
        "{m}"
    );
    assert!(
        m.contains("dispatch_job_duration_seconds_bucket{kind=\"provision\",outcome=\"error\",le=\"+Inf\"}"),
        "{m}"
    );
    // The queue, read when scraped: this app's provisioning jobs all succeeded.
    assert!(
        m.contains("dispatch_job_queue_depth{kind=\"provision\",state=\"succeeded\"}"),
        "{m}"
    );
    assert!(
        m.contains("# TYPE dispatch_job_oldest_pending_age_seconds gauge"),
        "{m}"
    );
    assert!(
        m.contains("dispatch_job_oldest_pending_age_seconds{kind=\"provision\"} "),
        "{m}"
    );
    // The provider's calls: this test's slug alone, so exact counts.
    let ticket = "{provider=\"metrics-test-ticket\",capability=\"ticket\",operation=\"create\"";
    assert_eq!(
        sample(&m, &format!("dispatch_provider_errors_total{ticket}}}")),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        sample(
            &m,
            &format!("dispatch_provider_call_duration_seconds_count{ticket}}}")
        ),
        Some(2.0),
        "one failed call, one that worked: {m}"
    );
    assert_eq!(
        sample(
            &m,
            &format!("dispatch_provider_call_duration_seconds_bucket{ticket},le=\"+Inf\"}}")
        ),
        Some(2.0),
        "{m}"
    );
    assert!(m.contains("# HELP dispatch_provider_errors_total "), "{m}");
    let docs = app
        .http
        .get(format!("{}/api/v1/docs", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        docs.contains("openapi.json") && !docs.contains("cdn"),
        "the docs page is self-contained"
    );
    let r = app.call(Method::DELETE, "/incidents", None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.body["error"]["code"], "method_not_allowed");
    let huge = json!({"title": "t", "description": "x".repeat(2 * 1024 * 1024)}).to_string();
    let r = app
        .raw(Method::POST, "/incidents", "application/json", &huge)
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.body["error"]["code"], "payload_too_large");
    assert_eq!(
        r.body["error"]["message"],
        "the body is too large (at most 1 MB)"
    );
    let r = app.get("/no-such-route").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error"]["code"], "not_found");
}

#[tokio::test]
async fn a_new_taxonomy_entry_is_usable_at_once_and_a_new_default_applies_at_once() {
    let app = spawn_app().await;
    app.declare("warm the project configuration").await;
    let r = app
        .post(
            "/projects/default/incident-priorities",
            json!({"name": "Urgent", "page_commander": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let i = app
        .post(
            "/incidents",
            json!({"title": "t", "description": "d", "priority": "urgent"}),
        )
        .await;
    assert_eq!(i.status, StatusCode::CREATED, "{:?}", i.body);
    assert_eq!(i.body["priority"], "urgent");
    let id = r.body["id"].as_i64().unwrap();
    app.patch(
        &format!("/projects/default/incident-priorities/{id}"),
        json!({"default": true}),
    )
    .await;
    assert_eq!(app.declare("defaults").await["priority"], "urgent");
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn a_project_stable_priority_applies_when_an_incident_becomes_stable() {
    let app = spawn_app().await;
    let p = app
        .patch("/projects/default", json!({"stable_priority": "Medium"}))
        .await;
    assert_eq!(p.status, StatusCode::OK, "{:?}", p.body);
    assert!(p.body["stable_priority_id"].is_i64());
    app.declare("Noisy alerts").await;
    let r = app
        .call(Method::POST, "/incidents/INC-1/stable", None)
        .await;
    assert_eq!(r.body["priority"], "medium");
    let bad = app
        .patch("/projects/default", json!({"stable_priority": "whenever"}))
        .await;
    assert_eq!(error_fields(&bad.body), ["stable_priority"]);
    let cleared = app
        .patch("/projects/default", json!({"stable_priority": null}))
        .await;
    assert_eq!(cleared.body["stable_priority_id"], json!(null));
    app.run_pending_jobs().await;
}

/// The first message of a 422 envelope.
fn first_message(body: &serde_json::Value) -> String {
    body["error"]["fields"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_filter_beyond_the_bounds_is_a_422_naming_the_position_and_the_server_lives_on() {
    let app = spawn_app().await;
    app.declare("Checkout down").await;
    let read = app.token_with("reader@example.com", "member", "read").await;
    let list = |f: &str| format!("/incidents?filter={}", crate::common::urlencode(f));
    for (f, position) in [
        // The security probe's requests: each crashed the server or answered 500.
        (
            format!("{}status = active{}", "(".repeat(3000), ")".repeat(3000)),
            "33",
        ),
        ("(".repeat(3000), "33"),
        (format!("{}status = active", "not ".repeat(6400)), "129"),
        (format!("{}status = active", "not ".repeat(1600)), "129"),
        // The 201st term's value.
        (vec!["status = active"; 990].join(" or "), "3810"),
        (vec!["status = active"; 990].join(" and "), "4010"),
    ] {
        let r = app.call_as(Some(&read), Method::GET, &list(&f), None).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
        assert_eq!(error_fields(&r.body), vec!["filter"]);
        let m = first_message(&r.body);
        assert!(m.starts_with(&format!("at position {position}: ")), "{m}");
    }
    // At the bounds the filter runs: 200 terms, 32 levels.
    let r = app
        .get(&list(&vec!["status = active"; 200].join(" or ")))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["total"], 1);
    let deep = format!("{}status = active{}", "(".repeat(32), ")".repeat(32));
    let r = app.get(&list(&deep)).await;
    assert_eq!(r.body["total"], 1, "{:?}", r.body);
    assert_eq!(app.get("/incidents").await.status, StatusCode::OK);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn paging_and_numeric_parameters_out_of_range_are_a_422_naming_the_parameter() {
    let app = spawn_app().await;
    app.declare("Checkout down").await;
    // A receiver that answers, so the deliveries the hook makes succeed when the jobs run.
    let rx = Receiver::start().await;
    let hook = app.post("/webhooks", json!({"url": rx.url})).await;
    assert_eq!(hook.status, StatusCode::CREATED, "{:?}", hook.body);
    let deliveries = format!("/webhooks/{}/deliveries", hook.body["id"]);
    let paged = ["/incidents", "/individuals", deliveries.as_str()];
    for path in paged {
        for (query, field) in [
            ("page=9223372036854775807", "page"),
            ("page=1000001", "page"),
            ("page=0", "page"),
            ("page=-1", "page"),
            ("page=-9223372036854775808", "page"),
            ("page=99999999999999999999", "page"),
            ("page=two", "page"),
            ("per_page=9223372036854775807", "per_page"),
            ("per_page=0", "per_page"),
            ("per_page=-5", "per_page"),
            ("per_page=101", "per_page"),
            ("per_page=many", "per_page"),
        ] {
            let r = app.get(&format!("{path}?{query}")).await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path}?{query}: {:?}",
                r.body
            );
            assert_eq!(error_fields(&r.body), vec![field], "{path}?{query}");
        }
        // The last page there may be answers, empty.
        let r = app.get(&format!("{path}?page=1000000&per_page=100")).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.body);
        assert_eq!(r.body["items"], json!([]), "{path}");
    }
    for path in [
        "/jobs",
        "/outbox",
        "/audit",
        "/tasks",
        "/messages/direct?email=a@example.com",
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        for limit in [
            "9223372036854775807",
            "0",
            "-1",
            "1000",
            "lots",
            "18446744073709551616",
        ] {
            let r = app.get(&format!("{path}{sep}limit={limit}")).await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path} limit={limit}: {:?}",
                r.body
            );
            assert_eq!(error_fields(&r.body), vec!["limit"], "{path}");
        }
    }
    for before in ["9223372036854775807", "-9223372036854775808", "0"] {
        let r = app.get(&format!("/audit?before={before}")).await;
        assert_eq!(r.status, StatusCode::OK, "before={before}: {:?}", r.body);
    }
    // Lists of values are bounded too: each would be a condition of the query.
    let many = vec!["x"; 101].join(",");
    for field in ["tag", "type", "project", "status"] {
        let r = app.get(&format!("/incidents?{field}={many}")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(
            error_fields(&r.body).contains(&field.to_string()),
            "{field}"
        );
    }
    let r = app
        .get(&format!("/incidents?tag={}", vec!["x"; 100].join(",")))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["total"], 0);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn a_json_body_nested_100000_deep_is_refused_and_the_server_lives_on() {
    let app = spawn_app().await;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let r = app
        .raw(Method::POST, "/incidents", "application/json", &deep)
        .await;
    assert!(r.status.is_client_error(), "{}: {:?}", r.status, r.body);
    let deep = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    let r = app
        .raw(Method::POST, "/incidents", "application/json", &deep)
        .await;
    assert!(r.status.is_client_error(), "{}: {:?}", r.status, r.body);
    app.declare("Still here").await;
    app.run_pending_jobs().await;
}

/// Replaces every run of digits by `N`: ids, numbers and times.
fn no_digits(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if !c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('N') {
            out.push('N');
        }
    }
    out
}

/// The incident's timeline, each event as text without what differs between incidents and
/// times (ids, times, hashes, digits).
async fn timeline(app: &TestApp, key: &str) -> Vec<String> {
    let events = app.get(&format!("/incidents/{key}/timeline")).await.body;
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let mut e = e.clone();
            let o = e.as_object_mut().unwrap();
            for volatile in ["id", "occurred_at", "recorded_at", "hash", "prev_hash"] {
                o.remove(volatile);
            }
            no_digits(&e.to_string())
        })
        .collect()
}

#[tokio::test]
async fn a_declare_with_a_past_status_records_what_the_later_transition_would() {
    for target in ["stable", "closed"] {
        let app = spawn_app().await;
        let p = app
            .patch("/projects/default", json!({"stable_priority": "Medium"}))
            .await;
        assert_eq!(p.status, StatusCode::OK, "{:?}", p.body);
        // INC-1: declared, then moved; INC-2: declared with the status at once.
        app.declare("Outage").await;
        let verb = if target == "stable" {
            "stable"
        } else {
            "close"
        };
        let moved = app
            .call(Method::POST, &format!("/incidents/INC-1/{verb}"), None)
            .await;
        assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
        let r = app
            .post(
                "/incidents",
                json!({"title": "Outage", "description": "details", "status": target}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);

        let (later, at_once) = (timeline(&app, "INC-1").await, timeline(&app, "INC-2").await);
        assert!(
            later.iter().any(|e| e.contains("\"status_changed\"")),
            "{later:?}"
        );
        assert!(
            later
                .iter()
                .any(|e| e.contains("(the project's stable priority)")),
            "{later:?}"
        );
        assert_eq!(at_once, later, "{target}: the same events");

        let jobs = app.get("/jobs?state=queued&limit=500").await.body;
        let mut jobs: Vec<&Value> = jobs.as_array().unwrap().iter().collect();
        jobs.sort_by_key(|j| j["id"].as_i64());
        let of = |id: &Value| -> Vec<String> {
            jobs.iter()
                .filter(|j| &j["incident_id"] == id)
                .map(|j| format!("{} {}", j["kind"], no_digits(&j["payload"].to_string())))
                .collect()
        };
        let (later, at_once) = (of(&moved.body["id"]), of(&r.body["id"]));
        assert!(
            later.iter().any(|j| j.starts_with("\"refresh\"")),
            "{later:?}"
        );
        assert_eq!(at_once, later, "{target}: the same jobs");

        let (a, b) = (
            app.get("/incidents/INC-1").await.body,
            app.get("/incidents/INC-2").await.body,
        );
        for field in ["status", "priority", "severity", "resources"] {
            assert_eq!(
                no_digits(&b[field].to_string()),
                no_digits(&a[field].to_string()),
                "{target}: {field}"
            );
        }
        let roles = |i: &Value| no_digits(&i["participants"].to_string());
        assert_eq!(roles(&b), roles(&a), "{target}: participants and roles");
        assert_eq!(b["status"], target);
        assert!(b["stable_at"].is_string());
        assert_eq!(b["closed_at"].is_string(), target == "closed");
        app.run_pending_jobs().await;
    }
}
