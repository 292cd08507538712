//! The Slack app manifest: everything an admin pastes into "Create an app → From a manifest" so
//! the app has every command, scope, event and interactivity URL Dispatch uses. With a public URL
//! the requests come over HTTP; without one, the manifest turns on Socket Mode.

use serde_json::{json, Value};

/// A slash command as the manifest lists it.
#[derive(Debug, Clone, Copy)]
pub struct SlashCommand {
    /// The command, with its slash: `/dispatch-mark-stable`.
    pub name: &'static str,
    /// One line on what it does.
    pub description: &'static str,
    /// The argument hint Slack shows while typing.
    pub usage: &'static str,
}

const fn cmd(name: &'static str, description: &'static str, usage: &'static str) -> SlashCommand {
    SlashCommand {
        name,
        description,
        usage,
    }
}

/// The chat commands (SPEC §4), seed names first, then their aliases.
pub const COMMANDS: &[SlashCommand] = &[
    cmd(
        "/dispatch-report-incident",
        "Declare an incident (opens a form)",
        "[title]",
    ),
    cmd(
        "/dispatch-assign-role",
        "Give a role to a person",
        "@person commander|scribe|liaison|participant",
    ),
    cmd(
        "/dispatch-list-participants",
        "List the participants and their roles",
        "",
    ),
    cmd(
        "/dispatch-edit-incident",
        "Edit the incident",
        "[field=value …]",
    ),
    cmd(
        "/dispatch-update-incident",
        "Edit the incident (alias of /dispatch-edit-incident)",
        "[field=value …]",
    ),
    cmd(
        "/dispatch-status-report",
        "Post a tactical report",
        "conditions=\"…\" actions=\"…\" needs=\"…\"",
    ),
    cmd(
        "/dispatch-report-tactical",
        "Post a tactical report",
        "conditions=\"…\" actions=\"…\" needs=\"…\"",
    ),
    cmd(
        "/dispatch-report-executive",
        "Post an executive report",
        "current_status=\"…\" overview=\"…\" next_steps=\"…\"",
    ),
    cmd("/dispatch-mark-stable", "Mark the incident stable", ""),
    cmd("/dispatch-mark-closed", "Mark the incident closed", ""),
    cmd(
        "/dispatch-list-incidents",
        "List active, stable and recently closed incidents",
        "",
    ),
    cmd("/dispatch-list-tasks", "List the incident's tasks", ""),
    cmd("/dispatch-list-my-tasks", "List your tasks", ""),
    cmd(
        "/dispatch-create-task",
        "Create a task",
        "@assignee \"description\" [due=…]",
    ),
    cmd(
        "/dispatch-add-timeline-event",
        "Add an event to the timeline",
        "\"description\" [at=…]",
    ),
    cmd(
        "/dispatch-engage-oncall",
        "Pull in a service's on-call",
        "service [page]",
    ),
    cmd(
        "/dispatch-notifications-group",
        "Edit who receives stakeholder mail",
        "add|remove email …",
    ),
    cmd(
        "/dispatch-update-participant",
        "Edit a participant's added reason",
        "@person \"reason\"",
    ),
];

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

    const COMMANDS: &[SlashCommand] = &[SlashCommand {
        name: "/dispatch-mark-stable",
        description: "Mark the incident stable",
        usage: "",
    }];

    #[test]
    fn an_http_manifest_points_every_request_at_the_server() {
        let m = manifest(Some("https://dispatch.example.com/"), COMMANDS);
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
        let m = manifest(None, COMMANDS);
        assert_eq!(m["settings"]["socket_mode_enabled"], true);
        assert!(m["features"]["slash_commands"][0].get("url").is_none());
        assert!(m["settings"]["event_subscriptions"]
            .get("request_url")
            .is_none());
    }
}
