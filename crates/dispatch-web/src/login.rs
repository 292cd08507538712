//! Signing in to the web UI: `POST /auth/login` (a form or JSON) starts a server-side session
//! and sets its cookie (HttpOnly, SameSite=Lax, Secure when the public URL is https);
//! `POST /auth/logout` ends it; `/auth/setup` sets a password from a one-time set-up link.
//! Failed sign-ins are limited per address and per e-mail (429 with `Retry-After`), counted in
//! the database so the limit holds across replicas; the answer to a failure is the same
//! whether the account exists or not.

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
use dispatch_engine::audit::Origin;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;

/// Sign-in routes (mounted at the root, beside `/api/v1`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(login_page).post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/setup", get(setup_page).post(setup))
}

/// The limits on failed sign-ins: per e-mail and per address, in fixed windows. The counts are
/// kept in the database (see `Sessions::throttled`), so every replica enforces the same
/// limit and a restart does not reset it.
#[derive(Debug, Clone, Copy)]
pub struct Limiter {
    window: chrono::TimeDelta,
    per_email: i64,
    per_addr: i64,
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
            window: chrono::TimeDelta::from_std(window).unwrap_or(chrono::TimeDelta::minutes(15)),
            per_email: per_email as i64,
            per_addr: per_addr as i64,
        }
    }

    fn email_key(email: &str) -> String {
        format!("email:{}", email.trim().to_lowercase())
    }

    fn addr_key(addr: Option<&str>) -> String {
        format!("addr:{}", addr.unwrap_or("unknown"))
    }

    /// `Err(seconds to wait)` when the e-mail or the address has used up its failures. The
    /// answer is the same whether the account exists or not.
    pub async fn check(
        &self,
        engine: &dispatch_engine::Engine,
        email: &str,
        addr: Option<&str>,
    ) -> ApiResult<Result<(), u64>> {
        let keys = [
            (Self::email_key(email), self.per_email),
            (Self::addr_key(addr), self.per_addr),
        ];
        Ok(
            match engine.sessions().throttled(&keys, self.window).await? {
                Some(wait) => Err(wait),
                None => Ok(()),
            },
        )
    }

    /// Counts a failure against the e-mail and the address.
    pub async fn fail(
        &self,
        engine: &dispatch_engine::Engine,
        email: &str,
        addr: Option<&str>,
    ) -> ApiResult<()> {
        let keys = [Self::email_key(email), Self::addr_key(addr)];
        Ok(engine.sessions().login_failed(&keys, self.window).await?)
    }

    /// Forgets an e-mail's failures after it signed in.
    pub async fn succeed(&self, engine: &dispatch_engine::Engine, email: &str) -> ApiResult<()> {
        Ok(engine
            .sessions()
            .login_succeeded(&Self::email_key(email))
            .await?)
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
        let crate::extract::Json(v) = crate::extract::Json::<T>::from_request(req, s).await?;
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
        Redirect::to(crate::redirect::safe_next(next)).into_response()
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
    match sign_in(&s, &origin, &b).await {
        Ok(start) => Ok(started(&s, start, form, b.next.as_deref())),
        // The web form answers with itself, the error on it and the e-mail kept.
        Err(e) if form => Ok(form_error(
            &e,
            login_form(&s, b.next.as_deref(), b.email.as_deref(), Some(&e)),
        )),
        Err(e) => Err(e),
    }
}

/// Checks the sign-in and starts the session.
async fn sign_in(s: &AppState, origin: &Origin, b: &LoginIn) -> ApiResult<SessionStart> {
    let mut e = dispatch_core::ValidationError::default();
    let email = crate::api::parse::required(&mut e, "email", &b.email).map(str::to_string);
    let password = crate::api::parse::required(&mut e, "password", &b.password).map(str::to_string);
    e.into_result()?;
    let (email, password) = (email.expect("checked"), password.expect("checked"));
    let addr = origin.addr.as_deref();
    s.auth
        .limiter
        .check(&s.engine, &email, addr)
        .await?
        .map_err(ApiError::TooManyRequests)?;
    match s
        .engine
        .sessions()
        .sign_in(&email, &password, origin)
        .await?
    {
        Some(start) => {
            s.auth.limiter.succeed(&s.engine, &email).await?;
            Ok(start)
        }
        None => {
            s.auth.limiter.fail(&s.engine, &email, addr).await?;
            Err(ApiError::BadCredentials)
        }
    }
}

