//! What the dashboard and the metrics count: the few facts of each incident in a period
//! (taxonomy, status, life-cycle times) and, for the same incidents, their acknowledgements,
//! tactical reports, open tasks and participants — all limited to the incidents the reader may
//! see by the same filter (and `Viewer`) as the incidents list.

use crate::entity::{
    incident, incident_cost, incident_priority, incident_type, page, participant, participant_role,
    report, task,
};
use crate::error::Result;
use crate::repo::incident::{apply_filter, join_taxonomies, IncidentFilter};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement};
use sea_orm::{ConnectionTrait, FromQueryResult};

/// One incident as the dashboard and the metrics count it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct IncidentFact {
    pub id: i64,
    pub type_slug: String,
    pub type_name: String,
    pub priority_slug: String,
    pub priority_name: String,
    pub severity_name: String,
    /// The priority's tactical report cadence, in hours (none: no reports expected).
    pub tactical_hours: Option<i32>,
    pub status: String,
    pub reported_at: DateTime<Utc>,
    pub stable_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// The facts of the incidents matching the filter whose type counts in metrics (at most
/// `limit`, newest first).
pub async fn facts(
    conn: &impl ConnectionTrait,
    f: &IncidentFilter,
    limit: u64,
) -> Result<Vec<IncidentFact>> {
    use incident::Column as C;
    let backend = conn.get_database_backend();
    let mut q = Query::select();
    q.from(incident::Entity).columns(
        [C::Id, C::Status, C::ReportedAt, C::StableAt, C::ClosedAt].map(|c| (incident::Entity, c)),
    );
    join_taxonomies(&mut q);
    q.expr_as(
        Expr::col((incident_type::Entity, incident_type::Column::Slug)),
        Alias::new("type_slug"),
    )
    .expr_as(
        Expr::col((incident_priority::Entity, incident_priority::Column::Slug)),
        Alias::new("priority_slug"),
    )
    .expr_as(
        Expr::col((
            incident_priority::Entity,
            incident_priority::Column::TacticalReportReminderHours,
        )),
        Alias::new("tactical_hours"),
    );
    q.and_where(
        Expr::col((
            incident_type::Entity,
            incident_type::Column::ExcludeFromMetrics,
        ))
        .eq(false),
    );
    apply_filter(&mut q, f, backend);
    q.order_by((incident::Entity, C::ReportedAt), sea_orm::Order::Desc)
        .limit(limit);
    Ok(IncidentFact::find_by_statement(backend.build(&q))
        .all(conn)
        .await?)
}

/// The ids of the incidents matching the filter, as a subquery.
fn matching(f: &IncidentFilter, backend: sea_orm::DbBackend) -> SelectStatement {
    let mut incidents = Query::select();
    incidents
        .from(incident::Entity)
        .column((incident::Entity, incident::Column::Id));
    apply_filter(&mut incidents, f, backend);
    incidents
}

/// A time something happened in an incident.
#[derive(Debug, Clone, FromQueryResult)]
pub struct IncidentTime {
    pub incident_id: i64,
    pub at: DateTime<Utc>,
}

/// When each incident matching the filter was acknowledged: its pages' acknowledgements and
/// the times an incident commander took the role (in no particular order).
pub async fn acknowledgements(
    conn: &impl ConnectionTrait,
    f: &IncidentFilter,
) -> Result<Vec<IncidentTime>> {
    let backend = conn.get_database_backend();
    let mut pages = Query::select();
    pages
        .expr_as(
            Expr::col(page::Column::IncidentId),
            Alias::new("incident_id"),
        )
        .expr_as(Expr::col(page::Column::AcknowledgedAt), Alias::new("at"))
        .from(page::Entity)
        .and_where(Expr::col(page::Column::AcknowledgedAt).is_not_null())
        .and_where(Expr::col(page::Column::IncidentId).in_subquery(matching(f, backend)));
    let mut roles = Query::select();
    roles
        .expr_as(
            Expr::col(participant_role::Column::IncidentId),
            Alias::new("incident_id"),
        )
        .expr_as(
            Expr::col(participant_role::Column::AssumedAt),
            Alias::new("at"),
        )
        .from(participant_role::Entity)
        .and_where(Expr::col(participant_role::Column::Role).eq("incident_commander"))
        .and_where(
            Expr::col(participant_role::Column::IncidentId).in_subquery(matching(f, backend)),
        );
    let mut out = IncidentTime::find_by_statement(backend.build(&pages))
        .all(conn)
        .await?;
    out.extend(
        IncidentTime::find_by_statement(backend.build(&roles))
            .all(conn)
            .await?,
    );
    Ok(out)
}

