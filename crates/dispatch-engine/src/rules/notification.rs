//! Notification rules: a filter and a target — an incident room (`INC-7`, or `channel:<id>` for
//! a conversation provider's own id), e-mail addresses, or a webhook subscription. The `notify`
//! job sends the card of a new incident (after its resources exist, so the card has the links)
//! and a change summary after significant changes; subscribers get the summaries by mail.
//! A restricted incident reaches only targets marked restricted-safe.

use super::{stored_filter, subject, welcome};
use crate::flows::{email_job, rule_email_job};
use crate::incident::Events;
use crate::jobs::{complete_in, complete_without_incident, context, JobFailure};
use crate::{Engine, Result};
use chrono::SecondsFormat;
use dispatch_core::filter::Filter;
use dispatch_core::message::{Block, RichMessage};
use dispatch_core::values::{Email, IncidentRef};
use dispatch_core::{ValidationError, Visibility};
use dispatch_store::model::{job, notification_rule};
use dispatch_store::repo;
use dispatch_store::repo::incident::IncidentRow;
use dispatch_store::repo::job::NewJob;
use dispatch_store::repo::webhook::NewDelivery;
use dispatch_store::Conn;
use serde_json::{json, Value};

/// Where a notification rule sends.
pub const TARGET_KINDS: &[&str] = &["conversation", "email", "webhook"];

/// A notification rule as written by an admin, already parsed.
#[derive(Debug, Clone)]
pub struct NotificationRuleSpec {
    /// Project slug.
    pub project: String,
    /// Unique within the project.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Which incidents it matches.
    pub filter: Filter,
    /// `conversation`, `email` or `webhook`.
    pub target_kind: String,
    /// An incident key or `channel:<id>`; comma-separated addresses; a subscription id.
    pub target: String,
    /// Whether restricted incidents may reach the target.
    pub restricted_safe: bool,
    /// Off rules send nothing.
    pub enabled: bool,
}

/// A stored notification rule, decoded.
#[derive(Debug, Clone)]
pub struct NotificationRule {
    /// The row.
    pub row: notification_rule::Model,
    /// Its project's slug.
    pub project: String,
    /// Its filter.
    pub filter: Filter,
}

impl Engine {
    /// Notification rules, of one project (slug) or all.
    pub async fn notification_rules(&self, project: Option<&str>) -> Result<Vec<NotificationRule>> {
        let conn = self.db().conn();
        let projects = repo::project::list(conn).await?;
        let project_id = match project {
            Some(slug) => Some(self.project(slug).await?.id),
            None => None,
        };
        Ok(repo::rules::notification_rules(conn, project_id)
            .await?
            .into_iter()
            .map(|row| NotificationRule {
                project: projects
                    .iter()
                    .find(|p| p.id == row.project_id)
                    .map(|p| p.slug.clone())
                    .unwrap_or_default(),
                filter: stored_filter(&row.filter),
                row,
            })
            .collect())
    }

    /// One notification rule.
    pub async fn notification_rule(&self, id: i64) -> Result<NotificationRule> {
        let conn = self.db().conn();
        let row = repo::rules::notification_rule(conn, id).await?;
        let project = repo::project::get(conn, row.project_id).await?;
        Ok(NotificationRule {
            project: project.slug,
            filter: stored_filter(&row.filter),
            row,
        })
    }

