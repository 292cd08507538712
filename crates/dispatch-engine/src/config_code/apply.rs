//! Applying a document: validated whole first (every error names the object and field), then
//! written in one transaction — projects, then each project's lists in dependency order, then
//! (with `prune`) the deletions in reverse order, then the webhooks.

use super::export::{load, ProjectRows};
use super::plan::{diff, Plan};
use super::*;
use crate::{Engine, Error, Result};
use chrono::{DateTime, Utc};
use dispatch_core::filter::Filter;
use dispatch_core::{ParticipantRole, ValidationError};
use dispatch_store::model::{
    engagement_rule, incident_priority, incident_severity, incident_type, notification_rule,
    project, role_policy, service, signal_definition, signal_filter, tag, tag_type, team,
    webhook_subscription,
};
use dispatch_store::repo::rows::Keyed;
use dispatch_store::repo::{self, rows};
use dispatch_store::Conn;
use dispatch_store::Record;
use std::collections::{HashMap, HashSet};

/// Checks a document whole; the error lists every bad field as `projects[slug].list[key].field`.
pub(crate) fn validate(doc: &Document) -> Result<()> {
    let mut e = ValidationError::default();
    let mut slugs = HashSet::new();
    let mut prefixes = HashSet::new();
    if doc.projects.iter().filter(|p| p.default).count() > 1 {
        e.push("projects[].default", "only one project can be the default");
    }
    for p in &doc.projects {
        let at = format!("projects[{}]", p.slug);
        if p.slug.trim().is_empty() {
            e.push(format!("{at}.slug"), "must not be empty");
        }
        if !slugs.insert(p.slug.clone()) {
            e.push(format!("{at}.slug"), "appears twice");
        }
        if p.name.trim().is_empty() {
            e.push(format!("{at}.name"), "must not be empty");
        }
        if p.key_prefix.trim().is_empty() {
            e.push(format!("{at}.key_prefix"), "must not be empty");
        } else if !prefixes.insert(p.key_prefix.clone()) {
            e.push(
                format!("{at}.key_prefix"),
                "another project of the file has it",
            );
        }
        check_project(&mut e, &at, p);
    }
    let mut urls = HashSet::new();
    for w in doc.webhooks.iter().flatten() {
        let at = format!("webhooks[{}]", w.url);
        if !(w.url.starts_with("https://") || w.url.starts_with("http://")) {
            e.push(format!("{at}.url"), "must be an http(s) URL");
        }
        if !urls.insert(w.url.clone()) {
            e.push(format!("{at}.url"), "appears twice");
        }
    }
    Ok(e.into_result()?)
}

/// Checks that keys are unique and not empty, at most one entry is the default, and every
/// name it refers to is in the project.
fn unique<'a>(
    e: &mut ValidationError,
    at: &str,
    list: &str,
    keys: impl Iterator<Item = (&'a str, bool)>,
) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut defaults = 0;
    for (k, default) in keys {
        if k.trim().is_empty() {
            e.push(
                format!("{at}.{list}[]"),
                "an entry has an empty slug or name",
            );
        } else if !seen.insert(k.to_string()) {
            e.push(format!("{at}.{list}[{k}]"), "appears twice");
        }
        defaults += default as usize;
    }
    if defaults > 1 {
        e.push(format!("{at}.{list}"), "only one entry can be the default");
    }
    seen
}

