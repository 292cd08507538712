//! Modals: where the original opened a form (report an incident, assign a role, edit the
//! incident, reports, create a task, add a timeline event, engage on-call), a slash command given
//! without arguments opens one with `views.open`. A submission is turned back into the command
//! line the chat grammar reads, so a modal is only another way of typing a command. Missing
//! required fields are shown inside the modal (`response_action: errors`).

use serde_json::{json, Value};
use std::collections::BTreeMap;

/// How a field is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// One line of text.
    Line,
    /// Several lines.
    Text,
    /// One Slack user (becomes `<@U…>`, resolved to an e-mail address by the command job).
    User,
    /// Several Slack users.
    Users,
    /// One of these options.
    Choice(&'static [&'static str]),
    /// A yes/no box; when ticked, the field's key is added as a bare word.
    Flag,
}

/// One field of a modal.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The argument: `key` becomes `key="value"`; a positional field has `positional: true`.
    pub key: &'static str,
    /// The label shown.
    pub label: &'static str,
    /// How it is entered.
    pub input: Input,
    /// Must be filled in.
    pub required: bool,
    /// Written as a bare (quoted) word in order, rather than `key="value"`.
    pub positional: bool,
}

const fn f(key: &'static str, label: &'static str, input: Input, required: bool) -> Field {
    Field {
        key,
        label,
        input,
        required,
        positional: false,
    }
}

const fn p(key: &'static str, label: &'static str, input: Input, required: bool) -> Field {
    Field {
        key,
        label,
        input,
        required,
        positional: true,
    }
}

/// A modal: the command it stands for, its title and fields.
#[derive(Debug, Clone, Copy)]
pub struct Modal {
    /// The command, without the slash (also the view's `callback_id`).
    pub command: &'static str,
    /// The modal's title (Slack allows 24 characters).
    pub title: &'static str,
    /// The fields, in order.
    pub fields: &'static [Field],
    /// The form edits something: it opens with the current values, and only the fields the
    /// person changed become arguments (a report, by contrast, opens with the latest report and
    /// is sent whole).
    pub edits: bool,
}

const ROLES: &[&str] = &[
    "incident_commander",
    "scribe",
    "liaison",
    "participant",
    "observer",
];
const STATUSES: &[&str] = &["active", "stable", "closed"];
/// A case's resolution reasons (`dispatch_core::signal::ResolutionReason`).
pub const REASONS: &[&str] = &[
    "benign",
    "contained",
    "escalated",
    "false_positive",
    "information_gathered",
    "insufficient_information",
    "mitigated",
    "operational_error",
    "policy_violation",
    "user_acknowledged",
];

/// Every modal.
pub const MODALS: &[Modal] = &[
    Modal {
        command: "dispatch-case-resolve",
        title: "Resolve the case",
        fields: &[
            p("reason", "Resolution reason", Input::Choice(REASONS), true),
            p("text", "What was found or done", Input::Text, false),
        ],
        edits: false,
    },
    Modal {
        command: "dispatch-report-incident",
        title: "Report an incident",
        fields: &[
            p("title", "Title", Input::Line, true),
            p("description", "Description", Input::Text, false),
            f("type", "Type", Input::Line, false),
            f("priority", "Priority", Input::Line, false),
            f("severity", "Severity", Input::Line, false),
        ],
        edits: false,
    },
    Modal {
        command: "dispatch-assign-role",
        title: "Assign a role",
        fields: &[
            p("person", "Person", Input::User, true),
            p("role", "Role", Input::Choice(ROLES), true),
        ],
        edits: false,
    },
    Modal {
        command: "dispatch-edit-incident",
        title: "Edit the incident",
        fields: &[
            f("title", "Title", Input::Line, false),
            f("description", "Description", Input::Text, false),
            f("resolution", "Resolution", Input::Text, false),
            f("type", "Type", Input::Line, false),
            f("priority", "Priority", Input::Line, false),
            f("severity", "Severity", Input::Line, false),
            f("status", "Status", Input::Choice(STATUSES), false),
        ],
        edits: true,
    },
    Modal {
        command: "dispatch-status-report",
        title: "Tactical report",
        fields: &[
            f("conditions", "Conditions", Input::Text, true),
            f("actions", "Actions", Input::Text, true),
            f("needs", "Needs", Input::Text, true),
        ],
        edits: false,
    },
    Modal {
        command: "dispatch-report-executive",
        title: "Executive report",
        fields: &[
            f("current_status", "Current status", Input::Text, true),
            f("overview", "Overview", Input::Text, true),
            f("next_steps", "Next steps", Input::Text, true),
        ],
        edits: false,
    },
    Modal {
        command: "dispatch-create-task",
        title: "Create a task",
        fields: &[
            p("assignees", "Assignees", Input::Users, true),
            p("description", "Description", Input::Text, true),
            f("due", "Due (e.g. +2d, 4h, 2026-12-01)", Input::Line, false),
        ],
        edits: false,
    },
    Modal {
        command: "dispatch-add-timeline-event",
        title: "Add a timeline event",
        fields: &[
            f(
                "at",
                "When (e.g. 10:00, 2026-11-25T10:00Z)",
                Input::Line,
                false,
            ),
            p("description", "What happened", Input::Text, true),
        ],
        edits: false,
    },
    Modal {
        command: "dispatch-engage-oncall",
        title: "Engage on-call",
        fields: &[
            p("service", "Service", Input::Line, true),
            p("page", "Page them", Input::Flag, false),
        ],
        edits: false,
    },
];

