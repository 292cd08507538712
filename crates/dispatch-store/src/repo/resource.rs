//! Resources created for incidents by providers (the engine's jobs fill them in).

use crate::entity::resource;
use crate::error::Result;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;

/// The resources of each of the given incidents.
pub async fn for_incidents(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<resource::Model>>> {
    let rows = resource::Entity::find()
        .filter(resource::Column::IncidentId.is_in(ids.iter().copied()))
        .order_by_asc(resource::Column::Id)
        .all(conn)
        .await?;
    let mut out: HashMap<i64, Vec<resource::Model>> = HashMap::new();
    for r in rows {
        out.entry(r.incident_id).or_default().push(r);
    }
    Ok(out)
}
