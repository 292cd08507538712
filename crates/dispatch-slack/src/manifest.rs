//! The Slack app manifest: everything an admin pastes into "Create an app → From a manifest" so
//! the app has every command, scope, event and interactivity URL Dispatch uses. With a public URL
//! the requests come over HTTP; without one, the manifest turns on Socket Mode.

use serde_json::{json, Value};

/// A slash command as the manifest lists it.
#[derive(Debug, Clone)]
pub struct SlashCommand {
    /// The command, with its slash: `/dispatch-mark-stable`.
    pub name: String,
    /// One line on what it does.
    pub description: String,
    /// The argument hint Slack shows while typing.
    pub usage: String,
}

/// Every chat command of the one grammar (SPEC §4), seed names and aliases, as slash commands.
pub fn commands() -> Vec<SlashCommand> {
    let mut out = Vec::new();
    for spec in dispatch_core::chat::COMMANDS {
        for name in std::iter::once(&spec.name).chain(spec.aliases.iter()) {
            // Slack commands begin with a slash; bare aliases such as `help` are not ones.
            if !name.starts_with("dispatch-") {
                continue;
            }
            out.push(SlashCommand {
                name: format!("/{name}"),
                description: spec.summary.to_string(),
                usage: spec.args.to_string(),
            });
        }
    }
    out
}

/// The bot scopes Dispatch needs: channels (public and private, for restricted incidents),
/// messages, bookmarks, pins, reactions, direct messages and the user look-ups by e-mail.
pub const BOT_SCOPES: &[&str] = &[
    "bookmarks:read",
    "bookmarks:write",
    "channels:history",
    "channels:join",
    "channels:manage",
    "channels:read",
    "chat:write",
    "chat:write.public",
    "commands",
    "groups:history",
    "groups:read",
    "groups:write",
    "im:write",
    "pins:write",
    "reactions:read",
    "users:read",
    "users:read.email",
];

/// The events Dispatch subscribes to: reactions (a message onto the timeline), membership (keep
/// participants in sync) and messages (observer → participant promotion, commands typed in the room).
pub const BOT_EVENTS: &[&str] = &[
    "member_joined_channel",
    "member_left_channel",
    "message.channels",
    "message.groups",
    "reaction_added",
];

/// The manifest (Slack accepts JSON manifests). `url` is the server's public base URL; `None`
/// gives a Socket Mode manifest with no request URLs.
pub fn manifest(url: Option<&str>, commands: &[SlashCommand]) -> Value {
    let base = url.map(|u| u.trim_end_matches('/').to_string());
    let endpoint = |path: &str| base.as_ref().map(|b| format!("{b}/api/v1/slack/{path}"));
    let commands: Vec<Value> = commands
        .iter()
        .map(|c| {
            let mut v = json!({
                "command": c.name,
                "description": c.description,
                "usage_hint": c.usage,
                "should_escape": true,
            });
            if let Some(u) = endpoint("commands") {
                v["url"] = json!(u);
            }
            v
        })
        .collect();
    let mut events = json!({ "bot_events": BOT_EVENTS });
    if let Some(u) = endpoint("events") {
        events["request_url"] = json!(u);
    }
    let mut interactivity = json!({ "is_enabled": true });
    if let Some(u) = endpoint("interactions") {
        interactivity["request_url"] = json!(u);
    }
    json!({
        "_metadata": { "major_version": 1, "minor_version": 1 },
        "display_information": {
            "name": "Dispatch",
            "description": "Incident management: declare, engage, communicate, review.",
            "background_color": "#1d2b3a",
        },
        "features": {
            "bot_user": { "display_name": "Dispatch", "always_online": true },
            "slash_commands": commands,
            "shortcuts": [{
                "name": "Report an incident",
                "type": "global",
                "callback_id": "dispatch-report-incident",
                "description": "Declare an incident",
            }],
        },
        "oauth_config": { "scopes": { "bot": BOT_SCOPES } },
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": false,
            "socket_mode_enabled": base.is_none(),
            "token_rotation_enabled": false,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands() -> Vec<SlashCommand> {
        vec![SlashCommand {
            name: "/dispatch-mark-stable".into(),
            description: "Mark the incident stable".into(),
            usage: String::new(),
        }]
    }

    #[test]
    fn every_command_of_the_grammar_is_a_slash_command() {
        let names: Vec<String> = super::commands().into_iter().map(|c| c.name).collect();
        for want in [
            "/dispatch-report-incident",
            "/dispatch-assign-role",
            "/dispatch-update-incident",
            "/dispatch-report-tactical",
            "/dispatch-mark-closed",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} missing");
        }
        assert!(names.iter().all(|n| n.starts_with("/dispatch-")));
    }

    #[test]
    fn an_http_manifest_points_every_request_at_the_server() {
        let m = manifest(Some("https://dispatch.example.com/"), &commands());
        let cmd = &m["features"]["slash_commands"][0];
        assert_eq!(cmd["command"], "/dispatch-mark-stable");
        assert_eq!(
            cmd["url"],
            "https://dispatch.example.com/api/v1/slack/commands"
        );
        assert_eq!(
            m["settings"]["event_subscriptions"]["request_url"],
            "https://dispatch.example.com/api/v1/slack/events"
        );
        assert_eq!(
            m["settings"]["interactivity"]["request_url"],
            "https://dispatch.example.com/api/v1/slack/interactions"
        );
        assert_eq!(m["settings"]["socket_mode_enabled"], false);
        let events = m["settings"]["event_subscriptions"]["bot_events"].to_string();
        assert!(events.contains("reaction_added"));
    }

    #[test]
    fn without_a_url_the_manifest_uses_socket_mode() {
        let m = manifest(None, &commands());
        assert_eq!(m["settings"]["socket_mode_enabled"], true);
        assert!(m["features"]["slash_commands"][0].get("url").is_none());
        assert!(m["settings"]["event_subscriptions"]
            .get("request_url")
            .is_none());
    }
}
