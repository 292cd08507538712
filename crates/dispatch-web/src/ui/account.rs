//! `/account`: who I am, my API tokens (listed by prefix; minted with a scope and an expiry, the
//! secret shown once; revoked) and signing out. The same engine calls as `/api/v1/me` and
//! `/api/v1/tokens`.

use super::{render, see_other, Caller, Chrome, Form};
use crate::api::account::TokenOut;
use crate::api::parse;
use crate::auth::RequestOrigin;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use dispatch_core::{TokenScope, ValidationError};
use dispatch_engine::accounts::tokens::NewApiToken;
use serde::Deserialize;

/// The account page.
#[derive(Template)]
#[template(path = "account.html")]
struct Page {
    chrome: Chrome,
    name: String,
    scope: String,
    tokens: Vec<TokenOut>,
    form: Form,
    /// A token just minted: its secret, shown this once.
    minted: Option<TokenOut>,
}

async fn page_with(
    s: &AppState,
    caller: &Caller,
    status: StatusCode,
    form: Form,
    minted: Option<TokenOut>,
) -> ApiResult<Response> {
    let tokens = s
        .engine
        .credentials()
        .list(&caller.auth.0, false)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let page = Page {
        chrome: caller.chrome("Account", "account"),
        name: caller.auth.actor().name.clone(),
        scope: caller.auth.0.scope.to_string(),
        tokens,
        form,
        minted,
    };
    Ok(render(status, &page))
}

/// `GET /account`.
pub async fn page(State(s): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let form = Form::with_values([("scope", "read".to_string())]);
    page_with(&s, &caller, StatusCode::OK, form, None).await
}

/// A token to mint.
#[derive(Deserialize)]
pub struct TokenForm {
    name: Option<String>,
    scope: Option<String>,
    /// A date (`2026-12-31`, the end of that day in UTC) or a `datetime-local` value; never
    /// when empty.
    expires_at: Option<String>,
}

fn expiry(e: &mut ValidationError, raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return d.and_hms_opt(23, 59, 59).map(|t| t.and_utc());
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M") {
        return Some(t.and_utc());
    }
    parse::time(e, "expires_at", Some(raw))
}

/// `POST /account/tokens`: mints a token and shows its secret once.
pub async fn create_token(
    State(s): State<AppState>,
    caller: Caller,
    RequestOrigin(origin): RequestOrigin,
    axum::Form(b): axum::Form<TokenForm>,
) -> ApiResult<Response> {
    let mut e = ValidationError::default();
    let name = b.name.as_deref().unwrap_or_default().trim().to_string();
    if name.is_empty() {
        e.push("name", "is required: what will use it");
    } else if name.chars().count() > 100 {
        e.push("name", "must be at most 100 characters");
    }
    let scope = parse::enum_field::<TokenScope>(
        &mut e,
        "scope",
        b.scope.as_deref().filter(|v| !v.is_empty()),
    )
    .unwrap_or(TokenScope::Read);
    let expires_at = super::forms::optional(&mut e, b.expires_at.as_deref(), expiry);
    let result = super::forms::submit(e, || {
        s.engine.credentials().mint(
            &caller.auth.0,
            NewApiToken {
                name,
                scope,
                expires_at,
                service_account: None,
            },
            &origin,
        )
    })
    .await;
    match result {
        Ok((secret, view)) => {
            let mut minted = TokenOut::from(view);
            minted.token = Some(secret);
            let form = Form::with_values([("scope", "read".to_string())]);
            page_with(&s, &caller, StatusCode::CREATED, form, Some(minted)).await
        }
        Err(err) => {
            let mut form = Form::with_values([
                ("name", b.name.unwrap_or_default()),
                ("scope", b.scope.unwrap_or_default()),
                ("expires_at", b.expires_at.unwrap_or_default()),
            ]);
            form.fail(err)?;
            page_with(&s, &caller, StatusCode::UNPROCESSABLE_ENTITY, form, None).await
        }
    }
}

/// `POST /account/tokens/{id}/revoke`: the token answers 401 from then on.
pub async fn revoke_token(
    State(s): State<AppState>,
    caller: Caller,
    RequestOrigin(origin): RequestOrigin,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    s.engine
        .credentials()
        .revoke(&caller.auth.0, dispatch_core::TokenId(id), &origin)
        .await?;
    Ok(see_other("/account"))
}
