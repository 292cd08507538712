//! Zoom end to end against the emulator: a declare makes one meeting (topic = name and title)
//! linked as the conference, with one access token kept for every call, closing deletes it; a
//! retried job finds the meeting across pages instead of making another; half the calls
//! failing still makes one meeting; bad app credentials name the settings.

use crate::common::TestApp;
use crate::emulators::zoom::{Zoom, ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET};
use dispatch::config::Config;
use dispatch::vendor_config::ZoomConfig;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn config(z: &Zoom, secret: &str) -> ZoomConfig {
    ZoomConfig {
        account_id: ACCOUNT_ID.into(),
        client_id: CLIENT_ID.into(),
        client_secret: secret.into(),
        api_url: z.api_url.clone(),
        oauth_url: z.url.clone(),
    }
}

async fn spawn(z: &Zoom, secret: &str) -> TestApp {
    let mut cfg = Config {
        zoom: config(z, secret),
        ..Default::default()
    };
    cfg.providers.insert("conference".into(), "zoom".into());
    crate::common::spawn_with_vendors(cfg).await
}

async fn conference(app: &TestApp, name: &str) -> Value {
    app.resource(name, "conference").await
}

fn count(z: &Zoom, prefix: &str) -> usize {
    crate::emulators::count_starting(&z.requests(), prefix)
}

#[tokio::test]
async fn a_declare_makes_one_zoom_meeting_deleted_on_close() {
    let z = Zoom::start().await;
    let app = spawn(&z, CLIENT_SECRET).await;
    let name = app.declare("Checkout latency above SLO").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_pending_jobs().await;
    let meetings = z.meetings();
    assert_eq!(meetings.len(), 1, "{meetings:?}");
    let m = &meetings[0];
    assert_eq!(
        m.body["topic"],
        format!("{name}: Checkout latency above SLO")
    );
    let c = conference(&app, &name).await;
    assert_eq!(c["status"], "ready", "{c}");
    assert_eq!(c["provider"], "zoom");
    assert_eq!(c["external_id"], m.id.to_string());
    assert_eq!(c["link"], m.body["join_url"]);
    assert!(
        c["link"].as_str().unwrap().contains("pwd="),
        "the link carries the passcode"
    );
    // The passcode, for those who dial in or type the meeting id, is on the resource too.
    assert_eq!(c["details"]["passcode"], m.body["password"], "{c}");
    assert_eq!(c["details"]["meeting_id"], m.id.to_string());
    // The look-up came before the create.
    let asked = z.requests();
    let list = asked
        .iter()
        .position(|r| r.starts_with("GET /v2/users/me/meetings?"))
        .unwrap();
    let create = asked
        .iter()
        .position(|r| r == "POST /v2/users/me/meetings")
        .unwrap();
    assert!(list < create, "{asked:?}");
    assert!(asked[list].contains("type=scheduled"), "{}", asked[list]);

    // The topic follows the title, once.
    let r = app
        .patch(
            &format!("/incidents/{name}"),
            json!({"title": "Checkout down"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    assert_eq!(
        z.meetings()[0].body["topic"],
        format!("{name}: Checkout down")
    );
    assert_eq!(count(&z, &format!("PATCH /v2/meetings/{}", m.id)), 1);

    let r = app
        .call(Method::POST, &format!("/incidents/{name}/close"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    assert!(
        z.meetings()[0].deleted,
        "the meeting is deleted on close: {:?} {}",
        z.requests(),
        app.get(&format!("/incidents/{name}")).await.body
    );
    assert_eq!(count(&z, &format!("DELETE /v2/meetings/{}", m.id)), 1);
    // One access token served every call.
    assert_eq!(count(&z, "POST /oauth/token"), 1, "{:?}", z.requests());
    assert!(count(&z, "GET /v2/") + count(&z, "POST /v2/") + count(&z, "DELETE /v2/") >= 3);
}

#[tokio::test]
async fn a_retried_zoom_job_finds_the_meeting_across_pages_and_flaky_calls_make_one() {
    let z = Zoom::start().await;
    // Tokens that expire within the minute Dispatch keeps in hand: each call gets a new one.
    z.token_lifetime(30);
    z.page_size(1);
    let app = spawn(&z, CLIENT_SECRET).await;
    z.faults().rate_limit_next(1);
    let first = app.declare("First").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    let second = app.declare("Second").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_pending_jobs().await;
    assert_eq!(z.meetings().len(), 2);
    // Asked again (a retried provision), the provider finds the second meeting on page two.
    let zoom = app
        .engine
        .registry()
        .conference
        .find("zoom")
        .unwrap()
        .clone();
    let c = conference(&app, &second).await;
    let ctx = crate::common::incident_context(&second, "Second");
    let again = zoom.create("k", &ctx).await.unwrap();
    assert_eq!(json!(again.external_id), c["external_id"]);
    assert_eq!(z.meetings().len(), 2);
    assert!(
        z.requests()
            .iter()
            .any(|r| r.contains("next_page_token=page-1")),
        "{:?}",
        z.requests()
    );
    assert_ne!(first, second);

    z.page_size(300);
    z.faults().flaky(true);
    let looks = count(&z, "GET /v2/users/me/meetings");
    let third = app.declare("Third").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_pending_jobs().await;
    let made: Vec<_> = z
        .meetings()
        .into_iter()
        .filter(|m| {
            m.body["topic"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{third}: "))
        })
        .collect();
    assert_eq!(made.len(), 1, "exactly one meeting: {made:?}");
    assert!(
        count(&z, "GET /v2/users/me/meetings") >= looks + 2,
        "the lost answer made the job look again, and find the meeting"
    );
    assert_eq!(conference(&app, &third).await["status"], "ready");
    assert_eq!(z.meetings().len(), 3);
    let api_calls = z.requests().iter().filter(|r| r.contains(" /v2/")).count();
    assert_eq!(
        count(&z, "POST /oauth/token"),
        api_calls - 1,
        "a token about to expire is not kept: each call got a new one (the 429's resend kept its own)"
    );
}

#[tokio::test]
async fn bad_zoom_credentials_fail_the_conference_with_the_settings_to_check() {
    let z = Zoom::start().await;
    let app = spawn(&z, "wrong").await;
    app.expect_failed_jobs("Zoom refuses the app's credentials, so no meeting can be made");
    let name = app.declare("No bridge").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_pending_jobs().await;
    let c = conference(&app, &name).await;
    assert_eq!(c["status"], "failed", "{c}");
    let e = c["error"].as_str().unwrap_or_default();
    assert!(
        e.contains("DISPATCH_ZOOM_CLIENT_SECRET")
            && e.contains("Invalid client_id or client_secret"),
        "{e}"
    );
    assert!(z.meetings().is_empty());
}
