//! Configuration as code over the API, for CI pipelines (owners only): the configuration as one
//! JSON document (the same document `dispatch config export` writes as YAML), what applying a
//! document would change, and applying it in one transaction. See docs/adopt.md.

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Query};
use crate::AppState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use dispatch_engine::config_code::{self, ChangeKind, Document, Plan};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Configuration routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/config/export", get(export))
        .route("/config/schema", get(schema))
        .route("/config/plan", post(plan))
        .route("/config/apply", post(apply))
}

/// Which configuration to export.
#[derive(Deserialize, IntoParams)]
pub struct ExportQuery {
    /// Only this project (its slug); the server-wide webhooks are then left out.
    pub project: Option<String>,
}

/// How to apply.
#[derive(Deserialize, IntoParams)]
pub struct ApplyQuery {
    /// Also delete what the document's projects (and webhooks) no longer have.
    #[serde(default)]
    pub prune: bool,
}

/// One changed field.
#[derive(Serialize, ToSchema)]
pub struct FieldChangeOut {
    /// The field.
    pub field: String,
    /// Its value in the database (absent: the object is new).
    #[schema(value_type = Object)]
    pub before: Option<serde_json::Value>,
    /// Its value in the document.
    #[schema(value_type = Object)]
    pub after: Option<serde_json::Value>,
}

/// One object's change.
#[derive(Serialize, ToSchema)]
pub struct ChangeOut {
    /// `create`, `update`, `delete` (with `prune`) or `keep` (in the database, not in the
    /// document, kept without `prune`).
    pub kind: String,
    /// The object, e.g. `project default / incident_priorities high`.
    pub object: String,
    /// The fields created or changed.
    pub fields: Vec<FieldChangeOut>,
}

/// What applying changes (or changed).
#[derive(Serialize, ToSchema)]
pub struct PlanOut {
    /// Every object's change.
    pub changes: Vec<ChangeOut>,
    /// How many objects are created.
    pub create: usize,
    /// How many are updated.
    pub update: usize,
    /// How many are deleted.
    pub delete: usize,
    /// Apply only: each webhook it created with its signing secret, shown this once (only its
    /// sealed form is stored; give it to the receiver).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub webhook_secrets: Vec<WebhookSecretOut>,
}

/// A webhook an apply created, with its signing secret.
#[derive(Serialize, ToSchema)]
pub struct WebhookSecretOut {
    /// The webhook's URL (its key in the document).
    pub url: String,
    /// The signing secret, `whsec_` and base64: keep it, it is not shown again.
    pub secret: String,
}

impl From<Plan> for PlanOut {
    fn from(p: Plan) -> Self {
        let (create, update, delete) = (
            p.count(ChangeKind::Create),
            p.count(ChangeKind::Update),
            p.count(ChangeKind::Delete),
        );
        Self {
            changes: p
                .changes
                .into_iter()
                .map(|c| ChangeOut {
                    kind: serde_json::to_value(c.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default(),
                    object: c.object,
                    fields: c
                        .fields
                        .into_iter()
                        .map(|(field, before, after)| FieldChangeOut {
                            field,
                            before,
                            after,
                        })
                        .collect(),
                })
                .collect(),
            create,
            update,
            delete,
            webhook_secrets: Vec::new(),
        }
    }
}

/// Everything configured, as one document (no ids, no timestamps, no secrets; sorted by key).
#[utoipa::path(get, path = "/api/v1/config/export", tag = "config", params(ExportQuery),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export(
    State(s): State<AppState>,
    _auth: Auth,
    Query(q): Query<ExportQuery>,
) -> ApiResult<axum::Json<Document>> {
    let doc = config_code::export(s.engine.db(), q.project.as_deref().map(str::trim)).await?;
    Ok(axum::Json(doc))
}

/// The JSON Schema (draft 2020-12) of the document `export` answers and `plan`/`apply` take,
/// derived from the same types; for editors (`# yaml-language-server: $schema=…`) and CI linters.
/// Public: it describes the document's shape, nothing configured.
#[utoipa::path(get, path = "/api/v1/config/schema", tag = "config", security(()),
    responses((status = 200, body = Object)))]
pub async fn schema() -> axum::Json<serde_json::Value> {
    axum::Json(config_code::schema())
}

/// What applying the document would change, object by object and field by field.
#[utoipa::path(post, path = "/api/v1/config/plan", tag = "config", params(ApplyQuery),
    request_body(content = Object, description = "The document `GET /api/v1/config/export` answers"),
    responses((status = 200, body = PlanOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn plan(
    State(s): State<AppState>,
    _auth: Auth,
    Query(q): Query<ApplyQuery>,
    Json(doc): Json<Document>,
) -> ApiResult<axum::Json<PlanOut>> {
    let plan = config_code::plan(s.engine.db(), &doc, q.prune).await?;
    Ok(axum::Json(plan.into()))
}

/// Applies the document in one transaction: all of it, or nothing on any error (each error
/// names the object and the field). Answers what it changed, and the signing secret of each
/// webhook it created (shown this once).
#[utoipa::path(post, path = "/api/v1/config/apply", tag = "config", params(ApplyQuery),
    request_body(content = Object, description = "The document `GET /api/v1/config/export` answers"),
    responses((status = 200, body = PlanOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn apply(
    State(s): State<AppState>,
    _auth: Auth,
    Query(q): Query<ApplyQuery>,
    Json(doc): Json<Document>,
) -> ApiResult<axum::Json<PlanOut>> {
    let applied = config_code::apply(&s.engine, &doc, q.prune).await?;
    let mut out = PlanOut::from(applied.plan);
    out.webhook_secrets = applied
        .webhook_secrets
        .into_iter()
        .map(|(url, secret)| WebhookSecretOut { url, secret })
        .collect();
    Ok(axum::Json(out))
}
