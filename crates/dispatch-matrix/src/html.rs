//! The neutral rich messages as Matrix message content: the plain `body` every client shows,
//! and `formatted_body` in `org.matrix.custom.html` (the tags the spec recommends clients
//! support: headings, paragraphs, `strong`, `em`, `code`, lists, links, `hr`). Everything is
//! escaped; only `http`, `https` and `mailto` links become anchors. Buttons become the command
//! to type, since Matrix messages have no buttons.

use dispatch_core::email::escape;
use dispatch_core::message::{Block, RichMessage};
use serde_json::{json, Value};

/// How a command line of the grammar (`/dispatch-resolve-task 12`) is typed in Matrix.
pub fn typed(command: &str) -> String {
    let line = command.trim();
    match line.strip_prefix("/dispatch-") {
        Some(rest) => format!("!dispatch {rest}"),
        None => line.to_string(),
    }
}

fn safe_link(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|s| lower.starts_with(s))
}

fn link(label: &str, url: &str) -> String {
    if safe_link(url) {
        format!("<a href=\"{}\">{}</a>", escape(url), escape(label))
    } else {
        format!("{}: {}", escape(label), escape(url))
    }
}

/// The engine's markdown (`**bold**`, `` `code` ``, `[text](url)`, line breaks) as HTML;
/// anything else stays text.
pub fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut bold = false;
    let mut code = false;
    while let Some(c) = rest.chars().next() {
        if !code && rest.starts_with("**") {
            out.push_str(if bold { "</strong>" } else { "<strong>" });
            bold = !bold;
            rest = &rest[2..];
            continue;
        }
        if c == '`' {
            out.push_str(if code { "</code>" } else { "<code>" });
            code = !code;
            rest = &rest[1..];
            continue;
        }
        if !code && c == '[' {
            if let Some((label, url, used)) = markdown_link(rest) {
                out.push_str(&link(label, url));
                rest = &rest[used..];
                continue;
            }
        }
        if c == '\n' {
            out.push_str("<br>");
        } else {
            out.push_str(&escape(&c.to_string()));
        }
        rest = &rest[c.len_utf8()..];
    }
    if code {
        out.push_str("</code>");
    }
    if bold {
        out.push_str("</strong>");
    }
    out
}

/// `[label](url)` at the start of `s`: the label, the URL and the bytes used.
fn markdown_link(s: &str) -> Option<(&str, &str, usize)> {
    let close = s.find("](")?;
    let label = &s[1..close];
    let after = &s[close + 2..];
    let end = after.find(')')?;
    let url = &after[..end];
    (!label.contains('\n') && !url.contains(char::is_whitespace) && !url.is_empty()).then_some((
        label,
        url,
        close + 2 + end + 1,
    ))
}

/// The blocks as `org.matrix.custom.html`.
pub fn render_html(message: &RichMessage) -> String {
    let mut out = String::new();
    for block in &message.blocks {
        match block {
            Block::Header { text } => out.push_str(&format!("<h4>{}</h4>", escape(text))),
            Block::Section { text } => out.push_str(&format!("<p>{}</p>", inline(text))),
            Block::Context { text } => out.push_str(&format!("<p><em>{}</em></p>", inline(text))),
            Block::Fields { fields } => {
                out.push_str("<ul>");
                for (k, v) in fields {
                    out.push_str(&format!(
                        "<li><strong>{}</strong>: {}</li>",
                        escape(k),
                        inline(v)
                    ));
                }
                out.push_str("</ul>");
            }
            Block::Links { links } => {
                out.push_str("<ul>");
                for (label, url) in links {
                    out.push_str(&format!("<li>{}</li>", link(label, url)));
                }
                out.push_str("</ul>");
            }
            Block::Buttons { buttons } => {
                out.push_str("<ul>");
                for (label, command) in buttons {
                    out.push_str(&format!(
                        "<li>{}: <code>{}</code></li>",
                        escape(label),
                        escape(&typed(command))
                    ));
                }
                out.push_str("</ul>");
            }
            Block::Divider => out.push_str("<hr>"),
        }
    }
    out
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

    #[test]
    fn markdown_becomes_html_and_everything_else_is_escaped() {
        assert_eq!(
            inline("**INC-1** <b> & [runbook](https://x.example/a?b=1&c=2)\nnext `a<b`"),
            "<strong>INC-1</strong> &lt;b&gt; &amp; <a href=\"https://x.example/a?b=1&amp;c=2\">runbook</a><br>next <code>a&lt;b</code>"
        );
        assert_eq!(inline("[x](javascript:alert(1))"), "x: javascript:alert(1)");
    }

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
