//! A project's settings for the providers that call vendors, kept on the project as JSON and
//! given to providers with each incident ([`crate::provider::IncidentContext::settings`]).
//!
//! Credentials never live here (they come from the server's configuration); these say *where*
//! a project's things go: today the Jira project, issue type, labels, workflow transition names
//! and custom fields, for the whole project and per incident type.
//!
//! ```json
//! {"jira": {"project_key": "OPS", "issue_type": "Incident", "labels": ["sev"],
//!           "transitions": {"closed": "Resolve"},
//!           "custom_fields": {"commander": "customfield_10010"},
//!           "by_type": {"security": {"project_key": "SEC"}}}}
//! ```

use crate::ValidationError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Every provider's settings for one project (providers left out use the server's settings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    /// Jira: where the project's tickets go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jira: Option<JiraProjectSettings>,
}

/// The names of the providers that take settings.
pub const PROVIDERS_WITH_SETTINGS: &[&str] = &["jira"];

/// Jira transition names per incident status; a missing one keeps the server's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JiraTransitionNames {
    /// On declare and re-open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<String>,
    /// When the incident becomes stable (an empty name: no move).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable: Option<String>,
    /// On close (the resolution goes into a comment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<String>,
}

/// Jira custom field ids (`customfield_10010`) Dispatch fills.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JiraCustomFields {
    /// A user-picker field set to the incident commander (found by e-mail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commander: Option<String>,
    /// A select-list field set to the incident's priority name (an option of that name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
}

/// Where a project's (or one incident type's) Jira issues go; what is left out keeps the
/// server's setting (`DISPATCH_JIRA_*`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JiraProjectSettings {
    /// The Jira project key, e.g. `OPS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_key: Option<String>,
    /// The issue type's name, e.g. `Incident`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_type: Option<String>,
    /// Labels put on every issue (besides the one marking the incident).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// Workflow transition names per incident status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transitions: Option<JiraTransitionNames>,
    /// Custom fields Dispatch fills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<JiraCustomFields>,
    /// The incident takes its issue's key as its name (`SEC-42`), as the original Dispatch did;
    /// its former name keeps finding it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_follows_key: Option<bool>,
    /// Overrides per incident type (by the type's slug or name); not nested further.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_type: BTreeMap<String, JiraProjectSettings>,
}

fn slugish(s: &str) -> String {
    s.trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect()
}

impl JiraProjectSettings {
    /// The settings for an incident of type `type_name`: the type's overrides (matched by slug
    /// or name, ignoring case) over the project's.
    pub fn for_type(&self, type_name: &str) -> JiraProjectSettings {
        let mut out = JiraProjectSettings {
            by_type: BTreeMap::new(),
            ..self.clone()
        };
        let wanted = slugish(type_name);
        let Some(o) = self
            .by_type
            .iter()
            .find(|(k, _)| slugish(k) == wanted)
            .map(|(_, v)| v)
        else {
            return out;
        };
        macro_rules! over {
            ($($f:ident),*) => {$( if o.$f.is_some() { out.$f = o.$f.clone(); } )*};
        }
        over!(project_key, issue_type, labels, name_follows_key);
        if let Some(t) = &o.transitions {
            let mut base = out.transitions.take().unwrap_or_default();
            if t.active.is_some() {
                base.active = t.active.clone();
            }
            if t.stable.is_some() {
                base.stable = t.stable.clone();
            }
            if t.closed.is_some() {
                base.closed = t.closed.clone();
            }
            out.transitions = Some(base);
        }
        if let Some(c) = &o.custom_fields {
            let mut base = out.custom_fields.take().unwrap_or_default();
            if c.commander.is_some() {
                base.commander = c.commander.clone();
            }
            if c.priority.is_some() {
                base.priority = c.priority.clone();
            }
            out.custom_fields = Some(base);
        }
        out
    }

