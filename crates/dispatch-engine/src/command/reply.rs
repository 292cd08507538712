//! The rich messages commands answer with.

use crate::incident::IncidentDetail;
use crate::task::TaskView;
use dispatch_core::chat;
use dispatch_core::commands::UpdateIncident;
use dispatch_core::message::{Block, RichMessage};
use dispatch_core::Patch;
use dispatch_store::model::event;
use dispatch_store::repo::incident::IncidentRow;
use dispatch_store::repo::participant::ParticipantView;

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Every command, or one command's usage.
pub(super) fn help(topic: Option<&'static str>) -> RichMessage {
    match topic.and_then(chat::spec) {
        Some(s) => RichMessage::new(vec![
            Block::Header {
                text: format!("/{}", s.name),
            },
            Block::Section {
                text: format!("Usage: {}\n{}", s.usage(), s.summary),
            },
        ]),
        None => RichMessage::new(vec![
            Block::Header {
                text: "Dispatch commands".into(),
            },
            Block::Section { text: chat::help() },
        ]),
    }
}

/// Participants with their current roles and why they were added.
pub(super) fn participants(name: &str, list: &[ParticipantView]) -> RichMessage {
    let mut fields = Vec::new();
    for p in list {
        let roles: Vec<String> = p
            .roles
            .iter()
            .filter(|r| r.renounced_at.is_none())
            .map(|r| r.role.replace('_', " "))
            .collect();
        let roles = if roles.is_empty() {
            "left".to_string()
        } else {
            roles.join(", ")
        };
        let mut value = roles;
        if let Some(reason) = &p.participant.added_reason {
            value.push_str(&format!(" — {reason}"));
        }
        fields.push((
            format!("{} <{}>", p.individual.name, p.individual.email),
            value,
        ));
    }
    RichMessage::new(vec![
        Block::Header {
            text: format!("Participants of {name} ({})", list.len()),
        },
        Block::Fields { fields },
    ])
}

/// Which fields an edit changes, for the answer.
pub(super) fn edit_summary(u: &UpdateIncident) -> String {
    let mut out = Vec::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            out.push(format!("{k} → {v}"));
        }
    };
    put("title", u.title.as_ref().map(|t| t.as_str().to_string()));
    put(
        "description",
        u.description.as_ref().map(|_| "(new text)".to_string()),
    );
    put(
        "resolution",
        match &u.resolution {
            Patch::Absent => None,
            Patch::Null => Some("(cleared)".into()),
            Patch::Value(v) => Some(v.as_str().to_string()),
        },
    );
    put("type", u.incident_type.clone());
    put("priority", u.priority.clone());
    put("severity", u.severity.clone());
    put("status", u.status.map(|s| s.to_string()));
    put("visibility", u.visibility.map(|s| s.to_string()));
    put("tags", u.tags.as_ref().map(|t| t.join(", ")));
    out.join(", ")
}

fn task_line(t: &TaskView) -> (String, String) {
    let who: Vec<&str> = t.assignees.iter().map(|a| a.email.as_str()).collect();
    let who = if who.is_empty() {
        "unassigned".to_string()
    } else {
        who.join(", ")
    };
    let due = t
        .task
        .resolve_by
        .map(|d| format!(" · due {}", when(d)))
        .unwrap_or_default();
    (
        format!("#{} [{}] {}", t.task.id, t.task.status, t.task.description),
        format!("{who}{due}"),
    )
}

/// A task list with how to resolve or re-open.
pub(super) fn tasks(name: &str, list: &[TaskView], mine: bool) -> RichMessage {
    let title = if mine {
        format!("Your tasks in {name}")
    } else {
        format!("Tasks of {name}")
    };
    let mut blocks = vec![Block::Header {
        text: format!("{title} ({})", list.len()),
    }];
    if list.is_empty() {
        blocks.push(Block::Section {
            text: "No tasks yet. Create one with /dispatch-create-task.".into(),
        });
    } else {
        blocks.push(Block::Fields {
            fields: list.iter().map(task_line).collect(),
        });
        blocks.push(Block::Context {
            text: "Resolve with /dispatch-resolve-task N, re-open with /dispatch-reopen-task N."
                .into(),
        });
        // The same, one press away where the transport has buttons.
        blocks.push(Block::Buttons {
            buttons: list
                .iter()
                .map(|t| {
                    let id = t.task.id;
                    if t.task.status == "open" {
                        (
                            format!("Resolve #{id}"),
                            format!("/dispatch-resolve-task {id}"),
                        )
                    } else {
                        (
                            format!("Re-open #{id}"),
                            format!("/dispatch-reopen-task {id}"),
                        )
                    }
                })
                .collect(),
        });
    }
    RichMessage::new(blocks)
}

