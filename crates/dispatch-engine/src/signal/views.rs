//! Reads for the signal and case pages: each definition's alerts per hour, and cases by id (the
//! related cases a case names).

use crate::Result;
use dispatch_core::{CaseId, SignalDefinitionId};
use dispatch_store::model::case;
use dispatch_store::repo;
use std::collections::HashMap;

/// How many hours [`crate::Signals::hourly_counts`] covers.
pub const HOURS: usize = 24;

impl crate::Signals<'_> {
    /// Alerts received by each of these definitions in each of the last [`HOURS`] hours,
    /// oldest hour first (a definition that received none has no entry).
    pub async fn hourly_counts(
        self,
        definitions: &[SignalDefinitionId],
    ) -> Result<HashMap<SignalDefinitionId, Vec<u64>>> {
        let ids: Vec<i64> = definitions.iter().map(|d| d.0).collect();
        let until = dispatch_core::now();
        let rows = repo::signal_views::hourly_counts(self.db().conn(), &ids, until, HOURS).await?;
        Ok(rows
            .into_iter()
            .map(|(id, counts)| (SignalDefinitionId(id), counts))
            .collect())
    }
}

impl crate::Cases<'_> {
    /// These cases (those that exist), newest first.
    pub async fn by_ids(self, ids: &[CaseId]) -> Result<Vec<case::Model>> {
        let ids: Vec<i64> = ids.iter().map(|c| c.0).collect();
        let mut rows = repo::signal::cases_by_ids(self.db().conn(), &ids).await?;
        rows.sort_by_key(|c| std::cmp::Reverse(c.id));
        Ok(rows)
    }
}
