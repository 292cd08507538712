//! Confluence Cloud as a document provider (REST API v2 for pages, v1 for the current user and
//! content restrictions; basic auth with an Atlassian account's e-mail and API token, as Jira
//! Cloud).
//!
//! The incident, review and executive documents are pages made from template pages: the
//! template is read in storage format (`GET /wiki/api/v2/pages/{id}?body-format=storage`), its
//! `{{placeholders}}` are filled with the incident's values (XML-escaped, line breaks as
//! `<br />`), and the page is created in the configured space under the configured parent
//! (`POST /wiki/api/v2/pages`). Its title is the template page's title filled the same way when
//! that title has placeholders, else `<name>: <title> — <document kind>`. A kind with no
//! template page gets Dispatch's own markdown template, turned into storage format.
//!
//! Before creating, the space is searched for a page with that title (titles are unique in a
//! space; `GET /wiki/api/v2/pages?space-id=&title=`, following the `_links.next` cursor), so a
//! retried job never makes a second page. Every refresh re-renders the page (`PUT
//! /wiki/api/v2/pages/{id}` with the next version number; a 409 because someone saved in
//! between reads the page again and retries) until a person edits it: a page whose latest
//! version is not the bot's is the people's, and is left alone. On close the page's *update*
//! restriction is given to the bot alone (`PUT
//! /wiki/rest/api/content/{id}/restriction/byOperation/update/user?accountId=`), so everyone
//! else reads it only; on re-open that restriction is lifted (`DELETE` of the same).
//!
//! The resource's external id is `<page id>:<document kind>`, so a refresh knows which template
//! the page came from.
//!
//! Confluence is also a storage provider: the incident's storage is its incident page (found by
//! title, or made as above), and each file attached to the incident becomes an attachment of that
//! page (REST API v1, multipart `file` part, `X-Atlassian-Token: no-check`). The page's
//! attachments are searched by file name first (`GET
//! /wiki/rest/api/content/{id}/child/attachment?filename=`): a file of a name already there
//! uploads a new version of that attachment (`POST …/child/attachment/{attachmentId}/data`),
//! else it is added (`POST …/child/attachment`). The storage resource's external id is the page
//! id; its link is the page's attachments view.

use crate::vendor_http::{one_line, VendorHttp};
use async_trait::async_trait;
use dispatch_core::email::escape;
use dispatch_core::provider::{
    Created, DocumentProvider, IncidentContext, ProviderResult, ResourceProvider, StoredFile,
};
use dispatch_core::{template, ResourceKind};
use reqwest::Method;
use serde_json::{json, Value};

/// The provider's slug.
pub const SLUG: &str = "confluence";

/// How many times an update is tried when someone else saved the page in between (409).
const CONFLICT_ATTEMPTS: u32 = 3;

/// Confluence's settings.
#[derive(Clone)]
pub struct ConfluenceSettings {
    /// The site, e.g. `https://example.atlassian.net` (the API is under `/wiki`).
    pub url: String,
    /// The Atlassian account's e-mail.
    pub email: String,
    /// Its API token.
    pub api_token: String,
    /// The id of the space pages go to (a number, e.g. `98306`).
    pub space_id: String,
    /// The page new pages go under (empty: the space's home page).
    pub parent_id: String,
    /// Template page ids per document kind (empty: Dispatch's own template).
    pub templates: Templates,
    /// How long one request may take.
    pub timeout: std::time::Duration,
}

/// The template pages, by document kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Templates {
    /// The incident document's.
    pub incident: String,
    /// The review document's.
    pub review: String,
    /// The executive report's.
    pub executive: String,
}

impl Templates {
    /// The template page of `kind` (`None`: none configured).
    pub fn of(&self, kind: ResourceKind) -> Option<&str> {
        let id = match kind {
            ResourceKind::ReviewDocument => &self.review,
            ResourceKind::ExecutiveDocument => &self.executive,
            _ => &self.incident,
        };
        Some(id.trim()).filter(|i| !i.is_empty())
    }
}

