//! The command line: `incident …` against a running server, `token create` on the database,
//! and `config example`.

mod common;

use common::spawn_app;
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

#[tokio::test]
async fn the_cli_declares_lists_updates_and_closes_incidents_over_the_api() {
    let app = spawn_app().await;
    let (base, token) = (app.base.clone(), app.token.clone());
    let run = move |args: Vec<String>| {
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
    };
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
}
