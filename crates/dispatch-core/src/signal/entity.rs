//! Entity extractors of a signal definition: each names an entity type (`host`, `user`, `ip`,
//! …) and where its value is in an alert: a label, a path in the raw JSON, or a regular
//! expression over the labels' and annotations' values (its first group, else the whole match).

use super::payload::{at_path, Alert};
use crate::error::ValidationError;
use regex::Regex;
use serde::{Deserialize, Serialize};

/// An entity type as written in a definition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntityType {
    /// The entity type's name (`host`, `user`, `ip`, …).
    pub name: String,
    /// Take the value of this label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Take the value at this path of the raw alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Take the first match of this expression in any label or annotation value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

/// One entity found in an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entity {
    /// The entity type's name.
    #[serde(rename = "type")]
    pub kind: String,
    /// The value.
    pub value: String,
}

/// An entity type, ready to run.
#[derive(Debug, Clone)]
pub struct Extractor {
    ty: EntityType,
    regex: Option<Regex>,
}

impl Extractor {
    /// Checks and compiles an entity type; `field` names it in errors.
    pub fn new(field: &str, ty: &EntityType) -> Result<Self, ValidationError> {
        let mut e = ValidationError::default();
        let name_ok = !ty.name.trim().is_empty()
            && ty.name.len() <= 64
            && ty
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !name_ok {
            e.push(format!("{field}.name"), "must be 1-64 letters, digits or _");
        }
        let given = [&ty.label, &ty.path, &ty.regex]
            .iter()
            .filter(|o| o.is_some())
            .count();
        if given != 1 {
            e.push(field, "give exactly one of label, path or regex");
        }
        let regex = match &ty.regex {
            Some(r) => match regex::RegexBuilder::new(r).size_limit(1 << 20).build() {
                Ok(re) => Some(re),
                Err(err) => {
                    e.push(
                        format!("{field}.regex"),
                        format!("not a regular expression: {err}"),
                    );
                    None
                }
            },
            None => None,
        };
        e.into_result()?;
        Ok(Self {
            ty: ty.clone(),
            regex,
        })
    }

    /// The entity type as written.
    pub fn entity_type(&self) -> &EntityType {
        &self.ty
    }

    /// The entity this alert has, if any.
    pub fn extract(&self, alert: &Alert) -> Option<Entity> {
        let value = if let Some(l) = &self.ty.label {
            alert.labels.get(l).cloned()
        } else if let Some(p) = &self.ty.path {
            at_path(&alert.raw, p).and_then(|v| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        } else {
            let re = self.regex.as_ref()?;
            alert
                .labels
                .values()
                .chain(alert.annotations.values())
                .find_map(|v| {
                    let c = re.captures(v)?;
                    c.get(1)
                        .or_else(|| c.get(0))
                        .map(|m| m.as_str().to_string())
                })
        }?;
        (!value.is_empty()).then(|| Entity {
            kind: self.ty.name.clone(),
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::payload::AlertStatus;
    use std::collections::BTreeMap;

    #[test]
    fn entities_come_from_labels_paths_and_expressions() {
        let alert = Alert {
            status: AlertStatus::Firing,
            fingerprint: "f".into(),
            title: "t".into(),
            severity: None,
            labels: BTreeMap::from([("instance".to_string(), "db1:9100".to_string())]),
            annotations: BTreeMap::from([(
                "description".to_string(),
                "login by user=alice".to_string(),
            )]),
            link: None,
            started_at: None,
            raw: serde_json::json!({"host": {"ip": "10.0.0.1"}}),
        };
        let by = |ty: EntityType| {
            Extractor::new("e", &ty)
                .unwrap()
                .extract(&alert)
                .map(|e| e.value)
        };
        let host = EntityType {
            name: "host".into(),
            label: Some("instance".into()),
            ..Default::default()
        };
        let ip = EntityType {
            name: "ip".into(),
            path: Some("host.ip".into()),
            ..Default::default()
        };
        let user = EntityType {
            name: "user".into(),
            regex: Some(r"user=(\w+)".into()),
            ..Default::default()
        };
        assert_eq!(by(host).as_deref(), Some("db1:9100"));
        assert_eq!(by(ip).as_deref(), Some("10.0.0.1"));
        assert_eq!(by(user).as_deref(), Some("alice"));
        let both = EntityType {
            name: "x".into(),
            label: Some("a".into()),
            regex: Some("b".into()),
            ..Default::default()
        };
        assert!(Extractor::new("e", &both).is_err());
    }
}
