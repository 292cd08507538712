//! First-start seeding: the default project with the default taxonomies of SPEC §3.

use crate::entity::{incident_priority, incident_severity, incident_type, project};
use crate::error::Result;
use crate::repo::taxonomy;
use crate::Db;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, Set};

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
        incident_type::ActiveModel {
            project_id: Set(project_id),
            slug: Set("default".into()),
            name: Set("Default".into()),
            description: Set("Any incident that needs no special handling.".into()),
            default_visibility: Set("open".into()),
            is_default: Set(true),
            enabled: Set(true),
            exclude_from_metrics: Set(false),
            exclude_from_reminders: Set(false),
            exclude_from_review: Set(false),
            view_order: Set(0),
            created_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    for (i, (name, tactical, executive, page, default)) in PRIORITIES.iter().enumerate() {
        taxonomy::priorities::insert(
            conn,
            incident_priority::ActiveModel {
                project_id: Set(project_id),
                slug: Set(name.to_lowercase()),
                name: Set(name.to_string()),
                description: Set(String::new()),
                color: Set(None),
                is_default: Set(*default),
                enabled: Set(true),
                page_commander: Set(*page),
                tactical_report_reminder_hours: Set(*tactical),
                executive_report_reminder_hours: Set(*executive),
                view_order: Set(i as i32),
                created_at: Set(now),
                ..Default::default()
            },
        )
        .await?;
    }
    for (i, name) in SEVERITIES.iter().enumerate() {
        taxonomy::severities::insert(
            conn,
            incident_severity::ActiveModel {
                project_id: Set(project_id),
                slug: Set(name.to_lowercase()),
                name: Set(name.to_string()),
                description: Set(String::new()),
                color: Set(None),
                is_default: Set(i == 0),
                enabled: Set(true),
                allowed_for_stable: Set(true),
                view_order: Set(i as i32),
                created_at: Set(now),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}
