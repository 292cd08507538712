//! Tags and tag types, and the tags carried by incidents and cases.

use crate::entity::{case_tag, incident_tag, tag, tag_type};
use crate::error::{Result, StoreError};
use sea_orm::sea_query::{Alias, Expr, IntoIden, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::HashMap;

/// A tag with its type's name.
#[derive(Debug, Clone, FromQueryResult, serde::Deserialize)]
pub struct TagRow {
    /// The tagged incident's id (the case's, for a case's tags).
    pub incident_id: i64,
    pub id: i64,
    pub name: String,
    pub tag_type: Option<String>,
}

impl TagRow {
    /// The tag as incidents and cases show it: `name`, or `type:name` for a typed tag.
    pub fn label(&self) -> String {
        as_written(&self.name, self.tag_type.as_deref())
    }
}

/// A tag as it is written, shown and taken: `name`, or `type:name` for a tag of a tag type.
pub fn as_written(name: &str, tag_type: Option<&str>) -> String {
    match tag_type {
        Some(tt) => format!("{tt}:{name}"),
        None => name.to_string(),
    }
}

/// What carries tags: each has a link table of (owner id, tag id).
#[derive(Debug, Clone, Copy)]
enum Tagged {
    Incident,
    Case,
}

impl Tagged {
    /// The link table and its owner column.
    fn link(self) -> (sea_orm::sea_query::DynIden, sea_orm::sea_query::DynIden) {
        match self {
            Tagged::Incident => (
                incident_tag::Entity.into_iden(),
                incident_tag::Column::IncidentId.into_iden(),
            ),
            Tagged::Case => (
                case_tag::Entity.into_iden(),
                case_tag::Column::CaseId.into_iden(),
            ),
        }
    }

    /// A subquery of the ids of owners that carry the tag named `name`.
    fn with_tag(self, name: &str) -> SelectStatement {
        let (table, owner) = self.link();
        Query::select()
            .column((table.clone(), owner))
            .from(table.clone())
            .inner_join(
                tag::Entity,
                Expr::col((tag::Entity, tag::Column::Id)).equals((table, Alias::new("tag_id"))),
            )
            .and_where(Expr::col((tag::Entity, tag::Column::Name)).eq(name))
            .to_owned()
    }

    /// The tags of each of the given owners, by name.
    async fn tags_of(
        self,
        conn: &impl ConnectionTrait,
        ids: &[i64],
    ) -> Result<HashMap<i64, Vec<TagRow>>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let (table, owner) = self.link();
        let q = Query::select()
            .expr_as(
                Expr::col((table.clone(), owner.clone())),
                Alias::new("incident_id"),
            )
            .columns([
                (tag::Entity, tag::Column::Id),
                (tag::Entity, tag::Column::Name),
            ])
            .expr_as(
                Expr::col((tag_type::Entity, tag_type::Column::Name)),
                Alias::new("tag_type"),
            )
            .from(table.clone())
            .inner_join(
                tag::Entity,
                Expr::col((tag::Entity, tag::Column::Id))
                    .equals((table.clone(), Alias::new("tag_id"))),
            )
            .left_join(
                tag_type::Entity,
                Expr::col((tag_type::Entity, tag_type::Column::Id))
                    .equals((tag::Entity, tag::Column::TagTypeId)),
            )
            .and_where(Expr::col((table, owner)).is_in(ids.iter().copied()))
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

    /// Replaces the tags of one owner.
    async fn set(self, conn: &impl ConnectionTrait, id: i64, tag_ids: &[i64]) -> Result<()> {
        let (table, owner) = self.link();
        let delete = Query::delete()
            .from_table(table.clone())
            .and_where(Expr::col(owner.clone()).eq(id))
            .to_owned();
        let backend = conn.get_database_backend();
        conn.execute(backend.build(&delete)).await?;
        if tag_ids.is_empty() {
            return Ok(());
        }
        let mut insert = Query::insert();
        insert
            .into_table(table)
            .columns([owner, Alias::new("tag_id").into_iden()]);
        for t in tag_ids {
            insert.values_panic([id.into(), (*t).into()]);
        }
        conn.execute(backend.build(&insert)).await?;
        Ok(())
    }
}

/// A subquery of the ids of incidents that carry the tag named `name`.
pub fn incidents_with_tag(name: &str) -> SelectStatement {
    Tagged::Incident.with_tag(name)
}

/// A subquery of the ids of cases that carry the tag named `name`.
pub fn cases_with_tag(name: &str) -> SelectStatement {
    Tagged::Case.with_tag(name)
}

/// The tags of each of the given incidents.
pub async fn for_incidents(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<TagRow>>> {
    Tagged::Incident.tags_of(conn, ids).await
}

/// The tags of each of the given cases (each row's `incident_id` is the case's id).
pub async fn for_cases(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<TagRow>>> {
    Tagged::Case.tags_of(conn, ids).await
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

/// Tags of a project with the given names, each with its tag type (one statement, its text the
/// same for lists of one power-of-two length: new cases of an alert batch read it).
pub async fn by_names_with_types(
    conn: &impl ConnectionTrait,
    project_id: i64,
    names: &[String],
) -> Result<Vec<(tag::Model, Option<tag_type::Model>)>> {
    Ok(with_types()
        .filter(tag::Column::ProjectId.eq(project_id))
        .filter(tag::Column::Name.is_in(crate::repo::rows::in_list(names.iter().cloned())))
        .all(conn)
        .await?)
}

/// Tags, each with its tag type.
fn with_types() -> sea_orm::SelectTwo<tag::Entity, tag_type::Entity> {
    tag::Entity::find().select_also(tag_type::Entity).join(
        sea_orm::JoinType::LeftJoin,
        tag::Entity::belongs_to(tag_type::Entity)
            .from(tag::Column::TagTypeId)
            .to(tag_type::Column::Id)
            .into(),
    )
}

/// Every tag of a project, each with its tag type, by name.
pub async fn list_with_types(
    conn: &impl ConnectionTrait,
    project_id: i64,
) -> Result<Vec<(tag::Model, Option<tag_type::Model>)>> {
    Ok(with_types()
        .filter(tag::Column::ProjectId.eq(project_id))
        .order_by_asc(tag::Column::Name)
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
    Tagged::Incident.set(conn, incident_id, tag_ids).await
}

/// Replaces the tags of a case.
pub async fn set_for_case(
    conn: &impl ConnectionTrait,
    case_id: i64,
    tag_ids: &[i64],
) -> Result<()> {
    Tagged::Case.set(conn, case_id, tag_ids).await
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

/// Gives cases tags, (case id, tag id) pairs, in one statement (on SQLite, in
/// [`rows::statement_sizes`](crate::repo::rows::statement_sizes)).
pub async fn add_to_cases(conn: &impl ConnectionTrait, pairs: &[(i64, i64)]) -> Result<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    crate::repo::rows::in_statements(conn, pairs.to_vec(), |part| async move {
        case_tag::Entity::insert_many(part.into_iter().map(|(c, t)| case_tag::ActiveModel {
            case_id: sea_orm::Set(c),
            tag_id: sea_orm::Set(t),
        }))
        .exec_without_returning(conn)
        .await?;
        Ok(())
    })
    .await
}
