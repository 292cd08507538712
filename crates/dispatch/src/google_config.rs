//! The `[google]` table: Google Workspace as the storage, document and group provider
//! (`DISPATCH_GOOGLE_*`). The service account key (a file path, or the key file's JSON itself,
//! which may be kept sealed with `dispatch providers secret set
//! DISPATCH_GOOGLE_SERVICE_ACCOUNT_KEY`) is hidden from `Debug` and `config show`.

use crate::oncall_config::hidden;
use dispatch_providers::google::{
    directory::GoogleGroups, docs::GoogleDocuments, drive::GoogleStorage, FolderOnClose, Google,
    GoogleSettings, ServiceAccountKey, Templates,
};
use serde::{Deserialize, Serialize};

/// The `DISPATCH_*` variables of the table and their settings' keys.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "DISPATCH_GOOGLE_SERVICE_ACCOUNT_KEY",
        "google.service_account_key",
    ),
    ("DISPATCH_GOOGLE_SUBJECT", "google.subject"),
    ("DISPATCH_GOOGLE_FOLDER_ID", "google.folder_id"),
    ("DISPATCH_GOOGLE_TYPE_FOLDERS", "google.type_folders"),
    ("DISPATCH_GOOGLE_TAG_FOLDERS", "google.tag_folders"),
    ("DISPATCH_GOOGLE_FOLDER_ON_CLOSE", "google.folder_on_close"),
    (
        "DISPATCH_GOOGLE_ARCHIVE_FOLDER_ID",
        "google.archive_folder_id",
    ),
    (
        "DISPATCH_GOOGLE_TEMPLATE_INCIDENT",
        "google.template_incident",
    ),
    ("DISPATCH_GOOGLE_TEMPLATE_REVIEW", "google.template_review"),
    (
        "DISPATCH_GOOGLE_TEMPLATE_EXECUTIVE",
        "google.template_executive",
    ),
    ("DISPATCH_GOOGLE_GROUP_DOMAIN", "google.group_domain"),
    ("DISPATCH_GOOGLE_GROUP_ON_CLOSE", "google.group_on_close"),
    ("DISPATCH_GOOGLE_TOKEN_URL", "google.token_url"),
    ("DISPATCH_GOOGLE_DRIVE_URL", "google.drive_url"),
    ("DISPATCH_GOOGLE_DOCS_URL", "google.docs_url"),
    ("DISPATCH_GOOGLE_DIRECTORY_URL", "google.directory_url"),
];

/// The `[google]` table.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct GoogleConfig {
    /// The service account's JSON key: a file's path, or the JSON itself; empty: no Google.
    pub service_account_key: String,
    /// The Workspace user the account acts as (domain-wide delegation).
    pub subject: String,
    /// The folder or shared drive incident folders go in; empty: the subject's My Drive.
    pub folder_id: String,
    /// Per incident type, its own folder: `security=FOLDER_ID, payments=FOLDER_ID`.
    pub type_folders: String,
    /// Per tag, its own folder (before the type's): `pci=FOLDER_ID, customer-data=FOLDER_ID`.
    pub tag_folders: String,
    /// On close: `keep`, `archive` (move to `archive_folder_id`) or `revoke` (access removed).
    pub folder_on_close: String,
    /// The archive folder (with `folder_on_close = "archive"`).
    pub archive_folder_id: String,
    /// The incident document's template (a Google Docs file id).
    pub template_incident: String,
    /// The review document's template.
    pub template_review: String,
    /// The executive report's template.
    pub template_executive: String,
    /// The domain incident groups are made in; empty: no Google Groups.
    pub group_domain: String,
    /// On close: `keep` or `delete` the groups.
    pub group_on_close: String,
    /// Empty: the key's `token_uri`.
    pub token_url: String,
    /// Empty: Google's.
    pub drive_url: String,
    /// Empty: Google's.
    pub docs_url: String,
    /// Empty: Google's.
    pub directory_url: String,
}

impl Default for GoogleConfig {
    fn default() -> Self {
        Self {
            service_account_key: String::new(),
            subject: String::new(),
            folder_id: String::new(),
            type_folders: String::new(),
            tag_folders: String::new(),
            folder_on_close: "keep".into(),
            archive_folder_id: String::new(),
            template_incident: String::new(),
            template_review: String::new(),
            template_executive: String::new(),
            group_domain: String::new(),
            group_on_close: "keep".into(),
            token_url: String::new(),
            drive_url: String::new(),
            docs_url: String::new(),
            directory_url: String::new(),
        }
    }
}

