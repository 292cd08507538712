//! Adaptive Card rendering of the neutral rich messages (schema 1.5, what Teams renders). The
//! engine's markdown (`**bold**`, `[text](url)`) is the subset Adaptive Cards' `TextBlock`
//! reads, so text passes as written; fields become a `FactSet`, links `Action.OpenUrl` and
//! command buttons `Action.Submit` whose data carries the command line, which comes back to the
//! bot as the message's `value` when pressed.

use dispatch_core::message::{Block, RichMessage};
use serde_json::{json, Value};

/// The attachment content type of Adaptive Cards.
pub const CONTENT_TYPE: &str = "application/vnd.microsoft.card.adaptive";
/// The key of a button's data that holds its command line.
pub const COMMAND_KEY: &str = "dispatch_command";
/// Teams shows at most this many actions in a set.
const ACTIONS_PER_SET: usize = 6;

/// The card of a message.
pub fn card(message: &RichMessage) -> Value {
    card_of(body(message))
}

/// A card around `body` elements.
pub fn card_of(body: Vec<Value>) -> Value {
    json!({
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
    })
}

/// The message's card as an activity attachment.
pub fn attachment(message: &RichMessage) -> Value {
    json!({ "contentType": CONTENT_TYPE, "content": card(message) })
}

fn text(text: &str) -> Value {
    json!({ "type": "TextBlock", "text": text, "wrap": true })
}

/// The card's body elements; a divider is a separator above the next element.
pub fn body(message: &RichMessage) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut separate = false;
    for block in &message.blocks {
        let mut elements = match block {
            Block::Header { text: t } => {
                let mut h = text(t);
                h["size"] = json!("Large");
                h["weight"] = json!("Bolder");
                vec![h]
            }
            Block::Section { text: t } => vec![text(t)],
            Block::Fields { fields } => vec![json!({
                "type": "FactSet",
                "facts": fields
                    .iter()
                    .map(|(title, value)| json!({ "title": title, "value": value }))
                    .collect::<Vec<_>>(),
            })],
            Block::Context { text: t } => {
                let mut c = text(t);
                c["size"] = json!("Small");
                c["isSubtle"] = json!(true);
                vec![c]
            }
            Block::Links { links } => links
                .chunks(ACTIONS_PER_SET)
                .map(|chunk| {
                    let actions: Vec<Value> = chunk
                        .iter()
                        .map(|(title, url)| {
                            json!({ "type": "Action.OpenUrl", "title": title, "url": url })
                        })
                        .collect();
                    json!({ "type": "ActionSet", "actions": actions })
                })
                .collect(),
            Block::Buttons { buttons } => buttons
                .chunks(ACTIONS_PER_SET)
                .map(|chunk| {
                    let actions: Vec<Value> = chunk
                        .iter()
                        .map(|(title, command)| {
                            json!({ "type": "Action.Submit", "title": title,
                                "data": { COMMAND_KEY: command } })
                        })
                        .collect();
                    json!({ "type": "ActionSet", "actions": actions })
                })
                .collect(),
            Block::Divider => {
                separate = true;
                continue;
            }
        };
        if separate {
            if let Some(first) = elements.first_mut() {
                first["separator"] = json!(true);
            }
            separate = false;
        }
        out.append(&mut elements);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_kind_renders_as_adaptive_card_elements() {
        let m = RichMessage::new(vec![
            Block::Header {
                text: "INC-7 Payments failing".into(),
            },
            Block::Section {
                text: "Checkout **down**".into(),
            },
            Block::Fields {
                fields: vec![("Status".into(), "active".into())],
            },
            Block::Context {
                text: "by ic@example.com".into(),
            },
            Block::Divider,
            Block::Links {
                links: vec![("Document".into(), "https://d/1".into())],
            },
            Block::Buttons {
                buttons: vec![("Resolve".into(), "/dispatch-resolve-task 3".into())],
            },
        ]);
        let expected = json!([
            {"type":"TextBlock","text":"INC-7 Payments failing","wrap":true,"size":"Large","weight":"Bolder"},
            {"type":"TextBlock","text":"Checkout **down**","wrap":true},
            {"type":"FactSet","facts":[{"title":"Status","value":"active"}]},
            {"type":"TextBlock","text":"by ic@example.com","wrap":true,"size":"Small","isSubtle":true},
            {"type":"ActionSet","separator":true,"actions":[{"type":"Action.OpenUrl","title":"Document","url":"https://d/1"}]},
            {"type":"ActionSet","actions":[{"type":"Action.Submit","title":"Resolve",
                "data":{"dispatch_command":"/dispatch-resolve-task 3"}}]}
        ]);
        assert_eq!(Value::Array(body(&m)), expected);
        let a = attachment(&m);
        assert_eq!(a["contentType"], CONTENT_TYPE);
        assert_eq!(a["content"]["version"], "1.5");
    }

    #[test]
    fn many_buttons_are_split_into_sets_teams_shows() {
        let m = RichMessage::new(vec![Block::Buttons {
            buttons: (0..8)
                .map(|i| (format!("b{i}"), format!("/x {i}")))
                .collect(),
        }]);
        let b = body(&m);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0]["actions"].as_array().unwrap().len(), 6);
        assert_eq!(b[1]["actions"].as_array().unwrap().len(), 2);
    }
}
