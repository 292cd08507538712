//! Providers over the API: which ones this server has (`GET /providers`), a person as the
//! project's contact directory knows them (`GET /contacts/{email}`), the direct messages the
//! built-in conversation provider keeps (`GET /messages/direct`), and an incident's built-in
//! participant group (`GET /incidents/{id}/group`).

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::provider::Contact;
use dispatch_core::values::{Email, IncidentRef};
use dispatch_core::{Capability, ValidationError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Provider routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/providers", get(list))
        .route("/providers/check", get(check))
        .route("/contacts/{email}", get(contact))
        .route("/messages/direct", get(direct_messages))
        .route("/incidents/{id}/group", get(group))
}

/// The providers of one capability.
#[derive(Serialize, ToSchema)]
pub struct CapabilityOut {
    /// The capability (`conversation`, `email`, …): the key projects choose under.
    pub capability: String,
    /// The slugs of the providers this server has for it.
    pub providers: Vec<String>,
    /// The one used by projects that choose none.
    pub default: Option<String>,
}

/// Every capability with the providers this server has for it and its default.
#[utoipa::path(get, path = "/api/v1/providers", tag = "providers",
    responses((status = 200, body = Vec<CapabilityOut>), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    _auth: Auth,
) -> ApiResult<axum::Json<Vec<CapabilityOut>>> {
    let out = Capability::ALL
        .iter()
        .map(|c| {
            let (slugs, default) = s.engine.registry().available(*c);
            CapabilityOut {
                capability: c.to_string(),
                providers: slugs.into_iter().map(String::from).collect(),
                default: default.map(String::from),
            }
        })
        .collect();
    Ok(axum::Json(out))
}

/// What checking one provider found.
#[derive(Serialize, ToSchema)]
pub struct ProviderCheckOut {
    /// The capability it serves.
    pub capability: String,
    /// The provider's slug.
    pub provider: String,
    /// Whether the vendor accepted a cheap authenticated call.
    pub ok: bool,
    /// What works, or what is wrong and which setting to look at.
    pub message: String,
}

/// Which project's providers to check.
#[derive(Deserialize, IntoParams)]
pub struct CheckParams {
    /// Project slug: the providers it uses (every provider this server has when absent).
    pub project: Option<String>,
}

