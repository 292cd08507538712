//! Prometheus metrics and the health endpoints. Series are recorded through the `metrics`
//! facade (here, in the engine's job runner and around its providers) into one process-wide
//! Prometheus recorder, installed the first time an application is built ([`Metrics::global`]),
//! and rendered by the `/metrics` route — the exporter runs no listener of its own. HTTP series
//! are kept per route template (never per raw path, so ids do not explode the series).

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// HTTP requests answered, by `method`, `route` (the matched template) and `status` (the code).
pub const HTTP_REQUESTS: &str = "dispatch_http_requests_total";
/// Time spent answering HTTP requests, in seconds, by `method`, `route` and `status` (a running
/// sum; kept for the dashboards that divide it by [`HTTP_REQUESTS`]).
pub const HTTP_SECONDS_SUM: &str = "dispatch_http_request_seconds_sum";
/// Latency of HTTP requests, by `method`, `route` and `status` class (`2xx`, `4xx`, …).
pub const HTTP_DURATION: &str = "dispatch_http_request_duration_seconds";

/// The upper bounds of every histogram's buckets, in seconds (every histogram is a duration:
/// HTTP requests, jobs, provider calls; jobs time out after a minute).
const BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// How often histograms are folded into their buckets between scrapes (so unscraped samples
/// do not pile up).
const UPKEEP: Duration = Duration::from_secs(5);

/// The process's metrics: a handle on the installed Prometheus recorder.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl Metrics {
    /// The process-wide recorder, installed on first use (every application built in this
    /// process, e.g. each test's, shares it), with a thread that runs its upkeep. When another
    /// recorder was installed first, this one still renders, but only what is recorded
    /// through it directly (nothing): a warning says so.
    pub fn global() -> Self {
        static GLOBAL: OnceLock<Metrics> = OnceLock::new();
        GLOBAL
            .get_or_init(|| {
                let builder = PrometheusBuilder::new()
                    .set_buckets(BUCKETS)
                    .expect("the bucket list is not empty");
                let recorder = builder.build_recorder();
                let handle = recorder.handle();
                if let Err(e) = ::metrics::set_global_recorder(recorder) {
                    tracing::warn!(error = %e, "another metrics recorder is installed; /metrics will be empty");
                }
                describe();
                let upkeep = handle.clone();
                let spawned = std::thread::Builder::new()
                    .name("metrics-upkeep".into())
                    .spawn(move || loop {
                        std::thread::sleep(UPKEEP);
                        upkeep.run_upkeep();
                    });
                if let Err(e) = spawned {
                    tracing::warn!(error = %e, "metrics upkeep thread not started; scrapes do its work");
                }
                Metrics { handle }
            })
            .clone()
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

/// Describes every series (their `# HELP` lines).
fn describe() {
    ::metrics::describe_counter!(HTTP_REQUESTS, "HTTP requests answered.");
    ::metrics::describe_gauge!(
        HTTP_SECONDS_SUM,
        ::metrics::Unit::Seconds,
        "Time spent answering HTTP requests."
    );
    ::metrics::describe_histogram!(
        HTTP_DURATION,
        ::metrics::Unit::Seconds,
        "Latency of HTTP requests, by method, route template and status class."
    );
    dispatch_engine::telemetry::describe();
}

/// Middleware that counts and times every request.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let res = next.run(req).await;
    let seconds = start.elapsed().as_secs_f64();
    let status = res.status().as_u16();
    let class = format!("{}xx", status / 100);
    ::metrics::counter!(HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status.to_string()).increment(1);
    ::metrics::gauge!(HTTP_SECONDS_SUM, "method" => method.clone(), "route" => route.clone(), "status" => status.to_string()).increment(seconds);
    ::metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route, "status" => class)
        .record(seconds);
    res
}

/// `/healthz`, `/readyz`, `/metrics`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.engine.db().ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "database unavailable",
            )
                .into_response()
        }
    }
}

/// The Prometheus text exposition, with the job queue's gauges read now.
async fn metrics(State(state): State<AppState>) -> Response {
    if let Err(e) = state.engine.jobs().record_queue_metrics().await {
        tracing::warn!(error = %e, "reading the job queue for /metrics failed");
    }
    dispatch_engine::telemetry::record_db_statements();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
        .into_response()
}
