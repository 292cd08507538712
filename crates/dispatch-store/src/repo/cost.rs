//! Response cost: a project's cost models and cost types, each incident's stored costs, and
//! the activity the cost models count (room messages, chat commands, page acknowledgements).

use crate::entity::{
    cost_model, cost_type, event, incident, incident_cost, incident_type, page, room, room_message,
};
use crate::error::{Result, StoreError};
use crate::repo::rows;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};

/// The name of the cost type every project has, the one the cost models compute.
pub const RESPONSE_COST: &str = "Response Cost";

/// The cost models of a project, by name.
pub async fn models(
    conn: &impl ConnectionTrait,
    project_id: i64,
) -> Result<Vec<cost_model::Model>> {
    Ok(cost_model::Entity::find()
        .filter(cost_model::Column::ProjectId.eq(project_id))
        .order_by_asc(cost_model::Column::Name)
        .all(conn)
        .await?)
}

/// A cost model by id.
pub async fn model(conn: &impl ConnectionTrait, id: i64) -> Result<cost_model::Model> {
    rows::find(conn, id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("cost model {id}")))
}

/// Inserts a cost model.
pub async fn insert_model(
    conn: &impl ConnectionTrait,
    row: cost_model::Model,
) -> Result<cost_model::Model> {
    rows::insert(conn, row).await
}

/// Saves the fields of a cost model that changed since it was read as `before`.
pub async fn update_model(
    conn: &impl ConnectionTrait,
    before: &cost_model::Model,
    after: cost_model::Model,
) -> Result<cost_model::Model> {
    rows::update(conn, before, after).await
}

/// Deletes a cost model; the incident types that used it go back to the classic model.
pub async fn delete_model(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    incident_type::Entity::update_many()
        .col_expr(
            incident_type::Column::CostModelId,
            Expr::value(Option::<i64>::None),
        )
        .filter(incident_type::Column::CostModelId.eq(id))
        .exec(conn)
        .await?;
    rows::delete::<cost_model::Model>(conn, id).await
}

/// The cost types of a project, the default first.
pub async fn types(conn: &impl ConnectionTrait, project_id: i64) -> Result<Vec<cost_type::Model>> {
    Ok(cost_type::Entity::find()
        .filter(cost_type::Column::ProjectId.eq(project_id))
        .order_by_desc(cost_type::Column::IsDefault)
        .order_by_asc(cost_type::Column::Name)
        .all(conn)
        .await?)
}

/// A cost type by id.
pub async fn cost_type(conn: &impl ConnectionTrait, id: i64) -> Result<cost_type::Model> {
    rows::find(conn, id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("cost type {id}")))
}

/// The project's default cost type, made ("Response Cost") when it has none yet.
pub async fn default_type(
    conn: &impl ConnectionTrait,
    project_id: i64,
    now: DateTime<Utc>,
) -> Result<cost_type::Model> {
    let found = cost_type::Entity::find()
        .filter(cost_type::Column::ProjectId.eq(project_id))
        .filter(cost_type::Column::IsDefault.eq(true))
        .one(conn)
        .await?;
    if let Some(t) = found {
        return Ok(t);
    }
    rows::insert(
        conn,
        cost_type::Model {
            project_id,
            name: RESPONSE_COST.into(),
            category: "Primary".into(),
            details: "Time spent responding, from the participants' roles or activity.".into(),
            is_default: true,
            created_at: now,
            ..Default::default()
        },
    )
    .await
}

/// Inserts a cost type.
pub async fn insert_type(
    conn: &impl ConnectionTrait,
    row: cost_type::Model,
) -> Result<cost_type::Model> {
    rows::insert(conn, row).await
}

/// Saves the fields of a cost type that changed since it was read as `before`.
pub async fn update_type(
    conn: &impl ConnectionTrait,
    before: &cost_type::Model,
    after: cost_type::Model,
) -> Result<cost_type::Model> {
    rows::update(conn, before, after).await
}

/// Deletes a cost type and the incidents' costs of that type.
pub async fn delete_type(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    incident_cost::Entity::delete_many()
        .filter(incident_cost::Column::CostTypeId.eq(id))
        .exec(conn)
        .await?;
    rows::delete::<cost_type::Model>(conn, id).await
}

/// An incident's cost with its type.
#[derive(Debug, Clone)]
pub struct CostView {
    /// The cost.
    pub cost: incident_cost::Model,
    /// Its type.
    pub cost_type: cost_type::Model,
}

/// The costs of an incident, the default type's first.
pub async fn of_incident(conn: &impl ConnectionTrait, incident_id: i64) -> Result<Vec<CostView>> {
    let costs = incident_cost::Entity::find()
        .filter(incident_cost::Column::IncidentId.eq(incident_id))
        .all(conn)
        .await?;
    let ids: Vec<i64> = costs.iter().map(|c| c.cost_type_id).collect();
    let types = cost_type::Entity::find()
        .filter(cost_type::Column::Id.is_in(ids))
        .all(conn)
        .await?;
    let mut out: Vec<CostView> = costs
        .into_iter()
        .filter_map(|cost| {
            let t = types.iter().find(|t| t.id == cost.cost_type_id)?.clone();
            Some(CostView { cost, cost_type: t })
        })
        .collect();
    out.sort_by(|a, b| {
        b.cost_type
            .is_default
            .cmp(&a.cost_type.is_default)
            .then_with(|| a.cost_type.name.cmp(&b.cost_type.name))
    });
    Ok(out)
}

