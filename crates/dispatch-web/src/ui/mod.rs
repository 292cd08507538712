//! The web UI: server-rendered pages (askama templates, checked at compile time) under `/`,
//! beside the API. Every page works without JavaScript; htmx and a small script (both embedded
//! in the binary, see [`assets`]) add live updates and in-place forms. Access is the API's: every
//! route is in [`crate::policy::POLICIES`] and goes through the same layer, so a page shows
//! exactly what the caller's API calls would.
//!
//! Two layers wrap the pages: [`form_csrf`] lets a plain HTML form carry the session's CSRF token
//! as a hidden `_csrf` field, and [`html_errors`] turns the API's error envelope into an HTML page
//! (and "not signed in" into a redirect to the sign-in page).

mod assets;
mod attached;
mod cases;
mod closing;
mod dashboard;
mod forms;
mod incident;
mod incidents;
mod live;
mod settings;
mod signals;
mod work;
// Responders' pages: timeline tools, people, documents, reports, feedback, account, status.
mod account;
mod extra;
pub mod markdown;
mod people;
mod sections;
mod status;
mod timeline;

pub use forms::Form;

use crate::auth::{self, Auth, SESSION_COOKIE};
use crate::error::ApiError;
use crate::AppState;
use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

/// Every UI route (method, path template); each has its rule in the policy table.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/assets/{name}"),
    ("GET", "/incidents"),
    ("GET", "/incidents.csv"),
    ("POST", "/views"),
    ("POST", "/views/{id}/delete"),
    ("GET", "/report"),
    ("POST", "/report"),
    ("GET", "/report/similar"),
    ("GET", "/incidents/{id}"),
    ("GET", "/incidents/{id}/events"),
    ("POST", "/incidents/{id}/stable"),
    ("GET", "/incidents/{id}/close"),
    ("POST", "/incidents/{id}/close"),
    ("POST", "/incidents/{id}/reopen"),
    ("POST", "/incidents/{id}/edit"),
    ("POST", "/incidents/{id}/room"),
    ("POST", "/incidents/{id}/tasks"),
    ("POST", "/incidents/{id}/tasks/{task_id}/resolve"),
    ("POST", "/incidents/{id}/reports"),
    ("POST", "/jobs/{id}/retry"),
    ("GET", "/tasks"),
    ("GET", "/oncall"),
    ("POST", "/oncall/overrides"),
    ("POST", "/pages/{id}/ack"),
    // What an incident's links open (documents, files, group, room, pages).
    ("GET", "/documents/{id}"),
    ("POST", "/documents/{id}"),
    ("GET", "/incidents/{id}/files"),
    ("POST", "/incidents/{id}/files"),
    ("GET", "/files/{id}"),
    ("GET", "/incidents/{id}/group"),
    ("GET", "/incidents/{id}/room"),
    ("GET", "/pages/{id}"),
    // Settings (admins) and the dashboard.
    ("GET", "/settings"),
    ("GET", "/settings/{section}"),
    ("POST", "/settings/{section}"),
    ("GET", "/settings/{section}/new"),
    ("GET", "/settings/{section}/{id}"),
    ("POST", "/settings/{section}/{id}"),
    ("POST", "/settings/{section}/{id}/{action}"),
    ("GET", "/dashboard"),
    ("GET", "/dashboard.csv"),
    // Responders' pages (timeline tools, people, documents, reports, feedback, account, status).
    ("GET", "/incidents/{id}/timeline"),
    ("POST", "/incidents/{id}/timeline"),
    ("GET", "/incidents/{id}/timeline.md"),
    ("POST", "/incidents/{id}/timeline/{event_id}/pin"),
    ("POST", "/incidents/{id}/timeline/{event_id}/unpin"),
    ("POST", "/incidents/{id}/roles"),
    ("POST", "/incidents/{id}/engage"),
    ("POST", "/incidents/{id}/join"),
    ("POST", "/incidents/{id}/subscribe"),
    ("POST", "/incidents/{id}/documents/{document_id}"),
    ("POST", "/incidents/{id}/reports/executive"),
    ("POST", "/incidents/{id}/feedback"),
    ("GET", "/account"),
    ("POST", "/account/tokens"),
    ("POST", "/account/tokens/{id}/revoke"),
    ("GET", "/status"),
    // Signals (definitions, filters) and cases.
    ("GET", "/signals"),
    ("GET", "/projects/{slug}/signal-definitions/new"),
    ("POST", "/projects/{slug}/signal-definitions"),
    ("GET", "/projects/{slug}/signal-definitions/{id}"),
    ("POST", "/projects/{slug}/signal-definitions/{id}"),
    ("POST", "/projects/{slug}/signal-definitions/{id}/{action}"),
    ("GET", "/signal-filters"),
    ("POST", "/signal-filters"),
    ("GET", "/signal-filters/new"),
    ("GET", "/signal-filters/{id}"),
    ("POST", "/signal-filters/{id}"),
    ("POST", "/signal-filters/{id}/delete"),
    ("GET", "/cases"),
    ("GET", "/cases/{id}"),
    ("GET", "/cases/{id}/events"),
    ("POST", "/cases/{id}/triage"),
    ("POST", "/cases/{id}/escalate"),
    ("POST", "/cases/{id}/stable"),
    ("POST", "/cases/{id}/close"),
    ("POST", "/cases/{id}/snooze"),
    ("POST", "/cases/{id}/assign"),
    ("POST", "/cases/{id}/tags"),
    ("POST", "/cases/{id}/room"),
];