fn check_project(e: &mut ValidationError, at: &str, p: &ProjectDoc) {
    let types = unique(
        e,
        at,
        "incident_types",
        p.incident_types
            .iter()
            .map(|t| (t.slug.as_str(), t.default)),
    );
    let priorities = unique(
        e,
        at,
        "incident_priorities",
        p.incident_priorities
            .iter()
            .map(|t| (t.slug.as_str(), t.default)),
    );
    unique(
        e,
        at,
        "incident_severities",
        p.incident_severities
            .iter()
            .map(|t| (t.slug.as_str(), t.default)),
    );
    let tag_types = unique(
        e,
        at,
        "tag_types",
        p.tag_types.iter().map(|t| (t.name.as_str(), false)),
    );
    let tags = unique(
        e,
        at,
        "tags",
        p.tags.iter().map(|t| (t.name.as_str(), false)),
    );
    let teams = unique(
        e,
        at,
        "teams",
        p.teams.iter().map(|t| (t.name.as_str(), false)),
    );
    let services = unique(
        e,
        at,
        "services",
        p.services.iter().map(|t| (t.name.as_str(), false)),
    );
    unique(
        e,
        at,
        "notification_rules",
        p.notification_rules
            .iter()
            .map(|t| (t.name.as_str(), false)),
    );
    unique(
        e,
        at,
        "engagement_rules",
        p.engagement_rules.iter().map(|t| (t.name.as_str(), false)),
    );
    unique(
        e,
        at,
        "signal_definitions",
        p.signal_definitions
            .iter()
            .map(|t| (t.name.as_str(), false)),
    );
    unique(
        e,
        at,
        "signal_filters",
        p.signal_filters.iter().map(|t| (t.name.as_str(), false)),
    );
    let keys: Vec<String> = p.role_policies.iter().map(RolePolicyDoc::key).collect();
    unique(
        e,
        at,
        "role_policies",
        keys.iter().map(|k| (k.as_str(), false)),
    );
    let mut refers = |field: String, name: &Option<String>, known: &HashSet<String>, what: &str| {
        if let Some(n) = name {
            if !known.contains(n) {
                e.push(
                    field,
                    format!("{n:?} is not one of the project's {what} in the file"),
                );
            }
        }
    };
    refers(
        format!("{at}.stable_priority"),
        &p.stable_priority,
        &priorities,
        "incident_priorities",
    );
    for t in &p.tags {
        refers(
            format!("{at}.tags[{}].tag_type", t.name),
            &t.tag_type,
            &tag_types,
            "tag_types",
        );
    }
    for r in &p.role_policies {
        let k = format!("{at}.role_policies[{}]", r.key());
        refers(
            format!("{k}.incident_type"),
            &r.incident_type,
            &types,
            "incident_types",
        );
        refers(
            format!("{k}.priority"),
            &r.priority,
            &priorities,
            "incident_priorities",
        );
        refers(format!("{k}.tag"), &r.tag, &tags, "tags");
        refers(format!("{k}.service"), &r.service, &services, "services");
    }
    for d in &p.signal_definitions {
        refers(
            format!("{at}.signal_definitions[{}].service", d.name),
            &d.service,
            &services,
            "services",
        );
    }
    for r in &p.engagement_rules {
        for t in &r.teams {
            refers(
                format!("{at}.engagement_rules[{}].teams", r.name),
                &Some(t.clone()),
                &teams,
                "teams",
            );
        }
        for s in &r.services {
            refers(
                format!("{at}.engagement_rules[{}].services", r.name),
                &Some(s.clone()),
                &services,
                "services",
            );
        }
    }
    for t in &p.incident_types {
        if !["open", "restricted"].contains(&t.default_visibility.as_str()) {
            e.push(
                format!("{at}.incident_types[{}].default_visibility", t.slug),
                "must be open or restricted",
            );
        }
    }
    for r in &p.role_policies {
        if r.role.parse::<ParticipantRole>().is_err() {
            e.push(
                format!("{at}.role_policies[{}].role", r.key()),
                "must be incident_commander, liaison or scribe",
            );
        }
    }
    for n in &p.notification_rules {
        if let Err(m) = Filter::parse(&n.filter) {
            e.push(
                format!("{at}.notification_rules[{}].filter", n.name),
                m.to_string(),
            );
        }
        if !["conversation", "email", "webhook"].contains(&n.target_kind.as_str()) {
            e.push(
                format!("{at}.notification_rules[{}].target_kind", n.name),
                "must be conversation, email or webhook",
            );
        }
    }
    for r in &p.engagement_rules {
        if let Err(m) = Filter::parse(&r.filter) {
            e.push(
                format!("{at}.engagement_rules[{}].filter", r.name),
                m.to_string(),
            );
        }
    }
}

