//! Candidates for "similar incidents": the incidents whose title, description or resolution
//! shares words with a text, best text matches first, through the full-text index of either
//! database (see [`super::search::rank_any`]), limited to what the reader may see.

use crate::entity::incident;
use crate::error::Result;
use crate::repo::incident::{base_select, IncidentRow, Viewer};
use crate::repo::search;
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, FromQueryResult};

/// At most this many of a text's words are looked up.
pub const MAX_TERMS: usize = 16;

/// Up to `limit` incidents `viewer` may see (other than `exclude`) with a word that one of
/// `terms` prefixes, best text matches first; none for no terms.
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
    let mut q = base_select();
    if let Some(visible) = viewer.condition() {
        q.and_where(visible);
    }
    if let Some(id) = exclude {
        q.and_where(Expr::col((incident::Entity, incident::Column::Id)).ne(id));
    }
    search::rank_any(&mut q, backend, terms);
    q.order_by(
        (incident::Entity, incident::Column::Id),
        sea_orm::Order::Desc,
    )
    .limit(limit);
    Ok(IncidentRow::find_by_statement(backend.build(&q))
        .all(conn)
        .await?)
}
