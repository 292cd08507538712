//! The neutral rich-message model: built once by the engine, rendered by each conversation
//! provider (room HTML/markdown here; Slack blocks and Matrix HTML by their providers).

use serde::{Deserialize, Serialize};

/// One block of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// A heading line.
    Header {
        /// The text.
        text: String,
    },
    /// A paragraph (markdown).
    Section {
        /// The text.
        text: String,
    },
    /// Label/value pairs shown side by side.
    Fields {
        /// (label, value).
        fields: Vec<(String, String)>,
    },
    /// Small print.
    Context {
        /// The text.
        text: String,
    },
    /// Buttons that open links.
    Links {
        /// (label, URL).
        links: Vec<(String, String)>,
    },
    /// Buttons that run a chat command as the person who presses them (Resolve a task, Join an
    /// incident, Remind me later): each transport renders them its way and, when pressed, runs
    /// `command` through the one command grammar.
    Buttons {
        /// (label, command line), e.g. `("Resolve", "/dispatch-resolve-task 12")`.
        buttons: Vec<(String, String)>,
    },
    /// A separator.
    Divider,
}

/// A message: a plain-text fallback and its blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RichMessage {
    /// The plain-text form (notifications, transports without blocks).
    pub text: String,
    /// The structured form.
    pub blocks: Vec<Block>,
    /// Keep it in view: conversations that can pin messages (Slack) pin it. Reports are.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pin: bool,
}

impl RichMessage {
    /// A message of blocks; the plain text is derived from them.
    pub fn new(blocks: Vec<Block>) -> Self {
        let text = render_text(&blocks);
        Self {
            text,
            blocks,
            pin: false,
        }
    }

    /// The same message, to be pinned where the conversation can pin.
    pub fn pinned(mut self) -> Self {
        self.pin = true;
        self
    }

    /// A one-paragraph message.
    pub fn plain(text: impl Into<String>) -> Self {
        Self::new(vec![Block::Section { text: text.into() }])
    }
}

/// Renders blocks as plain text (markdown-ish), one block per line group.
pub fn render_text(blocks: &[Block]) -> String {
    let mut out = Vec::new();
    for b in blocks {
        match b {
            Block::Header { text } => out.push(format!("*{text}*")),
            Block::Section { text } | Block::Context { text } => out.push(text.clone()),
            Block::Fields { fields } => out.push(
                fields
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Block::Links { links } => out.push(
                links
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Block::Buttons { buttons } => out.push(
                buttons
                    .iter()
                    .map(|(label, command)| format!("[{label}] {command}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Block::Divider => out.push("---".into()),
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_follows_the_blocks() {
        let m = RichMessage::new(vec![
            Block::Header {
                text: "INC-1".into(),
            },
            Block::Fields {
                fields: vec![("Status".into(), "active".into())],
            },
            Block::Divider,
        ]);
        assert_eq!(m.text, "*INC-1*\nStatus: active\n---");
    }
}
