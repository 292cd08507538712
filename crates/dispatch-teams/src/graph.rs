//! A small Microsoft Graph client (app-only token) for the team incidents live in: its channels
//! (create, find by name across `@odata.nextLink` pages, describe, archive and unarchive), their
//! members and website tabs, and the directory's users. Repeated calls are harmless: a create
//! finds the channel of that name, a member already in is fine, a tab of that name is updated.

use crate::http::{self, TeamsError};
use crate::token::TokenSource;
use serde_json::{json, Value};
use std::sync::Arc;

/// Graph's v1.0 endpoint.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.microsoft.com/v1.0";
/// The Website tab app.
pub const WEBSITE_APP: &str = "com.microsoft.teamspace.tab.web";
/// Channel names are at most 50 characters.
pub const CHANNEL_NAME_MAX: usize = 50;
/// Channel descriptions are at most 1024 characters.
pub const DESCRIPTION_MAX: usize = 1024;

/// A Graph client for one team.
#[derive(Clone)]
pub struct Graph {
    base: String,
    /// The team incidents' channels are made in.
    pub team_id: String,
    tokens: Arc<TokenSource>,
    http: reqwest::Client,
}

/// A user of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The AAD object id.
    pub id: String,
    /// The e-mail address (`mail`, else the user principal name), lower-case.
    pub email: String,
    /// The display name.
    pub name: String,
}

impl Graph {
    /// A client of Graph at `base` for team `team_id`.
    pub fn new(base: &str, team_id: &str, tokens: TokenSource) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            team_id: team_id.to_string(),
            tokens: Arc::new(tokens),
            http: http::client(),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Value, TeamsError> {
        let token = self.tokens.token().await?;
        let path = url.strip_prefix(&self.base).unwrap_or(url);
        let what = format!("{method} {path}");
        http::send(&what, || {
            let r = self.http.request(method.clone(), url).bearer_auth(&token);
            match body {
                Some(b) => r.json(b),
                None => r,
            }
        })
        .await
    }

    fn channel_url(&self, channel: &str) -> String {
        format!(
            "{}/teams/{}/channels/{}",
            self.base,
            http::escape(&self.team_id),
            http::escape(channel)
        )
    }

    /// Every item of a collection, following `@odata.nextLink` to the last page.
    pub async fn all(&self, url: &str) -> Result<Vec<Value>, TeamsError> {
        let mut out = Vec::new();
        let mut next = Some(url.to_string());
        while let Some(url) = next {
            let page = self.call(reqwest::Method::GET, &url, None).await?;
            out.extend(page["value"].as_array().cloned().unwrap_or_default());
            next = page["@odata.nextLink"].as_str().map(String::from);
        }
        Ok(out)
    }

    /// The channel named `name` in the team, if there is one.
    pub async fn find_channel(&self, name: &str) -> Result<Option<Value>, TeamsError> {
        let url = format!(
            "{}/teams/{}/channels",
            self.base,
            http::escape(&self.team_id)
        );
        Ok(self
            .all(&url)
            .await?
            .into_iter()
            .find(|c| c["displayName"].as_str() == Some(name)))
    }

    /// A channel.
    pub async fn channel(&self, channel: &str) -> Result<Value, TeamsError> {
        self.call(reqwest::Method::GET, &self.channel_url(channel), None)
            .await
    }

    /// Creates the channel `name` (private ones with `owner`, an AAD object id, as their
    /// owner, as Graph asks of app-only callers), or finds the one a lost answer made; the
    /// channel as Graph describes it (`id`, `webUrl`, …).
    pub async fn create_channel(
        &self,
        name: &str,
        description: &str,
        owner: Option<&str>,
    ) -> Result<Value, TeamsError> {
        if let Some(found) = self.find_channel(name).await? {
            return Ok(found);
        }
        let mut body = json!({
            "displayName": name,
            "description": description,
            "membershipType": if owner.is_some() { "private" } else { "standard" },
        });
        if let Some(owner) = owner {
            body["members"] = json!([member_body(&self.base, owner, &["owner"])]);
        }
        let url = format!(
            "{}/teams/{}/channels",
            self.base,
            http::escape(&self.team_id)
        );
        match self.call(reqwest::Method::POST, &url, Some(&body)).await {
            Ok(v) => Ok(v),
            // A create whose answer was lost made it: find it.
            Err(e) if e.status() == Some(409) => self.find_channel(name).await?.ok_or(e),
            Err(e) => Err(e),
        }
    }