/// Applies `doc`: validates it, then writes the changes in one transaction. Returns the plan
/// it carried out.
pub async fn apply(engine: &Engine, doc: &Document, prune: bool) -> Result<Plan> {
    validate(doc)?;
    let db = engine.db();
    let mut doc = doc.clone();
    doc.sort();
    let txn = db.write().await?;
    let conn = &*txn;
    let now = dispatch_core::now();
    let before = current(conn).await?;
    let plan = diff(&before, &doc, prune);
    let taken: HashMap<String, String> = repo::project::list(conn)
        .await?
        .into_iter()
        .map(|p| (p.key_prefix, p.slug))
        .collect();
    for p in &doc.projects {
        if let Some(other) = taken.get(&p.key_prefix).filter(|s| **s != p.slug) {
            if !doc.projects.iter().any(|q| q.slug == *other) {
                return Err(ValidationError::field(
                    format!("projects[{}].key_prefix", p.slug),
                    format!("project {other:?} uses {:?}", p.key_prefix),
                )
                .into());
            }
        }
    }
    let mut default_project = None;
    for p in &doc.projects {
        let id = write_project(conn, p, prune, now).await?;
        if p.default {
            default_project = Some(id);
        }
    }
    if let Some(id) = default_project {
        repo::project::set_default(conn, id).await?;
    }
    if let Some(hooks) = &doc.webhooks {
        let seal = |plain: &str| engine.seal_webhook_secret(plain);
        write_webhooks(conn, hooks, prune, now, &seal).await?;
    }
    txn.commit().await?;
    Ok(plan)
}

/// The database's configuration, read in the transaction.
async fn current(conn: &impl Conn) -> Result<Document> {
    let mut doc = Document::default();
    for p in repo::project::list(conn).await? {
        doc.projects
            .push(super::export::to_doc(&load(conn, p).await?));
    }
    let hooks = repo::webhook::list(conn).await?;
    doc.webhooks = Some(hooks.iter().map(super::export::webhook_doc).collect());
    doc.sort();
    Ok(doc)
}

/// Inserts `after`, or saves it over `before` when they differ.
async fn save<R: Record + PartialEq>(conn: &impl Conn, before: Option<&R>, after: R) -> Result<R> {
    Ok(match before {
        None => rows::insert(conn, after).await?,
        Some(b) if *b == after => after,
        Some(b) => rows::update(conn, b, after).await?,
    })
}

/// Writes one list: each entry inserted or updated by key; returns key → id of the entries,
/// and the ids of the rows the file does not have.
async fn sync<M, D>(
    conn: &impl Conn,
    existing: &[M],
    row_key: impl Fn(&M) -> String,
    id: impl Fn(&M) -> i64,
    docs: &[D],
    doc_key: impl Fn(&D) -> String,
    build: impl Fn(Option<&M>, &D) -> M,
) -> Result<(HashMap<String, i64>, Vec<i64>)>
where
    M: Record + PartialEq,
{
    let mut ids = HashMap::new();
    for d in docs {
        let key = doc_key(d);
        let before = existing.iter().find(|m| row_key(m) == key);
        let saved = save(conn, before, build(before, d)).await?;
        ids.insert(key, id(&saved));
    }
    let gone = existing
        .iter()
        .filter(|m| !ids.contains_key(&row_key(m)))
        .map(&id)
        .collect();
    Ok((ids, gone))
}

/// Deletes rows the file no longer has; a row still in use (e.g. a priority incidents have) is
/// an error naming it.
async fn prune_rows<M: Keyed>(
    conn: &impl Conn,
    what: &str,
    project: &str,
    ids: &[i64],
) -> Result<()> {
    for id in ids {
        rows::delete::<M>(conn, *id).await.map_err(|e| {
            Error::Conflict(format!(
                "projects[{project}].{what}: cannot delete a row the file no longer has (id {id}), it is still in use: {e}"
            ))
        })?;
    }
    Ok(())
}

