//! The filter language: and / or / not of comparisons over an incident's fields. One definition
//! serves engagement rules, notification rules, runbook suggestions and saved list views: it is
//! stored as JSON, written and read by people in a text form, matched against one incident in
//! memory ([`Filter::matches`]) and compiled to SQL by the store for lists.
//!
//! Text form, e.g. `priority = high and (type = "Security" or tag:region = eu) and not status =
//! closed`, `title ~ "checkout"`, `severity in (high, critical)`:
//! - fields: `project`, `type`, `priority`, `severity` (slug or name), `status`, `visibility`,
//!   `tag` (a tag name), `tag:TYPE` (a tag of that tag type), `tag_type` (any tag of the type),
//!   `title`, `description`, `text` (title or description);
//! - operators: `=`, `!=`, `in (a, b)` on the first group, `~` (contains) and `!~` on the last;
//! - `all` matches every incident, `none` none; `and` binds tighter than `or`; `not` tightest.
//!
//! Comparisons ignore the case of ASCII letters.
//!
//! A filter is bounded ([`MAX_DEPTH`], [`MAX_TERMS`], [`MAX_TEXT_CHARS`]) and both readers refuse
//! one beyond the bounds before building it, so nothing that walks a filter afterwards
//! (matching, printing, normalizing, the SQL the store builds and the database's own parser)
//! meets a tree deeper or wider than it can take.

mod eval;
mod json;
#[cfg(test)]
mod limit_tests;
mod text;

pub use eval::FilterSubject;
pub use text::ParseError;

use std::fmt;

/// A filter over incidents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Every part matches (`all` when empty).
    And(Vec<Filter>),
    /// Some part matches (`none` when empty).
    Or(Vec<Filter>),
    /// The part does not match.
    Not(Box<Filter>),
    /// One comparison.
    Cmp(Comparison),
}

/// A field compared with one or more values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// What is compared.
    pub field: Field,
    /// How.
    pub op: Op,
    /// With what: one value, or several for `in`.
    pub values: Vec<String>,
}

/// An incident field a filter can compare.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// Project slug or name.
    Project,
    /// Incident type slug or name.
    Type,
    /// Priority slug or name.
    Priority,
    /// Severity slug or name.
    Severity,
    /// `active`, `stable` or `closed`.
    Status,
    /// `open` or `restricted`.
    Visibility,
    /// A tag name; with a tag type, only tags of that type count.
    Tag(Option<String>),
    /// The type of any of the incident's tags.
    TagType,
    /// Title terms.
    Title,
    /// Description terms.
    Description,
    /// Title or description terms.
    Text,
}

/// How a field is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// Equal (for tags: carries the tag).
    Eq,
    /// Not equal (for tags: does not carry the tag).
    Ne,
    /// Equal to one of the values.
    In,
    /// Contains the text.
    Contains,
    /// Does not contain the text.
    NotContains,
}

/// The longest value a comparison takes.
pub const MAX_VALUE_CHARS: usize = 200;

/// How deep a filter may nest: each `(` and each `not` of the text form is a level; the JSON
/// form counts the levels its text form would have (and a one-part `and`/`or` as a level).
pub const MAX_DEPTH: usize = 32;

/// How many terms a filter may have: each value compared (an `in` list counts each of its
/// values), each `all` and each `none`.
pub const MAX_TERMS: usize = 200;

/// The longest text form, in characters: a bound on the work of reading, above the longest text
/// any filter within the other bounds prints to (so whatever is accepted prints and reads back).
pub const MAX_TEXT_CHARS: usize = 200_000;

