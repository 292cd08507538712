//! Google Docs documents: each kind (incident, review, executive) is a copy (`files.copy`) of
//! its template document (the incident type's own when its template is a Google Docs link,
//! else the configured one), made in the incident's Drive folder (else the configured folder),
//! marked with app properties so a retried job finds it.
//!
//! Its `{{placeholders}}` are filled, and kept current, with named ranges, as Google's "Work
//! with named ranges" guide does it: the document is read (`documents.get`), and one
//! `documents.batchUpdate` replaces, from the end of the document backwards, each placeholder
//! still in it and each value Dispatch wrote that is no longer the incident's
//! (`deleteContentRange`, `insertText`), then names the new text (`createNamedRange`,
//! `dispatch.<placeholder>`), so the next change finds it however the text around it was
//! edited. A value a responder deletes whole is gone for good; unknown placeholders are left as
//! written. So the incident document follows the title, status, commander, participants and
//! reports, and the review document its timeline, until the incident closes.
//!
//! On close the document becomes read-only for everyone (`files.update` with
//! `contentRestrictions: [{readOnly: true}]`): the document inherits its people from the
//! folder, and Drive does not let an inherited permission be lowered on one file, so a
//! content restriction is what makes it read-only; re-opening lifts it.

use super::drive::{marked, title};
use super::{Api, Google, SCOPE_DOCUMENTS, SCOPE_DRIVE, SLUG};
use async_trait::async_trait;
use dispatch_core::provider::{Created, DocumentProvider, IncidentContext, ProviderResult};
use dispatch_core::{template, ResourceKind};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

const SCOPES: &[&str] = &[SCOPE_DRIVE, SCOPE_DOCUMENTS];

/// Google Docs documents.
pub struct GoogleDocuments {
    google: Arc<Google>,
}

impl GoogleDocuments {
    /// Documents through this client.
    pub fn new(google: Arc<Google>) -> Self {
        Self { google }
    }

    /// The template document id for `kind` and the setting that holds it.
    fn template(&self, kind: ResourceKind) -> (&str, &'static str) {
        let t = &self.google.settings().templates;
        match kind {
            ResourceKind::ReviewDocument => (&t.review, "DISPATCH_GOOGLE_TEMPLATE_REVIEW"),
            ResourceKind::ExecutiveDocument => (&t.executive, "DISPATCH_GOOGLE_TEMPLATE_EXECUTIVE"),
            _ => (&t.incident, "DISPATCH_GOOGLE_TEMPLATE_INCIDENT"),
        }
    }

    /// Fills the placeholders still in the document and brings the values written before up
    /// to date ([`plan`]); a document deleted by someone is left alone.
    async fn fill(&self, id: &str, ctx: &IncidentContext) -> ProviderResult<()> {
        let g = &self.google;
        let path = format!("/documents/{}", super::segment(id));
        let a = g
            .call(
                "reading the document",
                SCOPES,
                Method::GET,
                (Api::Docs, &path),
                &[],
                None,
            )
            .await?;
        match a.status {
            200..=299 => {}
            404 => return Ok(()),
            _ => return Err(g.failed("reading the document", &a, SCOPES)),
        }
        let requests = plan(&a.body, &values(ctx));
        if requests.is_empty() {
            return Ok(());
        }
        let body = json!({ "requests": requests });
        let what = "filling the document's placeholders";
        let a = g
            .call(
                what,
                SCOPES,
                Method::POST,
                (Api::Docs, &format!("{path}:batchUpdate")),
                &[],
                Some(&body),
            )
            .await?;
        match a.status {
            200..=299 | 404 => Ok(()),
            _ => Err(g.failed(what, &a, SCOPES)),
        }
    }
}

/// The prefix of the named ranges holding Dispatch's values.
pub const RANGE_PREFIX: &str = "dispatch.";