fn json(v: &impl Serialize) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn touch<T>(
    before: Option<&T>,
    after: &T,
    same: impl Fn(&T, &T) -> bool,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match before {
        Some(b) if same(b, after) => None,
        _ => Some(now),
    }
}

async fn write_project(
    conn: &impl Conn,
    p: &ProjectDoc,
    prune: bool,
    now: DateTime<Utc>,
) -> Result<i64> {
    let existing = repo::project::by_slug(conn, &p.slug).await?;
    let base = existing.clone().unwrap_or_else(|| project::Model {
        slug: p.slug.clone(),
        created_at: now,
        ..repo::project::new_row()
    });
    let row = project::Model {
        name: p.name.clone(),
        key_prefix: p.key_prefix.clone(),
        description: p.description.clone(),
        allow_self_join: p.allow_self_join,
        members_only: p.members_only,
        timeline_emoji: p.timeline_emoji.clone(),
        observer_promotion_messages: p.observer_promotion_messages,
        providers: json(&p.providers),
        provider_settings: json(&p.provider_settings),
        is_default: base.is_default,
        ..base
    };
    let saved = save(conn, existing.as_ref(), row).await?;
    let pid = saved.id;
    let rows_now: ProjectRows = load(conn, saved.clone()).await?;
    let slug = p.slug.as_str();

    let (types, gone_types) = sync(
        conn,
        &rows_now.types,
        |m| m.slug.clone(),
        |m| m.id,
        &p.incident_types,
        |d| d.slug.clone(),
        |b, d| incident_type::Model {
            slug: d.slug.clone(),
            name: d.name.clone(),
            description: d.description.clone(),
            default_visibility: d.default_visibility.clone(),
            is_default: d.default,
            enabled: d.enabled,
            exclude_from_metrics: d.exclude_from_metrics,
            exclude_from_reminders: d.exclude_from_reminders,
            exclude_from_review: d.exclude_from_review,
            view_order: d.view_order,
            incident_template: d.incident_template.clone(),
            review_template: d.review_template.clone(),
            executive_template: d.executive_template.clone(),
            ..b.cloned().unwrap_or_else(|| incident_type::Model {
                project_id: pid,
                created_at: now,
                ..Default::default()
            })
        },
    )
    .await?;
    let (priorities, gone_priorities) = sync(
        conn,
        &rows_now.priorities,
        |m| m.slug.clone(),
        |m| m.id,
        &p.incident_priorities,
        |d| d.slug.clone(),
        |b, d| incident_priority::Model {
            slug: d.slug.clone(),
            name: d.name.clone(),
            description: d.description.clone(),
            color: d.color.clone(),
            is_default: d.default,
            enabled: d.enabled,
            page_commander: d.page_commander,
            tactical_report_reminder_hours: d.tactical_report_reminder_hours,
            executive_report_reminder_hours: d.executive_report_reminder_hours,
            view_order: d.view_order,
            ..b.cloned().unwrap_or_else(|| incident_priority::Model {
                project_id: pid,
                created_at: now,
                ..Default::default()
            })
        },
    )
    .await?;
    let (_, gone_severities) = sync(
        conn,
        &rows_now.severities,
        |m| m.slug.clone(),
        |m| m.id,
        &p.incident_severities,
        |d| d.slug.clone(),
        |b, d| incident_severity::Model {
            slug: d.slug.clone(),
            name: d.name.clone(),
            description: d.description.clone(),
            color: d.color.clone(),
            is_default: d.default,
            enabled: d.enabled,
            allowed_for_stable: d.allowed_for_stable,
            view_order: d.view_order,
            ..b.cloned().unwrap_or_else(|| incident_severity::Model {
                project_id: pid,
                created_at: now,
                ..Default::default()
            })
        },
    )
    .await?;
    let stable = p
        .stable_priority
        .as_ref()
        .and_then(|s| priorities.get(s))
        .copied();
    if saved.stable_priority_id != stable {
        repo::project::update(
            conn,
            &saved,
            project::Model {
                stable_priority_id: stable,
                ..saved.clone()
            },
        )
        .await?;
    }
    let (tag_types, gone_tag_types) = sync(
        conn,
        &rows_now.tag_types,
        |m| m.name.clone(),
        |m| m.id,
        &p.tag_types,
        |d| d.name.clone(),
        |b, d| tag_type::Model {
            name: d.name.clone(),
            description: d.description.clone(),
            exclusive: d.exclusive,
            required: d.required,
            ..b.cloned().unwrap_or_else(|| tag_type::Model {
                project_id: pid,
                created_at: now,
                ..Default::default()
            })
        },
    )
    .await?;
    let (tags, gone_tags) = sync(
        conn,
        &rows_now.tags,
        |m| m.name.clone(),
        |m| m.id,
        &p.tags,
        |d| d.name.clone(),
        |b, d| tag::Model {
            name: d.name.clone(),
            description: d.description.clone(),
            tag_type_id: d.tag_type.as_ref().and_then(|t| tag_types.get(t)).copied(),
            ..b.cloned().unwrap_or_else(|| tag::Model {
                project_id: pid,
                created_at: now,
                ..Default::default()
            })
        },
    )
    .await?;
    let (teams, gone_teams) = sync(
        conn,
        &rows_now.teams,
        |m| m.name.clone(),
        |m| m.id,
        &p.teams,
        |d| d.name.clone(),
        |b, d| team::Model {
            name: d.name.clone(),
            email: d.email.clone(),
            description: d.description.clone(),
            ..b.cloned().unwrap_or_else(|| team::Model {
                project_id: pid,
                created_at: now,
                ..Default::default()
            })
        },
    )
    .await?;
    let (services, gone_services) = sync(
        conn,
        &rows_now.services,
        |m| m.name.clone(),
        |m| m.id,
        &p.services,
        |d| d.name.clone(),
        |b, d| service::Model {
            name: d.name.clone(),
            provider: d.provider.clone(),
            external_id: d.external_id.clone(),
            description: d.description.clone(),
            is_active: d.active,
            ..b.cloned().unwrap_or_else(|| service::Model {
                project_id: pid,
                created_at: now,
                ..Default::default()
            })
        },
    )
    .await?;
    let policy_keys: HashMap<i64, String> = rows_now
        .policies
        .iter()
        .map(|m| {
            let name = |id: Option<i64>, list: &HashMap<String, i64>| {
                id.and_then(|i| list.iter().find(|(_, v)| **v == i).map(|(k, _)| k.clone()))
            };
            let d = RolePolicyDoc {
                role: m.role.clone(),
                incident_type: name(m.type_id, &types),
                priority: name(m.priority_id, &priorities),
                tag: name(m.tag_id, &tags),
                service: name(m.service_id, &services),
                email: m.email.clone(),
                order: m.view_order,
                enabled: m.enabled,
            };
            (m.id, d.key())
        })
        .collect();
    let (_, gone_policies) = sync(
        conn,
        &rows_now.policies,
        |m| policy_keys.get(&m.id).cloned().unwrap_or_default(),
        |m| m.id,
        &p.role_policies,
        RolePolicyDoc::key,
        |b, d| role_policy::Model {
            role: d.role.clone(),
            type_id: d.incident_type.as_ref().and_then(|t| types.get(t)).copied(),
            priority_id: d.priority.as_ref().and_then(|t| priorities.get(t)).copied(),
            tag_id: d.tag.as_ref().and_then(|t| tags.get(t)).copied(),
            service_id: d.service.as_ref().and_then(|t| services.get(t)).copied(),
            email: d.email.clone(),
            view_order: d.order,
            enabled: d.enabled,
            ..b.cloned().unwrap_or_else(|| role_policy::Model {
                project_id: pid,
                created_at: now,
                ..Default::default()
            })
        },
    )
    .await?;
    let stored_filter = |text: &str| {
        Filter::parse(text)
            .map(|f| f.normalized().to_json().to_string())
            .unwrap_or_default()
    };
    let (_, gone_notifications) = sync(
        conn,
        &rows_now.notification_rules,
        |m| m.name.clone(),
        |m| m.id,
        &p.notification_rules,
        |d| d.name.clone(),
        |b, d| {
            let base = b.cloned().unwrap_or_else(|| notification_rule::Model {
                project_id: pid,
                created_at: now,
                updated_at: now,
                ..Default::default()
            });
            let mut row = notification_rule::Model {
                name: d.name.clone(),
                description: d.description.clone(),
                filter: keep_filter(b.map(|x| x.filter.as_str()), &d.filter, &stored_filter),
                target_kind: d.target_kind.clone(),
                target: d.target.clone(),
                restricted_safe: d.restricted_safe,
                enabled: d.enabled,
                ..base
            };
            if let Some(t) = touch(b, &row, |x, y| x == y, now) {
                row.updated_at = t;
            }
            row
        },
    )
    .await?;
    let ids_of = |names: &[String], list: &HashMap<String, i64>| -> String {
        let mut ids: Vec<i64> = names.iter().filter_map(|n| list.get(n)).copied().collect();
        ids.sort();
        json(&ids)
    };
    let (_, gone_engagement) = sync(
        conn,
        &rows_now.engagement_rules,
        |m| m.name.clone(),
        |m| m.id,
        &p.engagement_rules,
        |d| d.name.clone(),
        |b, d| {
            let base = b.cloned().unwrap_or_else(|| engagement_rule::Model {
                project_id: pid,
                created_at: now,
                updated_at: now,
                ..Default::default()
            });
            let mut row = engagement_rule::Model {
                name: d.name.clone(),
                description: d.description.clone(),
                filter: keep_filter(b.map(|x| x.filter.as_str()), &d.filter, &stored_filter),
                individuals: keep_json(b.map(|x| x.individuals.as_str()), &d.individuals),
                teams: ids_of(&d.teams, &teams),
                services: ids_of(&d.services, &services),
                documents: keep_json(b.map(|x| x.documents.as_str()), &d.documents),
                enabled: d.enabled,
                ..base
            };
            if let Some(t) = touch(b, &row, |x, y| x == y, now) {
                row.updated_at = t;
            }
            row
        },
    )
    .await?;
    let (_, gone_definitions) = sync(
        conn,
        &rows_now.definitions,
        |m| m.name.clone(),
        |m| m.id,
        &p.signal_definitions,
        |d| d.name.clone(),
        |b, d| {
            let base = b.cloned().unwrap_or_else(|| signal_definition::Model {
                project_id: pid,
                created_at: now,
                updated_at: now,
                ..Default::default()
            });
            let mut row = signal_definition::Model {
                name: d.name.clone(),
                description: d.description.clone(),
                owner: d.owner.clone(),
                runbook_url: d.runbook_url.clone(),
                source: d.source.clone(),
                matcher: d.matcher.clone(),
                enabled: d.enabled,
                create_case: d.create_case,
                case_type: d.case_type.clone(),
                case_priority: d.case_priority.clone(),
                case_severity: d.case_severity.clone(),
                service_id: d.service.as_ref().and_then(|s| services.get(s)).copied(),
                conversation_target: d.conversation_target.clone(),
                tags: keep_json(b.map(|x| x.tags.as_str()), &d.tags),
                entity_types: keep_json(b.map(|x| x.entity_types.as_str()), &d.entity_types),
                fields: keep_json(b.map(|x| x.fields.as_str()), &d.fields),
                dedup_window_seconds: d.dedup_window_seconds,
                ..base
            };
            if let Some(t) = touch(b, &row, |x, y| x == y, now) {
                row.updated_at = t;
            }
            row
        },
    )
    .await?;
    let (_, gone_filters) = sync(
        conn,
        &rows_now.filters,
        |m| m.name.clone(),
        |m| m.id,
        &p.signal_filters,
        |d| d.name.clone(),
        |b, d| {
            let base = b.cloned().unwrap_or_else(|| signal_filter::Model {
                project_id: pid,
                created_at: now,
                updated_at: now,
                ..Default::default()
            });
            let mut row = signal_filter::Model {
                name: d.name.clone(),
                description: d.description.clone(),
                kind: d.kind.clone(),
                expression: d.expression.clone(),
                mode: d.mode.clone(),
                expires_at: d.expires_at,
                window_seconds: d.window_seconds,
                ..base
            };
            if let Some(t) = touch(b, &row, |x, y| x == y, now) {
                row.updated_at = t;
            }
            row
        },
    )
    .await?;
    if prune {
        prune_rows::<signal_filter::Model>(conn, "signal_filters", slug, &gone_filters).await?;
        prune_rows::<signal_definition::Model>(conn, "signal_definitions", slug, &gone_definitions)
            .await?;
        prune_rows::<engagement_rule::Model>(conn, "engagement_rules", slug, &gone_engagement)
            .await?;
        prune_rows::<notification_rule::Model>(
            conn,
            "notification_rules",
            slug,
            &gone_notifications,
        )
        .await?;
        prune_rows::<role_policy::Model>(conn, "role_policies", slug, &gone_policies).await?;
        prune_rows::<service::Model>(conn, "services", slug, &gone_services).await?;
        prune_rows::<team::Model>(conn, "teams", slug, &gone_teams).await?;
        prune_rows::<tag::Model>(conn, "tags", slug, &gone_tags).await?;
        prune_rows::<tag_type::Model>(conn, "tag_types", slug, &gone_tag_types).await?;
        prune_rows::<incident_severity::Model>(conn, "incident_severities", slug, &gone_severities)
            .await?;
        prune_rows::<incident_priority::Model>(conn, "incident_priorities", slug, &gone_priorities)
            .await?;
        prune_rows::<incident_type::Model>(conn, "incident_types", slug, &gone_types).await?;
    }
    Ok(pid)
}