/// A form answered with itself: `page` (the form showing the error) with the error's status
/// (and its `Retry-After`, for too many attempts).
fn form_error(e: &ApiError, page: Html<String>) -> Response {
    let mut res = (e.status_code(), page).into_response();
    if let ApiError::TooManyRequests(secs) = e {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    res
}

/// What a form shows about an error: a sentence, and each field's message.
fn error_html(e: &ApiError) -> String {
    let text = match e {
        ApiError::Validation(v) => v
            .fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        ApiError::BadCredentials => "Wrong e-mail or password.".to_string(),
        ApiError::Internal(_) => "Something went wrong; see the server log.".to_string(),
        other => {
            let mut t = other.to_string();
            if let Some(first) = t.get(..1) {
                t.replace_range(..1, &first.to_uppercase());
            }
            format!("{t}.")
        }
    };
    format!(r#"<p class="error" role="alert">{}</p>"#, escape(&text))
}

/// Ends the caller's session and clears its cookie.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", responses((status = 204), (status = 303, description = "Form: to the sign-in page")))]
pub async fn logout(
    State(s): State<AppState>,
    auth: Auth,
    RequestOrigin(origin): RequestOrigin,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    s.engine.sessions().sign_out(&auth.0, &origin).await?;
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
    match complete_setup(&s, &origin, &b).await {
        Ok(()) if form => Ok(Redirect::to("/auth/login").into_response()),
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        // The web form answers with itself and the error (a weak password, a spent link).
        Err(e) if form => Ok(form_error(&e, setup_form(b.token.as_deref(), Some(&e)))),
        Err(e) => Err(e),
    }
}

async fn complete_setup(s: &AppState, origin: &Origin, b: &SetupIn) -> ApiResult<()> {
    let mut e = dispatch_core::ValidationError::default();
    let token = crate::api::parse::required(&mut e, "token", &b.token).map(str::to_string);
    let password = crate::api::parse::required(&mut e, "password", &b.password).map(str::to_string);
    e.into_result()?;
    s.engine
        .accounts()
        .complete_setup(
            &token.expect("checked"),
            &password.expect("checked"),
            origin,
        )
        .await?;
    Ok(())
}

const PAGE: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Dispatch — {title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/app.css">
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
</head><body class="auth"><h1>{title}</h1>{body}</body></html>"#;

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
    login_form(&s, q.next.as_deref(), None, None)
}

/// The sign-in page: single sign-on when configured, the form (with `email` filled in and the
/// error of the last attempt, if any).
fn login_form(
    s: &AppState,
    next: Option<&str>,
    email: Option<&str>,
    error: Option<&ApiError>,
) -> Html<String> {
    let sso = if s.auth.oidc.is_some() {
        r#"<p><a href="/auth/oidc/login">Sign in with single sign-on</a></p>"#
    } else {
        ""
    };
    // Where the form goes after signing in (checked again by `started`).
    let next = match crate::redirect::safe_next(next) {
        "/" => String::new(),
        n => format!(r#"<input type="hidden" name="next" value="{}">"#, escape(n)),
    };
    let error = error.map(error_html).unwrap_or_default();
    let email = escape(email.unwrap_or_default());
    page(
        "Sign in",
        &format!(
            r#"{sso}{error}<form method="post" action="/auth/login">{next}<label for="e">E-mail</label><input id="e" name="email" type="email" autocomplete="username" value="{email}" required>
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
    let mut res = setup_form(q.token.as_deref(), None).into_response();
    // The link's token must not leak to other sites through the Referer header.
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// The set-up form for a link's token, with the error of the last attempt, if any.
fn setup_form(token: Option<&str>, error: Option<&ApiError>) -> Html<String> {
    let token = escape(token.unwrap_or_default());
    let error = error.map(error_html).unwrap_or_default();
    page(
        "Choose your password",
        &format!(
            r#"{error}<form method="post" action="/auth/setup"><input type="hidden" name="token" value="{token}">
<label for="p">Password (at least {} characters, not a common one)</label><input id="p" name="password" type="password" autocomplete="new-password" minlength="{}" required>
<button type="submit">Set password</button></form>"#,
            dispatch_core::password::MIN_LEN,
            dispatch_core::password::MIN_LEN
        ),
    )
}
