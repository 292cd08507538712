//! The Slack conversation provider against the emulator: a channel per incident (private for
//! restricted ones), the topic cut to Slack's length, members invited by e-mail (looked up once),
//! a keyed message posted once, and errors that name Slack's code.

use async_trait::async_trait;
use dispatch_core::message::{Block, RichMessage};
use dispatch_core::provider::{
    ChatMemory, ConversationProvider, IncidentContext, Person, ProviderResult,
};
use dispatch_slack::emulator::Emulator;
use dispatch_slack::provider::{SlackConversation, TOPIC_MAX};
use dispatch_slack::SlackApi;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What the store keeps for the provider, kept in memory.
#[derive(Default)]
struct Memory {
    users: Mutex<HashMap<String, String>>,
    posts: Mutex<HashMap<String, String>>,
}

#[async_trait]
impl ChatMemory for Memory {
    async fn user_id(&self, email: &str) -> ProviderResult<Option<String>> {
        Ok(self.users.lock().unwrap().get(email).cloned())
    }
    async fn remember_user(&self, id: &str, email: &str, _name: &str) -> ProviderResult<()> {
        self.users
            .lock()
            .unwrap()
            .insert(email.to_string(), id.to_string());
        Ok(())
    }
    async fn posted(&self, key: &str) -> ProviderResult<Option<String>> {
        Ok(self.posts.lock().unwrap().get(key).cloned())
    }
    async fn remember_post(&self, key: &str, _channel: &str, id: &str) -> ProviderResult<()> {
        self.posts
            .lock()
            .unwrap()
            .insert(key.to_string(), id.to_string());
        Ok(())
    }
}

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
        metrics: vec![],
        cost: None,
        tags: vec![],
        base_url: "http://127.0.0.1:8080".into(),
        settings: Default::default(),
    }
}

async fn setup() -> (Emulator, SlackConversation) {
    let emu = Emulator::new("xoxb-t");
    let url = emu.spawn().await;
    let p = SlackConversation {
        api: SlackApi::new(&url, "xoxb-t"),
        memory: Arc::new(Memory::default()),
    };
    (emu, p)
}

#[tokio::test]
async fn a_channel_per_incident_with_topic_members_and_one_post_per_key() {
    let (emu, p) = setup().await;
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
    let (emu, p) = setup().await;
    let created = p.create("conv-2", &ctx("restricted")).await.unwrap();
    assert!(emu.channels()[0].private);
    let e = p.set_topic("C404", "x").await.unwrap_err();
    assert!(e.message.contains("channel_not_found"), "{e}");
    assert_eq!(e.provider, "slack");
    assert!(created.link.unwrap().contains(&created.external_id));
}

#[tokio::test]
async fn a_case_is_posted_once_per_key_updated_in_place_and_answered_in_its_thread() {
    use dispatch_core::provider::ThreadRef;
    let (emu, p) = setup().await;
    let msg = |t: &str| RichMessage::new(vec![Block::Header { text: t.into() }]);
    let missing = p
        .post_case(1, "#sec-alerts", "case-1-message", &msg("Case 1"))
        .await
        .unwrap_err();
    assert!(missing.message.contains("sec-alerts"), "{missing}");
    let id = p.api.create_channel("sec-alerts", false).await.unwrap();
    let at = p
        .post_case(1, "#sec-alerts", "case-1-message", &msg("Case 1"))
        .await
        .unwrap();
    let again = p
        .post_case(1, "sec-alerts", "case-1-message", &msg("Case 1"))
        .await
        .unwrap();
    assert_eq!(at, again, "a retry answers the first post");
    assert_eq!(at.channel, id);
    p.update_case(&at, &msg("Case 1 (triage)")).await.unwrap();
    p.reply_case(&at, "case-1-events-2-3", &msg("Triaged"))
        .await
        .unwrap();
    p.reply_case(&at, "case-1-events-2-3", &msg("Triaged"))
        .await
        .unwrap();
    let ch = &emu.channels()[0];
    assert_eq!(ch.messages.len(), 2, "{ch:#?}");
    assert_eq!(ch.messages[0].2[0]["text"]["text"], "Case 1 (triage)");
    assert_eq!(ch.threads.get(&ch.messages[1].0), Some(&at.ts));
    let gone = ThreadRef {
        channel: id,
        ts: "1.000001".into(),
    };
    let e = p.update_case(&gone, &msg("x")).await.unwrap_err();
    assert!(e.message.contains("message_not_found"), "{e}");
}
