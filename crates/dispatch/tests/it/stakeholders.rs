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

/// The path and query of the signed unsubscribe link in a mail's text.
fn unsubscribe_path(text: &str) -> String {
    let at = text
        .find("/unsubscribe?token=")
        .unwrap_or_else(|| panic!("no unsubscribe link in {text}"));
    text[at..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect()
}

/// A request as a browser or a mail client makes it, signed out: (status, content type, body).
async fn visit(
    app: &TestApp,
    method: Method,
    path: &str,
    body: &str,
) -> (StatusCode, String, String) {
    let res = app
        .http
        .request(method, format!("{}{path}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let kind = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (res.status(), kind, res.text().await.unwrap())
}

/// An executive report on incident `n`.
async fn report(app: &TestApp, n: &str) {
    let r = app
        .call(
            Method::POST,
            &format!("/incidents/{n}/commands"),
            Some(json!({ "text": EXECUTIVE })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

/// The descriptions of the incident's timeline events of one type, oldest first.
async fn said(app: &TestApp, incident: &str, kind: &str) -> Vec<String> {
    let r = app
        .get(&format!("/incidents/{incident}/timeline?type={kind}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["description"].as_str().unwrap().to_string())
        .collect()
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
    let events = said(&app, "INC-1", "notifications_group_changed").await;
    assert_eq!(events.len(), 1, "{events:?}");

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
    let sent = said(&app, "INC-1", "email_sent").await;
    assert!(
        sent.iter().any(|d| d.contains("vp-eng@example.com")),
        "{sent:?}"
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
    let changes = said(&app, "INC-1", "notifications_group_changed").await;
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(
        changes.iter().any(|d| d.contains("added vp@example.com")),
        "{changes:?}"
    );
    assert!(
        changes.iter().any(|d| d.contains("removed vp@example.com")),
        "{changes:?}"
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
    // The first mail of the incident is the thread's root; the next one answers it.
    let root = to_vp[0]["message_id"].as_str().expect("Message-ID");
    assert!(
        root.starts_with('<') && root.ends_with("@example.org>"),
        "{root}"
    );
    assert_eq!(to_vp[0]["in_reply_to"], Value::Null, "{}", to_vp[0]);
    assert_eq!(to_vp[0]["references"], Value::Null, "{}", to_vp[0]);
    assert_eq!(to_vp[1]["in_reply_to"], root, "{}", to_vp[1]);
    assert_eq!(to_vp[1]["references"], root, "{}", to_vp[1]);
    assert_ne!(to_vp[1]["message_id"], root);
    for m in &to_vp {
        assert!(
            m["html"].as_str().is_some_and(|h| h.contains("<h2>")),
            "{m}"
        );
        assert!(m["text"].as_str().is_some(), "{m}");
        // One-click unsubscribe (RFC 8058), with the same signed link as in the text.
        let header = m["list_unsubscribe"].as_str().expect("List-Unsubscribe");
        let link = unsubscribe_path(m["text"].as_str().unwrap());
        assert!(
            header.starts_with('<') && header.ends_with(&format!("{link}>")),
            "{header} / {link}"
        );
        assert_eq!(m["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
    }
    // A stakeholder added later has a thread of their own, rooted at their first mail.
    ok(&app, "/dispatch-notifications-group add cfo@example.com").await;
    ok(&app, EXECUTIVE).await;
    app.run_pending_jobs().await;
    let all = sink.received();
    let to = |who: &str| -> Vec<Value> {
        all.iter()
            .filter(|m| m["rcpt_tos"] == json!([who]))
            .cloned()
            .collect()
    };
    let to_cfo = to("cfo@example.com");
    assert_eq!(to_cfo.len(), 1, "{to_cfo:?}");
    assert_eq!(to_cfo[0]["in_reply_to"], Value::Null);
    let to_vp = to("vp-eng@example.com");
    assert_eq!(to_vp.len(), 3);
    assert_eq!(to_vp[2]["in_reply_to"], root);
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
    let events = said(&app, "INC-1", "unsubscribed").await;
    assert_eq!(events.len(), 1, "{events:?}");

    app.subscribe("INC-1", &vp).await;
    ok(&app, EXECUTIVE).await;
    app.run_pending_jobs().await;
    assert_eq!(mail_to(&app, "vp@example.com").await.len(), 2);
}

/// The texts of the messages in an incident's room.
async fn room_texts(app: &TestApp, incident: &str) -> Vec<String> {
    let room = app.get(&format!("/incidents/{incident}/room")).await.body;
    room["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_report_is_posted_once_to_the_conversation_targets_of_the_matching_rules() {
    let app = spawn_app().await;
    // The stakeholders' room: the room of a standing incident; and a rule that matches nothing.
    app.declare("Stakeholder updates").await;
    for (name, filter) in [("updates room", "all"), ("never", "priority = nope")] {
        let r = app
            .post(
                "/notification-rules",
                json!({"name": name, "filter": filter, "target_kind": "conversation", "target": "INC-1"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    app.declare("Search index stale").await;
    app.run_pending_jobs().await;
    let before = room_texts(&app, "INC-1").await.len();
    let r = app
        .call(
            Method::POST,
            "/incidents/INC-2/commands",
            Some(json!({ "text": EXECUTIVE })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.run_pending_jobs().await;
    let texts = room_texts(&app, "INC-1").await;
    let posted: Vec<&String> = texts[before..]
        .iter()
        .filter(|t| t.contains("Index rebuild running"))
        .collect();
    assert_eq!(posted.len(), 1, "{texts:?}");
    assert!(posted[0].contains("Search index stale"), "{}", posted[0]);
    // On the report's incident's timeline, naming the rule (and only the one that matched).
    let told: Vec<String> = said(&app, "INC-2", "notification_sent")
        .await
        .into_iter()
        .filter(|d| d.starts_with("the report was sent"))
        .collect();
    assert_eq!(
        told,
        ["the report was sent to 1 notification target(s): updates room"]
    );
    // The job is keyed per report and rule: running the queue again posts nothing more.
    app.run_pending_jobs().await;
    assert_eq!(room_texts(&app, "INC-1").await.len(), texts.len());
}

#[tokio::test]
async fn the_signed_link_in_a_stakeholders_mail_asks_then_unsubscribes_them_from_the_incident() {
    let app = spawn_app().await;
    app.declare("Search index stale").await;
    app.run_pending_jobs().await;
    ok(
        &app,
        "/dispatch-notifications-group add vp@example.com cfo@example.com",
    )
    .await;
    ok(&app, EXECUTIVE).await;
    app.run_pending_jobs().await;
    let mail = &mail_to(&app, "vp@example.com").await[0];
    let link = unsubscribe_path(mail["text"].as_str().unwrap());
    assert!(
        mail["html"]
            .as_str()
            .unwrap()
            .contains(&link.replace('&', "&amp;")),
        "{mail}"
    );
    let cfo_link = unsubscribe_path(
        mail_to(&app, "cfo@example.com").await[0]["text"]
            .as_str()
            .unwrap(),
    );
    assert_ne!(link, cfo_link, "a link per address");

    // Following it shows a page that asks; nothing changes until the button is pressed.
    let (status, kind, html) = visit(&app, Method::GET, &link, "").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(
        html.contains("vp@example.com")
            && html.contains("INC-1")
            && html.contains("<form method=\"post\""),
        "{html}"
    );
    assert_eq!(group(&app).await["unsubscribed"], json!([]));

    // The one-click POST a mail client makes (RFC 8058).
    let (status, kind, html) = visit(&app, Method::POST, &link, "List-Unsubscribe=One-Click").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(
        html.contains("will receive no more e-mail about INC-1"),
        "{html}"
    );
    assert_eq!(group(&app).await["unsubscribed"], json!(["vp@example.com"]));
    assert_eq!(
        said(&app, "INC-1", "unsubscribed").await,
        ["vp@example.com unsubscribed from e-mail about INC-1"]
    );
    // Again: nothing more happens.
    let (status, _, _) = visit(&app, Method::POST, &link, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(said(&app, "INC-1", "unsubscribed").await.len(), 1);

    // Later mail skips the address; the other member still hears.
    ok(&app, EXECUTIVE).await;
    ok(&app, "/dispatch-mark-stable").await;
    app.run_pending_jobs().await;
    assert_eq!(mail_to(&app, "vp@example.com").await.len(), 1);
    assert_eq!(mail_to(&app, "cfo@example.com").await.len(), 3);

    // An altered or missing token is refused with a page for a person, not JSON.
    let mut altered = link.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [
        altered.as_str(),
        "/unsubscribe",
        "/unsubscribe?token=nonsense",
    ] {
        for method in [Method::GET, Method::POST] {
            let (status, kind, html) = visit(&app, method.clone(), bad, "").await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{method} {bad}: {html}"
            );
            assert!(kind.starts_with("text/html"), "{kind}");
            assert!(
                html.contains("this unsubscribe link is not valid"),
                "{html}"
            );
        }
    }
    assert_eq!(group(&app).await["unsubscribed"], json!(["vp@example.com"]));
}

#[tokio::test]
async fn a_notification_rules_address_unsubscribed_by_its_link_gets_no_more_of_that_incidents_mail()
{
    let app = spawn_app().await;
    let r = app
        .post(
            "/notification-rules",
            json!({"name": "leadership", "filter": "all", "target_kind": "email",
                   "target": "exec@example.com, ops-leads@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    app.declare("Search index stale").await;
    app.declare("Billing delayed").await;
    app.run_pending_jobs().await;
    let executive = |list: Vec<Value>| -> Vec<Value> {
        list.into_iter()
            .filter(|m| m["subject"].as_str().unwrap().contains("Executive report"))
            .collect()
    };
    report(&app, "INC-1").await;
    app.run_pending_jobs().await;
    // One mail per address, each with its own link.
    let to_exec = executive(mail_to(&app, "exec@example.com").await);
    assert_eq!(to_exec.len(), 1, "{to_exec:?}");
    assert_eq!(to_exec[0]["to"], json!(["exec@example.com"]));
    assert_eq!(
        executive(mail_to(&app, "ops-leads@example.com").await).len(),
        1
    );
    let link = unsubscribe_path(to_exec[0]["text"].as_str().unwrap());
    let (status, _, html) = visit(&app, Method::POST, &link, "List-Unsubscribe=One-Click").await;
    assert_eq!(status, StatusCode::OK, "{html}");

    report(&app, "INC-1").await;
    report(&app, "INC-2").await;
    app.run_pending_jobs().await;
    // Nothing more about INC-1 to that address; the rule's other address, and the other
    // incident's mail, go on.
    let to_exec = executive(mail_to(&app, "exec@example.com").await);
    let about = |list: &[Value], n: &str| {
        list.iter()
            .filter(|m| {
                m["subject"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("[{n}]"))
            })
            .count()
    };
    assert_eq!(about(&to_exec, "INC-1"), 1, "{to_exec:?}");
    assert_eq!(about(&to_exec, "INC-2"), 1, "{to_exec:?}");
    let to_ops = executive(mail_to(&app, "ops-leads@example.com").await);
    assert_eq!(about(&to_ops, "INC-1"), 2, "{to_ops:?}");
    // Each report names the rule on the timeline.
    let sent = said(&app, "INC-1", "notification_sent").await;
    let told = sent
        .iter()
        .filter(|d| *d == "the report was sent to 1 notification target(s): leadership")
        .count();
    assert_eq!(told, 2, "{sent:?}");
}