    /// Creates (`id` = `None`) or replaces a notification rule, checking its target.
    pub async fn save_notification_rule(
        &self,
        id: Option<i64>,
        spec: NotificationRuleSpec,
    ) -> Result<NotificationRule> {
        let txn = self.db().write().await?;
        let conn = &*txn;
        let mut e = ValidationError::default();
        let project = repo::project::by_slug(conn, &spec.project).await?;
        if project.is_none() {
            e.push("project", format!("unknown project {:?}", spec.project));
        }
        let target = spec.target.trim().to_string();
        match spec.target_kind.as_str() {
            "email" => {
                let list = addresses(&target);
                if list.is_empty() {
                    e.push(
                        "target",
                        "give one or more e-mail addresses, comma-separated",
                    );
                }
                for a in list {
                    e.check(Email::parse("target", &a));
                }
            }
            "webhook" => match target.parse::<i64>() {
                Ok(id) if repo::webhook::find(conn, id).await?.is_some() => {}
                _ => e.push(
                    "target",
                    format!("{target:?} is not the id of a webhook subscription"),
                ),
            },
            "conversation" => {
                if target
                    .strip_prefix("channel:")
                    .is_some_and(|c| !c.is_empty())
                {
                } else if target.is_empty()
                    || repo::incident::find(conn, &IncidentRef::parse(&target))
                        .await?
                        .is_none()
                {
                    e.push(
                        "target",
                        format!("{target:?} is neither an incident (whose room is used) nor channel:<id>"),
                    );
                }
            }
            other => e.push(
                "target_kind",
                format!(
                    "unknown target kind {other:?}; known: {}",
                    TARGET_KINDS.join(", ")
                ),
            ),
        }
        e.into_result()?;
        let project = project.expect("checked");
        let now = dispatch_core::now();
        let before = match id {
            Some(id) => Some(repo::rules::notification_rule(conn, id).await?),
            None => None,
        };
        let mut row = match &before {
            Some(b) => b.clone(),
            None => notification_rule::Model {
                created_at: now,
                ..Default::default()
            },
        };
        row.project_id = project.id;
        row.name = spec.name;
        row.description = spec.description;
        row.filter = spec.filter.to_json().to_string();
        row.target_kind = spec.target_kind;
        row.target = target;
        row.restricted_safe = spec.restricted_safe;
        row.enabled = spec.enabled;
        row.updated_at = now;
        let saved = repo::rules::save_notification_rule(conn, before.as_ref(), row).await?;
        txn.commit().await?;
        Ok(NotificationRule {
            project: project.slug,
            filter: stored_filter(&saved.filter),
            row: saved,
        })
    }

    /// Deletes a notification rule.
    pub async fn delete_notification_rule(&self, id: i64) -> Result<()> {
        let txn = self.db().write().await?;
        repo::rules::notification_rule(&*txn, id).await?;
        repo::rules::delete_notification_rule(&*txn, id).await?;
        txn.commit().await?;
        Ok(())
    }
}

/// The addresses of an e-mail target.
pub(crate) fn addresses(target: &str) -> Vec<String> {
    target
        .split([',', ';', ' '])
        .map(|a| a.trim().to_lowercase())
        .filter(|a| !a.is_empty())
        .collect()
}

/// The enabled rules of the incident's project whose filter matches it and whose target may
/// hear of it (restricted incidents, and every incident of a members-only project:
/// restricted-safe targets only).
pub(crate) fn matching<'a>(
    rules: &'a [notification_rule::Model],
    row: &IncidentRow,
    members_only: bool,
    s: &dispatch_core::filter::FilterSubject,
) -> Vec<&'a notification_rule::Model> {
    let open = row.visibility == Visibility::Open.as_str() && !members_only;
    rules
        .iter()
        .filter(|r| may_hear(r, open))
        .filter(|r| stored_filter(&r.filter).matches(s))
        .collect()
}

/// Whether a rule's target may hear of incidents: the rule is on, and the incidents are open
/// to everyone (`open`) or the target is restricted-safe.
pub(crate) fn may_hear(rule: &notification_rule::Model, open: bool) -> bool {
    rule.enabled && (open || rule.restricted_safe)
}

