//! The `[confluence]` table: the Confluence document provider's settings
//! (`DISPATCH_CONFLUENCE_*`). The API token is hidden from `Debug` and `config show`. With no
//! e-mail and token of its own, Confluence signs in with Jira Cloud's (one Atlassian account).

use crate::oncall_config::hidden;
use crate::vendor_config::JiraConfig;
use dispatch_providers::confluence::{ConfluenceSettings, Templates};
use serde::{Deserialize, Serialize};

/// The `DISPATCH_*` variables of this table and their settings' keys.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("DISPATCH_CONFLUENCE_URL", "confluence.url"),
    ("DISPATCH_CONFLUENCE_EMAIL", "confluence.email"),
    ("DISPATCH_CONFLUENCE_API_TOKEN", "confluence.api_token"),
    ("DISPATCH_CONFLUENCE_SPACE_ID", "confluence.space_id"),
    ("DISPATCH_CONFLUENCE_PARENT_ID", "confluence.parent_id"),
    (
        "DISPATCH_CONFLUENCE_TEMPLATE_INCIDENT",
        "confluence.template_incident",
    ),
    (
        "DISPATCH_CONFLUENCE_TEMPLATE_REVIEW",
        "confluence.template_review",
    ),
    (
        "DISPATCH_CONFLUENCE_TEMPLATE_EXECUTIVE",
        "confluence.template_executive",
    ),
];

/// The `[confluence]` table.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ConfluenceConfig {
    /// The site, e.g. `https://example.atlassian.net`; empty: no Confluence.
    pub url: String,
    /// The Atlassian account's e-mail (empty: Jira Cloud's).
    pub email: String,
    /// Its API token (empty: Jira Cloud's).
    pub api_token: String,
    /// The id of the space pages go to.
    pub space_id: String,
    /// The page new pages go under (empty: the space's home page).
    pub parent_id: String,
    /// The incident document's template page id (empty: Dispatch's template).
    pub template_incident: String,
    /// The review document's template page id.
    pub template_review: String,
    /// The executive report's template page id.
    pub template_executive: String,
}

impl std::fmt::Debug for ConfluenceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfluenceConfig")
            .field("url", &self.url)
            .field("email", &self.email)
            .field("api_token", &hidden(&self.api_token))
            .field("space_id", &self.space_id)
            .field("parent_id", &self.parent_id)
            .finish_non_exhaustive()
    }
}

/// A page or space id: digits only.
fn numeric(value: &str, what: &str) -> anyhow::Result<String> {
    let v = value.trim();
    if !v.is_empty() && !v.chars().all(|c| c.is_ascii_digit()) {
        anyhow::bail!("{what} must be a numeric id, not {v:?}");
    }
    Ok(v.to_string())
}

impl ConfluenceConfig {
    /// The provider's settings, or `None` when no URL is set; missing credentials or space are
    /// an error naming the setting. `jira` lends its Cloud credentials when these have none.
    pub fn settings(&self, jira: &JiraConfig) -> anyhow::Result<Option<ConfluenceSettings>> {
        let url = self.url.trim().trim_end_matches('/');
        let url = url.strip_suffix("/wiki").unwrap_or(url);
        if url.is_empty() {
            return Ok(None);
        }
        if !url.starts_with("http://") && !url.starts_with("https://") {
            anyhow::bail!(
                "confluence.url (DISPATCH_CONFLUENCE_URL) must start with https://, not {url:?}"
            );
        }
        let (mut email, mut token) = (self.email.trim(), self.api_token.trim());
        if email.is_empty() && token.is_empty() {
            (email, token) = (jira.email.trim(), jira.api_token.trim());
        }
        if email.is_empty() || token.is_empty() {
            anyhow::bail!(
                "confluence: set confluence.email and confluence.api_token (DISPATCH_CONFLUENCE_EMAIL, DISPATCH_CONFLUENCE_API_TOKEN), or Jira Cloud's"
            );
        }
        let space_id = numeric(
            &self.space_id,
            "confluence.space_id (DISPATCH_CONFLUENCE_SPACE_ID)",
        )?;
        if space_id.is_empty() {
            anyhow::bail!(
                "confluence.space_id (DISPATCH_CONFLUENCE_SPACE_ID) is required: the space's numeric id (GET /wiki/api/v2/spaces?keys=KEY)"
            );
        }
        Ok(Some(ConfluenceSettings {
            url: url.into(),
            email: email.into(),
            api_token: token.into(),
            space_id,
            parent_id: numeric(
                &self.parent_id,
                "confluence.parent_id (DISPATCH_CONFLUENCE_PARENT_ID)",
            )?,
            templates: Templates {
                incident: numeric(
                    &self.template_incident,
                    "confluence.template_incident (DISPATCH_CONFLUENCE_TEMPLATE_INCIDENT)",
                )?,
                review: numeric(
                    &self.template_review,
                    "confluence.template_review (DISPATCH_CONFLUENCE_TEMPLATE_REVIEW)",
                )?,
                executive: numeric(
                    &self.template_executive,
                    "confluence.template_executive (DISPATCH_CONFLUENCE_TEMPLATE_EXECUTIVE)",
                )?,
            },
            timeout: dispatch_providers::vendor_http::REQUEST_TIMEOUT,
        }))
    }

    /// Hides the secret (for `config show`).
    pub fn redact(&mut self) {
        self.api_token = hidden(&self.api_token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confluence_needs_credentials_and_a_numeric_space() {
        let jira = JiraConfig::default();
        assert!(ConfluenceConfig::default()
            .settings(&jira)
            .unwrap()
            .is_none());
        let c = ConfluenceConfig {
            url: "https://example.atlassian.net/wiki/".into(),
            email: "bot@example.com".into(),
            api_token: "token-value".into(),
            space_id: "98306".into(),
            template_review: "65868".into(),
            ..Default::default()
        };
        let s = c.settings(&jira).unwrap().unwrap();
        assert_eq!(s.url, "https://example.atlassian.net");
        assert_eq!(s.templates.review, "65868");
        let e = ConfluenceConfig {
            space_id: "OPS".into(),
            ..c.clone()
        }
        .settings(&jira)
        .unwrap_err()
        .to_string();
        assert!(e.contains("DISPATCH_CONFLUENCE_SPACE_ID"), "{e}");
        let e = ConfluenceConfig {
            api_token: String::new(),
            ..c.clone()
        }
        .settings(&jira)
        .unwrap_err()
        .to_string();
        assert!(e.contains("DISPATCH_CONFLUENCE_API_TOKEN"), "{e}");
        // Jira Cloud's account serves when Confluence has none of its own.
        let jira = JiraConfig {
            email: "jira@example.com".into(),
            api_token: "jira-token".into(),
            ..Default::default()
        };
        let borrowed = ConfluenceConfig {
            email: String::new(),
            api_token: String::new(),
            ..c.clone()
        }
        .settings(&jira)
        .unwrap()
        .unwrap();
        assert_eq!(borrowed.email, "jira@example.com");
        let mut shown = c;
        assert!(!format!("{shown:?}").contains("token-value"));
        shown.redact();
        assert_eq!(shown.api_token, "***");
    }
}
