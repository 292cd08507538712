//! Stakeholder mail with the built-in providers: the incident's notifications group, edited from
//! chat and over the API under one permission rule, receives the reports and status changes in
//! the outbox or through a real SMTP server (threaded per incident); unsubscribing stops it.

use crate::common::smtp::{mailing_to, SmtpSink};
use crate::common::{spawn_app, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const EXECUTIVE: &str = r#"/dispatch-status-report current_status="Degraded" overview="Index rebuild running" next_steps="Verify freshness""#;

async fn cmd(app: &TestApp, token: &str, text: &str) -> crate::common::Res {
    app.call_as(
        Some(token),
        Method::POST,
        "/incidents/INC-1/commands",
        Some(json!({ "text": text })),
    )
    .await
}

async fn ok(app: &TestApp, text: &str) -> String {
    let token = app.token.clone();
    let r = cmd(app, &token, text).await;
    assert_eq!(r.status, StatusCode::OK, "{text}: {}", r.body);
    r.body["text"].as_str().unwrap_or_default().to_string()
}

/// The outbox's mail to `to`, newest first.
async fn mail_to(app: &TestApp, to: &str) -> Vec<Value> {
    let r = app.get(&format!("/outbox?to={to}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body.as_array().cloned().unwrap_or_default()
}

async fn group(app: &TestApp) -> Value {
    let r = app.get("/incidents/INC-1/group/notifications").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

#[tokio::test]
async fn the_notifications_group_edited_from_chat_receives_the_next_executive_report() {
    let app = spawn_app().await;
    app.declare("Search index stale").await;
    app.run_pending_jobs().await;
    assert_eq!(group(&app).await["members"], json!([]));

    let text = ok(
        &app,
        "/dispatch-notifications-group add vp-eng@example.com cfo@example.com",
    )
    .await;
    assert!(
        text.contains("added cfo@example.com, vp-eng@example.com"),
        "{text}"
    );
    let g = group(&app).await;
    assert_eq!(
        g["members"],
        json!(["cfo@example.com", "vp-eng@example.com"])
    );
    assert_eq!(g["name"], "inc-1-notifications");
    let events = app
        .get("/incidents/INC-1/timeline?type=notifications_group_changed")
        .await
        .body;
    assert_eq!(events.as_array().map(Vec::len), Some(1), "{events}");

    ok(&app, EXECUTIVE).await;
    app.run_pending_jobs().await;
    let to_vp = mail_to(&app, "vp-eng@example.com").await;
    assert_eq!(to_vp.len(), 1, "{to_vp:?}");
    let m = &to_vp[0];
    assert_eq!(m["subject"], "[INC-1] Executive report: Search index stale");
    assert_eq!(m["to"], json!(["vp-eng@example.com"]));
    assert!(
        m["text"]
            .as_str()
            .unwrap()
            .contains("Index rebuild running"),
        "{m}"
    );
    assert!(
        m["html"]
            .as_str()
            .unwrap()
            .contains("Index rebuild running"),
        "{m}"
    );
    assert_eq!(mail_to(&app, "cfo@example.com").await.len(), 1);
    let sent = app
        .get("/incidents/INC-1/timeline?type=email_sent")
        .await
        .body;
    assert!(
        sent.as_array().unwrap().iter().any(|e| e["description"]
            .as_str()
            .unwrap()
            .contains("vp-eng@example.com")),
        "{sent}"
    );

    // Removed, the address hears of nothing more; the one left does.
    let text = ok(&app, "/dispatch-notifications-group remove cfo@example.com").await;
    assert!(text.contains("removed cfo@example.com"), "{text}");
    ok(
        &app,
        r#"/dispatch-status-report conditions="Rebuild at 60%" actions="Watching" needs="Nothing""#,
    )
    .await;
    app.run_pending_jobs().await;
    assert_eq!(mail_to(&app, "cfo@example.com").await.len(), 1);
    let to_vp = mail_to(&app, "vp-eng@example.com").await;
    assert_eq!(to_vp.len(), 2);
    assert_eq!(
        to_vp[0]["subject"],
        "[INC-1] Tactical report: Search index stale"
    );
}

#[tokio::test]
async fn the_group_is_edited_over_the_api_with_bad_input_refused_by_field() {
    let app = spawn_app().await;
    app.declare("Search index stale").await;
    let path = "/incidents/INC-1/group/notifications/members";
    let r = app.post(path, json!({"email": "VP@Example.com"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["members"], json!(["vp@example.com"]));
    let r = app.post(path, json!({"email": "not an address"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(crate::common::error_fields(&r.body), vec!["email"]);
    let r = app.post(path, json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(group(&app).await["members"], json!(["vp@example.com"]));

    let r = app
        .call(Method::DELETE, &format!("{path}/vp@example.com"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["members"], json!([]));
    let events = app
        .get("/incidents/INC-1/timeline?type=notifications_group_changed")
        .await
        .body;
    let said: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["description"].as_str().unwrap())
        .collect();
    assert_eq!(said.len(), 2, "{events}");
    assert!(
        said.iter().any(|d| d.contains("added vp@example.com")),
        "{said:?}"
    );
    assert!(
        said.iter().any(|d| d.contains("removed vp@example.com")),
        "{said:?}"
    );
    let r = app.get("/incidents/INC-99/group/notifications").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn a_participant_may_not_edit_the_group_and_is_told_who_may() {
    let app = spawn_app().await;
    app.declare("Search index stale").await;
    app.give_role("INC-1", "pat@example.com", "participant")
        .await;
    let pat = app.token_for("pat@example.com").await;
    let r = cmd(
        &app,
        &pat,
        "/dispatch-notifications-group add vp@example.com",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let m = r.body["error"]["message"].as_str().unwrap();
    assert!(m.contains("the incident commander or the scribe"), "{m}");
    let r = app
        .call_as(
            Some(&pat),
            Method::POST,
            "/incidents/INC-1/group/notifications/members",
            Some(json!({"email": "vp@example.com"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let m = r.body["error"]["message"].as_str().unwrap();
    assert!(m.contains("the incident commander or the scribe"), "{m}");
    assert_eq!(group(&app).await["members"], json!([]));
    // Reading it is for anyone who sees the incident.
    let r = app
        .call_as(
            Some(&pat),
            Method::GET,
            "/incidents/INC-1/group/notifications",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn over_smtp_an_incidents_stakeholder_mail_is_one_thread_in_html_and_text() {
    let sink = SmtpSink::start();
    let app = TestApp::builder()
        .providers(mailing_to(&sink))
        .spawn()
        .await;
    app.declare("Search index stale").await;
    app.run_pending_jobs().await;
    ok(&app, "/dispatch-notifications-group add vp-eng@example.com").await;
    ok(&app, EXECUTIVE).await;
    app.run_pending_jobs().await;
    ok(&app, "/dispatch-mark-stable").await;
    app.run_pending_jobs().await;

    let to_vp: Vec<Value> = sink
        .received()
        .into_iter()
        .filter(|m| m["rcpt_tos"] == json!(["vp-eng@example.com"]))
        .collect();
    assert_eq!(to_vp.len(), 2, "{to_vp:?}");
    assert_eq!(
        to_vp[0]["subject"],
        "[INC-1] Executive report: Search index stale"
    );
    assert_eq!(to_vp[1]["subject"], "[INC-1] Stable: Search index stale");
    let root = to_vp[0]["in_reply_to"].as_str().expect("In-Reply-To");
    assert!(
        root.starts_with('<') && root.ends_with("@example.org>"),
        "{root}"
    );
    for m in &to_vp {
        assert_eq!(m["in_reply_to"], root, "{m}");
        assert_eq!(m["references"], root, "{m}");
        assert_ne!(m["message_id"], root, "{m}");
        assert!(
            m["html"].as_str().is_some_and(|h| h.contains("<h2>")),
            "{m}"
        );
        assert!(m["text"].as_str().is_some(), "{m}");
    }
    assert_ne!(to_vp[0]["message_id"], to_vp[1]["message_id"]);
}

#[tokio::test]
async fn a_stakeholder_who_unsubscribes_gets_no_more_mail_until_they_subscribe_again() {
    let app = spawn_app().await;
    app.declare("Search index stale").await;
    app.run_pending_jobs().await;
    let vp = app.token_for("vp@example.com").await;
    ok(&app, "/dispatch-notifications-group add vp@example.com").await;
    ok(&app, EXECUTIVE).await;
    app.run_pending_jobs().await;
    assert_eq!(mail_to(&app, "vp@example.com").await.len(), 1);

    let r = app
        .call_as(
            Some(&vp),
            Method::DELETE,
            "/incidents/INC-1/subscribe",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(group(&app).await["unsubscribed"], json!(["vp@example.com"]));
    ok(&app, EXECUTIVE).await;
    ok(&app, "/dispatch-mark-stable").await;
    app.run_pending_jobs().await;
    assert_eq!(
        mail_to(&app, "vp@example.com").await.len(),
        1,
        "nothing after unsubscribing"
    );
    let events = app
        .get("/incidents/INC-1/timeline?type=unsubscribed")
        .await
        .body;
    assert_eq!(events.as_array().map(Vec::len), Some(1), "{events}");

    app.subscribe("INC-1", &vp).await;
    ok(&app, EXECUTIVE).await;
    app.run_pending_jobs().await;
    assert_eq!(mail_to(&app, "vp@example.com").await.len(), 2);
}
