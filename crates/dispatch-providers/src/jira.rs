//! Jira as a ticket provider: Jira Cloud (REST API v3, basic auth with an account's e-mail and
//! API token, descriptions in Atlassian Document Format) and Jira Data Center / Server (REST
//! API v2, a personal access token as bearer, descriptions in wiki markup).
//!
//! On declare the issue is looked up first (JQL search by the label `dispatch-<incident name>`
//! in the configured project), and created only when there is none, so a retried job never
//! makes a second one; the ticket resource links to `{url}/browse/{key}`. Every refresh brings
//! the summary and the description (status, priority, commander, links to the incident, its
//! room and documents) up to date, and moves the issue through the transition *named* for the
//! incident's status (looked up with `GET …/issue/{key}/transitions`, never a fixed id). An
//! issue already in that status is left alone, so a retried move happens once. The resolution
//! goes with the closing transition as its comment, in the same request.
//!
//! A project (and each incident type in it) may send its issues elsewhere: its
//! `provider_settings.jira` (project key, issue type, labels, transition names, custom fields
//! for the commander and the priority) go over the server's `DISPATCH_JIRA_*` settings.

use crate::vendor_http::VendorHttp;
use async_trait::async_trait;
use dispatch_core::provider::{Created, IncidentContext, ProviderResult, ResourceProvider};
use dispatch_core::provider_settings::JiraCustomFields;
use dispatch_core::ResourceKind;
use reqwest::Method;
use serde_json::{json, Value};

/// The provider's slug.
pub const SLUG: &str = "jira";

/// How Dispatch signs in to Jira.
#[derive(Clone, PartialEq, Eq)]
pub enum JiraAuth {
    /// Jira Cloud: an Atlassian account's e-mail and API token (basic auth), REST API v3.
    Cloud {
        /// The account's e-mail.
        email: String,
        /// Its API token.
        api_token: String,
    },
    /// Jira Data Center / Server: a personal access token (bearer), REST API v2.
    DataCenter {
        /// The token.
        token: String,
    },
}

/// The transition names that move an issue when the incident becomes active, stable or closed
/// (an empty name: no move for that status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transitions {
    /// On declare and re-open.
    pub active: String,
    /// When the incident is stable (skipped when the workflow offers no such transition).
    pub stable: String,
    /// On close (carries the resolution as a comment).
    pub closed: String,
}

impl Default for Transitions {
    fn default() -> Self {
        Self {
            active: "In Progress".into(),
            stable: "Stable".into(),
            closed: "Done".into(),
        }
    }
}

/// Where the issues go: the Jira project, issue type, labels and transition names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JiraProject {
    /// The Jira project key, e.g. `OPS`.
    pub key: String,
    /// The issue type's name, e.g. `Task` or `Incident`.
    pub issue_type: String,
    /// Labels put on every issue (besides `dispatch-<incident name>`).
    pub labels: Vec<String>,
    /// Transition names per incident status.
    pub transitions: Transitions,
}

impl JiraProject {
    /// Project `key` with issue type `Task`, the label `incident` and the default transitions.
    pub fn new(key: &str) -> Self {
        Self {
            key: key.trim().into(),
            issue_type: "Task".into(),
            labels: vec!["incident".into()],
            transitions: Transitions::default(),
        }
    }
}

/// Jira's settings.
#[derive(Clone)]
pub struct JiraSettings {
    /// The site, e.g. `https://example.atlassian.net` or `https://jira.example.com`.
    pub url: String,
    /// The credentials.
    pub auth: JiraAuth,
    /// Where issues go.
    pub project: JiraProject,
    /// How long one request may take.
    pub timeout: std::time::Duration,
}

impl std::fmt::Debug for JiraSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JiraSettings")
            .field("url", &self.url)
            .field("cloud", &matches!(self.auth, JiraAuth::Cloud { .. }))
            .field("project", &self.project)
            .finish_non_exhaustive()
    }
}

/// Jira, tickets.
pub struct Jira {
    settings: JiraSettings,
    http: VendorHttp,
    /// What a custom user field is set to for an e-mail (`None`: Jira knows no such user).
    users: std::sync::Mutex<std::collections::HashMap<String, Option<Value>>>,
}

/// Where one incident's issue goes and what custom fields it fills.
struct Target {
    project: JiraProject,
    custom: JiraCustomFields,
    /// The incident takes the issue's key as its name.
    name_follows_key: bool,
}

/// Whether every key of `desired` (an object) has the same value in `existing`.
fn holds(existing: &Value, desired: &Value) -> bool {
    match desired.as_object() {
        Some(d) => d.iter().all(|(k, v)| existing.get(k) == Some(v)),
        None => existing == desired,
    }
}

