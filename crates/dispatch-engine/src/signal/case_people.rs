//! A case's people and tags. People are recorded once each, with what first brought them in:
//! its reporter and assignee when it opens, then everyone who acts on it. Its tags are the
//! project's: a case opened by a definition starts with the definition's, and a change names
//! only tags the project has. Escalating the case hands both to the incident.

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

/// What new cases start with: each case's reporter and assignee join it, and it carries its
/// definition's tags that the project has (`(case id, reporter, assignee, tag names)`). One
/// statement for the people, and two for the tags when a definition names any.
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
    let tags = repo::tag::by_names(conn, project_id, &names).await?;
    let mut pairs = Vec::new();
    for (id, _, _, wanted) in cases {
        for t in tags.iter().filter(|t| wanted.contains(&t.name)) {
            if !pairs.contains(&(*id, t.id)) {
                pairs.push((*id, t.id));
            }
        }
    }
    repo::tag::add_to_cases(conn, &pairs).await?;
    Ok(())
}

/// A definition's tag names as stored (a tag written `type:name` is looked for by its name).
pub(crate) fn definition_tags(tags_json: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(tags_json)
        .unwrap_or_default()
        .into_iter()
        .map(|t| match t.split_once(':') {
            Some((_, name)) => name.trim().to_string(),
            None => t.trim().to_string(),
        })
        .filter(|t| !t.is_empty())
        .collect()
}

impl crate::Cases<'_> {
    /// The tags of each of the given cases, by name.
    pub async fn tags_of(self, ids: &[i64]) -> Result<HashMap<i64, Vec<TagRow>>> {
        Ok(repo::tag::for_cases(self.db().conn(), ids).await?)
    }
}
