//! Per-project membership: who belongs to a project, as `admin` or `member`.

use crate::entity::{project_member, user};
use crate::error::Result;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};

/// A project's member: the user (with e-mail and name) and their project role.
#[derive(Debug, Clone)]
pub struct MemberRow {
    /// The membership.
    pub member: project_member::Model,
    /// The user, with e-mail and name.
    pub user: super::user::UserRow,
}

/// The project's members, by e-mail.
pub async fn list(conn: &impl ConnectionTrait, project_id: i64) -> Result<Vec<MemberRow>> {
    let members = project_member::Entity::find()
        .filter(project_member::Column::ProjectId.eq(project_id))
        .all(conn)
        .await?;
    let mut out = Vec::with_capacity(members.len());
    for m in members {
        let user = super::user::row(conn, m.user_id).await?;
        out.push(MemberRow { member: m, user });
    }
    out.sort_by(|a, b| a.user.email.cmp(&b.user.email));
    Ok(out)
}

/// A user's membership of a project.
pub async fn get(
    conn: &impl ConnectionTrait,
    project_id: i64,
    user_id: i64,
) -> Result<Option<project_member::Model>> {
    Ok(project_member::Entity::find()
        .filter(project_member::Column::ProjectId.eq(project_id))
        .filter(project_member::Column::UserId.eq(user_id))
        .one(conn)
        .await?)
}

/// The project role (`admin` or `member`) of the user of an individual, if they belong.
pub async fn role_of_individual(
    conn: &impl ConnectionTrait,
    project_id: i64,
    individual_id: i64,
) -> Result<Option<String>> {
    Ok(project_member::Entity::find()
        .select_only()
        .column(project_member::Column::Role)
        .filter(project_member::Column::ProjectId.eq(project_id))
        .filter(
            Expr::col((project_member::Entity, project_member::Column::UserId)).in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(user::Column::Id)
                    .from(user::Entity)
                    .and_where(Expr::col(user::Column::IndividualId).eq(individual_id))
                    .to_owned(),
            ),
        )
        .into_tuple::<String>()
        .one(conn)
        .await?)
}

/// Whether the user is a member with `role` of at least one project.
pub async fn has_role_anywhere(
    conn: &impl ConnectionTrait,
    user_id: i64,
    role: &str,
) -> Result<bool> {
    use sea_orm::PaginatorTrait;
    Ok(project_member::Entity::find()
        .filter(project_member::Column::UserId.eq(user_id))
        .filter(project_member::Column::Role.eq(role))
        .count(conn)
        .await?
        > 0)
}

/// Makes the user a member with `role`; returns the membership and the role it had before.
pub async fn set(
    conn: &impl ConnectionTrait,
    project_id: i64,
    user_id: i64,
    role: &str,
    now: DateTime<Utc>,
) -> Result<(project_member::Model, Option<String>)> {
    match get(conn, project_id, user_id).await? {
        Some(m) => {
            let before = m.role.clone();
            let mut row: project_member::ActiveModel = m.into();
            row.role = Set(role.to_string());
            row.updated_at = Set(now);
            Ok((row.update(conn).await?, Some(before)))
        }
        None => {
            let row = project_member::ActiveModel {
                project_id: Set(project_id),
                user_id: Set(user_id),
                role: Set(role.to_string()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            };
            Ok((row.insert(conn).await?, None))
        }
    }
}

/// Removes the user from the project; returns the role they had, `None` when they did not
/// belong.
pub async fn remove(
    conn: &impl ConnectionTrait,
    project_id: i64,
    user_id: i64,
) -> Result<Option<String>> {
    let Some(m) = get(conn, project_id, user_id).await? else {
        return Ok(None);
    };
    project_member::Entity::delete_by_id(m.id)
        .exec(conn)
        .await?;
    Ok(Some(m.role))
}
