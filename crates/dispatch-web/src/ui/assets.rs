//! The UI's static files, embedded in the binary: one stylesheet, htmx (vendored from the
//! `htmx.org` npm package, see `assets/README.md`), the small script of the live parts, and the
//! API docs page's script and style (every page's scripts and styles are files: the
//! Content-Security-Policy allows no inline ones).

use crate::error::ApiError;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

const FILES: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/app.js"),
    ),
    (
        "docs.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/docs.css"),
    ),
    (
        "docs.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/docs.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../assets/favicon.svg"),
    ),
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/htmx.min.js"),
    ),
];

/// `GET /assets/{name}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, kind, body)) => (
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            *body,
        )
            .into_response(),
        None => ApiError::NotFound(format!("asset {name}")).into_response(),
    }
}