    fn check(&self, at: &str, nested: bool, e: &mut ValidationError) {
        if let Some(k) = &self.project_key {
            let ok = k.len() <= 255
                && k.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && k.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                e.push(
                    format!("{at}.project_key"),
                    "a Jira project key: upper-case letters, digits and _, starting with a letter (e.g. OPS)",
                );
            }
        }
        if self
            .issue_type
            .as_deref()
            .is_some_and(|t| t.trim().is_empty())
        {
            e.push(format!("{at}.issue_type"), "must not be empty");
        }
        for (i, l) in self.labels.iter().flatten().enumerate() {
            if l.is_empty() || l.chars().any(char::is_whitespace) || l.len() > 255 {
                e.push(
                    format!("{at}.labels[{i}]"),
                    "a Jira label: 1-255 characters without spaces",
                );
            }
        }
        if let Some(t) = &self.transitions {
            for (name, v) in [("active", &t.active), ("closed", &t.closed)] {
                if v.as_deref().is_some_and(|v| v.trim().is_empty()) {
                    e.push(
                        format!("{at}.transitions.{name}"),
                        "must name a transition of the workflow",
                    );
                }
            }
        }
        if let Some(c) = &self.custom_fields {
            for (name, v) in [("commander", &c.commander), ("priority", &c.priority)] {
                let ok = v.as_deref().is_none_or(|v| {
                    v.strip_prefix("customfield_")
                        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
                });
                if !ok {
                    e.push(
                        format!("{at}.custom_fields.{name}"),
                        "a custom field id such as customfield_10010",
                    );
                }
            }
        }
        if nested && !self.by_type.is_empty() {
            e.push(format!("{at}.by_type"), "is not allowed inside by_type");
        }
        for (t, s) in &self.by_type {
            s.check(&format!("{at}.by_type.{t}"), true, e);
        }
    }
}

impl ProviderSettings {
    /// Parses settings given over a transport (a JSON object: provider slug → its settings);
    /// every problem is a field error under `field` (e.g. `provider_settings.jira.project_key`).
    pub fn parse(value: &serde_json::Value, field: &str, e: &mut ValidationError) -> Option<Self> {
        let Some(map) = value.as_object() else {
            e.push(field, "must be an object of provider slug: settings");
            return None;
        };
        let mut out = ProviderSettings::default();
        let mut ok = true;
        for (slug, v) in map {
            let at = format!("{field}.{slug}");
            match slug.as_str() {
                "jira" if v.is_null() => out.jira = None,
                "jira" => match serde_json::from_value::<JiraProjectSettings>(v.clone()) {
                    Ok(j) => {
                        j.check(&at, false, e);
                        out.jira = Some(j);
                    }
                    Err(err) => {
                        e.push(at, err.to_string());
                        ok = false;
                    }
                },
                _ => {
                    e.push(
                        at,
                        format!(
                            "no settings for provider {slug:?}; providers with settings: {}",
                            PROVIDERS_WITH_SETTINGS.join(", ")
                        ),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// The settings as stored on a project (`{}` or a bad value: none).
    pub fn from_stored(stored: &str) -> Self {
        serde_json::from_str(stored).unwrap_or_default()
    }

    /// The settings as stored.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_type_overrides_the_project_field_by_field() {
        let mut e = ValidationError::default();
        let s = ProviderSettings::parse(
            &json!({"jira": {"project_key": "OPS", "issue_type": "Incident",
                "transitions": {"closed": "Done", "stable": ""},
                "by_type": {"Security": {"project_key": "SEC", "transitions": {"closed": "Resolve"}}}}}),
            "provider_settings",
            &mut e,
        )
        .unwrap();
        assert!(e.is_empty(), "{e:?}");
        let j = s.jira.unwrap();
        let sec = j.for_type("security");
        assert_eq!(sec.project_key.as_deref(), Some("SEC"));
        assert_eq!(sec.issue_type.as_deref(), Some("Incident"));
        let t = sec.transitions.unwrap();
        assert_eq!(t.closed.as_deref(), Some("Resolve"));
        assert_eq!(t.stable.as_deref(), Some(""));
        assert!(sec.by_type.is_empty());
        assert_eq!(j.for_type("Default").project_key.as_deref(), Some("OPS"));
    }

    #[test]
    fn bad_settings_name_the_field() {
        let mut e = ValidationError::default();
        ProviderSettings::parse(
            &json!({"jira": {"project_key": "ops", "labels": ["a b"],
                "custom_fields": {"commander": "10010"},
                "by_type": {"x": {"by_type": {"y": {}}}}}, "zoom": {}}),
            "provider_settings",
            &mut e,
        );
        let fields: Vec<&str> = e.fields.iter().map(|f| f.field.as_str()).collect();
        for f in [
            "provider_settings.jira.project_key",
            "provider_settings.jira.labels[0]",
            "provider_settings.jira.custom_fields.commander",
            "provider_settings.jira.by_type.x.by_type",
            "provider_settings.zoom",
        ] {
            assert!(fields.contains(&f), "{f} not in {fields:?}");
        }
        let mut e = ValidationError::default();
        assert!(ProviderSettings::parse(
            &json!({"jira": {"projectkey": "OPS"}}),
            "provider_settings",
            &mut e
        )
        .is_none());
        assert!(format!("{e:?}").contains("projectkey"));
    }
}
