//! Similar incidents: past and present incidents that look like one being run or reported,
//! closed ones included, for the API, the incident page and the report form alike. The
//! full-text index picks the candidates ([`repo::similar::candidates`]); each is then scored
//! the same way on both databases: the share of the probe's keywords found in its title,
//! description or resolution (title words count double), plus shared tags and the same type.

use crate::Result;
use dispatch_core::message::Block;
use dispatch_core::values::IncidentRef;
use dispatch_core::ResourceKind;
use dispatch_store::repo;
use dispatch_store::repo::incident::{IncidentRow, Viewer};
use dispatch_store::repo::search::keywords;
use dispatch_store::repo::similar::MAX_TERMS;
use dispatch_store::repo::tag::TagRow;

/// What to find look-alikes of: an incident, or what someone is typing into the report form.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    /// Its title.
    pub title: String,
    /// The rest of its text: description and resolution.
    pub body: String,
    /// Its type, when it has one.
    pub type_id: Option<i64>,
    /// Its tags' ids.
    pub tags: Vec<i64>,
    /// The incident itself, never its own look-alike.
    pub exclude: Option<i64>,
}

/// One look-alike, with what a reader needs to learn from it.
#[derive(Debug, Clone)]
pub struct SimilarIncident {
    /// The incident.
    pub row: IncidentRow,
    /// Its tags.
    pub tags: Vec<TagRow>,
    /// Its post-incident review document, when it has one.
    pub review_link: Option<String>,
    /// How alike, from 0 to 1 (higher is closer).
    pub score: f64,
}

/// How many candidates the index is asked for, per look-alike answered (at least 50).
const CANDIDATES_PER_ANSWER: u64 = 10;

/// How alike a candidate is to the probe, from 0 to 1: 0.75 times the weighted share of the
/// probe's keywords that prefix a word of the candidate (title keywords weigh 2, the others 1),
/// plus 0.15 times the share of tags they have in common (of those either has), plus 0.10 when
/// they are of the same type. Rounded to three decimals.
pub fn score(
    title_terms: &[String],
    body_terms: &[String],
    probe: &Probe,
    candidate: &IncidentRow,
    candidate_tags: &[i64],
) -> f64 {
    let text = format!(
        "{} {} {}",
        candidate.title,
        candidate.description,
        candidate.resolution.as_deref().unwrap_or_default()
    )
    .to_lowercase();
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let found = |t: &String| words.iter().any(|w| w.starts_with(t.as_str()));
    let weight = 2 * title_terms.len() + body_terms.len();
    let matched = 2 * title_terms.iter().filter(|t| found(t)).count()
        + body_terms.iter().filter(|t| found(t)).count();
    let text_share = if weight == 0 {
        0.0
    } else {
        matched as f64 / weight as f64
    };
    let union = probe
        .tags
        .iter()
        .chain(candidate_tags.iter().filter(|t| !probe.tags.contains(t)))
        .count();
    let shared = candidate_tags
        .iter()
        .filter(|t| probe.tags.contains(t))
        .count();
    let tag_share = if union == 0 {
        0.0
    } else {
        shared as f64 / union as f64
    };
    let same_type = if probe.type_id == Some(candidate.type_id) {
        1.0
    } else {
        0.0
    };
    let s = 0.75 * text_share + 0.15 * tag_share + 0.10 * same_type;
    (s * 1000.0).round() / 1000.0
}

impl crate::Incidents<'_> {
    /// The incidents most like the incident `r` that `viewer` may see, best first, at most
    /// `limit`; the incident itself is never among them.
    pub async fn similar(
        self,
        viewer: Viewer,
        r: &IncidentRef,
        limit: usize,
    ) -> Result<Vec<SimilarIncident>> {
        let conn = self.db.conn();
        let row = repo::incident::get(conn, r).await?;
        let tags = repo::tag::for_incidents(conn, &[row.id])
            .await?
            .remove(&row.id)
            .unwrap_or_default();
        let probe = Probe {
            title: row.title.clone(),
            body: format!(
                "{} {}",
                row.description,
                row.resolution.as_deref().unwrap_or_default()
            ),
            type_id: Some(row.type_id),
            tags: tags.iter().map(|t| t.id).collect(),
            exclude: Some(row.id),
        };
        self.similar_to(viewer, &probe, limit).await
    }

    /// The incidents most like `probe` that `viewer` may see, best first, at most `limit`
    /// (ties: the most recently reported first).
    pub async fn similar_to(
        self,
        viewer: Viewer,
        probe: &Probe,
        limit: usize,
    ) -> Result<Vec<SimilarIncident>> {
        let conn = self.db.conn();
        let title_terms = keywords(&probe.title, MAX_TERMS);
        let body_terms: Vec<String> = keywords(&probe.body, MAX_TERMS)
            .into_iter()
            .filter(|t| !title_terms.contains(t))
            .take(MAX_TERMS.saturating_sub(title_terms.len()))
            .collect();
        let terms: Vec<String> = title_terms.iter().chain(&body_terms).cloned().collect();
        let want = (limit as u64 * CANDIDATES_PER_ANSWER).max(50);
        let rows = repo::similar::candidates(conn, viewer, &terms, probe.exclude, want).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut tags = repo::tag::for_incidents(conn, &ids).await?;
        let mut reviews =
            repo::resource::links_of_kind(conn, &ids, ResourceKind::ReviewDocument).await?;
        let mut out: Vec<SimilarIncident> = rows
            .into_iter()
            .map(|row| {
                let tags = tags.remove(&row.id).unwrap_or_default();
                let tag_ids: Vec<i64> = tags.iter().map(|t| t.id).collect();
                let review_link = reviews.remove(&row.id);
                SimilarIncident {
                    score: score(&title_terms, &body_terms, probe, &row, &tag_ids),
                    row,
                    tags,
                    review_link,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(b.row.reported_at.cmp(&a.row.reported_at))
                .then(b.row.id.cmp(&a.row.id))
        });
        out.truncate(limit);
        Ok(out)
    }
}

