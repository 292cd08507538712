//! Resources created for incidents by providers (the engine's jobs fill them in).

use crate::entity::resource;
use crate::error::Result;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
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

/// The link of each of `ids`' resource of `kind` that has one (a similar incident's review
/// document, say): one row per incident at most, instead of all their resources.
pub async fn links_of_kind(
    conn: &impl ConnectionTrait,
    ids: &[i64],
    kind: dispatch_core::ResourceKind,
) -> Result<HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, Option<String>)> = resource::Entity::find()
        .select_only()
        .column(resource::Column::IncidentId)
        .column(resource::Column::Link)
        .filter(resource::Column::IncidentId.is_in(ids.iter().copied()))
        .filter(resource::Column::Kind.eq(kind.as_str()))
        .filter(resource::Column::Link.is_not_null())
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, link)| Some((id, link?)))
        .collect())
}

/// Adds `pending` resources of the given kinds (kinds the incident already has are left alone).
pub async fn add_pending(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    kinds: &[dispatch_core::ResourceKind],
    provider_of: impl Fn(dispatch_core::ResourceKind) -> String,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    use sea_orm::sea_query::OnConflict;
    use sea_orm::Set;
    if kinds.is_empty() {
        return Ok(());
    }
    resource::Entity::insert_many(kinds.iter().map(|k| resource::ActiveModel {
        incident_id: Set(incident_id),
        kind: Set(k.as_str().into()),
        provider: Set(provider_of(*k)),
        status: Set("pending".into()),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }))
    .on_conflict(
        OnConflict::columns([resource::Column::IncidentId, resource::Column::Kind])
            .do_nothing()
            .to_owned(),
    )
    .do_nothing()
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// The resource of one kind of an incident.
pub async fn find(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    kind: dispatch_core::ResourceKind,
) -> Result<Option<resource::Model>> {
    Ok(resource::Entity::find()
        .filter(resource::Column::IncidentId.eq(incident_id))
        .filter(resource::Column::Kind.eq(kind.as_str()))
        .one(conn)
        .await?)
}

/// The resource a provider knows by `external_id` (e.g. the incident whose Slack channel is
/// `C123`).
pub async fn by_external_id(
    conn: &impl ConnectionTrait,
    kind: dispatch_core::ResourceKind,
    provider: &str,
    external_id: &str,
) -> Result<Option<resource::Model>> {
    Ok(resource::Entity::find()
        .filter(resource::Column::Kind.eq(kind.as_str()))
        .filter(resource::Column::Provider.eq(provider))
        .filter(resource::Column::ExternalId.eq(external_id))
        .one(conn)
        .await?)
}

/// Saves the columns of `after` that differ from `before` (the resource as read).
pub async fn update(
    conn: &impl ConnectionTrait,
    before: &resource::Model,
    after: resource::Model,
) -> Result<resource::Model> {
    crate::repo::rows::update(conn, before, after).await
}

/// Inserts a resource (its id is left to the database). Returns the stored row.
pub async fn insert(conn: &impl ConnectionTrait, row: resource::Model) -> Result<resource::Model> {
    crate::repo::rows::insert(conn, row).await
}
