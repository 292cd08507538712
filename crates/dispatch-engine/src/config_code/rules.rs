//! Applying a project's rules: role policies, notification and engagement rules, signal
//! definitions and filters. They refer to the project's taxonomy, tags, teams and services by
//! name; [`Refs`] has the ids those names got.

use super::apply::{json, keep_filter, keep_json, prune_rows, sync, touch};
use super::export::ProjectRows;
use super::*;
use crate::Result;
use chrono::{DateTime, Utc};
use dispatch_core::filter::Filter;
use dispatch_store::model::{
    engagement_rule, notification_rule, role_policy, signal_definition, signal_filter,
};
use dispatch_store::Conn;
use std::collections::HashMap;

/// The ids of the entries the rules may name, by key.
pub(crate) struct Refs {
    pub types: HashMap<String, i64>,
    pub priorities: HashMap<String, i64>,
    pub tags: HashMap<String, i64>,
    pub teams: HashMap<String, i64>,
    pub services: HashMap<String, i64>,
}

/// The rows of each kind the file no longer has.
pub(crate) struct Gone {
    policies: Vec<i64>,
    notifications: Vec<i64>,
    engagement: Vec<i64>,
    definitions: Vec<i64>,
    filters: Vec<i64>,
}

/// Writes the project's rules; returns the rows the file no longer has.
pub(crate) async fn write(
    conn: &impl Conn,
    p: &ProjectDoc,
    rows_now: &ProjectRows,
    refs: &Refs,
    pid: i64,
    now: DateTime<Utc>,
) -> Result<Gone> {
    let Refs {
        types,
        priorities,
        tags,
        teams,
        services,
    } = refs;
    let policy_keys: HashMap<i64, String> = rows_now
        .policies
        .iter()
        .map(|m| {
            let name = |id: Option<i64>, list: &HashMap<String, i64>| {
                id.and_then(|i| list.iter().find(|(_, v)| **v == i).map(|(k, _)| k.clone()))
            };
            let d = RolePolicyDoc {
                role: m.role.clone(),
                incident_type: name(m.type_id, types),
                priority: name(m.priority_id, priorities),
                tag: name(m.tag_id, tags),
                service: name(m.service_id, services),
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
                teams: ids_of(&d.teams, teams),
                services: ids_of(&d.services, services),
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
    Ok(Gone {
        policies: gone_policies,
        notifications: gone_notifications,
        engagement: gone_engagement,
        definitions: gone_definitions,
        filters: gone_filters,
    })
}

/// Deletes the rules the file no longer has.
pub(crate) async fn prune(conn: &impl Conn, slug: &str, gone: &Gone) -> Result<()> {
    prune_rows::<signal_filter::Model>(conn, "signal_filters", slug, &gone.filters).await?;
    prune_rows::<signal_definition::Model>(conn, "signal_definitions", slug, &gone.definitions)
        .await?;
    prune_rows::<engagement_rule::Model>(conn, "engagement_rules", slug, &gone.engagement).await?;
    prune_rows::<notification_rule::Model>(conn, "notification_rules", slug, &gone.notifications)
        .await?;
    prune_rows::<role_policy::Model>(conn, "role_policies", slug, &gone.policies).await?;
    Ok(())
}
