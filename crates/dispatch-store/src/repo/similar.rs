//! Candidates for "similar incidents": the incidents whose title, description or resolution
//! shares words with a text, best text matches first, through the full-text index of either
//! database, limited to what the reader may see.

use crate::entity::incident;
use crate::error::Result;
use crate::repo::incident::{base_select, joined_in_order, IncidentRow, Viewer, INCIDENT_COLUMNS};
use crate::repo::search;
use sea_orm::sea_query::{Alias, Expr, Order, Query};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult};

/// At most this many of a text's words are looked up.
pub const MAX_TERMS: usize = 16;

/// Up to `limit` incidents `viewer` may see (other than `exclude`) with a word that one of
/// `terms` prefixes, best text matches first; none for no terms.
///
/// On PostgreSQL the recent matches are the statement's only source: they are cut from the
/// index first, then filtered, ranked and limited, and only the best are joined to their
/// project, taxonomies and people. Matching them against every incident instead (`id IN
/// (…)`) made PostgreSQL hash-join the window to a scan of the whole table: 7 ms at 10,000
/// incidents, and growing with them.
pub async fn candidates(
    conn: &impl ConnectionTrait,
    viewer: Viewer,
    terms: &[String],
    exclude: Option<i64>,
    limit: u64,
) -> Result<Vec<IncidentRow>> {
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let backend = conn.get_database_backend();
    let id = || (incident::Entity, incident::Column::Id);
    let statement = if backend == DbBackend::Postgres {
        let (window, rank) = search::ranked_window_postgres(terms);
        let mut ranked = Query::select();
        ranked
            .from_subquery(window, Alias::new("incidents"))
            .columns(INCIDENT_COLUMNS.map(|c| (incident::Entity, c)))
            .expr_as(rank, Alias::new("rank"));
        if let Some(visible) = viewer.condition() {
            ranked.and_where(visible);
        }
        if let Some(exclude) = exclude {
            ranked.and_where(Expr::col(id()).ne(exclude));
        }
        ranked
            .order_by(Alias::new("rank"), Order::Desc)
            .order_by(id(), Order::Desc)
            .limit(limit);
        joined_in_order(
            backend.build(&ranked),
            backend,
            "",
            "\"incidents\".\"rank\" DESC, \"incidents\".\"id\" DESC",
        )
    } else {
        let mut q = base_select();
        if let Some(visible) = viewer.condition() {
            q.and_where(visible);
        }
        if let Some(exclude) = exclude {
            q.and_where(Expr::col(id()).ne(exclude));
        }
        search::rank_any_sqlite(&mut q, terms);
        q.order_by(id(), Order::Desc).limit(limit);
        backend.build(&q)
    };
    Ok(IncidentRow::find_by_statement(statement).all(conn).await?)
}
