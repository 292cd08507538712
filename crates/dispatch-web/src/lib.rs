//! Dispatch's HTTP edge: the REST API under `/api/v1` with its OpenAPI document and docs page,
//! the web UI under `/`, and the operational endpoints `/healthz`, `/readyz` and `/metrics`.

pub mod api;
pub mod auth;
pub mod error;
pub mod extract;
pub mod headers;
pub mod login;
pub mod metrics;
pub mod oidc;
pub mod openapi;
pub mod policy;
pub mod redirect;
pub mod trusted;
pub mod ui;
pub mod unsubscribe;
pub mod wire;

use axum::Router;
use dispatch_engine::Engine;
use dispatch_slack::transport::SlackSettings;
use dispatch_teams::transport::TeamsSettings;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// The largest request body accepted; larger ones get a 413 in the error envelope.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The command handlers.
    pub engine: Engine,
    /// The process's metrics recorder, rendered by `/metrics`.
    pub metrics: metrics::Metrics,
    /// The Slack transport, when a signing secret is configured.
    pub slack: Option<Arc<SlackSettings>>,
    /// The Teams transport, when a bot app id is configured.
    pub teams: Option<Arc<TeamsSettings>>,
    /// Sign-in settings and state.
    pub auth: Arc<WebAuth>,
    /// The configured public URL (the OpenAPI document's server), if any.
    pub public_url: Option<Arc<str>>,
    /// PagerDuty's webhook, when a signing secret is configured.
    pub pagerduty: Option<Arc<api::pagerduty::PagerDutyWebhook>>,
    /// The signal endpoints' per-sender rate limit.
    pub signal_limiter: Arc<api::signal_limit::SignalLimiter>,
    /// The signal sources' signing secrets (optional, per source).
    pub signal_signing: Arc<api::signal_signing::SignalSigning>,
}

/// The Slack endpoints (mounted under `/api/v1`, see [`api::router`]) reach the engine and the
/// signing secret through the state, and answer failures in the API's error envelope.
impl dispatch_slack::transport::Host for AppState {
    type Error = error::ApiError;

    fn engine(&self) -> &Engine {
        &self.engine
    }

    fn slack(&self) -> Option<&SlackSettings> {
        self.slack.as_deref()
    }
}

/// The Teams endpoint (mounted under `/api/v1`) reaches the engine and the token checks through
/// the state, and answers failures in the API's error envelope.
impl dispatch_teams::transport::Host for AppState {
    type Error = error::ApiError;

    fn engine(&self) -> &Engine {
        &self.engine
    }

    fn teams(&self) -> Option<&TeamsSettings> {
        self.teams.as_deref()
    }
}

/// What the HTTP application serves beyond the API: transports and sign-in.
#[derive(Default)]
pub struct WebOptions {
    /// Accept Slack's requests, verified with this app's signing secret.
    pub slack: Option<SlackSettings>,
    /// Accept the Bot Connector's activities for this Teams bot.
    pub teams: Option<TeamsSettings>,
    /// How people sign in.
    pub auth: WebAuth,
    /// The configured public URL, e.g. `https://dispatch.example.com`.
    pub public_url: Option<String>,
    /// Accept PagerDuty's webhook, verified with this signing secret.
    pub pagerduty: Option<api::pagerduty::PagerDutyWebhook>,
    /// How many requests each sender may make to each signal endpoint (none: no limit).
    pub signal_rate: Option<api::signal_limit::SignalRate>,
    /// Signing secrets of signal sources, by `source` or `project/source`.
    pub signal_secrets: Vec<(String, String)>,
}

/// How people sign in.
#[derive(Default)]
pub struct WebAuth {
    /// The public URL is https: the session cookie is `Secure` and answers carry
    /// `Strict-Transport-Security`.
    pub secure_cookies: bool,
    /// Trusted-header authentication (off by default).
    pub trusted: trusted::TrustedHeader,
    /// OIDC single sign-on, when configured.
    pub oidc: Option<oidc::OidcClient>,
    /// Failed sign-ins per address and e-mail.
    pub limiter: login::Limiter,
}

impl WebAuth {
    /// Whether requests from this address may set `X-Forwarded-For` and the trusted header.
    pub fn trusts_proxy(&self, ip: std::net::IpAddr) -> bool {
        self.trusted.proxies.contains(&ip)
    }
}

/// The whole HTTP application, with local sign-in only.
pub fn app(engine: Engine) -> Router {
    app_with(engine, WebOptions::default())
}

/// The whole HTTP application with these transports and sign-in settings. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` so the audit log has addresses.
pub fn app_with(engine: Engine, options: WebOptions) -> Router {
    let state = AppState {
        engine,
        metrics: metrics::Metrics::global(),
        slack: options.slack.map(Arc::new),
        teams: options.teams.map(Arc::new),
        auth: Arc::new(options.auth),
        public_url: options.public_url.map(Into::into),
        pagerduty: options.pagerduty.map(Arc::new),
        signal_limiter: Arc::new(api::signal_limit::SignalLimiter::new(options.signal_rate)),
        signal_signing: Arc::new(api::signal_signing::SignalSigning::new(
            options.signal_secrets,
        )),
    };
    let enforce = || axum::middleware::from_fn_with_state(state.clone(), policy::enforce);
    let x_request_id = axum::http::HeaderName::from_static("x-request-id");
    Router::new()
        .nest(
            "/api/v1",
            api::router()
                .merge(openapi::router())
                // Signal sources: the bearer token (the outer layer), then the sender's rate,
                // then the signature, before the handler reads the body.
                .merge(
                    api::signal_ingest::router()
                        .route_layer(axum::middleware::from_fn_with_state(
                            state.clone(),
                            api::signal_signing::verify,
                        ))
                        .route_layer(axum::middleware::from_fn_with_state(
                            state.clone(),
                            api::signal_limit::limit,
                        )),
                )
                .route_layer(enforce()),
        )
        .merge(
            login::router()
                .merge(oidc::router())
                .merge(unsubscribe::router())
                .route_layer(enforce())
                .layer(axum::middleware::from_fn(ui::form_csrf)),
        )
        .merge(ui::router(state.clone()))
        .merge(metrics::router())
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::custom(|_| {
            error::ApiError::Internal("handler panicked".into()).into_response_owned()
        }))
        .layer(axum::middleware::from_fn_with_state(
            state.auth.secure_cookies,
            headers::security_headers,
        ))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
        .with_state(state)
}

impl error::ApiError {
    /// The response for this error (usable where `IntoResponse` is not in scope).
    pub fn into_response_owned(self) -> axum::response::Response {
        axum::response::IntoResponse::into_response(self)
    }
}
