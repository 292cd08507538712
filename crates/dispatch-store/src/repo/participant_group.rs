//! Groups kept by the built-in group provider, and their members: an incident's tactical group
//! (its people) and its notifications group (its stakeholders); and the addresses that asked for
//! no more stakeholder mail about an incident.

use crate::entity::{mail_opt_out, participant_group, participant_group_member};
use crate::error::Result;
use chrono::{DateTime, Utc};
use dispatch_core::GroupPurpose;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

/// The address a built-in group is known by (nothing receives mail there).
pub fn address(name: &str) -> String {
    format!("{name}@groups.dispatch.invalid")
}

/// The incident's group for `purpose`, if the built-in provider has one.
pub async fn of_incident(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    purpose: GroupPurpose,
) -> Result<Option<participant_group::Model>> {
    Ok(participant_group::Entity::find()
        .filter(participant_group::Column::IncidentId.eq(incident_id))
        .filter(participant_group::Column::Purpose.eq(purpose.as_str()))
        .order_by_asc(participant_group::Column::Id)
        .one(conn)
        .await?)
}

/// The group with this idempotency key, if there is one.
pub async fn by_key(
    conn: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<participant_group::Model>> {
    Ok(participant_group::Entity::find()
        .filter(participant_group::Column::IdempotencyKey.eq(key))
        .one(conn)
        .await?)
}

/// Creates the group `key` names unless it exists, and returns it. Two writers with one key
/// make one group (the key is unique).
pub async fn ensure(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    key: &str,
    name: &str,
    purpose: GroupPurpose,
    at: DateTime<Utc>,
) -> Result<participant_group::Model> {
    participant_group::Entity::insert(participant_group::ActiveModel {
        incident_id: Set(incident_id),
        idempotency_key: Set(key.into()),
        name: Set(name.into()),
        email: Set(address(name)),
        purpose: Set(purpose.as_str().into()),
        created_at: Set(at),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(participant_group::Column::IdempotencyKey)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    by_key(conn, key)
        .await?
        .ok_or_else(|| crate::StoreError::NotFound(format!("group {key}")))
}

/// The incident's notifications group, created (empty) when it has none yet.
pub async fn ensure_notifications(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    incident_name: &str,
    at: DateTime<Utc>,
) -> Result<participant_group::Model> {
    let name = format!("{}-notifications", incident_name.to_lowercase());
    let key = format!("notifications:{incident_id}");
    ensure(
        conn,
        incident_id,
        &key,
        &name,
        GroupPurpose::Notifications,
        at,
    )
    .await
}

/// The e-mail addresses of a group's members, in order.
pub async fn member_emails(conn: &impl ConnectionTrait, group_id: i64) -> Result<Vec<String>> {
    Ok(participant_group_member::Entity::find()
        .filter(participant_group_member::Column::GroupId.eq(group_id))
        .order_by_asc(participant_group_member::Column::Email)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.email)
        .collect())
}

/// Adds members (those already in stay as they are).
pub async fn add_members(
    conn: &impl ConnectionTrait,
    group_id: i64,
    emails: &[String],
    at: DateTime<Utc>,
) -> Result<()> {
    if emails.is_empty() {
        return Ok(());
    }
    participant_group_member::Entity::insert_many(emails.iter().map(|e| {
        participant_group_member::ActiveModel {
            group_id: Set(group_id),
            email: Set(e.clone()),
            added_at: Set(at),
        }
    }))
    .on_conflict(
        OnConflict::columns([
            participant_group_member::Column::GroupId,
            participant_group_member::Column::Email,
        ])
        .do_nothing()
        .to_owned(),
    )
    .do_nothing()
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Removes members (addresses not in the group are ignored).
pub async fn remove_members(
    conn: &impl ConnectionTrait,
    group_id: i64,
    emails: &[String],
) -> Result<()> {
    if emails.is_empty() {
        return Ok(());
    }
    participant_group_member::Entity::delete_many()
        .filter(participant_group_member::Column::GroupId.eq(group_id))
        .filter(participant_group_member::Column::Email.is_in(emails.iter().cloned()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Records that `email` wants no more stakeholder mail about the incident; `false` when it
/// had said so already.
pub async fn opt_out(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    email: &str,
    at: DateTime<Utc>,
) -> Result<bool> {
    let n = mail_opt_out::Entity::insert(mail_opt_out::ActiveModel {
        incident_id: Set(incident_id),
        email: Set(email.to_lowercase()),
        created_at: Set(at),
    })
    .on_conflict(
        OnConflict::columns([
            mail_opt_out::Column::IncidentId,
            mail_opt_out::Column::Email,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(n > 0)
}

/// Takes back an opt-out (the address subscribed again).
pub async fn opt_in(conn: &impl ConnectionTrait, incident_id: i64, email: &str) -> Result<()> {
    mail_opt_out::Entity::delete_many()
        .filter(mail_opt_out::Column::IncidentId.eq(incident_id))
        .filter(mail_opt_out::Column::Email.eq(email.to_lowercase()))
        .exec(conn)
        .await?;
    Ok(())
}

/// The addresses that want no more stakeholder mail about the incident (lower case).
pub async fn opted_out(conn: &impl ConnectionTrait, incident_id: i64) -> Result<Vec<String>> {
    Ok(mail_opt_out::Entity::find()
        .filter(mail_opt_out::Column::IncidentId.eq(incident_id))
        .order_by_asc(mail_opt_out::Column::Email)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.email)
        .collect())
}
