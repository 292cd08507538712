//! The `[jira]` and `[zoom]` tables: the ticket and conference providers' settings
//! (`DISPATCH_JIRA_*`, `DISPATCH_ZOOM_*`). Tokens and secrets are hidden from `Debug` and
//! `config show`.

use crate::oncall_config::hidden;
use dispatch_providers::jira::{JiraAuth, JiraProject, JiraSettings, Transitions};
use dispatch_providers::zoom::ZoomSettings;
use serde::{Deserialize, Serialize};

/// The `DISPATCH_*` variables of these tables and their settings' keys.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("DISPATCH_JIRA_URL", "jira.url"),
    ("DISPATCH_JIRA_EMAIL", "jira.email"),
    ("DISPATCH_JIRA_API_TOKEN", "jira.api_token"),
    ("DISPATCH_JIRA_PAT", "jira.pat"),
    ("DISPATCH_JIRA_PROJECT_KEY", "jira.project_key"),
    ("DISPATCH_JIRA_ISSUE_TYPE", "jira.issue_type"),
    ("DISPATCH_JIRA_LABELS", "jira.labels"),
    ("DISPATCH_JIRA_TRANSITION_ACTIVE", "jira.transition_active"),
    ("DISPATCH_JIRA_TRANSITION_STABLE", "jira.transition_stable"),
    ("DISPATCH_JIRA_TRANSITION_CLOSED", "jira.transition_closed"),
    ("DISPATCH_ZOOM_ACCOUNT_ID", "zoom.account_id"),
    ("DISPATCH_ZOOM_CLIENT_ID", "zoom.client_id"),
    ("DISPATCH_ZOOM_CLIENT_SECRET", "zoom.client_secret"),
    ("DISPATCH_ZOOM_API_URL", "zoom.api_url"),
    ("DISPATCH_ZOOM_OAUTH_URL", "zoom.oauth_url"),
];

/// The `[jira]` table.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct JiraConfig {
    /// The site, e.g. `https://example.atlassian.net`; empty: no Jira.
    pub url: String,
    /// Jira Cloud: the Atlassian account's e-mail (with `api_token`).
    pub email: String,
    /// Jira Cloud: the account's API token.
    pub api_token: String,
    /// Jira Data Center / Server: a personal access token (instead of e-mail and API token).
    pub pat: String,
    /// The Jira project issues go to, e.g. `OPS`.
    pub project_key: String,
    /// The issue type's name.
    pub issue_type: String,
    /// Labels put on every issue, comma-separated.
    pub labels: String,
    /// The transition made when an incident is active (empty: none).
    pub transition_active: String,
    /// The transition made when it is stable (skipped when the workflow has none).
    pub transition_stable: String,
    /// The transition made when it is closed.
    pub transition_closed: String,
}

impl Default for JiraConfig {
    fn default() -> Self {
        let p = JiraProject::new("");
        Self {
            url: String::new(),
            email: String::new(),
            api_token: String::new(),
            pat: String::new(),
            project_key: String::new(),
            issue_type: p.issue_type,
            labels: p.labels.join(","),
            transition_active: p.transitions.active,
            transition_stable: p.transitions.stable,
            transition_closed: p.transitions.closed,
        }
    }
}

impl std::fmt::Debug for JiraConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JiraConfig")
            .field("url", &self.url)
            .field("email", &self.email)
            .field("api_token", &hidden(&self.api_token))
            .field("pat", &hidden(&self.pat))
            .field("project_key", &self.project_key)
            .field("issue_type", &self.issue_type)
            .field("labels", &self.labels)
            .finish_non_exhaustive()
    }
}

impl JiraConfig {
    /// The provider's settings, or `None` when no URL is set; missing credentials or project
    /// key are an error naming the setting.
    pub fn settings(&self) -> anyhow::Result<Option<JiraSettings>> {
        let url = self.url.trim().trim_end_matches('/');
        if url.is_empty() {
            return Ok(None);
        }
        if !url.starts_with("http://") && !url.starts_with("https://") {
            anyhow::bail!("jira.url (DISPATCH_JIRA_URL) must start with https://, not {url:?}");
        }
        let (email, token, pat) = (self.email.trim(), self.api_token.trim(), self.pat.trim());
        let auth = match (email.is_empty(), token.is_empty(), pat.is_empty()) {
            (false, false, true) => JiraAuth::Cloud {
                email: email.into(),
                api_token: token.into(),
            },
            (true, true, false) => JiraAuth::DataCenter { token: pat.into() },
            (_, _, false) => anyhow::bail!(
                "jira: set either jira.email and jira.api_token (Jira Cloud: DISPATCH_JIRA_EMAIL, DISPATCH_JIRA_API_TOKEN) or jira.pat (Data Center: DISPATCH_JIRA_PAT), not both"
            ),
            _ => anyhow::bail!(
                "jira: Jira Cloud needs jira.email and jira.api_token (DISPATCH_JIRA_EMAIL, DISPATCH_JIRA_API_TOKEN); Data Center a personal access token in jira.pat (DISPATCH_JIRA_PAT)"
            ),
        };
        let key = self.project_key.trim();
        if key.is_empty() {
            anyhow::bail!("jira.project_key (DISPATCH_JIRA_PROJECT_KEY) is required, e.g. OPS");
        }
        let issue_type = self.issue_type.trim();
        Ok(Some(JiraSettings {
            url: url.into(),
            auth,
            project: JiraProject {
                key: key.into(),
                issue_type: if issue_type.is_empty() {
                    JiraProject::new(key).issue_type
                } else {
                    issue_type.into()
                },
                labels: self
                    .labels
                    .split(',')
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| l.replace(' ', "-"))
                    .collect(),
                transitions: Transitions {
                    active: self.transition_active.trim().into(),
                    stable: self.transition_stable.trim().into(),
                    closed: self.transition_closed.trim().into(),
                },
            },
            timeout: dispatch_providers::vendor_http::REQUEST_TIMEOUT,
        }))
    }

    /// Hides the secrets (for `config show`).
    pub fn redact(&mut self) {
        self.api_token = hidden(&self.api_token);
        self.pat = hidden(&self.pat);
    }
}

