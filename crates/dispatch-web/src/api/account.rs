//! Accounts over the API: who am I, API tokens (mint, list by prefix, revoke), users and their
//! roles (owners), and the audit log (admins).

use super::parse;
use crate::auth::{Auth, RequestOrigin};
use crate::error::ApiResult;
use crate::extract::{Json, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, patch, post};
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::values::Email;
use dispatch_core::{OrgRole, Patch, TokenScope, ValidationError};
use dispatch_engine::accounts::tokens::{NewApiToken, TokenView};
use dispatch_engine::accounts::UserKind;
use dispatch_engine::audit::AuditFilter;
use dispatch_engine::data::UserRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Account routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", delete(revoke_token))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", patch(update_user))
        .route("/users/{id}/setup-link", post(new_setup_link))
        .route("/audit", get(audit))
}

/// The caller.
#[derive(Serialize, ToSchema)]
pub struct MeOut {
    /// E-mail.
    pub email: String,
    /// Name.
    pub name: String,
    /// Organization role.
    pub role: OrgRole,
    /// What the credential may do.
    pub scope: TokenScope,
    /// The session's CSRF token (signed in with a session only).
    pub csrf_token: Option<String>,
}

/// Who is calling, with what role; with a session, its CSRF token.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", responses((status = 200, body = MeOut)))]
pub async fn me(
    State(s): State<AppState>,
    auth: Auth,
    headers: axum::http::HeaderMap,
) -> ApiResult<axum::Json<MeOut>> {
    let csrf_token = match auth.0.credential {
        dispatch_engine::access::Credential::Session(_) => {
            match crate::auth::cookie(&headers, crate::auth::SESSION_COOKIE) {
                Some(secret) => s.engine.sessions().get(secret).await?.map(|l| l.csrf_token),
                None => None,
            }
        }
        _ => None,
    };
    Ok(axum::Json(MeOut {
        email: auth.0.actor.email.clone(),
        name: auth.0.actor.name.clone(),
        role: auth.0.role,
        scope: auth.0.scope,
        csrf_token,
    }))
}

/// An API token, never its secret.
#[derive(Serialize, ToSchema)]
pub struct TokenOut {
    /// Id.
    pub id: i64,
    /// Label.
    pub name: String,
    /// The first characters, to recognise it.
    pub prefix: String,
    /// Whose it is.
    pub owner: String,
    /// `read`, `write` or `admin`.
    pub scope: String,
    /// Minted.
    pub created_at: DateTime<Utc>,
    /// Stops working at.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last used (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revoked at.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The secret: only in the answer that minted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<TokenView> for TokenOut {
    fn from(v: TokenView) -> Self {
        let t = v.token;
        Self {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            owner: v.owner,
            scope: t.scope,
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
            token: None,
        }
    }
}

/// Token list options.
#[derive(Deserialize, IntoParams)]
pub struct TokenQuery {
    /// Every person's and service account's tokens (admins).
    pub all: Option<bool>,
}

/// The caller's API tokens (or, for admins with `all=true`, everyone's), newest first.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", params(TokenQuery), responses((status = 200, body = Vec<TokenOut>)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<TokenQuery>,
) -> ApiResult<axum::Json<Vec<TokenOut>>> {
    let rows = s
        .engine
        .credentials()
        .list(&auth.0, q.all.unwrap_or(false))
        .await?;
    Ok(axum::Json(rows.into_iter().map(Into::into).collect()))
}

/// A token to mint.
#[derive(Deserialize, ToSchema)]
pub struct TokenIn {
    /// A label (e.g. what uses it).
    pub name: Option<String>,
    /// `read`, `write` (default) or `admin`; never above the caller's own credential.
    pub scope: Option<String>,
    /// When it stops working (RFC 3339); never when absent.
    pub expires_at: Option<String>,
    /// Mint it for this service account (created if new) instead of the caller; admins only.
    pub service_account: Option<String>,
}

