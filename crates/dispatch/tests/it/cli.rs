//! The command line: `incident …` against a running server, `token create` on the database,
//! and `config example`.

use crate::common::spawn_app;
use std::process::Command;

fn dispatch(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dispatch"))
        .args(args)
        .env_remove("DISPATCH_TOKEN")
        .env_remove("DISPATCH_DATABASE_URL")
        .output()
        .expect("run dispatch");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the binary against the test app's server as its admin (`--server` and `--token` added).
fn against(
    app: &crate::common::TestApp,
) -> impl Fn(Vec<String>) -> tokio::task::JoinHandle<(bool, String, String)> {
    let (base, token) = (app.base.clone(), app.token.clone());
    move |args: Vec<String>| {
        let mut full: Vec<String> = args;
        full.extend([
            "--server".into(),
            base.clone(),
            "--token".into(),
            token.clone(),
        ]);
        tokio::task::spawn_blocking(move || {
            dispatch(&full.iter().map(String::as_str).collect::<Vec<_>>())
        })
    }
}

#[tokio::test]
async fn the_cli_declares_lists_updates_and_closes_incidents_over_the_api() {
    let app = spawn_app().await;
    let run = against(&app);
    let a = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
    let mut declare = a("incident declare --priority high --tag db --title");
    declare.extend([
        "Queue backlog".into(),
        "--description".into(),
        "consumers stalled".into(),
    ]);
    let (ok, out, err) = run(declare).await.unwrap();
    assert!(ok, "{err}");
    assert!(out.contains("Declared INC-1: Queue backlog"), "{out}");
    let (ok, out, _) = run(a("incident list --status active")).await.unwrap();
    assert!(
        ok && out.contains("INC-1") && out.contains("Queue backlog") && out.contains("1 of 1"),
        "{out}"
    );
    let (ok, out, err) = run(a(
        "incident update INC-1 --severity high --resolution scaled",
    ))
    .await
    .unwrap();
    assert!(ok, "{err}");
    assert!(out.contains("severity high"), "{out}");
    let (ok, out, _) = run(a("incident stable INC-1")).await.unwrap();
    assert!(ok && out.contains("INC-1 is now stable"), "{out}");
    let (ok, out, _) = run(a("incident close INC-1")).await.unwrap();
    assert!(ok && out.contains("closed"), "{out}");
    let (ok, _, err) = run(a("incident close INC-1")).await.unwrap();
    assert!(
        !ok && err.contains("409") && err.contains("already closed"),
        "{err}"
    );
    let (ok, out, _) = run(a("incident reopen INC-1 --json")).await.unwrap();
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).expect("--json prints the API's JSON");
    assert_eq!(v["status"], "active");
    let (ok, out, _) = run(a("incident show INC-1")).await.unwrap();
    assert!(ok && out.contains("Resolution: scaled"), "{out}");
    let (ok, _, err) = run(a("incident update INC-1 --priority urgent"))
        .await
        .unwrap();
    assert!(
        !ok && err.contains("422") && err.contains("priority"),
        "{err}"
    );
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn the_cli_without_a_token_says_how_to_get_one() {
    let (ok, _, err) = tokio::task::spawn_blocking(|| {
        dispatch(&["incident", "list", "--server", "http://127.0.0.1:9"])
    })
    .await
    .unwrap();
    assert!(!ok);
    assert!(err.contains("dispatch token create"), "{err}");
}

#[tokio::test]
async fn token_create_prints_a_working_token_on_its_last_line() {
    let app = spawn_app().await;
    let url = app.db.url.clone();
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        dispatch(&[
            "token",
            "create",
            "--email",
            "Frank@Example.com",
            "--role",
            "admin",
            "--database-url",
            &url,
        ])
    })
    .await
    .unwrap();
    assert!(ok, "{err}");
    let token = out.lines().last().unwrap().trim().to_string();
    let r = app
        .call_as(
            Some(&token),
            reqwest::Method::POST,
            "/incidents",
            Some(serde_json::json!({"title": "t", "description": "d"})),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::CREATED);
    assert_eq!(r.body["reporter"]["email"], "frank@example.com");
    let url = app.db.url.clone();
    let (ok, _, err) = tokio::task::spawn_blocking(move || {
        dispatch(&["token", "create", "--email", "x", "--database-url", &url])
    })
    .await
    .unwrap();
    assert!(!ok && err.contains("email"), "{err}");
    app.run_pending_jobs().await;
}

