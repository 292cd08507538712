//! Participants of an incident and the history of their roles.

use crate::entity::{incident, individual, participant, participant_role};
use crate::error::Result;
use chrono::{DateTime, Utc};
use dispatch_core::ParticipantRole;
use sea_orm::sea_query::{Alias, Condition, Expr, JoinType, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

/// Whether a role still makes its holder take part in the incident: it has not ended, or it
/// ended when the incident closed (a closed incident's people keep reading it, and re-opening
/// gives their roles back). This is the one rule of "takes part" for access: a participant
/// whose roles have all ended otherwise (removed, or moved on) no longer does. [`taking_part`]
/// and [`roles_in_force`] apply the same rule in SQL.
pub fn in_force(role: &participant_role::Model, closed_at: Option<DateTime<Utc>>) -> bool {
    match (role.renounced_at, closed_at) {
        (None, _) => true,
        (Some(ended), Some(closed)) => ended >= closed,
        (Some(_), None) => false,
    }
}

/// The incidents' own rows under another name, so the rule reads an incident's closing time
/// inside a query that already selects from `incidents`.
fn held() -> Alias {
    Alias::new("held")
}

/// `participant_roles` joined with their participant and incident, keeping the roles in force
/// (see [`in_force`]). Joined on the incident too, so the incident's index serves the join.
fn roles_in_force_of(individual_id: i64) -> SelectStatement {
    use participant_role::Column as R;
    Query::select()
        .from(participant_role::Entity)
        .inner_join(
            participant::Entity,
            Expr::col((participant::Entity, participant::Column::Id))
                .equals((participant_role::Entity, R::ParticipantId))
                .and(
                    Expr::col((participant::Entity, participant::Column::IncidentId))
                        .equals((participant_role::Entity, R::IncidentId)),
                ),
        )
        .join_as(
            JoinType::InnerJoin,
            incident::Entity,
            held(),
            Expr::col((held(), incident::Column::Id))
                .equals((participant_role::Entity, R::IncidentId)),
        )
        .and_where(
            Expr::col((participant::Entity, participant::Column::IndividualId)).eq(individual_id),
        )
        .cond_where(
            Condition::any()
                .add(Expr::col((participant_role::Entity, R::RenouncedAt)).is_null())
                .add(
                    Expr::col((participant_role::Entity, R::RenouncedAt))
                        .gte(Expr::col((held(), incident::Column::ClosedAt))),
                ),
        )
        .to_owned()
}

/// The ids of the incidents `individual_id` takes part in (a role in force, see [`in_force`]):
/// the subquery every visibility check uses.
pub fn taking_part(individual_id: i64) -> SelectStatement {
    roles_in_force_of(individual_id)
        .column((
            participant_role::Entity,
            participant_role::Column::IncidentId,
        ))
        .to_owned()
}

/// The roles in force (see [`in_force`]) that `individual_id` holds in one incident: none when
/// they do not take part in it.
pub async fn roles_in_force(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    individual_id: i64,
) -> Result<Vec<ParticipantRole>> {
    let q = roles_in_force_of(individual_id)
        .column((participant_role::Entity, participant_role::Column::Role))
        .and_where(
            Expr::col((
                participant_role::Entity,
                participant_role::Column::IncidentId,
            ))
            .eq(incident_id),
        )
        .to_owned();
    let rows = conn
        .query_all(conn.get_database_backend().build(&q))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.try_get_by_index::<String>(0).ok())
        .filter_map(|r| r.parse().ok())
        .collect())
}

/// A participant with the person and every role they held.
#[derive(Debug, Clone)]
pub struct ParticipantView {
    /// The participation row.
    pub participant: participant::Model,
    /// The person.
    pub individual: individual::Model,
    /// Roles, oldest first (renounced ones included).
    pub roles: Vec<participant_role::Model>,
}

