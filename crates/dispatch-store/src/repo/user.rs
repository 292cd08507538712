//! Users: the people (and service accounts) who can sign in, with their organization role.

use crate::entity::{individual, user};
use crate::error::{Result, StoreError};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

/// A user with the e-mail and name of their individual.
#[derive(Debug, Clone, FromQueryResult)]
pub struct UserRow {
    /// The user's id.
    pub id: i64,
    /// The individual's id.
    pub individual_id: i64,
    /// E-mail.
    pub email: String,
    /// Display name.
    pub name: String,
    /// `member`, `admin`, `manager` or `owner`.
    pub role: String,
    /// `person` or `service`.
    pub kind: String,
    /// Whether a local password is set.
    pub has_password: bool,
    /// When the account was disabled.
    pub disabled_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Creates the user of an individual with `role` and `kind`; `None` when the individual already
/// has one (which is left as it is, even when a concurrent request created it just now).
pub async fn create(
    conn: &impl ConnectionTrait,
    individual_id: i64,
    role: &str,
    kind: &str,
) -> Result<Option<user::Model>> {
    let now = dispatch_core::now();
    // ON CONFLICT DO NOTHING: a concurrent request may have created the same user.
    let inserted = user::Entity::insert(user::ActiveModel {
        individual_id: Set(individual_id),
        role: Set(role.to_string()),
        kind: Set(kind.to_string()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(user::Column::IndividualId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    if inserted == 0 {
        return Ok(None);
    }
    by_individual(conn, individual_id).await
}

/// The user of an individual, created with `role` (member when `None`) and `kind` when missing;
/// when it exists and `role` is given, its role becomes `role`.
pub async fn ensure(
    conn: &impl ConnectionTrait,
    individual_id: i64,
    role: Option<&str>,
    kind: &str,
) -> Result<user::Model> {
    if let Some(u) = create(conn, individual_id, role.unwrap_or("member"), kind).await? {
        return Ok(u);
    }
    let found = by_individual(conn, individual_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("user of individual {individual_id}")))?;
    match role {
        Some(r) if r != found.role => {
            let mut row: user::ActiveModel = found.into();
            row.role = Set(r.to_string());
            row.updated_at = Set(dispatch_core::now());
            Ok(row.update(conn).await?)
        }
        _ => Ok(found),
    }
}

/// The enabled owners, locked until the transaction ends (on PostgreSQL; SQLite's writer lock
/// serialises writers already), so that two requests cannot each take away "the other" owner.
pub async fn enabled_owners_locked(conn: &impl ConnectionTrait) -> Result<Vec<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Role.eq("owner"))
        .filter(user::Column::DisabledAt.is_null())
        .lock_exclusive()
        .all(conn)
        .await?)
}

/// The user of an individual.
pub async fn by_individual(
    conn: &impl ConnectionTrait,
    individual_id: i64,
) -> Result<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::IndividualId.eq(individual_id))
        .one(conn)
        .await?)
}

/// A user by id.
pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<user::Model> {
    user::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("user {id}")))
}

/// Saves the fields of a user that changed between `before` (as read) and `after`.
pub async fn update(
    conn: &impl ConnectionTrait,
    before: &user::Model,
    after: user::Model,
) -> Result<user::Model> {
    crate::repo::rows::update(conn, before, after).await
}

/// The user with this set-up token hash, if it has not expired.
pub async fn by_setup_hash(
    conn: &impl ConnectionTrait,
    hash: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::SetupTokenHash.eq(hash))
        .filter(user::Column::SetupExpiresAt.gt(now))
        .one(conn)
        .await?)
}

fn rows() -> sea_orm::Select<user::Entity> {
    user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::IndividualId)
        .column(user::Column::Role)
        .column(user::Column::Kind)
        .column(user::Column::DisabledAt)
        .column(user::Column::CreatedAt)
        .column_as(
            Expr::col((user::Entity, user::Column::PasswordHash)).is_not_null(),
            "has_password",
        )
        .column_as(
            Expr::col((individual::Entity, individual::Column::Email)),
            "email",
        )
        .column_as(
            Expr::col((individual::Entity, individual::Column::Name)),
            "name",
        )
        .join(
            sea_orm::JoinType::InnerJoin,
            user::Entity::belongs_to(individual::Entity)
                .from(user::Column::IndividualId)
                .to(individual::Column::Id)
                .into(),
        )
}

