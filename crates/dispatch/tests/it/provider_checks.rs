//! `dispatch providers check` and `GET /api/v1/providers/check` against the emulators: each
//! configured vendor provider is called once with a cheap authenticated request; good
//! credentials say so, bad ones say which setting to fix, and the command exits non-zero.

use crate::common::TestApp;
use crate::emulators::jira::{Jira, API_TOKEN, EMAIL};
use crate::emulators::pagerduty::{PagerDuty, TOKEN as PD_TOKEN};
use crate::emulators::zoom::{Zoom, ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET};
use dispatch::config::Config;
use dispatch::vendor_config::{JiraConfig, ZoomConfig};
use reqwest::StatusCode;
use serde_json::Value;

/// A fixed key for secrets at rest, so the command writes no key file.
const SECRET_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Runs `dispatch providers check` on the app's database with these extra variables.
pub(crate) async fn check_cli(
    app: &TestApp,
    env: Vec<(&'static str, String)>,
) -> (bool, String, String) {
    run_cli(app, &["providers", "check"], env, "").await
}

/// Runs `dispatch ARGS --database-url <the app's>` with these extra variables and this input.
async fn run_cli(
    app: &TestApp,
    args: &[&str],
    env: Vec<(&'static str, String)>,
    input: &str,
) -> (bool, String, String) {
    use std::io::Write;
    let url = app.db.url.clone();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let input = input.to_string();
    tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dispatch"))
            .args(&args)
            .args(["--database-url", &url])
            .env_remove("DISPATCH_DATABASE_URL")
            .env("DISPATCH_SECRET_KEY", SECRET_KEY)
            .envs(env)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run dispatch");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().expect("dispatch ends");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn providers_check_says_what_works_and_fails_on_a_bad_secret() {
    let app = crate::common::spawn_app().await;
    let (j, z, pd) = (
        Jira::start().await,
        Zoom::start().await,
        PagerDuty::start(&[]).await,
    );
    let env = |zoom_secret: &str| {
        vec![
            ("DISPATCH_JIRA_URL", j.url.clone()),
            ("DISPATCH_JIRA_EMAIL", EMAIL.to_string()),
            ("DISPATCH_JIRA_API_TOKEN", API_TOKEN.to_string()),
            ("DISPATCH_JIRA_PROJECT_KEY", "OPS".to_string()),
            ("DISPATCH_ZOOM_ACCOUNT_ID", ACCOUNT_ID.to_string()),
            ("DISPATCH_ZOOM_CLIENT_ID", CLIENT_ID.to_string()),
            ("DISPATCH_ZOOM_CLIENT_SECRET", zoom_secret.to_string()),
            ("DISPATCH_ZOOM_API_URL", z.api_url.clone()),
            ("DISPATCH_ZOOM_OAUTH_URL", z.url.clone()),
            ("DISPATCH_PAGERDUTY_API_TOKEN", PD_TOKEN.to_string()),
            ("DISPATCH_PAGERDUTY_API_URL", pd.url.clone()),
        ]
    };
    let (ok, out, err) = check_cli(&app, env(CLIENT_SECRET)).await;
    assert!(ok, "{out}\n{err}");
    for line in [
        "OK     jira (ticket): the credentials work",
        "OK     zoom (conference): the app's credentials work",
        "OK     pagerduty (oncall): the API token works",
    ] {
        assert!(out.contains(line), "{line:?} in\n{out}");
    }
    assert_eq!(
        j.requests()
            .iter()
            .filter(|r| *r == "GET /rest/api/3/myself")
            .count(),
        1
    );
    assert!(z.requests().contains(&"GET /v2/users/me".to_string()));

    let (ok, out, err) = check_cli(&app, env("wrong")).await;
    assert!(!ok, "a failed check fails the command: {out}");
    assert!(out.contains("OK     jira (ticket)"), "{out}");
    let zoom = out
        .lines()
        .find(|l| l.contains("zoom (conference)"))
        .unwrap_or_default();
    assert!(
        zoom.starts_with("FAILED")
            && zoom.contains("DISPATCH_ZOOM_CLIENT_SECRET")
            && zoom.contains("Invalid client_id or client_secret"),
        "{zoom}"
    );
    assert!(err.contains("1 of 3 provider checks failed"), "{err}");
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn the_check_endpoint_reports_each_provider_and_a_projects_own() {
    let (j, z) = (Jira::start().await, Zoom::start().await);
    let mut cfg = Config {
        jira: JiraConfig {
            url: j.url.clone(),
            email: EMAIL.into(),
            api_token: API_TOKEN.into(),
            project_key: "OPS".into(),
            ..Default::default()
        },
        zoom: ZoomConfig {
            account_id: ACCOUNT_ID.into(),
            client_id: CLIENT_ID.into(),
            client_secret: "wrong".into(),
            api_url: z.api_url.clone(),
            oauth_url: z.url.clone(),
        },
        ..Default::default()
    };
    cfg.providers.insert("ticket".into(), "jira".into());
    let app = TestApp::builder()
        .registry(move |_, r| {
            dispatch::server::add_vendor_providers(r, &cfg).expect("settings");
            cfg.apply_provider_defaults(r).expect("defaults");
        })
        .spawn()
        .await;
    let r = app.get("/providers/check").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let rows = r.body.as_array().unwrap();
    let row = |p: &str| {
        rows.iter()
            .find(|r| r["provider"] == p)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        rows.len(),
        2,
        "the built-ins have nothing to check: {rows:?}"
    );
    assert_eq!(row("jira")["ok"], true);
    assert_eq!(row("jira")["capability"], "ticket");
    assert_eq!(row("zoom")["ok"], false);
    assert!(
        row("zoom")["message"]
            .as_str()
            .unwrap()
            .contains("DISPATCH_ZOOM_CLIENT_SECRET"),
        "{rows:?}"
    );
    // The default project uses Jira for tickets and the built-in conference.
    let r = app.get("/providers/check?project=default").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let own: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["provider"].as_str())
        .collect();
    assert_eq!(own, ["jira"]);
    let r = app.get("/providers/check?project=nope").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let member = app.token_for("member@example.com").await;
    let r = app
        .call_as(
            Some(&member),
            reqwest::Method::GET,
            "/providers/check",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_credential_sealed_in_the_database_is_used_when_the_environment_has_none() {
    let app = crate::common::spawn_app().await;
    let z = Zoom::start().await;
    let env = |secret: Option<&str>| {
        let mut v = vec![
            ("DISPATCH_ZOOM_ACCOUNT_ID", ACCOUNT_ID.to_string()),
            ("DISPATCH_ZOOM_CLIENT_ID", CLIENT_ID.to_string()),
            ("DISPATCH_ZOOM_API_URL", z.api_url.clone()),
            ("DISPATCH_ZOOM_OAUTH_URL", z.url.clone()),
        ];
        v.extend(secret.map(|s| ("DISPATCH_ZOOM_CLIENT_SECRET", s.to_string())));
        v
    };
    // Without the secret, Zoom is not configured at all.
    let (_, out, _) = check_cli(&app, env(None)).await;
    assert!(!out.contains("zoom"), "{out}");

    let set = ["providers", "secret", "set", "DISPATCH_ZOOM_CLIENT_SECRET"];
    let (ok, out, err) = run_cli(&app, &set, vec![], &format!("{CLIENT_SECRET}\n")).await;
    assert!(ok, "{out}\n{err}");
    let (ok, out, _) = check_cli(&app, env(None)).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("OK     zoom (conference): the app's credentials work"),
        "{out}"
    );
    // Listed by name, never by value; the environment comes first.
    let (ok, out, _) = run_cli(&app, &["providers", "secret", "list"], vec![], "").await;
    assert!(
        ok && out.contains("DISPATCH_ZOOM_CLIENT_SECRET  set "),
        "{out}"
    );
    assert!(!out.contains(CLIENT_SECRET), "{out}");
    let (ok, out, _) = check_cli(&app, env(Some("wrong"))).await;
    assert!(
        !ok,
        "the environment's (wrong) secret is the one used: {out}"
    );

    // Sealed at rest: another key cannot open it (the server refuses to start with it).
    let (ok, _, err) = run_cli(
        &app,
        &["providers", "secret", "list"],
        vec![(
            "DISPATCH_SECRET_KEY",
            "HxwbGhkYFxYVFBMSERAPDg0MCwoJCAcGBQQDAgEAAAA=".to_string(),
        )],
        "",
    )
    .await;
    assert!(!ok && err.contains("secret key"), "{err}");

    // Only credentials, never empty.
    let (ok, _, err) = run_cli(
        &app,
        &["providers", "secret", "set", "DISPATCH_JIRA_URL"],
        vec![],
        "x",
    )
    .await;
    assert!(!ok && err.contains("DISPATCH_JIRA_API_TOKEN"), "{err}");
    let (ok, _, err) = run_cli(&app, &set, vec![], "\n").await;
    assert!(!ok && err.contains("value"), "{err}");
    let unset = [
        "providers",
        "secret",
        "unset",
        "DISPATCH_ZOOM_CLIENT_SECRET",
    ];
    let (ok, out, _) = run_cli(&app, &unset, vec![], "").await;
    assert!(ok && out.contains("removed"), "{out}");
    let (_, out, _) = check_cli(&app, env(None)).await;
    assert!(!out.contains("zoom"), "{out}");
}
