//! Slack as the incident conversation: a channel per incident (private for restricted ones),
//! its topic and bookmarks, members invited by e-mail, messages rendered as Block Kit, archived on
//! close. Calls that Slack would not make idempotent are made so here: a create finds the channel
//! a lost answer made, and a posted message is remembered by its key so a retried job does not
//! post it twice.

use async_trait::async_trait;
use dispatch_core::message::RichMessage;
use dispatch_core::provider::{
    ConversationProvider, Created, IncidentContext, ProviderError, ProviderResult,
};
use dispatch_slack::{blocks, SlackApi, SlackError};

const SLUG: &str = "slack";
/// Slack cuts topics at 250 characters.
const TOPIC_MAX: usize = 250;

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

#[cfg(test)]
mod tests {
    use super::*;
    use dispatch_core::message::Block;
    use dispatch_core::provider::Person;
    use dispatch_slack::emulator::Emulator;
    use dispatch_store::testing::TestDb;

    fn ctx(visibility: &str) -> IncidentContext {
        let ic = Person {
            email: "ic@example.com".into(),
            name: "Ice".into(),
        };
        IncidentContext {
            id: 1,
            name: "INC-1".into(),
            project: "default".into(),
            title: "Payments failing at checkout".into(),
            description: String::new(),
            resolution: None,
            status: "active".into(),
            visibility: visibility.into(),
            incident_type: "Default".into(),
            priority: "High".into(),
            severity: "High".into(),
            commander: ic.clone(),
            reporter: ic,
            participants: vec![],
            links: vec![],
            timeline: vec![],
            report_fields: vec![],
            base_url: "http://127.0.0.1:8080".into(),
        }
    }

    async fn setup() -> (TestDb, Emulator, SlackConversation) {
        let t = TestDb::new().await;
        let emu = Emulator::new("xoxb-t");
        let url = emu.spawn().await;
        let p = SlackConversation {
            api: SlackApi::new(&url, "xoxb-t"),
            memory: dispatch_store::builtin::providers(&t.open().await, "http://127.0.0.1:8080")
                .chat_memory,
        };
        (t, emu, p)
    }

    #[tokio::test]
    async fn a_channel_per_incident_with_topic_members_and_one_post_per_key() {
        let (_t, emu, p) = setup().await;
        let ic = emu.add_user("ic@example.com", "Ice");
        let created = p.create("conv-1", &ctx("open")).await.unwrap();
        assert_eq!(created, p.create("conv-1", &ctx("open")).await.unwrap());
        let id = created.external_id;
        p.set_topic(&id, &"t".repeat(300)).await.unwrap();
        p.add_members(&id, &["IC@example.com".into(), "ghost@example.com".into()])
            .await
            .unwrap();
        p.add_members(&id, &["ic@example.com".into()])
            .await
            .unwrap();
        let msg = RichMessage::new(vec![Block::Header {
            text: "Welcome".into(),
        }]);
        p.post(&id, Some("welcome-1"), &msg).await.unwrap();
        p.post(&id, Some("welcome-1"), &msg).await.unwrap();
        p.post(&id, None, &msg).await.unwrap();
        p.set_archived(&id, true).await.unwrap();
        let ch = &emu.channels()[0];
        assert_eq!(ch.name, "inc-1-payments-failing-at-checkout");
        assert!(!ch.private);
        assert_eq!(ch.topic.chars().count(), TOPIC_MAX);
        assert_eq!(ch.members, vec![ic]);
        assert_eq!(ch.messages.len(), 2, "the keyed message is posted once");
        assert_eq!(ch.messages[0].2[0]["type"], "header");
        assert!(ch.archived);
        // The address was looked up once, then read from the cache.
        assert_eq!(emu.calls_of("users.lookupByEmail").len(), 2);
    }

    #[tokio::test]
    async fn restricted_incidents_get_private_channels_and_errors_name_slacks_code() {
        let (_t, emu, p) = setup().await;
        let created = p.create("conv-2", &ctx("restricted")).await.unwrap();
        assert!(emu.channels()[0].private);
        let e = p.set_topic("C404", "x").await.unwrap_err();
        assert!(e.message.contains("channel_not_found"), "{e}");
        assert_eq!(e.provider, "slack");
        assert!(created.link.unwrap().contains(&created.external_id));
    }
}
