//! Slack as the incident conversation: a channel per incident (private for restricted ones),
//! its topic and bookmarks, members invited by e-mail, messages rendered as Block Kit, archived on
//! close. Calls that Slack would not make idempotent are made so here: a create finds the channel
//! a lost answer made, and a posted message is remembered by its key so a retried job does not
//! post it twice.

use crate::{blocks, SlackApi, SlackError};
use async_trait::async_trait;
use dispatch_core::message::RichMessage;
use dispatch_core::provider::{
    ConversationProvider, Created, IncidentContext, ProviderError, ProviderResult, ThreadRef,
};

/// The provider's slug, as recorded on an incident's conversation resource.
pub const SLUG: &str = "slack";
/// Slack cuts topics at 250 characters.
pub const TOPIC_MAX: usize = 250;

fn err(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(SLUG, e.to_string())
}

fn slack_err(e: SlackError) -> ProviderError {
    err(e)
}

/// The Slack conversation provider.
pub struct SlackConversation {
    /// The Web API client (bot token).
    pub api: SlackApi,
    /// The user cache and the posted-message keys.
    pub memory: std::sync::Arc<dyn dispatch_core::provider::ChatMemory>,
}

impl SlackConversation {
    /// The Slack user id of `email`: from the cache, else `users.lookupByEmail` (then cached).
    pub async fn user_id(&self, email: &str) -> ProviderResult<Option<String>> {
        let email = email.to_lowercase();
        if let Some(id) = self.memory.user_id(&email).await? {
            return Ok(Some(id));
        }
        let Some(id) = self.api.user_by_email(&email).await.map_err(slack_err)? else {
            return Ok(None);
        };
        self.memory.remember_user(&id, &email, &email).await?;
        Ok(Some(id))
    }
}

#[async_trait]
impl ConversationProvider for SlackConversation {
    fn slug(&self) -> &'static str {
        SLUG
    }

    async fn create(&self, _key: &str, ctx: &IncidentContext) -> ProviderResult<Created> {
        let name = ctx.room_name();
        let private = ctx.visibility == "restricted";
        let id = self
            .api
            .create_channel(&name, private)
            .await
            .map_err(slack_err)?;
        Ok(Created {
            link: Some(format!("https://slack.com/app_redirect?channel={id}")),
            external_id: id,
            ..Default::default()
        })
    }

    async fn set_topic(&self, external_id: &str, topic: &str) -> ProviderResult<()> {
        let topic: String = topic.chars().take(TOPIC_MAX).collect();
        self.api
            .set_topic(external_id, &topic)
            .await
            .map_err(slack_err)
    }

    async fn bookmark(&self, external_id: &str, title: &str, link: &str) -> ProviderResult<()> {
        self.api
            .bookmark(external_id, title, link)
            .await
            .map_err(slack_err)
    }

    async fn add_members(&self, external_id: &str, emails: &[String]) -> ProviderResult<()> {
        let mut users = Vec::new();
        for email in emails {
            match self.user_id(email).await? {
                Some(id) => users.push(id),
                None => tracing::info!(%email, "no Slack user has this address; not invited"),
            }
        }
        self.api
            .invite(external_id, &users)
            .await
            .map_err(slack_err)
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
            return Err(err(format!("no Slack user has the address {email}")));
        };
        let channel = self.api.open_dm(&user).await.map_err(slack_err)?;
        self.post_once(&channel, key, message).await
    }

    async fn set_archived(&self, external_id: &str, archived: bool) -> ProviderResult<()> {
        self.api
            .set_archived(external_id, archived)
            .await
            .map_err(slack_err)
    }

    async fn post_case(
        &self,
        _case_id: i64,
        channel: &str,
        key: &str,
        message: &RichMessage,
    ) -> ProviderResult<ThreadRef> {
        let name = channel.trim().trim_start_matches('#');
        let id = self
            .api
            .find_channel(name)
            .await
            .map_err(slack_err)?
            .ok_or_else(|| {
                err(format!(
                    "no Slack channel is named {name:?} (create it, and invite the app to it)"
                ))
            })?;
        if let Some(ts) = self.memory.posted(key).await? {
            return Ok(ThreadRef { channel: id, ts });
        }
        let (id, ts) = self
            .api
            .post_in(&id, None, &message.text, &blocks::render(message))
            .await
            .map_err(slack_err)?;
        self.memory.remember_post(key, &id, &ts).await?;
        Ok(ThreadRef { channel: id, ts })
    }

    async fn update_case(&self, thread: &ThreadRef, message: &RichMessage) -> ProviderResult<()> {
        self.api
            .update(
                &thread.channel,
                &thread.ts,
                &message.text,
                &blocks::render(message),
            )
            .await
            .map_err(slack_err)
    }

    async fn reply_case(
        &self,
        thread: &ThreadRef,
        key: &str,
        message: &RichMessage,
    ) -> ProviderResult<()> {
        if self.memory.posted(key).await?.is_some() {
            return Ok(());
        }
        let (_, ts) = self
            .api
            .post_in(
                &thread.channel,
                Some(&thread.ts),
                &message.text,
                &blocks::render(message),
            )
            .await
            .map_err(slack_err)?;
        self.memory.remember_post(key, &thread.channel, &ts).await
    }
}

impl SlackConversation {
    /// Posts `message` to `channel`, once per `key`.
    async fn post_once(
        &self,
        channel: &str,
        key: Option<&str>,
        message: &RichMessage,
    ) -> ProviderResult<()> {
        let earlier = match key {
            Some(key) => self.memory.posted(key).await?,
            None => None,
        };
        let ts = match earlier {
            Some(ts) => ts,
            None => {
                let ts = self
                    .api
                    .post(channel, &message.text, &blocks::render(message))
                    .await
                    .map_err(slack_err)?;
                if let Some(key) = key {
                    self.memory.remember_post(key, channel, &ts).await?;
                }
                ts
            }
        };
        // Pinning is harmless to repeat, so a retry after a failed pin pins the first post.
        if message.pin {
            self.api.pin(channel, &ts).await.map_err(slack_err)?;
        }
        Ok(())
    }
}
