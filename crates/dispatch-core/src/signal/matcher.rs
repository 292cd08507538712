//! The label matcher of a signal definition or filter, in Prometheus's selector syntax:
//! `alertname="HighErrorRate", service=~"pay.*", env!="dev", team!~"db|infra"`. Every matcher
//! must hold; a regular expression matches the whole value (as Prometheus anchors it), and a
//! label the alert does not have reads as the empty string.

use crate::error::ValidationError;
use regex::Regex;
use std::collections::BTreeMap;
use std::fmt;

/// How a matcher compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`: equal.
    Eq,
    /// `!=`: not equal.
    Ne,
    /// `=~`: the whole value matches the expression.
    Re,
    /// `!~`: the whole value does not match the expression.
    NotRe,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Re => "=~",
            Op::NotRe => "!~",
        }
    }
}

/// One `label op "value"`.
#[derive(Debug, Clone)]
pub struct LabelMatcher {
    /// The label's name.
    pub label: String,
    /// The comparison.
    pub op: Op,
    /// The value or expression, as written.
    pub value: String,
    /// The anchored expression, for `=~` and `!~`.
    regex: Option<Regex>,
}

impl PartialEq for LabelMatcher {
    fn eq(&self, other: &Self) -> bool {
        self.label == other.label && self.op == other.op && self.value == other.value
    }
}

impl LabelMatcher {
    /// A matcher; fails (naming `field`) on a bad label name or regular expression.
    pub fn new(field: &str, label: &str, op: Op, value: &str) -> Result<Self, ValidationError> {
        let label = label.trim();
        let valid_name = !label.is_empty()
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !valid_name {
            return Err(ValidationError::field(
                field,
                format!("{label:?} is not a label name (letters, digits, _ . -)"),
            ));
        }
        let regex = match op {
            Op::Re | Op::NotRe => Some(
                regex::RegexBuilder::new(&format!("^(?:{value})$"))
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| {
                        ValidationError::field(
                            field,
                            format!("{value:?} is not a regular expression: {e}"),
                        )
                    })?,
            ),
            Op::Eq | Op::Ne => None,
        };
        Ok(Self {
            label: label.to_string(),
            op,
            value: value.to_string(),
            regex,
        })
    }

    /// Whether the labels satisfy this matcher.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let v = labels.get(&self.label).map(String::as_str).unwrap_or("");
        match (self.op, &self.regex) {
            (Op::Eq, _) => v == self.value,
            (Op::Ne, _) => v != self.value,
            (Op::Re, Some(re)) => re.is_match(v),
            (Op::NotRe, Some(re)) => !re.is_match(v),
            // Built by `new`, which always compiles the expression of a regex op.
            (Op::Re | Op::NotRe, None) => false,
        }
    }
}

impl fmt::Display for LabelMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let escaped = self.value.replace('\\', "\\\\").replace('"', "\\\"");
        write!(f, "{}{}\"{}\"", self.label, self.op.as_str(), escaped)
    }
}

/// Every matcher must hold; an empty list matches every alert.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matchers(pub Vec<LabelMatcher>);

