//! Unsubscribing from an incident's mail by the signed link each stakeholder mail carries
//! (in its text and as its `List-Unsubscribe` header). `GET /unsubscribe?token=…` shows a page
//! that asks to confirm with one button: a mail scanner that fetches every link must not
//! unsubscribe anyone (RFC 8058 §3). `POST /unsubscribe?token=…` unsubscribes: the page's
//! button, or a mail client's one-click POST (`List-Unsubscribe=One-Click`). Neither needs
//! signing in — the token is the credential, for one address and one incident — and both
//! answer with a page for a person, errors included.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use dispatch_core::email::escape;
use dispatch_engine::stakeholders::LinkTarget;
use serde::Deserialize;

/// The unsubscribe routes (mounted at the root, beside `/api/v1`).
pub fn router() -> Router<AppState> {
    Router::new().route("/unsubscribe", get(confirm_page).post(unsubscribe))
}

/// The link's query.
#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    /// The signed token from the mail.
    #[serde(default)]
    token: String,
}

const PAGE: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Dispatch — {title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/app.css">
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
</head><body class="auth"><h1>{title}</h1>{body}</body></html>"#;

/// A page for a person; the link's token must not leak to other sites through `Referer`.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = PAGE.replace("{title}", title).replace("{body}", body);
    let mut res = (status, Html(html)).into_response();
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// An error as a page: a bad or altered link, an incident that is gone, or a failure.
fn error_page(e: dispatch_engine::Error) -> Response {
    let e = ApiError::from(e);
    let status = e.status_code();
    let said = match &e {
        ApiError::Validation(v) => v
            .fields
            .iter()
            .map(|f| f.message.clone())
            .collect::<Vec<_>>()
            .join("; "),
        ApiError::NotFound(_) => "The incident this link was for no longer exists.".into(),
        _ => {
            tracing::error!(error = %e, "unsubscribe link failed");
            "Something went wrong; please try again later.".into()
        }
    };
    page(
        status,
        "Cannot unsubscribe",
        &format!("<p>{}</p>", escape(&said)),
    )
}

fn about(t: &LinkTarget) -> String {
    format!("{} ({})", escape(&t.incident), escape(&t.title))
}

/// The confirmation page of a signed unsubscribe link.
// The link's `?token=` is not declared as a parameter: every answer, a bad token's 422 too, is
// a page for a person, not the API's error envelope.
#[utoipa::path(get, path = "/unsubscribe", tag = "incidents",
    responses(
        (status = 200, description = "HTML page asking to confirm (`?token=` from the mail's link)"),
        (status = 404, description = "HTML page: the incident the link was for no longer exists"),
        (status = 422, description = "HTML page: the link is not valid (missing, altered or cut short)"),
    ))]
pub async fn confirm_page(State(s): State<AppState>, Query(q): Query<LinkQuery>) -> Response {
    match s
        .engine
        .stakeholders()
        .unsubscribe_link_target(&q.token)
        .await
    {
        Ok(t) => page(
            StatusCode::OK,
            "Unsubscribe",
            &format!(
                r#"<p>Stop e-mail to <strong>{}</strong> about {}?</p>
<form method="post" action="/unsubscribe?token={}"><button type="submit">Unsubscribe</button></form>"#,
                escape(&t.email),
                about(&t),
                escape(&q.token)
            ),
        ),
        Err(e) => error_page(e),
    }
}

/// Follows a signed unsubscribe link: the address receives no more mail about the incident.
/// The one-click POST of RFC 8058 (body `List-Unsubscribe=One-Click`) and the confirmation
/// page's button both land here; the body is not needed.
#[utoipa::path(post, path = "/unsubscribe", tag = "incidents",
    responses(
        (status = 200, description = "HTML page: unsubscribed (`?token=` from the mail's link)"),
        (status = 404, description = "HTML page: the incident the link was for no longer exists"),
        (status = 422, description = "HTML page: the link is not valid (missing, altered or cut short)"),
    ))]
pub async fn unsubscribe(State(s): State<AppState>, Query(q): Query<LinkQuery>) -> Response {
    match s.engine.stakeholders().unsubscribe_by_link(&q.token).await {
        Ok(t) => page(
            StatusCode::OK,
            "Unsubscribed",
            &format!(
                "<p><strong>{}</strong> will receive no more e-mail about {}.</p>\n<p>Changed your mind? Ask the incident's commander to add you again, or subscribe to it in Dispatch.</p>",
                escape(&t.email),
                about(&t)
            ),
        ),
        Err(e) => error_page(e),
    }
}