/// The label that marks the issue of one incident (labels have no spaces).
pub fn marker(incident: &str) -> String {
    format!("dispatch-{}", crate::dashed(incident))
}

/// One piece of a description line: text, or a link.
enum Piece {
    Text(String),
    Link(String, String),
}

fn kind_label(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Conversation => "Room",
        ResourceKind::Document => "Incident document",
        ResourceKind::ReviewDocument => "Review document",
        ResourceKind::ExecutiveDocument => "Executive report",
        ResourceKind::Conference => "Conference",
        ResourceKind::Storage => "Files",
        ResourceKind::Group => "Group",
        ResourceKind::Ticket => "Ticket",
    }
}

/// The description's lines: the incident's own description, its state, and links.
fn description_lines(ctx: &IncidentContext) -> Vec<Vec<Piece>> {
    let mut lines: Vec<Vec<Piece>> = ctx
        .description
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .map(|l| vec![Piece::Text(l.to_string())])
        .collect();
    lines.push(vec![Piece::Text(format!(
        "Status: {} · Priority: {} · Severity: {} · Type: {}",
        ctx.status, ctx.priority, ctx.severity, ctx.incident_type
    ))]);
    lines.push(vec![Piece::Text(format!(
        "Commander: {} ({})",
        ctx.commander.name, ctx.commander.email
    ))]);
    let incident = format!("{}/incidents/{}", ctx.base_url, ctx.name);
    lines.push(vec![
        Piece::Text("Incident: ".into()),
        Piece::Link(format!("{} in Dispatch", ctx.name), incident),
    ]);
    for (kind, link) in ctx.links.iter().filter(|(k, _)| *k != ResourceKind::Ticket) {
        lines.push(vec![
            Piece::Text(format!("{}: ", kind_label(*kind))),
            Piece::Link(link.clone(), link.clone()),
        ]);
    }
    if let Some(r) = ctx.resolution.as_deref().filter(|r| !r.trim().is_empty()) {
        lines.push(vec![Piece::Text(format!("Resolution: {}", r.trim()))]);
    }
    lines
}

/// Lines as an Atlassian Document Format document (one paragraph each).
fn adf(lines: &[Vec<Piece>]) -> Value {
    let paragraphs: Vec<Value> = lines
        .iter()
        .map(|line| {
            let content: Vec<Value> = line
                .iter()
                .filter_map(|p| match p {
                    Piece::Text(t) if t.is_empty() => None,
                    Piece::Text(t) => Some(json!({"type": "text", "text": t})),
                    Piece::Link(t, href) => Some(json!({"type": "text", "text": t,
                        "marks": [{"type": "link", "attrs": {"href": href}}]})),
                })
                .collect();
            json!({"type": "paragraph", "content": content})
        })
        .collect();
    json!({"type": "doc", "version": 1, "content": paragraphs})
}