/// Every known placeholder with the incident's value for it, as written in a document (an
/// empty value is a dash, so it keeps a range to be found by).
pub fn values(ctx: &IncidentContext) -> BTreeMap<&'static str, String> {
    template::PLACEHOLDERS
        .iter()
        .filter_map(|k| {
            let v = template::value(k, ctx)?.replace('\r', "");
            Some((*k, if v.is_empty() { "—".to_string() } else { v }))
        })
        .collect()
}

/// Each character of a document's body with its index (UTF-16 code units, as the Docs API
/// counts), paragraphs and table cells alike.
fn characters(content: &Value, out: &mut Vec<(u64, char)>) {
    for element in content.as_array().into_iter().flatten() {
        for run in element["paragraph"]["elements"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let Some(text) = run["textRun"]["content"].as_str() else {
                continue;
            };
            let mut at = run["startIndex"].as_u64().unwrap_or(0);
            for c in text.chars() {
                out.push((at, c));
                at += c.len_utf16() as u64;
            }
        }
        for row in element["table"]["tableRows"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for cell in row["tableCells"].as_array().into_iter().flatten() {
                characters(&cell["content"], out);
            }
        }
        characters(&element["tableOfContents"]["content"], out);
    }
}

/// The `batchUpdate` requests that fill `doc` (a `documents.get` answer) with `values`: each
/// `{{placeholder}}` still in it, and each `dispatch.<placeholder>` named range whose text is
/// not the value any more, replaced and named again, from the last to the first.
pub fn plan(doc: &Value, values: &BTreeMap<&'static str, String>) -> Vec<Value> {
    let mut chars = Vec::new();
    characters(&doc["body"]["content"], &mut chars);
    let text_of = |start: u64, end: u64| -> String {
        chars
            .iter()
            .filter(|(i, _)| *i >= start && *i < end)
            .map(|(_, c)| *c)
            .collect()
    };
    // (start, end, placeholder)
    let mut edits: Vec<(u64, u64, &str)> = Vec::new();
    // Where Dispatch's values are: a value is never read as a template.
    let mut written: Vec<(u64, u64)> = Vec::new();
    for (name, entry) in doc["namedRanges"].as_object().into_iter().flatten() {
        let Some((key, value)) = name
            .strip_prefix(RANGE_PREFIX)
            .and_then(|k| values.get_key_value(k))
        else {
            continue;
        };
        for range in entry["namedRanges"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|n| n["ranges"].as_array().into_iter().flatten())
        {
            let start = range["startIndex"].as_u64().unwrap_or(0);
            let end = range["endIndex"].as_u64().unwrap_or(0);
            written.push((start, end));
            if end > start && text_of(start, end) != *value {
                edits.push((start, end, key));
            }
        }
    }
    let mut i = 0;
    while i + 1 < chars.len() {
        if !(chars[i].1 == '{' && chars[i + 1].1 == '{') {
            i += 1;
            continue;
        }
        let close = (i + 2..chars.len().saturating_sub(1))
            .take(64)
            .find(|&j| chars[j].1 == '}' && chars[j + 1].1 == '}');
        let Some(j) = close else {
            i += 2;
            continue;
        };
        let inner: String = chars[i + 2..j].iter().map(|(_, c)| *c).collect();
        let (start, end) = (chars[i].0, chars[j + 1].0 + 1);
        // One run of text: the indexes follow each other.
        let whole = chars[i..=j + 1]
            .windows(2)
            .all(|w| w[1].0 == w[0].0 + w[0].1.len_utf16() as u64);
        let inside = written.iter().any(|(a, b)| start < *b && *a < end);
        match values.get_key_value(inner.trim()) {
            Some((key, _)) if whole && !inside => {
                edits.push((start, end, key));
                i = j + 2;
            }
            _ => i += 2,
        }
    }
    edits.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let mut requests = Vec::new();
    let mut before = u64::MAX;
    for (start, end, key) in edits {
        if end > before {
            continue;
        }
        before = start;
        let value = &values[key];
        let len = value.encode_utf16().count() as u64;
        requests
            .push(json!({"deleteContentRange": {"range": {"startIndex": start, "endIndex": end}}}));
        requests.push(json!({"insertText": {"location": {"index": start}, "text": value}}));
        requests.push(
            json!({"createNamedRange": {"name": format!("{RANGE_PREFIX}{key}"),
            "range": {"startIndex": start, "endIndex": start + len}}}),
        );
    }
    requests
}

