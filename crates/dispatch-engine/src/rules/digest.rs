//! The daily digest: for each enabled notification rule with an e-mail or room target, the
//! active incidents it matches and those that became stable or closed since the previous
//! period. Sent once per rule and period (the keys name the period); restricted incidents are
//! left out unless the target is restricted-safe (they are never even read otherwise).

use super::notification::{addresses, room_of};
use super::stored_filter;
use crate::flows::rule_email_job;
use crate::jobs::outcome::JobFailure;
use crate::{Engine, Result};
use chrono::{DateTime, Duration, Utc};
use dispatch_core::filter::Filter;
use dispatch_core::message::{Block, RichMessage};
use dispatch_core::{IncidentStatus, Visibility};
use dispatch_store::model::notification_rule;
use dispatch_store::repo;
use dispatch_store::repo::incident::{IncidentFilter, IncidentRow, SortField, Viewer};
use dispatch_store::repo::job::NewJob;

/// What one rule's digest lists.
pub(crate) struct Digest {
    /// Active incidents.
    pub active: Vec<IncidentRow>,
    /// Became stable in the period.
    pub stable: Vec<IncidentRow>,
    /// Closed in the period.
    pub closed: Vec<IncidentRow>,
}

/// The incidents of a rule's digest for the day ending at `until`.
pub(crate) async fn collect(
    engine: &Engine,
    rule: &notification_rule::Model,
    until: DateTime<Utc>,
) -> Result<Digest> {
    let conn = engine.db().conn();
    let project = repo::project::get(conn, rule.project_id).await?;
    let since = until - Duration::days(1);
    // A restricted-safe target sees every incident; any other, open ones only.
    let (visibilities, viewer) = if rule.restricted_safe {
        (vec![], Viewer::Everyone)
    } else {
        (vec![Visibility::Open], Viewer::OpenOnly)
    };
    let base = IncidentFilter {
        projects: vec![project.slug],
        visibilities,
        viewer,
        filter: Some(stored_filter(&rule.filter)),
        page: 1,
        per_page: 200,
        ..Default::default()
    };
    let active = repo::incident::list(
        conn,
        &IncidentFilter {
            statuses: vec![IncidentStatus::Active],
            ..base.clone()
        },
    )
    .await?
    .0;
    // Newest changes first: an incident that became stable or closed since `since` was
    // updated since then too.
    let settled = repo::incident::list(
        conn,
        &IncidentFilter {
            statuses: vec![IncidentStatus::Stable, IncidentStatus::Closed],
            sort: SortField::UpdatedAt,
            ..base
        },
    )
    .await?
    .0;
    let within = |t: Option<DateTime<Utc>>| t.is_some_and(|t| t > since && t <= until);
    Ok(Digest {
        active,
        stable: settled
            .iter()
            .filter(|r| r.status == "stable" && within(r.stable_at))
            .cloned()
            .collect(),
        closed: settled
            .iter()
            .filter(|r| r.status == "closed" && within(r.closed_at))
            .cloned()
            .collect(),
    })
}

fn lines(rows: &[IncidentRow]) -> String {
    rows.iter()
        .map(|r| {
            format!(
                "- {}: {} ({} priority, {} severity, IC {})",
                r.name, r.title, r.priority_name, r.severity_name, r.commander_email
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn message(d: &Digest, day: &str) -> RichMessage {
    let mut blocks = vec![Block::Header {
        text: format!("Incident digest for {day}"),
    }];
    for (title, rows) in [
        ("Active", &d.active),
        ("Became stable", &d.stable),
        ("Closed", &d.closed),
    ] {
        blocks.push(Block::Section {
            text: format!("{title} ({})", rows.len()),
        });
        if !rows.is_empty() {
            blocks.push(Block::Section { text: lines(rows) });
        }
    }
    RichMessage::new(blocks)
}

/// Sends a periodic message (a digest, a weekly report) to a notification rule's target under
/// `key` (one per rule and period): for e-mail, a job is added to `jobs` (to enqueue in one
/// transaction with the others); a conversation is posted to now, idempotently by the key.
pub(crate) async fn send_to_rule(
    engine: &Engine,
    rule: &notification_rule::Model,
    key: &str,
    subject: String,
    msg: &RichMessage,
    about: &[dispatch_core::IncidentId],
    jobs: &mut Vec<NewJob>,
) -> Result<(), JobFailure> {
    let conn = engine.db().conn();
    match rule.target_kind.as_str() {
        "email" => {
            let mail = dispatch_core::email::render(addresses(&rule.target), subject, msg);
            jobs.push(rule_email_job(
                key,
                None,
                dispatch_core::RuleId(rule.id),
                about,
                &mail,
                dispatch_core::now(),
            ));
        }
        "conversation" => {
            if let Some(room) = room_of(engine, conn, &rule.target).await? {
                let conversation = engine
                    .registry()
                    .conversation
                    .default_provider()
                    .cloned()
                    .ok_or_else(|| JobFailure("this server has no conversation provider".into()))?;
                conversation.post(&room, Some(key), msg).await?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The rules a periodic message goes to: enabled, with an e-mail or conversation target, and a
/// filter that can match (`project`: only that project's).
pub(crate) async fn periodic_targets(
    engine: &Engine,
    project: Option<i64>,
) -> Result<Vec<notification_rule::Model>> {
    let rules = repo::rules::list::<notification_rule::Model>(engine.db().conn(), project).await?;
    Ok(rules
        .into_iter()
        .filter(|r| r.enabled && r.target_kind != "webhook")
        .filter(|r| stored_filter(&r.filter) != Filter::Or(vec![]))
        .collect())
}

/// The `daily_digest` periodic job for the occurrence `until`.
pub(crate) async fn run(engine: &Engine, until: DateTime<Utc>) -> Result<(), JobFailure> {
    let day = until.format("%Y-%m-%d").to_string();
    let period = until.timestamp();
    let mut jobs = Vec::new();
    for rule in periodic_targets(engine, None).await? {
        let d = collect(engine, &rule, until).await?;
        if d.active.is_empty() && d.stable.is_empty() && d.closed.is_empty() {
            continue;
        }
        let about: Vec<dispatch_core::IncidentId> = [&d.active, &d.stable, &d.closed]
            .into_iter()
            .flatten()
            .map(|r| dispatch_core::IncidentId(r.id))
            .collect();
        send_to_rule(
            engine,
            &rule,
            &format!("digest:{}:{period}", rule.id),
            format!("Incident digest for {day}"),
            &message(&d, &day),
            &about,
            &mut jobs,
        )
        .await?;
    }
    let txn = engine.db().write().await?;
    repo::job::enqueue(&*txn, jobs).await?;
    txn.commit().await?;
    engine.wake_workers();
    Ok(())
}