impl std::fmt::Debug for ConfluenceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfluenceSettings")
            .field("url", &self.url)
            .field("email", &self.email)
            .field("space_id", &self.space_id)
            .field("parent_id", &self.parent_id)
            .field("templates", &self.templates)
            .finish_non_exhaustive()
    }
}

/// Confluence, documents.
pub struct Confluence {
    settings: ConfluenceSettings,
    http: VendorHttp,
    /// The bot's account id, once asked.
    me: tokio::sync::OnceCell<String>,
}

/// A page as read: its title, storage body, version and who made that version.
#[derive(Debug, Clone)]
struct Page {
    title: String,
    body: String,
    version: u64,
    author: String,
}

/// The document kind's name in a default page title.
fn kind_title(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::ReviewDocument => "Post-incident review",
        ResourceKind::ExecutiveDocument => "Executive report",
        _ => "Incident document",
    }
}

/// A placeholder's value as storage format: escaped, line breaks as `<br />`.
fn storage_value(v: &str) -> String {
    escape(v).replace("\r\n", "\n").replace('\n', "<br />")
}

/// Fills a storage-format template with the incident's values.
pub fn fill(storage: &str, ctx: &IncidentContext) -> String {
    template::render_with(storage, ctx, storage_value)
}

/// Dispatch's markdown template (headings, bullets, table rows, paragraphs) as storage format,
/// for a kind with no template page.
pub fn markdown_to_storage(markdown: &str) -> String {
    let mut out = String::new();
    let mut list = false;
    for line in markdown.lines() {
        let line = line.trim_end();
        let item = line.strip_prefix("- ");
        if list && item.is_none() {
            out.push_str("</ul>");
            list = false;
        }
        if let Some(item) = item {
            if !list {
                out.push_str("<ul>");
                list = true;
            }
            out.push_str(&format!("<li>{item}</li>"));
        } else if let Some(h) = line.strip_prefix("## ") {
            out.push_str(&format!("<h2>{h}</h2>"));
        } else if let Some(h) = line.strip_prefix("# ") {
            out.push_str(&format!("<h1>{h}</h1>"));
        } else if line.starts_with('|') {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            if cells.iter().all(|c| c.chars().all(|ch| ch == '-')) {
                continue;
            }
            let row: String = cells.iter().map(|c| format!("<td>{c}</td>")).collect();
            out.push_str(&format!("<table><tbody><tr>{row}</tr></tbody></table>"));
        } else if !line.trim().is_empty() {
            out.push_str(&format!("<p>{line}</p>"));
        }
    }
    if list {
        out.push_str("</ul>");
    }
    // Consecutive one-row tables are one table.
    out.replace("</tbody></table><table><tbody>", "")
}

/// The external id of page `id` made for `kind`.
fn external_id(page: &str, kind: ResourceKind) -> String {
    format!("{page}:{kind}")
}

/// The page id and document kind of an external id (an id with no kind: the incident document).
fn parse_external_id(id: &str) -> (&str, ResourceKind) {
    match id.split_once(':') {
        Some((page, kind)) => (page, kind.parse().unwrap_or(ResourceKind::Document)),
        None => (id, ResourceKind::Document),
    }
}

/// The built-in markdown template of a document kind.
fn builtin_template(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::ReviewDocument => template::REVIEW_DOCUMENT,
        ResourceKind::ExecutiveDocument => template::EXECUTIVE_DOCUMENT,
        _ => template::INCIDENT_DOCUMENT,
    }
}

impl Confluence {
    /// The provider with these settings.
    pub fn new(settings: ConfluenceSettings) -> Self {
        let http = VendorHttp::with_timeout(
            SLUG,
            "Confluence",
            "DISPATCH_CONFLUENCE_EMAIL and DISPATCH_CONFLUENCE_API_TOKEN",
            settings.timeout,
        );
        Self {
            settings,
            http,
            me: tokio::sync::OnceCell::new(),
        }
    }

