//! Reading the configuration out of the database: each project's rows ([`ProjectRows`]) and
//! their document form, with ids replaced by the names they stand for.

use super::*;
use crate::{Error, Result};
use dispatch_core::filter::Filter;
use dispatch_store::model::{
    engagement_rule, incident_priority, incident_severity, incident_type, notification_rule,
    project, role_policy, service, signal_definition, signal_filter, tag, tag_type, team,
    webhook_subscription,
};
use dispatch_store::repo::{self, rules, taxonomy};
use dispatch_store::{Conn, Db};

/// A project's configured rows, as stored.
#[derive(Debug, Clone)]
pub(crate) struct ProjectRows {
    pub project: project::Model,
    pub types: Vec<incident_type::Model>,
    pub priorities: Vec<incident_priority::Model>,
    pub severities: Vec<incident_severity::Model>,
    pub tag_types: Vec<tag_type::Model>,
    pub tags: Vec<tag::Model>,
    pub teams: Vec<team::Model>,
    pub services: Vec<service::Model>,
    pub policies: Vec<role_policy::Model>,
    pub notification_rules: Vec<notification_rule::Model>,
    pub engagement_rules: Vec<engagement_rule::Model>,
    pub definitions: Vec<signal_definition::Model>,
    pub filters: Vec<signal_filter::Model>,
}

/// Reads a project's configured rows.
pub(crate) async fn load(conn: &impl Conn, p: project::Model) -> Result<ProjectRows> {
    let id = p.id;
    Ok(ProjectRows {
        types: taxonomy::list(conn, id).await?,
        priorities: taxonomy::list(conn, id).await?,
        severities: taxonomy::list(conn, id).await?,
        tag_types: repo::tag::types(conn, id).await?,
        tags: repo::tag::list(conn, id).await?,
        teams: repo::directory::teams(conn, id).await?,
        services: repo::directory::services(conn, id).await?,
        policies: repo::oncall::policies(conn, id).await?,
        notification_rules: rules::list(conn, Some(id)).await?,
        engagement_rules: rules::list(conn, Some(id)).await?,
        definitions: repo::signal::definitions(conn, id).await?,
        filters: repo::signal::filters(conn, Some(id)).await?,
        project: p,
    })
}

/// The configuration in the database: every project, or only `project` (a slug; then without
/// the server-wide webhooks).
pub async fn export(db: &Db, project: Option<&str>) -> Result<Document> {
    let conn = db.conn();
    let projects = match project {
        Some(slug) => vec![repo::project::by_slug(conn, slug)
            .await?
            .ok_or_else(|| Error::NotFound(format!("project {slug:?}")))?],
        None => repo::project::list(conn).await?,
    };
    let mut doc = Document::default();
    for p in projects {
        doc.projects.push(to_doc(&load(conn, p).await?));
    }
    if project.is_none() {
        let hooks = repo::webhook::list(conn).await?;
        doc.webhooks = Some(hooks.iter().map(webhook_doc).collect());
    }
    doc.sort();
    Ok(doc)
}

/// A JSON column holding an object, as a map (a column that does not read is empty).
pub(crate) fn json_map(s: &str) -> BTreeMap<String, Value> {
    serde_json::from_str(s).unwrap_or_default()
}

/// A JSON column holding an array (a column that does not read is empty).
pub(crate) fn json_list<T: serde::de::DeserializeOwned>(s: &str) -> Vec<T> {
    serde_json::from_str(s).unwrap_or_default()
}

/// A stored filter in its text form.
pub(crate) fn filter_text(stored: &str) -> String {
    serde_json::from_str::<Value>(stored)
        .ok()
        .and_then(|v| Filter::from_json(&v).ok())
        .map(|f| f.to_string())
        .unwrap_or_else(|| stored.to_string())
}

fn name_of<T>(rows: &[T], id: Option<i64>, key: impl Fn(&T) -> (i64, String)) -> Option<String> {
    let id = id?;
    rows.iter().map(key).find(|(i, _)| *i == id).map(|(_, n)| n)
}

