//! Taxonomy entries (incident types, priorities, severities): reading one inside its project,
//! and saving one under the rule that a project always has exactly one enabled default of each.

use crate::{Error, Result};
use dispatch_core::{ProjectId, ValidationError};
use dispatch_store::repo::taxonomy::{self, Taxonomy};
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

/// An entry of the taxonomy `T` inside a project (another project's entry is not found).
async fn entry<T: Taxonomy>(conn: &impl Conn, project_id: i64, id: i64) -> Result<T> {
    let row: T = taxonomy::get(conn, id).await?;
    if row.project_id() != project_id {
        return Err(Error::NotFound(format!("{} {id}", T::WHAT)));
    }
    Ok(row)
}

impl crate::Taxonomies<'_> {
    /// The entries of the taxonomy `T` (incident types, priorities or severities) of a project,
    /// in view order.
    pub async fn list<T: Taxonomy>(self, project_id: ProjectId) -> Result<Vec<T>> {
        let project_id = project_id.0;
        Ok(taxonomy::list(self.db.conn(), project_id).await?)
    }

    /// The entry of the taxonomy `T` with this id in this project.
    pub async fn entry<T: Taxonomy>(self, project_id: ProjectId, id: T::Id) -> Result<T> {
        let project_id = project_id.0;
        entry(self.db.conn(), project_id, id.into()).await
    }

    /// Inserts (no `before`) or updates (from `before`, as read) an entry of the taxonomy `T`
    /// of a project. A new entry is stamped now; an update saves the fields that differ between
    /// `before` and `row`. Marking it default makes it the project's only default; the current
    /// default cannot be disabled or stop being the default (a 422 naming `enabled`/`default`).
    /// The checks, the write and the clearing of the other defaults are one transaction, so no
    /// reader ever sees a project with two defaults or none.
    pub async fn save<T: Taxonomy>(
        self,
        project_id: ProjectId,
        before: Option<&T>,
        mut row: T,
    ) -> Result<T> {
        let project_id = project_id.0;
        let txn = self.db.write().await?;
        let stored: Option<T> = match before {
            Some(b) => Some(entry(&*txn, project_id, b.id()).await?),
            None => None,
        };
        let is_default = after(
            before.map(T::is_default),
            row.is_default(),
            stored.as_ref().map(T::is_default),
        );
        let enabled = after(
            before.map(T::enabled),
            row.enabled(),
            stored.as_ref().map(T::enabled),
        );
        let was_default = stored.as_ref().is_some_and(T::is_default);
        check_default_rule(was_default, is_default, enabled)?;
        let saved = match before {
            Some(before) => taxonomy::update(&*txn, before, row).await?,
            None => {
                row.stamp(project_id, dispatch_core::now());
                taxonomy::insert(&*txn, row).await?
            }
        };
        if saved.is_default() {
            taxonomy::clear_default::<T>(&*txn, project_id, saved.id()).await?;
        }
        txn.commit().await?;
        self.invalidate_config();
        Ok(saved)
    }

    /// Makes a taxonomy entry the only default of its project (it must be enabled).
    pub async fn make_default<T: Taxonomy>(self, project_id: ProjectId, id: T::Id) -> Result<()> {
        let before: T = self.entry(project_id, id).await?;
        let mut row = before.clone();
        row.set_default(true);
        self.save(project_id, Some(&before), row).await?;
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
