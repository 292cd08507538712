//! A case's people and tags. People are recorded once each, with what first brought them in:
//! its reporter and assignee when it opens, then everyone who acts on it. Its tags are the
//! project's: a case opened by a definition starts with the definition's, and a change names
//! only tags the project has. Escalating the case hands both to the incident.

use crate::tags::ProjectTags;
use crate::Result;
use chrono::{DateTime, Utc};
use dispatch_store::model::case_participant;
use dispatch_store::repo;
use dispatch_store::repo::tag::TagRow;
use dispatch_store::Conn;
use std::collections::HashMap;

/// Records people in cases, (case id, address, reason), in the caller's transaction; one
/// already in a case stays as they joined.
pub(crate) async fn join(
    conn: &impl Conn,
    people: &[(i64, &str, &str)],
    at: DateTime<Utc>,
) -> Result<()> {
    let rows = people
        .iter()
        .filter(|(_, email, _)| !email.is_empty())
        .map(|(case_id, email, reason)| case_participant::Model {
            case_id: *case_id,
            email: (*email).to_string(),
            added_reason: (*reason).to_string(),
            created_at: at,
            ..Default::default()
        })
        .collect();
    repo::case_participant::add(conn, rows).await?;
    Ok(())
}

/// What new cases start with: each case's reporter and assignee join it, and it carries the
/// tags its definition names (`(case id, reporter, assignee, tag names)`), read as a case's
/// tags are set ([`crate::tags`]). A name that is no longer the project's tag (or `type:name` of
/// a tag now of another type) is left out: the alert still opens its case. One statement for
/// the people, and two for the tags when a definition names any.
pub(crate) async fn opened(
    conn: &impl Conn,
    project_id: i64,
    cases: &[(i64, &str, Option<&str>, Vec<String>)],
    at: DateTime<Utc>,
) -> Result<()> {
    let mut people = Vec::new();
    for (id, reporter, assignee, _) in cases {
        people.push((*id, *reporter, "reporter"));
        if let Some(a) = assignee {
            people.push((*id, *a, "assignee"));
        }
    }
    join(conn, &people, at).await?;
    let mut names: Vec<String> = cases.iter().flat_map(|c| c.3.iter().cloned()).collect();
    if names.is_empty() {
        return Ok(());
    }
    names.sort_unstable();
    names.dedup();
    let project = ProjectTags::load_named(conn, project_id, &names).await?;
    let pairs: Vec<(i64, i64)> = cases
        .iter()
        .flat_map(|(id, _, _, wanted)| project.existing(wanted).into_iter().map(|t| (*id, t)))
        .collect();
    repo::tag::add_to_cases(conn, &pairs).await?;
    Ok(())
}

/// A definition's tag names as stored (`name` or `type:name`).
pub(crate) fn definition_tags(tags_json: &str) -> Vec<String> {
    serde_json::from_str(tags_json).unwrap_or_default()
}

impl crate::Cases<'_> {
    /// The tags of each of the given cases, by name.
    pub async fn tags_of(self, ids: &[i64]) -> Result<HashMap<i64, Vec<TagRow>>> {
        Ok(repo::tag::for_cases(self.db().conn(), ids).await?)
    }
}
