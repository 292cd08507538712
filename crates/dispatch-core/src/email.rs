//! E-mail rendering: a rich message as plain text and simple HTML (inline styles only, as mail
//! clients want), and the `Message-ID` an idempotency key gives.

use crate::message::{Block, RichMessage};
use crate::provider::Email;
use sha2::{Digest, Sha256};

/// The e-mail for `message`: its blocks rendered as plain text and as HTML.
pub fn render(to: Vec<String>, subject: impl Into<String>, message: &RichMessage) -> Email {
    Email {
        to,
        subject: subject.into(),
        text: render_text(&message.blocks),
        html: Some(render_html(&message.blocks)),
        thread: None,
        unsubscribe: None,
    }
}

/// A subject that is safe in a mail header: each run of control characters (CR, LF, tab, NUL,
/// …) and white space (line separators too) becomes one space, so a title typed with a line
/// break can never start a header of its own; the ends are trimmed.
pub fn header_safe(subject: &str) -> String {
    subject
        .split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Blocks as a plain-text mail body: one paragraph per block, the header underlined.
pub fn render_text(blocks: &[Block]) -> String {
    let pairs = |list: &[(String, String)]| {
        list.iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut out: Vec<String> = Vec::new();
    for b in blocks {
        match b {
            Block::Header { text } => {
                out.push(format!("{text}\n{}", "=".repeat(text.chars().count())))
            }
            Block::Section { text } | Block::Context { text } => out.push(text.clone()),
            Block::Fields { fields } => out.push(pairs(fields)),
            Block::Links { links } => out.push(pairs(links)),
            // Buttons run chat commands; mail cannot press them.
            Block::Buttons { .. } => {}
            Block::Divider => out.push("----".into()),
        }
    }
    let mut text = out.join("\n\n");
    text.push('\n');
    text
}

/// Blocks as a small HTML document: a heading, paragraphs, a table of fields and a list of links.
/// Every value is escaped, and only `http`, `https` and `mailto` links become anchors.
pub fn render_html(blocks: &[Block]) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif; line-height: 1.4\">\n",
    );
    for b in blocks {
        match b {
            Block::Header { text } => out.push_str(&format!("<h2>{}</h2>\n", escape(text))),
            Block::Section { text } => out.push_str(&format!("<p>{}</p>\n", paragraph(text))),
            Block::Context { text } => out.push_str(&format!(
                "<p style=\"color: #666; font-size: small\">{}</p>\n",
                paragraph(text)
            )),
            Block::Fields { fields } => {
                out.push_str("<table>\n");
                for (k, v) in fields {
                    out.push_str(&format!(
                        "<tr><th align=\"left\" style=\"padding-right: 1em\">{}</th><td>{}</td></tr>\n",
                        escape(k),
                        escape(v)
                    ));
                }
                out.push_str("</table>\n");
            }
            Block::Links { links } => {
                out.push_str("<ul>\n");
                for (label, url) in links {
                    out.push_str(&format!("<li>{}</li>\n", link(label, url)));
                }
                out.push_str("</ul>\n");
            }
            Block::Buttons { .. } => {}
            Block::Divider => out.push_str("<hr>\n"),
        }
    }
    out.push_str("</body></html>\n");
    out
}

/// A `Message-ID` that is the same for every send of one idempotency key, so a resent mail is
/// recognisable as a duplicate (`<hash.dispatch@domain>`).
pub fn message_id(key: &str, domain: &str) -> String {
    let hash = hex::encode(Sha256::digest(key.as_bytes()));
    format!("<{}.dispatch@{domain}>", &hash[..32])
}

fn link(label: &str, url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    if ["http://", "https://", "mailto:"]
        .iter()
        .any(|s| lower.starts_with(s))
    {
        format!("<a href=\"{}\">{}</a>", escape(url), escape(label))
    } else {
        format!("{}: {}", escape(label), escape(url))
    }
}

