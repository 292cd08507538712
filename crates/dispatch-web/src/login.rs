//! Signing in to the web UI: `POST /auth/login` (a form or JSON) starts a server-side session
//! and sets its cookie (HttpOnly, SameSite=Lax, Secure when the public URL is https);
//! `POST /auth/logout` ends it; `/auth/setup` sets a password from a one-time set-up link.
//! Failed sign-ins are limited per address and per e-mail (429 with `Retry-After`), and the
//! answer to a failure is the same whether the account exists or not.

use crate::auth::{Auth, RequestOrigin, SESSION_COOKIE};
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_engine::accounts::session::SessionStart;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// Sign-in routes (mounted at the root, beside `/api/v1`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(login_page).post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/setup", get(setup_page).post(setup))
}

/// Failed sign-in attempts, per key (an address or an e-mail), over a sliding window.
pub struct Limiter {
    window: Duration,
    per_email: usize,
    per_addr: usize,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Default for Limiter {
    fn default() -> Self {
        Self::new(Duration::from_secs(15 * 60), 5, 20)
    }
}

impl Limiter {
    /// At most `per_email` failures for one e-mail and `per_addr` from one address per `window`.
    pub fn new(window: Duration, per_email: usize, per_addr: usize) -> Self {
        Self {
            window,
            per_email,
            per_addr,
            failures: Mutex::default(),
        }
    }

    fn keys(email: &str, addr: Option<&str>) -> [(String, bool); 2] {
        [
            (format!("email:{}", email.trim().to_lowercase()), true),
            (format!("addr:{}", addr.unwrap_or("unknown")), false),
        ]
    }

    /// `Err(seconds to wait)` when either key has used up its failures.
    pub fn check(&self, email: &str, addr: Option<&str>) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for (key, is_email) in Self::keys(email, addr) {
            let limit = if is_email {
                self.per_email
            } else {
                self.per_addr
            };
            if let Some(q) = map.get_mut(&key) {
                while q
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > self.window)
                {
                    q.pop_front();
                }
                if q.len() >= limit {
                    let oldest = *q.front().expect("non-empty");
                    let wait = self.window.saturating_sub(now.duration_since(oldest));
                    return Err(wait.as_secs().max(1));
                }
            }
        }
        Ok(())
    }

    /// Counts a failure against both keys.
    pub fn fail(&self, email: &str, addr: Option<&str>) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 50_000 {
            let window = self.window;
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) <= window));
        }
        for (key, _) in Self::keys(email, addr) {
            map.entry(key).or_default().push_back(now);
        }
    }

    /// Forgets an e-mail's failures after it signed in.
    pub fn succeed(&self, email: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&Self::keys(email, None)[0].0);
    }
}

/// A sign-in, as JSON or as a form.
#[derive(Deserialize, ToSchema)]
pub struct LoginIn {
    /// E-mail.
    pub email: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Where a form sign-in goes next (a path on this server; `/` by default).
    pub next: Option<String>,
}

/// A started session (JSON sign-in).
#[derive(Serialize, ToSchema)]
pub struct SessionOut {
    /// Who signed in.
    pub email: String,
    /// Their organization role.
    pub role: String,
    /// Send it as `X-CSRF-Token` on every request that changes something.
    pub csrf_token: String,
    /// When the session ends at the latest.
    pub expires_at: DateTime<Utc>,
}

/// Reads a JSON or form body.
async fn body<T: serde::de::DeserializeOwned>(req: Request, s: &AppState) -> ApiResult<(T, bool)> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        let axum::Form(v) = axum::Form::<T>::from_request(req, s)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        Ok((v, true))
    } else {
        let crate::error::Json(v) = crate::error::Json::<T>::from_request(req, s).await?;
        Ok((v, false))
    }
}

fn session_cookie(s: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if s.auth.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .expect("cookie is ASCII")
}

/// The answer to a started session: JSON with the CSRF token, or a redirect for a form.
pub fn started(s: &AppState, start: SessionStart, form: bool, next: Option<&str>) -> Response {
    let max_age = (start.expires_at - dispatch_core::now())
        .num_seconds()
        .max(0);
    let cookie = session_cookie(s, &start.secret, max_age);
    let mut res = if form {
        // Only a path on this server, never another site.
        let next = next
            .filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
            .unwrap_or("/");
        Redirect::to(next).into_response()
    } else {
        axum::Json(SessionOut {
            email: start.who.actor.email.clone(),
            role: start.who.role.to_string(),
            csrf_token: start.csrf_token,
            expires_at: start.expires_at,
        })
        .into_response()
    };
    res.headers_mut().append(header::SET_COOKIE, cookie);
    res
}