/// The modal of a command name (with or without the slash), aliases included
/// (`dispatch-report-tactical` is the status report).
pub fn modal_for(command: &str) -> Option<&'static Modal> {
    let name = command.trim().trim_start_matches('/');
    let name = match name {
        "dispatch-update-incident" => "dispatch-edit-incident",
        "dispatch-report-tactical" => "dispatch-status-report",
        "dispatch-declare-incident" => "dispatch-report-incident",
        "dispatch-add-task" => "dispatch-create-task",
        other => other,
    };
    MODALS.iter().find(|m| m.command == name)
}

fn plain(text: &str) -> Value {
    json!({ "type": "plain_text", "text": text })
}

/// A field's input element, showing `initial` (the current value) when there is one.
fn element(field: &Field, initial: Option<&str>) -> Value {
    let mut e = input_element(field);
    match (field.input, initial) {
        (Input::Line | Input::Text, Some(v)) => e["initial_value"] = json!(v),
        (Input::Choice(options), Some(v)) if options.contains(&v) => {
            e["initial_option"] = option(v);
        }
        _ => {}
    }
    e
}

fn option(value: &str) -> Value {
    json!({ "text": plain(&value.replace('_', " ")), "value": value })
}

fn input_element(field: &Field) -> Value {
    let action_id = field.key;
    match field.input {
        Input::Line => json!({ "type": "plain_text_input", "action_id": action_id }),
        Input::Text => {
            json!({ "type": "plain_text_input", "action_id": action_id, "multiline": true })
        }
        Input::User => json!({ "type": "users_select", "action_id": action_id }),
        Input::Users => json!({ "type": "multi_users_select", "action_id": action_id }),
        Input::Choice(options) => json!({
            "type": "static_select",
            "action_id": action_id,
            "options": options.iter().map(|o| option(o)).collect::<Vec<_>>(),
        }),
        Input::Flag => json!({
            "type": "checkboxes",
            "action_id": action_id,
            "options": [{ "text": plain(field.label), "value": "yes" }],
        }),
    }
}

/// The `views.open` view of a modal; `context` (the channel the command came from) comes back
/// with the submission as `private_metadata`; `initial` holds the values the form opens with,
/// by field ([`dispatch_engine::Chat::form_values`]).
pub fn view(modal: &Modal, context: &str, initial: &BTreeMap<String, String>) -> Value {
    let blocks: Vec<Value> = modal
        .fields
        .iter()
        .map(|field| {
            json!({
                "type": "input",
                "block_id": field.key,
                "optional": !field.required,
                "label": plain(field.label),
                "element": element(field, initial.get(field.key).map(String::as_str)),
            })
        })
        .collect();
    json!({
        "type": "modal",
        "callback_id": modal.command,
        "private_metadata": context,
        "title": plain(modal.title),
        "submit": plain("Submit"),
        "close": plain("Cancel"),
        "blocks": blocks,
    })
}

pub use dispatch_core::chat::quote;

