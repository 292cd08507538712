//! Checking a document whole before anything is written: unique keys, at most one default,
//! names that refer to entries of the file, filters that parse and words Dispatch knows, and
//! the names each signal definition gives its cases checked as the API checks them. Every
//! error names the object and the field (`projects[payments].tags[eu].tag_type`).

use super::apply::{priority_row, severity_row, tag_row, tag_type_row, type_row};
use super::*;
use crate::cache::ProjectConfig;
use crate::signal::names::DefinitionNames;
use crate::tags::ProjectTags;
use crate::Result;
use dispatch_core::filter::Filter;
use dispatch_core::values::Slug;
use dispatch_core::{ParticipantRole, ValidationError};
use dispatch_store::model::{tag, tag_type};
use std::collections::{HashMap, HashSet};

/// Checks a document whole, against `current` (the database's configuration, which the apply
/// changes; `prune` deletes what the file does not have); the error lists every bad field as
/// `projects[slug].list[key].field`.
pub fn validate(doc: &Document, current: &Document, prune: bool) -> Result<()> {
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
        let stored = current.projects.iter().find(|q| q.slug == p.slug);
        check_definitions(&mut e, &at, p, stored, prune);
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

/// Checks each signal definition's case type, priority, severity and tags as the API checks a
/// definition's save, against the project as the apply leaves it: the file's entries and,
/// without `prune`, those the database has that the file does not name. Names the stored
/// definition (`stored`'s of that name) already has may stay, as they may on the API.
fn check_definitions(
    e: &mut ValidationError,
    at: &str,
    p: &ProjectDoc,
    stored: Option<&ProjectDoc>,
    prune: bool,
) {
    if p.signal_definitions.is_empty() {
        return;
    }
    let (cfg, tags) = names_of(p, stored.filter(|_| !prune));
    for d in &p.signal_definitions {
        let kept = stored
            .and_then(|s| s.signal_definitions.iter().find(|k| k.name == d.name))
            .map(definition_names);
        let mut found = ValidationError::default();
        definition_names(d).check(&cfg, &tags, kept.as_ref(), &mut found);
        for f in found.fields {
            e.push(
                format!("{at}.signal_definitions[{}].{}", d.name, f.field),
                f.message,
            );
        }
    }
}

/// What a definition of the file names.
fn definition_names(d: &SignalDefinitionDoc) -> DefinitionNames {
    DefinitionNames {
        case_type: d.case_type.clone(),
        case_priority: d.case_priority.clone(),
        case_severity: d.case_severity.clone(),
        tags: d.tags.clone(),
    }
}

/// The rows of one list as the apply leaves it: the file's entries, then those of `kept` (the
/// database's) the file does not name; each numbered from 1 (an id the rows can refer to each
/// other by, as nothing is written).
fn rows<D, M>(
    file: &[D],
    kept: Option<&[D]>,
    key: impl Fn(&D) -> &str,
    row: impl Fn(&D, i64) -> M,
) -> Vec<M> {
    let kept = kept
        .into_iter()
        .flatten()
        .filter(|k| !file.iter().any(|f| key(f) == key(k)));
    file.iter()
        .chain(kept)
        .zip(1..)
        .map(|(d, id)| row(d, id))
        .collect()
}

/// A project's taxonomies and tags as the apply leaves them (the file's entries, with those of
/// `kept` the file does not name), as the rows it would write.
fn names_of(p: &ProjectDoc, kept: Option<&ProjectDoc>) -> (ProjectConfig, ProjectTags) {
    let cfg = ProjectConfig {
        types: rows(
            &p.incident_types,
            kept.map(|k| &k.incident_types[..]),
            |t| &t.slug,
            |d, _| type_row(d, Default::default()),
        ),
        priorities: rows(
            &p.incident_priorities,
            kept.map(|k| &k.incident_priorities[..]),
            |t| &t.slug,
            |d, _| priority_row(d, Default::default()),
        ),
        severities: rows(
            &p.incident_severities,
            kept.map(|k| &k.incident_severities[..]),
            |t| &t.slug,
            |d, _| severity_row(d, Default::default()),
        ),
        ..Default::default()
    };
    let types = rows(
        &p.tag_types,
        kept.map(|k| &k.tag_types[..]),
        |t| &t.name,
        |d, id| {
            tag_type_row(
                d,
                tag_type::Model {
                    id,
                    ..Default::default()
                },
            )
        },
    );
    let type_ids: HashMap<String, i64> = types.iter().map(|t| (t.name.clone(), t.id)).collect();
    let tags = rows(
        &p.tags,
        kept.map(|k| &k.tags[..]),
        |t| &t.name,
        |d, id| {
            tag_row(
                d,
                &type_ids,
                tag::Model {
                    id,
                    ..Default::default()
                },
            )
        },
    );
    (cfg, ProjectTags { tags, types })
}