/// When each tactical report of the incidents matching the filter was posted.
pub async fn tactical_reports(
    conn: &impl ConnectionTrait,
    f: &IncidentFilter,
) -> Result<Vec<IncidentTime>> {
    let backend = conn.get_database_backend();
    let mut q = Query::select();
    q.expr_as(
        Expr::col(report::Column::IncidentId),
        Alias::new("incident_id"),
    )
    .expr_as(Expr::col(report::Column::CreatedAt), Alias::new("at"))
    .from(report::Entity)
    .and_where(Expr::col(report::Column::Kind).eq("tactical"))
    .and_where(Expr::col(report::Column::IncidentId).in_subquery(matching(f, backend)));
    Ok(IncidentTime::find_by_statement(backend.build(&q))
        .all(conn)
        .await?)
}

/// An open task of an incident.
#[derive(Debug, Clone, FromQueryResult)]
pub struct OpenTask {
    pub incident_id: i64,
    pub resolve_by: Option<DateTime<Utc>>,
}

/// The open tasks of the incidents matching the filter.
pub async fn open_tasks(conn: &impl ConnectionTrait, f: &IncidentFilter) -> Result<Vec<OpenTask>> {
    let backend = conn.get_database_backend();
    let mut q = Query::select();
    q.columns([task::Column::IncidentId, task::Column::ResolveBy])
        .from(task::Entity)
        .and_where(Expr::col(task::Column::Status).eq("open"))
        .and_where(Expr::col(task::Column::IncidentId).in_subquery(matching(f, backend)));
    Ok(OpenTask::find_by_statement(backend.build(&q))
        .all(conn)
        .await?)
}

/// How many people took part in an incident.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ParticipantCount {
    pub incident_id: i64,
    pub people: i64,
}

/// How many participants each incident matching the filter has (incidents with none are left
/// out).
pub async fn participant_counts(
    conn: &impl ConnectionTrait,
    f: &IncidentFilter,
) -> Result<Vec<ParticipantCount>> {
    let backend = conn.get_database_backend();
    let mut q = Query::select();
    q.column(participant::Column::IncidentId)
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("people"))
        .from(participant::Entity)
        .and_where(Expr::col(participant::Column::IncidentId).in_subquery(matching(f, backend)))
        .group_by_col(participant::Column::IncidentId);
    Ok(ParticipantCount::find_by_statement(backend.build(&q))
        .all(conn)
        .await?)
}

/// An incident's total cost.
#[derive(Debug, Clone, FromQueryResult)]
pub struct IncidentCost {
    pub incident_id: i64,
    pub cents: i64,
}

/// The total cost, in cents, of each incident matching the filter that has been costed.
pub async fn costs(conn: &impl ConnectionTrait, f: &IncidentFilter) -> Result<Vec<IncidentCost>> {
    let backend = conn.get_database_backend();
    let mut q = Query::select();
    q.column(incident_cost::Column::IncidentId)
        .expr_as(
            Expr::cust("CAST(SUM(amount_cents) AS BIGINT)"),
            Alias::new("cents"),
        )
        .from(incident_cost::Entity)
        .and_where(Expr::col(incident_cost::Column::IncidentId).in_subquery(matching(f, backend)))
        .group_by_col(incident_cost::Column::IncidentId);
    Ok(IncidentCost::find_by_statement(backend.build(&q))
        .all(conn)
        .await?)
}
