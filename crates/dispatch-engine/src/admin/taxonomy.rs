//! Taxonomy entries (incident types, priorities, severities): reading one inside its project,
//! and saving one under the rule that a project always has exactly one enabled default of each.

use super::TaxonomyKind;
use crate::{Engine, Error, Result};
use dispatch_core::ValidationError;
use dispatch_store::model::{incident_priority, incident_severity, incident_type};
use dispatch_store::repo::taxonomy;
use dispatch_store::Conn;

/// Checks the default rule on the state an entry would have after a save.
fn check_default_rule(was_default: bool, is_default: bool, enabled: bool) -> Result<()> {
    let mut e = ValidationError::default();
    if was_default && !is_default {
        e.push(
            "default",
            "this is the project's default; make another entry the default instead",
        );
    }
    if is_default && !enabled {
        e.push(
            "enabled",
            "the project's default must stay enabled; make another entry the default first",
        );
    }
    Ok(e.into_result()?)
}

/// The value a flag will have after a save: the new row's; for an update, the changed value
/// (`before` → `after`), else the stored one.
fn after(before: Option<bool>, after: bool, stored: Option<bool>) -> bool {
    match (before, stored) {
        (Some(before), Some(stored)) if before == after => stored,
        _ => after,
    }
}

/// Generates, for one taxonomy, the read of an entry inside a project and the save that keeps
/// the default rule. The checks, the write and the clearing of the other defaults are one
/// transaction, so no reader ever sees a project with two defaults or none.
macro_rules! taxonomy_commands {
    ($entity:ident, $repo:ident, $what:literal, $get:ident, $save:ident) => {
        async fn $get(conn: &impl Conn, project_id: i64, id: i64) -> Result<$entity::Model> {
            let row = taxonomy::$repo::get(conn, id).await?;
            if row.project_id != project_id {
                return Err(Error::NotFound(format!(concat!($what, " {}"), id)));
            }
            Ok(row)
        }

        impl Engine {
            #[doc = concat!("The ", $what, " with this id in this project.")]
            pub async fn $get(&self, project_id: i64, id: i64) -> Result<$entity::Model> {
                $get(self.db.conn(), project_id, id).await
            }

            #[doc = concat!("Inserts (no `before`) or updates (from `before`, as read) a ", $what, " of a project. ")]
            /// A new entry is stamped now; an update saves the fields that differ between
            /// `before` and `row`. Marking it default makes it the project's only default; the
            /// current default cannot be disabled or stop being the default (a 422 naming
            /// `enabled`/`default`).
            pub async fn $save(
                &self,
                project_id: i64,
                before: Option<&$entity::Model>,
                mut row: $entity::Model,
            ) -> Result<$entity::Model> {
                let txn = self.db.write().await?;
                let stored = match before {
                    Some(b) => Some($get(&*txn, project_id, b.id).await?),
                    None => None,
                };
                let is_default = after(
                    before.map(|b| b.is_default),
                    row.is_default,
                    stored.as_ref().map(|s| s.is_default),
                );
                let enabled = after(
                    before.map(|b| b.enabled),
                    row.enabled,
                    stored.as_ref().map(|s| s.enabled),
                );
                let was_default = stored.as_ref().is_some_and(|s| s.is_default);
                check_default_rule(was_default, is_default, enabled)?;
                let saved = match before {
                    Some(before) => taxonomy::$repo::update(&*txn, before, row).await?,
                    None => {
                        row.project_id = project_id;
                        row.created_at = dispatch_core::now();
                        taxonomy::$repo::insert(&*txn, row).await?
                    }
                };
                if saved.is_default {
                    taxonomy::$repo::clear_default(&*txn, project_id, saved.id).await?;
                }
                txn.commit().await?;
                self.invalidate_config();
                Ok(saved)
            }
        }
    };
}

taxonomy_commands!(
    incident_type,
    types,
    "incident type",
    incident_type,
    save_incident_type
);
taxonomy_commands!(
    incident_priority,
    priorities,
    "incident priority",
    incident_priority,
    save_incident_priority
);
taxonomy_commands!(
    incident_severity,
    severities,
    "incident severity",
    incident_severity,
    save_incident_severity
);

impl Engine {
    /// Makes a taxonomy entry the only default of its project (it must be enabled).
    pub async fn make_default(&self, kind: TaxonomyKind, project_id: i64, id: i64) -> Result<()> {
        macro_rules! make {
            ($get:ident, $save:ident) => {{
                let before = self.$get(project_id, id).await?;
                let mut row = before.clone();
                row.is_default = true;
                self.$save(project_id, Some(&before), row).await?;
            }};
        }
        match kind {
            TaxonomyKind::Type => make!(incident_type, save_incident_type),
            TaxonomyKind::Priority => make!(incident_priority, save_incident_priority),
            TaxonomyKind::Severity => make!(incident_severity, save_incident_severity),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::check_default_rule;

    fn fields(r: crate::Result<()>) -> Vec<String> {
        match r {
            Ok(()) => vec![],
            Err(crate::Error::Validation(v)) => v.fields.into_iter().map(|f| f.field).collect(),
            Err(other) => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn the_default_entry_must_stay_default_and_enabled() {
        assert!(fields(check_default_rule(true, true, true)).is_empty());
        assert!(fields(check_default_rule(false, false, false)).is_empty());
        assert_eq!(fields(check_default_rule(true, false, true)), ["default"]);
        assert_eq!(fields(check_default_rule(true, true, false)), ["enabled"]);
        assert_eq!(fields(check_default_rule(false, true, false)), ["enabled"]);
    }
}