/// The card about an incident: what, how bad, who commands, the links, and how to join.
pub(crate) async fn card(
    engine: &Engine,
    conn: &impl Conn,
    row: &IncidentRow,
) -> Result<RichMessage> {
    let ctx = context::load(conn, row.id, &engine.base_url()).await?;
    let project = repo::project::get(conn, row.project_id).await?;
    let mut description: String = row.description.chars().take(500).collect();
    if row.description.chars().count() > 500 {
        description.push('…');
    }
    let mut links = welcome::links(&ctx);
    let mut buttons = Vec::new();
    if project.allow_self_join
        && !project.members_only
        && row.visibility == Visibility::Open.as_str()
    {
        let base = format!("{}/api/v1/incidents/{}", ctx.base_url, row.name);
        links.push(("Join (POST)".into(), format!("{base}/join")));
        links.push(("Subscribe (POST)".into(), format!("{base}/subscribe")));
        // Where the transport has buttons (Slack), one press joins or subscribes.
        buttons.push((
            "Join".to_string(),
            format!("/dispatch-join-incident {}", row.name),
        ));
        buttons.push((
            "Subscribe".to_string(),
            format!("/dispatch-subscribe-incident {}", row.name),
        ));
    }
    let mut blocks = vec![
        Block::Header {
            text: format!("{}: {}", row.name, row.title),
        },
        Block::Section { text: description },
        Block::Fields {
            fields: vec![
                ("Type".into(), row.type_name.clone()),
                ("Severity".into(), row.severity_name.clone()),
                ("Priority".into(), row.priority_name.clone()),
                ("Status".into(), row.status.clone()),
                ("Commander".into(), row.commander_email.clone()),
                ("Reporter".into(), row.reporter_email.clone()),
            ],
        },
        Block::Links { links },
    ];
    if !buttons.is_empty() {
        blocks.push(Block::Buttons { buttons });
    }
    Ok(RichMessage::new(blocks))
}

/// The change summary: each significant field before and after.
fn summary(engine: &Engine, row: &IncidentRow, changes: &Value) -> RichMessage {
    let show = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        other => other.to_string(),
    };
    let fields = changes
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let text = match v.get("before") {
                        Some(b) => format!("{} → {}", show(b), show(&v["after"])),
                        None => show(&v["after"]),
                    };
                    (k.clone(), text)
                })
                .collect()
        })
        .unwrap_or_default();
    RichMessage::new(vec![
        Block::Header {
            text: format!("{} updated: {}", row.name, row.title),
        },
        Block::Fields { fields },
        Block::Links {
            links: vec![(
                "Open the incident".into(),
                format!("{}/api/v1/incidents/{}", engine.base_url(), row.name),
            )],
        },
    ])
}

/// The room a conversation target names: an incident's room (when ready), or a provider id.
pub(crate) async fn room_of(
    engine: &Engine,
    conn: &impl Conn,
    target: &str,
) -> Result<Option<String>, JobFailure> {
    if let Some(id) = target.strip_prefix("channel:") {
        return Ok(Some(id.to_string()));
    }
    let Some(inc) = repo::incident::find(conn, &IncidentRef::parse(target)).await? else {
        return Ok(None);
    };
    Ok(crate::jobs::conversation_of(engine, inc.id)
        .await?
        .flatten())
}

/// A webhook delivery of a notification to subscription `sub`, and its job.
fn webhook(
    sub: i64,
    message_id: String,
    event_type: &str,
    data: Value,
    incident_id: i64,
) -> (NewDelivery, NewJob) {
    let now = dispatch_core::now();
    let body = json!({
        "type": event_type,
        "timestamp": now.to_rfc3339_opts(SecondsFormat::Micros, true),
        "data": data,
    });
    (
        NewDelivery {
            subscription_id: sub,
            message_id: message_id.clone(),
            event_type: event_type.into(),
            payload: body.to_string(),
        },
        crate::flows::webhook_job(incident_id, sub, &message_id, now),
    )
}