/// A new task.
pub(super) fn task_created(t: &TaskView) -> RichMessage {
    let (line, who) = task_line(t);
    RichMessage::new(vec![
        Block::Section {
            text: format!("Task created in {}: {line}", t.incident),
        },
        Block::Context { text: who },
    ])
}

/// Incidents in a list.
pub(super) fn incidents(rows: &[IncidentRow]) -> RichMessage {
    let mut blocks = vec![Block::Header {
        text: format!("Incidents ({})", rows.len()),
    }];
    if rows.is_empty() {
        blocks.push(Block::Section {
            text: "No active, stable or recently closed incidents.".into(),
        });
    } else {
        blocks.push(Block::Fields {
            fields: rows
                .iter()
                .map(|r| {
                    (
                        format!("{}: {}", r.name, r.title),
                        format!(
                            "{} · priority {} · severity {} · IC {}",
                            r.status, r.priority_slug, r.severity_slug, r.commander_email
                        ),
                    )
                })
                .collect(),
        });
    }
    RichMessage::new(blocks)
}

/// `/dispatch-summary`.
pub(super) fn summary(
    d: &IncidentDetail,
    tasks: &[TaskView],
    events: &[event::Model],
) -> RichMessage {
    let r = &d.row;
    let mut blocks = vec![
        Block::Header {
            text: format!("{}: {}", r.name, r.title),
        },
        Block::Section {
            text: r.description.clone(),
        },
        Block::Fields {
            fields: vec![
                ("Status".into(), r.status.clone()),
                ("Commander".into(), r.commander_email.clone()),
                ("Priority".into(), r.priority_slug.clone()),
                ("Severity".into(), r.severity_slug.clone()),
                ("Participants".into(), d.participants.len().to_string()),
                (
                    "Open tasks".into(),
                    tasks
                        .iter()
                        .filter(|t| t.task.status == "open")
                        .count()
                        .to_string(),
                ),
            ],
        },
    ];
    if let Some(rep) = &d.last_tactical_report {
        let details: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&rep.details).unwrap_or_default();
        blocks.push(Block::Fields {
            fields: details
                .iter()
                .map(|(k, v)| {
                    (
                        crate::report::field_label(k),
                        v.as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
        });
    }
    let latest: Vec<String> = events
        .iter()
        .rev()
        .take(5)
        .map(|e| format!("{} {}", when(e.occurred_at), e.description))
        .collect();
    blocks.push(Block::Context {
        text: format!("Latest:\n{}", latest.join("\n")),
    });
    RichMessage::new(blocks)
}

/// The notifications group after `/dispatch-notifications-group`: what changed and who is in.
pub(super) fn notifications_group(
    name: &str,
    edit: &crate::stakeholders::GroupEdit,
) -> RichMessage {
    let mut said = Vec::new();
    if !edit.added.is_empty() {
        said.push(format!("added {}", edit.added.join(", ")));
    }
    if !edit.removed.is_empty() {
        said.push(format!("removed {}", edit.removed.join(", ")));
    }
    let head = if said.is_empty() {
        format!("The notifications group of {name} is unchanged.")
    } else {
        format!("Notifications group of {name}: {}.", said.join("; "))
    };
    let members = if edit.group.members.is_empty() {
        "no one".to_string()
    } else {
        edit.group.members.join(", ")
    };
    let mut text = format!("{head}\nIt reaches: {members}.");
    if !edit.group.unsubscribed.is_empty() {
        text.push_str(&format!(
            "\nUnsubscribed, so not mailed until they subscribe again: {}.",
            edit.group.unsubscribed.join(", ")
        ));
    }
    RichMessage::plain(text)
}
