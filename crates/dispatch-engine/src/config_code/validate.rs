//! Checking a document whole before anything is written: unique keys, at most one default,
//! names that refer to entries of the file, filters that parse and words Dispatch knows. Every
//! error names the object and the field (`projects[payments].tags[eu].tag_type`).

use super::*;
use crate::Result;
use dispatch_core::filter::Filter;
use dispatch_core::values::Slug;
use dispatch_core::{ParticipantRole, ValidationError};
use std::collections::HashSet;

/// Checks a document whole; the error lists every bad field as `projects[slug].list[key].field`.
pub fn validate(doc: &Document) -> Result<()> {
    let mut e = ValidationError::default();
    let mut slugs = HashSet::new();
    let mut prefixes = HashSet::new();
    if doc.projects.iter().filter(|p| p.default).count() > 1 {
        e.push("projects[].default", "only one project can be the default");
    }
    for p in &doc.projects {
        let at = format!("projects[{}]", p.slug);
        e.check(Slug::parse(&format!("{at}.slug"), &p.slug));
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
        } else if list.starts_with("incident_") {
            e.check(Slug::parse(&format!("{at}.{list}[{k}].slug"), k));
        }
        defaults += default as usize;
    }
    if defaults > 1 {
        e.push(format!("{at}.{list}"), "only one entry can be the default");
    }
    seen
}

fn check_project(e: &mut ValidationError, at: &str, p: &ProjectDoc) {
    if !(0..=100_000_000).contains(&p.annual_employee_cost) {
        e.push(format!("{at}.annual_employee_cost"), "must be 0-100000000");
    }
    if !(1..=8784).contains(&p.business_year_hours) {
        e.push(format!("{at}.business_year_hours"), "must be 1-8784");
    }
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
