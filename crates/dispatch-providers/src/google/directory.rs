//! Google Groups through the Admin SDK Directory API: a group per incident
//! (`<name>@<group domain>`, found with `groups.get` before `groups.insert`, so a retried job
//! makes none twice), members listed (`members.list`, following `pageToken`), added
//! (`members.insert`; "Member already exists" is fine) and removed (`members.delete`; a member
//! already gone is fine). Mail to the group goes to its own address. On close the group is
//! kept, or deleted (`groups.delete`) when so configured.

use super::{Api, Google, SCOPE_GROUPS, SLUG};
use async_trait::async_trait;
use dispatch_core::provider::{Created, IncidentContext, ParticipantGroupProvider, ProviderResult};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;

const SCOPES: &[&str] = &[SCOPE_GROUPS];

/// The most pages of members read.
const MAX_PAGES: usize = 50;

/// Google Groups.
pub struct GoogleGroups {
    google: Arc<Google>,
}

impl GoogleGroups {
    /// Groups through this client.
    pub fn new(google: Arc<Google>) -> Self {
        Self { google }
    }

    fn domain(&self) -> &str {
        self.google.settings().group_domain.trim()
    }

    /// The group's address for a name: lower-case letters, digits, `-`, `_` and `.`.
    pub fn address(&self, name: &str) -> String {
        let local: String = name
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        format!("{local}@{}", self.domain())
    }

    fn created(&self, group: &Value, email: &str) -> Created {
        let local = email.split('@').next().unwrap_or(email);
        let mut details = std::collections::BTreeMap::new();
        details.insert("email".to_string(), email.to_string());
        if let Some(id) = group["id"].as_str() {
            details.insert("group_id".to_string(), id.to_string());
        }
        Created {
            external_id: email.to_string(),
            link: Some(format!(
                "https://groups.google.com/a/{}/g/{local}",
                self.domain()
            )),
            details,
            ..Default::default()
        }
    }

    async fn get(&self, email: &str) -> ProviderResult<Option<Value>> {
        let g = &self.google;
        let a = g
            .call(
                "reading the group",
                SCOPES,
                Method::GET,
                (
                    Api::Directory,
                    &format!("/groups/{}", super::segment(email)),
                ),
                &[],
                None,
            )
            .await?;
        match a.status {
            200..=299 => Ok(Some(a.body)),
            404 => Ok(None),
            _ => Err(g.failed("reading the group", &a, SCOPES)),
        }
    }

    /// Deletes the group (on close, when configured); a group already gone is fine.
    pub async fn delete(&self, email: &str) -> ProviderResult<()> {
        let g = &self.google;
        let a = g
            .call(
                "deleting the group",
                SCOPES,
                Method::DELETE,
                (
                    Api::Directory,
                    &format!("/groups/{}", super::segment(email)),
                ),
                &[],
                None,
            )
            .await?;
        match a.status {
            200..=299 | 404 => Ok(()),
            _ => Err(g.failed("deleting the group", &a, SCOPES)),
        }
    }
}

#[async_trait]
impl ParticipantGroupProvider for GoogleGroups {
    fn slug(&self) -> &'static str {
        SLUG
    }

    /// A token with the groups scope, and one group of the domain listed.
    async fn check(&self) -> ProviderResult<Option<String>> {
        let domain = self.domain().to_string();
        self.google.forget_tokens();
        self.google
            .call_ok(
                "listing the domain's groups",
                SCOPES,
                Method::GET,
                (Api::Directory, "/groups"),
                &[("domain", domain.as_str()), ("maxResults", "1")],
                None,
            )
            .await?;
        Ok(Some(format!(
            "groups can be made in {domain} as {}",
            self.google.settings().subject
        )))
    }

    async fn create(
        &self,
        _key: &str,
        name: &str,
        ctx: &IncidentContext,
    ) -> ProviderResult<Created> {
        let g = &self.google;
        let email = self.address(name);
        if let Some(found) = self.get(&email).await? {
            return Ok(self.created(&found, &email));
        }
        let description: String = format!(
            "{}: {} — made by Dispatch ({}/incidents/{})",
            ctx.name, ctx.title, ctx.base_url, ctx.name
        )
        .chars()
        .take(4000)
        .collect();
        let body = json!({"email": email, "name": name, "description": description});
        let a = g
            .call(
                "creating the group",
                SCOPES,
                Method::POST,
                (Api::Directory, "/groups"),
                &[],
                Some(&body),
            )
            .await?;
        match a.status {
            200..=299 => Ok(self.created(&a.body, &email)),
            // Made by an earlier try whose answer was lost.
            409 => {
                let found = self.get(&email).await?.unwrap_or(Value::Null);
                Ok(self.created(&found, &email))
            }
            _ => Err(g.failed("creating the group", &a, SCOPES)),
        }
    }

    async fn members(&self, external_id: &str) -> ProviderResult<Vec<String>> {
        let path = format!("/groups/{}/members", super::segment(external_id));
        let mut out = Vec::new();
        let mut page = String::new();
        for _ in 0..MAX_PAGES {
            let mut query = vec![("maxResults", "200")];
            if !page.is_empty() {
                query.push(("pageToken", page.as_str()));
            }
            let body = self
                .google
                .call_ok(
                    "listing the group's members",
                    SCOPES,
                    Method::GET,
                    (Api::Directory, &path),
                    &query,
                    None,
                )
                .await?;
            out.extend(
                body["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m["email"].as_str().map(str::to_lowercase)),
            );
            match body["nextPageToken"].as_str() {
                Some(t) if !t.is_empty() => page = t.to_string(),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn add_members(&self, external_id: &str, emails: &[String]) -> ProviderResult<()> {
        let g = &self.google;
        let path = format!("/groups/{}/members", super::segment(external_id));
        for email in emails {
            let body = json!({"email": email, "role": "MEMBER"});
            let what = format!("adding {email} to the group");
            let a = g
                .call(
                    &what,
                    SCOPES,
                    Method::POST,
                    (Api::Directory, &path),
                    &[],
                    Some(&body),
                )
                .await?;
            match a.status {
                200..=299 | 409 => {}
                _ => return Err(g.failed(&what, &a, SCOPES)),
            }
        }
        Ok(())
    }

    async fn remove_members(&self, external_id: &str, emails: &[String]) -> ProviderResult<()> {
        let g = &self.google;
        for email in emails {
            let what = format!("removing {email} from the group");
            let a = g
                .call(
                    &what,
                    SCOPES,
                    Method::DELETE,
                    (
                        Api::Directory,
                        &format!(
                            "/groups/{}/members/{}",
                            super::segment(external_id),
                            super::segment(email)
                        ),
                    ),
                    &[],
                    None,
                )
                .await?;
            match a.status {
                200..=299 | 404 => {}
                _ => return Err(g.failed(&what, &a, SCOPES)),
            }
        }
        Ok(())
    }

    async fn mail_recipients(&self, external_id: &str) -> ProviderResult<Vec<String>> {
        Ok(vec![external_id.to_string()])
    }

    async fn archive(&self, external_id: &str, archive: bool) -> ProviderResult<()> {
        if archive && self.google.settings().delete_groups_on_close {
            self.delete(external_id).await?;
        }
        Ok(())
    }
}
