//! Google Workspace as the storage, document and participant-group provider, through one
//! service account with domain-wide delegation (it acts as a configured Workspace user):
//!
//! - [`drive::GoogleStorage`]: a Drive folder per incident, shared with its participants;
//! - [`docs::GoogleDocuments`]: the incident, review and executive documents, copies of template
//!   documents with `{{placeholders}}` filled by the Docs API;
//! - [`directory::GoogleGroups`]: a Google Group per incident (Admin SDK Directory API).
//!
//! Access tokens come from the JWT grant ([`auth`]) and are kept per set of scopes until a
//! minute before they expire. Google's error body (`{"error": {"code", "message", "status",
//! "errors": [{"reason", …}]}}`) becomes the message of the failed step; 429 answers are retried
//! after `Retry-After` ([`crate::vendor_http`]), and any other failure fails the job step, which
//! the job queue retries with backoff.

pub mod auth;
pub mod directory;
pub mod docs;
pub mod drive;

use crate::vendor_http::{Answer, VendorHttp};
use dispatch_core::provider::{ProviderError, ProviderResult};
use reqwest::Method;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use auth::ServiceAccountKey;

/// The providers' slug (for every capability).
pub const SLUG: &str = "google";

/// Google's token endpoint.
pub const TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// The Drive API v3.
pub const DRIVE_URL: &str = "https://www.googleapis.com/drive/v3";
/// The Docs API v1.
pub const DOCS_URL: &str = "https://docs.googleapis.com/v1";
/// The Admin SDK Directory API v1.
pub const DIRECTORY_URL: &str = "https://admin.googleapis.com/admin/directory/v1";

/// Drive (folders, copies, permissions).
pub const SCOPE_DRIVE: &str = "https://www.googleapis.com/auth/drive";
/// Docs (filling the documents).
pub const SCOPE_DOCUMENTS: &str = "https://www.googleapis.com/auth/documents";
/// Groups and their members.
pub const SCOPE_GROUPS: &str = "https://www.googleapis.com/auth/admin.directory.group";

/// The setting holding the key, for messages.
const CREDENTIAL: &str = "DISPATCH_GOOGLE_SERVICE_ACCOUNT_KEY and DISPATCH_GOOGLE_SUBJECT";

/// A token is renewed this long before Google says it expires.
const EARLY: Duration = Duration::from_secs(60);

/// What happens to an incident's folder when the incident closes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FolderOnClose {
    /// It stays where it is, shared as it was.
    #[default]
    Keep,
    /// It moves into this archive folder (and back on re-open).
    Archive(String),
    /// The people it was shared with lose their access (owners and organizers keep theirs).
    Revoke,
}

/// The template documents copied for each kind of document (Drive file ids; empty: that kind
/// is not made in Google Docs and fails with a message saying which setting to fill).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Templates {
    /// The incident document's template.
    pub incident: String,
    /// The review document's.
    pub review: String,
    /// The executive report's.
    pub executive: String,
}

/// Google Workspace's settings.
#[derive(Clone)]
pub struct GoogleSettings {
    /// The service account's key.
    pub key: ServiceAccountKey,
    /// The Workspace user the service account acts as (domain-wide delegation): folders and
    /// documents are theirs; for groups an administrator.
    pub subject: String,
    /// The folder (or shared drive) incident folders are made in; empty: the subject's My Drive.
    pub folder_id: String,
    /// Per incident type (by name or slug, any case): the folder its incidents' folders go in.
    pub folders_by_type: BTreeMap<String, String>,
    /// Per tag (by name, any case): the folder the folders of incidents with that tag go in
    /// (before the type's).
    pub folders_by_tag: BTreeMap<String, String>,
    /// What closing does to the folder.
    pub on_close: FolderOnClose,
    /// Template documents.
    pub templates: Templates,
    /// The domain groups are made in (`inc-7-responders@<domain>`); empty: no groups.
    pub group_domain: String,
    /// Delete the incident's groups when it closes (else they are kept).
    pub delete_groups_on_close: bool,
    /// The token endpoint; empty: the key's `token_uri`.
    pub token_url: String,
    /// The Drive API.
    pub drive_url: String,
    /// The Docs API.
    pub docs_url: String,
    /// The Directory API.
    pub directory_url: String,
    /// How long one request may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for GoogleSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleSettings")
            .field("client_email", &self.key.client_email)
            .field("subject", &self.subject)
            .field("folder_id", &self.folder_id)
            .field("on_close", &self.on_close)
            .field("templates", &self.templates)
            .field("group_domain", &self.group_domain)
            .finish_non_exhaustive()
    }
}

