//! Response cost against hand-computed fixtures whose timestamps the tests set: the classic
//! model (roles × hours × weight, a third past 24 hours, the review's hours), the activity model
//! of a cost model (room messages and chat commands, overlaps counted once), and where costs
//! show: the incident, its page, the metrics and the weekly report.

use crate::common::pages::signed_in;
use crate::common::{error_fields, spawn_app, TestApp};
use chrono::{DateTime, Duration, TimeZone, Utc};
use dispatch_engine::scheduler::{Schedule, Scheduler};
use dispatch_store::testing::set_time;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Monday 2 November 2026, 00:00 UTC, and minutes after it.
fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap() + Duration::minutes(minutes)
}

async fn declare(app: &TestApp, body: Value) -> (String, i64) {
    let r = app.post("/incidents", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    (
        r.body["name"].as_str().unwrap().to_string(),
        r.body["id"].as_i64().unwrap(),
    )
}

async fn set(app: &TestApp, table: &str, column: &str, t: DateTime<Utc>, condition: &str) {
    let n = set_time(app.engine.db(), table, column, t, condition).await;
    assert!(n > 0, "no row of {table} where {condition}");
}

/// Runs the `calculate_costs` schedule once, as the hourly scheduler would.
async fn calculate_costs(app: &TestApp, round: i64) {
    let s = Scheduler::new(
        app.engine.clone(),
        vec![Schedule::parse("calculate_costs", "* * * * * *")
            .unwrap()
            .unwrap()],
    );
    // The first tick ever starts counting; a later one fires what is due since. The
    // scheduler's clock runs ahead of the real one: each run a minute further.
    let t0 = dispatch_core::now() + Duration::minutes(round);
    let fired = s.tick(t0).await.unwrap() + s.tick(t0 + Duration::seconds(2)).await.unwrap();
    assert!(fired >= 1);
    app.run_pending_jobs().await;
}

async fn costs(app: &TestApp, name: &str) -> Value {
    let r = app.get(&format!("/incidents/{name}/costs")).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    r.body
}

/// The default project at 100 an hour (208000 a year over 2080 hours).
async fn hundred_an_hour(app: &TestApp) {
    let r = app
        .patch(
            "/projects/default",
            json!({"annual_employee_cost": 208_000, "business_year_hours": 2080}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["annual_employee_cost"], 208_000);
}

#[tokio::test]
async fn the_classic_cost_weighs_each_role_counts_a_third_past_a_day_and_adds_the_review() {
    let app = spawn_app().await;
    let r = app.get("/projects/default").await;
    assert_eq!(
        (
            &r.body["annual_employee_cost"],
            &r.body["business_year_hours"]
        ),
        (&json!(50_000), &json!(2080)),
        "the original's defaults"
    );
    let r = app
        .patch("/projects/default", json!({"business_year_hours": 0}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r.body), ["business_year_hours"]);
    hundred_an_hour(&app).await;

    let (name, id) = declare(
        &app,
        json!({"title": "Disk full", "description": "d", "reported_at": at(0)}),
    )
    .await;
    let r = app
        .post(
            &format!("/incidents/{name}/roles"),
            json!({"email": "bo@example.com", "role": "participant"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let r = app
        .post(
            &format!("/incidents/{name}/close"),
            json!({"resolution": "Grew the volume"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    app.run_pending_jobs().await;
    // Closing computed it already, from the real (short) times.
    assert_eq!(costs(&app, &name).await["items"][0]["model"], "classic");

    // By hand: closed at 30 h; the commander (admin, also the reporter) held the role for the
    // last 2 h, bo was a participant for all 30 h; every other role from the close (0 h).
    let of = format!("incident_id = {id}");
    set(&app, "participant_roles", "assumed_at", at(30 * 60), &of).await;
    let commander = format!("{of} AND role = 'incident_commander'");
    set(
        &app,
        "participant_roles",
        "assumed_at",
        at(28 * 60),
        &commander,
    )
    .await;
    let participant = format!("{of} AND role = 'participant'");
    set(&app, "participant_roles", "assumed_at", at(0), &participant).await;
    set(
        &app,
        "incidents",
        "closed_at",
        at(30 * 60),
        &format!("id = {id}"),
    )
    .await;
    // The cost on record was computed before that (hand-set) close: the hourly job redoes it.
    set(&app, "incident_costs", "computed_at", at(0), &of).await;
    calculate_costs(&app, 0).await;

    // Commander 2 h × 1 = 2 h; participant (24 + 6 / 3) h × 0.5 = 13 h; reporter 0 h.
    // Review: 1 h + 2 participants × 0.5 h = 2 h. 17 h × 100 = 1700.00.
    let body = costs(&app, &name).await;
    assert_eq!(body["total_cost"], 1700.0, "{body:#}");
    let item = &body["items"][0];
    assert_eq!(item["cost_type"], "Response Cost");
    assert_eq!(item["default"], true);
    assert_eq!(item["details"]["role_hours"], 15.0, "{item:#}");
    assert_eq!(item["details"]["review_hours"], 2.0, "{item:#}");
    assert_eq!(item["details"]["hourly_rate"], 100.0);
    let detail = app.get(&format!("/incidents/{name}")).await.body;
    assert_eq!(detail["total_cost"], 1700.0);

    // The metrics add it up per group, and the incident page shows it.
    let m = app.get("/metrics?group_by=type").await.body;
    assert_eq!(
        (&m["total_cost"], &m["avg_cost"]),
        (&json!(1700.0), &json!(1700.0)),
        "{m:#}"
    );
    assert_eq!(m["groups"][0]["total_cost"], 1700.0);
    let ann = signed_in(&app, "ann@example.com", "admin").await;
    let page = ann.get(&app, &format!("/incidents/{name}")).await;
    assert!(
        page.html.contains("<dt>Cost</dt>") && page.html.contains("1700.00"),
        "{}",
        page.html
    );
}

#[tokio::test]
async fn a_cost_model_credits_each_activity_once_per_person_at_its_response_time() {
    let app = spawn_app().await;
    // 60 an hour: one per minute.
    let r = app
        .patch(
            "/projects/default",
            json!({"annual_employee_cost": 124_800, "business_year_hours": 2080}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let r = app
        .post(
            "/projects/default/cost-models",
            json!({"name": "Chat", "activities": {"room_message": 3600, "nap": 5}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r.body), ["activities.nap"]);
    let r = app
        .post(
            "/projects/default/cost-models",
            json!({"name": "Chat", "activities": {"room_message": 600, "command": 120,
                "page_acknowledgement": 300}, "incident_types": ["nope"]}),
        )
        .await;
    assert_eq!(error_fields(&r.body), ["incident_types"]);
    let r = app
        .post(
            "/projects/default/cost-models",
            json!({"name": "Chat", "activities": {"room_message": 600, "command": 120,
                "page_acknowledgement": 300}, "incident_types": ["default"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    assert_eq!(r.body["incident_types"], json!(["default"]));
    let model = r.body["id"].as_i64().unwrap();
    let r = app.get("/projects/default/incident-types").await.body;
    assert_eq!(r[0]["cost_model_id"], model);

    let (name, id) = declare(&app, json!({"title": "Queue stuck", "description": "d"})).await;
    // The room is made by a job.
    app.run_pending_jobs().await;
    let bo = app.token_for("bo@example.com").await;
    let r = app
        .post(
            &format!("/incidents/{name}/roles"),
            json!({"email": "bo@example.com", "role": "participant"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    for (token, text) in [
        (app.token.as_str(), "Looking at the consumers"),
        (app.token.as_str(), "Found a poison message"),
        (
            app.token.as_str(),
            "/dispatch-edit-incident title=Queue-stuck-on-poison",
        ),
        (bo.as_str(), "Draining the queue"),
    ] {
        let r = app
            .call_as(
                Some(token),
                Method::POST,
                &format!("/incidents/{name}/room/messages"),
                Some(json!({ "text": text })),
            )
            .await;
        assert!(r.status.is_success(), "{text}: {:#}", r.body);
    }
    app.run_pending_jobs().await;

    // By hand (10 min per message, 2 per command): admin's messages at 0 and 5 min overlap
    // ([0, 15] once), the command's message at 5 min lies inside, the command itself at 30 min
    // adds [30, 32]; bo's message at 60 min adds [60, 70]. 15 + 2 + 10 = 27 min = 27.00.
    let rooms = format!("room_id IN (SELECT id FROM rooms WHERE incident_id = {id})");
    for (text, minute) in [
        ("Looking at the consumers", 0),
        ("Found a poison message", 5),
        ("/dispatch-edit-incident title=Queue-stuck-on-poison", 5),
        ("Draining the queue", 60),
    ] {
        let cond = format!("{rooms} AND text = '{text}'");
        set(&app, "room_messages", "created_at", at(minute), &cond).await;
    }
    // Dispatch's own messages (its answers, the welcome) are nobody's activity.
    let chat_commands = format!("incident_id = {id} AND transport = 'room'");
    set(&app, "events", "occurred_at", at(30), &chat_commands).await;
    calculate_costs(&app, 0).await;

    let body = costs(&app, &name).await;
    assert_eq!(body["total_cost"], 27.0, "{body:#}");
    let item = &body["items"][0];
    assert_eq!(item["model"], "activity");
    assert_eq!(item["details"]["cost_model"], "Chat");
    assert_eq!(item["details"]["people"]["admin@example.com"], 17 * 60);
    assert_eq!(item["details"]["people"]["bo@example.com"], 600);

    // A disabled model leaves the type to the classic model.
    let r = app
        .patch(
            &format!("/projects/default/cost-models/{model}"),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    calculate_costs(&app, 1).await;
    assert_eq!(costs(&app, &name).await["items"][0]["model"], "classic");
}

#[tokio::test]
async fn cost_types_are_editable_but_the_computed_one_stays() {
    let app = spawn_app().await;
    let r = app.get("/projects/default/cost-types").await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body[0]["name"], "Response Cost");
    let default = r.body[0]["id"].as_i64().unwrap();
    let r = app
        .post(
            "/projects/default/cost-types",
            json!({"name": "Vendor support", "category": "External"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    let vendor = r.body["id"].as_i64().unwrap();
    let r = app
        .post(
            "/projects/default/cost-types",
            json!({"name": "vendor SUPPORT"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r.body), ["name"]);
    let r = app.post("/projects/default/cost-types", json!({})).await;
    assert_eq!(error_fields(&r.body), ["name"]);
    let r = app
        .patch(
            &format!("/projects/default/cost-types/{vendor}"),
            json!({"details": "Paid support calls"}),
        )
        .await;
    assert_eq!(r.body["details"], "Paid support calls");
    let r = app
        .call(
            Method::DELETE,
            &format!("/projects/default/cost-types/{default}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:#}", r.body);
    let r = app
        .call(
            Method::DELETE,
            &format!("/projects/default/cost-types/{vendor}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.get("/projects/default/cost-types").await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
}
