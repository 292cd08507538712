//! Schema migrations, run at `serve` start and by `dispatch migrate`. Append-only: a landed
//! migration is never edited. The DDL is written once with a few per-backend placeholders.

use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
use sea_orm_migration::prelude::*;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(SqlMigration {
                name: "m20261125_000001_initial",
                sqlite: include_str!("m20261125_000001_initial.sql"),
                postgres: include_str!("m20261125_000001_initial.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000002_search",
                sqlite: include_str!("m20261125_000002_search.sqlite.sql"),
                postgres: include_str!("m20261125_000002_search.postgres.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000003_builtin_providers",
                sqlite: include_str!("m20261125_000003_builtin_providers.sql"),
                postgres: include_str!("m20261125_000003_builtin_providers.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000004_schedules",
                sqlite: include_str!("m20261125_000004_schedules.sql"),
                postgres: include_str!("m20261125_000004_schedules.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000005_oncall",
                sqlite: include_str!("m20261125_000005_oncall.sql"),
                postgres: include_str!("m20261125_000005_oncall.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000006_outbox",
                sqlite: include_str!("m20261125_000006_outbox.sql"),
                postgres: include_str!("m20261125_000006_outbox.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000007_webhooks",
                sqlite: include_str!("m20261125_000007_webhooks.sql"),
                postgres: include_str!("m20261125_000007_webhooks.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000008_feedback",
                sqlite: include_str!("m20261125_000008_feedback.sql"),
                postgres: include_str!("m20261125_000008_feedback.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000009_type_templates",
                sqlite: include_str!("m20261125_000009_type_templates.sql"),
                postgres: include_str!("m20261125_000009_type_templates.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000010_stable_priority",
                sqlite: include_str!("m20261125_000010_stable_priority.sql"),
                postgres: include_str!("m20261125_000010_stable_priority.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000011_files",
                sqlite: include_str!("m20261125_000011_files.sql"),
                postgres: include_str!("m20261125_000011_files.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000012_providers",
                sqlite: include_str!("m20261125_000012_providers.sql"),
                postgres: include_str!("m20261125_000012_providers.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000020_rules",
                sqlite: include_str!("m20261125_000020_rules.sql"),
                postgres: include_str!("m20261125_000020_rules.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000030_tasks_and_reminders",
                sqlite: include_str!("m20261125_000030_tasks_and_reminders.sql"),
                postgres: include_str!("m20261125_000030_tasks_and_reminders.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000031_room_reactions",
                sqlite: include_str!("m20261125_000031_room_reactions.sql"),
                postgres: include_str!("m20261125_000031_room_reactions.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000040_users",
                sqlite: include_str!("m20261125_000040_users.sql"),
                postgres: include_str!("m20261125_000040_users.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000041_sessions",
                sqlite: include_str!("m20261125_000041_sessions.sql"),
                postgres: include_str!("m20261125_000041_sessions.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000042_audit",
                sqlite: include_str!("m20261125_000042_audit.sql"),
                postgres: include_str!("m20261125_000042_audit.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000050_slack",
                sqlite: include_str!("m20261125_000050_slack.sql"),
                postgres: include_str!("m20261125_000050_slack.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000051_conversation_messages",
                sqlite: include_str!("m20261125_000051_conversation_messages.sql"),
                postgres: include_str!("m20261125_000051_conversation_messages.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000060_project_members",
                sqlite: include_str!("m20261125_000060_project_members.sql"),
                postgres: include_str!("m20261125_000060_project_members.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000061_secret_key_check",
                sqlite: include_str!("m20261125_000061_secret_key_check.sql"),
                postgres: include_str!("m20261125_000061_secret_key_check.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000062_login_throttle",
                sqlite: include_str!("m20261125_000062_login_throttle.sql"),
                postgres: include_str!("m20261125_000062_login_throttle.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000065_document_edits",
                sqlite: include_str!("m20261125_000065_document_edits.sql"),
                postgres: include_str!("m20261125_000065_document_edits.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261125_000075_saved_views",
                sqlite: include_str!("m20261125_000075_saved_views.sql"),
                postgres: include_str!("m20261125_000075_saved_views.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261203_000080_signals",
                sqlite: include_str!("m20261203_000080_signals.sql"),
                postgres: include_str!("m20261203_000080_signals.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261203_000090_notifications_group",
                sqlite: include_str!("m20261203_000090_notifications_group.sql"),
                postgres: include_str!("m20261203_000090_notifications_group.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261203_000100_provider_settings",
                sqlite: include_str!("m20261203_000100_provider_settings.sql"),
                postgres: include_str!("m20261203_000100_provider_settings.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261203_000110_resource_details",
                sqlite: include_str!("m20261203_000110_resource_details.sql"),
                postgres: include_str!("m20261203_000110_resource_details.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261203_000120_incident_aliases",
                sqlite: include_str!("m20261203_000120_incident_aliases.sql"),
                postgres: include_str!("m20261203_000120_incident_aliases.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261203_000130_provider_secrets",
                sqlite: include_str!("m20261203_000130_provider_secrets.sql"),
                postgres: include_str!("m20261203_000130_provider_secrets.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261203_000150_mail_threads",
                sqlite: include_str!("m20261203_000150_mail_threads.sql"),
                postgres: include_str!("m20261203_000150_mail_threads.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261203_000160_case_threads",
                sqlite: include_str!("m20261203_000160_case_threads.sql"),
                postgres: include_str!("m20261203_000160_case_threads.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261203_000170_signal_chain_last",
                sqlite: include_str!("m20261203_000170_signal_chain_last.sql"),
                postgres: include_str!("m20261203_000170_signal_chain_last.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261203_000180_matrix",
                sqlite: include_str!("m20261203_000180_matrix.sql"),
                postgres: include_str!("m20261203_000180_matrix.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261203_000190_teams_id",
                sqlite: include_str!("m20261203_000190_teams_id.sql"),
                postgres: include_str!("m20261203_000190_teams_id.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261203_000200_search_resolution",
                sqlite: include_str!("m20261203_000200_search_resolution.sqlite.sql"),
                postgres: include_str!("m20261203_000200_search_resolution.postgres.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261203_000201_weekly_report",
                sqlite: include_str!("m20261203_000201_weekly_report.sql"),
                postgres: include_str!("m20261203_000201_weekly_report.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261203_000210_import_sources",
                sqlite: include_str!("m20261203_000210_import_sources.sql"),
                postgres: include_str!("m20261203_000210_import_sources.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261203_000220_human_links",
                sqlite: include_str!("m20261203_000220_human_links.sql"),
                postgres: include_str!("m20261203_000220_human_links.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261204_000230_costs",
                sqlite: include_str!("m20261204_000230_costs.sql"),
                postgres: include_str!("m20261204_000230_costs.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261205_000250_search_vector",
                sqlite: include_str!("m20261205_000250_search_vector.sqlite.sql"),
                postgres: include_str!("m20261205_000250_search_vector.postgres.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261206_000260_notify_triggers",
                sqlite: include_str!("m20261206_000260_notify_triggers.sqlite.sql"),
                postgres: include_str!("m20261206_000260_notify_triggers.postgres.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261207_000270_notify_queued_jobs",
                sqlite: include_str!("m20261207_000270_notify_queued_jobs.sqlite.sql"),
                postgres: include_str!("m20261207_000270_notify_queued_jobs.postgres.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261208_000280_case_tags",
                sqlite: include_str!("m20261208_000280_case_tags.sql"),
                postgres: include_str!("m20261208_000280_case_tags.sql"),
            }),
            Box::new(SqlMigration {
                name: "m20261208_000281_case_participants",
                sqlite: include_str!("m20261208_000281_case_participants.sql"),
                postgres: include_str!("m20261208_000281_case_participants.sql"),
            }),
        ]
    }
}

/// A migration given as SQL text per backend.
struct SqlMigration {
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

impl MigrationName for SqlMigration {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for SqlMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let sql = match backend {
            DbBackend::Sqlite => self.sqlite,
            _ => self.postgres,
        };
        // The migrator wraps each PostgreSQL migration in a transaction, not SQLite's: there,
        // one transaction keeps the statements on one pooled connection (a connection that
        // had not seen a trigger dropped by another one found it "already exists" when
        // recreating it) and makes the migration all or nothing.
        let txn = db.begin().await?;
        for statement in statements(&render(sql, backend)) {
            txn.execute_unprepared(&statement).await?;
        }
        txn.commit().await
    }
}

/// Replaces the type placeholders with the backend's types.
fn render(sql: &str, backend: DbBackend) -> String {
    let (id, ts, blob) = match backend {
        DbBackend::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT", "BLOB"),
        _ => (
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "TIMESTAMPTZ",
            "BYTEA",
        ),
    };
    sql.replace("{id}", id)
        .replace("{ts}", ts)
        .replace("{blob}", blob)
        .replace("{text}", "TEXT")
        .replace("{fk_id}", "BIGINT")
}

/// Splits a script into statements on a trailing `;`, keeping trigger bodies (`BEGIN … END;`) whole.
fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_body = false;
    for line in sql.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("--") {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if trimmed.ends_with("BEGIN") {
            in_body = true;
        }
        let ends = if in_body {
            trimmed == "END;"
        } else {
            trimmed.ends_with(';')
        };
        if ends {
            in_body = false;
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_bodies_stay_in_one_statement() {
        let s = statements(include_str!("m20261125_000002_search.sqlite.sql"));
        assert_eq!(s.len(), 4);
        assert!(s[3].contains("VALUES ('delete'") && s[3].trim_end().ends_with("END;"));
    }
}
