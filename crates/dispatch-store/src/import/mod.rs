//! `dispatch import netflix-dispatch`: carries a Netflix Dispatch database over into Dispatch's
//! own records — the organization's projects, taxonomies, tags, people, teams, services,
//! notifications and engagement filters, then its incidents with their participants, roles,
//! timeline, tasks, reports, feedback and resources (as external links), then its signal
//! definitions and filters, and its cases with their timelines ([`signals`]).
//!
//! One write transaction per run: on any error nothing is written. Every row written is
//! recorded in the source-id mapping (`import_sources`), so a second run updates what the first
//! created and never duplicates it. `--dry-run` runs the same import and rolls it back, so the
//! counts it prints are exactly what a real run would do. Imported incidents are history: no
//! job (channel, ticket, page, mail) is queued for them.

mod activity;
mod incidents;
mod rules;
mod setup;
mod signals;
mod source;

use crate::repo::rows::Keyed;
use crate::repo::{import_source, rows};
use crate::Record;
use crate::{Db, WriteTxn};
use chrono::{DateTime, Utc};
use source::Source;
use std::collections::HashMap;

/// What one entity kind came to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Rows of the source.
    pub source: i64,
    /// Rows created here.
    pub created: i64,
    /// Rows updated here (they were imported before and changed since).
    pub updated: i64,
    /// Rows already imported and unchanged.
    pub unchanged: i64,
}

/// What an import did (or, on a dry run, would do).
#[derive(Debug, Default)]
pub struct Report {
    /// Per entity kind, in the order they are imported.
    pub kinds: Vec<(&'static str, Tally)>,
    /// What could not be carried over, and why.
    pub skipped: Vec<String>,
}

impl Report {
    fn tally(&mut self, kind: &'static str) -> &mut Tally {
        if let Some(i) = self.kinds.iter().position(|(k, _)| *k == kind) {
            return &mut self.kinds[i].1;
        }
        self.kinds.push((kind, Tally::default()));
        &mut self.kinds.last_mut().expect("just pushed").1
    }

    /// The tally of one kind (zero when nothing of it was seen).
    pub fn of(&self, kind: &str) -> Tally {
        self.kinds
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, t)| *t)
            .unwrap_or_default()
    }

    /// The report as people read it.
    pub fn render(&self, dry_run: bool) -> String {
        let mut out = String::new();
        out.push_str(if dry_run {
            "Dry run: nothing was written. This is what the import would do:\n"
        } else {
            "Imported:\n"
        });
        out.push_str(&format!(
            "{:<22} {:>7} {:>8} {:>8} {:>10}\n",
            "entity", "source", "created", "updated", "unchanged"
        ));
        for (kind, t) in &self.kinds {
            out.push_str(&format!(
                "{kind:<22} {:>7} {:>8} {:>8} {:>10}\n",
                t.source, t.created, t.updated, t.unchanged
            ));
        }
        if self.skipped.is_empty() {
            out.push_str("Everything was carried over.\n");
        } else {
            out.push_str("Not carried over:\n");
            for s in &self.skipped {
                out.push_str(&format!("- {s}\n"));
            }
        }
        out
    }
}

/// What the importing steps share: the source, the transaction, the mapping and the report.
pub(crate) struct Ctx<'a> {
    src: &'a Source,
    txn: &'a WriteTxn,
    /// The mapping's source key, `netflix-dispatch:<organization>`.
    key: String,
    now: DateTime<Utc>,
    /// Whether projects that were here before the import take the original's display fields.
    update_existing_projects: bool,
    maps: HashMap<&'static str, HashMap<String, i64>>,
    report: Report,
}

impl<'a> Ctx<'a> {
    fn conn(&self) -> &'a sea_orm::DatabaseTransaction {
        self.txn
    }

    /// Loads the mapping of a kind and sets its source count.
    async fn begin(&mut self, kind: &'static str, source_rows: i64) -> anyhow::Result<()> {
        let map = import_source::all(self.conn(), &self.key, kind).await?;
        self.maps.insert(kind, map);
        self.report.tally(kind).source = source_rows;
        Ok(())
    }

    /// The row an earlier import (or this one) wrote for a source row.
    fn target(&self, kind: &str, source_id: i64) -> Option<i64> {
        self.maps
            .get(kind)
            .and_then(|m| m.get(&source_id.to_string()))
            .copied()
    }

    /// The row written for a source row, read back (`None` when never imported or since deleted).
    async fn existing<R: Keyed>(&self, kind: &str, source_id: i64) -> anyhow::Result<Option<R>> {
        match self.target(kind, source_id) {
            Some(id) => Ok(rows::find::<R>(self.conn(), id).await?),
            None => Ok(None),
        }
    }

    /// Records that a source row became `target_id` and counts it.
    async fn mapped(
        &mut self,
        kind: &'static str,
        source_id: i64,
        target_id: i64,
        outcome: Outcome,
    ) -> anyhow::Result<()> {
        import_source::record(
            self.conn(),
            &self.key,
            kind,
            &source_id.to_string(),
            target_id,
            self.now,
        )
        .await?;
        self.maps
            .entry(kind)
            .or_default()
            .insert(source_id.to_string(), target_id);
        let t = self.report.tally(kind);
        match outcome {
            Outcome::Created => t.created += 1,
            Outcome::Updated => t.updated += 1,
            Outcome::Unchanged => t.unchanged += 1,
        }
        Ok(())
    }

    /// Notes what cannot be carried over.
    fn skip(&mut self, what: String) {
        self.report.skipped.push(what);
    }

    /// Writes `after`: inserted when there is no `before`, saved when it differs from it.
    async fn save<R: Record + PartialEq>(
        &self,
        before: Option<&R>,
        after: R,
    ) -> anyhow::Result<(R, Outcome)> {
        Ok(match before {
            None => (rows::insert(self.conn(), after).await?, Outcome::Created),
            Some(b) if *b == after => (after, Outcome::Unchanged),
            Some(b) => (rows::update(self.conn(), b, after).await?, Outcome::Updated),
        })
    }
}

/// What writing one row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The original's organization (its schema is `dispatch_organization_<slug>`).
    pub organization: String,
    /// Roll everything back: only report.
    pub dry_run: bool,
    /// Let the original's projects overwrite the name, description and self-join setting of
    /// the projects of the same slug that were here before the import (by default those are
    /// kept, e.g. the default project's).
    pub update_existing_projects: bool,
}

/// Imports an organization of the Netflix Dispatch database at `from` into `db`; on a dry run,
/// rolls everything back. Returns what it did.
pub async fn netflix_dispatch(db: &Db, from: &str, options: &Options) -> anyhow::Result<Report> {
    let (organization, dry_run) = (options.organization.as_str(), options.dry_run);
    let src = Source::open(from, organization).await?;
    let txn = db.write().await?;
    let mut ctx = Ctx {
        src: &src,
        txn: &txn,
        key: format!("netflix-dispatch:{organization}"),
        now: dispatch_core::now(),
        update_existing_projects: options.update_existing_projects,
        maps: HashMap::new(),
        report: Report::default(),
    };
    setup::run(&mut ctx).await?;
    incidents::run(&mut ctx).await?;
    signals::run(&mut ctx).await?;
    let report = std::mem::take(&mut ctx.report);
    if dry_run {
        drop(txn);
    } else {
        txn.commit().await?;
    }
    Ok(report)
}

/// A slug from a name (`Employee Investigation` → `employee-investigation`).
pub(crate) fn slugify(name: &str) -> String {
    dispatch_core::values::Slug::from_name(name)
        .as_str()
        .to_string()
}