/// Lines as wiki markup (Jira Data Center's text fields).
fn wiki(lines: &[Vec<Piece>]) -> String {
    lines
        .iter()
        .map(|line| {
            line.iter()
                .map(|p| match p {
                    Piece::Text(t) => t.clone(),
                    Piece::Link(t, href) if t == href => format!("[{href}]"),
                    Piece::Link(t, href) => format!("[{}|{href}]", t.replace(['[', ']', '|'], " ")),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The summary: the title on one line, at most 255 characters (Jira's limit).
fn summary(ctx: &IncidentContext) -> String {
    crate::vendor_http::one_line(&ctx.title, 255)
}

impl Jira {
    /// The provider with these settings.
    pub fn new(settings: JiraSettings) -> Self {
        let credential = match settings.auth {
            JiraAuth::Cloud { .. } => "DISPATCH_JIRA_EMAIL and DISPATCH_JIRA_API_TOKEN",
            JiraAuth::DataCenter { .. } => "DISPATCH_JIRA_PAT",
        };
        let http = VendorHttp::with_timeout(SLUG, "Jira", credential, settings.timeout);
        Self {
            settings,
            http,
            users: Default::default(),
        }
    }

    /// Where the incident's issue goes: the server's settings under its project's (and its
    /// incident type's) `provider_settings.jira`.
    fn target(&self, ctx: &IncidentContext) -> Target {
        let mut project = self.settings.project.clone();
        let Some(s) = ctx
            .settings
            .jira
            .as_ref()
            .map(|j| j.for_type(&ctx.incident_type))
        else {
            return Target {
                project,
                custom: JiraCustomFields::default(),
                name_follows_key: false,
            };
        };
        if let Some(k) = s.project_key {
            project.key = k;
        }
        if let Some(t) = s.issue_type {
            project.issue_type = t;
        }
        if let Some(l) = s.labels {
            project.labels = l;
        }
        if let Some(t) = s.transitions {
            let p = &mut project.transitions;
            for (to, from) in [
                (&mut p.active, t.active),
                (&mut p.stable, t.stable),
                (&mut p.closed, t.closed),
            ] {
                if let Some(name) = from {
                    *to = name;
                }
            }
        }
        Target {
            project,
            custom: s.custom_fields.unwrap_or_default(),
            name_follows_key: s.name_follows_key.unwrap_or(false),
        }
    }

    /// What a user-picker field holds for the person with `email`: `{"accountId"}` on Cloud,
    /// `{"name"}` on Data Center; `None` when Jira knows nobody with that e-mail.
    async fn user(&self, email: &str) -> ProviderResult<Option<Value>> {
        let email = email.trim().to_lowercase();
        if let Some(found) = self.users.lock().unwrap().get(&email) {
            return Ok(found.clone());
        }
        let param = if self.cloud() { "query" } else { "username" };
        let body = self
            .http
            .send_ok("looking up the commander's Jira account", || {
                self.request(Method::GET, "/user/search")
                    .query(&[(param, email.as_str())])
            })
            .await?;
        let users = body.as_array().cloned().unwrap_or_default();
        // Cloud may hide e-mail addresses: then a query that found exactly one user found them.
        let user = users
            .iter()
            .find(|u| {
                u["emailAddress"]
                    .as_str()
                    .is_some_and(|e| e.eq_ignore_ascii_case(&email))
            })
            .or_else(|| (users.len() == 1).then(|| &users[0]));
        let found = user.and_then(|u| {
            if self.cloud() {
                u["accountId"].as_str().map(|id| json!({"accountId": id}))
            } else {
                u["name"].as_str().map(|n| json!({"name": n}))
            }
        });
        if found.is_none() {
            tracing::info!(
                provider = SLUG,
                "no Jira account for the commander's e-mail; the commander field is left as it is"
            );
        }
        self.users.lock().unwrap().insert(email, found.clone());
        Ok(found)
    }

    /// The custom fields' values for the incident as it is now.
    async fn custom_values(
        &self,
        custom: &JiraCustomFields,
        ctx: &IncidentContext,
    ) -> ProviderResult<serde_json::Map<String, Value>> {
        let mut out = serde_json::Map::new();
        if let Some(f) = &custom.commander {
            if let Some(user) = self.user(&ctx.commander.email).await? {
                out.insert(f.clone(), user);
            }
        }
        if let Some(f) = &custom.priority {
            out.insert(f.clone(), json!({"value": ctx.priority}));
        }
        Ok(out)
    }

    fn cloud(&self) -> bool {
        matches!(self.settings.auth, JiraAuth::Cloud { .. })
    }

    /// `/rest/api/3` on Cloud, `/rest/api/2` on Data Center.
    fn api(&self) -> &'static str {
        if self.cloud() {
            "/rest/api/3"
        } else {
            "/rest/api/2"
        }
    }

    fn site(&self) -> &str {
        self.settings.url.trim_end_matches('/')
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let b = self
            .http
            .client()
            .request(method, format!("{}{}{path}", self.site(), self.api()))
            .header(reqwest::header::ACCEPT, "application/json");
        match &self.settings.auth {
            JiraAuth::Cloud { email, api_token } => b.basic_auth(email, Some(api_token)),
            JiraAuth::DataCenter { token } => b.bearer_auth(token),
        }
    }

    /// Where people open the issue.
    pub fn browse_url(&self, key: &str) -> String {
        format!("{}/browse/{key}", self.site())
    }

    fn description(&self, ctx: &IncidentContext) -> Value {
        let lines = description_lines(ctx);
        if self.cloud() {
            adf(&lines)
        } else {
            Value::String(wiki(&lines))
        }
    }

    /// The key of the issue already made for this incident, if there is one.
    async fn find(&self, p: &JiraProject, ctx: &IncidentContext) -> ProviderResult<Option<String>> {
        let label = marker(&ctx.name);
        let jql = format!(
            "project = \"{}\" AND labels = \"{label}\" ORDER BY created ASC",
            p.key.replace('"', "")
        );
        // Cloud's search is `GET /search/jql` (the older `/search` is gone there); Data
        // Center's is `GET /search`.
        let path = if self.cloud() {
            "/search/jql"
        } else {
            "/search"
        };
        let query = [
            ("jql", jql.as_str()),
            ("fields", "summary,labels,status"),
            ("maxResults", "10"),
        ];
        let body = self
            .http
            .send_ok("looking for the incident's issue", || {
                self.request(Method::GET, path).query(&query)
            })
            .await?;
        let found = body["issues"].as_array().and_then(|issues| {
            issues
                .iter()
                .find(|i| {
                    i["fields"]["labels"]
                        .as_array()
                        .is_some_and(|l| l.iter().any(|v| v.as_str() == Some(label.as_str())))
                })
                .and_then(|i| i["key"].as_str())
                .map(str::to_string)
        });
        Ok(found)
    }

    async fn create_issue(&self, t: &Target, ctx: &IncidentContext) -> ProviderResult<String> {
        let p = &t.project;
        let mut labels: Vec<String> = p.labels.clone();
        labels.push(marker(&ctx.name));
        let mut issue = json!({"fields": {
            "project": {"key": p.key},
            "issuetype": {"name": p.issue_type},
            "summary": summary(ctx),
            "description": self.description(ctx),
            "labels": labels,
        }});
        for (k, v) in self.custom_values(&t.custom, ctx).await? {
            issue["fields"][k] = v;
        }
        let body = self
            .http
            .send_ok("creating the issue", || {
                self.request(Method::POST, "/issue").json(&issue)
            })
            .await?;
        body["key"].as_str().map(str::to_string).ok_or_else(|| {
            self.http
                .error("creating the issue: Jira gave no issue key")
        })
    }

    /// The transition name for the incident's status (`None`: no move).
    fn transition_for<'a>(p: &'a JiraProject, status: &str) -> Option<&'a str> {
        let t = &p.transitions;
        let name = match status {
            "active" => &t.active,
            "stable" => &t.stable,
            "closed" => &t.closed,
            _ => return None,
        };
        Some(name.trim()).filter(|n| !n.is_empty())
    }

    /// Moves the issue (now in status `current`) through the transition named for the
    /// incident's status, unless it is already there.
    async fn transition(
        &self,
        p: &JiraProject,
        key: &str,
        status: &Value,
        ctx: &IncidentContext,
    ) -> ProviderResult<()> {
        let current = status["name"].as_str().unwrap_or_default();
        let Some(name) = Self::transition_for(p, &ctx.status) else {
            return Ok(());
        };
        if current.eq_ignore_ascii_case(name) {
            return Ok(());
        }
        let path = format!("/issue/{key}/transitions");
        let body = self
            .http
            .send_ok("reading the issue's transitions", || {
                self.request(Method::GET, &path)
            })
            .await?;
        let offered = body["transitions"].as_array().cloned().unwrap_or_default();
        let Some(t) = offered.iter().find(|t| {
            t["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        }) else {
            // Not offered from here: a status that needs no move (or no such step in this
            // workflow), unless closing an issue that is not done yet.
            let done = status["statusCategory"]["key"].as_str() == Some("done");
            if offered.is_empty() || ctx.status != "closed" || done {
                tracing::info!(
                    provider = SLUG,
                    issue = key,
                    transition = name,
                    "the workflow offers no such transition here; the issue stays where it is"
                );
                return Ok(());
            }
            let names: Vec<&str> = offered.iter().filter_map(|t| t["name"].as_str()).collect();
            return Err(self.http.error(format!(
                "moving {key}: Jira offers no transition named {name:?} from status {current:?} (offered: {}); check the closed transition name (the project's provider_settings.jira.transitions.closed, else DISPATCH_JIRA_TRANSITION_CLOSED)",
                names.join(", ")
            )));
        };
        if t["to"]["name"]
            .as_str()
            .is_some_and(|to| to.eq_ignore_ascii_case(current))
        {
            return Ok(());
        }
        let mut request = json!({"transition": {"id": t["id"].clone()}});
        if ctx.status == "closed" {
            if let Some(r) = ctx.resolution.as_deref().filter(|r| !r.trim().is_empty()) {
                let text = format!("{} is closed. Resolution: {}", ctx.name, r.trim());
                let comment = if self.cloud() {
                    adf(&[vec![Piece::Text(text)]])
                } else {
                    Value::String(text)
                };
                request["update"] = json!({"comment": [{"add": {"body": comment}}]});
            }
        }
        self.http
            .send_ok(&format!("moving {key} through {name:?}"), || {
                self.request(Method::POST, &path).json(&request)
            })
            .await?;
        Ok(())
    }
}

#[async_trait]
impl ResourceProvider for Jira {
    fn slug(&self) -> &'static str {
        SLUG
    }

    /// A cheap authenticated call: `GET …/myself`.
    async fn check(&self) -> ProviderResult<Option<String>> {
        let a = self
            .http
            .send("checking the credentials", || {
                self.request(Method::GET, "/myself")
            })
            .await?;
        match a.status {
            200..=299 => Ok(Some(format!(
                "the credentials work (signed in as {:?})",
                a.body["emailAddress"]
                    .as_str()
                    .or(a.body["displayName"].as_str())
                    .or(a.body["name"].as_str())
                    .unwrap_or_default()
            ))),
            404 => Err(self.http.error(format!(
                "checking the credentials: there is no Jira REST API {} at this address; check DISPATCH_JIRA_URL",
                self.api()
            ))),
            _ => Err(self.http.failed("checking the credentials", &a)),
        }
    }

    async fn create(&self, _key: &str, ctx: &IncidentContext) -> ProviderResult<Created> {
        let t = self.target(ctx);
        let key = match self.find(&t.project, ctx).await? {
            Some(k) => k,
            None => self.create_issue(&t, ctx).await?,
        };
        self.update(&key, ctx).await?;
        Ok(Created {
            link: Some(self.browse_url(&key)),
            incident_name: t.name_follows_key.then(|| key.clone()),
            external_id: key,
            ..Default::default()
        })
    }

    async fn update(&self, key: &str, ctx: &IncidentContext) -> ProviderResult<()> {
        let t = self.target(ctx);
        let custom = self.custom_values(&t.custom, ctx).await?;
        let path = format!("/issue/{key}");
        let mut wanted = String::from("summary,description,status");
        for f in custom.keys() {
            wanted.push(',');
            wanted.push_str(f);
        }
        let issue = self
            .http
            .send_ok(&format!("reading {key}"), || {
                self.request(Method::GET, &path)
                    .query(&[("fields", wanted.as_str())])
            })
            .await?;
        let fields = &issue["fields"];
        let (summary, description) = (summary(ctx), self.description(ctx));
        let mut change = serde_json::Map::new();
        if fields["summary"].as_str() != Some(summary.as_str()) {
            change.insert("summary".into(), summary.into());
        }
        if fields["description"] != description {
            change.insert("description".into(), description);
        }
        for (f, v) in custom {
            if !holds(&fields[&f], &v) {
                change.insert(f, v);
            }
        }
        if !change.is_empty() {
            let change = json!({ "fields": change });
            self.http
                .send_ok(&format!("updating {key}"), || {
                    self.request(Method::PUT, &path).json(&change)
                })
                .await?;
        }
        self.transition(&t.project, key, &fields["status"], ctx)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dispatch_core::provider::Person;

    fn ctx() -> IncidentContext {
        let p = Person {
            email: "ic@example.com".into(),
            name: "Ida".into(),
        };
        IncidentContext {
            id: 1,
            name: "INC-7".into(),
            project: "default".into(),
            title: "Checkout\nlatency".into(),
            description: "p99 4s\n\nsince 10:00".into(),
            resolution: None,
            status: "active".into(),
            visibility: "open".into(),
            incident_type: "Default".into(),
            priority: "High".into(),
            severity: "Major".into(),
            commander: p.clone(),
            reporter: p,
            participants: vec![],
            links: vec![
                (ResourceKind::Ticket, "https://x/browse/OPS-1".into()),
                (ResourceKind::Conversation, "https://chat/room".into()),
            ],
            timeline: vec![],
            report_fields: vec![],
            metrics: vec![],
            cost: None,
            tags: vec![],
            base_url: "https://dispatch.example.com".into(),
            settings: Default::default(),
        }
    }

    #[test]
    fn the_description_links_the_incident_and_its_room_but_not_the_ticket() {
        let lines = description_lines(&ctx());
        let doc = adf(&lines);
        assert_eq!(doc["type"], "doc");
        assert_eq!(doc["version"], 1);
        let text = doc.to_string();
        assert!(
            text.contains("https://dispatch.example.com/incidents/INC-7"),
            "{text}"
        );
        assert!(
            text.contains("https://chat/room") && !text.contains("OPS-1"),
            "{text}"
        );
        assert!(text.contains("Commander: Ida (ic@example.com)"), "{text}");
        let w = wiki(&lines);
        assert!(
            w.contains("[INC-7 in Dispatch|https://dispatch.example.com/incidents/INC-7]"),
            "{w}"
        );
        assert!(w.starts_with("p99 4s\n\nsince 10:00"), "{w}");
        assert_eq!(summary(&ctx()), "Checkout latency");
    }

    #[test]
    fn the_marker_label_has_no_spaces() {
        assert_eq!(marker("INC-7"), "dispatch-INC-7");
        assert_eq!(marker("SEC 1"), "dispatch-SEC-1");
    }
}