impl Matchers {
    /// Reads the text form `a="x", b=~"y.*"` (a surrounding `{…}` is allowed).
    pub fn parse(field: &str, text: &str) -> Result<Self, ValidationError> {
        let mut s = text.trim();
        if let Some(inner) = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
            s = inner.trim();
        }
        let mut out = Vec::new();
        let bad = |msg: String| ValidationError::field(field, msg);
        let mut rest = s;
        while !rest.trim().is_empty() {
            let r = rest.trim_start();
            let name_end = r
                .find(['=', '!'])
                .ok_or_else(|| bad(format!("expected `label=\"value\"` at {r:?}")))?;
            let label = &r[..name_end];
            let after = &r[name_end..];
            let (op, after) = if let Some(a) = after.strip_prefix("=~") {
                (Op::Re, a)
            } else if let Some(a) = after.strip_prefix("!~") {
                (Op::NotRe, a)
            } else if let Some(a) = after.strip_prefix("!=") {
                (Op::Ne, a)
            } else if let Some(a) = after.strip_prefix('=') {
                (Op::Eq, a)
            } else {
                return Err(bad(format!("expected =, !=, =~ or !~ after {label:?}")));
            };
            let after = after.trim_start();
            let body = after.strip_prefix('"').ok_or_else(|| {
                bad(format!(
                    "the value of {:?} must be in double quotes",
                    label.trim()
                ))
            })?;
            let mut value = String::new();
            let mut chars = body.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let end = end
                .ok_or_else(|| bad(format!("unclosed quote in the value of {:?}", label.trim())))?;
            out.push(LabelMatcher::new(field, label, op, &value)?);
            rest = body[end + 1..].trim_start();
            if let Some(r) = rest.strip_prefix(',') {
                rest = r;
            } else if !rest.is_empty() {
                return Err(bad(format!("expected `,` between matchers at {rest:?}")));
            }
        }
        Ok(Matchers(out))
    }

    /// Reads the JSON form: an object of exact values (`{"alertname": "X"}`) or a string in
    /// the text form.
    pub fn from_json(field: &str, v: &serde_json::Value) -> Result<Self, ValidationError> {
        match v {
            serde_json::Value::String(s) => Self::parse(field, s),
            serde_json::Value::Object(map) => {
                let mut out = Vec::new();
                for (k, v) in map {
                    let Some(s) = v.as_str() else {
                        return Err(ValidationError::field(
                            format!("{field}.{k}"),
                            "must be a string (the label's exact value)",
                        ));
                    };
                    out.push(LabelMatcher::new(&format!("{field}.{k}"), k, Op::Eq, s)?);
                }
                Ok(Matchers(out))
            }
            _ => Err(ValidationError::field(
                field,
                "must be an object of label values or a string like `alertname=\"X\", service=~\"pay.*\"`",
            )),
        }
    }

    /// Whether every matcher holds.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|m| m.matches(labels))
    }

    /// The matchers as an object of exact values, when they are all `=` (the JSON form).
    pub fn as_equalities(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        self.0
            .iter()
            .map(|m| (m.op == Op::Eq).then(|| (m.label.clone(), m.value.clone().into())))
            .collect()
    }
}

impl fmt::Display for Matchers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_text_form_reads_every_operator_and_round_trips() {
        let m = Matchers::parse(
            "match",
            r#"{alertname="HighErrorRate", service=~"pay.*", env!="dev",team!~"db|infra", q="a\"b"}"#,
        )
        .unwrap();
        assert_eq!(m.0.len(), 5);
        assert_eq!(
            m.to_string(),
            r#"alertname="HighErrorRate", service=~"pay.*", env!="dev", team!~"db|infra", q="a\"b""#
        );
        assert_eq!(Matchers::parse("match", &m.to_string()).unwrap(), m);
    }

    #[test]
    fn regular_expressions_match_the_whole_value() {
        let m = Matchers::parse("match", r#"alertname="HighErrorRate", service=~"pay.*""#).unwrap();
        assert!(m.matches(&labels(&[
            ("alertname", "HighErrorRate"),
            ("service", "payments")
        ])));
        assert!(!m.matches(&labels(&[
            ("alertname", "HighErrorRate"),
            ("service", "repay")
        ])));
        assert!(!m.matches(&labels(&[("alertname", "Other"), ("service", "payments")])));
        let absent = Matchers::parse("match", r#"env!="prod""#).unwrap();
        assert!(absent.matches(&labels(&[])));
    }

    #[test]
    fn bad_matchers_name_the_field() {
        for bad in [
            r#"service=~"(""#,
            r#"service="x"#,
            "service",
            r#"a="b" c="d""#,
            r#"="x""#,
        ] {
            let e = Matchers::parse("match", bad).unwrap_err();
            assert_eq!(e.fields[0].field, "match", "{bad}");
        }
        let e = Matchers::from_json("match", &serde_json::json!({"alertname": 3})).unwrap_err();
        assert_eq!(e.fields[0].field, "match.alertname");
    }
}