/// The `notify` job: the card (`what` = `created`) or a change summary (`updated`) to every
/// matching target, and summaries to the subscribers.
pub(crate) async fn run(
    engine: &Engine,
    job: &job::Model,
    incident_id: i64,
    payload: dispatch_core::job::Notify,
) -> Result<(), JobFailure> {
    let conn = engine.db().conn();
    let (row, s) = subject(conn, incident_id).await?;
    let created = payload.what == dispatch_core::job::NotifyWhat::Created;
    let key = payload.key.clone();
    let rules = repo::rules::notification_rules(conn, Some(row.project_id)).await?;
    let targets = matching(&rules, &row, row.project_members_only, &s);
    let subscribers = if created {
        Vec::new()
    } else {
        repo::rules::subscribers(conn, incident_id).await?
    };
    if targets.is_empty() && subscribers.is_empty() {
        // No one to tell: done without building the message (the declare saga runs beside).
        return complete_without_incident(engine, job).await;
    }
    let message = if created {
        card(engine, conn, &row).await?
    } else {
        summary(
            engine,
            &row,
            payload.changes.as_ref().unwrap_or(&Value::Null),
        )
    };
    let subject_line = if created {
        format!("[{}] New incident: {}", row.name, row.title)
    } else {
        format!("[{}] Updated: {}", row.name, row.title)
    };
    let now = dispatch_core::now();
    let mut events = Events::system(now);
    let mut deliveries = Vec::new();
    let mut notified = Vec::new();
    for rule in targets {
        let unique = format!("notify:{}:{incident_id}:{key}", rule.id);
        match rule.target_kind.as_str() {
            "email" => {
                let mail = dispatch_core::email::render(
                    addresses(&rule.target),
                    subject_line.clone(),
                    &message,
                );
                events.job(rule_email_job(
                    &unique,
                    Some(incident_id),
                    rule.id,
                    &[incident_id],
                    &mail,
                    now,
                ));
            }
            "conversation" => {
                let Some(room) = room_of(engine, conn, &rule.target).await? else {
                    tracing::warn!(rule.id = rule.id, target = %rule.target, "the notification room is not there; skipped");
                    continue;
                };
                let p = engine.providers_of_incident(incident_id).await?;
                p.conversation.post(&room, Some(&unique), &message).await?;
            }
            "webhook" => {
                let Ok(sub) = rule.target.parse::<i64>() else {
                    continue;
                };
                let data = json!({
                    "rule": rule.name,
                    "what": if created { "created" } else { "updated" },
                    "incident": {
                        "id": row.id, "name": row.name, "title": row.title,
                        "description": row.description, "status": row.status,
                        "visibility": row.visibility, "type": row.type_name,
                        "priority": row.priority_name, "severity": row.severity_name,
                        "commander": row.commander_email, "project": row.project_slug,
                    },
                    "changes": payload.changes,
                    "text": dispatch_core::message::render_text(&message.blocks),
                });
                let id = format!("msg_notify_{}_{incident_id}_{key}", rule.id);
                let (d, j) = webhook(sub, id, "incident.notification", data, incident_id);
                deliveries.push(d);
                events.job(j);
            }
            _ => continue,
        }
        notified.push(rule.name.clone());
    }
    if !created {
        for sub in subscribers {
            let mail = dispatch_core::email::render(
                vec![sub.email.clone()],
                subject_line.clone(),
                &message,
            );
            events.job(email_job(
                &format!("subscriber:{incident_id}:{}:{key}", sub.email),
                Some(incident_id),
                &mail,
                now,
            ));
        }
    }
    if !notified.is_empty() {
        events.push(
            "notification_sent",
            format!(
                "{} sent to {} notification target(s): {}",
                if created {
                    "the incident card was"
                } else {
                    "a change summary was"
                },
                notified.len(),
                notified.join(", ")
            ),
            json!({"what": if created { "created" } else { "updated" }, "rules": notified}),
        );
    }
    let txn = engine.db().write().await?;
    repo::webhook::add_deliveries(&*txn, deliveries, now).await?;
    complete_in(&txn, job, incident_id, events).await?;
    txn.commit().await?;
    engine.wake_workers();
    Ok(())
}
