//! `dispatch bench` end to end on the test's database: a small run reports every scenario beside
//! its floors, the statements per call, and declares per second from one client and from 8 beside
//! the declare floor's. Timings are reported, never asserted.

use crate::common::TestDb;
use crate::signal_bench::{run_json, x};

#[tokio::test]
async fn a_small_bench_reports_floors_statements_and_declare_throughput() {
    let db = TestDb::new().await;
    let v = run_json(&[
        "bench",
        "--database-url",
        &db.url,
        "--json",
        "--incidents",
        "200",
        "--samples",
        "5",
        "--warmup",
        "2",
    ]);
    for s in ["declare", "get", "list", "search"] {
        assert!(x(&v, &format!("{s}_p50_ms")) > 0.0, "{s}: {v:#}");
        assert!(x(&v, &format!("{s}_floor_p50_ms")) > 0.0, "{s}: {v:#}");
    }
    // Statements per call are the server's whole counter over the phase, so in a run this
    // short a background job (a token's use written, a reminder) shows in them: only reported.
    for s in ["get", "list"] {
        assert!(x(&v, &format!("{s}_statements")) >= 1.0, "{s}: {v:#}");
    }
    for f in [
        "declares_per_s_c1",
        "declares_per_s_c8",
        "declare_floor_per_s_c1",
        "declare_floor_per_s_c8",
    ] {
        assert!(x(&v, f) > 0.0, "{f}: {v:#}");
    }
}