/// The `[zoom]` table.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ZoomConfig {
    /// The Zoom account's id (the Server-to-Server OAuth app's App Credentials page).
    pub account_id: String,
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: String,
    /// The REST API; empty: `https://api.zoom.us/v2`.
    pub api_url: String,
    /// The OAuth server; empty: `https://zoom.us`.
    pub oauth_url: String,
}

impl std::fmt::Debug for ZoomConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZoomConfig")
            .field("account_id", &self.account_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &hidden(&self.client_secret))
            .field("api_url", &self.api_url)
            .field("oauth_url", &self.oauth_url)
            .finish()
    }
}

impl ZoomConfig {
    /// The provider's settings, or `None` when nothing is set; a partial set is an error
    /// naming what is missing.
    pub fn settings(&self) -> anyhow::Result<Option<ZoomSettings>> {
        let given = [
            (
                "zoom.account_id (DISPATCH_ZOOM_ACCOUNT_ID)",
                &self.account_id,
            ),
            ("zoom.client_id (DISPATCH_ZOOM_CLIENT_ID)", &self.client_id),
            (
                "zoom.client_secret (DISPATCH_ZOOM_CLIENT_SECRET)",
                &self.client_secret,
            ),
        ];
        let missing: Vec<&str> = given
            .iter()
            .filter(|(_, v)| v.trim().is_empty())
            .map(|(k, _)| *k)
            .collect();
        if missing.len() == given.len() {
            return Ok(None);
        }
        if !missing.is_empty() {
            anyhow::bail!("zoom: {} must be set too", missing.join(", "));
        }
        let mut s = ZoomSettings::new(
            self.account_id.trim(),
            self.client_id.trim(),
            self.client_secret.trim(),
        );
        if !self.api_url.trim().is_empty() {
            s.api_url = self.api_url.trim().into();
        }
        if !self.oauth_url.trim().is_empty() {
            s.oauth_url = self.oauth_url.trim().into();
        }
        Ok(Some(s))
    }

    /// Hides the secret (for `config show`).
    pub fn redact(&mut self) {
        self.client_secret = hidden(&self.client_secret);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jira_needs_one_kind_of_credentials_and_a_project() {
        assert!(JiraConfig::default().settings().unwrap().is_none());
        let cloud = JiraConfig {
            url: "https://example.atlassian.net/".into(),
            email: "bot@example.com".into(),
            api_token: "token-value".into(),
            project_key: "OPS".into(),
            labels: "incident, sev one".into(),
            ..Default::default()
        };
        let s = cloud.settings().unwrap().unwrap();
        assert_eq!(s.url, "https://example.atlassian.net");
        assert!(matches!(s.auth, JiraAuth::Cloud { .. }));
        assert_eq!(s.project.labels, ["incident", "sev-one"]);
        assert_eq!(s.project.transitions.closed, "Done");
        let dc = JiraConfig {
            email: String::new(),
            api_token: String::new(),
            pat: "pat-value".into(),
            ..cloud.clone()
        };
        assert!(matches!(
            dc.settings().unwrap().unwrap().auth,
            JiraAuth::DataCenter { .. }
        ));
        let both = JiraConfig {
            pat: "pat-value".into(),
            ..cloud.clone()
        };
        assert!(both
            .settings()
            .unwrap_err()
            .to_string()
            .contains("not both"));
        let no_key = JiraConfig {
            project_key: " ".into(),
            ..cloud.clone()
        };
        let e = no_key.settings().unwrap_err().to_string();
        assert!(e.contains("DISPATCH_JIRA_PROJECT_KEY"), "{e}");
        let mut shown = cloud;
        assert!(!format!("{shown:?}").contains("token-value"));
        shown.redact();
        assert_eq!(shown.api_token, "***");
    }

    #[test]
    fn zoom_needs_all_three_credentials() {
        assert!(ZoomConfig::default().settings().unwrap().is_none());
        let part = ZoomConfig {
            account_id: "acc".into(),
            ..Default::default()
        };
        let e = part.settings().unwrap_err().to_string();
        assert!(
            e.contains("DISPATCH_ZOOM_CLIENT_ID") && e.contains("DISPATCH_ZOOM_CLIENT_SECRET"),
            "{e}"
        );
        let mut all = ZoomConfig {
            client_id: "id".into(),
            client_secret: "secret-value".into(),
            oauth_url: "http://127.0.0.1:1".into(),
            ..part
        };
        let s = all.settings().unwrap().unwrap();
        assert_eq!(
            (s.api_url.as_str(), s.oauth_url.as_str()),
            ("https://api.zoom.us/v2", "http://127.0.0.1:1")
        );
        assert!(!format!("{all:?}").contains("secret-value"));
        all.redact();
        assert_eq!(all.client_secret, "***");
    }
}