    fn site(&self) -> &str {
        self.settings.url.trim_end_matches('/')
    }

    /// A request to `path` (from `/wiki/…`, or a whole URL from a `_links.next`).
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.site())
        };
        self.http
            .client()
            .request(method, url)
            .header(reqwest::header::ACCEPT, "application/json")
            .basic_auth(&self.settings.email, Some(&self.settings.api_token))
    }

    /// The bot's account id (`GET /wiki/rest/api/user/current`), asked once.
    async fn me(&self) -> ProviderResult<&str> {
        self.me
            .get_or_try_init(|| async {
                let body = self
                    .http
                    .send_ok(
                        "reading the Confluence account Dispatch signs in as",
                        || self.request(Method::GET, "/wiki/rest/api/user/current"),
                    )
                    .await?;
                body["accountId"]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| self.http.error("the current user has no accountId"))
            })
            .await
            .map(String::as_str)
    }

    /// Where people open a page: `_links.base` + `_links.webui`.
    fn link(&self, body: &Value) -> Option<String> {
        let webui = body["_links"]["webui"].as_str()?;
        let base = body["_links"]["base"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}/wiki", self.site()));
        Some(format!("{}{webui}", base.trim_end_matches('/')))
    }

    /// A page with its storage body.
    async fn page(&self, id: &str, what: &str) -> ProviderResult<Page> {
        let path = format!("/wiki/api/v2/pages/{id}");
        let body = self
            .http
            .send_ok(what, || {
                self.request(Method::GET, &path)
                    .query(&[("body-format", "storage")])
            })
            .await?;
        Ok(Page {
            title: body["title"].as_str().unwrap_or_default().to_string(),
            body: body["body"]["storage"]["value"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            version: body["version"]["number"].as_u64().unwrap_or(0),
            author: body["version"]["authorId"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        })
    }

    /// The page's title and storage body for the incident as it is now.
    async fn render(
        &self,
        kind: ResourceKind,
        fallback: &str,
        ctx: &IncidentContext,
    ) -> ProviderResult<(String, String)> {
        let default_title = format!("{}: {} — {}", ctx.name, ctx.title, kind_title(kind));
        let Some(id) = self.settings.templates.of(kind) else {
            let body = markdown_to_storage(&escape(&template::render(fallback, ctx)));
            return Ok((one_line(&default_title, 255), body));
        };
        let t = self
            .page(id, &format!("reading the {kind} template page {id}"))
            .await
            .map_err(|e| {
                self.http.error(format!(
                    "{}; check the template page id in DISPATCH_CONFLUENCE_TEMPLATE_{}",
                    e.message,
                    match kind {
                        ResourceKind::ReviewDocument => "REVIEW",
                        ResourceKind::ExecutiveDocument => "EXECUTIVE",
                        _ => "INCIDENT",
                    }
                ))
            })?;
        let title = if t.title.contains("{{") {
            template::render(&t.title, ctx)
        } else {
            default_title
        };
        Ok((one_line(&title, 255), fill(&t.body, ctx)))
    }

    /// The page in the space with exactly this title, if there is one (every page of the
    /// answer, following `_links.next`).
    async fn find(&self, title: &str) -> ProviderResult<Option<(String, Option<String>)>> {
        let first = reqwest::Url::parse_with_params(
            &format!("{}/wiki/api/v2/pages", self.site()),
            [
                ("space-id", self.settings.space_id.as_str()),
                ("title", title),
                ("status", "current"),
                ("limit", "25"),
            ],
        )
        .map_err(|e| self.http.error(format!("the site URL: {e}")))?;
        let mut next = Some(first.to_string());
        while let Some(path) = next.take() {
            let body = self
                .http
                .send_ok("looking for the incident's page", || {
                    self.request(Method::GET, &path)
                })
                .await?;
            if let Some(found) = body["results"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["title"].as_str() == Some(title))
            {
                let id = found["id"].as_str().unwrap_or_default().to_string();
                let link = self.link(found).or_else(|| self.link(&body));
                return Ok(Some((id, link)));
            }
            next = body["_links"]["next"]
                .as_str()
                .filter(|n| !n.is_empty())
                .map(str::to_string);
        }
        Ok(None)
    }
}

#[async_trait]
impl DocumentProvider for Confluence {
    fn slug(&self) -> &'static str {
        SLUG
    }

    async fn create(
        &self,
        _key: &str,
        kind: ResourceKind,
        template: &str,
        ctx: &IncidentContext,
    ) -> ProviderResult<Created> {
        let (title, body) = self.render(kind, template, ctx).await?;
        if let Some((id, link)) = self.find(&title).await? {
            return Ok(Created {
                external_id: external_id(&id, kind),
                link,
                ..Default::default()
            });
        }
        let mut page = json!({
            "spaceId": self.settings.space_id,
            "status": "current",
            "title": title,
            "body": {"representation": "storage", "value": body},
        });
        if !self.settings.parent_id.trim().is_empty() {
            page["parentId"] = json!(self.settings.parent_id.trim());
        }
        let made = self
            .http
            .send_ok(&format!("creating the {kind} page"), || {
                self.request(Method::POST, "/wiki/api/v2/pages").json(&page)
            })
            .await?;
        let id = made["id"]
            .as_str()
            .ok_or_else(|| self.http.error("the created page has no id"))?;
        Ok(Created {
            external_id: external_id(id, kind),
            link: self.link(&made),
            ..Default::default()
        })
    }

    async fn update(&self, external: &str, ctx: &IncidentContext) -> ProviderResult<()> {
        let (id, kind) = parse_external_id(external);
        let (title, body) = self.render(kind, builtin_template(kind), ctx).await?;
        let me = self.me().await?.to_string();
        let path = format!("/wiki/api/v2/pages/{id}");
        for attempt in 1..=CONFLICT_ATTEMPTS {
            let now = self.page(id, &format!("reading page {id}")).await?;
            if now.version > 1 && now.author != me {
                tracing::info!(
                    provider = SLUG,
                    page = id,
                    "the page was edited by a person; it is theirs now and is left as it is"
                );
                return Ok(());
            }
            if now.title == title && now.body == body {
                return Ok(());
            }
            let change = json!({
                "id": id,
                "status": "current",
                "title": title,
                "body": {"representation": "storage", "value": body},
                "version": {"number": now.version + 1, "message": "Updated by Dispatch"},
            });
            let what = format!("updating page {id}");
            let a = self
                .http
                .send(&what, || self.request(Method::PUT, &path).json(&change))
                .await?;
            match a.status {
                200..=299 => return Ok(()),
                409 if attempt < CONFLICT_ATTEMPTS => {
                    tracing::info!(
                        provider = SLUG,
                        page = id,
                        "the page changed meanwhile (409); reading it again"
                    );
                }
                _ => return Err(self.http.failed(&what, &a)),
            }
        }
        Ok(())
    }

    async fn set_read_only(&self, external: &str, read_only: bool) -> ProviderResult<()> {
        let (id, _) = parse_external_id(external);
        let me = self.me().await?.to_string();
        let path = format!("/wiki/rest/api/content/{id}/restriction/byOperation/update/user");
        let (method, what) = if read_only {
            (Method::PUT, format!("restricting edits of page {id}"))
        } else {
            (
                Method::DELETE,
                format!("lifting the edit restriction of page {id}"),
            )
        };
        let a = self
            .http
            .send(&what, || {
                self.request(method.clone(), &path)
                    .query(&[("accountId", me.as_str())])
            })
            .await?;
        match a.status {
            200..=299 => Ok(()),
            // Lifting a restriction that is not there: nothing to do.
            404 if !read_only => Ok(()),
            _ => Err(self.http.failed(&what, &a)),
        }
    }

    async fn check(&self) -> ProviderResult<Option<String>> {
        let user = self
            .http
            .send_ok(
                "reading the Confluence account Dispatch signs in as",
                || self.request(Method::GET, "/wiki/rest/api/user/current"),
            )
            .await?;
        let space_id = self.settings.space_id.trim();
        let space = self
            .http
            .send_ok(
                &format!("reading space {space_id} (DISPATCH_CONFLUENCE_SPACE_ID)"),
                || self.request(Method::GET, &format!("/wiki/api/v2/spaces/{space_id}")),
            )
            .await?;
        let mut templates = 0;
        for kind in [
            ResourceKind::Document,
            ResourceKind::ReviewDocument,
            ResourceKind::ExecutiveDocument,
        ] {
            if self.settings.templates.of(kind).is_some() {
                self.render(kind, builtin_template(kind), &sample_context())
                    .await?;
                templates += 1;
            }
        }
        Ok(Some(format!(
            "signed in as {}; space {} ({}); {templates} template page(s) readable",
            user["displayName"].as_str().unwrap_or("?"),
            space["key"].as_str().unwrap_or("?"),
            space["name"].as_str().unwrap_or("?"),
        )))
    }
}

