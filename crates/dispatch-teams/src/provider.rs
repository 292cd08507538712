//! Microsoft Teams as the incident conversation: a channel per incident in the configured team
//! (private for restricted incidents, with the commander as its owner), its description kept as
//! the topic, a website tab per document, members added (to a private channel, or to the team a
//! standard channel is open to), messages posted by the bot as Adaptive Cards, archived on
//! close and unarchived on reopen. Every call here runs inside a job of the durable queue; a
//! retried job finds the channel a lost answer made and never posts a message twice.

use crate::connector::{card_activity, Connector};
use crate::graph::{Graph, CHANNEL_NAME_MAX};
use crate::TeamsError;
use async_trait::async_trait;
use dispatch_core::message::RichMessage;
use dispatch_core::provider::{
    ChatMemory, ConversationProvider, Created, IncidentContext, ProviderError, ProviderResult,
    ThreadRef,
};
use std::sync::Arc;

/// The provider's slug, as recorded on an incident's conversation resource.
pub const SLUG: &str = "teams";

fn err(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(SLUG, e.to_string())
}

fn teams_err(e: TeamsError) -> ProviderError {
    err(e)
}

/// The Teams conversation provider.
pub struct TeamsConversation {
    /// Graph, for the team's channels and the directory.
    pub graph: Graph,
    /// The Bot Connector, for the bot's messages.
    pub connector: Connector,
    /// People's Teams ids and the posted-message keys.
    pub memory: Arc<dyn ChatMemory>,
}

impl TeamsConversation {
    /// The Azure AD object id of `email`: the one linked to the person, else Graph's user of
    /// that principal name (then linked).
    pub async fn user_id(&self, email: &str) -> ProviderResult<Option<String>> {
        let email = email.to_lowercase();
        if let Some(id) = self.memory.user_id(&email).await? {
            return Ok(Some(id));
        }
        let Some(user) = self.graph.user(&email).await.map_err(teams_err)? else {
            return Ok(None);
        };
        self.memory
            .remember_user(&user.id, &email, &user.name)
            .await?;
        Ok(Some(user.id))
    }

    /// Posts `message` in `conversation`, once per `key`.
    async fn post_once(
        &self,
        conversation: &str,
        key: Option<&str>,
        message: &RichMessage,
    ) -> ProviderResult<()> {
        if let Some(key) = key {
            if self.memory.posted(key).await?.is_some() {
                return Ok(());
            }
        }
        let id = self
            .connector
            .send(None, conversation, &card_activity(message))
            .await
            .map_err(teams_err)?;
        if let Some(key) = key {
            self.memory.remember_post(key, conversation, &id).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl ConversationProvider for TeamsConversation {
    fn slug(&self) -> &'static str {
        SLUG
    }

    async fn create(&self, _key: &str, ctx: &IncidentContext) -> ProviderResult<Created> {
        let name: String = ctx.room_name().chars().take(CHANNEL_NAME_MAX).collect();
        let name = name.trim_end_matches('-');
        let owner = if ctx.visibility == "restricted" {
            let email = &ctx.commander.email;
            let id = self.user_id(email).await?.ok_or_else(|| {
                err(format!(
                    "a restricted incident's channel is private and needs an owner, but no Teams user has the address {email}"
                ))
            })?;
            Some(id)
        } else {
            None
        };
        let channel = self
            .graph
            .create_channel(name, &ctx.title, owner.as_deref())
            .await
            .map_err(teams_err)?;
        let id = channel["id"].as_str().unwrap_or_default().to_string();
        if id.is_empty() {
            return Err(err("Graph created a channel without an id"));
        }
        Ok(Created {
            link: channel["webUrl"].as_str().map(String::from),
            external_id: id,
            ..Default::default()
        })
    }

    async fn set_topic(&self, external_id: &str, topic: &str) -> ProviderResult<()> {
        self.graph
            .set_description(external_id, topic)
            .await
            .map_err(teams_err)
    }

    async fn bookmark(&self, external_id: &str, title: &str, link: &str) -> ProviderResult<()> {
        self.graph
            .website_tab(external_id, title, link)
            .await
            .map_err(teams_err)
    }

    async fn add_members(&self, external_id: &str, emails: &[String]) -> ProviderResult<()> {
        let mut users = Vec::new();
        for email in emails {
            match self.user_id(email).await? {
                Some(id) => users.push(id),
                None => tracing::info!(%email, "no Teams user has this address; not added"),
            }
        }
        if users.is_empty() {
            return Ok(());
        }
        let channel = self.graph.channel(external_id).await.map_err(teams_err)?;
        let private = channel["membershipType"] != "standard";
        for user in users {
            let added = if private {
                self.graph.add_channel_member(external_id, &user).await
            } else {
                self.graph.add_team_member(&user).await
            };
            added.map_err(teams_err)?;
        }
        Ok(())
    }

    async fn post(
        &self,
        external_id: &str,
        key: Option<&str>,
        message: &RichMessage,
    ) -> ProviderResult<()> {
        self.post_once(external_id, key, message).await
    }

    async fn direct_message(
        &self,
        email: &str,
        key: Option<&str>,
        message: &RichMessage,
    ) -> ProviderResult<()> {
        let Some(user) = self.user_id(email).await? else {
            return Err(err(format!("no Teams user has the address {email}")));
        };
        let conversation = self.connector.open_direct(&user).await.map_err(teams_err)?;
        self.post_once(&conversation, key, message).await
    }

    async fn set_archived(&self, external_id: &str, archived: bool) -> ProviderResult<()> {
        self.graph
            .set_archived(external_id, archived)
            .await
            .map_err(teams_err)
    }

    /// A case's message in the team's channel named `channel` (`#sec-alerts` or `sec-alerts`;
    /// a channel id `19:…` is taken as it is), once per `key`.
    async fn post_case(
        &self,
        _case_id: i64,
        channel: &str,
        key: &str,
        message: &RichMessage,
    ) -> ProviderResult<ThreadRef> {
        let channel = match channel.trim() {
            id if id.starts_with("19:") => id.to_string(),
            name => {
                let name = name.trim_start_matches('#');
                let found = self.graph.find_channel(name).await.map_err(teams_err)?;
                found
                    .and_then(|c| c["id"].as_str().map(String::from))
                    .ok_or_else(|| err(format!("the team has no channel named {name}")))?
            }
        };
        if let Some(ts) = self.memory.posted(key).await? {
            return Ok(ThreadRef { channel, ts });
        }
        let ts = self
            .connector
            .send(None, &channel, &card_activity(message))
            .await
            .map_err(teams_err)?;
        self.memory.remember_post(key, &channel, &ts).await?;
        Ok(ThreadRef { channel, ts })
    }

    /// Replaces the case's message in place.
    async fn update_case(&self, thread: &ThreadRef, message: &RichMessage) -> ProviderResult<()> {
        self.connector
            .update(&thread.channel, &thread.ts, &card_activity(message))
            .await
            .map_err(teams_err)
    }

    /// Replies in the case message's thread, once per `key`.
    async fn reply_case(
        &self,
        thread: &ThreadRef,
        key: &str,
        message: &RichMessage,
    ) -> ProviderResult<()> {
        if self.memory.posted(key).await?.is_some() {
            return Ok(());
        }
        let id = self
            .connector
            .reply(
                &self.connector.service_url,
                &thread.channel,
                &thread.ts,
                &card_activity(message),
            )
            .await
            .map_err(teams_err)?;
        self.memory.remember_post(key, &thread.channel, &id).await
    }
}