impl Field {
    /// The plain field names (besides `tag:TYPE`).
    pub const NAMES: &'static [&'static str] = &[
        "project",
        "type",
        "priority",
        "severity",
        "status",
        "visibility",
        "tag",
        "tag_type",
        "title",
        "description",
        "text",
    ];

    /// Parses a field name: one of [`Field::NAMES`] or `tag:TYPE`.
    pub fn parse(s: &str) -> Option<Field> {
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("tag:") {
            // "tag:" is ASCII, so byte 4 starts the type's name.
            let t = &s[4..];
            return (!t.trim().is_empty()
                && !t.contains(':')
                && t.chars().count() <= MAX_VALUE_CHARS)
                .then(|| Field::Tag(Some(t.to_string())));
        }
        Some(match lower.as_str() {
            "project" => Field::Project,
            "type" | "incident_type" => Field::Type,
            "priority" => Field::Priority,
            "severity" => Field::Severity,
            "status" => Field::Status,
            "visibility" => Field::Visibility,
            "tag" => Field::Tag(None),
            "tag_type" | "tagtype" => Field::TagType,
            "title" => Field::Title,
            "description" => Field::Description,
            "text" => Field::Text,
            _ => return None,
        })
    }

    /// True for the fields compared by terms (`~`, `!~`).
    pub fn is_text(&self) -> bool {
        matches!(self, Field::Title | Field::Description | Field::Text)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Field::Project => "project",
            Field::Type => "type",
            Field::Priority => "priority",
            Field::Severity => "severity",
            Field::Status => "status",
            Field::Visibility => "visibility",
            Field::Tag(None) => "tag",
            Field::Tag(Some(t)) => return write!(f, "tag:{t}"),
            Field::TagType => "tag_type",
            Field::Title => "title",
            Field::Description => "description",
            Field::Text => "text",
        };
        f.write_str(s)
    }
}

impl Op {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::In => "in",
            Op::Contains => "~",
            Op::NotContains => "!~",
        }
    }

    /// Parses an operator as written.
    pub fn parse(s: &str) -> Option<Op> {
        Some(match s.to_ascii_lowercase().as_str() {
            "=" | "==" => Op::Eq,
            "!=" => Op::Ne,
            "in" => Op::In,
            "~" => Op::Contains,
            "!~" => Op::NotContains,
            _ => return None,
        })
    }
}

impl Comparison {
    /// Checks that the operator suits the field and the values are allowed; status and
    /// visibility values are brought to their stored (lower-case) spelling. The error is a
    /// sentence without position.
    pub fn new(field: Field, op: Op, values: Vec<String>) -> Result<Self, String> {
        match (field.is_text(), op) {
            (true, Op::Contains | Op::NotContains) | (false, Op::Eq | Op::Ne | Op::In) => {}
            (true, _) => {
                return Err(format!(
                    "{field} is compared with ~ (contains) or !~, not {}",
                    op.as_str()
                ))
            }
            (false, _) => {
                return Err(format!(
                    "{field} is compared with =, != or in, not {}",
                    op.as_str()
                ))
            }
        }
        if values.is_empty() {
            return Err(format!("{field} {} needs a value", op.as_str()));
        }
        if op != Op::In && values.len() > 1 {
            return Err(format!("{field} {} takes one value", op.as_str()));
        }
        let mut out = Vec::with_capacity(values.len());
        for v in values {
            if v.is_empty() {
                return Err(format!("{field}: a value may not be empty"));
            }
            if v.chars().count() > MAX_VALUE_CHARS {
                return Err(format!(
                    "{field}: a value may have at most {MAX_VALUE_CHARS} characters"
                ));
            }
            let v = match field {
                Field::Status => v
                    .parse::<crate::IncidentStatus>()
                    .map_err(|e| format!("status {v:?} {e}"))?
                    .as_str()
                    .to_string(),
                Field::Visibility => v
                    .parse::<crate::Visibility>()
                    .map_err(|e| format!("visibility {v:?} {e}"))?
                    .as_str()
                    .to_string(),
                _ => v,
            };
            out.push(v);
        }
        Ok(Self {
            field,
            op,
            values: out,
        })
    }
}

impl Filter {
    /// The filter that matches every incident.
    pub fn all() -> Self {
        Filter::And(vec![])
    }

    /// A comparison, checked (see [`Comparison::new`]).
    pub fn cmp(field: Field, op: Op, values: &[&str]) -> Result<Self, String> {
        Comparison::new(field, op, values.iter().map(|v| v.to_string()).collect()).map(Filter::Cmp)
    }

    /// Parses the text form; the error names the position.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        text::parse(text, 0, &mut 0)
    }

    /// The same filter with one-part `and` / `or` replaced by the part: the form the text
    /// syntax reads back.
    pub fn normalized(self) -> Self {
        match self {
            Filter::And(v) | Filter::Or(v) if v.len() == 1 => {
                v.into_iter().next().expect("one").normalized()
            }
            Filter::And(v) => Filter::And(v.into_iter().map(Filter::normalized).collect()),
            Filter::Or(v) => Filter::Or(v.into_iter().map(Filter::normalized).collect()),
            Filter::Not(f) => Filter::Not(Box::new(f.normalized())),
            c @ Filter::Cmp(_) => c,
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&text::print(&self.clone().normalized()))
    }
}