/// A `multipart/form-data` body of one `file` part (named `name`, of type `content_type`) and
/// a `minorEdit=true` field (so watchers are not notified of each upload); the boundary is one
/// the content does not contain. Returns the body and its Content-Type.
pub fn attachment_form(name: &str, content_type: &str, data: &[u8]) -> (Vec<u8>, String) {
    let mut n = 0u32;
    let boundary = loop {
        let b = format!("dispatch-attachment-{n:08x}");
        if !data.windows(b.len()).any(|w| w == b.as_bytes()) {
            break b;
        }
        n += 1;
    };
    // As browsers send a file name: quotes and line breaks percent-encoded.
    let filename = name
        .replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    let content_type = if content_type.trim().is_empty() || content_type.contains(['\r', '\n']) {
        "application/octet-stream"
    } else {
        content_type.trim()
    };
    let mut body = Vec::with_capacity(data.len() + 512);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"minorEdit\"\r\n\r\ntrue\r\n--{boundary}--\r\n"
        )
        .as_bytes(),
    );
    (body, format!("multipart/form-data; boundary={boundary}"))
}

impl Confluence {
    /// The attachment of page `page` named `name`, if there is one: its id.
    async fn attachment(&self, page: &str, name: &str) -> ProviderResult<Option<String>> {
        let path = format!("/wiki/rest/api/content/{page}/child/attachment");
        let body = self
            .http
            .send_ok(
                &format!("looking for the attachment {name:?} of page {page}"),
                || {
                    self.request(Method::GET, &path)
                        .query(&[("filename", name)])
                },
            )
            .await?;
        Ok(body["results"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["title"].as_str() == Some(name))
            .and_then(|a| a["id"].as_str())
            .map(str::to_string))
    }
}

