//! The outbox over the API: the mail Dispatch sent or kept, newest first.

use super::parse;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::Query;
use crate::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::values::{Email, IncidentRef};
use dispatch_core::ValidationError;
use dispatch_engine::outbox::{OutboxMail, OutboxQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Outbox routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/outbox", get(list))
}

/// A mail.
#[derive(Serialize, ToSchema)]
pub struct MailOut {
    /// Id.
    pub id: i64,
    /// Recipients.
    pub to: Vec<String>,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body, when the mail has one (sent as an alternative to the text).
    pub html: Option<String>,
    /// The provider that sent or kept it: `dispatch-outbox` (kept only) or `smtp`.
    pub provider: String,
    /// When it was sent or kept.
    pub created_at: DateTime<Utc>,
    /// The key of the incident it is about (`INC-7`), if any.
    pub incident: Option<String>,
}

impl From<OutboxMail> for MailOut {
    fn from(m: OutboxMail) -> Self {
        Self {
            id: m.id,
            to: m.to,
            subject: m.subject,
            text: m.text,
            html: m.html,
            provider: m.provider,
            created_at: m.created_at,
            incident: m.incident,
        }
    }
}

/// Outbox filters.
#[derive(Deserialize, IntoParams)]
pub struct OutboxParams {
    /// Only mail to this address.
    pub to: Option<String>,
    /// Only mail about this incident (id or key).
    pub incident: Option<String>,
    /// At most this many (1-500, default 100).
    pub limit: Option<i64>,
}

/// Mail sent or kept, newest first.
#[utoipa::path(get, path = "/api/v1/outbox", tag = "outbox", params(OutboxParams),
    responses((status = 200, body = Vec<MailOut>), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<OutboxParams>,
) -> ApiResult<axum::Json<Vec<MailOut>>> {
    let mut e = ValidationError::default();
    let to = q.to.as_deref().and_then(|t| e.check(Email::parse("to", t)));
    let limit = parse::limit(&mut e, q.limit);
    e.into_result()?;
    let query = OutboxQuery {
        to,
        incident: q.incident.as_deref().map(IncidentRef::parse),
        limit,
        viewer: auth.viewer(),
    };
    let mail = s.engine.integrations().outbox(&query).await?;
    Ok(axum::Json(mail.into_iter().map(Into::into).collect()))
}
