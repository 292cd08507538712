//! Incident commands (declare, update, status transitions) and the incident read model.

mod declare;
mod similar;
mod status;
mod update;

pub use similar::{Probe, SimilarIncident};

use crate::Result;
use dispatch_core::values::IncidentRef;
use dispatch_core::ValidationError;
use dispatch_store::model::{report, resource};
use dispatch_store::repo::incident::{IncidentFilter, IncidentRow, Total, Viewer};
use dispatch_store::repo::participant::ParticipantView;
use dispatch_store::repo::tag::TagRow;
use dispatch_store::repo::{self, taxonomy};
use dispatch_store::Conn;

/// An incident with everything a reader needs: participants, tags, resources.
#[derive(Debug, Clone)]
pub struct IncidentDetail {
    /// The incident with names of what it points at.
    pub row: IncidentRow,
    /// Its tags.
    pub tags: Vec<TagRow>,
    /// Its participants and their roles.
    pub participants: Vec<ParticipantView>,
    /// What providers created for it.
    pub resources: Vec<resource::Model>,
    /// The latest tactical report.
    pub last_tactical_report: Option<report::Model>,
    /// The latest executive report.
    pub last_executive_report: Option<report::Model>,
    /// Runbooks its engagement rules suggest: (title, link).
    pub runbooks: Vec<(String, String)>,
    /// Its costs' total in cents, as last computed (`None`: not computed yet).
    pub total_cost_cents: Option<i64>,
}

/// One incident of a list, with its tags.
#[derive(Debug, Clone)]
pub struct IncidentSummary {
    /// The incident with names of what it points at.
    pub row: IncidentRow,
    /// Its tags.
    pub tags: Vec<TagRow>,
}

/// Reads an incident with its participants, tags and resources: two statements (the row, then
/// every part at once).
pub(crate) async fn load_detail(conn: &impl Conn, r: &IncidentRef) -> Result<IncidentDetail> {
    let row = repo::incident::get(conn, r).await?;
    detail_of(conn, row).await
}

/// The rest of an incident's read, given its row (one statement).
async fn detail_of(conn: &impl Conn, row: IncidentRow) -> Result<IncidentDetail> {
    let parts = repo::detail::parts(conn, row.id).await?;
    Ok(detail_from(row, parts))
}

/// An incident's read from its row and parts.
fn detail_from(row: IncidentRow, parts: repo::detail::IncidentParts) -> IncidentDetail {
    IncidentDetail {
        row,
        tags: parts.tags,
        participants: parts.participants,
        resources: parts.resources,
        last_tactical_report: parts.last_tactical_report,
        last_executive_report: parts.last_executive_report,
        runbooks: crate::rules::welcome::runbooks_of(parts.engagements),
        total_cost_cents: parts.total_cost_cents,
    }
}

/// Taxonomy entries named by a command, resolved within a project.
pub(crate) struct Taxonomy {
    pub type_: Option<dispatch_store::model::incident_type::Model>,
    pub priority: Option<dispatch_store::model::incident_priority::Model>,
    pub severity: Option<dispatch_store::model::incident_severity::Model>,
}

/// Looks up the named type, priority and severity; unknown names become field errors.
pub(crate) async fn resolve_taxonomy(
    conn: &impl Conn,
    project_id: i64,
    type_: Option<&str>,
    priority: Option<&str>,
    severity: Option<&str>,
    errors: &mut ValidationError,
) -> Result<Taxonomy> {
    macro_rules! lookup {
        ($repo:ident, $input:expr, $field:literal) => {
            match $input {
                None => None,
                Some(name) => {
                    let found = taxonomy::$repo::by_name(conn, project_id, name).await?;
                    if found.is_none() {
                        let known: Vec<String> = taxonomy::$repo::list(conn, project_id)
                            .await?
                            .into_iter()
                            .filter(|e| e.enabled)
                            .map(|e| e.slug)
                            .collect();
                        errors.push(
                            $field,
                            format!(
                                "unknown {} {name:?}; known: {}",
                                $field.replace('_', " "),
                                known.join(", ")
                            ),
                        );
                    }
                    found
                }
            }
        };
    }
    Ok(Taxonomy {
        type_: lookup!(types, type_, "type"),
        priority: lookup!(priorities, priority, "priority"),
        severity: lookup!(severities, severity, "severity"),
    })
}

impl crate::Incidents<'_> {
    /// Reads one incident by id or key.
    pub async fn get(self, r: &IncidentRef) -> Result<IncidentDetail> {
        load_detail(self.db.conn(), r).await
    }

    /// Reads one incident by id or key if `viewer` may see it; *not found* otherwise, exactly
    /// like one that does not exist. One statement.
    pub async fn get_visible(self, viewer: Viewer, r: &IncidentRef) -> Result<IncidentDetail> {
        let (row, parts) =
            repo::detail::visible_with_parts(self.db.conn(), viewer, r, repo::detail::Parts::All)
                .await?
                .ok_or_else(|| crate::Error::NotFound(format!("incident {r}")))?;
        Ok(detail_from(row, parts))
    }

    /// A page of incidents and the number matching the filter.
    pub async fn list(self, f: &IncidentFilter) -> Result<(Vec<IncidentSummary>, Total)> {
        let (rows, total) = repo::incident::list_with_tags(self.db.conn(), f).await?;
        let out = rows
            .into_iter()
            .map(|(row, tags)| IncidentSummary { row, tags })
            .collect();
        Ok((out, total))
    }

    /// How many incidents match the filter (up to its `count_limit`), without a page.
    pub async fn count(self, f: &IncidentFilter) -> Result<Total> {
        Ok(repo::incident::count(self.db.conn(), f).await?)
    }
}
