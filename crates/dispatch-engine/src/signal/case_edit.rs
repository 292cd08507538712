//! Working a case besides moving it: editing its fields and snoozing what its signal is (a
//! snooze filter over its first signal's labels, expiring after a while).

use super::case::case_event;
use crate::{Actor, Error, Result};
use chrono::Duration;
use dispatch_core::signal::{FilterKind, FilterMode, Matchers};
use dispatch_core::values::{Email, IncidentTitle, LongText};
use dispatch_core::CaseId;
use dispatch_store::model::{case, signal_filter};
use dispatch_store::repo;
use serde_json::json;

/// A change to a case's fields: `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct CaseEdit {
    /// What is wrong.
    pub title: Option<IncidentTitle>,
    /// What is known.
    pub description: Option<LongText>,
    /// Who is on it (`Some(None)`: no one).
    pub assignee: Option<Option<Email>>,
    /// Its tags, the whole set (`name` or `type:name`, each one the project has).
    pub tags: Option<Vec<String>>,
}

/// What a `case_edited` entry says: who changed which fields, and the case's new tags
/// (`tags`, as the case shows them) when they are among them.
fn edited(
    actor: &str,
    changed: &serde_json::Map<String, serde_json::Value>,
    tags: Option<&[String]>,
) -> String {
    let fields: Vec<&str> = changed
        .keys()
        .map(String::as_str)
        .filter(|f| *f != "tags")
        .collect();
    let tagged = tags.map(|set| match set {
        [] => "removed every tag from the case".to_string(),
        set => format!("set the case's tags to {}", set.join(", ")),
    });
    match (fields.is_empty(), tagged) {
        (_, None) => format!("{actor} changed the case's {}", fields.join(", ")),
        (true, Some(tagged)) => format!("{actor} {tagged}"),
        (false, Some(tagged)) => format!(
            "{actor} changed the case's {} and {tagged}",
            fields.join(", ")
        ),
    }
}

/// How long a case's snooze lasts, at most.
pub const MAX_SNOOZE: Duration = Duration::days(30);

impl crate::Cases<'_> {
    /// Changes a case's title, description, assignee or tags, and notes it on the case's
    /// timeline; one transaction. A tag the project does not have is a field error on `tags`,
    /// found before anything is written. The editor (and a new assignee) join the case.
    pub async fn edit(self, actor: &Actor, id: CaseId, edit: CaseEdit) -> Result<case::Model> {
        let at = dispatch_core::now();
        let txn = self.db().write().await?;
        let current = repo::signal::case(&*txn, id.0).await?;
        let mut changed = serde_json::Map::new();
        let mut new_tags = None;
        if let Some(names) = &edit.tags {
            let mut errors = dispatch_core::ValidationError::default();
            let mut ids = crate::tags::resolve_tags_as(
                &*txn,
                current.project_id,
                names,
                crate::tags::NewTags::Refuse,
                &mut errors,
            )
            .await?;
            errors.into_result()?;
            let mut before = repo::tag::for_cases(&*txn, &[id.0])
                .await?
                .remove(&id.0)
                .unwrap_or_default()
                .into_iter()
                .map(|t| t.id)
                .collect::<Vec<_>>();
            before.sort_unstable();
            ids.sort_unstable();
            if before != ids {
                repo::tag::set_for_case(&*txn, id.0, &ids).await?;
                // As the case API and its webhooks show them (`type:name` for a typed tag).
                let set: Vec<String> = repo::tag::for_cases(&*txn, &[id.0])
                    .await?
                    .remove(&id.0)
                    .unwrap_or_default()
                    .iter()
                    .map(repo::tag::TagRow::label)
                    .collect();
                changed.insert("tags".into(), json!(set));
                new_tags = Some(set);
            }
        }
        let mut row = current.clone();
        if let Some(t) = edit.title {
            row.title = t.to_string();
            changed.insert("title".into(), json!(row.title));
        }
        if let Some(d) = edit.description {
            row.description = d.to_string();
            changed.insert("description".into(), json!(row.description));
        }
        if let Some(a) = edit.assignee {
            row.assignee = a.map(|a| a.to_string());
            changed.insert("assignee".into(), json!(row.assignee));
        }
        if changed.is_empty() {
            return Ok(current);
        }
        row.updated_at = at;
        let saved = repo::signal::update(&*txn, &current, row).await?;
        let mut people = vec![(id.0, actor.email.as_str(), "edited")];
        if let Some(a) = saved
            .assignee
            .as_deref()
            .filter(|_| changed.contains_key("assignee"))
        {
            people.push((id.0, a, "assignee"));
        }
        super::case_people::join(&*txn, &people, at).await?;
        let event = case_event(
            id.0,
            at,
            Some(&actor.email),
            "case_edited",
            edited(&actor.email, &changed, new_tags.as_deref()),
            serde_json::Value::Object(changed.clone()),
        );
        crate::webhook::cases::record(&*txn, vec![event]).await?;
        txn.commit().await?;
        self.wake_workers();
        Ok(saved)
    }

    /// Snoozes what a case's signal is, for `length`: an active snooze filter over its first
    /// signal's labels that expires then, noted on the case's timeline; one transaction. The
    /// alerts it takes meanwhile are stored but open no case.
    pub async fn snooze(
        self,
        actor: &Actor,
        id: CaseId,
        length: Duration,
    ) -> Result<signal_filter::Model> {
        if length < Duration::minutes(1) || length > MAX_SNOOZE {
            return Err(dispatch_core::ValidationError::field(
                "duration",
                "must be between one minute and 30 days",
            )
            .into());
        }
        let at = dispatch_core::now();
        let txn = self.db().write().await?;
        let current = repo::signal::case(&*txn, id.0).await?;
        let first = repo::signal::case_instances(&*txn, id.0).await?;
        let Some(first) = first.first() else {
            return Err(Error::Conflict(format!(
                "case {id} has no signal to snooze"
            )));
        };
        let labels: serde_json::Value = serde_json::from_str(&first.labels).unwrap_or_default();
        let expression = Matchers::from_json("labels", &labels)?;
        let until = at + length;
        let filter = signal_filter::Model {
            project_id: current.project_id,
            name: format!(
                "Snooze case {} until {}",
                id,
                until.format("%Y-%m-%d %H:%M:%S")
            ),
            description: format!("Snoozed from case {}: {}", id, current.title),
            kind: FilterKind::Snooze.as_str().into(),
            expression: expression.to_string(),
            mode: FilterMode::Active.as_str().into(),
            expires_at: Some(until),
            window_seconds: dispatch_core::signal::DEFAULT_DEDUP_WINDOW,
            created_by: Some(actor.email.clone()),
            created_at: at,
            updated_at: at,
            ..Default::default()
        };
        let filter = repo::signal::insert(&*txn, filter)
            .await
            .map_err(super::named_conflict)?;
        super::case_people::join(&*txn, &[(id.0, &actor.email, "snoozed")], at).await?;
        let event = case_event(
            id.0,
            at,
            Some(&actor.email),
            "case_snoozed",
            format!(
                "{} snoozed the case's signal until {} (filter {})",
                actor.email,
                until.format("%Y-%m-%d %H:%M UTC"),
                filter.id
            ),
            json!({"filter_id": filter.id, "expires_at": until, "expression": filter.expression}),
        );
        crate::webhook::cases::record(&*txn, vec![event]).await?;
        txn.commit().await?;
        self.invalidate_signals();
        Ok(filter)
    }
}
