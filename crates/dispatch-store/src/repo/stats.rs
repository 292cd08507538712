//! What the dashboard counts: the few facts of each incident in a period (taxonomy names,
//! status, life-cycle times) and the open tasks, both limited to the incidents the reader may
//! see by the same filter (and `Viewer`) as the incidents list.

use crate::entity::{incident, incident_type, task};
use crate::error::Result;
use crate::repo::incident::{apply_filter, join_taxonomies, IncidentFilter};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ConnectionTrait, FromQueryResult};

/// One incident as the dashboard counts it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct IncidentFact {
    pub type_name: String,
    pub priority_name: String,
    pub severity_name: String,
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
        [C::Status, C::ReportedAt, C::StableAt, C::ClosedAt].map(|c| (incident::Entity, c)),
    );
    join_taxonomies(&mut q);
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

/// How many open tasks the incidents matching the filter have.
pub async fn open_tasks(conn: &impl ConnectionTrait, f: &IncidentFilter) -> Result<u64> {
    let backend = conn.get_database_backend();
    let mut incidents = Query::select();
    incidents
        .from(incident::Entity)
        .column((incident::Entity, incident::Column::Id));
    apply_filter(&mut incidents, f, backend);
    let mut q = Query::select();
    q.from(task::Entity)
        .expr(Expr::cust("COUNT(*)"))
        .and_where(Expr::col(task::Column::Status).eq("open"))
        .and_where(Expr::col(task::Column::IncidentId).in_subquery(incidents));
    let n: i64 = conn
        .query_one(backend.build(&q))
        .await?
        .map(|r| r.try_get_by_index(0))
        .transpose()?
        .unwrap_or(0);
    Ok(n as u64)
}
