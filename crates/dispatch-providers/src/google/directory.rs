//! Google Groups through the Admin SDK Directory API: two groups per incident, its responders
//! (the tactical group, `inc-7-responders@<group domain>`, the resource) and its stakeholders
//! (the notifications group, `inc-7-notifications@<group domain>`, named in the resource's
//! details as `notifications`; the engine keeps its members to the incident's notifications
//! group and the addresses its notification rules mail). Each is found with `groups.get`
//! before `groups.insert`, so a retried job makes none twice. Members are listed (`members.list`, following `pageToken`), added
//! (`members.insert`; "Member already exists" is fine) and removed (`members.delete`; a member
//! already gone is fine). Mail to the group goes to its own address. On close the groups are
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

    /// The group's address for a name.
    pub fn address(&self, name: &str) -> String {
        address(name, self.domain())
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

    /// The group `email` (`name`): the one there is, else a new one (an answer lost by an
    /// earlier try, 409, finds it).
    async fn ensure(
        &self,
        email: &str,
        name: &str,
        ctx: &IncidentContext,
    ) -> ProviderResult<Value> {
        let g = &self.google;
        if let Some(found) = self.get(email).await? {
            return Ok(found);
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
            200..=299 => Ok(a.body),
            409 => Ok(self.get(email).await?.unwrap_or(Value::Null)),
            _ => Err(g.failed(&format!("creating the group {email}"), &a, SCOPES)),
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

    /// The responders' group (the resource) and the stakeholders' group beside it.
    async fn create(
        &self,
        _key: &str,
        name: &str,
        ctx: &IncidentContext,
    ) -> ProviderResult<Created> {
        let email = self.address(name);
        let group = self.ensure(&email, name, ctx).await?;
        let notifications = notifications_address(&email);
        let local = notifications
            .split('@')
            .next()
            .unwrap_or_default()
            .to_string();
        self.ensure(&notifications, &local, ctx).await?;
        let mut made = self.created(&group, &email);
        made.details.insert("notifications".into(), notifications);
        Ok(made)
    }

    async fn members(&self, external_id: &str) -> ProviderResult<Vec<String>> {
        let path = format!("/groups/{}/members", super::segment(external_id));
        let list = self
            .google
            .listing(
                "listing the group's members",
                SCOPES,
                (Api::Directory, &path),
                &[("maxResults", "200")],
                ("members", MAX_PAGES),
            )
            .await?;
        Ok(list
            .iter()
            .filter_map(|m| m["email"].as_str().map(str::to_lowercase))
            .collect())
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
            self.delete(&notifications_address(external_id)).await?;
        }
        Ok(())
    }
}

/// The notifications group's address beside a responders' group's:
/// `inc-7-responders@x` → `inc-7-notifications@x`.
pub fn notifications_address(responders: &str) -> String {
    let (local, domain) = responders.split_once('@').unwrap_or((responders, ""));
    let base = local.strip_suffix("-responders").unwrap_or(local);
    format!("{base}-notifications@{domain}")
}

/// A group's address for a name in `domain`: lower-case letters, digits, `-`, `_` and `.`.
pub fn address(name: &str, domain: &str) -> String {
    format!("{}@{domain}", crate::dashed(&name.trim().to_lowercase()))
}

/// The address of the Google Group a link made by [`GoogleGroups`] opens
/// (`https://groups.google.com/a/<domain>/g/<name>`); `None` for any other link.
pub fn address_of_link(link: &str) -> Option<String> {
    let rest = link.strip_prefix("https://groups.google.com/a/")?;
    let (domain, local) = rest.split_once("/g/")?;
    let local = local.trim_end_matches('/');
    (!domain.is_empty() && !local.is_empty() && !local.contains('/'))
        .then(|| format!("{local}@{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notifications_group_sits_beside_the_responders_group() {
        let r = address("INC-7 Responders", "example.com");
        assert_eq!(r, "inc-7-responders@example.com");
        assert_eq!(notifications_address(&r), "inc-7-notifications@example.com");
        assert_eq!(
            address_of_link("https://groups.google.com/a/example.com/g/inc-7-responders")
                .as_deref(),
            Some(r.as_str())
        );
        assert_eq!(
            address_of_link("https://dispatch.example.com/incidents/INC-7/group"),
            None
        );
    }
}
