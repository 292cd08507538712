//! Notification rules: a filter and a target — an incident room (`INC-7`, or `channel:<id>` for
//! a conversation provider's own id), e-mail addresses, or a webhook subscription. The `notify`
//! job sends the card of a new incident (after its resources exist, so the card has the links)
//! and a change summary after significant changes; subscribers get the summaries by mail.
//! A restricted incident reaches only targets marked restricted-safe.

use super::{subject, welcome, Rule, RuleSpec, Targets};
use crate::changes::Events;
use crate::flows::{email_job, rule_email_job};
use crate::jobs::context;
use crate::jobs::outcome::{complete_in, complete_without_incident, JobFailure};
use crate::{Engine, Result};
use chrono::SecondsFormat;
use dispatch_core::event::TimelineEvent;
use dispatch_core::message::{Block, RichMessage};
use dispatch_core::values::{Email, IncidentRef};
use dispatch_core::{ValidationError, Visibility};
use dispatch_store::model::{job, notification_rule, project};
use dispatch_store::repo;
use dispatch_store::repo::incident::IncidentRow;
use dispatch_store::repo::job::NewJob;
use dispatch_store::repo::webhook::NewDelivery;
use dispatch_store::Conn;
use serde_json::{json, Value};

/// Where a notification rule sends.
pub const TARGET_KINDS: &[&str] = &["conversation", "email", "webhook"];

/// Where a notification rule sends.
#[derive(Debug, Clone, Default)]
pub struct NotificationTarget {
    /// `conversation`, `email` or `webhook`.
    pub target_kind: String,
    /// An incident key or `channel:<id>`; comma-separated addresses; a subscription id.
    pub target: String,
    /// Whether restricted incidents may reach the target.
    pub restricted_safe: bool,
}

/// A notification rule as written by an admin, already parsed.
pub type NotificationRuleSpec = RuleSpec<NotificationTarget>;

/// A stored notification rule, decoded.
pub type NotificationRule = Rule<NotificationTarget>;

impl Targets for NotificationTarget {
    type Row = notification_rule::Model;

    fn read(row: &notification_rule::Model) -> Self {
        Self {
            target_kind: row.target_kind.clone(),
            target: row.target.clone(),
            restricted_safe: row.restricted_safe,
        }
    }

    /// The target must exist: addresses that read, a webhook subscription, an incident or a
    /// provider's channel id.
    async fn check(
        &mut self,
        conn: &impl Conn,
        _project: Option<&project::Model>,
        e: &mut ValidationError,
    ) -> Result<()> {
        self.target = self.target.trim().to_string();
        let target = &self.target;
        match self.target_kind.as_str() {
            "email" => {
                let list = addresses(target);
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
                    || repo::incident::find(conn, &IncidentRef::parse(target))
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
        Ok(())
    }

    fn write(self, row: &mut notification_rule::Model) {
        row.target_kind = self.target_kind;
        row.target = self.target;
        row.restricted_safe = self.restricted_safe;
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
    super::matching(rules, s, |r| open || r.restricted_safe)
}

/// Whether a rule's target may hear of incidents: the rule is on, and the incidents are open
/// to everyone (`open`) or the target is restricted-safe.
pub(crate) fn may_hear(rule: &notification_rule::Model, open: bool) -> bool {
    rule.enabled && (open || rule.restricted_safe)
}

/// Rule `rule_id` as it is now, when it is on and may hear of every incident in `about` (a
/// deleted rule's target hears nothing more).
pub(crate) async fn rule_may_hear(
    conn: &impl Conn,
    rule_id: i64,
    about: &[i64],
) -> Result<Option<notification_rule::Model>> {
    let mut about = about.to_vec();
    about.sort_unstable();
    about.dedup();
    let rule = match repo::rules::get::<notification_rule::Model>(conn, rule_id).await {
        Ok(rule) => rule,
        Err(dispatch_store::StoreError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let open = repo::incident::count_visible(conn, repo::incident::Viewer::OpenOnly, &about)
        .await?
        == about.len() as u64;
    Ok(may_hear(&rule, open).then_some(rule))
}

/// The `post_to_target` job: a report posted to a notification rule's conversation target,
/// once per key, if the rule may still hear of the incident.
pub(crate) async fn post(
    engine: &Engine,
    job: &job::Model,
    incident_id: i64,
    p: dispatch_core::job::PostToTarget,
) -> Result<(), JobFailure> {
    let conn = engine.db().conn();
    match rule_may_hear(conn, p.rule_id, &[incident_id]).await? {
        Some(rule) => match room_of(engine, conn, &rule.target).await? {
            Some(room) => {
                let providers = engine.providers_of_incident(incident_id).await?;
                providers
                    .conversation
                    .post(&room, Some(&p.key), &p.message)
                    .await?;
            }
            None => {
                tracing::warn!(rule.id = rule.id, target = %rule.target, "the notification room is not there; skipped")
            }
        },
        None => tracing::info!(
            rule.id = p.rule_id,
            "the rule is off, gone or may no longer hear of the incident; not posted"
        ),
    }
    complete_without_incident(engine, job).await
}

/// The card about an incident: what, how bad, who commands, the links, and how to join.
pub(crate) async fn card(
    engine: &Engine,
    conn: &impl Conn,
    row: &IncidentRow,
) -> Result<RichMessage> {
    let ctx = context::load(engine, row.id).await?;
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
        // The incident's page has the Join and Subscribe buttons.
        let page = dispatch_core::links::incident(&ctx.base_url, &row.name);
        links.push(("Join or subscribe".into(), format!("{page}#participants-h")));
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
                dispatch_core::links::incident(&engine.base_url(), &row.name),
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
    Ok(crate::jobs::context::conversation_of(engine, inc.id)
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
        crate::flows::webhook_job(
            dispatch_core::IncidentId(incident_id),
            dispatch_core::WebhookId(sub),
            &message_id,
            now,
        ),
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
    let id = dispatch_core::IncidentId(incident_id);
    let key = payload.key.clone();
    let rules = repo::rules::list(conn, Some(row.project_id)).await?;
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
                let mut mail = dispatch_core::email::render(
                    addresses(&rule.target),
                    subject_line.clone(),
                    &message,
                );
                mail.thread = Some(crate::flows::incident_thread(id));
                events.job(rule_email_job(
                    &unique,
                    Some(dispatch_core::IncidentId(incident_id)),
                    dispatch_core::RuleId(rule.id),
                    &[dispatch_core::IncidentId(incident_id)],
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
            let mut mail = dispatch_core::email::render(
                vec![sub.email.clone()],
                subject_line.clone(),
                &message,
            );
            mail.thread = Some(crate::flows::incident_thread(id));
            mail.unsubscribe = Some(crate::stakeholders::unsubscribe_link(
                engine, id, &sub.email,
            ));
            events.job(email_job(
                &format!("subscriber:{incident_id}:{}:{key}", sub.email),
                Some(dispatch_core::IncidentId(incident_id)),
                &mail,
                now,
            ));
        }
    }
    if !notified.is_empty() {
        events.push_event(TimelineEvent::NotificationSent {
            what: if created { "created" } else { "updated" }.to_string(),
            rules: notified.clone(),
        });
    }
    let txn = engine.db().write().await?;
    repo::webhook::add_deliveries(&*txn, deliveries, now).await?;
    complete_in(&txn, job, incident_id, events).await?;
    txn.commit().await?;
    engine.wake_workers();
    Ok(())
}