/// The value a field was given in a `view_submission`'s `view.state.values`, as command text.
fn submitted(values: &Value, field: &Field) -> Option<String> {
    let v = &values[field.key][field.key];
    let text = match field.input {
        Input::Line | Input::Text => v["value"].as_str().map(|s| s.trim().to_string()),
        Input::User => v["selected_user"].as_str().map(|u| format!("<@{u}>")),
        Input::Users => v["selected_users"].as_array().map(|users| {
            users
                .iter()
                .filter_map(|u| u.as_str())
                .map(|u| format!("<@{u}>"))
                .collect::<Vec<_>>()
                .join(" ")
        }),
        Input::Choice(_) => v["selected_option"]["value"].as_str().map(String::from),
        Input::Flag => v["selected_options"]
            .as_array()
            .filter(|o| !o.is_empty())
            .map(|_| field.key.to_string()),
    };
    text.filter(|t| !t.is_empty())
}

/// The value a field was shown with when the form opened (its element's initial value, which
/// Slack sends back with the view).
fn shown(view: &Value, field: &Field) -> Option<String> {
    let block = view["blocks"]
        .as_array()?
        .iter()
        .find(|b| b["block_id"] == field.key)?;
    let e = &block["element"];
    e["initial_value"]
        .as_str()
        .or(e["initial_option"]["value"].as_str())
        .map(|v| v.trim().to_string())
}

/// The command line a submission stands for, or the errors to show beside the fields.
pub fn command_line(view: &Value) -> Result<String, BTreeMap<String, String>> {
    let name = view["callback_id"].as_str().unwrap_or_default();
    let Some(modal) = modal_for(name) else {
        return Err(BTreeMap::from([(
            "callback_id".to_string(),
            format!("no modal is called {name:?}"),
        )]));
    };
    let values = &view["state"]["values"];
    line_of(modal, |field| {
        let value = submitted(values, field);
        // An edit leaves alone a field that was not changed.
        if modal.edits && value.is_some() && value == shown(view, field) {
            None
        } else {
            value
        }
    })
}

/// The command line of `modal` filled in with what `value` gives each field (as command text:
/// trimmed, empty as `None`), or the errors of the required fields left empty, by field key.
/// Every transport's forms become command lines here.
pub fn line_of(
    modal: &Modal,
    value: impl Fn(&Field) -> Option<String>,
) -> Result<String, BTreeMap<String, String>> {
    let mut errors = BTreeMap::new();
    let mut words = vec![format!("/{}", modal.command)];
    for field in modal.fields {
        match value(field) {
            None if field.required => {
                errors.insert(
                    field.key.to_string(),
                    format!("{} is required", field.label),
                );
            }
            None => {}
            Some(v) => words.push(match (field.positional, field.input) {
                (_, Input::User | Input::Users | Input::Flag) => v,
                (true, Input::Choice(_)) => v,
                (true, _) => quote(&v),
                (false, _) => format!("{}={}", field.key, quote(&v)),
            }),
        }
    }
    if errors.is_empty() {
        Ok(words.join(" "))
    } else {
        Err(errors)
    }
}

