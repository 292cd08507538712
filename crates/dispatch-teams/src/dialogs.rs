//! The forms as task modules (Teams' dialogs). The forms are the one catalogue every transport
//! uses ([`dispatch_slack::modals::MODALS`]): `task/fetch` answers a card with an input per
//! field, prefilled with the values given (an edit form's current values); `task/submit` turns
//! the inputs back into the command line the chat grammar reads, or answers the same card again
//! with each missing field's error beside it — never a silent accept.

use crate::cards;
use dispatch_slack::modals::{self, Field, Input, Modal};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The key of a card's data naming the form it opens or submits.
pub const FORM_KEY: &str = "dispatch_form";
/// The key of a card's data holding the form's context (the channel it was opened from).
pub const CONTEXT_KEY: &str = "dispatch_context";

/// Values by field key.
pub type Values = BTreeMap<String, String>;

/// A button that opens `modal`'s task module (`Action.Submit` with `msteams.type = task/fetch`).
pub fn open_button(modal: &Modal, context: &str) -> Value {
    json!({
        "type": "Action.Submit",
        "title": modal.title,
        "data": { "msteams": { "type": "task/fetch" }, FORM_KEY: modal.command, CONTEXT_KEY: context },
    })
}

fn input(field: &Field, value: Option<&str>) -> Value {
    let mut i = match field.input {
        Input::Line => json!({ "type": "Input.Text" }),
        Input::Text => json!({ "type": "Input.Text", "isMultiline": true }),
        Input::User => json!({ "type": "Input.Text", "placeholder": "e-mail address" }),
        Input::Users => json!({ "type": "Input.Text",
            "placeholder": "e-mail addresses, separated by spaces" }),
        Input::Choice(options) => json!({
            "type": "Input.ChoiceSet",
            "style": "compact",
            "choices": options.iter().map(|o| json!({ "title": o, "value": o })).collect::<Vec<_>>(),
        }),
        Input::Flag => json!({ "type": "Input.Toggle", "title": field.label,
            "valueOn": "true", "valueOff": "false" }),
    };
    i["id"] = json!(field.key);
    i["label"] = json!(field.label);
    i["isRequired"] = json!(field.required);
    if field.required {
        i["errorMessage"] = json!(format!("{} is required", field.label));
    }
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        i["value"] = json!(v);
    }
    i
}

/// The form's card: an input per field with `values` filled in, each error in `errors` shown
/// under its field, and a Submit that carries the form's name and `context` back.
pub fn form_card(modal: &Modal, context: &str, values: &Values, errors: &Values) -> Value {
    let mut body = Vec::new();
    for field in modal.fields {
        body.push(input(field, values.get(field.key).map(String::as_str)));
        if let Some(e) = errors.get(field.key) {
            body.push(
                json!({ "type": "TextBlock", "text": e, "color": "Attention",
                "wrap": true, "size": "Small" }),
            );
        }
    }
    let mut card = cards::card_of(body);
    card["actions"] = json!([{
        "type": "Action.Submit",
        "title": "Submit",
        "data": { FORM_KEY: modal.command, CONTEXT_KEY: context },
    }]);
    card
}

/// The `task/fetch` (or failed `task/submit`) answer showing the form.
pub fn task_continue(modal: &Modal, card: Value) -> Value {
    json!({
        "task": {
            "type": "continue",
            "value": {
                "title": modal.title,
                "width": "medium",
                "height": "medium",
                "card": { "contentType": cards::CONTENT_TYPE, "content": card },
            }
        }
    })
}

/// The `task/submit` answer that closes the dialog with a note.
pub fn task_message(text: &str) -> Value {
    json!({ "task": { "type": "message", "value": text } })
}

