//! The names a signal definition refers to in its project — its cases' type, priority and
//! severity, and their tags — and checking them: when a definition is saved (API and form),
//! and when a configuration's apply writes one.

use super::DefinitionInput;
use crate::cache::ProjectConfig;
use crate::tags::{NewTags, ProjectTags};
use dispatch_core::ValidationError;
use dispatch_store::model::signal_definition;

/// What a definition names in its project.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DefinitionNames {
    /// Its cases' incident type (slug or name).
    pub case_type: Option<String>,
    /// Their priority.
    pub case_priority: Option<String>,
    /// Their severity.
    pub case_severity: Option<String>,
    /// Their tags (`name` or `type:name`).
    pub tags: Vec<String>,
}

impl DefinitionNames {
    /// What a definition as written names.
    pub fn of_input(d: &DefinitionInput) -> Self {
        Self {
            case_type: d.case_type.clone(),
            case_priority: d.case_priority.clone(),
            case_severity: d.case_severity.clone(),
            tags: d.tags.clone(),
        }
    }

    /// What a stored definition names.
    pub fn of_row(d: &signal_definition::Model) -> Self {
        Self {
            case_type: d.case_type.clone(),
            case_priority: d.case_priority.clone(),
            case_severity: d.case_severity.clone(),
            tags: serde_json::from_str(&d.tags).unwrap_or_default(),
        }
    }

    /// Checks the names are the project's — enabled entries of its taxonomies (by slug or
    /// name, in `cfg`) and its tags (`name`, or `type:name` of a tag of that type, in `tags`) —
    /// each wrong one a field error (`case_type`, `case_priority`, `case_severity`, `tags`).
    /// Those `kept` already names may stay as they are (the project may have disabled or
    /// removed one since; an edit of something else must still save).
    pub fn check(
        &self,
        cfg: &ProjectConfig,
        tags: &ProjectTags,
        kept: Option<&Self>,
        e: &mut ValidationError,
    ) {
        // A name given anew (not the one `kept` already has).
        let new = |given: &Option<String>, had: Option<&Option<String>>| {
            given.clone().filter(|_| had != Some(given))
        };
        if let Some(t) = new(&self.case_type, kept.map(|k| &k.case_type)) {
            if cfg.type_named(&t).is_none() {
                e.push(
                    "case_type",
                    format!("the project has no incident type {t:?}"),
                );
            }
        }
        if let Some(p) = new(&self.case_priority, kept.map(|k| &k.case_priority)) {
            if cfg.priority_named(&p).is_none() {
                e.push(
                    "case_priority",
                    format!("the project has no priority {p:?}"),
                );
            }
        }
        if let Some(v) = new(&self.case_severity, kept.map(|k| &k.case_severity)) {
            if cfg.severity_named(&v).is_none() {
                e.push(
                    "case_severity",
                    format!("the project has no severity {v:?}"),
                );
            }
        }
        let given: Vec<String> = self
            .tags
            .iter()
            .filter(|t| !kept.is_some_and(|k| k.tags.contains(t)))
            .cloned()
            .collect();
        // As a case's tags are set: `name` or `type:name`, each one the project has.
        tags.resolve(&given, NewTags::Refuse, e);
    }
}