/// Checks each provider that calls a vendor (Jira, Zoom, PagerDuty, Opsgenie, …) with a cheap
/// authenticated call, and says what works and what does not. Built-in providers have nothing
/// to check and are left out. Admins only (it uses the server's credentials).
#[utoipa::path(get, path = "/api/v1/providers/check", tag = "providers", params(CheckParams),
    responses((status = 200, body = Vec<ProviderCheckOut>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn check(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<CheckParams>,
) -> ApiResult<axum::Json<Vec<ProviderCheckOut>>> {
    let project = q
        .project
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    auth.require_admin("checking the providers")?;
    let found = s.engine.integrations().check_providers(project).await?;
    Ok(axum::Json(
        found
            .into_iter()
            .map(|c| ProviderCheckOut {
                capability: c.capability.to_string(),
                provider: c.provider.to_string(),
                ok: c.ok,
                message: c.message,
            })
            .collect(),
    ))
}

/// A person as the directory knows them.
#[derive(Serialize, ToSchema)]
pub struct ContactOut {
    /// E-mail address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Job title.
    pub title: Option<String>,
    /// Team.
    pub team: Option<String>,
    /// Link to their profile.
    pub weblink: Option<String>,
    /// The contact provider that answered.
    pub provider: String,
}

/// Which project's directory.
#[derive(Deserialize, IntoParams)]
pub struct ContactParams {
    /// Project slug (the default project when absent).
    pub project: Option<String>,
}

/// Looks a person up by e-mail in the project's contact directory.
#[utoipa::path(get, path = "/api/v1/contacts/{email}", tag = "providers",
    params(("email" = String, Path, description = "E-mail address"), ContactParams),
    responses((status = 200, body = ContactOut), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn contact(
    State(s): State<AppState>,
    _auth: Auth,
    Path(email): Path<String>,
    Query(q): Query<ContactParams>,
) -> ApiResult<axum::Json<ContactOut>> {
    let email = Email::parse("email", &email)?;
    let project = q
        .project
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let slug = s
        .engine
        .projects()
        .get_or_default(project)
        .await
        .map_err(|_| {
            ApiError::field(
                "project",
                format!("unknown project {:?}", project.unwrap_or_default()),
            )
        })?;
    let provider = s
        .engine
        .integrations()
        .of_project(&slug)
        .effective
        .get(&Capability::Contact)
        .copied()
        .flatten()
        .unwrap_or_default()
        .to_string();
    let found: Option<Contact> = s
        .engine
        .integrations()
        .contact(Some(&slug.slug), email.as_str())
        .await?;
    let c = found.ok_or_else(|| ApiError::NotFound(format!("contact {email}")))?;
    Ok(axum::Json(ContactOut {
        email: c.email,
        name: c.name,
        title: c.title,
        team: c.team,
        weblink: c.weblink,
        provider,
    }))
}

/// A direct message.
#[derive(Serialize, ToSchema)]
pub struct DirectMessageOut {
    /// Id.
    pub id: i64,
    /// To whom.
    pub email: String,
    /// Plain text.
    pub text: String,
    /// The rich message blocks.
    #[schema(value_type = Vec<Object>)]
    pub blocks: serde_json::Value,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Whose direct messages.
#[derive(Deserialize, IntoParams)]
pub struct DirectParams {
    /// The person (the caller when absent).
    pub email: Option<String>,
    /// At most this many, newest first (default 50, at most 200).
    pub limit: Option<u64>,
}

/// Direct messages the built-in conversation provider sent a person (pages, reminders),
/// newest first.
#[utoipa::path(get, path = "/api/v1/messages/direct", tag = "providers", params(DirectParams),
    responses((status = 200, body = Vec<DirectMessageOut>), (status = 422, body = ErrorBody)))]
pub async fn direct_messages(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<DirectParams>,
) -> ApiResult<axum::Json<Vec<DirectMessageOut>>> {
    let mut e = ValidationError::default();
    let email = match q.email.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => e.check(Email::parse("email", v)).map(|m| m.to_string()),
        None => Some(auth.actor().email.clone()),
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        e.push("limit", "must be between 1 and 200");
    }
    e.into_result()?;
    let email = email.unwrap_or_default();
    // Direct messages are private: your own, unless you are an admin.
    if !email.eq_ignore_ascii_case(&auth.actor().email) && !auth.0.is_admin() {
        return Err(ApiError::Forbidden(
            "only admins may read someone else's direct messages".into(),
        ));
    }
    let rows = s
        .engine
        .integrations()
        .direct_messages(&email, limit)
        .await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|m| DirectMessageOut {
                id: m.id,
                email: m.email,
                text: m.text,
                blocks: serde_json::from_str(&m.blocks).unwrap_or_default(),
                created_at: m.created_at,
            })
            .collect(),
    ))
}

/// An incident's participant group as Dispatch keeps it.
#[derive(Serialize, ToSchema)]
pub struct GroupOut {
    /// Name.
    pub name: String,
    /// The address it is known by.
    pub email: String,
    /// Members' e-mails.
    pub members: Vec<String>,
}

/// The incident's participant group (built-in group provider): its members are the people
/// with a role in the incident.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/group", tag = "providers",
    params(("id" = String, Path, description = "Incident id or key")),
    responses((status = 200, body = GroupOut), (status = 404, body = ErrorBody)))]
pub async fn group(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<GroupOut>> {
    let r = IncidentRef::parse(&id);
    let (g, members) = s
        .engine
        .integrations()
        .builtin_group(&r)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("participant group of {id}")))?;
    Ok(axum::Json(GroupOut {
        name: g.name,
        email: g.email,
        members,
    }))
}