impl std::fmt::Debug for GoogleConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleConfig")
            .field("service_account_key", &hidden(&self.service_account_key))
            .field("subject", &self.subject)
            .field("folder_id", &self.folder_id)
            .field("folder_on_close", &self.folder_on_close)
            .field("group_domain", &self.group_domain)
            .finish_non_exhaustive()
    }
}

/// The Google providers a configuration makes: storage always, documents with a template,
/// groups with a domain.
pub struct GoogleProviders {
    /// Drive folders.
    pub storage: GoogleStorage,
    /// Docs documents, when a template is set.
    pub documents: Option<GoogleDocuments>,
    /// Groups, when a domain is set.
    pub groups: Option<GoogleGroups>,
}

/// `NAME=FOLDER_ID, …` as a map; `setting` and `what` name the setting and its keys in the error.
fn pairs(
    list: &str,
    setting: &str,
    what: &str,
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    for pair in list.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, id) = pair
            .split_once('=')
            .filter(|(k, id)| !k.trim().is_empty() && !id.trim().is_empty())
            .ok_or_else(|| anyhow::anyhow!("{setting}: {pair:?} is not {what}=FOLDER_ID"))?;
        out.insert(k.trim().to_string(), id.trim().to_string());
    }
    Ok(out)
}

impl GoogleConfig {
    /// The key file's JSON: the setting itself when it is JSON, else the file it names.
    fn key_json(&self) -> anyhow::Result<String> {
        let k = self.service_account_key.trim();
        if k.starts_with('{') {
            return Ok(k.to_string());
        }
        std::fs::read_to_string(k).map_err(|e| {
            anyhow::anyhow!(
                "google.service_account_key (DISPATCH_GOOGLE_SERVICE_ACCOUNT_KEY): cannot read the key file {k:?}: {e}"
            )
        })
    }

    /// The settings, or `None` when no key is set; anything that cannot work is an error
    /// naming the setting.
    pub fn settings(&self) -> anyhow::Result<Option<GoogleSettings>> {
        if self.service_account_key.trim().is_empty() {
            return Ok(None);
        }
        let key = ServiceAccountKey::parse(&self.key_json()?).map_err(|e| {
            anyhow::anyhow!("google.service_account_key (DISPATCH_GOOGLE_SERVICE_ACCOUNT_KEY): {e}")
        })?;
        let subject = self.subject.trim();
        if !subject.contains('@') {
            anyhow::bail!(
                "google.subject (DISPATCH_GOOGLE_SUBJECT) must be the e-mail of the Workspace user Dispatch acts as, not {subject:?}"
            );
        }
        let mut s = GoogleSettings::new(key, subject);
        s.folder_id = self.folder_id.trim().into();
        s.folders_by_type = pairs(
            &self.type_folders,
            "google.type_folders (DISPATCH_GOOGLE_TYPE_FOLDERS)",
            "TYPE",
        )?;
        s.folders_by_tag = pairs(
            &self.tag_folders,
            "google.tag_folders (DISPATCH_GOOGLE_TAG_FOLDERS)",
            "TAG",
        )?;
        s.on_close = match self.folder_on_close.trim() {
            "" | "keep" => FolderOnClose::Keep,
            "revoke" => FolderOnClose::Revoke,
            "archive" => {
                let a = self.archive_folder_id.trim();
                if a.is_empty() {
                    anyhow::bail!(
                        "google.folder_on_close = \"archive\" needs google.archive_folder_id (DISPATCH_GOOGLE_ARCHIVE_FOLDER_ID)"
                    );
                }
                FolderOnClose::Archive(a.into())
            }
            other => anyhow::bail!(
                "google.folder_on_close (DISPATCH_GOOGLE_FOLDER_ON_CLOSE) must be keep, archive or revoke, not {other:?}"
            ),
        };
        s.templates = Templates {
            incident: self.template_incident.trim().into(),
            review: self.template_review.trim().into(),
            executive: self.template_executive.trim().into(),
        };
        s.group_domain = self.group_domain.trim().trim_start_matches('@').into();
        s.delete_groups_on_close = match self.group_on_close.trim() {
            "" | "keep" => false,
            "delete" => true,
            other => anyhow::bail!(
                "google.group_on_close (DISPATCH_GOOGLE_GROUP_ON_CLOSE) must be keep or delete, not {other:?}"
            ),
        };
        s.token_url = self.token_url.trim().into();
        for (url, from) in [
            (&mut s.drive_url, &self.drive_url),
            (&mut s.docs_url, &self.docs_url),
            (&mut s.directory_url, &self.directory_url),
        ] {
            if !from.trim().is_empty() {
                *url = from.trim().into();
            }
        }
        Ok(Some(s))
    }

