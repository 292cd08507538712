//! Google Docs documents: each kind (incident, review, executive) is a copy (`files.copy`) of
//! its template document, made in the incident's Drive folder (else the configured folder),
//! marked with app properties so a retried job finds it. Its `{{placeholders}}` are filled by a
//! Docs `documents.batchUpdate` of `replaceAllText` requests with the incident's values.
//!
//! Kept current, honestly: the Docs API replaces text, not fields, so a value once written
//! cannot be told apart from the same words typed by a responder. Each refresh therefore fills
//! the placeholders *still in* the document (one a responder pastes later, or a report field
//! filled once there is a report), and leaves the values already written alone; the review
//! document is made late in the incident, so its timeline is the timeline up to then. On close
//! the document becomes read-only for everyone (`files.update` with
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

    /// Fills the placeholders still in the document.
    async fn fill(&self, id: &str, ctx: &IncidentContext) -> ProviderResult<()> {
        let requests: Vec<Value> = replacements(ctx)
            .into_iter()
            .map(|(placeholder, value)| {
                json!({"replaceAllText": {
                    "containsText": {"text": placeholder, "matchCase": true},
                    "replaceText": value,
                }})
            })
            .collect();
        let body = json!({ "requests": requests });
        let a = self
            .google
            .call(
                "filling the document's placeholders",
                SCOPES,
                Method::POST,
                (
                    Api::Docs,
                    &format!("/documents/{}:batchUpdate", super::segment(id)),
                ),
                &[],
                Some(&body),
            )
            .await?;
        match a.status {
            200..=299 => Ok(()),
            // Deleted by someone: nothing to keep current.
            404 => Ok(()),
            _ => Err(self
                .google
                .failed("filling the document's placeholders", &a, SCOPES)),
        }
    }
}

/// Every known placeholder (`{{name}}`) with the incident's value for it.
pub fn replacements(ctx: &IncidentContext) -> Vec<(String, String)> {
    template::PLACEHOLDERS
        .iter()
        .filter_map(|k| template::value(k, ctx).map(|v| (format!("{{{{{k}}}}}"), v)))
        .collect()
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
        _template: &str,
        ctx: &IncidentContext,
    ) -> ProviderResult<Created> {
        let g = &self.google;
        let q = marked(ctx.id, kind.as_str());
        let doc = match g.find_file(SCOPES, &q).await? {
            Some(d) => d,
            None => {
                let (template, setting) = self.template(kind);
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
            base_url: "https://dispatch.example.com".into(),
            settings: Default::default(),
        };
        let r = replacements(&ctx);
        assert_eq!(r.len(), template::PLACEHOLDERS.len());
        assert!(r.contains(&("{{title}}".into(), "Checkout down".into())));
        assert!(r.contains(&("{{commander}}".into(), "Ida <ic@example.com>".into())));
    }
}