/// How many look-alikes a chat declaration's answer and the new room's welcome list.
pub(crate) const IN_CHAT: usize = 3;

/// Look-alikes as message blocks: each with its status, its resolution and a link (nothing when
/// there are none).
pub(crate) fn similar_blocks(base_url: &str, items: &[SimilarIncident]) -> Vec<Block> {
    if items.is_empty() {
        return vec![];
    }
    let lines = items
        .iter()
        .map(|s| {
            let r = &s.row;
            let resolution = r
                .resolution
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| format!(" Resolution: {t}"))
                .unwrap_or_default();
            format!("• {}: {} ({}).{resolution}", r.name, r.title, r.status)
        })
        .collect::<Vec<_>>()
        .join("\n");
    vec![
        Block::Section {
            text: format!("Similar past incidents:\n{lines}"),
        },
        Block::Links {
            links: items
                .iter()
                .map(|s| {
                    (
                        format!("{}: {}", s.row.name, s.row.title),
                        dispatch_core::links::incident(base_url, &s.row.name),
                    )
                })
                .collect(),
        },
    ]
}

impl crate::Incidents<'_> {
    /// The blocks that list the incidents most like `incident_id` in a chat or room, where
    /// anyone may read them: only open incidents of projects open to everyone.
    pub(crate) async fn similar_in_chat(
        self,
        incident_id: dispatch_core::IncidentId,
    ) -> Result<Vec<Block>> {
        let items = self
            .similar(Viewer::OpenOnly, &IncidentRef::Id(incident_id), IN_CHAT)
            .await?;
        Ok(similar_blocks(&self.base_url(), &items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(title: &str, description: &str, resolution: Option<&str>, type_id: i64) -> IncidentRow {
        let t = chrono::Utc::now();
        IncidentRow {
            id: 1,
            project_id: 1,
            project_slug: "default".into(),
            project_name: "Default".into(),
            project_members_only: false,
            number: 1,
            name: "INC-1".into(),
            title: title.into(),
            description: description.into(),
            resolution: resolution.map(Into::into),
            status: "closed".into(),
            visibility: "open".into(),
            type_id,
            type_slug: "t".into(),
            type_name: "T".into(),
            priority_id: 1,
            priority_slug: "low".into(),
            priority_name: "Low".into(),
            severity_id: 1,
            severity_slug: "low".into(),
            severity_name: "Low".into(),
            commander_id: 1,
            commander_email: "ic@example.com".into(),
            commander_name: "IC".into(),
            reporter_id: 1,
            reporter_email: "ic@example.com".into(),
            reporter_name: "IC".into(),
            reported_at: t,
            stable_at: None,
            closed_at: None,
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn title_words_weigh_double_and_tags_and_type_add() {
        let probe = Probe {
            title: "Payments 502".into(),
            body: "gateway".into(),
            type_id: Some(7),
            tags: vec![1, 2],
            exclude: None,
        };
        let title = keywords(&probe.title, 16);
        let body = keywords(&probe.body, 16);
        // Both title words (4 of 5 weights), no tags, another type.
        let a = row("Payments API 502s", "slow", None, 8);
        assert_eq!(score(&title, &body, &probe, &a, &[]), 0.6);
        // Every word (the resolution counts), one tag of two shared, same type.
        let b = row("Payments", "x", Some("The gateway returned 502"), 7);
        assert_eq!(score(&title, &body, &probe, &b, &[2]), 0.925);
        assert_eq!(
            score(&[], &[], &Probe::default(), &row("", "", None, 1), &[]),
            0.0
        );
    }
}