impl GoogleSettings {
    /// Settings with Google's own URLs and nothing else chosen.
    pub fn new(key: ServiceAccountKey, subject: &str) -> Self {
        Self {
            key,
            subject: subject.trim().into(),
            folder_id: String::new(),
            folders_by_type: BTreeMap::new(),
            folders_by_tag: BTreeMap::new(),
            on_close: FolderOnClose::Keep,
            templates: Templates::default(),
            group_domain: String::new(),
            delete_groups_on_close: false,
            token_url: String::new(),
            drive_url: DRIVE_URL.into(),
            docs_url: DOCS_URL.into(),
            directory_url: DIRECTORY_URL.into(),
            timeout: crate::vendor_http::REQUEST_TIMEOUT,
        }
    }

    /// Where tokens come from.
    pub fn token_endpoint(&self) -> &str {
        if self.token_url.trim().is_empty() {
            &self.key.token_uri
        } else {
            self.token_url.trim()
        }
    }
}

/// The three APIs.
#[derive(Debug, Clone, Copy)]
pub enum Api {
    /// Drive v3.
    Drive,
    /// Docs v1.
    Docs,
    /// Directory v1.
    Directory,
}

/// The client the three providers share: settings, HTTP, and the tokens kept per scope set.
pub struct Google {
    settings: GoogleSettings,
    http: VendorHttp,
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

/// Google's own words from an error body: the message, the status (`NOT_FOUND`) and the
/// reasons (`notFound`), or an OAuth error's description.
pub fn detail(body: &Value) -> String {
    let e = &body["error"];
    let mut words: Vec<String> = Vec::new();
    if let Some(obj) = e.as_object() {
        if let Some(m) = obj.get("message").and_then(Value::as_str) {
            words.push(m.to_string());
        }
        let mut tags: Vec<String> = Vec::new();
        if let Some(s) = obj.get("status").and_then(Value::as_str) {
            tags.push(s.to_string());
        }
        for r in obj
            .get("errors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(reason) = r["reason"].as_str() {
                if !tags.iter().any(|t| t == reason) {
                    tags.push(reason.to_string());
                }
            }
        }
        if !tags.is_empty() {
            words.push(tags.join(", "));
        }
    } else if let Some(code) = e.as_str() {
        words.push(code.to_string());
        if let Some(d) = body["error_description"].as_str() {
            words.push(d.to_string());
        }
    }
    if words.is_empty() {
        String::new()
    } else {
        format!(" ({})", words.join("; "))
    }
}

