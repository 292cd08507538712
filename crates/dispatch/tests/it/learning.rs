//! Learning from past incidents: the incidents most like one (closed ones with their
//! resolution, restricted ones only for those who may see them), on the API, the incident page
//! and the report form; and the metrics against hand-computed fixtures whose timestamps the
//! tests set.

use crate::common::pages::signed_in;
use crate::common::{error_fields, spawn_app, urlencode, TestApp};
use chrono::{DateTime, Duration, TimeZone, Utc};
use dispatch_engine::scheduler::{Schedule, Scheduler};
use dispatch_store::testing::set_time;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn declare(app: &TestApp, body: Value) -> String {
    let r = app.post("/incidents", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    r.body["name"].as_str().unwrap().to_string()
}

fn names(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {body:#}"))
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect()
}

/// A closed payments outage with its resolution, an unrelated incident, a partial look-alike
/// and a new payments outage.
async fn payments_history(app: &TestApp) -> (String, String, String, String) {
    let old = declare(
        app,
        json!({"title": "Payments API returning 502 errors", "description": "gateway 502 on /charge", "priority": "high"}),
    )
    .await;
    let r = app
        .post(
            &format!("/incidents/{old}/close"),
            json!({"resolution": "Rolled back deploy 4521 of the gateway."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let other = declare(
        app,
        json!({"title": "Weekly inventory sync slow", "description": "batch job late", "priority": "low"}),
    )
    .await;
    let partial = declare(
        app,
        json!({"title": "Payments dashboard lagging", "description": "charts take a minute"}),
    )
    .await;
    let new = declare(
        app,
        json!({"title": "Payments API 502 errors again", "description": "502 from the gateway", "priority": "high"}),
    )
    .await;
    app.run_pending_jobs().await;
    (old, other, partial, new)
}

#[tokio::test]
async fn a_closed_look_alike_comes_first_with_its_resolution_and_the_incident_itself_never() {
    let app = spawn_app().await;
    let (old, other, partial, new) = payments_history(&app).await;
    let r = app.get(&format!("/incidents/{new}/similar")).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(
        names(&r.body),
        [old.clone(), partial.clone()],
        "{:#}",
        r.body
    );
    let first = &r.body["items"][0];
    assert_eq!(first["status"], "closed");
    assert_eq!(
        first["resolution"],
        "Rolled back deploy 4521 of the gateway."
    );
    assert_eq!(first["commander"]["email"], "admin@example.com");
    assert!(
        first["duration_seconds"].as_i64().unwrap() >= 0,
        "{first:#}"
    );
    assert!(first["closed_at"].is_string());
    assert!(
        first["review_link"].is_string(),
        "closing made a review: {first:#}"
    );
    let (a, b) = (
        first["score"].as_f64().unwrap(),
        r.body["items"][1]["score"].as_f64().unwrap(),
    );
    assert!(a > b && b > 0.0, "{a} then {b}");
    // By key or id, the same answer; the unrelated one is like nothing.
    let id = app.get(&format!("/incidents/{new}")).await.body["id"].clone();
    assert_eq!(
        names(
            &app.get(&format!("/incidents/{id}/similar?limit=1"))
                .await
                .body
        ),
        [old.as_str()]
    );
    assert!(names(&app.get(&format!("/incidents/{other}/similar")).await.body).is_empty());
    // The closed one finds the new one, by its resolution's words too.
    assert!(names(&app.get(&format!("/incidents/{old}/similar")).await.body).contains(&new));
    // The list's full-text search now reads resolutions as well.
    let found = app.get("/incidents?q=rolled%20back").await.body;
    assert_eq!(names(&found), [old]);
    let r = app.get(&format!("/incidents/{new}/similar?limit=0")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r.body), ["limit"]);
}

#[tokio::test]
async fn shared_tags_and_type_rank_an_equally_worded_look_alike_higher() {
    let app = spawn_app().await;
    let plain = declare(
        &app,
        json!({"title": "Disk full on db-1", "description": "x"}),
    )
    .await;
    let tagged = declare(
        &app,
        json!({"title": "Disk full on db-2", "description": "x", "tags": ["storage"]}),
    )
    .await;
    let new = declare(
        &app,
        json!({"title": "Disk full on db-3", "description": "x", "tags": ["storage"]}),
    )
    .await;
    app.run_pending_jobs().await;
    let r = app.get(&format!("/incidents/{new}/similar")).await;
    assert_eq!(names(&r.body), [tagged, plain], "{:#}", r.body);
}

#[tokio::test]
async fn a_restricted_look_alike_is_offered_only_to_those_who_may_see_it() {
    let app = spawn_app().await;
    let secret = declare(
        &app,
        json!({"title": "Payments API 502 errors", "description": "gateway", "visibility": "restricted"}),
    )
    .await;
    let open = declare(
        &app,
        json!({"title": "Payments API 502 errors again", "description": "gateway"}),
    )
    .await;
    app.run_pending_jobs().await;
    assert_eq!(
        names(&app.get(&format!("/incidents/{open}/similar")).await.body),
        [secret.as_str()],
        "an admin sees it"
    );
    let member = app.token_for("eve@example.com").await;
    let r = app
        .call_as(
            Some(&member),
            Method::GET,
            &format!("/incidents/{open}/similar"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert!(names(&r.body).is_empty(), "{:#}", r.body);
    // Nor may they ask about the restricted one itself.
    let r = app
        .call_as(
            Some(&member),
            Method::GET,
            &format!("/incidents/{secret}/similar"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_incident_page_and_the_report_form_show_similar_incidents_with_their_resolution() {
    let app = spawn_app().await;
    let (old, other, _, new) = payments_history(&app).await;
    let ann = signed_in(&app, "ann@example.com", "admin").await;
    let page = ann.get(&app, &format!("/incidents/{new}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let section = &page.html[page
        .html
        .find("Similar incidents")
        .expect("a similar section")..];
    assert!(section.contains(&format!("/incidents/{old}")), "{section}");
    assert!(section.contains("Rolled back deploy 4521"), "{section}");
    // An incident like no other has no section.
    let page = ann.get(&app, &format!("/incidents/{other}")).await;
    assert!(!page.html.contains("Similar incidents"));
    // The report form asks as the title is typed: the closed one is offered with what fixed it.
    let typed = ann
        .get(
            &app,
            &format!("/report/similar?title={}", urlencode("gateway 502")),
        )
        .await;
    assert_eq!(typed.status, StatusCode::OK);
    assert!(
        typed.html.contains(&format!("/incidents/{old}")),
        "{}",
        typed.html
    );
    assert!(
        typed.html.contains("Rolled back deploy 4521"),
        "{}",
        typed.html
    );
    let nothing = ann.get(&app, "/report/similar?title=zzzqqq").await;
    assert!(!nothing.html.contains("/incidents/"), "{}", nothing.html);
}

/// Monday 2 November 2026, 00:00 UTC, and hours after it.
fn t(hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap() + Duration::hours(hours)
}

fn minutes(m: i64) -> Duration {
    Duration::minutes(m)
}

async fn id_of(app: &TestApp, name: &str) -> i64 {
    app.get(&format!("/incidents/{name}")).await.body["id"]
        .as_i64()
        .unwrap()
}

/// Sets when an incident's commander took the role.
async fn commander_at(app: &TestApp, name: &str, at: DateTime<Utc>) {
    let id = id_of(app, name).await;
    let n = set_time(
        app.engine.db(),
        "participant_roles",
        "assumed_at",
        at,
        &format!("incident_id = {id} AND role = 'incident_commander'"),
    )
    .await;
    assert_eq!(n, 1);
}

async fn set_incident_time(app: &TestApp, name: &str, column: &str, at: DateTime<Utc>) {
    let id = id_of(app, name).await;
    assert_eq!(
        set_time(
            app.engine.db(),
            "incidents",
            column,
            at,
            &format!("id = {id}")
        )
        .await,
        1
    );
}

/// The fixtures of the metrics tests (hours from Monday 2 November 2026):
/// - A, high priority: reported 0, commander at 0:10, stable 1, closed 3; tactical reports at
///   1 (on time: within 2 h) and 4 (late); a scribe besides the commander.
/// - B, low priority: reported 168 (the next Monday), commander at 168:30, stable 170; two open
///   tasks, one due at 169 (overdue), one due in 2100.
/// - C, restricted: reported 24, commander at 24:20, active.
/// - D, of a type left out of metrics: reported 0, closed.
async fn fixtures(app: &TestApp) -> [String; 4] {
    let r = app
        .post(
            "/projects/default/incident-types",
            json!({"name": "Drill", "exclude_from_metrics": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    let a = declare(
        app,
        json!({"title": "A", "description": "a", "priority": "high", "reported_at": t(0)}),
    )
    .await;
    let b = declare(
        app,
        json!({"title": "B", "description": "b", "priority": "low", "reported_at": t(168)}),
    )
    .await;
    let c = declare(
        app,
        json!({"title": "C", "description": "c", "visibility": "restricted", "reported_at": t(24)}),
    )
    .await;
    let d = declare(
        app,
        json!({"title": "D", "description": "d", "type": "drill", "reported_at": t(0)}),
    )
    .await;
    let r = app
        .post(
            &format!("/incidents/{a}/roles"),
            json!({"email": "sam@example.com", "role": "scribe"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    for body in [
        json!({"kind": "tactical", "conditions": "c", "actions": "a", "needs": "n"}),
        json!({"kind": "tactical", "conditions": "c2", "actions": "a2", "needs": "n2"}),
    ] {
        let r = app.post(&format!("/incidents/{a}/reports"), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    }
    for task in ["Fix the alert", "Write the runbook"] {
        let r = app
            .post(
                &format!("/incidents/{b}/tasks"),
                json!({"description": task}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    }
    for (name, to) in [(&a, "close"), (&b, "stable"), (&d, "close")] {
        let r = app
            .post(&format!("/incidents/{name}/{to}"), json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    }
    app.run_pending_jobs().await;
    // The times, by hand.
    commander_at(app, &a, t(0) + minutes(10)).await;
    commander_at(app, &b, t(168) + minutes(30)).await;
    commander_at(app, &c, t(24) + minutes(20)).await;
    set_incident_time(app, &a, "stable_at", t(1)).await;
    set_incident_time(app, &a, "closed_at", t(3)).await;
    set_incident_time(app, &b, "stable_at", t(170)).await;
    let (ia, ib) = (id_of(app, &a).await, id_of(app, &b).await);
    let db = app.engine.db();
    for (pick, at) in [("MIN", t(1)), ("MAX", t(4))] {
        let report = format!("id = (SELECT {pick}(id) FROM reports WHERE incident_id = {ia})");
        assert_eq!(set_time(db, "reports", "created_at", at, &report).await, 1);
    }
    let first_task = format!("id = (SELECT MIN(id) FROM tasks WHERE incident_id = {ib})");
    assert_eq!(
        set_time(db, "tasks", "resolve_by", t(169), &first_task).await,
        1
    );
    let second_task = format!("id = (SELECT MAX(id) FROM tasks WHERE incident_id = {ib})");
    let later = Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap();
    assert_eq!(
        set_time(db, "tasks", "resolve_by", later, &second_task).await,
        1
    );
    [a, b, c, d]
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[tokio::test]
async fn the_metrics_match_hand_computed_figures() {
    let app = spawn_app().await;
    let [a, _, _, _] = fixtures(&app).await;
    let r = app.get("/metrics?project=default").await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let m = &r.body;
    // A, B and C; D's type is left out of metrics.
    assert_eq!(
        (
            m["count"].as_u64(),
            m["open"].as_u64(),
            m["closed"].as_u64()
        ),
        (Some(3), Some(2), Some(1)),
        "{m:#}"
    );
    // Acknowledged after 10, 30 and 20 minutes.
    assert_eq!(f(&m["mtta_seconds"]), 1200.0);
    // Stable after 1 h (A) and 2 h (B); only A closed, after 3 h.
    assert_eq!(f(&m["mttm_seconds"]), 5400.0);
    assert_eq!(f(&m["mttr_seconds"]), 10800.0);
    assert_eq!(f(&m["time_in_status_seconds"]["active"]), 3600.0);
    assert_eq!(f(&m["time_in_status_seconds"]["stable"]), 7200.0);
    assert_eq!(m["reports"], json!({"tactical": 2, "on_time": 1}));
    assert_eq!(m["tasks"], json!({"open": 2, "overdue": 1}));
    // A has a commander and a scribe, B and C their commander.
    assert!(
        (f(&m["participants_per_incident"]) - 4.0 / 3.0).abs() < 1e-9,
        "{m:#}"
    );
    assert_eq!(m["groups"], json!([]));

    // Per week: A and C the first week, B the next.
    let w = app.get("/metrics?project=default&group_by=week").await.body;
    let groups = w["groups"].as_array().unwrap();
    let keys: Vec<_> = groups.iter().map(|g| g["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["2026-11-02", "2026-11-09"], "{w:#}");
    assert_eq!(groups[0]["count"], 2);
    assert_eq!(f(&groups[0]["mttr_seconds"]), 10800.0);
    assert!(
        groups[1]["mttr_seconds"].is_null(),
        "nothing closed that week"
    );
    assert_eq!(f(&groups[1]["mttm_seconds"]), 7200.0);
    // Per priority and per type.
    let p = app.get("/metrics?group_by=priority").await.body;
    let high = p["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "high")
        .unwrap();
    assert_eq!(
        (high["count"].as_u64(), high["name"].as_str()),
        (Some(1), Some("High"))
    );
    let t = app.get("/metrics?group_by=type").await.body;
    assert!(
        t["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["key"] != "drill"),
        "{t:#}"
    );
    // A period: from the second Monday, only B.
    let later = app.get("/metrics?from=2026-11-09&to=2026-11-16").await.body;
    assert_eq!(later["count"], 1);
    assert!(later["mttr_seconds"].is_null() && later["time_in_status_seconds"]["active"].is_null());
    // Nothing to count: counts are 0 and means null.
    let none = app.get("/metrics?from=2030-01-01").await.body;
    assert_eq!(none["count"], 0);
    assert!(none["mtta_seconds"].is_null() && none["participants_per_incident"].is_null());
    // Re-opening A takes it out of the resolved ones.
    let r = app.post(&format!("/incidents/{a}/reopen"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    app.run_pending_jobs().await;
    assert!(app.get("/metrics").await.body["mttr_seconds"].is_null());
}

#[tokio::test]
async fn the_metrics_count_only_what_the_caller_may_see_and_name_bad_parameters() {
    let app = spawn_app().await;
    fixtures(&app).await;
    let member = app.token_for("eve@example.com").await;
    let r = app
        .call_as(Some(&member), Method::GET, "/metrics", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(
        r.body["count"], 2,
        "the restricted one is not counted: {:#}",
        r.body
    );
    assert_eq!(f(&r.body["mtta_seconds"]), 1200.0);
    assert_eq!(f(&r.body["participants_per_incident"]), 1.5);
    for (query, field) in [
        ("project=nope", "project"),
        ("group_by=month", "group_by"),
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
    ] {
        let r = app.get(&format!("/metrics?{query}")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(error_fields(&r.body), [field], "{query}");
    }
}

async fn rule(app: &TestApp, body: Value) {
    let r = app.post("/notification-rules", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
}

fn weekly(mails: &[Value]) -> Vec<String> {
    mails
        .iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .unwrap()
                .starts_with("Weekly incident report")
        })
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_weekly_report_goes_to_the_projects_targets_with_the_weeks_incidents_and_metric_deltas()
{
    let app = spawn_app().await;
    rule(&app, json!({"name": "leads", "filter": "all", "target_kind": "email", "target": "leads@example.com"})).await;
    rule(
        &app,
        json!({
            "name": "security", "filter": "all", "target_kind": "email",
            "target": "security@example.com", "restricted_safe": true
        }),
    )
    .await;
    let r = app
        .post("/projects", json!({"name": "Ops", "key_prefix": "OPS"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    assert_eq!(r.body["weekly_report"], false, "off by default");
    rule(&app, json!({"project": "ops", "name": "ops", "filter": "all", "target_kind": "email", "target": "ops@example.com"})).await;
    let r = app
        .patch("/projects/default", json!({"weekly_report": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["weekly_report"], true);
    let r = app
        .patch("/projects/default", json!({"weekly_report": null}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r.body), ["weekly_report"]);

    let now = dispatch_core::now();
    let earlier = declare(
        &app,
        json!({"title": "Old outage", "description": "d", "reported_at": now - Duration::days(10)}),
    )
    .await;
    let checkout = declare(
        &app,
        json!({"title": "Checkout down", "description": "d", "priority": "high"}),
    )
    .await;
    let r = app
        .post(
            &format!("/incidents/{checkout}/close"),
            json!({"resolution": "Restarted the pods"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    declare(&app, json!({"title": "Search slow", "description": "d"})).await;
    declare(
        &app,
        json!({"title": "Key leak", "description": "d", "visibility": "restricted"}),
    )
    .await;
    app.run_pending_jobs().await;

    let s = Scheduler::new(
        app.engine.clone(),
        vec![Schedule::parse("weekly_report", "* * * * * *")
            .unwrap()
            .unwrap()],
    );
    let t0 = dispatch_core::now();
    s.tick(t0).await.unwrap();
    assert_eq!(s.tick(t0 + Duration::seconds(2)).await.unwrap(), 1);
    app.run_pending_jobs().await;
    let leads = weekly(&app.mails_to("leads@example.com").await);
    assert_eq!(leads.len(), 1, "{leads:?}");
    let text = &leads[0];
    // Closing costed the closed one; the open ones wait for the hourly job.
    let cost = app.get(&format!("/incidents/{checkout}/costs")).await.body["total_cost"]
        .as_f64()
        .expect("costed when closed");
    assert!(
        text.contains(&format!(
            "{checkout}: Checkout down (closed, High priority, IC admin@example.com, cost {cost:.2})"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "Total cost: {cost:.2} (no figure the week before)"
        )),
        "{text}"
    );
    assert!(text.contains("Search slow (active"), "{text}");
    assert!(text.contains("cost not computed yet)"), "{text}");
    assert!(
        !text.contains(&earlier),
        "last week's incident is not this week's: {text}"
    );
    // Two open incidents this week against one the week before; the restricted one is left out.
    assert!(text.contains("Incidents reported: 2 (+1)"), "{text}");
    assert!(
        text.contains("Mean time to close: 0m (no figure the week before)"),
        "{text}"
    );
    assert!(!text.contains("Key leak"), "{text}");
    let security = weekly(&app.mails_to("security@example.com").await);
    assert_eq!(security.len(), 1);
    assert!(
        security[0].contains("Key leak") && security[0].contains("Incidents reported: 3 (+2)"),
        "{}",
        security[0]
    );
    // Projects with the setting off get none; the same week is not sent twice.
    assert!(weekly(&app.mails_to("ops@example.com").await).is_empty());
    s.tick(t0 + Duration::seconds(2)).await.unwrap();
    app.run_pending_jobs().await;
    assert_eq!(weekly(&app.mails_to("leads@example.com").await).len(), 1);

    // Asked for now, a project's report goes out whatever its setting.
    let r = app.post("/projects/ops/weekly-report", json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
    app.run_pending_jobs().await;
    let ops = weekly(&app.mails_to("ops@example.com").await);
    assert_eq!(ops.len(), 1);
    assert!(ops[0].contains("Incidents reported: 0 (+0)"), "{}", ops[0]);
    assert_eq!(
        app.post("/projects/nope/weekly-report", json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_dashboard_shows_the_metrics_and_exports_them_per_week() {
    let app = spawn_app().await;
    let now = dispatch_core::now();
    let name = declare(
        &app,
        json!({"title": "A", "description": "a", "reported_at": now - Duration::hours(3)}),
    )
    .await;
    let r = app
        .post(&format!("/incidents/{name}/close"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    app.run_pending_jobs().await;
    commander_at(&app, &name, now - Duration::minutes(150)).await;
    set_incident_time(&app, &name, "stable_at", now - Duration::hours(2)).await;
    set_incident_time(&app, &name, "closed_at", now - Duration::hours(1)).await;
    let ann = signed_in(&app, "ann@example.com", "member").await;
    let p = ann.get(&app, "/dashboard?weeks=2").await;
    assert_eq!(p.status, StatusCode::OK);
    for (id, shown) in [("d-mtta", "30m"), ("d-mttm", "1h 0m"), ("d-mttr", "2h 0m")] {
        assert!(
            p.html.contains(&format!(r#"id="{id}">{shown}<"#)),
            "{id}: {}",
            p.html
        );
    }
    assert!(
        p.html
            .contains(r#"href="/dashboard.csv?project=&#38;weeks=2""#),
        "{}",
        p.html
    );
    let csv = ann.get(&app, "/dashboard.csv?weeks=2").await;
    assert_eq!(csv.status, StatusCode::OK);
    let lines: Vec<&str> = csv.html.lines().collect();
    assert!(
        lines[0].starts_with("week,count,open,closed,mtta_seconds,mttm_seconds,mttr_seconds"),
        "{}",
        csv.html
    );
    assert_eq!(lines.len(), 2, "one week with incidents: {}", csv.html);
    let cells: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(
        &cells[1..7],
        ["1", "0", "1", "1800", "3600", "7200"],
        "{}",
        csv.html
    );
    let bad = ann.get(&app, "/dashboard.csv?weeks=99").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn created(app: &TestApp, path: &str, body: Value) {
    let r = app.post(path, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{path}: {:#}", r.body);
}

#[tokio::test]
async fn exclusive_and_required_tag_types_and_severities_not_allowed_for_stable_are_refused_by_name(
) {
    let app = spawn_app().await;
    created(
        &app,
        "/projects/default/tag-types",
        json!({"name": "env", "exclusive": true}),
    )
    .await;
    created(
        &app,
        "/projects/default/tag-types",
        json!({"name": "team", "required": true}),
    )
    .await;
    for (name, kind) in [("prod", "env"), ("staging", "env"), ("payments", "team")] {
        created(
            &app,
            "/projects/default/tags",
            json!({"name": name, "tag_type": kind}),
        )
        .await;
    }
    // Two tags of an exclusive type: refused, naming the field, and nothing written.
    let r = app
        .post(
            "/incidents",
            json!({"title": "t", "description": "d", "tags": ["env:prod", "env:staging"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:#}", r.body);
    assert_eq!(error_fields(&r.body), ["tags"]);
    assert!(r.body.to_string().contains("exclusive"), "{:#}", r.body);
    assert_eq!(app.get("/incidents").await.body["total"], 0);
    // The same on a change.
    let name = declare(
        &app,
        json!({"title": "t", "description": "d", "tags": ["env:prod"]}),
    )
    .await;
    let r = app
        .patch(
            &format!("/incidents/{name}"),
            json!({"tags": ["env:prod", "env:staging"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:#}", r.body);
    assert_eq!(error_fields(&r.body), ["tags"]);
    // Closing without a tag of the required type: refused, naming it; with one, closed.
    let r = app
        .post(&format!("/incidents/{name}/close"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:#}", r.body);
    assert_eq!(error_fields(&r.body), ["tags"]);
    assert!(r.body.to_string().contains("team"), "{:#}", r.body);
    assert_eq!(
        app.get(&format!("/incidents/{name}")).await.body["status"],
        "active"
    );
    // Declaring one already closed without it: refused the same, and it takes no number (on
    // PostgreSQL numbers are taken outside the declaration's transaction, after its checks).
    let r = app
        .post(
            "/incidents",
            json!({"title": "t", "description": "d", "status": "closed", "reported_at": "2026-11-18T10:00:00Z", "tags": ["env:prod"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:#}", r.body);
    assert_eq!(error_fields(&r.body), ["tags"]);
    assert_eq!(
        declare(&app, json!({"title": "t2", "description": "d"})).await,
        "INC-2"
    );
    // A severity that does not allow stable: marking stable is refused, naming the severity.
    created(
        &app,
        "/projects/default/incident-severities",
        json!({"name": "Unknown yet", "allowed_for_stable": false}),
    )
    .await;
    let r = app
        .patch(
            &format!("/incidents/{name}"),
            json!({"severity": "unknown-yet", "tags": ["env:prod", "team:payments"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let r = app
        .post(&format!("/incidents/{name}/stable"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:#}", r.body);
    assert_eq!(error_fields(&r.body), ["severity"]);
    assert_eq!(
        app.get(&format!("/incidents/{name}")).await.body["status"],
        "active"
    );
    let r = app
        .patch(&format!("/incidents/{name}"), json!({"severity": "low"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let r = app
        .post(&format!("/incidents/{name}/close"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn declaring_from_chat_lists_similar_past_incidents_in_the_answer_and_the_new_rooms_welcome()
{
    let app = spawn_app().await;
    let (old, other, _, _) = payments_history(&app).await;
    let secret = declare(
        &app,
        json!({"title": "Payments API 502 errors on the vault", "description": "502 gateway", "visibility": "restricted"}),
    )
    .await;
    app.run_pending_jobs().await;
    // Declared from a chat (here the commands endpoint of another incident's room).
    let r = app
        .post(
            &format!("/incidents/{other}/commands"),
            json!({"text": "/dispatch-report-incident \"Payments API 502 errors once more\" \"the gateway answers 502\""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let answer = r.body["text"].as_str().unwrap().to_string();
    let similar = &answer[answer
        .find("Similar past incidents:")
        .unwrap_or_else(|| panic!("no similar incidents: {answer}"))..];
    assert!(
        similar.contains(&format!(
            "{old}: Payments API returning 502 errors (closed). Resolution: Rolled back deploy 4521 of the gateway."
        )),
        "{answer}"
    );
    assert!(similar.contains(&format!("/incidents/{old}")), "{answer}");
    // What is said in a chat may be read by anyone there: no restricted incident.
    assert!(!answer.contains(&secret), "{answer}");
    let new = answer
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_end_matches(':')
        .to_string();
    // The room is made by a job; its welcome lists them too.
    app.run_pending_jobs().await;
    let room = app.get(&format!("/incidents/{new}/room")).await.body;
    let welcome = room["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("no room: {room:#}"))
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default())
        .find(|t| t.contains("Similar past incidents:"))
        .unwrap_or_else(|| panic!("no similar incidents in the welcome: {room:#}"))
        .to_string();
    assert!(
        welcome.contains("Resolution: Rolled back deploy 4521 of the gateway.")
            && welcome.contains(&format!("/incidents/{old}")),
        "{welcome}"
    );
    assert!(!welcome.contains(&secret), "{welcome}");
}