impl std::str::FromStr for Filter {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Filter::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> FilterSubject {
        FilterSubject {
            project: ("default".into(), "Default".into()),
            incident_type: ("security".into(), "Security".into()),
            priority: ("high".into(), "High".into()),
            severity: ("low".into(), "Low".into()),
            status: "active".into(),
            visibility: "open".into(),
            title: "Checkout failing in EU".into(),
            description: "Payments time out".into(),
            tags: vec![("eu".into(), Some("region".into())), ("pci".into(), None)],
        }
    }

    #[test]
    fn the_documented_examples_parse_print_and_match() {
        let s = subject();
        for (text, expected) in [
            ("priority = high and (type = \"Security\" or tag:region = eu) and not status = closed", true),
            ("title ~ \"checkout\"", true),
            ("text ~ payments and tag_type = region", true),
            ("severity in (high, critical)", false),
            ("tag != pci", false),
            ("tag:region = pci", false),
            ("description !~ timeout", true),
            ("all", true),
            ("none", false),
            ("PROJECT = default OR visibility = restricted", true),
        ] {
            let f = Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(f.matches(&s), expected, "{text}");
            let printed = f.to_string();
            assert_eq!(Filter::parse(&printed).unwrap(), f, "{text} → {printed}");
            assert_eq!(Filter::from_json(&f.to_json()).unwrap(), f, "{text} as JSON");
        }
    }

    #[test]
    fn printing_keeps_nesting_and_quotes_what_needs_it() {
        let f = Filter::parse("a_b_c = x").err().unwrap();
        assert_eq!(f.position, 1);
        let f = Filter::parse(
            "not (type = a and (priority = b or severity = c)) or title ~ \"say \\\"hi\\\"\"",
        )
        .unwrap();
        assert_eq!(
            f.to_string(),
            "not (type = a and (priority = b or severity = c)) or title ~ \"say \\\"hi\\\"\""
        );
        let nested = Filter::And(vec![
            Filter::cmp(Field::Type, Op::Eq, &["and"]).unwrap(),
            Filter::And(vec![Filter::cmp(
                Field::Tag(Some("Data Region".into())),
                Op::Eq,
                &["e u"],
            )
            .unwrap()]),
        ]);
        let text = nested.to_string();
        assert_eq!(text, "type = \"and\" and \"tag:Data Region\" = \"e u\"");
        assert_eq!(Filter::parse(&text).unwrap(), nested.normalized());
    }

    #[test]
    fn errors_name_the_position_and_what_was_expected() {
        for (text, position, needle) in [
            ("", 1, "empty"),
            ("priority = high and", 20, "expected a comparison"),
            ("priority high", 10, "expected an operator"),
            ("(priority = high", 17, "to close the \"(\" at position 1"),
            ("colour = red", 1, "unknown field \"colour\""),
            (
                "status = frozen",
                1,
                "must be one of: active, stable, closed",
            ),
            ("title = x", 1, "compared with ~"),
            ("priority ~ x", 1, "compared with =, != or in"),
            ("title ~ \"open", 9, "not closed"),
            (
                "priority = high )",
                17,
                "expected \"and\", \"or\" or the end",
            ),
            ("severity in (a b)", 16, "expected \",\" or \")\""),
            ("priority = #", 12, "unexpected character"),
        ] {
            let e = Filter::parse(text).expect_err(text);
            assert_eq!(e.position, position, "{text}: {e}");
            assert!(e.to_string().contains(needle), "{text}: {e}");
            assert!(e
                .to_string()
                .starts_with(&format!("at position {position}: ")));
        }
    }

    #[test]
    fn json_errors_name_the_path() {
        let e = Filter::from_json(&serde_json::json!({"and": [{"field": "priority", "value": "high"}, {"field": "status", "op": "=", "value": "nope"}]})).unwrap_err();
        assert!(e.starts_with("$.and[1]: status \"nope\""), "{e}");
        let e = Filter::from_json(&serde_json::json!({"or": [{"x": 1}]})).unwrap_err();
        assert!(e.starts_with("$.or[0]: expected"), "{e}");
        // A whole filter in the text form is not a path: its error starts at the position.
        let e = Filter::from_json(&serde_json::json!("(priority = high")).unwrap_err();
        assert!(e.starts_with("at position 17: "), "{e}");
        let f: Filter = serde_json::from_value(serde_json::json!("priority = high")).unwrap();
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            serde_json::json!({"field": "priority", "op": "=", "value": "high"})
        );
    }
}
