//! The Web API client against the emulator: answers, `ok: false` codes, 429 and the calls that
//! must be harmless when repeated.

use dispatch_slack::emulator::Emulator;
use dispatch_slack::{SlackApi, SlackError};

async fn setup() -> (Emulator, SlackApi) {
    let emu = Emulator::new("xoxb-test");
    let url = emu.spawn().await;
    (emu, SlackApi::new(&url, "xoxb-test"))
}

#[tokio::test]
async fn a_repeated_create_finds_the_channel_the_first_one_made() {
    let (emu, api) = setup().await;
    let a = api.create_channel("inc-1-payments", false).await.unwrap();
    let b = api.create_channel("inc-1-payments", false).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(emu.channels().len(), 1);
    let private = api.create_channel("inc-2-secret", true).await.unwrap();
    assert!(private.starts_with('G'), "{private}");
}

#[tokio::test]
async fn repeated_invites_bookmarks_and_archives_are_harmless() {
    let (emu, api) = setup().await;
    let alice = emu.add_user("alice@example.com", "Alice");
    let c = api.create_channel("inc-3", false).await.unwrap();
    assert_eq!(
        api.user_by_email("ALICE@example.com").await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(api.user_by_email("nobody@example.com").await.unwrap(), None);
    api.invite(&c, std::slice::from_ref(&alice)).await.unwrap();
    api.invite(&c, std::slice::from_ref(&alice)).await.unwrap();
    api.bookmark(&c, "Document", "https://d/1").await.unwrap();
    api.bookmark(&c, "Document", "https://d/1").await.unwrap();
    api.bookmark(&c, "Document", "https://d/2").await.unwrap();
    api.set_archived(&c, true).await.unwrap();
    api.set_archived(&c, true).await.unwrap();
    let ch = &emu.channels()[0];
    assert_eq!(ch.members, vec![alice]);
    assert_eq!(ch.bookmarks.len(), 1);
    assert_eq!(ch.bookmarks[0].2, "https://d/2");
    assert!(ch.archived);
    assert_eq!(
        api.post(&c, "hi", &[]).await.unwrap_err().code(),
        Some("is_archived")
    );
}

#[tokio::test]
async fn errors_carry_slacks_code_and_429_its_retry_after() {
    let (emu, api) = setup().await;
    let err = api.set_topic("C404", "x").await.unwrap_err();
    assert_eq!(err.code(), Some("channel_not_found"));
    emu.rate_limit_next(1);
    match api
        .call_once("conversations.create", &[("name", "inc-4")])
        .await
    {
        Err(SlackError::RateLimited { retry_after, .. }) => assert_eq!(retry_after, 1),
        other => panic!("expected a rate limit, got {other:?}"),
    }
    // `call` waits the 429s out and the channel is made once.
    emu.rate_limit_next(2);
    assert!(api.create_channel("inc-4", false).await.is_ok());
    assert_eq!(emu.channels().len(), 1);
    assert_eq!(emu.calls_of("conversations.create").len(), 4);
    let bad = SlackApi::new(&emu.spawn().await, "xoxb-wrong");
    assert_eq!(
        bad.create_channel("inc-5", false).await.unwrap_err().code(),
        Some("invalid_auth")
    );
    let down = SlackApi::new("http://127.0.0.1:9/api", "xoxb-test");
    assert!(matches!(
        down.set_topic("C1", "x").await,
        Err(SlackError::Transport { .. })
    ));
}

#[tokio::test]
async fn a_reply_goes_in_its_thread_and_an_update_replaces_the_message_by_channel_id() {
    let (emu, api) = setup().await;
    let c = api.create_channel("sec-alerts", false).await.unwrap();
    // chat.postMessage takes "an encoded ID or channel name" and answers the channel's id.
    let (channel, ts) = api
        .post_in("#sec-alerts", None, "Case 1", &[])
        .await
        .unwrap();
    assert_eq!(channel, c);
    let (_, reply) = api
        .post_in(&c, Some(&ts), "Moved to triage", &[])
        .await
        .unwrap();
    let blocks = [serde_json::json!({"type": "section",
        "text": {"type": "plain_text", "text": "Hello world"}})];
    api.update(&c, &ts, "Hello world", &blocks).await.unwrap();
    let ch = &emu.channels()[0];
    assert_eq!(ch.threads.get(&reply), Some(&ts));
    assert!(!ch.threads.contains_key(&ts));
    assert_eq!(ch.messages[0].1, "Hello world");
    assert_eq!(ch.messages[0].2[0]["text"]["text"], "Hello world");
    assert_eq!(ch.edits.get(&ts), Some(&1));
    // chat.update wants the channel's id, an existing message, and one of the app's own.
    let code = |r: Result<(), dispatch_slack::SlackError>| r.unwrap_err().code().map(String::from);
    assert_eq!(
        code(api.update("sec-alerts", &ts, "x", &[]).await).as_deref(),
        Some("channel_not_found")
    );
    assert_eq!(
        code(api.update(&c, "1405894322.002768", "x", &[]).await).as_deref(),
        Some("message_not_found")
    );
    let alice = emu.add_user("alice@example.com", "Alice");
    let theirs = emu.user_message(&c, &alice, "mine");
    assert_eq!(
        code(api.update(&c, &theirs, "x", &[]).await).as_deref(),
        Some("cant_update_message")
    );
}
