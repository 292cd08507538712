//! What the signal pages read beside the pipeline's own queries: each definition's alerts per
//! hour.

use crate::entity::signal_instance as instance;
use crate::error::Result;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Alias, Expr, Func, Query};
use sea_orm::ConnectionTrait;

/// How many instances each of these definitions received in each of `hours` one-hour slots
/// ending at `until` (oldest slot first), in one query: `(definition id, counts)`.
pub async fn hourly_counts(
    conn: &impl ConnectionTrait,
    definition_ids: &[i64],
    until: DateTime<Utc>,
    hours: usize,
) -> Result<Vec<(i64, Vec<u64>)>> {
    if definition_ids.is_empty() || hours == 0 {
        return Ok(Vec::new());
    }
    let start = until - Duration::hours(hours as i64);
    let received = || Expr::col((instance::Entity, instance::Column::ReceivedAt));
    let mut q = Query::select();
    q.from(instance::Entity)
        .column((instance::Entity, instance::Column::DefinitionId));
    for h in 0..hours {
        let from = start + Duration::hours(h as i64);
        let to = from + Duration::hours(1);
        // A portable bucket: SUM(CASE WHEN from <= received_at < to THEN 1 ELSE 0 END).
        q.expr_as(
            Func::sum(Expr::case(received().gte(from).and(received().lt(to)), 1).finally(0)),
            Alias::new(format!("h{h}")),
        );
    }
    q.and_where(
        Expr::col((instance::Entity, instance::Column::DefinitionId))
            .is_in(definition_ids.iter().copied()),
    )
    .and_where(received().gte(start))
    .and_where(received().lt(until))
    .group_by_col((instance::Entity, instance::Column::DefinitionId));
    let backend = conn.get_database_backend();
    let mut out = Vec::new();
    for row in conn.query_all(backend.build(&q)).await? {
        let id: i64 = row.try_get_by_index(0)?;
        let mut counts = Vec::with_capacity(hours);
        for h in 0..hours {
            // SQLite sums to an integer, PostgreSQL to a numeric (read as i64 by its driver).
            let n: Option<i64> = row.try_get_by_index(h + 1)?;
            counts.push(n.unwrap_or(0).max(0) as u64);
        }
        out.push((id, counts));
    }
    Ok(out)
}
