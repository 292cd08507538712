//! Response cost over the API: an incident's costs and a project's cost types (its cost models
//! are in [`super::cost_models`]; docs/metrics.md, "Cost", has the formulas).

use crate::api::parse;
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::values::{IncidentRef, Name};
use dispatch_core::{Patch, ValidationError};
use dispatch_engine::data::model::cost_type;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Cost routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/costs", get(incident_costs))
        .route(
            "/projects/{slug}/cost-types",
            get(list_types).post(create_type),
        )
        .route(
            "/projects/{slug}/cost-types/{id}",
            get(show_type).patch(update_type).delete(delete_type),
        )
}

/// Cents as an amount.
pub fn amount(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// One cost of an incident.
#[derive(Serialize, ToSchema)]
pub struct IncidentCostOut {
    /// The cost type's name ("Response Cost" for the computed one).
    pub cost_type: String,
    /// Whether it is the project's default (computed) cost type.
    pub default: bool,
    /// The amount, in the project's currency, to the cent.
    pub amount: f64,
    /// `classic` or `activity`: the model that computed it.
    pub model: String,
    /// How it was computed: hours, hourly rate, and per role or per person.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// When it was computed.
    pub computed_at: DateTime<Utc>,
}

/// An incident's costs.
#[derive(Serialize, ToSchema)]
pub struct IncidentCostsOut {
    /// Their total (`null` until computed).
    pub total_cost: Option<f64>,
    /// Each cost, the default type's first.
    pub items: Vec<IncidentCostOut>,
}

/// An incident's costs as last computed (every hour while it runs, and when it closes).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/costs", tag = "metrics",
    params(("id" = String, Path, description = "Id or key")),
    responses((status = 200, body = IncidentCostsOut), (status = 404, body = ErrorBody)))]
pub async fn incident_costs(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<IncidentCostsOut>> {
    let incident = s.engine.incidents().get(&IncidentRef::parse(&id)).await?;
    let costs = s.engine.costs().of_incident(incident.row.id).await?;
    let total =
        (!costs.is_empty()).then(|| amount(costs.iter().map(|c| c.cost.amount_cents).sum()));
    Ok(axum::Json(IncidentCostsOut {
        total_cost: total,
        items: costs
            .into_iter()
            .map(|c| IncidentCostOut {
                cost_type: c.cost_type.name,
                default: c.cost_type.is_default,
                amount: amount(c.cost.amount_cents),
                model: c.cost.model,
                details: serde_json::from_str(&c.cost.details).unwrap_or_default(),
                computed_at: c.cost.computed_at,
            })
            .collect(),
    }))
}

/// A cost type.
#[derive(Serialize, ToSchema)]
pub struct CostTypeOut {
    /// Id.
    pub id: i64,
    /// Name, unique in the project.
    pub name: String,
    /// A grouping of cost types.
    pub category: String,
    /// What it covers.
    pub details: String,
    /// The project's default, computed by the cost models ("Response Cost"); it cannot be
    /// deleted.
    pub default: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<cost_type::Model> for CostTypeOut {
    fn from(t: cost_type::Model) -> Self {
        Self {
            id: t.id,
            name: t.name,
            category: t.category,
            details: t.details,
            default: t.is_default,
            created_at: t.created_at,
        }
    }
}

/// A new cost type, or changes to one (absent fields are kept).
#[derive(Deserialize, ToSchema)]
pub struct CostTypeIn {
    /// Name (required when creating).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Patch<String>,
    /// A grouping.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub category: Patch<String>,
    /// What it covers.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub details: Patch<String>,
}

impl CostTypeIn {
    fn apply(self, row: &mut cost_type::Model, e: &mut ValidationError) {
        if let Some(n) = parse::parsed(e, "name", self.name, Name::parse) {
            row.name = n.into_inner();
        }
        if let Some(c) = parse::description(e, "category", self.category) {
            row.category = c;
        }
        if let Some(d) = parse::description(e, "details", self.details) {
            row.details = d;
        }
    }
}

/// The cost types of a project, the default ("Response Cost") first.
#[utoipa::path(get, path = "/api/v1/projects/{slug}/cost-types", tag = "metrics",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 200, body = Vec<CostTypeOut>), (status = 404, body = ErrorBody)))]
pub async fn list_types(
    State(s): State<AppState>,
    _auth: Auth,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Vec<CostTypeOut>>> {
    let p = s.engine.projects().get(&slug).await?;
    let types = s.engine.costs().types(p.id).await?;
    Ok(axum::Json(types.into_iter().map(Into::into).collect()))
}

/// Creates a cost type.
#[utoipa::path(post, path = "/api/v1/projects/{slug}/cost-types", tag = "metrics",
    request_body(content = CostTypeIn, example = json!({"name": "Vendor support", "category": "External"})),
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 201, body = CostTypeOut), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_type(
    State(s): State<AppState>,
    _auth: Auth,
    Path(slug): Path<String>,
    Json(b): Json<CostTypeIn>,
) -> ApiResult<(StatusCode, axum::Json<CostTypeOut>)> {
    let p = s.engine.projects().get(&slug).await?;
    let mut e = ValidationError::default();
    if !matches!(b.name, Patch::Value(_)) {
        e.push("name", "is required");
    }
    let mut row = cost_type::Model {
        project_id: p.id,
        created_at: dispatch_core::now(),
        ..Default::default()
    };
    b.apply(&mut row, &mut e);
    e.into_result()?;
    let saved = s.engine.costs().save_type(None, row).await?;
    Ok((StatusCode::CREATED, axum::Json(saved.into())))
}

/// One cost type.
#[utoipa::path(get, path = "/api/v1/projects/{slug}/cost-types/{id}", tag = "metrics",
    params(("slug" = String, Path, description = "Project slug"), ("id" = i64, Path)),
    responses((status = 200, body = CostTypeOut), (status = 404, body = ErrorBody)))]