/// Runs the binary on the test app's database with these arguments (separated by spaces).
fn on_db(
    app: &crate::common::TestApp,
    args: &str,
) -> impl std::future::Future<Output = (bool, String, String)> {
    let mut full: Vec<String> = args.split(' ').map(String::from).collect();
    full.extend(["--database-url".into(), app.db.url.clone()]);
    let run = tokio::task::spawn_blocking(move || {
        dispatch(&full.iter().map(String::as_str).collect::<Vec<_>>())
    });
    async move { run.await.unwrap() }
}

/// The last line a command printed (the link or token).
fn last_line(out: &str) -> String {
    out.lines().last().unwrap_or_default().trim().to_string()
}

#[tokio::test]
async fn user_create_refuses_an_existing_account_and_setup_link_renews_the_link_of_one_without_a_password(
) {
    let app = spawn_app().await;
    let (ok, out, err) = on_db(
        &app,
        "user create --email fresh-owner@example.com --role owner",
    )
    .await;
    assert!(ok, "{err}");
    let first = last_line(&out);
    assert!(first.contains("/auth/setup?token="), "{out}");
    let (ok, _, err) = on_db(
        &app,
        "user create --email fresh-owner@example.com --role member",
    )
    .await;
    assert!(!ok);
    assert!(
        err.contains("already has an account")
            && err.contains("dispatch user setup-link --email fresh-owner@example.com"),
        "{err}"
    );
    let r = app
        .post(
            "/users",
            serde_json::json!({"email": "fresh-owner@example.com", "role": "member"}),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::CONFLICT, "{:?}", r.body);
    let owner = app.user("fresh-owner@example.com").await;
    assert_eq!(owner["role"], "owner", "the role did not change");

    let (ok, out, err) = on_db(&app, "user setup-link --email fresh-owner@example.com").await;
    assert!(ok, "{err}");
    assert!(err.contains("(owner)"), "{err}");
    let second = last_line(&out);
    assert!(
        second.contains("/auth/setup?token=") && second != first,
        "{out}"
    );
    assert_eq!(
        app.choose_password(&first, "violet kettle drumbeat")
            .await
            .status,
        reqwest::StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.choose_password(&second, "violet kettle drumbeat")
            .await
            .status,
        reqwest::StatusCode::NO_CONTENT
    );
    let (ok, _, err) = on_db(&app, "user setup-link --email fresh-owner@example.com").await;
    assert!(!ok && err.contains("already has a password"), "{err}");
    let (ok, _, err) = on_db(&app, "user setup-link --email nobody@example.com").await;
    assert!(!ok && err.contains("has no account"), "{err}");
}

#[tokio::test]
async fn token_create_refuses_a_disabled_account_and_to_demote_the_last_owner() {
    let app = spawn_app().await;
    let mint = |email: &'static str, role: &'static str| {
        on_db(&app, &format!("token create --email {email} --role {role}"))
    };
    let (ok, out, err) = mint("dee@example.com", "member").await;
    assert!(ok, "{err}");
    let token = last_line(&out);
    let dee = app.user("dee@example.com").await["id"].clone();
    let r = app
        .patch(
            &format!("/users/{dee}"),
            serde_json::json!({"disabled": true}),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::OK);
    let (ok, out, err) = mint("dee@example.com", "member").await;
    assert!(!ok, "{out}");
    assert!(err.contains("disabled"), "{err}");
    let tokens = app.get("/tokens?all=true").await.body;
    assert_eq!(
        tokens
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["owner"] == "dee@example.com")
            .count(),
        1,
        "no second token: {tokens}"
    );
    let r = app
        .call_as(Some(&token), reqwest::Method::GET, "/incidents", None)
        .await;
    assert_eq!(r.status, reqwest::StatusCode::UNAUTHORIZED);
    // The test server's owner is the only one: the command line cannot demote them either.
    let (ok, _, err) = mint("admin@example.com", "member").await;
    assert!(!ok && err.contains("last owner"), "{err}");
    let (ok, _, err) = mint("admin@example.com", "owner").await;
    assert!(ok, "{err}");
}

#[test]
fn config_example_prints_a_documented_sample() {
    let (ok, out, _) = dispatch(&["config", "example"]);
    assert!(ok);
    assert!(
        out.contains("database_url")
            && out.contains("DISPATCH_DATABASE_URL")
            && out.contains("listen")
    );
}

