//! The source-id mapping of imports: which row an imported record became, per source system
//! (e.g. `netflix-dispatch:default`), entity kind and source id. An import reads it to update
//! what an earlier run created and records every row it writes.

use crate::entity::import_source;
use crate::error::Result;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use std::collections::HashMap;

/// Every mapping of one source and kind: source id → target row id.
pub async fn all(
    conn: &impl ConnectionTrait,
    source: &str,
    kind: &str,
) -> Result<HashMap<String, i64>> {
    Ok(import_source::Entity::find()
        .filter(import_source::Column::Source.eq(source))
        .filter(import_source::Column::Kind.eq(kind))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.source_id, r.target_id))
        .collect())
}

/// Records that `source_id` of `kind` became row `target_id` (replacing an earlier mapping).
pub async fn record(
    conn: &impl ConnectionTrait,
    source: &str,
    kind: &str,
    source_id: &str,
    target_id: i64,
    at: DateTime<Utc>,
) -> Result<()> {
    import_source::Entity::insert(import_source::ActiveModel {
        source: Set(source.into()),
        kind: Set(kind.into()),
        source_id: Set(source_id.into()),
        target_id: Set(target_id),
        imported_at: Set(at),
    })
    .on_conflict(
        OnConflict::columns([
            import_source::Column::Source,
            import_source::Column::Kind,
            import_source::Column::SourceId,
        ])
        .update_columns([
            import_source::Column::TargetId,
            import_source::Column::ImportedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}
