//! Individuals: the people of the directory, identified by e-mail address.

use crate::entity::individual;
use crate::error::{Result, StoreError};
use sea_orm::sea_query::{Expr, Func, LikeExpr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

/// The individual with this e-mail, created (with `name`, or the address's local part) if missing.
pub async fn get_or_create(
    conn: &impl ConnectionTrait,
    email: &str,
    name: Option<&str>,
) -> Result<individual::Model> {
    if let Some(found) = by_email(conn, email).await? {
        return Ok(found);
    }
    let name = name
        .map(str::to_string)
        .unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_string());
    // ON CONFLICT DO NOTHING: a concurrent request may have created the same person.
    individual::Entity::insert(individual::ActiveModel {
        email: Set(email.to_string()),
        name: Set(name),
        created_at: Set(dispatch_core::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(individual::Column::Email)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    by_email(conn, email)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("individual {email}")))
}

/// The individual with this e-mail (already lower-cased by the caller).
pub async fn by_email(
    conn: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<individual::Model>> {
    Ok(individual::Entity::find()
        .filter(individual::Column::Email.eq(email))
        .one(conn)
        .await?)
}

/// The individual Microsoft Teams knows by this Azure AD object id.
pub async fn by_teams_id(
    conn: &impl ConnectionTrait,
    teams_id: &str,
) -> Result<Option<individual::Model>> {
    Ok(individual::Entity::find()
        .filter(individual::Column::TeamsId.eq(teams_id))
        .one(conn)
        .await?)
}

/// The individual with this Matrix user ID.
pub async fn by_matrix_id(
    conn: &impl ConnectionTrait,
    matrix_id: &str,
) -> Result<Option<individual::Model>> {
    Ok(individual::Entity::find()
        .filter(individual::Column::MatrixId.eq(matrix_id))
        .one(conn)
        .await?)
}

/// Links the individual with this e-mail to a Teams (Azure AD object) id, created if missing;
/// whoever had the id before loses it (ids are unique).
pub async fn link_teams_id(
    conn: &impl ConnectionTrait,
    email: &str,
    name: Option<&str>,
    teams_id: &str,
) -> Result<individual::Model> {
    let person = get_or_create(conn, email, name).await?;
    if person.teams_id.as_deref() == Some(teams_id) {
        return Ok(person);
    }
    individual::Entity::update_many()
        .col_expr(
            individual::Column::TeamsId,
            Expr::value(Option::<String>::None),
        )
        .filter(individual::Column::TeamsId.eq(teams_id))
        .exec(conn)
        .await?;
    let mut after = person.clone();
    after.teams_id = Some(teams_id.to_string());
    update(conn, &person, after).await
}

/// An individual by id.
pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<individual::Model> {
    individual::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("individual {id}")))
}

/// A page of individuals by e-mail, optionally only those whose e-mail or name contains `q`
/// (ignoring case, on both databases: PostgreSQL's `LIKE` alone would not).
pub async fn list(
    conn: &impl ConnectionTrait,
    q: Option<&str>,
    page: u64,
    per_page: u64,
) -> Result<(Vec<individual::Model>, u64)> {
    let mut find = individual::Entity::find();
    if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
        // `%` and `_` in the query are characters to find, not wildcards.
        let mut like = String::from("%");
        for c in q.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                like.push('\\');
            }
            like.push(c);
        }
        like.push('%');
        let pattern = || LikeExpr::new(like.clone()).escape('\\');
        let lower = |c: individual::Column| Expr::expr(Func::lower(Expr::col(c)));
        find = find.filter(
            sea_orm::Condition::any()
                .add(lower(individual::Column::Email).like(pattern()))
                .add(lower(individual::Column::Name).like(pattern())),
        );
    }
    let total = find.clone().count(conn).await?;
    let rows = find
        .order_by_asc(individual::Column::Email)
        .offset(page.saturating_sub(1).saturating_mul(per_page))
        .limit(per_page)
        .all(conn)
        .await?;
    Ok((rows, total))
}

/// Saves the fields of an individual that changed between `before` (as read) and `after`.
pub async fn update(
    conn: &impl ConnectionTrait,
    before: &individual::Model,
    after: individual::Model,
) -> Result<individual::Model> {
    crate::repo::rows::update(conn, before, after).await
}
