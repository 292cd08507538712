//! Tags and tag types, and the tags carried by incidents.

use crate::entity::{incident_tag, tag, tag_type};
use crate::error::{Result, StoreError};
use sea_orm::sea_query::{Expr, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::HashMap;

/// A tag with its type's name.
#[derive(Debug, Clone, FromQueryResult, serde::Deserialize)]
pub struct TagRow {
    pub incident_id: i64,
    pub id: i64,
    pub name: String,
    pub tag_type: Option<String>,
}

/// A subquery of the ids of incidents that carry the tag named `name`.
pub fn incidents_with_tag(name: &str) -> SelectStatement {
    Query::select()
        .column((incident_tag::Entity, incident_tag::Column::IncidentId))
        .from(incident_tag::Entity)
        .inner_join(
            tag::Entity,
            Expr::col((tag::Entity, tag::Column::Id))
                .equals((incident_tag::Entity, incident_tag::Column::TagId)),
        )
        .and_where(Expr::col((tag::Entity, tag::Column::Name)).eq(name))
        .to_owned()
}

/// The tags of each of the given incidents.
pub async fn for_incidents(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<TagRow>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let q = Query::select()
        .column((incident_tag::Entity, incident_tag::Column::IncidentId))
        .columns([
            (tag::Entity, tag::Column::Id),
            (tag::Entity, tag::Column::Name),
        ])
        .expr_as(
            Expr::col((tag_type::Entity, tag_type::Column::Name)),
            sea_orm::sea_query::Alias::new("tag_type"),
        )
        .from(incident_tag::Entity)
        .inner_join(
            tag::Entity,
            Expr::col((tag::Entity, tag::Column::Id))
                .equals((incident_tag::Entity, incident_tag::Column::TagId)),
        )
        .left_join(
            tag_type::Entity,
            Expr::col((tag_type::Entity, tag_type::Column::Id))
                .equals((tag::Entity, tag::Column::TagTypeId)),
        )
        .and_where(
            Expr::col((incident_tag::Entity, incident_tag::Column::IncidentId))
                .is_in(ids.iter().copied()),
        )
        .order_by((tag::Entity, tag::Column::Name), sea_orm::Order::Asc)
        .to_owned();
    let rows = TagRow::find_by_statement(conn.get_database_backend().build(&q))
        .all(conn)
        .await?;
    let mut out: HashMap<i64, Vec<TagRow>> = HashMap::new();
    for r in rows {
        out.entry(r.incident_id).or_default().push(r);
    }
    Ok(out)
}

/// Tags of a project with the given names.
pub async fn by_names(
    conn: &impl ConnectionTrait,
    project_id: i64,
    names: &[String],
) -> Result<Vec<tag::Model>> {
    Ok(tag::Entity::find()
        .filter(tag::Column::ProjectId.eq(project_id))
        .filter(tag::Column::Name.is_in(names.iter().cloned()))
        .all(conn)
        .await?)
}

/// Every tag of a project.
pub async fn list(conn: &impl ConnectionTrait, project_id: i64) -> Result<Vec<tag::Model>> {
    Ok(tag::Entity::find()
        .filter(tag::Column::ProjectId.eq(project_id))
        .order_by_asc(tag::Column::Name)
        .all(conn)
        .await?)
}

/// Every tag type of a project.
pub async fn types(conn: &impl ConnectionTrait, project_id: i64) -> Result<Vec<tag_type::Model>> {
    Ok(tag_type::Entity::find()
        .filter(tag_type::Column::ProjectId.eq(project_id))
        .order_by_asc(tag_type::Column::Name)
        .all(conn)
        .await?)
}

/// A tag type of a project by name.
pub async fn type_by_name(
    conn: &impl ConnectionTrait,
    project_id: i64,
    name: &str,
) -> Result<Option<tag_type::Model>> {
    Ok(tag_type::Entity::find()
        .filter(tag_type::Column::ProjectId.eq(project_id))
        .filter(tag_type::Column::Name.eq(name))
        .one(conn)
        .await?)
}

/// Inserts a tag.
pub async fn insert(conn: &impl ConnectionTrait, row: tag::Model) -> Result<tag::Model> {
    crate::repo::rows::insert(conn, row).await
}

/// Replaces the tags of an incident.
pub async fn set_for_incident(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    tag_ids: &[i64],
) -> Result<()> {
    incident_tag::Entity::delete_many()
        .filter(incident_tag::Column::IncidentId.eq(incident_id))
        .exec(conn)
        .await?;
    if tag_ids.is_empty() {
        return Ok(());
    }
    incident_tag::Entity::insert_many(tag_ids.iter().map(|t| incident_tag::ActiveModel {
        incident_id: sea_orm::Set(incident_id),
        tag_id: sea_orm::Set(*t),
    }))
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// A tag by id.
pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<tag::Model> {
    tag::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("tag {id}")))
}

/// Ids of the tags of one incident.
pub async fn ids_for_incident(conn: &impl ConnectionTrait, incident_id: i64) -> Result<Vec<i64>> {
    Ok(incident_tag::Entity::find()
        .select_only()
        .column(incident_tag::Column::TagId)
        .filter(incident_tag::Column::IncidentId.eq(incident_id))
        .into_tuple()
        .all(conn)
        .await?)
}