/// The reasons in a Google error body (`notFound`, `rateLimitExceeded`, …).
pub fn reasons(body: &Value) -> Vec<String> {
    body["error"]["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["reason"].as_str().map(str::to_string))
        .collect()
}

impl Google {
    /// The client with these settings.
    pub fn new(settings: GoogleSettings) -> Arc<Self> {
        let http = VendorHttp::with_timeout(SLUG, "Google", CREDENTIAL, settings.timeout);
        Arc::new(Self {
            settings,
            http,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// The settings.
    pub fn settings(&self) -> &GoogleSettings {
        &self.settings
    }

    /// An error of this provider.
    pub fn error(&self, message: impl Into<String>) -> ProviderError {
        self.http.error(message)
    }

    /// The error for a non-2xx answer: what failed, Google's words, and what to check.
    pub fn failed(&self, what: &str, a: &Answer, scopes: &[&str]) -> ProviderError {
        let hint = match a.status {
            401 => format!(": Google did not accept the credentials; check {CREDENTIAL}"),
            403 if reasons(&a.body)
                .iter()
                .any(|r| r.contains("RateLimitExceeded") || r == "rateLimitExceeded") =>
            {
                ": Google is rate limiting Dispatch; the job is retried later".into()
            }
            403 if scopes.contains(&SCOPE_GROUPS) => format!(
                ": {} may not manage groups; give them an administrator role with the Groups privileges (https://admin.google.com/ac/roles) and delegate the scope {SCOPE_GROUPS}",
                self.settings.subject
            ),
            403 => format!(
                ": {} lacks the permission for this; check that {} may do it (scopes {})",
                self.settings.subject,
                self.settings.subject,
                scopes.join(" ")
            ),
            _ => String::new(),
        };
        self.error(format!(
            "{what}: Google answered {}{hint}{}",
            a.status,
            detail(&a.body)
        ))
    }

    /// Drops the kept tokens, so the next call makes a grant (a check tests the grant too).
    pub fn forget_tokens(&self) {
        self.tokens.lock().unwrap().clear();
    }

    /// An access token for `scopes`: the kept one while it lasts, else a new one.
    pub async fn access_token(&self, scopes: &[&str]) -> ProviderResult<String> {
        let set = scopes.join(" ");
        if let Some((t, until)) = self.tokens.lock().unwrap().get(&set) {
            if Instant::now() < *until {
                return Ok(t.clone());
            }
        }
        let url = self.settings.token_endpoint().to_string();
        let iat = chrono::Utc::now().timestamp();
        let assertion = self
            .settings
            .key
            .assertion(&self.settings.subject, scopes, &url, iat);
        let form = [("grant_type", auth::GRANT_TYPE), ("assertion", &assertion)];
        let a = self
            .http
            .send("getting an access token", || {
                self.http.client().post(&url).form(&form)
            })
            .await?;
        if !(200..300).contains(&a.status) {
            let code = a.body["error"].as_str().unwrap_or_default();
            let hint = match code {
                "unauthorized_client" | "access_denied" => format!(
                    ": the service account {} is not allowed to act as {} with the scopes {set}; in the Admin console (Security → API controls → Domain-wide delegation, https://admin.google.com/ac/owl/domainwidedelegation) give its client id these scopes",
                    self.settings.key.client_email, self.settings.subject
                ),
                "invalid_grant" => format!(
                    ": check the key (DISPATCH_GOOGLE_SERVICE_ACCOUNT_KEY), that {} exists in Workspace (DISPATCH_GOOGLE_SUBJECT), and the server's clock",
                    self.settings.subject
                ),
                _ => format!(": check {CREDENTIAL}"),
            };
            return Err(self.error(format!(
                "getting an access token: Google answered {}{hint}{}",
                a.status,
                detail(&a.body)
            )));
        }
        let token = a.body["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| self.error("getting an access token: Google gave no access_token"))?
            .to_string();
        let lasts = Duration::from_secs(a.body["expires_in"].as_u64().unwrap_or(3600));
        let until = Instant::now() + lasts.saturating_sub(EARLY);
        self.tokens
            .lock()
            .unwrap()
            .insert(set, (token.clone(), until));
        Ok(token)
    }

    fn base(&self, api: Api) -> &str {
        match api {
            Api::Drive => &self.settings.drive_url,
            Api::Docs => &self.settings.docs_url,
            Api::Directory => &self.settings.directory_url,
        }
        .trim_end_matches('/')
    }

    /// Sends an API request with a token for `scopes`; a 401 drops the kept token, so the
    /// next try gets a new one.
    pub async fn call(
        &self,
        what: &str,
        scopes: &[&str],
        method: Method,
        (api, path): (Api, &str),
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> ProviderResult<Answer> {
        let token = self.access_token(scopes).await?;
        let url = format!("{}{path}", self.base(api));
        let a = self
            .http
            .send(what, || {
                let b = self
                    .http
                    .client()
                    .request(method.clone(), &url)
                    .query(query)
                    .bearer_auth(&token);
                match body {
                    Some(v) => b.json(v),
                    None => b,
                }
            })
            .await?;
        if a.status == 401 {
            self.tokens.lock().unwrap().remove(&scopes.join(" "));
        }
        Ok(a)
    }

    /// The `items` of every page of a listing, following `nextPageToken` with `pageToken`
    /// (at most `max_pages` pages); a non-2xx answer is an error.
    pub async fn listing(
        &self,
        what: &str,
        scopes: &[&str],
        target: (Api, &str),
        query: &[(&str, &str)],
        (items, max_pages): (&str, usize),
    ) -> ProviderResult<Vec<Value>> {
        let mut out = Vec::new();
        let mut page = String::new();
        for _ in 0..max_pages {
            let mut q = query.to_vec();
            if !page.is_empty() {
                q.push(("pageToken", page.as_str()));
            }
            let mut body = self
                .call_ok(what, scopes, Method::GET, target, &q, None)
                .await?;
            if let Some(list) = body[items].as_array_mut() {
                out.append(list);
            }
            match body["nextPageToken"].as_str() {
                Some(t) if !t.is_empty() => page = t.to_string(),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Like [`Google::call`], and a non-2xx answer is an error.
    pub async fn call_ok(
        &self,
        what: &str,
        scopes: &[&str],
        method: Method,
        target: (Api, &str),
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> ProviderResult<Value> {
        let a = self.call(what, scopes, method, target, query, body).await?;
        if (200..300).contains(&a.status) {
            Ok(a.body)
        } else {
            Err(self.failed(what, &a, scopes))
        }
    }
}

/// A path segment with the characters a URL path cannot carry escaped.
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'@' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn googles_error_body_becomes_its_message_status_and_reasons() {
        let body = json!({"error": {"code": 404, "message": "File not found: 1x2y.",
            "errors": [{"message": "File not found: 1x2y.", "domain": "global", "reason": "notFound",
                        "location": "fileId", "locationType": "parameter"}]}});
        assert_eq!(detail(&body), " (File not found: 1x2y.; notFound)");
        let body = json!({"error": {"code": 404, "message": "Requested entity was not found.",
            "status": "NOT_FOUND"}});
        assert_eq!(
            detail(&body),
            " (Requested entity was not found.; NOT_FOUND)"
        );
        let body = json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."});
        assert_eq!(detail(&body), " (invalid_grant; Invalid JWT Signature.)");
        assert_eq!(detail(&Value::Null), "");
        assert_eq!(segment("a b/c@d"), "a%20b%2Fc@d");
    }
}