/// The document id of a template that is a Google Docs link and nothing else
/// (`https://docs.google.com/document/d/ID/edit`): an incident type picks its own template
/// document so. `None` for any other template (the built-in markdown ones).
pub fn document_id(template: &str) -> Option<&str> {
    let t = template.trim();
    let rest = t.strip_prefix("https://docs.google.com/document/d/")?;
    let id = rest.split(['/', '?', '#']).next()?;
    (!id.is_empty()
        && !t.contains(char::is_whitespace)
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    .then_some(id)
}

fn kind_title(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::ReviewDocument => "review",
        ResourceKind::ExecutiveDocument => "executive report",
        _ => "incident document",
    }
}

#[async_trait]
impl DocumentProvider for GoogleDocuments {
    fn slug(&self) -> &'static str {
        SLUG
    }

    /// A token with both scopes, and each configured template readable.
    async fn check(&self) -> ProviderResult<Option<String>> {
        let g = &self.google;
        self.google.forget_tokens();
        let mut found = Vec::new();
        for kind in [
            ResourceKind::Document,
            ResourceKind::ReviewDocument,
            ResourceKind::ExecutiveDocument,
        ] {
            let (id, setting) = self.template(kind);
            if id.is_empty() {
                continue;
            }
            let a = g
                .call(
                    "reading a template",
                    SCOPES,
                    Method::GET,
                    (Api::Drive, &format!("/files/{}", super::segment(id))),
                    &[("supportsAllDrives", "true"), ("fields", "id,name")],
                    None,
                )
                .await?;
            if !(200..300).contains(&a.status) {
                return Err(g.error(missing_template(
                    kind,
                    id,
                    setting,
                    &g.settings().subject,
                    a.status,
                    &a.body,
                )));
            }
            found.push(format!(
                "{} template {:?}",
                kind_title(kind),
                a.body["name"].as_str().unwrap_or(id)
            ));
        }
        if found.is_empty() {
            return Err(g.error("no template document is configured: set DISPATCH_GOOGLE_TEMPLATE_INCIDENT (and _REVIEW, _EXECUTIVE)"));
        }
        Ok(Some(format!("Docs works: {}", found.join(", "))))
    }

    async fn create(
        &self,
        _key: &str,
        kind: ResourceKind,
        template: &str,
        ctx: &IncidentContext,
    ) -> ProviderResult<Created> {
        let g = &self.google;
        let q = marked(ctx.id, kind.as_str());
        let doc = match g.find_file(SCOPES, &q).await? {
            Some(d) => d,
            None => {
                // The incident type's own template when it is a Google Docs link, else the
                // configured one.
                let (template, setting) = match document_id(template) {
                    Some(id) => (id, "the incident type's template"),
                    None => self.template(kind),
                };
                if template.is_empty() {
                    return Err(g.error(format!(
                        "no template document for the {}: set {setting} to the id of a Google Docs document {} can read",
                        kind_title(kind),
                        g.settings().subject
                    )));
                }
                let folder = match g.incident_folder(ctx.id).await? {
                    Some(f) => f,
                    None => g.settings().folder_id.clone(),
                };
                let mut body = json!({
                    "name": title(ctx, Some(kind_title(kind))),
                    "appProperties": {"dispatchIncident": ctx.id.to_string(),
                                      "dispatchKind": kind.as_str()},
                });
                if !folder.is_empty() {
                    body["parents"] = json!([folder]);
                }
                let a = g
                    .call(
                        "copying the template",
                        SCOPES,
                        Method::POST,
                        (
                            Api::Drive,
                            &format!("/files/{}/copy", super::segment(template)),
                        ),
                        &[
                            ("supportsAllDrives", "true"),
                            ("fields", "id,name,webViewLink,parents"),
                        ],
                        Some(&body),
                    )
                    .await?;
                if matches!(a.status, 403 | 404) {
                    return Err(g.error(missing_template(
                        kind,
                        template,
                        setting,
                        &g.settings().subject,
                        a.status,
                        &a.body,
                    )));
                }
                if !(200..300).contains(&a.status) {
                    return Err(g.failed("copying the template", &a, SCOPES));
                }
                a.body
            }
        };
        let id = doc["id"].as_str().unwrap_or_default().to_string();
        if id.is_empty() {
            return Err(g.error("copying the template: Google gave no file id"));
        }
        self.fill(&id, ctx).await?;
        Ok(Created {
            link: Some(
                doc["webViewLink"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("https://docs.google.com/document/d/{id}/edit")),
            ),
            external_id: id,
            ..Default::default()
        })
    }

    /// Fills the placeholders still in the document; a closed incident's document is
    /// read-only and left as it is.
    async fn update(&self, external_id: &str, ctx: &IncidentContext) -> ProviderResult<()> {
        if ctx.status == "closed" {
            return Ok(());
        }
        self.fill(external_id, ctx).await
    }

    async fn set_read_only(&self, external_id: &str, read_only: bool) -> ProviderResult<()> {
        let g = &self.google;
        let restriction = if read_only {
            json!({"readOnly": true, "reason": "The incident is closed."})
        } else {
            json!({"readOnly": false})
        };
        let body = json!({ "contentRestrictions": [restriction] });
        let what = if read_only {
            "making the document read-only"
        } else {
            "making the document writable again"
        };
        let a = g
            .call(
                what,
                SCOPES,
                Method::PATCH,
                (
                    Api::Drive,
                    &format!("/files/{}", super::segment(external_id)),
                ),
                &[
                    ("supportsAllDrives", "true"),
                    ("fields", "id,contentRestrictions"),
                ],
                Some(&body),
            )
            .await?;
        match a.status {
            200..=299 | 404 => Ok(()),
            _ => Err(g.failed(what, &a, SCOPES)),
        }
    }
}

