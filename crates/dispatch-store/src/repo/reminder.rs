//! Reminders sent (one per idempotency key) and reminders put off ("remind me in N hours").

use crate::entity::{reminder, reminder_snooze};
use crate::error::Result;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// A reminder about to be sent.
#[derive(Debug, Clone)]
pub struct NewReminder<'a> {
    /// The period's idempotency key.
    pub key: &'a str,
    /// What it reminds of.
    pub kind: &'a str,
    /// The incident, if one.
    pub incident_id: Option<i64>,
    /// Who is reminded.
    pub recipient: &'a str,
}

/// Records a reminder unless its key was recorded before; true when this call recorded it (and
/// the reminder should go out).
pub async fn claim(
    conn: &impl ConnectionTrait,
    r: NewReminder<'_>,
    at: DateTime<Utc>,
) -> Result<bool> {
    let n = reminder::Entity::insert(reminder::ActiveModel {
        key: Set(r.key.to_string()),
        kind: Set(r.kind.to_string()),
        incident_id: Set(r.incident_id),
        recipient: Set(r.recipient.to_string()),
        sent_at: Set(at),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(reminder::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .do_nothing()
    .exec_without_returning(conn)
    .await?;
    Ok(matches!(n, sea_orm::TryInsertResult::Inserted(k) if k > 0))
}

/// Puts off the `kind` report reminder of an incident until `until`.
pub async fn snooze(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    kind: &str,
    until: DateTime<Utc>,
    by: &str,
) -> Result<()> {
    reminder_snooze::Entity::insert(reminder_snooze::ActiveModel {
        incident_id: Set(incident_id),
        kind: Set(kind.to_string()),
        snoozed_until: Set(until),
        set_by: Set(by.to_string()),
    })
    .on_conflict(
        OnConflict::columns([
            reminder_snooze::Column::IncidentId,
            reminder_snooze::Column::Kind,
        ])
        .update_columns([
            reminder_snooze::Column::SnoozedUntil,
            reminder_snooze::Column::SetBy,
        ])
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// The snoozes of these incidents.
pub async fn snoozes(
    conn: &impl ConnectionTrait,
    incident_ids: &[i64],
) -> Result<Vec<reminder_snooze::Model>> {
    Ok(reminder_snooze::Entity::find()
        .filter(reminder_snooze::Column::IncidentId.is_in(incident_ids.iter().copied()))
        .all(conn)
        .await?)
}

/// The reminders of an incident, oldest first.
pub async fn for_incident(
    conn: &impl ConnectionTrait,
    incident_id: i64,
) -> Result<Vec<reminder::Model>> {
    Ok(reminder::Entity::find()
        .filter(reminder::Column::IncidentId.eq(incident_id))
        .all(conn)
        .await?)
}
