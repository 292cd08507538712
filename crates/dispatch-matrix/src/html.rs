//! The neutral rich messages as Matrix message content: the plain `body` every client shows,
//! and `formatted_body` in `org.matrix.custom.html` (the tags the spec recommends clients
//! support: headings, paragraphs, `strong`, `em`, `code`, lists, links, `hr`). Everything is
//! escaped; only `http`, `https` and `mailto` links become anchors. Buttons become the command
//! to type, since Matrix messages have no buttons.

use dispatch_core::email::escape;
use dispatch_core::message::RichMessage;
use dispatch_core::rich_html;
use serde_json::{json, Value};

/// How a command line of the grammar (`/dispatch-resolve-task 12`) is typed in Matrix.
pub fn typed(command: &str) -> String {
    let line = command.trim();
    match line.strip_prefix("/dispatch-") {
        Some(rest) => format!("!dispatch {rest}"),
        None => line.to_string(),
    }
}

/// The blocks as `org.matrix.custom.html`: buttons become the commands to type.
pub fn render_html(message: &RichMessage) -> String {
    rich_html::render(message, |buttons| {
        let mut out = String::from("<ul>");
        for (label, command) in buttons {
            out.push_str(&format!(
                "<li>{}: <code>{}</code></li>",
                escape(label),
                escape(&typed(command))
            ));
        }
        out.push_str("</ul>");
        out
    })
}

/// The plain body: the message's text, with its buttons' commands as typed in Matrix.
pub fn render_body(message: &RichMessage) -> String {
    message
        .text
        .lines()
        .map(|l| match l.split_once("] /dispatch-") {
            Some((label, rest)) if l.starts_with('[') => {
                format!("{label}] {}", typed(&format!("/dispatch-{rest}")))
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The content of an `m.room.message` carrying `message`, as a notice (what bots send, so no
/// other bot answers it).
pub fn content(message: &RichMessage) -> Value {
    json!({
        "msgtype": "m.notice",
        "body": render_body(message),
        "format": "org.matrix.custom.html",
        "formatted_body": render_html(message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dispatch_core::message::Block;

    #[test]
    fn a_message_renders_as_a_notice_with_html_and_typed_commands() {
        let m = RichMessage::new(vec![
            Block::Header {
                text: "INC-1 <ok>".into(),
            },
            Block::Fields {
                fields: vec![("Status".into(), "active".into())],
            },
            Block::Buttons {
                buttons: vec![("Resolve".into(), "/dispatch-resolve-task 12".into())],
            },
            Block::Divider,
        ]);
        let c = content(&m);
        assert_eq!(c["msgtype"], "m.notice");
        assert_eq!(c["format"], "org.matrix.custom.html");
        assert_eq!(
            c["formatted_body"],
            "<h4>INC-1 &lt;ok&gt;</h4><ul><li><strong>Status</strong>: active</li></ul>\
             <ul><li>Resolve: <code>!dispatch resolve-task 12</code></li></ul><hr>"
        );
        assert_eq!(
            c["body"],
            "*INC-1 <ok>*\nStatus: active\n[Resolve] !dispatch resolve-task 12\n---"
        );
    }
}