/// Every user, by e-mail.
pub async fn list(conn: &impl ConnectionTrait) -> Result<Vec<UserRow>> {
    Ok(rows()
        .order_by_asc(Expr::col((individual::Entity, individual::Column::Email)))
        .into_model::<UserRow>()
        .all(conn)
        .await?)
}

/// One user with their e-mail.
pub async fn row(conn: &impl ConnectionTrait, id: i64) -> Result<UserRow> {
    rows()
        .filter(user::Column::Id.eq(id))
        .into_model::<UserRow>()
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("user {id}")))
}

/// The user with this e-mail (lower-cased by the caller), with their individual.
pub async fn by_email(conn: &impl ConnectionTrait, email: &str) -> Result<Option<user::Model>> {
    let Some(who) = super::individual::by_email(conn, email).await? else {
        return Ok(None);
    };
    by_individual(conn, who.id).await
}

/// A credential to check again, by id (see [`role_while_live`]).
#[derive(Debug, Clone, Copy)]
pub enum LiveCheck {
    /// An API token.
    Token(i64),
    /// A web session, which also ends when idle since `idle_since`.
    Session {
        /// The session's id.
        id: i64,
        /// Sessions not seen since then are over.
        idle_since: chrono::DateTime<chrono::Utc>,
    },
    /// A user vouched for by something outside Dispatch (a trusted proxy, a chat service).
    User(i64),
}

/// The organization role of the user behind a credential while the credential is live (not
/// revoked, not expired; a session not idle) and the user enabled; `None` once it is not. One
/// read by primary key: what a long-lived request (a live stream) asks again as it goes.
pub async fn role_while_live(
    conn: &impl ConnectionTrait,
    check: LiveCheck,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<String>> {
    use crate::entity::{api_token, session};
    use sea_orm::sea_query::{Condition, Query};
    let mut q = Query::select();
    q.column((user::Entity, user::Column::Role))
        .from(user::Entity)
        .and_where(Expr::col((user::Entity, user::Column::DisabledAt)).is_null());
    match check {
        LiveCheck::Token(id) => {
            q.inner_join(
                api_token::Entity,
                Expr::col((api_token::Entity, api_token::Column::IndividualId))
                    .equals((user::Entity, user::Column::IndividualId)),
            )
            .and_where(Expr::col((api_token::Entity, api_token::Column::Id)).eq(id))
            .and_where(Expr::col((api_token::Entity, api_token::Column::RevokedAt)).is_null())
            .cond_where(
                Condition::any()
                    .add(Expr::col((api_token::Entity, api_token::Column::ExpiresAt)).is_null())
                    .add(Expr::col((api_token::Entity, api_token::Column::ExpiresAt)).gt(now)),
            );
        }
        LiveCheck::Session { id, idle_since } => {
            q.inner_join(
                session::Entity,
                Expr::col((session::Entity, session::Column::UserId))
                    .equals((user::Entity, user::Column::Id)),
            )
            .and_where(Expr::col((session::Entity, session::Column::Id)).eq(id))
            .and_where(Expr::col((session::Entity, session::Column::RevokedAt)).is_null())
            .and_where(Expr::col((session::Entity, session::Column::ExpiresAt)).gt(now))
            .and_where(Expr::col((session::Entity, session::Column::LastSeenAt)).gt(idle_since));
        }
        LiveCheck::User(id) => {
            q.and_where(Expr::col((user::Entity, user::Column::Id)).eq(id));
        }
    }
    let row = conn
        .query_one(conn.get_database_backend().build(&q))
        .await?;
    Ok(row.map(|r| r.try_get_by_index::<String>(0)).transpose()?)
}