/// The UI's routes, behind the policy layer and the two UI layers.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/assets/{name}", get(assets::serve))
        .route("/incidents", get(incidents::list))
        .route("/incidents.csv", get(incidents::csv))
        .route("/views", post(incidents::save_view))
        .route("/views/{id}/delete", post(incidents::delete_view))
        .route(
            "/report",
            get(incidents::report_page).post(incidents::report),
        )
        .route("/report/similar", get(incidents::similar))
        .route("/incidents/{id}", get(incident::page))
        .route("/incidents/{id}/events", get(live::events))
        .route("/incidents/{id}/stable", post(incident::mark_stable))
        .route(
            "/incidents/{id}/close",
            get(closing::page).post(closing::close),
        )
        .route("/incidents/{id}/reopen", post(incident::reopen))
        .route("/incidents/{id}/edit", post(incident::edit))
        .route("/incidents/{id}/tasks", post(incident::add_task))
        .route(
            "/incidents/{id}/tasks/{task_id}/resolve",
            post(incident::resolve_task),
        )
        .route("/incidents/{id}/reports", post(incident::add_report))
        .route("/jobs/{id}/retry", post(incident::retry_job))
        .route("/tasks", get(work::tasks))
        .route("/oncall", get(work::oncall))
        .route("/oncall/overrides", post(work::add_override))
        .route("/pages/{id}/ack", post(work::acknowledge))
        // What an incident's links open.
        .route(
            "/documents/{id}",
            get(attached::document).post(attached::edit_document),
        )
        .route(
            "/incidents/{id}/files",
            get(attached::files).post(attached::upload).layer(
                axum::extract::DefaultBodyLimit::max(dispatch_engine::files::MAX_FILE_BYTES + 4096),
            ),
        )
        .route("/files/{id}", get(attached::download))
        .route("/incidents/{id}/group", get(attached::group))
        .route(
            "/incidents/{id}/room",
            get(attached::room).post(incident::post_message),
        )
        .route("/pages/{id}", get(attached::page))
        // Settings (admins) and the dashboard.
        .route("/settings", get(settings::index))
        .route(
            "/settings/{section}",
            get(settings::list).post(settings::create),
        )
        .route("/settings/{section}/new", get(settings::new_form))
        .route(
            "/settings/{section}/{id}",
            get(settings::edit_form).post(settings::update),
        )
        .route("/settings/{section}/{id}/{action}", post(settings::act))
        .route("/dashboard", get(dashboard::page))
        .route("/dashboard.csv", get(dashboard::csv))
        // Responders' pages (timeline tools, people, documents, reports, feedback, account, status).
        .route(
            "/incidents/{id}/timeline",
            get(timeline::filtered).post(timeline::add_event),
        )
        .route("/incidents/{id}/timeline.md", get(timeline::markdown))
        .route(
            "/incidents/{id}/timeline/{event_id}/pin",
            post(timeline::pin),
        )
        .route(
            "/incidents/{id}/timeline/{event_id}/unpin",
            post(timeline::unpin),
        )
        .route("/incidents/{id}/roles", post(people::assign_role))
        .route("/incidents/{id}/engage", post(people::engage_oncall))
        .route("/incidents/{id}/join", post(people::join))
        .route("/incidents/{id}/subscribe", post(people::subscribe))
        .route(
            "/incidents/{id}/documents/{document_id}",
            post(extra::edit_document),
        )
        .route(
            "/incidents/{id}/reports/executive",
            post(extra::add_executive_report),
        )
        .route("/incidents/{id}/feedback", post(extra::give_feedback))
        .route("/account", get(account::page))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/status", get(status::page))
        // Signals (definitions, filters) and cases.
        .route("/signals", get(signals::definitions))
        .route(
            "/projects/{slug}/signal-definitions/new",
            get(signals::new_definition),
        )
        .route(
            "/projects/{slug}/signal-definitions",
            post(signals::create_definition),
        )
        .route(
            "/projects/{slug}/signal-definitions/{id}",
            get(signals::edit_definition).post(signals::update_definition),
        )
        .route(
            "/projects/{slug}/signal-definitions/{id}/{action}",
            post(signals::act_on_definition),
        )
        .route(
            "/signal-filters",
            get(signals::filters).post(signals::create_filter),
        )
        .route("/signal-filters/new", get(signals::new_filter))
        .route(
            "/signal-filters/{id}",
            get(signals::edit_filter).post(signals::update_filter),
        )
        .route("/signal-filters/{id}/delete", post(signals::delete_filter))
        .route("/cases", get(cases::list))
        .route("/cases/{id}", get(cases::page))
        .route("/cases/{id}/events", get(live::case_events))
        .route("/cases/{id}/triage", post(cases::triage))
        .route("/cases/{id}/escalate", post(cases::escalate))
        .route("/cases/{id}/stable", post(cases::stable))
        .route("/cases/{id}/close", post(cases::close))
        .route("/cases/{id}/snooze", post(cases::snooze))
        .route("/cases/{id}/assign", post(cases::assign))
        .route("/cases/{id}/tags", post(cases::set_tags))
        .route("/cases/{id}/room", post(cases::post_message))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::policy::enforce,
        ))
        .layer(axum::middleware::from_fn(form_csrf))
        .layer(axum::middleware::from_fn(html_errors))
}

