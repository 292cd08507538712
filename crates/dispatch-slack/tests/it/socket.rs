//! Socket Mode against the emulator: envelopes reach the handler and are acknowledged, a
//! `disconnect` is followed by a fresh connection, and an envelope the handler could not take is
//! left unacknowledged.

use dispatch_slack::emulator::Emulator;
use dispatch_slack::socket::{run, Envelope};
use dispatch_slack::SlackApi;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..300 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn envelopes_are_handled_acknowledged_and_survive_a_reconnect() {
    let emu = Emulator::new("xoxb-t");
    emu.set_app_token("xapp-t");
    let url = emu.spawn().await;
    let seen: Arc<Mutex<Vec<Envelope>>> = Default::default();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let handler_seen = seen.clone();
    let task = tokio::spawn(run(
        SlackApi::new(&url, "xapp-t"),
        move |e: Envelope| {
            let seen = handler_seen.clone();
            async move {
                let refuse = e.payload["refuse"] == true;
                seen.lock().unwrap().push(e);
                if refuse {
                    Err("cannot take it".to_string())
                } else {
                    Ok(Some(json!({"text": "ok"})))
                }
            }
        },
        stopped,
    ));
    let first = emu.socket_send(
        "slash_commands",
        json!({"command": "/dispatch-list-incidents"}),
    );
    until("the first ack", || emu.socket_acks().len() == 1).await;
    assert_eq!(emu.socket_acks()[0]["envelope_id"], first.as_str());
    assert_eq!(emu.socket_acks()[0]["payload"]["text"], "ok");

    emu.socket_disconnect();
    let second = emu.socket_send("events_api", json!({"event_id": "Ev9"}));
    until("the ack after reconnecting", || {
        emu.socket_acks().len() == 2
    })
    .await;
    assert_eq!(emu.socket_acks()[1]["envelope_id"], second.as_str());
    assert!(
        emu.socket_connections() >= 2,
        "a disconnect opens a new connection"
    );

    emu.socket_send("interactive", json!({"refuse": true}));
    until("the refused envelope", || seen.lock().unwrap().len() == 3).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        emu.socket_acks().len(),
        2,
        "a refused envelope is not acknowledged"
    );
    let kinds: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.kind.clone())
        .collect();
    assert_eq!(kinds, ["slash_commands", "events_api", "interactive"]);
    assert_eq!(
        seen.lock().unwrap()[1].payload,
        json!({"event_id": "Ev9"}) as Value
    );
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("Socket Mode stops on shutdown")
        .unwrap();
}

#[tokio::test]
async fn a_wrong_app_token_keeps_retrying_without_connecting() {
    let emu = Emulator::new("xoxb-t");
    emu.set_app_token("xapp-right");
    let url = emu.spawn().await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(run(
        SlackApi::new(&url, "xapp-wrong"),
        |_e: Envelope| async { Ok(None) },
        stopped,
    ));
    until("a few attempts", || {
        emu.calls_of("apps.connections.open").len() >= 2
    })
    .await;
    assert_eq!(emu.socket_connections(), 0);
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("stops on shutdown")
        .unwrap();
}