#[tokio::test]
async fn the_cli_runs_chat_commands_and_manages_tasks() {
    let app = spawn_app().await;
    app.declare("Queue backlog").await;
    let (base, token) = (app.base.clone(), app.token.clone());
    let run = move |args: Vec<&'static str>| {
        let mut full: Vec<String> = args.into_iter().map(String::from).collect();
        full.extend([
            "--server".into(),
            base.clone(),
            "--token".into(),
            token.clone(),
        ]);
        tokio::task::spawn_blocking(move || {
            dispatch(&full.iter().map(String::as_str).collect::<Vec<_>>())
        })
    };
    let (ok, out, err) = run(vec![
        "incident",
        "command",
        "INC-1",
        "/dispatch-create-task admin@example.com \"Drain the queue\"",
    ])
    .await
    .unwrap();
    assert!(ok, "{err}");
    assert!(
        out.contains("Task created in INC-1: #1 [open] Drain the queue"),
        "{out}"
    );
    let (ok, out, _) = run(vec!["task", "list", "--mine", "--status", "open"])
        .await
        .unwrap();
    assert!(
        ok && out.contains("Drain the queue") && out.contains("1 task(s)"),
        "{out}"
    );
    let (header, row) = (out.lines().next().unwrap(), out.lines().nth(1).unwrap());
    assert_eq!(
        row.find(" open "),
        header.find(" STATUS "),
        "the columns line up:\n{out}"
    );
    let (ok, out, err) = run(vec![
        "task",
        "create",
        "INC-1",
        "--description",
        "Page the DBA",
        "--assignee",
        "dba@example.com",
    ])
    .await
    .unwrap();
    assert!(
        ok && out.contains("INC-1 task 2 [open] Page the DBA"),
        "{out}{err}"
    );
    let (ok, out, _) = run(vec!["task", "resolve", "INC-1", "1"]).await.unwrap();
    assert!(ok && out.contains("[resolved]"), "{out}");
    let (ok, out, _) = run(vec![
        "incident",
        "command",
        "INC-1",
        "/dispatch-mark-stable",
    ])
    .await
    .unwrap();
    assert!(ok && out.contains("INC-1 is now stable"), "{out}");
    let (ok, _, err) = run(vec!["incident", "command", "INC-1", "/dispatch-nope"])
        .await
        .unwrap();
    assert!(
        !ok && err.contains("422") && err.contains("/dispatch-list-tasks"),
        "a bad command prints the usage: {err}"
    );
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn the_cli_sends_a_test_alert_and_works_its_case_to_an_incident() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/projects/default/signal-definitions",
            serde_json::json!({"name": "Disk full", "source": "alertmanager",
                "match": {"alertname": "DiskFull"}, "create_case": true}),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::CREATED, "{:#}", r.body);
    let cli = against(&app);
    let run = |args: Vec<&str>| cli(args.into_iter().map(String::from).collect());
    let send = vec![
        "signal",
        "send",
        "--source",
        "alertmanager",
        "--label",
        "alertname=DiskFull",
        "--label",
        "host=db1",
        "--title",
        "Disk full on db1",
    ];
    let (ok, out, err) = run(send.clone()).await.unwrap();
    assert!(ok, "{err}");
    assert!(out.contains("1 alert(s) received"), "{out}");
    assert!(
        out.contains("alert 0: new case, definition 1, instance 1, case 1"),
        "{out}"
    );
    let (ok, out, _) = run(send).await.unwrap();
    assert!(
        ok && out.contains("deduplicated") && out.contains("duplicate of instance 1"),
        "{out}"
    );
    let (ok, out, _) = run(vec![
        "signal",
        "send",
        "--source",
        "pagerduty",
        "--label",
        "alertname=Other",
        "--title",
        "x",
    ])
    .await
    .unwrap();
    assert!(ok && out.contains("no definition matched"), "{out}");
    let (ok, _, err) = run(vec![
        "signal", "send", "--source", "generic", "--label", "nopair",
    ])
    .await
    .unwrap();
    assert!(!ok && err.contains("name=value"), "{err}");
    let body = std::env::temp_dir().join(format!(
        "dispatch-cli-{}.json",
        app.base.rsplit(':').next().unwrap()
    ));
    std::fs::write(&body, r#"{"alerts": [{"status": "sideways"}]}"#).unwrap();
    let path = body.to_str().unwrap().to_string();
    let (ok, _, err) = run(vec![
        "signal",
        "send",
        "--source",
        "alertmanager",
        "--file",
        &path,
    ])
    .await
    .unwrap();
    assert!(
        !ok && err.contains("422") && err.contains("alerts[0].status"),
        "{err}"
    );
    std::fs::remove_file(&body).ok();

    let (ok, out, _) = run(vec![
        "case",
        "list",
        "--status",
        "new",
        "--project",
        "default",
    ])
    .await
    .unwrap();
    assert!(
        ok && out.contains("Disk full on db1") && out.contains("1 of 1"),
        "{out}"
    );
    let (header, row) = (out.lines().next().unwrap(), out.lines().nth(1).unwrap());
    assert_eq!(
        row.find(" new "),
        header.find(" STATUS "),
        "the columns line up:\n{out}"
    );
    let (ok, out, _) = run(vec!["case", "show", "1"]).await.unwrap();
    assert!(ok, "{out}");
    assert!(
        out.contains("Signals (2):") && out.contains("case_opened"),
        "{out}"
    );
    assert!(
        out.contains("Participants (1):") && out.contains("(reporter, joined "),
        "{out}"
    );
    let (ok, out, err) = run(vec!["case", "assign", "1", "ann@example.com"])
        .await
        .unwrap();
    assert!(
        ok && out.contains("Case 1 is assigned to ann@example.com"),
        "{out}{err}"
    );
    let (ok, _, err) = run(vec!["case", "snooze", "1", "--duration", "forever"])
        .await
        .unwrap();
    assert!(
        !ok && err.contains("422") && err.contains("duration"),
        "{err}"
    );
    let (ok, out, err) = run(vec!["case", "snooze", "1", "--duration", "2h"])
        .await
        .unwrap();
    assert!(ok, "{err}");
    assert!(
        out.contains("Snoozed by filter 1 until") && out.contains("DiskFull"),
        "{out}"
    );
    let (ok, _, err) = run(vec!["case", "close", "1", "--reason", "bored"])
        .await
        .unwrap();
    assert!(
        !ok && err.contains("422") && err.contains("resolution_reason"),
        "{err}"
    );
    let (ok, out, err) = run(vec!["case", "escalate", "1"]).await.unwrap();
    assert!(ok, "{err}");
    assert!(
        out.contains("Case 1 escalated to INC-1: Disk full on db1"),
        "{out}"
    );
    let (ok, out, _) = run(vec!["case", "show", "1", "--json"]).await.unwrap();
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).expect("--json prints the API's JSON");
    assert_eq!(v["incident"], "INC-1");
    let (ok, out, err) = run(vec![
        "case",
        "close",
        "1",
        "--reason",
        "escalated",
        "--resolution",
        "handled as INC-1",
    ])
    .await
    .unwrap();
    assert!(ok, "{err}");
    assert!(out.contains("Case 1 is now closed (escalated)"), "{out}");
    let (ok, _, err) = run(vec!["case", "show", "99"]).await.unwrap();
    assert!(!ok && err.contains("404"), "{err}");
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn the_cli_adds_and_removes_a_case_s_tags_and_a_wrong_tag_fails_naming_the_field() {
    use crate::signals::{define, errors, notification, send};
    let app = spawn_app().await;
    app.make_tags(&["env", "team"], &["env:prod", "db", "team:payments"])
        .await;
    let definition = serde_json::json!({"name": "Errors", "source": "alertmanager",
        "match": {"alertname": "HighErrorRate"}, "tags": ["db"]});
    define(&app, definition).await;
    let got = send(&app, notification(vec![errors("cli-tags")])).await;
    let case = got[0]["case_id"].to_string();
    let tags_of = || async { app.get(&format!("/cases/{case}")).await.body["tags"].clone() };
    assert_eq!(tags_of().await, serde_json::json!(["db"]), "{got:#?}");
    let cli = against(&app);
    let run = |args: &str| cli(args.split(' ').map(String::from).collect());

    let (ok, out, err) = run(&format!(
        "case tag {case} --add prod --add team:payments --remove db"
    ))
    .await
    .unwrap();
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("Case {case} tags: team:payments, env:prod")),
        "{out}"
    );
    assert_eq!(
        tags_of().await,
        serde_json::json!(["team:payments", "env:prod"])
    );

    // A tag of another type than written, or one the project lacks: the API's 422, nothing set.
    for wrong in ["team:prod", "cache"] {
        let (ok, out, err) = run(&format!("case tag {case} --add {wrong} --remove payments"))
            .await
            .unwrap();
        assert!(!ok, "{out}");
        assert!(
            err.contains("422") && err.contains("tags: ") && err.contains(wrong),
            "{err}"
        );
        assert_eq!(
            tags_of().await,
            serde_json::json!(["team:payments", "env:prod"])
        );
    }

    let (ok, out, err) = run(&format!(
        "case tag {case} --remove env:prod --remove payments"
    ))
    .await
    .unwrap();
    assert!(ok, "{err}");
    assert!(out.contains(&format!("Case {case} has no tags")), "{out}");
    assert_eq!(tags_of().await, serde_json::json!([]));
    let (ok, _, err) = run(&format!("case tag {case}")).await.unwrap();
    assert!(!ok && err.contains("--add"), "something to do: {err}");
    app.run_pending_jobs().await;
}
