//! Rich messages as HTML, for the transports that show HTML (Matrix's `formatted_body`, the
//! web UI's room): headings, paragraphs, `strong`, `code`, lists, links, `hr`. Everything is
//! escaped; only `http`, `https` and `mailto` links become anchors (bare addresses in the text
//! too). Buttons are drawn by the caller, since each transport presses them its own way.

use crate::email::escape;
use crate::message::{Block, RichMessage};

/// Whether an address may become an anchor.
pub fn safe_link(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|s| lower.starts_with(s))
}

/// An anchor (or the label and address as text when the address is not safe).
pub fn link(label: &str, url: &str) -> String {
    if safe_link(url) {
        format!("<a href=\"{}\">{}</a>", escape(url), escape(label))
    } else {
        format!("{}: {}", escape(label), escape(url))
    }
}

/// The engine's markdown (`**bold**`, `` `code` ``, `[text](url)`, line breaks) and bare
/// `http(s)://` addresses as HTML; anything else stays text.
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
        if !code && (rest.starts_with("https://") || rest.starts_with("http://")) {
            let end = rest
                .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
                .unwrap_or(rest.len());
            // Trailing punctuation ends the sentence, not the address.
            let url = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
            out.push_str(&link(url, url));
            rest = &rest[url.len()..];
            continue;
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

/// The blocks as HTML; `buttons` draws a block of buttons (label, command line).
pub fn render(message: &RichMessage, buttons: impl Fn(&[(String, String)]) -> String) -> String {
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
            Block::Buttons { buttons: b } => out.push_str(&buttons(b)),
            Block::Divider => out.push_str("<hr>"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_and_addresses_become_html_and_everything_else_is_escaped() {
        assert_eq!(
            inline("**INC-1** <b> & [runbook](https://x.example/a?b=1&c=2)\nnext `a<b`"),
            "<strong>INC-1</strong> &lt;b&gt; &amp; <a href=\"https://x.example/a?b=1&amp;c=2\">runbook</a><br>next <code>a&lt;b</code>"
        );
        assert_eq!(inline("[x](javascript:alert(1))"), "x: javascript:alert(1)");
        assert_eq!(
            inline("see https://grafana.example/d/1. then"),
            "see <a href=\"https://grafana.example/d/1\">https://grafana.example/d/1</a>. then"
        );
        assert_eq!(
            inline("`https://x.example`"),
            "<code>https://x.example</code>"
        );
    }
}
