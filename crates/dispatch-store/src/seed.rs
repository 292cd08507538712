//! First-start seeding: the default project with the default taxonomies of SPEC §3.

use crate::entity::{incident_priority, incident_severity, incident_type, project};
use crate::error::Result;
use crate::repo::taxonomy;
use crate::Db;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};

/// A priority's defaults: (name, tactical hours, executive hours, page commander, default).
type PriorityDefaults = (&'static str, Option<i32>, Option<i32>, bool, bool);

const PRIORITIES: &[PriorityDefaults] = &[
    ("Low", Some(12), None, false, true),
    ("Medium", Some(6), Some(12), false, false),
    ("High", Some(2), Some(6), true, false),
];

/// Severities in view order; the first is the default.
const SEVERITIES: &[&str] = &["Undetermined", "Low", "Medium", "High", "Critical"];

/// Creates the default project and its taxonomies when the database has no project.
/// Returns whether it seeded.
pub async fn ensure_defaults(db: &Db) -> Result<bool> {
    let txn = db.write().await?;
    if project::Entity::find().count(&*txn).await? > 0 {
        return Ok(false);
    }
    let p = crate::repo::project::insert(
        &*txn,
        project::Model {
            slug: "default".into(),
            name: "Default".into(),
            key_prefix: "INC".into(),
            description: "The project incidents go to when none is named.".into(),
            incident_seq: 0,
            allow_self_join: true,
            is_default: true,
            created_at: dispatch_core::now(),
            ..crate::repo::project::new_row()
        },
    )
    .await?;
    seed_taxonomies(&*txn, p.id).await?;
    txn.commit().await?;
    Ok(true)
}

/// Gives a new project the default types, priorities and severities.
pub async fn seed_taxonomies(conn: &impl ConnectionTrait, project_id: i64) -> Result<()> {
    let now = dispatch_core::now();
    taxonomy::types::insert(
        conn,
        incident_type::Model {
            project_id,
            slug: "default".into(),
            name: "Default".into(),
            description: "Any incident that needs no special handling.".into(),
            default_visibility: "open".into(),
            is_default: true,
            enabled: true,
            exclude_from_metrics: false,
            exclude_from_reminders: false,
            exclude_from_review: false,
            view_order: 0,
            created_at: now,
            ..Default::default()
        },
    )
    .await?;
    for (i, (name, tactical, executive, page, default)) in PRIORITIES.iter().enumerate() {
        taxonomy::priorities::insert(
            conn,
            incident_priority::Model {
                project_id,
                slug: name.to_lowercase(),
                name: name.to_string(),
                description: String::new(),
                color: None,
                is_default: *default,
                enabled: true,
                page_commander: *page,
                tactical_report_reminder_hours: *tactical,
                executive_report_reminder_hours: *executive,
                view_order: i as i32,
                created_at: now,
                ..Default::default()
            },
        )
        .await?;
    }
    for (i, name) in SEVERITIES.iter().enumerate() {
        taxonomy::severities::insert(
            conn,
            incident_severity::Model {
                project_id,
                slug: name.to_lowercase(),
                name: name.to_string(),
                description: String::new(),
                color: None,
                is_default: i == 0,
                enabled: true,
                allowed_for_stable: true,
                view_order: i as i32,
                created_at: now,
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}
