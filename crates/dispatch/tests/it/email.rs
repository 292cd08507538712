//! E-mail end to end: the welcome mail a role assignment sends, kept in the outbox by default and
//! delivered to a real SMTP server (aiosmtpd, started here on 127.0.0.1) when one is configured.

use crate::common::smtp::{mailing_to, smtp, SmtpSink};
use crate::common::{spawn_app, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

/// Declares INC-1 and runs its saga, then makes bea its scribe; returns the incident.
async fn bea_becomes_scribe(app: &TestApp) -> Value {
    app.declare("Payments failing").await;
    app.run_pending_jobs().await;
    let r = app
        .post(
            "/incidents/INC-1/roles",
            json!({"email": "bea@example.com", "role": "scribe"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
}

fn list(v: &Value) -> &Vec<Value> {
    v.as_array().expect("a JSON array")
}

#[tokio::test]
async fn a_person_a_role_brings_in_gets_one_welcome_mail_in_the_outbox() {
    let app = spawn_app().await;
    bea_becomes_scribe(&app).await;
    assert!(
        list(&app.get("/outbox").await.body).is_empty(),
        "nothing is sent before the job runs"
    );
    app.run_pending_jobs().await;
    let outbox = app.get("/outbox").await.body;
    assert_eq!(list(&outbox).len(), 1, "{outbox}");
    let mail = &outbox[0];
    assert_eq!(mail["to"], json!(["bea@example.com"]));
    assert_eq!(
        mail["subject"],
        "[INC-1] You were added as scribe: Payments failing"
    );
    assert_eq!(mail["provider"], "dispatch-outbox");
    assert_eq!(mail["incident"], "INC-1");
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains("Your role: scribe"), "{text}");
    assert!(text.contains("Status: active"), "{text}");
    assert!(
        text.contains("Open the incident: http://127.0.0.1:8080/incidents/INC-1"),
        "{text}"
    );

    // Running the queue again, and another role for the same person, send nothing more.
    assert_eq!(app.run_pending_jobs().await, 0);
    app.post(
        "/incidents/INC-1/roles",
        json!({"email": "bea@example.com", "role": "liaison"}),
    )
    .await;
    app.run_pending_jobs().await;
    assert_eq!(list(&app.get("/outbox").await.body).len(), 1);

    let timeline = app
        .get("/incidents/INC-1/timeline?type=email_sent")
        .await
        .body;
    assert_eq!(list(&timeline).len(), 1, "{timeline}");
    assert!(timeline[0]["description"]
        .as_str()
        .unwrap()
        .contains("sent to bea@example.com"));
}

#[tokio::test]
async fn the_outbox_filters_by_recipient_and_incident_and_checks_its_parameters() {
    let app = spawn_app().await;
    bea_becomes_scribe(&app).await;
    app.declare("Disk full").await;
    app.post(
        "/incidents/INC-2/roles",
        json!({"email": "carl@example.com", "role": "observer"}),
    )
    .await;
    app.run_pending_jobs().await;
    assert_eq!(list(&app.get("/outbox").await.body).len(), 2);
    let to_carl = app.get("/outbox?to=Carl@Example.com").await.body;
    assert_eq!(list(&to_carl).len(), 1);
    assert_eq!(to_carl[0]["incident"], "INC-2");
    let about_1 = app.get("/outbox?incident=inc-1").await.body;
    assert_eq!(list(&about_1).len(), 1);
    assert_eq!(about_1[0]["to"], json!(["bea@example.com"]));
    assert_eq!(list(&app.get("/outbox?limit=1").await.body).len(), 1);

    let r = app.get("/outbox?limit=501&to=nobody").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(crate::common::error_fields(&r.body), vec!["to", "limit"]);
    let r = app.get("/outbox?incident=INC-99").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.call_as(None, Method::GET, "/outbox", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn with_smtp_configured_the_welcome_mail_reaches_a_real_smtp_server_once() {
    let sink = SmtpSink::start();
    let app = TestApp::builder()
        .providers(mailing_to(&sink))
        .spawn()
        .await;
    let incident = bea_becomes_scribe(&app).await;
    app.run_pending_jobs().await;
    assert_eq!(app.run_pending_jobs().await, 0);

    let received = sink.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let m = &received[0];
    assert_eq!(m["rcpt_tos"], json!(["bea@example.com"]));
    assert_eq!(m["mail_from"], "dispatch@example.org");
    assert_eq!(m["to"], "bea@example.com");
    assert_eq!(
        m["subject"],
        "[INC-1] You were added as scribe: Payments failing"
    );
    let key = format!("welcome:{}:bea@example.com", incident["id"]);
    assert_eq!(
        m["message_id"],
        dispatch_core::email::message_id(&key, "example.org")
    );
    let text = m["text"].as_str().unwrap();
    assert!(
        text.contains("You were added to incident INC-1 as scribe."),
        "{text}"
    );
    assert!(
        text.contains("http://127.0.0.1:8080/incidents/INC-1") && !text.contains("/api/"),
        "{text}"
    );
    let html = m["html"].as_str().unwrap();
    assert!(html.contains("<td>scribe</td>"), "{html}");

    let outbox = app.get("/outbox").await.body;
    assert_eq!(list(&outbox).len(), 1, "{outbox}");
    assert_eq!(outbox[0]["provider"], "smtp");
    assert_eq!(outbox[0]["incident"], "INC-1");
    drop(sink);
}

#[tokio::test]
async fn a_title_with_line_breaks_gives_a_one_line_subject_and_no_header_of_its_own() {
    let sink = SmtpSink::start();
    let app = TestApp::builder()
        .providers(mailing_to(&sink))
        .spawn()
        .await;
    let r = app
        .post(
            "/incidents",
            json!({"title": "Payments failing\r\nX-Injected: yes\n\tBcc: eve@example.com", "description": "d"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    app.run_pending_jobs().await;
    app.post(
        "/incidents/INC-1/roles",
        json!({"email": "bea@example.com", "role": "scribe"}),
    )
    .await;
    app.run_pending_jobs().await;
    let want =
        "[INC-1] You were added as scribe: Payments failing X-Injected: yes Bcc: eve@example.com";
    let received = sink.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0]["subject"], want);
    assert_eq!(received[0]["rcpt_tos"], json!(["bea@example.com"]));
    let headers = received[0]["header_names"].to_string().to_lowercase();
    assert!(
        !headers.contains("x-injected") && !headers.contains("bcc"),
        "{headers}"
    );
    let outbox = app.get("/outbox").await.body;
    assert_eq!(outbox[0]["subject"], want);
    drop(sink);
}

#[tokio::test]
async fn a_mail_the_smtp_server_never_took_is_retried_then_failed_and_not_in_the_outbox() {
    // A port nothing listens on: every attempt is refused.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app = TestApp::builder()
        .providers(move |mut p| {
            p.email = Arc::new(smtp(port));
            p
        })
        .expect_failed_jobs("the SMTP server is down: the mail job fails")
        .spawn()
        .await;
    bea_becomes_scribe(&app).await;
    app.run_pending_jobs().await;
    let failed = app.get("/jobs?state=failed").await.body;
    let mail_jobs: Vec<_> = list(&failed)
        .iter()
        .filter(|j| j["kind"] == "send_email")
        .collect();
    assert_eq!(mail_jobs.len(), 1, "{failed}");
    assert_eq!(mail_jobs[0]["attempts"], mail_jobs[0]["max_attempts"]);
    assert!(mail_jobs[0]["last_error"]
        .as_str()
        .unwrap()
        .starts_with("smtp: "));
    assert!(list(&app.get("/outbox").await.body).is_empty());
}

/// The recipients of every received mail whose subject contains `needle`, sorted.
fn recipients(sink: &SmtpSink, needle: &str) -> Vec<String> {
    let mut to: Vec<String> = sink
        .received()
        .iter()
        .filter(|m| m["subject"].as_str().unwrap_or_default().contains(needle))
        .flat_map(|m| list(&m["rcpt_tos"]).clone())
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    to.sort();
    to
}

#[tokio::test]
async fn mail_reaches_only_the_subscribers_who_may_still_see_the_incident_when_it_is_sent() {
    let sink = SmtpSink::start();
    let app = TestApp::builder()
        .providers(mailing_to(&sink))
        .spawn()
        .await;
    // Who subscribes, and how they stand in both incidents.
    let people = [
        ("pat@example.com", Some("participant")),
        ("olive@example.com", Some("observer")),
        ("rita@example.com", Some("participant")),
        ("dora@example.com", Some("participant")),
        ("sam@example.com", None),
    ];
    let mut tokens = Vec::new();
    for (email, _) in people {
        tokens.push(app.token_with(email, "member", "write").await);
    }
    for title in ["Quetzal leak", "Quetzal outage"] {
        let key = app.declare(title).await["name"]
            .as_str()
            .unwrap()
            .to_string();
        for ((email, role), token) in people.iter().zip(&tokens) {
            if let Some(role) = role {
                app.give_role(&key, email, role).await;
            }
            app.subscribe(&key, token).await;
        }
        app.remove_participant(&key, "rita@example.com").await;
    }
    app.run_pending_jobs().await;
    // The first is renamed while everyone may still see it; then, before that mail goes out, it
    // is restricted, an account is disabled and the second is renamed.
    let r = app
        .patch(
            "/incidents/INC-1",
            json!({"title": "Quetzal acquisition leak"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app
        .patch("/incidents/INC-1", json!({"visibility": "restricted"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let dora = app.user_id("dora@example.com").await;
    let r = app
        .patch(&format!("/users/{dora}"), json!({"disabled": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app
        .patch(
            "/incidents/INC-2",
            json!({"title": "Quetzal outage, wider"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;

    // The restricted one reaches its people only; the open one everyone but the disabled.
    assert_eq!(
        recipients(&sink, "[INC-1] Updated"),
        ["olive@example.com", "pat@example.com"]
    );
    assert_eq!(
        recipients(&sink, "[INC-2] Updated"),
        [
            "olive@example.com",
            "pat@example.com",
            "rita@example.com",
            "sam@example.com"
        ]
    );
    let outbox = app.get("/outbox?to=sam@example.com").await.body;
    assert!(
        list(&outbox).iter().all(|m| m["incident"] != "INC-1"),
        "{outbox}"
    );
    // Who was left out, and why, is on the timeline.
    let withheld = app
        .get("/incidents/INC-1/timeline?type=message_withheld")
        .await
        .body;
    let named: Vec<&str> = list(&withheld)
        .iter()
        .flat_map(|e| list(&e["details"]["to"]))
        .map(|v| v.as_str().unwrap())
        .collect();
    for who in ["sam@example.com", "rita@example.com", "dora@example.com"] {
        assert!(named.contains(&who), "{who} not named: {withheld}");
    }
    drop(sink);
}

/// An e-mail provider that refuses every mail while `down` is set, and records the rest.
#[derive(Clone, Default)]
struct Flaky {
    down: Arc<std::sync::atomic::AtomicBool>,
    sent: Arc<std::sync::Mutex<Vec<dispatch_core::provider::Email>>>,
}

#[async_trait::async_trait]
impl dispatch_core::provider::EmailProvider for Flaky {
    fn slug(&self) -> &'static str {
        "flaky-mail"
    }

    async fn send(
        &self,
        _key: &str,
        message: &dispatch_core::provider::Email,
    ) -> dispatch_core::provider::ProviderResult<()> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(dispatch_core::provider::ProviderError::new(
                "flaky-mail",
                "down",
            ));
        }
        self.sent.lock().unwrap().push(message.clone());
        Ok(())
    }
}

#[tokio::test]
async fn a_rule_target_queued_while_open_hears_nothing_if_the_incident_is_restricted_before_it_is_sent(
) {
    let flaky = Flaky::default();
    let provider = flaky.clone();
    let app = TestApp::builder()
        .providers(move |mut p| {
            p.email = Arc::new(provider);
            p
        })
        .spawn()
        .await;
    for (name, target, safe) in [
        ("everyone", "all-staff@example.com", false),
        ("security", "sec-list@example.com", true),
    ] {
        let r = app
            .post(
                "/notification-rules",
                json!({"name": name, "filter": "all", "target_kind": "email", "target": target, "restricted_safe": safe}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    app.declare("Ledger drift").await;
    app.run_pending_jobs().await;
    // The change summary is queued for both lists while the incident is open, but the mail
    // cannot go out yet.
    flaky.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let r = app
        .patch("/incidents/INC-1", json!({"title": "Ledger drift, wider"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    let r = app
        .patch("/incidents/INC-1", json!({"visibility": "restricted"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    flaky.down.store(false, std::sync::atomic::Ordering::SeqCst);
    let failed = app.get("/jobs?state=failed").await.body;
    let mail_jobs: Vec<_> = list(&failed)
        .iter()
        .filter(|j| j["kind"] == "send_email")
        .collect();
    assert_eq!(mail_jobs.len(), 2, "{failed}");
    for j in mail_jobs {
        let r = app
            .call(Method::POST, &format!("/jobs/{}/retry", j["id"]), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    }
    app.run_pending_jobs().await;
    let updated: Vec<Vec<String>> = flaky
        .sent
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m.subject.contains("Updated"))
        .map(|m| m.to.clone())
        .collect();
    assert_eq!(updated, [["sec-list@example.com"]]);
    let withheld = app
        .get("/incidents/INC-1/timeline?type=message_withheld")
        .await
        .body;
    assert_eq!(
        withheld[0]["details"]["to"],
        json!(["all-staff@example.com"]),
        "{withheld}"
    );
}