#[async_trait]
impl ResourceProvider for Confluence {
    fn slug(&self) -> &'static str {
        SLUG
    }

    /// The incident's page (found by its title, or made), whose attachments are the storage.
    async fn create(&self, key: &str, ctx: &IncidentContext) -> ProviderResult<Created> {
        let page = DocumentProvider::create(
            self,
            key,
            ResourceKind::Document,
            template::INCIDENT_DOCUMENT,
            ctx,
        )
        .await?;
        let (id, _) = parse_external_id(&page.external_id);
        Ok(Created {
            external_id: id.to_string(),
            link: Some(format!(
                "{}/wiki/pages/viewpageattachments.action?pageId={id}",
                self.site()
            )),
            ..Default::default()
        })
    }

    async fn store_file(&self, external: &str, file: &StoredFile) -> ProviderResult<()> {
        let (page, _) = parse_external_id(external);
        let path = match self.attachment(page, &file.name).await? {
            Some(id) => format!("/wiki/rest/api/content/{page}/child/attachment/{id}/data"),
            None => format!("/wiki/rest/api/content/{page}/child/attachment"),
        };
        let (body, content_type) = attachment_form(&file.name, &file.content_type, &file.data);
        self.http
            .send_ok(&format!("attaching {:?} to page {page}", file.name), || {
                self.request(Method::POST, &path)
                    .header("X-Atlassian-Token", "no-check")
                    .header(reqwest::header::CONTENT_TYPE, content_type.as_str())
                    .body(body.clone())
            })
            .await?;
        Ok(())
    }

    async fn check(&self) -> ProviderResult<Option<String>> {
        DocumentProvider::check(self).await
    }
}