/// `/`: the incidents.
async fn home(_auth: Auth) -> Redirect {
    Redirect::to("/incidents")
}

/// The signed-in person and what every page's frame needs.
pub struct Caller {
    /// Who.
    pub auth: Auth,
    /// The session's CSRF token, for the forms' hidden `_csrf` field (empty for API tokens).
    pub csrf: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        let auth = Auth::from_request_parts(parts, s).await?;
        let csrf = match auth::cookie(&parts.headers, SESSION_COOKIE) {
            Some(secret) => s
                .engine
                .sessions()
                .get(secret)
                .await?
                .map(|l| l.csrf_token)
                .unwrap_or_default(),
            None => String::new(),
        };
        Ok(Caller { auth, csrf })
    }
}

/// The frame around every page: the header navigation and who is signed in.
pub struct Chrome {
    /// The page's title.
    pub title: String,
    /// Which navigation entry is current (`incidents`, `cases`, `signals`, `report`, …).
    pub nav: &'static str,
    /// The signed-in person's e-mail.
    pub email: String,
    /// Their organization role.
    pub role: String,
    /// The CSRF token for forms.
    pub csrf: String,
}

impl Caller {
    /// The frame of a page with this title under this navigation entry.
    pub fn chrome(&self, title: impl Into<String>, nav: &'static str) -> Chrome {
        Chrome {
            title: title.into(),
            nav,
            email: self.auth.actor().email.clone(),
            role: self.auth.0.role.to_string(),
            csrf: self.csrf.clone(),
        }
    }
}

