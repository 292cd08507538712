//! The dashboard's numbers, over the incidents a reader may see.

use crate::metrics::{compute, Figures};
use crate::Result;
use dispatch_store::repo;
use dispatch_store::repo::incident::IncidentFilter;
use dispatch_store::repo::stats::IncidentFact;

/// At most this many incidents are counted in one dashboard.
pub const MAX_FACTS: u64 = 200_000;

/// What the dashboard shows.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// The incidents counted, newest first.
    pub facts: Vec<IncidentFact>,
    /// Their figures (as `GET /api/v1/metrics` gives them).
    pub figures: Figures,
    /// The open tasks of the matching incidents, whenever they were reported.
    pub open_tasks: u64,
}

impl crate::Incidents<'_> {
    /// The facts and figures of the incidents matching the filter (its `viewer` decides which
    /// restricted incidents count), and the open tasks of those incidents.
    pub async fn dashboard(self, f: &IncidentFilter) -> Result<Dashboard> {
        let conn = self.db.conn();
        let facts = repo::stats::facts(conn, f, MAX_FACTS).await?;
        let activity = self.activity(f).await?;
        let figures = compute(&facts, &activity, None, dispatch_core::now()).totals;
        // Tasks count whenever their incident was reported.
        let open = IncidentFilter {
            reported_from: None,
            ..f.clone()
        };
        let open_tasks = repo::stats::open_tasks(conn, &open).await?.len() as u64;
        Ok(Dashboard {
            facts,
            figures,
            open_tasks,
        })
    }
}
