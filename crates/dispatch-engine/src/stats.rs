//! The dashboard's numbers, over the incidents a reader may see.

use crate::Result;
use dispatch_store::repo;
use dispatch_store::repo::incident::IncidentFilter;
use dispatch_store::repo::stats::IncidentFact;

/// At most this many incidents are counted in one dashboard.
pub const MAX_FACTS: u64 = 200_000;

impl crate::Incidents<'_> {
    /// The facts of the incidents matching the filter (its `viewer` decides which restricted
    /// incidents count), newest first, and the open tasks of those incidents.
    pub async fn dashboard(self, f: &IncidentFilter) -> Result<(Vec<IncidentFact>, u64)> {
        let conn = self.db.conn();
        let facts = repo::stats::facts(conn, f, MAX_FACTS).await?;
        // Tasks count whenever their incident was reported.
        let open = IncidentFilter {
            reported_from: None,
            ..f.clone()
        };
        let tasks = repo::stats::open_tasks(conn, &open).await?;
        Ok((facts, tasks))
    }
}