fn paragraph(text: &str) -> String {
    escape(text).replace('\n', "<br>\n")
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_subject_with_line_breaks_and_control_characters_becomes_one_line() {
        for (raw, want) in [
            (
                "INC-1: Disk full\r\nBcc: victim@example.com",
                "INC-1: Disk full Bcc: victim@example.com",
            ),
            ("a\nb", "a b"),
            ("a \r\n b", "a b"),
            ("tab\there", "tab here"),
            ("nul\0byte\u{7f}", "nul byte"),
            ("line\u{2028}sep", "line sep"),
            ("\r\nleading and trailing\n", "leading and trailing"),
            ("Plain subject", "Plain subject"),
            ("Ünïcode — fine", "Ünïcode — fine"),
        ] {
            let got = header_safe(raw);
            assert_eq!(got, want, "{raw:?}");
            assert!(!got.chars().any(char::is_control), "{got:?}");
        }
    }

    use super::*;

    fn welcome() -> RichMessage {
        RichMessage::new(vec![
            Block::Header {
                text: "INC-7: Payments failing".into(),
            },
            Block::Section {
                text: "You are the scribe.\nKeep notes.".into(),
            },
            Block::Fields {
                fields: vec![
                    ("Status".into(), "active".into()),
                    ("Role".into(), "scribe".into()),
                ],
            },
            Block::Links {
                links: vec![(
                    "Open the incident".into(),
                    "http://dispatch.example/api/v1/incidents/INC-7".into(),
                )],
            },
            Block::Divider,
            Block::Context {
                text: "Sent by Dispatch.".into(),
            },
        ])
    }

    #[test]
    fn plain_text_has_a_paragraph_per_block_and_an_underlined_header() {
        assert_eq!(
            render_text(&welcome().blocks),
            "INC-7: Payments failing\n=======================\n\nYou are the scribe.\nKeep notes.\n\n\
             Status: active\nRole: scribe\n\n\
             Open the incident: http://dispatch.example/api/v1/incidents/INC-7\n\n----\n\nSent by Dispatch.\n"
        );
    }

    #[test]
    fn html_has_a_heading_a_field_table_and_anchors() {
        let html = render_html(&welcome().blocks);
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        assert!(html.contains("<h2>INC-7: Payments failing</h2>"), "{html}");
        assert!(
            html.contains("<p>You are the scribe.<br>\nKeep notes.</p>"),
            "{html}"
        );
        assert!(
            html.contains(
                "<th align=\"left\" style=\"padding-right: 1em\">Status</th><td>active</td>"
            ),
            "{html}"
        );
        assert!(html.contains(
            "<li><a href=\"http://dispatch.example/api/v1/incidents/INC-7\">Open the incident</a></li>"
        ));
        assert!(html.contains("<hr>") && html.trim_end().ends_with("</body></html>"));
    }

    #[test]
    fn html_escapes_every_value_and_refuses_script_links() {
        let html = render_html(&[
            Block::Header {
                text: "<script>alert(1)</script> & co".into(),
            },
            Block::Links {
                links: vec![("click \"me\"".into(), "javascript:alert(1)".into())],
            },
        ]);
        assert!(
            html.contains("<h2>&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</h2>"),
            "{html}"
        );
        assert!(!html.contains("<script>") && !html.contains("href=\"javascript"));
        assert!(
            html.contains("click &quot;me&quot;: javascript:alert(1)"),
            "{html}"
        );
    }

    #[test]
    fn rendering_an_email_fills_both_bodies() {
        let mail = render(vec!["bea@example.com".into()], "Welcome", &welcome());
        assert_eq!(mail.to, ["bea@example.com"]);
        assert_eq!(mail.subject, "Welcome");
        assert!(mail.text.contains("Role: scribe"));
        assert!(mail.html.is_some_and(|h| h.contains("<td>scribe</td>")));
    }

    #[test]
    fn the_message_id_depends_only_on_the_key() {
        let a = message_id("welcome:1:bea@example.com", "example.com");
        assert_eq!(a, message_id("welcome:1:bea@example.com", "example.com"));
        assert_ne!(a, message_id("welcome:2:bea@example.com", "example.com"));
        assert!(
            a.starts_with('<') && a.ends_with(".dispatch@example.com>"),
            "{a}"
        );
        assert_eq!(a.len(), "<.dispatch@example.com>".len() + 32);
    }
}
