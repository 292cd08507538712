//! Block Kit rendering of the neutral rich messages. Slack limits text lengths per element; the
//! renderer cuts to fit rather than have Slack refuse the whole message.

use dispatch_core::message::{Block, RichMessage};
use serde_json::{json, Value};

const HEADER_MAX: usize = 150;
const SECTION_MAX: usize = 3000;
const FIELD_MAX: usize = 2000;
const FIELDS_PER_SECTION: usize = 10;
const BUTTON_TEXT_MAX: usize = 75;
const BUTTONS_PER_ACTIONS: usize = 25;
const BUTTON_VALUE_MAX: usize = 2000;

/// The `action_id` prefix of buttons that run a chat command (their `value`).
pub const COMMAND_ACTION: &str = "dispatch-command-";

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// Markdown as the engine writes it → Slack's mrkdwn: `**bold**` → `*bold*`, `[text](url)` →
/// `<url|text>`; `&`, `<` and `>` escaped as Slack asks.
pub fn mrkdwn(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace("**", "*");
    let mut out = String::with_capacity(escaped.len());
    let mut rest = escaped.as_str();
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let link = after.find("](").and_then(|close| {
            let url_start = close + 2;
            after[url_start..].find(')').map(|end| {
                (
                    &after[..close],
                    &after[url_start..url_start + end],
                    url_start + end + 1,
                )
            })
        });
        match link {
            Some((label, url, used)) if !url.contains(char::is_whitespace) => {
                out.push_str(&rest[..open]);
                out.push_str(&format!("<{url}|{label}>"));
                rest = &after[used..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The Block Kit blocks of a message.
pub fn render(message: &RichMessage) -> Vec<Value> {
    let mut out = Vec::new();
    for block in &message.blocks {
        match block {
            Block::Header { text } => out.push(json!({
                "type": "header",
                "text": { "type": "plain_text", "text": cut(text, HEADER_MAX), "emoji": true },
            })),
            Block::Section { text } => out.push(json!({
                "type": "section",
                "text": { "type": "mrkdwn", "text": cut(&mrkdwn(text), SECTION_MAX) },
            })),
            Block::Fields { fields } => {
                for chunk in fields.chunks(FIELDS_PER_SECTION) {
                    let fields: Vec<Value> = chunk
                        .iter()
                        .map(|(label, value)| {
                            json!({
                                "type": "mrkdwn",
                                "text": cut(&format!("*{}*\n{}", mrkdwn(label), mrkdwn(value)), FIELD_MAX),
                            })
                        })
                        .collect();
                    out.push(json!({ "type": "section", "fields": fields }));
                }
            }
            Block::Context { text } => out.push(json!({
                "type": "context",
                "elements": [{ "type": "mrkdwn", "text": cut(&mrkdwn(text), SECTION_MAX) }],
            })),
            Block::Links { links } => {
                for (n, chunk) in links.chunks(BUTTONS_PER_ACTIONS).enumerate() {
                    let buttons: Vec<Value> = chunk
                        .iter()
                        .enumerate()
                        .map(|(i, (label, url))| {
                            json!({
                                "type": "button",
                                "action_id": format!("link-{}", n * BUTTONS_PER_ACTIONS + i),
                                "text": { "type": "plain_text", "text": cut(label, BUTTON_TEXT_MAX) },
                                "url": url,
                            })
                        })
                        .collect();
                    out.push(json!({ "type": "actions", "elements": buttons }));
                }
            }
            Block::Buttons { buttons } => {
                for (n, chunk) in buttons.chunks(BUTTONS_PER_ACTIONS).enumerate() {
                    let buttons: Vec<Value> = chunk
                        .iter()
                        .enumerate()
                        .map(|(i, (label, command))| {
                            json!({
                                "type": "button",
                                "action_id": format!("{COMMAND_ACTION}{}", n * BUTTONS_PER_ACTIONS + i),
                                "text": { "type": "plain_text", "text": cut(label, BUTTON_TEXT_MAX) },
                                "value": cut(command, BUTTON_VALUE_MAX),
                            })
                        })
                        .collect();
                    out.push(json!({ "type": "actions", "elements": buttons }));
                }
            }
            Block::Divider => out.push(json!({ "type": "divider" })),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_mrkdwn() {
        assert_eq!(
            mrkdwn("**INC-1** see [the doc](https://x/d) & <b>"),
            "*INC-1* see <https://x/d|the doc> &amp; &lt;b&gt;"
        );
        assert_eq!(mrkdwn("[not a link] (x)"), "[not a link] (x)");
    }

    #[test]
    fn every_block_kind_renders() {
        let m = RichMessage::new(vec![
            Block::Header {
                text: "INC-7 Payments failing".into(),
            },
            Block::Section {
                text: "Checkout **down**".into(),
            },
            Block::Fields {
                fields: vec![
                    ("Status".into(), "active".into()),
                    ("Priority".into(), "High".into()),
                ],
            },
            Block::Context {
                text: "by ic@example.com".into(),
            },
            Block::Links {
                links: vec![("Document".into(), "https://d/1".into())],
            },
            Block::Buttons {
                buttons: vec![("Resolve".into(), "/dispatch-resolve-task 3".into())],
            },
            Block::Divider,
        ]);
        let expected = json!([
            {"type":"header","text":{"type":"plain_text","text":"INC-7 Payments failing","emoji":true}},
            {"type":"section","text":{"type":"mrkdwn","text":"Checkout *down*"}},
            {"type":"section","fields":[
                {"type":"mrkdwn","text":"*Status*\nactive"},
                {"type":"mrkdwn","text":"*Priority*\nHigh"}]},
            {"type":"context","elements":[{"type":"mrkdwn","text":"by ic@example.com"}]},
            {"type":"actions","elements":[{"type":"button","action_id":"link-0",
                "text":{"type":"plain_text","text":"Document"},"url":"https://d/1"}]},
            {"type":"actions","elements":[{"type":"button","action_id":"dispatch-command-0",
                "text":{"type":"plain_text","text":"Resolve"},"value":"/dispatch-resolve-task 3"}]},
            {"type":"divider"}
        ]);
        assert_eq!(Value::Array(render(&m)), expected);
    }

    #[test]
    fn long_texts_are_cut_to_slacks_limits() {
        let m = RichMessage::new(vec![
            Block::Header {
                text: "x".repeat(500),
            },
            Block::Fields {
                fields: (0..12).map(|i| (format!("k{i}"), "v".into())).collect(),
            },
        ]);
        let blocks = render(&m);
        let header = blocks[0]["text"]["text"].as_str().unwrap();
        assert_eq!(header.chars().count(), HEADER_MAX);
        assert_eq!(blocks[1]["fields"].as_array().unwrap().len(), 10);
        assert_eq!(blocks[2]["fields"].as_array().unwrap().len(), 2);
    }
}
