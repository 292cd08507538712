//! The Bot Connector's REST API, as the bot: post an activity in a conversation (a channel's
//! id starts a new post there), reply to or update one, open a one-to-one conversation, and
//! look up a member. Tokens come from the Bot Framework's client-credentials grant.

use crate::http::{self, TeamsError};
use crate::token::TokenSource;
use serde_json::{json, Value};
use std::sync::Arc;

/// Where proactive messages go when no activity has named a service URL yet.
pub const DEFAULT_SERVICE_URL: &str = "https://smba.trafficmanager.net/teams/";

/// A Bot Connector client for one bot.
#[derive(Clone)]
pub struct Connector {
    /// The bot's app id (its connector id is `28:{app_id}`).
    pub app_id: String,
    /// The tenant (for one-to-one conversations).
    pub tenant_id: String,
    /// The service URL proactive messages use.
    pub service_url: String,
    tokens: Arc<TokenSource>,
    http: reqwest::Client,
}

fn url(service_url: &str, path: &str) -> String {
    format!("{}/v3/{path}", service_url.trim_end_matches('/'))
}

impl Connector {
    /// A client for bot `app_id` with tokens from `tokens`.
    pub fn new(app_id: &str, tenant_id: &str, service_url: &str, tokens: TokenSource) -> Self {
        Self {
            app_id: app_id.to_string(),
            tenant_id: tenant_id.to_string(),
            service_url: service_url.to_string(),
            tokens: Arc::new(tokens),
            http: http::client(),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        url: String,
        body: Option<&Value>,
    ) -> Result<Value, TeamsError> {
        let token = self.tokens.token().await?;
        let what = format!("{method} {url}");
        http::send(&what, || {
            let r = self.http.request(method.clone(), &url).bearer_auth(&token);
            match body {
                Some(b) => r.json(b),
                None => r,
            }
        })
        .await
    }

    /// Posts `activity` in `conversation` (at `service_url`, or the configured one); its id.
    pub async fn send(
        &self,
        service_url: Option<&str>,
        conversation: &str,
        activity: &Value,
    ) -> Result<String, TeamsError> {
        let base = service_url.unwrap_or(&self.service_url);
        let path = format!("conversations/{}/activities", http::escape(conversation));
        let v = self
            .call(reqwest::Method::POST, url(base, &path), Some(activity))
            .await?;
        Ok(v["id"].as_str().unwrap_or_default().to_string())
    }

    /// Replies to activity `reply_to` of `conversation`; the reply's id.
    pub async fn reply(
        &self,
        service_url: &str,
        conversation: &str,
        reply_to: &str,
        activity: &Value,
    ) -> Result<String, TeamsError> {
        let path = format!(
            "conversations/{}/activities/{}",
            http::escape(conversation),
            http::escape(reply_to)
        );
        let v = self
            .call(
                reqwest::Method::POST,
                url(service_url, &path),
                Some(activity),
            )
            .await?;
        Ok(v["id"].as_str().unwrap_or_default().to_string())
    }

    /// Replaces activity `id` of `conversation`.
    pub async fn update(
        &self,
        conversation: &str,
        id: &str,
        activity: &Value,
    ) -> Result<(), TeamsError> {
        let path = format!(
            "conversations/{}/activities/{}",
            http::escape(conversation),
            http::escape(id)
        );
        self.call(
            reqwest::Method::PUT,
            url(&self.service_url, &path),
            Some(activity),
        )
        .await
        .map(drop)
    }

    /// Opens (or finds) the one-to-one conversation with the user whose AAD object id is
    /// `user`; its id.
    pub async fn open_direct(&self, user: &str) -> Result<String, TeamsError> {
        let body = json!({
            "bot": {"id": format!("28:{}", self.app_id)},
            "members": [{"id": user}],
            "isGroup": false,
            "tenantId": self.tenant_id,
            "channelData": {"tenant": {"id": self.tenant_id}},
        });
        let v = self
            .call(
                reqwest::Method::POST,
                url(&self.service_url, "conversations"),
                Some(&body),
            )
            .await?;
        Ok(v["id"].as_str().unwrap_or_default().to_string())
    }

    /// A member of a conversation (`GET …/members/{id}`): their AAD object id, e-mail (or
    /// user principal name) and name.
    pub async fn member(
        &self,
        service_url: &str,
        conversation: &str,
        member: &str,
    ) -> Result<Value, TeamsError> {
        let path = format!(
            "conversations/{}/members/{}",
            http::escape(conversation),
            http::escape(member)
        );
        self.call(reqwest::Method::GET, url(service_url, &path), None)
            .await
    }
}

/// A message activity carrying `message` as an Adaptive Card, with its plain text.
pub fn card_activity(message: &dispatch_core::message::RichMessage) -> Value {
    json!({
        "type": "message",
        "summary": message.text,
        "attachments": [crate::cards::attachment(message)],
    })
}