/// Signs in with e-mail and password; sets the session cookie.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginIn,
    responses((status = 200, body = SessionOut), (status = 303, description = "Form sign-in: to `next`"),
        (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn login(
    State(s): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    req: Request,
) -> ApiResult<Response> {
    let (b, form): (LoginIn, bool) = body(req, &s).await?;
    let mut e = dispatch_core::ValidationError::default();
    let email = crate::api::parse::required(&mut e, "email", &b.email).map(str::to_string);
    let password = crate::api::parse::required(&mut e, "password", &b.password).map(str::to_string);
    e.into_result()?;
    let (email, password) = (email.expect("checked"), password.expect("checked"));
    let addr = origin.addr.as_deref();
    s.auth
        .limiter
        .check(&email, addr)
        .map_err(ApiError::TooManyRequests)?;
    match s.engine.sign_in(&email, &password, &origin).await? {
        Some(start) => {
            s.auth.limiter.succeed(&email);
            Ok(started(&s, start, form, b.next.as_deref()))
        }
        None => {
            s.auth.limiter.fail(&email, addr);
            Err(ApiError::BadCredentials)
        }
    }
}

/// Ends the caller's session and clears its cookie.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", responses((status = 204), (status = 303, description = "Form: to the sign-in page")))]
pub async fn logout(
    State(s): State<AppState>,
    auth: Auth,
    RequestOrigin(origin): RequestOrigin,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    s.engine.sign_out(&auth.0, &origin).await?;
    // A form (the web UI's "Sign out") goes back to the sign-in page.
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let mut res = if form {
        Redirect::to("/auth/login").into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    };
    res.headers_mut()
        .append(header::SET_COOKIE, session_cookie(&s, "", 0));
    Ok(res)
}

/// Choosing a password from a set-up link.
#[derive(Deserialize, ToSchema)]
pub struct SetupIn {
    /// The token of the set-up link.
    pub token: Option<String>,
    /// The new password (12-128 characters, not a common one).
    pub password: Option<String>,
}

/// Sets a password from a one-time set-up link.
#[utoipa::path(post, path = "/auth/setup", tag = "auth", request_body = SetupIn,
    responses((status = 204), (status = 303, description = "Form: to the sign-in page"),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn setup(
    State(s): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    req: Request,
) -> ApiResult<Response> {
    let (b, form): (SetupIn, bool) = body(req, &s).await?;
    let mut e = dispatch_core::ValidationError::default();
    let token = crate::api::parse::required(&mut e, "token", &b.token).map(str::to_string);
    let password = crate::api::parse::required(&mut e, "password", &b.password).map(str::to_string);
    e.into_result()?;
    s.engine
        .complete_setup(
            &token.expect("checked"),
            &password.expect("checked"),
            &origin,
        )
        .await?;
    Ok(if form {
        Redirect::to("/auth/login").into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    })
}

const PAGE: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Dispatch — {title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1rem}</style>
</head><body><h1>{title}</h1>{body}</body></html>"#;

fn page(title: &str, body: &str) -> Html<String> {
    Html(PAGE.replace("{title}", title).replace("{body}", body))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Query of the sign-in page.
#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// The sign-in form.
#[utoipa::path(get, path = "/auth/login", tag = "auth", responses((status = 200, description = "HTML form")))]
pub async fn login_page(
    State(s): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> Html<String> {
    let sso = if s.auth.oidc.is_some() {
        r#"<p><a href="/auth/oidc/login">Sign in with single sign-on</a></p>"#
    } else {
        ""
    };
    // Where the form goes after signing in (checked again by `started`).
    let next = q
        .next
        .as_deref()
        .filter(|n| n.starts_with('/') && !n.starts_with("//"))
        .map(|n| format!(r#"<input type="hidden" name="next" value="{}">"#, escape(n)))
        .unwrap_or_default();
    page(
        "Sign in",
        &format!(
            r#"{sso}<form method="post" action="/auth/login">{next}<label for="e">E-mail</label><input id="e" name="email" type="email" autocomplete="username" required>
<label for="p">Password</label><input id="p" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>"#
        ),
    )
}

/// Query of the set-up page.
#[derive(Deserialize)]
pub struct SetupQuery {
    token: Option<String>,
}

/// The set-up form (from a set-up link).
#[utoipa::path(get, path = "/auth/setup", tag = "auth", responses((status = 200, description = "HTML form")))]
pub async fn setup_page(axum::extract::Query(q): axum::extract::Query<SetupQuery>) -> Response {
    let token = escape(q.token.as_deref().unwrap_or_default());
    let mut res = page(
        "Choose your password",
        &format!(
            r#"<form method="post" action="/auth/setup"><input type="hidden" name="token" value="{token}">
<label for="p">Password (at least {} characters, not a common one)</label><input id="p" name="password" type="password" autocomplete="new-password" minlength="{}" required>
<button type="submit">Set password</button></form>"#,
            dispatch_core::password::MIN_LEN,
            dispatch_core::password::MIN_LEN
        ),
    )
    .into_response();
    // The link's token must not leak to other sites through the Referer header.
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}