/// The answer to a submission with errors: Slack shows each beside its field.
pub fn errors_response(errors: &BTreeMap<String, String>) -> Value {
    json!({ "response_action": "errors", "errors": errors })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submission(command: &str, values: Value) -> Value {
        json!({ "callback_id": command, "state": { "values": values } })
    }

    #[test]
    fn the_resolve_modal_offers_every_resolution_reason() {
        let ours: Vec<&str> = dispatch_core::signal::ResolutionReason::ALL
            .iter()
            .map(|r| r.as_str())
            .collect();
        assert_eq!(REASONS, ours.as_slice());
        let line = command_line(&submission(
            "dispatch-case-resolve",
            json!({"reason": {"reason": {"selected_option": {"value": "false_positive"}}},
                   "text": {"text": {"value": "load \"test\""}}}),
        ))
        .unwrap();
        assert_eq!(
            line,
            r#"/dispatch-case-resolve false_positive "load \"test\"""#
        );
    }

    #[test]
    fn every_modal_builds_a_view_with_one_input_per_field() {
        for m in MODALS {
            let v = view(m, "C1", &BTreeMap::new());
            assert_eq!(v["callback_id"], m.command);
            assert_eq!(v["private_metadata"], "C1");
            assert!(
                m.title.chars().count() <= 24,
                "{} is too long for Slack",
                m.title
            );
            assert_eq!(v["blocks"].as_array().unwrap().len(), m.fields.len());
        }
        assert_eq!(
            modal_for("/dispatch-report-tactical").unwrap().command,
            "dispatch-status-report"
        );
        assert!(modal_for("/dispatch-mark-stable").is_none());
    }

    #[test]
    fn a_submission_becomes_the_command_line_with_quotes_escaped() {
        let s = submission(
            "dispatch-status-report",
            json!({
                "conditions": {"conditions": {"value": "Checkout \"down\""}},
                "actions": {"actions": {"value": "Rolling back"}},
                "needs": {"needs": {"value": "DB team"}},
            }),
        );
        assert_eq!(
            command_line(&s).unwrap(),
            r#"/dispatch-status-report conditions="Checkout \"down\"" actions="Rolling back" needs="DB team""#
        );
        let s = submission(
            "dispatch-assign-role",
            json!({
                "person": {"person": {"selected_user": "U7"}},
                "role": {"role": {"selected_option": {"value": "scribe"}}},
            }),
        );
        assert_eq!(
            command_line(&s).unwrap(),
            "/dispatch-assign-role <@U7> scribe"
        );
        let s = submission(
            "dispatch-engage-oncall",
            json!({
                "service": {"service": {"value": "payments"}},
                "page": {"page": {"selected_options": [{"value": "yes"}]}},
            }),
        );
        assert_eq!(
            command_line(&s).unwrap(),
            r#"/dispatch-engage-oncall "payments" page"#
        );
    }

    #[test]
    fn missing_required_fields_are_errors_beside_them() {
        let s = submission(
            "dispatch-create-task",
            json!({ "description": {"description": {"value": "  "}} }),
        );
        let errors = command_line(&s).unwrap_err();
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            ["assignees", "description"]
        );
        let r = errors_response(&errors);
        assert_eq!(r["response_action"], "errors");
        assert!(command_line(&submission("nope", json!({}))).is_err());
    }

    #[test]
    fn an_edit_form_opens_with_the_current_values_and_sends_only_what_changed() {
        let m = modal_for("dispatch-edit-incident").unwrap();
        let initial = BTreeMap::from([
            ("title".to_string(), "Checkout errors".to_string()),
            ("priority".to_string(), "high".to_string()),
            ("status".to_string(), "active".to_string()),
        ]);
        let mut v = view(m, "C1", &initial);
        let block = |v: &Value, key: &str| {
            v["blocks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|b| b["block_id"] == key)
                .unwrap()["element"]
                .clone()
        };
        assert_eq!(block(&v, "title")["initial_value"], "Checkout errors");
        assert_eq!(block(&v, "status")["initial_option"]["value"], "active");
        assert!(block(&v, "description").get("initial_value").is_none());
        // Submitted as Slack sends it: every field with its value, the title changed.
        v["state"]["values"] = json!({
            "title": {"title": {"value": "Checkout errors in EU"}},
            "priority": {"priority": {"value": "high"}},
            "status": {"status": {"selected_option": {"value": "active"}}},
        });
        assert_eq!(
            command_line(&v).unwrap(),
            r#"/dispatch-edit-incident title="Checkout errors in EU""#
        );
        // A report form opened with the latest report is sent whole.
        let r = modal_for("dispatch-status-report").unwrap();
        let last = BTreeMap::from([
            ("conditions".to_string(), "Errors at 5%".to_string()),
            ("actions".to_string(), "Rollback".to_string()),
            ("needs".to_string(), "None".to_string()),
        ]);
        let mut v = view(r, "C1", &last);
        assert_eq!(block(&v, "needs")["initial_value"], "None");
        v["state"]["values"] = json!({
            "conditions": {"conditions": {"value": "Errors at 1%"}},
            "actions": {"actions": {"value": "Rollback"}},
            "needs": {"needs": {"value": "None"}},
        });
        assert_eq!(
            command_line(&v).unwrap(),
            r#"/dispatch-status-report conditions="Errors at 1%" actions="Rollback" needs="None""#
        );
    }
}
