//! Engagement and notification rules, the engagements they made, and incident subscribers.

use crate::entity::{engagement, engagement_rule, notification_rule, subscriber};
use crate::error::{Result, StoreError};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

/// Engagement rules, of one project or all, by name.
pub async fn engagement_rules(
    conn: &impl ConnectionTrait,
    project_id: Option<i64>,
) -> Result<Vec<engagement_rule::Model>> {
    let mut q = engagement_rule::Entity::find();
    if let Some(p) = project_id {
        q = q.filter(engagement_rule::Column::ProjectId.eq(p));
    }
    Ok(q.order_by_asc(engagement_rule::Column::Name)
        .order_by_asc(engagement_rule::Column::Id)
        .all(conn)
        .await?)
}

/// One engagement rule.
pub async fn engagement_rule(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<engagement_rule::Model> {
    engagement_rule::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("engagement rule {id}")))
}

/// The project of an engagement rule (`None` when there is no such rule).
pub async fn engagement_rule_project(conn: &impl ConnectionTrait, id: i64) -> Result<Option<i64>> {
    use sea_orm::QuerySelect;
    Ok(engagement_rule::Entity::find_by_id(id)
        .select_only()
        .column(engagement_rule::Column::ProjectId)
        .into_tuple::<i64>()
        .one(conn)
        .await?)
}

/// Inserts an engagement rule (`before` = `None`; its id is left to the database) or saves the
/// columns of `after` that differ from `before` (the rule as read). Returns the stored rule.
pub async fn save_engagement_rule(
    conn: &impl ConnectionTrait,
    before: Option<&engagement_rule::Model>,
    after: engagement_rule::Model,
) -> Result<engagement_rule::Model> {
    match before {
        None => crate::repo::rows::insert(conn, after).await,
        Some(before) => crate::repo::rows::update(conn, before, after).await,
    }
}

/// Deletes an engagement rule (its engagements keep the rule's name).
pub async fn delete_engagement_rule(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    engagement_rule::Entity::delete_by_id(id).exec(conn).await?;
    Ok(())
}

/// Notification rules, of one project or all, by name.
pub async fn notification_rules(
    conn: &impl ConnectionTrait,
    project_id: Option<i64>,
) -> Result<Vec<notification_rule::Model>> {
    let mut q = notification_rule::Entity::find();
    if let Some(p) = project_id {
        q = q.filter(notification_rule::Column::ProjectId.eq(p));
    }
    Ok(q.order_by_asc(notification_rule::Column::Name)
        .order_by_asc(notification_rule::Column::Id)
        .all(conn)
        .await?)
}

/// One notification rule.
pub async fn notification_rule(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<notification_rule::Model> {
    notification_rule::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("notification rule {id}")))
}

/// The project of a notification rule (`None` when there is no such rule).
pub async fn notification_rule_project(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<i64>> {
    use sea_orm::QuerySelect;
    Ok(notification_rule::Entity::find_by_id(id)
        .select_only()
        .column(notification_rule::Column::ProjectId)
        .into_tuple::<i64>()
        .one(conn)
        .await?)
}

/// Inserts a notification rule (`before` = `None`; its id is left to the database) or saves the
/// columns of `after` that differ from `before` (the rule as read). Returns the stored rule.
pub async fn save_notification_rule(
    conn: &impl ConnectionTrait,
    before: Option<&notification_rule::Model>,
    after: notification_rule::Model,
) -> Result<notification_rule::Model> {
    match before {
        None => crate::repo::rows::insert(conn, after).await,
        Some(before) => crate::repo::rows::update(conn, before, after).await,
    }
}

/// Deletes a notification rule.
pub async fn delete_notification_rule(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    notification_rule::Entity::delete_by_id(id)
        .exec(conn)
        .await?;
    Ok(())
}

/// The engagements of an incident, oldest first.
pub async fn engagements(
    conn: &impl ConnectionTrait,
    incident_id: i64,
) -> Result<Vec<engagement::Model>> {
    Ok(engagement::Entity::find()
        .filter(engagement::Column::IncidentId.eq(incident_id))
        .order_by_asc(engagement::Column::Id)
        .all(conn)
        .await?)
}

/// Records an engagement (its id is left to the database); `false` when the incident already
/// had one of this kind and target.
pub async fn add_engagement(conn: &impl ConnectionTrait, row: engagement::Model) -> Result<bool> {
    let mut row: engagement::ActiveModel = row.into();
    row = row.reset_all();
    row.id = sea_orm::ActiveValue::NotSet;
    let n = engagement::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                engagement::Column::IncidentId,
                engagement::Column::Kind,
                engagement::Column::Target,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(n > 0)
}

/// Adds a subscriber; `false` when they already were one.
pub async fn subscribe(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    email: &str,
    at: DateTime<Utc>,
) -> Result<bool> {
    let n = subscriber::Entity::insert(subscriber::ActiveModel {
        incident_id: Set(incident_id),
        email: Set(email.to_string()),
        created_at: Set(at),
    })
    .on_conflict(
        OnConflict::columns([subscriber::Column::IncidentId, subscriber::Column::Email])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(n > 0)
}

/// The subscribers of an incident, oldest first.
pub async fn subscribers(
    conn: &impl ConnectionTrait,
    incident_id: i64,
) -> Result<Vec<subscriber::Model>> {
    Ok(subscriber::Entity::find()
        .filter(subscriber::Column::IncidentId.eq(incident_id))
        .order_by_asc(subscriber::Column::CreatedAt)
        .all(conn)
        .await?)
}