/// Mints an API token; the secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", request_body = TokenIn,
    responses((status = 201, body = TokenOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_token(
    State(s): State<AppState>,
    auth: Auth,
    RequestOrigin(origin): RequestOrigin,
    Json(b): Json<TokenIn>,
) -> ApiResult<(StatusCode, axum::Json<TokenOut>)> {
    let mut e = ValidationError::default();
    let scope = parse::enum_field::<TokenScope>(&mut e, "scope", b.scope.as_deref())
        .unwrap_or(TokenScope::Write);
    let expires_at = parse::time(&mut e, "expires_at", b.expires_at.as_deref());
    let service_account = b
        .service_account
        .as_deref()
        .and_then(|m| e.check(Email::parse("service_account", m)));
    let name = b.name.unwrap_or_else(|| "api".into());
    if name.chars().count() > 100 {
        e.push("name", "must be at most 100 characters");
    }
    e.into_result()?;
    let (secret, view) = s
        .engine
        .credentials()
        .mint(
            &auth.0,
            NewApiToken {
                name,
                scope,
                expires_at,
                service_account,
            },
            &origin,
        )
        .await?;
    let mut out = TokenOut::from(view);
    out.token = Some(secret);
    Ok((StatusCode::CREATED, axum::Json(out)))
}

/// Revokes a token (the caller's own; admins any). It answers 401 from then on.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 200, body = TokenOut), (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    auth: Auth,
    RequestOrigin(origin): RequestOrigin,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<TokenOut>> {
    Ok(axum::Json(
        s.engine
            .credentials()
            .revoke(&auth.0, dispatch_core::TokenId(id), &origin)
            .await?
            .into(),
    ))
}

/// A user.
#[derive(Serialize, ToSchema)]
pub struct UserOut {
    /// Id.
    pub id: i64,
    /// E-mail.
    pub email: String,
    /// Name.
    pub name: String,
    /// Organization role.
    pub role: String,
    /// `person` or `service`.
    pub kind: String,
    /// Whether a local password is set.
    pub has_password: bool,
    /// Disabled accounts cannot sign in and their tokens stop working.
    pub disabled: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// A one-time link to choose a password (only in the answer that created the user).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_link: Option<String>,
}

impl From<UserRow> for UserOut {
    fn from(u: UserRow) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            kind: u.kind,
            has_password: u.has_password,
            disabled: u.disabled_at.is_some(),
            created_at: u.created_at,
            setup_link: None,
        }
    }
}

