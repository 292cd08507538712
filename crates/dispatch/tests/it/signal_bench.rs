//! `dispatch bench signals` end to end on the test's database: a small run answers every alert,
//! stores every instance it answered, deduplicates repeats, and reports its figures and floors
//! in JSON; killed with SIGKILL mid-run and restarted, it still loses no answered alert.
//! Timings are reported, never asserted.

use crate::common::TestDb;
use serde_json::Value;
use std::process::Command;

/// Runs `dispatch` with `args` (a bench with `--json`) and reads the JSON it prints.
pub(crate) fn run_json(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_dispatch"))
        .args(args)
        .env("DISPATCH_LOG", "warn")
        .output()
        .expect("run the bench");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the bench failed: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

fn bench(url: &str, extra: &[&str]) -> Value {
    let mut args = vec!["bench", "signals", "--database-url", url, "--json"];
    args.extend(["--concurrency", "4", "--floor-time", "200ms"]);
    args.extend(extra);
    run_json(&args)
}

fn n(v: &Value, field: &str) -> i64 {
    v[field]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer {field} in {v:#}"))
}

/// The number `field` of a bench's JSON report.
pub(crate) fn x(v: &Value, field: &str) -> f64 {
    v[field]
        .as_f64()
        .unwrap_or_else(|| panic!("no number {field} in {v:#}"))
}

#[tokio::test]
async fn a_small_signal_bench_stores_every_answered_alert_and_reports_its_floors() {
    let db = TestDb::new().await;
    let v = bench(&db.url, &["--alerts", "2000"]);
    assert_eq!(n(&v, "alerts_accepted"), 2000, "{v:#}");
    assert_eq!(n(&v, "lost"), 0, "{v:#}");
    // Every firing alert is an instance; each answered id is stored, and nothing else was.
    assert_eq!(
        n(&v, "instances_answered"),
        n(&v, "firing_accepted"),
        "{v:#}"
    );
    assert_eq!(
        n(&v, "instances_stored"),
        n(&v, "instances_answered"),
        "{v:#}"
    );
    let outcomes = &v["outcomes"];
    let dedup = outcomes["deduplicated"].as_i64().unwrap_or(0);
    let new_cases = outcomes["new_case"].as_i64().unwrap_or(0);
    assert!(dedup > 0 && new_cases > 0, "{outcomes:#}");
    assert_eq!(n(&v, "cases"), new_cases, "one case per new alert");
    assert!(n(&v, "requests") >= 2000 / 50, "{v:#}");
    for f in [
        "alerts_per_s",
        "requests_per_s",
        "p50_ms",
        "p99_ms",
        "floor_http_per_s",
        "floor_http_p50_ms",
        "floor_insert_alerts_per_s",
        "floor_insert_p50_ms",
        "rss_start_mb",
        "rss_mid_mb",
        "rss_end_mb",
    ] {
        assert!(x(&v, f) > 0.0, "{f} in {v:#}");
    }
    assert!(x(&v, "p99_ms") >= x(&v, "p50_ms"));
    assert!(v.get("killed_at_s").is_none());
}

#[tokio::test]
async fn a_paced_signal_bench_offers_its_rate_and_no_faster() {
    let db = TestDb::new().await;
    let v = bench(&db.url, &["--alerts", "1500", "--rate", "1000"]);
    assert_eq!(n(&v, "alerts_accepted"), 1500, "{v:#}");
    assert_eq!(n(&v, "lost"), 0, "{v:#}");
    assert_eq!(x(&v, "offered_alerts_per_s"), 1000.0, "{v:#}");
    // The last notification is due once the 1,450 or more alerts before it were offered
    // (1.45 s after the load began, less the moment between that and the clock start).
    assert!(x(&v, "seconds") >= 1.4, "{v:#}");
    let bad = Command::new(env!("CARGO_BIN_EXE_dispatch"))
        .args(["bench", "signals", "--rate", "0"])
        .output()
        .expect("run the bench");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--rate"));
}

#[tokio::test]
async fn a_server_killed_mid_bench_loses_no_answered_alert() {
    let db = TestDb::new().await;
    let v = bench(&db.url, &["--alerts", "3000", "--kill-after", "300ms"]);
    assert_eq!(n(&v, "alerts_accepted"), 3000, "{v:#}");
    assert_eq!(n(&v, "lost"), 0, "{v:#}");
    assert!(x(&v, "killed_at_s") > 0.0, "{v:#}");
    // A request the kill cut off may have been stored before it was answered, and is then
    // stored again when sent again: stored >= answered, never fewer.
    assert!(
        n(&v, "instances_stored") >= n(&v, "instances_answered"),
        "{v:#}"
    );
    assert_eq!(
        n(&v, "instances_answered"),
        n(&v, "firing_accepted"),
        "{v:#}"
    );
}