/// Renders a template as a page with this status.
pub fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => ApiError::Internal(format!("template: {e}")).into_response(),
    }
}

/// After a form: back to a page (303, so the browser GETs it).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A list's address at `page`, keeping its filters (`query`, without `page`).
pub fn page_link(path: &str, query: &str, page: u64) -> String {
    if query.is_empty() {
        format!("{path}?page={page}")
    } else {
        format!("{path}?{query}&page={page}")
    }
}

/// Whether htmx sent the request (it wants a fragment, not a page).
pub fn is_htmx(headers: &axum::http::HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// Lets a form send the session's CSRF token as its `_csrf` field: copies it into the
/// `X-CSRF-Token` header the authentication checks, before the policy layer runs.
pub async fn form_csrf(mut req: Request, next: Next) -> Response {
    // An upload (multipart) form carries the token in its action's query instead: its body is
    // a file, not read here.
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if req.method() == Method::POST && multipart && !req.headers().contains_key(auth::CSRF_HEADER) {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(req.uri().query().unwrap_or_default()).unwrap_or_default();
        if let Some((_, token)) = pairs.iter().find(|(k, _)| k == "_csrf") {
            if let Ok(v) = HeaderValue::from_str(token) {
                req.headers_mut().insert(auth::CSRF_HEADER, v);
            }
        }
        return next.run(req).await;
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if req.method() != Method::POST || !is_form || req.headers().contains_key(auth::CSRF_HEADER) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, crate::MAX_BODY_BYTES).await else {
        return ApiError::PayloadTooLarge(crate::MAX_BODY_BYTES).into_response();
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    if let Some((_, token)) = pairs.iter().find(|(k, _)| k == "_csrf") {
        if let Ok(v) = HeaderValue::from_str(token) {
            parts.headers.insert(auth::CSRF_HEADER, v);
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// An error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    message: String,
}

/// Turns the API's error envelope into a page people can read, and "not signed in" into the
/// sign-in page (coming back here afterwards for a page).
async fn html_errors(req: Request, next: Next) -> Response {
    let back = (req.method() == Method::GET)
        .then(|| req.uri().path_and_query().map(|p| p.to_string()))
        .flatten();
    let res = next.run(req).await;
    let status = res.status();
    if status == StatusCode::UNAUTHORIZED {
        let to = match back {
            Some(b) => format!(
                "/auth/login?{}",
                serde_urlencoded::to_string([("next", b)]).unwrap_or_default()
            ),
            None => "/auth/login".to_string(),
        };
        return Redirect::to(&to).into_response();
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || !is_json {
        return res;
    }
    let bytes = axum::body::to_bytes(res.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let message = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| {
            let e = &v["error"];
            let mut m = e["message"].as_str()?.to_string();
            for f in e["fields"].as_array().into_iter().flatten() {
                m.push_str(&format!(
                    "\n{}: {}",
                    f["field"].as_str().unwrap_or_default(),
                    f["message"].as_str().unwrap_or_default()
                ));
            }
            Some(m)
        })
        .unwrap_or_else(|| "something went wrong".into());
    let page = ErrorPage {
        chrome: Chrome {
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            nav: "",
            email: String::new(),
            role: String::new(),
            csrf: String::new(),
        },
        status: status.as_u16(),
        message,
    };
    render(status, &page)
}
