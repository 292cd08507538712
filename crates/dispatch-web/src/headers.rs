//! Security headers on every answer: `X-Content-Type-Options: nosniff` everywhere (and
//! `Strict-Transport-Security` when the public URL is https); on HTML pages also a strict
//! Content-Security-Policy (this server only, no inline script or style: every page's scripts
//! and styles are files under `/assets`), no framing, `Referrer-Policy: same-origin` (unless the
//! page chose a stricter one) and a `Permissions-Policy` that turns off what Dispatch never uses.

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The Content-Security-Policy of every HTML page.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; object-src 'none'; frame-ancestors 'none'";

/// The browser features no page of Dispatch uses.
pub const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), geolocation=(), \
     gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

/// HSTS for a year, sent only when the public URL is https.
const HSTS: &str = "max-age=31536000";

/// Adds the headers; `https` says whether the public URL is https.
pub async fn security_headers(State(https): State<bool>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if https {
        set(h, header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    if html {
        set(h, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
        set(h, header::X_FRAME_OPTIONS, "DENY");
        set(
            h,
            HeaderName::from_static("permissions-policy"),
            PERMISSIONS_POLICY,
        );
        h.entry(header::REFERRER_POLICY)
            .or_insert(HeaderValue::from_static("same-origin"));
    }
    res
}