/// The value a submission gave a field, as command text.
fn submitted(data: &Value, field: &Field) -> Option<String> {
    let raw = match &data[field.key] {
        Value::String(s) => s.trim().to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    let text = match field.input {
        Input::Flag => (raw == "true").then(|| field.key.to_string()),
        // People are e-mail addresses, which the command grammar reads as they are.
        Input::User | Input::Users => Some(
            raw.split([',', ';', ' '])
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => Some(raw),
    };
    text.filter(|t| !t.is_empty())
}

/// What a `task/submit` carried.
pub enum Submission {
    /// The command line to run, and the context the form was opened in.
    Line {
        /// The command line.
        line: String,
        /// The form's context (the channel).
        context: String,
    },
    /// Required fields are missing: the answer showing the form again with their errors.
    Invalid(Value),
}

/// Reads a `task/submit`'s data (`activity.value.data`); `None` when it names no form.
pub fn submission(data: &Value) -> Option<Submission> {
    let modal = modals::modal_for(data[FORM_KEY].as_str()?)?;
    let context = data[CONTEXT_KEY].as_str().unwrap_or_default().to_string();
    Some(match modals::line_of(modal, |f| submitted(data, f)) {
        Ok(line) => Submission::Line { line, context },
        Err(errors) => {
            let values: Values = modal
                .fields
                .iter()
                .filter_map(|f| Some((f.key.to_string(), data[f.key].as_str()?.to_string())))
                .collect();
            Submission::Invalid(task_continue(
                modal,
                form_card(modal, &context, &values, &errors),
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_opens_prefilled_and_a_submission_becomes_the_command_line() {
        let m = modals::modal_for("dispatch-edit-incident").unwrap();
        let values = Values::from([("title".to_string(), "Payments failing".to_string())]);
        let card = form_card(m, "19:c@thread.tacv2", &values, &Values::new());
        let inputs = card["body"].as_array().unwrap();
        assert_eq!(inputs.len(), m.fields.len());
        assert_eq!(inputs[0]["id"], "title");
        assert_eq!(inputs[0]["value"], "Payments failing");
        assert!(inputs[1].get("value").is_none());
        let data = json!({ FORM_KEY: "dispatch-edit-incident", CONTEXT_KEY: "19:c",
            "title": "Payments down", "priority": "high", "status": "" });
        match submission(&data).unwrap() {
            Submission::Line { line, context } => {
                assert_eq!(
                    line,
                    r#"/dispatch-edit-incident title="Payments down" priority="high""#
                );
                assert_eq!(context, "19:c");
            }
            Submission::Invalid(v) => panic!("{v}"),
        }
    }

    #[test]
    fn a_missing_required_field_answers_the_form_again_with_its_error() {
        let data = json!({ FORM_KEY: "dispatch-status-report", CONTEXT_KEY: "19:c",
            "conditions": "Checkout failing", "actions": " " });
        let Some(Submission::Invalid(answer)) = submission(&data) else {
            panic!("accepted");
        };
        assert_eq!(answer["task"]["type"], "continue");
        let body = answer["task"]["value"]["card"]["content"]["body"].to_string();
        assert!(body.contains("Actions is required"), "{body}");
        assert!(body.contains("Needs is required"), "{body}");
        assert!(
            body.contains("Checkout failing"),
            "kept what was typed: {body}"
        );
        assert!(submission(&json!({ FORM_KEY: "nope" })).is_none());
    }

    #[test]
    fn people_and_flags_become_words() {
        let data = json!({ FORM_KEY: "dispatch-create-task", "assignees": "a@x.io, b@x.io",
            "description": "Roll back" });
        let Some(Submission::Line { line, .. }) = submission(&data) else {
            panic!("refused");
        };
        assert_eq!(line, r#"/dispatch-create-task a@x.io b@x.io "Roll back""#);
        let data =
            json!({ FORM_KEY: "dispatch-engage-oncall", "service": "payments", "page": "true" });
        let Some(Submission::Line { line, .. }) = submission(&data) else {
            panic!("refused");
        };
        assert_eq!(line, r#"/dispatch-engage-oncall "payments" page"#);
    }
}