/// The stored JSON of a filter given as text: the stored one when it reads as the same text
/// (so an unchanged rule is not rewritten), else the text's normalized JSON.
fn keep_filter(stored: Option<&str>, text: &str, to_json: &impl Fn(&str) -> String) -> String {
    match stored {
        Some(s) if super::export::filter_text(s) == text => s.to_string(),
        _ => to_json(text),
    }
}

/// The stored JSON of a value: the stored text when it reads as the same value, else the
/// value's JSON.
fn keep_json<T: Serialize + serde::de::DeserializeOwned + PartialEq>(
    stored: Option<&str>,
    value: &T,
) -> String {
    match stored {
        Some(s) if serde_json::from_str::<T>(s).ok().as_ref() == Some(value) => s.to_string(),
        _ => json(value),
    }
}

/// Writes the webhooks; a new one gets a fresh signing secret, stored sealed.
async fn write_webhooks(
    conn: &impl Conn,
    hooks: &[WebhookDoc],
    prune: bool,
    now: DateTime<Utc>,
    seal: &dyn Fn(&str) -> String,
) -> Result<()> {
    let existing = repo::webhook::list(conn).await?;
    let (_, gone) = sync(
        conn,
        &existing,
        |m| m.url.clone(),
        |m| m.id,
        hooks,
        |d| d.url.clone(),
        |b, d| webhook_subscription::Model {
            url: d.url.clone(),
            description: d.description.clone(),
            event_types: keep_json(b.map(|x| x.event_types.as_str()), &d.event_types),
            enabled: d.enabled,
            ..b.cloned().unwrap_or_else(|| webhook_subscription::Model {
                secret: seal(&repo::webhook::new_secret()),
                created_at: now,
                ..Default::default()
            })
        },
    )
    .await?;
    if prune {
        for id in gone {
            repo::webhook::delete(conn, id).await?;
        }
    }
    Ok(())
}