pub async fn show_type(
    State(s): State<AppState>,
    _auth: Auth,
    Path((slug, id)): Path<(String, i64)>,
) -> ApiResult<axum::Json<CostTypeOut>> {
    let p = s.engine.projects().get(&slug).await?;
    Ok(axum::Json(
        s.engine.costs().cost_type(p.id, id).await?.into(),
    ))
}

/// Changes a cost type.
#[utoipa::path(patch, path = "/api/v1/projects/{slug}/cost-types/{id}", tag = "metrics",
    request_body = CostTypeIn,
    params(("slug" = String, Path, description = "Project slug"), ("id" = i64, Path)),
    responses((status = 200, body = CostTypeOut), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_type(
    State(s): State<AppState>,
    _auth: Auth,
    Path((slug, id)): Path<(String, i64)>,
    Json(b): Json<CostTypeIn>,
) -> ApiResult<axum::Json<CostTypeOut>> {
    let p = s.engine.projects().get(&slug).await?;
    let before = s.engine.costs().cost_type(p.id, id).await?;
    let mut row = before.clone();
    let mut e = ValidationError::default();
    b.apply(&mut row, &mut e);
    e.into_result()?;
    let saved = s.engine.costs().save_type(Some(&before), row).await?;
    Ok(axum::Json(saved.into()))
}

/// Deletes a cost type and the incidents' costs of that type (the default one cannot be).
#[utoipa::path(delete, path = "/api/v1/projects/{slug}/cost-types/{id}", tag = "metrics",
    params(("slug" = String, Path, description = "Project slug"), ("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_type(
    State(s): State<AppState>,
    _auth: Auth,
    Path((slug, id)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    let p = s.engine.projects().get(&slug).await?;
    let t = s.engine.costs().cost_type(p.id, id).await?;
    s.engine.costs().delete_type(&t).await?;
    Ok(StatusCode::NO_CONTENT)
}
