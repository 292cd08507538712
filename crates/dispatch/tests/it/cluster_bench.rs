//! `dispatch bench cluster` end to end on the test's database: replicas behind the real HAProxy
//! on PostgreSQL (one replica, no proxy, on SQLite), one `kill -9`ed under a mixed load and
//! restarted; afterwards nothing acknowledged is lost, no side effect happened twice, the
//! scheduler fired once per period, every declare's webhook arrived and, with several replicas,
//! a live update crossed from one replica to another. Throughput is reported, never asserted.

use crate::common::TestDb;
use serde_json::Value;
use std::process::Command;

fn n(v: &Value, field: &str) -> i64 {
    v[field]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer {field} in {v:#}"))
}

#[tokio::test]
async fn a_replica_killed_under_load_loses_nothing_and_doubles_nothing() {
    let db = TestDb::new().await;
    let postgres = db.url.starts_with("postgres");
    let replicas = if postgres { "2" } else { "1" };
    let out = Command::new(env!("CARGO_BIN_EXE_dispatch"))
        .args(["bench", "cluster", "--database-url", &db.url, "--json"])
        .args([
            "--replicas",
            replicas,
            "--duration",
            "8s",
            "--scale-time",
            "2s",
        ])
        .args(["--concurrency", "3"])
        .output()
        .expect("run the bench");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    assert!(out.status.success(), "the bench failed: {stderr}\n{v:#}");
    assert!(n(&v, "acknowledged") > 10, "{v:#}");
    for zero in [
        "lost",
        "duplicate_side_effects",
        "scheduler_double_fires",
        "sagas_unfinished",
        "webhooks_missing",
    ] {
        assert_eq!(n(&v, zero), 0, "{zero}: {v:#}");
    }
    assert_eq!(v["drained"], true, "{v:#}");
    // A two-second schedule over the eight-second load fired in (nearly) every period.
    assert!(n(&v, "scheduler_fires") >= 2, "{v:#}");
    for kind in ["declare", "command", "message", "page"] {
        assert!(
            v["requests"][kind]["ok"].as_u64().unwrap_or(0) > 0,
            "no {kind} answered: {v:#}"
        );
    }
    if postgres {
        assert_eq!(v["sse_cross_replica"], true, "{v:#}");
        assert!(v["speedup_1_to_2"].as_f64().is_some(), "{v:#}");
    } else {
        assert_eq!(v["sse_cross_replica"], Value::Null, "{v:#}");
    }
}