/// The participation of `individual_id` in the incident, created if missing. Returns the row
/// and whether it was created.
pub async fn ensure(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    individual_id: i64,
    added_reason: Option<String>,
    at: DateTime<Utc>,
) -> Result<(participant::Model, bool)> {
    if let Some(p) = find(conn, incident_id, individual_id).await? {
        return Ok((p, false));
    }
    let p = participant::ActiveModel {
        incident_id: Set(incident_id),
        individual_id: Set(individual_id),
        added_reason: Set(added_reason),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok((p, true))
}

/// Inserts participants' role holdings.
pub async fn insert_roles(
    conn: &impl ConnectionTrait,
    rows: Vec<participant_role::Model>,
) -> Result<()> {
    crate::repo::rows::insert_many(conn, rows).await
}

/// Inserts a participant.
pub async fn insert(
    conn: &impl ConnectionTrait,
    row: participant::Model,
) -> Result<participant::Model> {
    crate::repo::rows::insert(conn, row).await
}

/// Inserts participants whose ids were taken beforehand
/// ([`crate::repo::project::next_incident`]), every column as given.
pub async fn insert_keyed(
    conn: &impl ConnectionTrait,
    rows: Vec<participant::Model>,
) -> Result<()> {
    crate::repo::rows::insert_many_keyed(conn, rows).await
}

/// Saves the fields of a participant that changed since it was read as `before`.
pub async fn update(
    conn: &impl ConnectionTrait,
    before: &participant::Model,
    after: participant::Model,
) -> Result<participant::Model> {
    crate::repo::rows::update(conn, before, after).await
}

/// Gives a participant a role from `at` on.
pub async fn assume_role(
    conn: &impl ConnectionTrait,
    p: &participant::Model,
    role: ParticipantRole,
    at: DateTime<Utc>,
) -> Result<()> {
    participant_role::ActiveModel {
        participant_id: Set(p.id),
        incident_id: Set(p.incident_id),
        role: Set(role.as_str().to_string()),
        assumed_at: Set(at),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Ends every active holding of `role` in the incident at `at`; returns the participant ids.
pub async fn renounce_role(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    role: ParticipantRole,
    at: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let holders: Vec<participant_role::Model> = participant_role::Entity::find()
        .filter(participant_role::Column::IncidentId.eq(incident_id))
        .filter(participant_role::Column::Role.eq(role.as_str()))
        .filter(participant_role::Column::RenouncedAt.is_null())
        .all(conn)
        .await?;
    if holders.is_empty() {
        return Ok(vec![]);
    }
    participant_role::Entity::update_many()
        .col_expr(participant_role::Column::RenouncedAt, Expr::value(at))
        .filter(participant_role::Column::Id.is_in(holders.iter().map(|h| h.id)))
        .exec(conn)
        .await?;
    Ok(holders.into_iter().map(|h| h.participant_id).collect())
}

/// Roles a participant holds now.
pub async fn active_roles(
    conn: &impl ConnectionTrait,
    participant_id: i64,
) -> Result<Vec<ParticipantRole>> {
    let rows = participant_role::Entity::find()
        .filter(participant_role::Column::ParticipantId.eq(participant_id))
        .filter(participant_role::Column::RenouncedAt.is_null())
        .all(conn)
        .await?;
    Ok(rows.iter().filter_map(|r| r.role.parse().ok()).collect())
}

/// Every participant of an incident with person and roles, in order of joining.
pub async fn list(conn: &impl ConnectionTrait, incident_id: i64) -> Result<Vec<ParticipantView>> {
    let rows = participant::Entity::find()
        .filter(participant::Column::IncidentId.eq(incident_id))
        .order_by_asc(participant::Column::Id)
        .all(conn)
        .await?;
    let people = with_individuals(conn, rows).await?;
    let roles = participant_role::Entity::find()
        .filter(participant_role::Column::IncidentId.eq(incident_id))
        .order_by_asc(participant_role::Column::Id)
        .all(conn)
        .await?;
    Ok(people
        .into_iter()
        .map(|(participant, individual)| {
            let roles = roles
                .iter()
                .filter(|r| r.participant_id == participant.id)
                .cloned()
                .collect();
            ParticipantView {
                participant,
                individual,
                roles,
            }
        })
        .collect())
}

/// Pairs each participant with their individual, loaded in one query (the entities declare no
/// relations).
async fn with_individuals(
    conn: &impl ConnectionTrait,
    rows: Vec<participant::Model>,
) -> Result<Vec<(participant::Model, individual::Model)>> {
    let ids: Vec<i64> = rows.iter().map(|p| p.individual_id).collect();
    let people = individual::Entity::find()
        .filter(individual::Column::Id.is_in(ids))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|p| {
            let who = people.iter().find(|i| i.id == p.individual_id)?.clone();
            Some((p, who))
        })
        .collect())
}

/// A participant by incident and individual.
pub async fn find(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    individual_id: i64,
) -> Result<Option<participant::Model>> {
    Ok(participant::Entity::find()
        .filter(participant::Column::IncidentId.eq(incident_id))
        .filter(participant::Column::IndividualId.eq(individual_id))
        .one(conn)
        .await?)
}

/// Ends every active role in the incident at `at` (closing); returns how many.
pub async fn renounce_every_role(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    at: DateTime<Utc>,
) -> Result<u64> {
    let res = participant_role::Entity::update_many()
        .col_expr(participant_role::Column::RenouncedAt, Expr::value(at))
        .filter(participant_role::Column::IncidentId.eq(incident_id))
        .filter(participant_role::Column::RenouncedAt.is_null())
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// Gives back, from `at`, every role that was renounced at `renounced_at` (re-opening an
/// incident re-activates the roles its closing ended); returns how many.
pub async fn restore_roles(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    renounced_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<u64> {
    let ended = participant_role::Entity::find()
        .filter(participant_role::Column::IncidentId.eq(incident_id))
        .filter(participant_role::Column::RenouncedAt.eq(renounced_at))
        .all(conn)
        .await?;
    if ended.is_empty() {
        return Ok(0);
    }
    let n = ended.len() as u64;
    participant_role::Entity::insert_many(ended.into_iter().map(|r| {
        participant_role::ActiveModel {
            participant_id: Set(r.participant_id),
            incident_id: Set(incident_id),
            role: Set(r.role),
            assumed_at: Set(at),
            ..Default::default()
        }
    }))
    .exec_without_returning(conn)
    .await?;
    Ok(n)
}

/// Ends every active role of one participant at `at`; returns how many.
pub async fn renounce_all_of(
    conn: &impl ConnectionTrait,
    participant_id: i64,
    at: DateTime<Utc>,
) -> Result<u64> {
    let res = participant_role::Entity::update_many()
        .col_expr(participant_role::Column::RenouncedAt, Expr::value(at))
        .filter(participant_role::Column::ParticipantId.eq(participant_id))
        .filter(participant_role::Column::RenouncedAt.is_null())
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// Ends one participant's active holding of `role` at `at`; returns how many rows ended.
pub async fn renounce_role_of(
    conn: &impl ConnectionTrait,
    participant_id: i64,
    role: ParticipantRole,
    at: DateTime<Utc>,
) -> Result<u64> {
    let res = participant_role::Entity::update_many()
        .col_expr(participant_role::Column::RenouncedAt, Expr::value(at))
        .filter(participant_role::Column::ParticipantId.eq(participant_id))
        .filter(participant_role::Column::Role.eq(role.as_str()))
        .filter(participant_role::Column::RenouncedAt.is_null())
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(ended: Option<DateTime<Utc>>) -> participant_role::Model {
        participant_role::Model {
            id: 1,
            participant_id: 1,
            incident_id: 1,
            role: "participant".into(),
            assumed_at: DateTime::from_timestamp(1_000, 0).unwrap(),
            renounced_at: ended,
        }
    }

    #[test]
    fn a_role_is_in_force_until_it_ends_unless_closing_ended_it() {
        let at = |s| DateTime::from_timestamp(s, 0);
        assert!(in_force(&role(None), None));
        assert!(in_force(&role(None), at(5_000)));
        // Removed: no longer.
        assert!(!in_force(&role(at(2_000)), None));
        // Removed before the incident closed: still no.
        assert!(!in_force(&role(at(2_000)), at(5_000)));
        // Ended by the closing: still counts.
        assert!(in_force(&role(at(5_000)), at(5_000)));
    }
}