    /// The providers, or `None` when Google is not configured.
    pub fn providers(&self) -> anyhow::Result<Option<GoogleProviders>> {
        let Some(s) = self.settings()? else {
            return Ok(None);
        };
        let documents = !(s.templates.incident.is_empty()
            && s.templates.review.is_empty()
            && s.templates.executive.is_empty());
        let groups = !s.group_domain.is_empty();
        let google = Google::new(s);
        Ok(Some(GoogleProviders {
            storage: GoogleStorage::new(google.clone()),
            documents: documents.then(|| GoogleDocuments::new(google.clone())),
            groups: groups.then(|| GoogleGroups::new(google)),
        }))
    }

    /// Hides the key (for `config show`).
    pub fn redact(&mut self) {
        self.service_account_key = hidden(&self.service_account_key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> String {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/it/fixtures/google/service-account.json"
        ))
        .unwrap()
    }

    #[test]
    fn google_needs_a_key_and_a_subject_and_names_bad_settings() {
        assert!(GoogleConfig::default().settings().unwrap().is_none());
        let c = GoogleConfig {
            service_account_key: key(),
            subject: "admin@example.com".into(),
            type_folders: "security = F1, payments=F2".into(),
            tag_folders: "pci=F3".into(),
            folder_on_close: "archive".into(),
            archive_folder_id: "ARCH".into(),
            group_domain: "@groups.example.com".into(),
            ..Default::default()
        };
        let s = c.settings().unwrap().unwrap();
        assert_eq!(s.on_close, FolderOnClose::Archive("ARCH".into()));
        assert_eq!(s.folders_by_type["security"], "F1");
        assert_eq!(s.folders_by_tag["pci"], "F3");
        let e = GoogleConfig {
            tag_folders: "pci".into(),
            ..c.clone()
        }
        .settings()
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("DISPATCH_GOOGLE_TAG_FOLDERS") && e.contains("TAG=FOLDER_ID"),
            "{e}"
        );
        assert_eq!(s.group_domain, "groups.example.com");
        assert_eq!(s.token_endpoint(), "https://oauth2.googleapis.com/token");
        let p = c.providers().unwrap().unwrap();
        assert!(p.documents.is_none() && p.groups.is_some());
        let e = GoogleConfig {
            subject: String::new(),
            ..c.clone()
        }
        .settings()
        .unwrap_err()
        .to_string();
        assert!(e.contains("DISPATCH_GOOGLE_SUBJECT"), "{e}");
        let e = GoogleConfig {
            archive_folder_id: String::new(),
            ..c.clone()
        }
        .settings()
        .unwrap_err()
        .to_string();
        assert!(e.contains("DISPATCH_GOOGLE_ARCHIVE_FOLDER_ID"), "{e}");
        let e = GoogleConfig {
            service_account_key: "/nonexistent/key.json".into(),
            ..c.clone()
        }
        .settings()
        .unwrap_err()
        .to_string();
        assert!(e.contains("cannot read the key file"), "{e}");
        let mut shown = c.clone();
        assert!(!format!("{shown:?}").contains("PRIVATE KEY"));
        shown.redact();
        assert_eq!(shown.service_account_key, "***");
    }

    #[test]
    fn a_key_kept_sealed_in_the_database_fills_the_setting_when_none_is_given() {
        let mut cfg = crate::config::Config::default();
        cfg.google.subject = "admin@example.com".into();
        let used = cfg
            .use_stored_credentials(&[("DISPATCH_GOOGLE_SERVICE_ACCOUNT_KEY".into(), key())])
            .unwrap();
        assert_eq!(used, ["DISPATCH_GOOGLE_SERVICE_ACCOUNT_KEY"]);
        let s = cfg.google.settings().unwrap().expect("Google is on");
        assert_eq!(
            s.key.client_email,
            "dispatch@dispatch-test.iam.gserviceaccount.com"
        );
    }
}