/// The message of a template that cannot be copied: which template, which setting, what to do.
fn missing_template(
    kind: ResourceKind,
    id: &str,
    setting: &str,
    subject: &str,
    status: u16,
    body: &Value,
) -> String {
    format!(
        "the {} template {id} ({setting}) cannot be copied: Google answered {status}{}; check the id, and share the document with {subject} (at least as reader): https://docs.google.com/document/d/{id}/edit",
        kind_title(kind),
        super::detail(body)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_placeholder_is_replaced_with_its_value() {
        let ctx = IncidentContext {
            id: 1,
            name: "INC-1".into(),
            project: "default".into(),
            title: "Checkout down".into(),
            description: String::new(),
            resolution: None,
            status: "active".into(),
            visibility: "open".into(),
            incident_type: "Default".into(),
            priority: "High".into(),
            severity: "Major".into(),
            commander: dispatch_core::provider::Person {
                email: "ic@example.com".into(),
                name: "Ida".into(),
            },
            reporter: dispatch_core::provider::Person {
                email: "ic@example.com".into(),
                name: "Ida".into(),
            },
            participants: vec![],
            links: vec![],
            timeline: vec![],
            report_fields: vec![],
            metrics: vec![],
            cost: None,
            tags: vec![],
            base_url: "https://dispatch.example.com".into(),
            settings: Default::default(),
        };
        assert_eq!(
            document_id(" https://docs.google.com/document/d/1AbC-d_9/edit?usp=sharing\n"),
            Some("1AbC-d_9")
        );
        assert_eq!(
            document_id("# {{name}}\nhttps://docs.google.com/document/d/1A/edit"),
            None
        );
        assert_eq!(
            document_id("https://docs.google.com/document/d//edit"),
            None
        );
        let v = values(&ctx);
        assert_eq!(v.len(), template::PLACEHOLDERS.len());
        assert_eq!(v["title"], "Checkout down");
        assert_eq!(v["commander"], "Ida <ic@example.com>");
        assert_eq!(v["description"], "—", "an empty value keeps a range");

        // A document read back: "# {{name}}: {{ title }} {{nope}}\n" in one run, then a
        // table cell with a value written before (named) that is out of date.
        let doc = json!({"body": {"content": [
            {"endIndex": 1, "sectionBreak": {}},
            {"startIndex": 1, "endIndex": 34, "paragraph": {"elements": [
                {"startIndex": 1, "endIndex": 34,
                 "textRun": {"content": "# {{name}}: {{ title }} {{nope}}\n"}}]}},
            {"startIndex": 34, "endIndex": 50, "table": {"tableRows": [{"tableCells": [
                {"content": [{"startIndex": 36, "endIndex": 43, "paragraph": {"elements": [
                    {"startIndex": 36, "endIndex": 43, "textRun": {"content": "active\n"}}]}}]}]}]}}]},
            "namedRanges": {"dispatch.status": {"name": "dispatch.status", "namedRanges": [
                {"namedRangeId": "kix.1", "name": "dispatch.status",
                 "ranges": [{"startIndex": 36, "endIndex": 42}]}]},
                "dispatch.name": {"name": "dispatch.name", "namedRanges": [
                {"namedRangeId": "kix.2", "name": "dispatch.name",
                 "ranges": [{"startIndex": 40, "endIndex": 40}]}]}}});
        let mut v = v;
        v.insert("status", "stable".into());
        let r = plan(&doc, &v);
        let starts: Vec<u64> = r
            .iter()
            .filter_map(|q| q["deleteContentRange"]["range"]["startIndex"].as_u64())
            .collect();
        assert_eq!(
            starts,
            [36, 13, 3],
            "from the end backwards; {{{{nope}}}} kept"
        );
        assert_eq!(r[1]["insertText"]["text"], "stable");
        assert_eq!(r[2]["createNamedRange"]["name"], "dispatch.status");
        assert_eq!(r[2]["createNamedRange"]["range"]["endIndex"], 42);
        assert_eq!(r[3]["deleteContentRange"]["range"]["endIndex"], 24);
        assert_eq!(r[4]["insertText"]["text"], "Checkout down");
        assert_eq!(
            r[8]["createNamedRange"]["range"],
            json!({"startIndex": 3, "endIndex": 8})
        );
        // A value that reads like a placeholder (a title "{{status}}") is never filled in.
        let mut v2 = v.clone();
        v2.insert("title", "{{status}}".into());
        let titled = json!({"body": {"content": [
            {"startIndex": 1, "endIndex": 12, "paragraph": {"elements": [
                {"startIndex": 1, "endIndex": 12, "textRun": {"content": "{{status}}\n"}}]}}]},
            "namedRanges": {"dispatch.title": {"name": "dispatch.title", "namedRanges": [
                {"namedRangeId": "kix.3", "name": "dispatch.title",
                 "ranges": [{"startIndex": 1, "endIndex": 11}]}]}}});
        assert!(plan(&titled, &v2).is_empty());
        // Up to date: nothing to send.
        v.insert("status", "active".into());
        let doc = json!({"body": doc["body"].clone(), "namedRanges": {
            "dispatch.status": doc["namedRanges"]["dispatch.status"].clone()}});
        let mut only = doc.clone();
        only["body"]["content"].as_array_mut().unwrap().remove(1);
        assert!(plan(&only, &v).is_empty());
    }
}