    /// Sets a channel's description (the incident's topic).
    pub async fn set_description(&self, channel: &str, text: &str) -> Result<(), TeamsError> {
        let text: String = text.chars().take(DESCRIPTION_MAX).collect();
        self.call(
            reqwest::Method::PATCH,
            &self.channel_url(channel),
            Some(&json!({ "description": text })),
        )
        .await
        .map(drop)
    }

    /// Adds a user (AAD object id) to a private channel's members; one already in is fine.
    pub async fn add_channel_member(&self, channel: &str, user: &str) -> Result<(), TeamsError> {
        let url = format!("{}/members", self.channel_url(channel));
        let body = member_body(&self.base, user, &[]);
        match self.call(reqwest::Method::POST, &url, Some(&body)).await {
            Err(e) if e.status() == Some(409) => Ok(()),
            other => other.map(drop),
        }
    }

    /// Adds a user to the team (a standard channel is open to its members); one already in is
    /// fine.
    pub async fn add_team_member(&self, user: &str) -> Result<(), TeamsError> {
        let url = format!(
            "{}/teams/{}/members",
            self.base,
            http::escape(&self.team_id)
        );
        let body = member_body(&self.base, user, &[]);
        match self.call(reqwest::Method::POST, &url, Some(&body)).await {
            Err(e) if e.status() == Some(409) => Ok(()),
            other => other.map(drop),
        }
    }

    /// Adds a website tab called `name`, or points the tab of that name at `link`.
    pub async fn website_tab(
        &self,
        channel: &str,
        name: &str,
        link: &str,
    ) -> Result<(), TeamsError> {
        let tabs_url = format!("{}/tabs", self.channel_url(channel));
        let tabs = self.all(&format!("{tabs_url}?$expand=teamsApp")).await?;
        let configuration = json!({"entityId": null, "contentUrl": link, "websiteUrl": link});
        match tabs
            .iter()
            .find(|t| t["displayName"].as_str() == Some(name))
        {
            Some(t) if t["configuration"]["contentUrl"].as_str() == Some(link) => Ok(()),
            Some(t) => {
                let url = format!(
                    "{tabs_url}/{}",
                    http::escape(t["id"].as_str().unwrap_or_default())
                );
                self.call(
                    reqwest::Method::PATCH,
                    &url,
                    Some(&json!({ "configuration": configuration })),
                )
                .await
                .map(drop)
            }
            None => {
                let body = json!({
                    "displayName": name,
                    "teamsApp@odata.bind": format!("{}/appCatalogs/teamsApps/{WEBSITE_APP}", self.base),
                    "configuration": configuration,
                });
                self.call(reqwest::Method::POST, &tabs_url, Some(&body))
                    .await
                    .map(drop)
            }
        }
    }

    /// Archives (true) or unarchives (false) a channel; one already so is left as it is.
    pub async fn set_archived(&self, channel: &str, archived: bool) -> Result<(), TeamsError> {
        let now = self.channel(channel).await?;
        if now["isArchived"].as_bool().unwrap_or(false) == archived {
            return Ok(());
        }
        let action = if archived { "archive" } else { "unarchive" };
        let url = format!("{}/{action}", self.channel_url(channel));
        let body = if archived {
            Some(json!({"shouldSetSpoSiteReadOnlyForMembers": false}))
        } else {
            None
        };
        self.call(reqwest::Method::POST, &url, body.as_ref())
            .await
            .map(drop)
    }

    /// A user by AAD object id or user principal name, or `None` when the directory has none.
    pub async fn user(&self, id: &str) -> Result<Option<User>, TeamsError> {
        let url = format!(
            "{}/users/{}?$select=id,mail,userPrincipalName,displayName",
            self.base,
            http::escape(id)
        );
        match self.call(reqwest::Method::GET, &url, None).await {
            Ok(v) => {
                let email = v["mail"]
                    .as_str()
                    .filter(|m| !m.is_empty())
                    .or(v["userPrincipalName"].as_str())
                    .unwrap_or_default()
                    .to_lowercase();
                Ok(Some(User {
                    id: v["id"].as_str().unwrap_or(id).to_string(),
                    email,
                    name: v["displayName"].as_str().unwrap_or_default().to_string(),
                }))
            }
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A conversation member for Graph: the user bound by id, with `roles`.
fn member_body(base: &str, user: &str, roles: &[&str]) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.aadUserConversationMember",
        "roles": roles,
        "user@odata.bind": format!("{base}/users('{user}')"),
    })
}