/// Every user.
#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", responses((status = 200, body = Vec<UserOut>)))]
pub async fn list_users(
    State(s): State<AppState>,
    _auth: Auth,
) -> ApiResult<axum::Json<Vec<UserOut>>> {
    Ok(axum::Json(
        s.engine
            .accounts()
            .list()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// A user to create.
#[derive(Deserialize, ToSchema)]
pub struct UserIn {
    /// E-mail.
    pub email: Option<String>,
    /// `member` (default), `admin`, `manager` or `owner`.
    pub role: Option<String>,
    /// `person` (default; gets a set-up link) or `service` (holds API tokens only).
    pub kind: Option<String>,
}

/// Creates a user; a person gets a one-time set-up link to choose a password. An e-mail that
/// already has an account is a 409 (change its role with `PATCH /users/{id}`).
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = UserIn,
    responses((status = 201, body = UserOut), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_user(
    State(s): State<AppState>,
    auth: Auth,
    RequestOrigin(origin): RequestOrigin,
    Json(b): Json<UserIn>,
) -> ApiResult<(StatusCode, axum::Json<UserOut>)> {
    let mut e = ValidationError::default();
    let email =
        parse::required(&mut e, "email", &b.email).and_then(|m| e.check(Email::parse("email", m)));
    let role =
        parse::enum_field::<OrgRole>(&mut e, "role", b.role.as_deref()).unwrap_or(OrgRole::Member);
    let kind = match b.kind.as_deref().map(str::trim) {
        None | Some("person") => UserKind::Person,
        Some("service") => UserKind::Service,
        Some(other) => {
            e.push("kind", format!("{other:?} is not person or service"));
            UserKind::Person
        }
    };
    e.into_result()?;
    let created = s
        .engine
        .accounts()
        .create(Some(&auth.0), &email.expect("checked"), role, kind, &origin)
        .await?;
    let mut out = UserOut::from(created.user);
    out.setup_link = created.setup_link;
    Ok((StatusCode::CREATED, axum::Json(out)))
}

/// A fresh one-time set-up link for a person who has not chosen a password yet (the previous
/// link stops working); 409 for an account with a password, a disabled one or a service account.
#[utoipa::path(post, path = "/api/v1/users/{id}/setup-link", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 200, body = UserOut), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn new_setup_link(
    State(s): State<AppState>,
    auth: Auth,
    RequestOrigin(origin): RequestOrigin,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<UserOut>> {
    let issued = s
        .engine
        .accounts()
        .new_setup_link(Some(&auth.0), dispatch_core::UserId(id), &origin)
        .await?;
    let mut out = UserOut::from(issued.user);
    out.setup_link = issued.setup_link;
    Ok(axum::Json(out))
}

/// A change to a user.
#[derive(Deserialize, ToSchema)]
pub struct UserPatch {
    /// New role.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub role: Patch<String>,
    /// Disable (true) or enable (false) the account.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub disabled: Patch<bool>,
}

/// Changes a user's role or disables the account (owners): the one way a role changes, audited
/// as `user.role_changed` (from, to). The last enabled owner cannot be demoted or disabled (409).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "accounts", request_body = UserPatch, params(("id" = i64, Path)),
    responses((status = 200, body = UserOut), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_user(
    State(s): State<AppState>,
    auth: Auth,
    RequestOrigin(origin): RequestOrigin,
    Path(id): Path<i64>,
    Json(b): Json<UserPatch>,
) -> ApiResult<axum::Json<UserOut>> {
    let mut e = ValidationError::default();
    let role = parse::not_null(&mut e, "role", b.role);
    let role = parse::enum_field::<OrgRole>(&mut e, "role", role.as_deref());
    let disabled = parse::not_null(&mut e, "disabled", b.disabled);
    e.into_result()?;
    Ok(axum::Json(
        s.engine
            .accounts()
            .update(&auth.0, dispatch_core::UserId(id), role, disabled, &origin)
            .await?
            .into(),
    ))
}

/// An audit entry.
#[derive(Serialize, ToSchema)]
pub struct AuditOut {
    /// Id.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (e-mail; for a failed sign-in, what was typed).
    pub actor: Option<String>,
    /// What: `sign_in`, `sign_out`, `token.created`, `token.revoked`, `user.created`,
    /// `user.role_changed`, `user.disabled`, `user.enabled`, `user.password_set`,
    /// `user.setup_link_issued`, `api.write`,
    /// `config.changed`.
    pub action: String,
    /// To what.
    pub target: Option<String>,
    /// `ok`, `failed` or `denied`.
    pub outcome: String,
    /// From which address.
    pub source_addr: Option<String>,
    /// With which credential.
    pub credential: Option<String>,
    /// More (`null` when there is nothing more).
    #[schema(value_type = Option<Object>)]
    pub details: serde_json::Value,
}

/// Audit filters.
#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Only this action.
    pub action: Option<String>,
    /// Only this actor's e-mail.
    pub actor: Option<String>,
    /// Entries older than this id (the next page).
    pub before: Option<i64>,
    /// At most this many (1-500, default 100).
    pub limit: Option<i64>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "accounts", params(AuditQuery), responses((status = 200, body = Vec<AuditOut>)))]
pub async fn audit(
    State(s): State<AppState>,
    _auth: Auth,
    Query(q): Query<AuditQuery>,
) -> ApiResult<axum::Json<Vec<AuditOut>>> {
    let mut e = ValidationError::default();
    let limit = parse::limit(&mut e, q.limit);
    e.into_result()?;
    let rows = s
        .engine
        .audit()
        .log(&AuditFilter {
            action: q.action,
            actor: q.actor.map(|a| a.trim().to_lowercase()),
            before_id: q.before,
            limit,
        })
        .await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|r| AuditOut {
                id: r.id,
                at: r.at,
                actor: r.actor,
                action: r.action,
                target: r.target,
                outcome: r.outcome,
                source_addr: r.source_addr,
                credential: r.credential,
                details: serde_json::from_str(&r.details).unwrap_or_default(),
            })
            .collect(),
    ))
}
