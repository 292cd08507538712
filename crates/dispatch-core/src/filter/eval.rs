//! Matching a filter against one incident in memory (the store compiles the same filter to SQL;
//! a property test keeps the two in agreement).

use super::{Comparison, Field, Filter, Op};

/// What a filter looks at in an incident.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterSubject {
    /// Project (slug, name).
    pub project: (String, String),
    /// Incident type (slug, name).
    pub incident_type: (String, String),
    /// Priority (slug, name).
    pub priority: (String, String),
    /// Severity (slug, name).
    pub severity: (String, String),
    /// Status as stored (`active`, …).
    pub status: String,
    /// Visibility as stored (`open`, `restricted`).
    pub visibility: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Tags: (name, tag type name).
    pub tags: Vec<(String, Option<String>)>,
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn contains(haystack: &str, needle: &str) -> bool {
    haystack
        .to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

impl Comparison {
    /// Whether the incident satisfies this comparison.
    pub fn matches(&self, s: &FilterSubject) -> bool {
        let named = |(slug, name): &(String, String), v: &str| eq(slug, v) || eq(name, v);
        let one = |v: &str| -> bool {
            match &self.field {
                Field::Project => named(&s.project, v),
                Field::Type => named(&s.incident_type, v),
                Field::Priority => named(&s.priority, v),
                Field::Severity => named(&s.severity, v),
                Field::Status => eq(&s.status, v),
                Field::Visibility => eq(&s.visibility, v),
                Field::Tag(None) => s.tags.iter().any(|(n, _)| eq(n, v)),
                Field::Tag(Some(t)) => s
                    .tags
                    .iter()
                    .any(|(n, tt)| eq(n, v) && tt.as_deref().is_some_and(|tt| eq(tt, t))),
                Field::TagType => s
                    .tags
                    .iter()
                    .any(|(_, tt)| tt.as_deref().is_some_and(|tt| eq(tt, v))),
                Field::Title => contains(&s.title, v),
                Field::Description => contains(&s.description, v),
                Field::Text => contains(&s.title, v) || contains(&s.description, v),
            }
        };
        let any = self.values.iter().any(|v| one(v));
        match self.op {
            Op::Eq | Op::In | Op::Contains => any,
            Op::Ne | Op::NotContains => !any,
        }
    }
}

impl Filter {
    /// Whether the incident matches.
    pub fn matches(&self, s: &FilterSubject) -> bool {
        match self {
            Filter::And(v) => v.iter().all(|f| f.matches(s)),
            Filter::Or(v) => v.iter().any(|f| f.matches(s)),
            Filter::Not(f) => !f.matches(s),
            Filter::Cmp(c) => c.matches(s),
        }
    }
}