/// An incident to render the templates with when checking them.
fn sample_context() -> IncidentContext {
    let p = dispatch_core::provider::Person {
        email: "ic@example.com".into(),
        name: "Incident Commander".into(),
    };
    IncidentContext {
        id: 0,
        name: "INC-0".into(),
        project: "default".into(),
        title: "Check".into(),
        description: String::new(),
        resolution: None,
        status: "active".into(),
        visibility: "open".into(),
        incident_type: "Default".into(),
        priority: "Low".into(),
        severity: "Minor".into(),
        commander: p.clone(),
        reporter: p,
        participants: vec![],
        tags: vec![],
        links: vec![],
        timeline: vec![],
        report_fields: vec![],
        metrics: vec![],
        cost: None,
        base_url: String::new(),
        settings: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_line_breaks_kept() {
        let mut ctx = sample_context();
        ctx.title = "DB <primary> & \"replica\"".into();
        ctx.description = "line one\nline two".into();
        let out = fill(
            "<p>{{title}}</p><p>{{ description }}</p><p>{{unknown}}</p>",
            &ctx,
        );
        assert_eq!(
            out,
            "<p>DB &lt;primary&gt; &amp; &quot;replica&quot;</p><p>line one<br />line two</p><p>{{unknown}}</p>"
        );
    }

    #[test]
    fn the_builtin_markdown_becomes_storage_format() {
        let s = markdown_to_storage(
            "# T\n\n| a | b |\n|---|---|\n| c | d |\n\n## L\n\n- x\n- y\ntext\n",
        );
        assert_eq!(
            s,
            "<h1>T</h1><table><tbody><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></tbody></table><h2>L</h2><ul><li>x</li><li>y</li></ul><p>text</p>"
        );
    }

    #[test]
    fn the_attachment_form_has_one_file_part_and_a_boundary_not_in_the_content() {
        let data = b"a\r\n--dispatch-attachment-00000000\r\nb";
        let (body, content_type) = attachment_form("r\"1\".txt", "text/plain", data);
        assert_eq!(
            content_type,
            "multipart/form-data; boundary=dispatch-attachment-00000001"
        );
        let mut expected = b"--dispatch-attachment-00000001\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r%221%22.txt\"\r\nContent-Type: text/plain\r\n\r\n".to_vec();
        expected.extend_from_slice(data);
        expected.extend_from_slice(b"\r\n--dispatch-attachment-00000001\r\nContent-Disposition: form-data; name=\"minorEdit\"\r\n\r\ntrue\r\n--dispatch-attachment-00000001--\r\n");
        assert_eq!(body, expected);
    }

    #[test]
    fn the_external_id_carries_the_kind() {
        let id = external_id("65868", ResourceKind::ReviewDocument);
        assert_eq!(id, "65868:review_document");
        assert_eq!(
            parse_external_id(&id),
            ("65868", ResourceKind::ReviewDocument)
        );
        assert_eq!(parse_external_id("7"), ("7", ResourceKind::Document));
    }
}