/// The total cost, in cents, of each of these incidents that has any.
pub async fn totals(
    conn: &impl ConnectionTrait,
    incident_ids: &[i64],
) -> Result<std::collections::HashMap<i64, i64>> {
    let mut out = std::collections::HashMap::new();
    for chunk in incident_ids.chunks(500) {
        let rows: Vec<(i64, i64)> = incident_cost::Entity::find()
            .select_only()
            .column(incident_cost::Column::IncidentId)
            .column(incident_cost::Column::AmountCents)
            .filter(incident_cost::Column::IncidentId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        for (id, cents) in rows {
            *out.entry(id).or_insert(0) += cents;
        }
    }
    Ok(out)
}

/// Writes an incident's cost of one type (replacing the one computed before).
pub async fn save(conn: &impl ConnectionTrait, row: incident_cost::Model) -> Result<()> {
    let before = incident_cost::Entity::find()
        .filter(incident_cost::Column::IncidentId.eq(row.incident_id))
        .filter(incident_cost::Column::CostTypeId.eq(row.cost_type_id))
        .one(conn)
        .await?;
    match before {
        Some(b) => {
            let after = incident_cost::Model { id: b.id, ..row };
            rows::update(conn, &b, after).await?;
        }
        None => {
            rows::insert(conn, row).await?;
        }
    }
    Ok(())
}

/// The incidents whose response cost is due: every incident not closed, those closed since
/// `recent` (their review may have come after), and closed ones never costed or closed since
/// their cost was computed.
pub async fn due(conn: &impl ConnectionTrait, recent: DateTime<Utc>) -> Result<Vec<i64>> {
    let costed = Query::select()
        .column(incident_cost::Column::IncidentId)
        .from(incident_cost::Entity)
        .and_where(
            Expr::col((incident_cost::Entity, incident_cost::Column::ComputedAt))
                .gte(Expr::col((incident::Entity, incident::Column::ClosedAt))),
        )
        .and_where(
            Expr::col((incident_cost::Entity, incident_cost::Column::IncidentId))
                .equals((incident::Entity, incident::Column::Id)),
        )
        .to_owned();
    Ok(incident::Entity::find()
        .select_only()
        .column(incident::Column::Id)
        .filter(
            sea_orm::Condition::any()
                .add(incident::Column::Status.ne("closed"))
                .add(incident::Column::ClosedAt.gte(recent))
                .add(Expr::exists(costed).not()),
        )
        .order_by_asc(incident::Column::Id)
        .into_tuple()
        .all(conn)
        .await?)
}

/// One thing a person did in an incident, as the cost models count it.
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct Activity {
    /// Who (an e-mail address, or a room author's name).
    pub who: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The messages people posted in the incident's room (not Dispatch's own).
pub async fn room_messages(conn: &impl ConnectionTrait, incident_id: i64) -> Result<Vec<Activity>> {
    let rooms = Query::select()
        .column(room::Column::Id)
        .from(room::Entity)
        .and_where(Expr::col(room::Column::IncidentId).eq(incident_id))
        .to_owned();
    let rows: Vec<(Option<String>, DateTime<Utc>)> = room_message::Entity::find()
        .select_only()
        .column(room_message::Column::Author)
        .column(room_message::Column::CreatedAt)
        .filter(room_message::Column::RoomId.in_subquery(rooms))
        .filter(room_message::Column::Author.is_not_null())
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(who, at)| Some(Activity { who: who?, at }))
        .collect())
}

/// The commands people gave from a chat (the timeline events they caused through the room,
/// Slack, Teams or Matrix; messages put on the timeline are room messages, not commands).
pub async fn chat_commands(conn: &impl ConnectionTrait, incident_id: i64) -> Result<Vec<Activity>> {
    let rows: Vec<(Option<String>, DateTime<Utc>)> = event::Entity::find()
        .select_only()
        .column(event::Column::Actor)
        .column(event::Column::OccurredAt)
        .filter(event::Column::IncidentId.eq(incident_id))
        .filter(event::Column::Transport.is_in(["room", "slack", "teams", "matrix"]))
        .filter(event::Column::Source.eq("dispatch"))
        .filter(event::Column::Kind.ne("imported_message"))
        .filter(event::Column::Actor.is_not_null())
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(who, at)| Some(Activity { who: who?, at }))
        .collect())
}

/// The pages of the incident that were acknowledged, by whom and when.
pub async fn page_acknowledgements(
    conn: &impl ConnectionTrait,
    incident_id: i64,
) -> Result<Vec<Activity>> {
    let rows: Vec<(String, Option<DateTime<Utc>>)> = page::Entity::find()
        .select_only()
        .column(page::Column::Email)
        .column(page::Column::AcknowledgedAt)
        .filter(page::Column::IncidentId.eq(incident_id))
        .filter(page::Column::AcknowledgedAt.is_not_null())
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(who, at)| Some(Activity { who, at: at? }))
        .collect())
}