/// A project's rows as their document.
pub(crate) fn to_doc(r: &ProjectRows) -> ProjectDoc {
    let p = &r.project;
    let priority = |id| name_of(&r.priorities, id, |x| (x.id, x.slug.clone()));
    let team_names = |ids: Vec<i64>| -> Vec<String> {
        let mut v: Vec<String> = ids
            .into_iter()
            .filter_map(|i| name_of(&r.teams, Some(i), |t| (t.id, t.name.clone())))
            .collect();
        v.sort();
        v
    };
    let service_names = |ids: Vec<i64>| -> Vec<String> {
        let mut v: Vec<String> = ids
            .into_iter()
            .filter_map(|i| name_of(&r.services, Some(i), |s| (s.id, s.name.clone())))
            .collect();
        v.sort();
        v
    };
    let mut doc = ProjectDoc {
        slug: p.slug.clone(),
        name: p.name.clone(),
        key_prefix: p.key_prefix.clone(),
        description: p.description.clone(),
        default: p.is_default,
        allow_self_join: p.allow_self_join,
        members_only: p.members_only,
        timeline_emoji: p.timeline_emoji.clone(),
        observer_promotion_messages: p.observer_promotion_messages,
        annual_employee_cost: p.annual_employee_cost,
        business_year_hours: p.business_year_hours,
        stable_priority: priority(p.stable_priority_id),
        providers: json_map(&p.providers),
        provider_settings: json_map(&p.provider_settings),
        incident_types: r
            .types
            .iter()
            .map(|t| TypeDoc {
                slug: t.slug.clone(),
                name: t.name.clone(),
                description: t.description.clone(),
                default_visibility: t.default_visibility.clone(),
                default: t.is_default,
                enabled: t.enabled,
                exclude_from_metrics: t.exclude_from_metrics,
                exclude_from_reminders: t.exclude_from_reminders,
                exclude_from_review: t.exclude_from_review,
                view_order: t.view_order,
                incident_template: t.incident_template.clone(),
                review_template: t.review_template.clone(),
                executive_template: t.executive_template.clone(),
            })
            .collect(),
        incident_priorities: r
            .priorities
            .iter()
            .map(|t| PriorityDoc {
                slug: t.slug.clone(),
                name: t.name.clone(),
                description: t.description.clone(),
                color: t.color.clone(),
                default: t.is_default,
                enabled: t.enabled,
                page_commander: t.page_commander,
                tactical_report_reminder_hours: t.tactical_report_reminder_hours,
                executive_report_reminder_hours: t.executive_report_reminder_hours,
                view_order: t.view_order,
            })
            .collect(),
        incident_severities: r
            .severities
            .iter()
            .map(|t| SeverityDoc {
                slug: t.slug.clone(),
                name: t.name.clone(),
                description: t.description.clone(),
                color: t.color.clone(),
                default: t.is_default,
                enabled: t.enabled,
                allowed_for_stable: t.allowed_for_stable,
                view_order: t.view_order,
            })
            .collect(),
        tag_types: r
            .tag_types
            .iter()
            .map(|t| TagTypeDoc {
                name: t.name.clone(),
                description: t.description.clone(),
                exclusive: t.exclusive,
                required: t.required,
            })
            .collect(),
        tags: r
            .tags
            .iter()
            .map(|t| TagDoc {
                name: t.name.clone(),
                tag_type: name_of(&r.tag_types, t.tag_type_id, |x| (x.id, x.name.clone())),
                description: t.description.clone(),
            })
            .collect(),
        teams: r
            .teams
            .iter()
            .map(|t| TeamDoc {
                name: t.name.clone(),
                email: t.email.clone(),
                description: t.description.clone(),
            })
            .collect(),
        services: r
            .services
            .iter()
            .map(|s| ServiceDoc {
                name: s.name.clone(),
                provider: s.provider.clone(),
                external_id: s.external_id.clone(),
                description: s.description.clone(),
                active: s.is_active,
            })
            .collect(),
        role_policies: r
            .policies
            .iter()
            .map(|x| RolePolicyDoc {
                role: x.role.clone(),
                incident_type: name_of(&r.types, x.type_id, |t| (t.id, t.slug.clone())),
                priority: priority(x.priority_id),
                tag: name_of(&r.tags, x.tag_id, |t| (t.id, t.name.clone())),
                service: name_of(&r.services, x.service_id, |s| (s.id, s.name.clone())),
                email: x.email.clone(),
                order: x.view_order,
                enabled: x.enabled,
            })
            .collect(),
        notification_rules: r
            .notification_rules
            .iter()
            .map(|n| NotificationRuleDoc {
                name: n.name.clone(),
                description: n.description.clone(),
                filter: filter_text(&n.filter),
                target_kind: n.target_kind.clone(),
                target: n.target.clone(),
                restricted_safe: n.restricted_safe,
                enabled: n.enabled,
            })
            .collect(),
        engagement_rules: r
            .engagement_rules
            .iter()
            .map(|e| {
                let mut individuals: Vec<String> = json_list(&e.individuals);
                individuals.sort();
                EngagementRuleDoc {
                    name: e.name.clone(),
                    description: e.description.clone(),
                    filter: filter_text(&e.filter),
                    individuals,
                    teams: team_names(json_list(&e.teams)),
                    services: service_names(json_list(&e.services)),
                    documents: json_list(&e.documents),
                    enabled: e.enabled,
                }
            })
            .collect(),
        signal_definitions: r
            .definitions
            .iter()
            .map(|d| SignalDefinitionDoc {
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
                service: name_of(&r.services, d.service_id, |s| (s.id, s.name.clone())),
                conversation_target: d.conversation_target.clone(),
                tags: json_list(&d.tags),
                entity_types: json_list(&d.entity_types),
                fields: json_map(&d.fields),
                dedup_window_seconds: d.dedup_window_seconds,
            })
            .collect(),
        signal_filters: r
            .filters
            .iter()
            .map(|f| SignalFilterDoc {
                name: f.name.clone(),
                description: f.description.clone(),
                kind: f.kind.clone(),
                expression: f.expression.clone(),
                mode: f.mode.clone(),
                expires_at: f.expires_at,
                window_seconds: f.window_seconds,
            })
            .collect(),
    };
    let mut one = Document {
        projects: vec![],
        webhooks: None,
    };
    one.projects.push(std::mem::take(&mut doc));
    one.sort();
    one.projects.pop().unwrap_or_default()
}

/// A webhook as its document (no secret).
pub(crate) fn webhook_doc(w: &webhook_subscription::Model) -> WebhookDoc {
    WebhookDoc {
        url: w.url.clone(),
        description: w.description.clone(),
        event_types: repo::webhook::event_types(w),
        enabled: w.enabled,
    }
}
