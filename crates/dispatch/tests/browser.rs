//! The web UI in a real headless Chromium: starts the server (with a worker, so the incident page
//! fills in live), creates a person with a password, and runs `tests/browser/walk.mjs`
//! (playwright-core driving Debian's `/usr/bin/chromium`): sign in → report an incident → watch
//! its room and resources come up → `/dispatch-assign-role` in the room → a task → a tactical
//! report → stable → closed → found in the list with a filter; then an admin creates an engagement
//! rule in the settings and sees it bring its observer into a matching incident, defines a signal,
//! sends alerts and escalates their case from the case page. Screenshots of
//! every page go to `test-artifacts/browser/` at the workspace root.
//!
//! Needs Chromium (`apt-get install -y chromium chromium-driver`), Node.js and
//! `tests/browser/node_modules` (`npm ci` there); `.ci/run` installs all three. The test installs
//! nothing: without them it fails saying what is missing. To leave it out knowingly, skip it by
//! name (`cargo test --workspace -- --skip in_chromium`): cargo then counts it as filtered out,
//! never as passed.

// The browser walk uses a small part of the integration tests' harness.
#[allow(dead_code)]
#[path = "it/common/mod.rs"]
mod common;

use common::spawn_app;
use std::path::{Path, PathBuf};
use std::process::Command;

const PASSWORD: &str = "violet kettle drumbeat";

fn chromium() -> Option<PathBuf> {
    let configured = std::env::var_os("CHROMIUM").map(PathBuf::from);
    configured
        .into_iter()
        .chain(["/usr/bin/chromium", "/usr/bin/chromium-browser"].map(PathBuf::from))
        .find(|p| p.exists())
}

fn has_node() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs one script of `tests/browser` against a fresh server with a worker and three people
/// (ann and obi, members; ada, an admin; one password); returns the server when it passed.
async fn run_in_chromium(script: &str, passed: &str) -> common::TestApp {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = chromium();
    let missing: Vec<&str> = [
        (chromium.is_none(), "Chromium at /usr/bin/chromium (apt-get install -y --no-install-recommends chromium chromium-driver)"),
        (!has_node(), "Node.js (apt-get install -y --no-install-recommends nodejs npm)"),
        (!dir.join("node_modules/playwright-core").exists(), "node_modules (npm ci in crates/dispatch/tests/browser)"),
        (!dir.join("node_modules/axe-core").exists(), "axe-core (npm ci in crates/dispatch/tests/browser)"),
    ]
    .into_iter()
    .filter_map(|(absent, what)| absent.then_some(what))
    .collect();
    assert!(
        missing.is_empty(),
        "the browser walk cannot run; missing: {}. `.ci/run` installs them; to leave this test \
         out knowingly, run `cargo test -- --skip in_chromium`",
        missing.join("; ")
    );
    let chromium = chromium.expect("Chromium was found above");

    let app = spawn_app().await;
    // A worker, as `dispatch serve` runs one, a little slow so that the incident page opens
    // before its resources are ready and shows them come up. Stopped between runs at the end,
    // so that what is left can be run and the harness finds the queue drained.
    let engine = app.engine.clone();
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(async move {
        while !*stopped.borrow() {
            let runner = dispatch_engine::jobs::Runner::new(engine.clone(), common::fast_runner());
            if let Err(e) = runner.run_pending().await {
                eprintln!("worker: {e}");
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_millis(1500)) => {}
                _ = stopped.changed() => {}
            }
        }
    });
    app.person_with_password("ann@example.com", "member", PASSWORD)
        .await;
    app.person_with_password("obi@example.com", "member", PASSWORD)
        .await;
    app.person_with_password("ada@example.com", "admin", PASSWORD)
        .await;

    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts/browser");
    let base = app.base.clone();
    let script = script.to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .current_dir(&dir)
            .env("DISPATCH_BASE", base)
            .env("DISPATCH_EMAIL", "ann@example.com")
            .env("DISPATCH_OTHER_EMAIL", "obi@example.com")
            .env("DISPATCH_PASSWORD", PASSWORD)
            .env("DISPATCH_ADMIN_EMAIL", "ada@example.com")
            .env("ARTIFACTS", artifacts)
            .env("CHROMIUM", chromium)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    stop.send(true).expect("the worker is running");
    worker.await.expect("the worker stops");
    app.run_pending_jobs().await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the browser walk failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(passed), "{stdout}");
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_runs_an_incident_from_report_to_close_in_chromium() {
    let app = run_in_chromium("walk.mjs", "browser walk: passed").await;
    // What the walk did is in the database too.
    let list = app.get("/incidents?status=closed").await.body;
    assert_eq!(list["total"], 1, "{list}");
}

/// The incident page as a commander works in it (see `tests/browser/screen.mjs`): links that
/// open pages, editing in place, toasts, permission-aware actions, closing with guard rails, a
/// chat-like room, a readable timeline, the list on a phone, and axe-core's accessibility check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commander_works_the_incident_screen_in_chromium() {
    let app = run_in_chromium("screen.mjs", "screen walk: passed").await;
    let closed = app.get("/incidents?status=closed").await.body;
    assert_eq!(closed["total"], 1, "{closed}");
    let name = closed["items"][0]["name"].as_str().expect("a name");
    let inc = app.get(&format!("/incidents/{name}")).await.body;
    assert!(
        inc["resolution"]
            .as_str()
            .is_some_and(|r| r.contains("2 TB")),
        "the resolution typed on the close page is the incident's: {inc}"
    );
}
