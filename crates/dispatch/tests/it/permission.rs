//! One permission rule per action: for every incident action that both the REST API (or the web
//! UI's form) and a chat command offer, each kind of caller gets the same answer from both, and
//! that answer is the rule's (`docs/access.md`).

use crate::common::{spawn_app, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The callers, by name, with their e-mail and organization role.
const CALLERS: [(&str, &str, &str); 7] = [
    ("commander", "ic@example.com", "member"),
    ("scribe", "sam@example.com", "member"),
    ("reporter", "rex@example.com", "member"),
    ("participant", "pat@example.com", "member"),
    ("member", "mo@example.com", "member"),
    ("project_admin", "pam@example.com", "member"),
    ("org_admin", "ada@example.com", "admin"),
];

const ALL: &[&str] = &[
    "commander",
    "scribe",
    "reporter",
    "participant",
    "member",
    "project_admin",
    "org_admin",
];
const PARTICIPANTS: &[&str] = &[
    "commander",
    "scribe",
    "reporter",
    "participant",
    "project_admin",
    "org_admin",
];
const RESPONDERS: &[&str] = &[
    "commander",
    "scribe",
    "reporter",
    "project_admin",
    "org_admin",
];
const IC_SCRIBE: &[&str] = &["commander", "scribe", "project_admin", "org_admin"];
const IC_REPORTER: &[&str] = &["commander", "reporter", "project_admin", "org_admin"];

/// How the REST side of an action is called.
enum Rest {
    /// An API call: method, path under `/api/v1` (`{task}` is the task's id), JSON body.
    Api(Method, &'static str, Option<Value>),
    /// A web UI form: path, fields.
    Form(&'static str, &'static [(&'static str, &'static str)]),
}

/// One action both transports offer: its name, the REST call, the command line, who may.
struct Case {
    action: &'static str,
    rest: Rest,
    chat: &'static str,
    allowed: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    use Method as M;
    vec![
        Case {
            action: "view (participants)",
            rest: Rest::Api(M::GET, "/incidents/INC-1/participants", None),
            chat: "/dispatch-list-participants",
            allowed: ALL,
        },
        Case {
            action: "view (tasks)",
            rest: Rest::Api(M::GET, "/incidents/INC-1/tasks", None),
            chat: "/dispatch-list-tasks",
            allowed: ALL,
        },
        Case {
            action: "edit_incident",
            rest: Rest::Api(
                M::PATCH,
                "/incidents/INC-1",
                Some(json!({"title": "Checkout failing"})),
            ),
            chat: "/dispatch-edit-incident title=\"Checkout failing\"",
            allowed: RESPONDERS,
        },
        Case {
            action: "add_timeline_event",
            rest: Rest::Api(
                M::POST,
                "/incidents/INC-1/timeline",
                Some(json!({"description": "noted", "occurred_at": "2026-11-24T23:50:00Z"})),
            ),
            chat: "/dispatch-add-timeline-event \"noted\"",
            allowed: RESPONDERS,
        },
        Case {
            action: "create_task",
            rest: Rest::Api(
                M::POST,
                "/incidents/INC-1/tasks",
                Some(json!({"description": "look", "assignees": ["pat@example.com"]})),
            ),
            chat: "/dispatch-create-task pat@example.com \"look\"",
            allowed: RESPONDERS,
        },
        Case {
            action: "resolve_task",
            rest: Rest::Api(
                M::PATCH,
                "/incidents/INC-1/tasks/{task}",
                Some(json!({"status": "open"})),
            ),
            chat: "/dispatch-reopen-task {task}",
            allowed: PARTICIPANTS,
        },
        Case {
            action: "write_report",
            rest: Rest::Api(
                M::POST,
                "/incidents/INC-1/reports",
                Some(json!({"kind": "tactical", "conditions": "a", "actions": "b", "needs": "c"})),
            ),
            chat: "/dispatch-status-report conditions=\"a\" actions=\"b\" needs=\"c\"",
            allowed: RESPONDERS,
        },
        Case {
            action: "assign_role",
            rest: Rest::Api(
                M::POST,
                "/incidents/INC-1/roles",
                Some(json!({"email": "olive@example.com", "role": "observer"})),
            ),
            chat: "/dispatch-assign-role olive@example.com observer",
            allowed: IC_SCRIBE,
        },
        Case {
            action: "edit_notifications_group",
            rest: Rest::Api(
                M::POST,
                "/incidents/INC-1/group/notifications/members",
                Some(json!({"email": "vp@example.com"})),
            ),
            chat: "/dispatch-notifications-group add vp@example.com",
            allowed: IC_SCRIBE,
        },
        Case {
            action: "engage_oncall",
            rest: Rest::Form("/incidents/INC-1/engage", &[("service", "no-such-service")]),
            chat: "/dispatch-engage-oncall no-such-service",
            allowed: PARTICIPANTS,
        },
        Case {
            action: "change_status (through an edit)",
            rest: Rest::Api(
                M::PATCH,
                "/incidents/INC-1",
                Some(json!({"status": "active"})),
            ),
            chat: "/dispatch-edit-incident status=active",
            allowed: IC_REPORTER,
        },
        Case {
            action: "change_status",
            rest: Rest::Api(M::POST, "/incidents/INC-1/reopen", Some(json!({}))),
            chat: "/dispatch-mark-active",
            allowed: IC_REPORTER,
        },
        Case {
            action: "subscribe",
            rest: Rest::Api(M::POST, "/incidents/INC-1/subscribe", Some(json!({}))),
            chat: "/dispatch-subscribe-incident",
            allowed: ALL,
        },
        // Last: joining makes the caller a participant.
        Case {
            action: "join",
            rest: Rest::Api(M::POST, "/incidents/INC-1/join", Some(json!({}))),
            chat: "/dispatch-join-incident",
            allowed: ALL,
        },
    ]
}

/// Whether the answer let the caller through: anything but 403 (a 409 for a transition already
/// made, or a 404 for the unknown service, comes after the permission check).
fn passed(action: &str, via: &str, status: StatusCode, body: &str) -> bool {
    assert_ne!(
        status,
        StatusCode::UNAUTHORIZED,
        "{action} via {via}: {body}"
    );
    status != StatusCode::FORBIDDEN
}

async fn rest(app: &TestApp, token: &str, rest: &Rest, task: &str) -> (StatusCode, String) {
    match rest {
        Rest::Api(method, path, body) => {
            let r = app
                .call_as(
                    Some(token),
                    method.clone(),
                    &path.replace("{task}", task),
                    body.clone(),
                )
                .await;
            (r.status, r.body.to_string())
        }
        Rest::Form(path, fields) => {
            let res = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .post(format!("{}{path}", app.base))
                .bearer_auth(token)
                .form(fields)
                .send()
                .await
                .unwrap();
            (res.status(), String::new())
        }
    }
}

#[tokio::test]
async fn rest_and_chat_give_every_caller_the_same_answer_for_every_action() {
    let app = spawn_app().await;
    let mut tokens = std::collections::HashMap::new();
    for (name, email, role) in CALLERS {
        tokens.insert(name, app.token_with(email, role, "write").await);
    }
    let pam = app.user_id("pam@example.com").await;
    let r = app
        .call(
            Method::PUT,
            &format!("/projects/default/members/{pam}"),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    // Rex reports it, Ic commands it.
    let r = app
        .call_as(
            Some(&tokens["reporter"]),
            Method::POST,
            "/incidents",
            Some(
                json!({"title": "Checkout", "description": "500s", "commander": "ic@example.com"}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["name"], "INC-1");
    app.give_role("INC-1", "sam@example.com", "scribe").await;
    app.give_role("INC-1", "pat@example.com", "participant")
        .await;
    let task = app
        .post(
            "/incidents/INC-1/tasks",
            json!({"description": "roll back", "assignees": ["pat@example.com"]}),
        )
        .await;
    assert_eq!(task.status, StatusCode::CREATED, "{:?}", task.body);
    let task = task.body["id"].to_string();
    app.run_pending_jobs().await;

    let mut checked = 0;
    for case in cases() {
        for (name, _, _) in CALLERS {
            let token = &tokens[name];
            let (status, body) = rest(&app, token, &case.rest, &task).await;
            let by_rest = passed(case.action, "REST", status, &body);
            let line = case.chat.replace("{task}", &task);
            let r = app
                .call_as(
                    Some(token),
                    Method::POST,
                    "/incidents/INC-1/commands",
                    Some(json!({ "text": line })),
                )
                .await;
            let by_chat = passed(case.action, "chat", r.status, &r.body.to_string());
            assert_eq!(
                by_rest, by_chat,
                "{} for {name}: REST {status} {body}, chat {} {}",
                case.action, r.status, r.body
            );
            assert_eq!(
                by_rest,
                case.allowed.contains(&name),
                "{} for {name}: REST {status} {body}",
                case.action
            );
            if !by_chat {
                // The refusal names who may.
                let m = r.body["error"]["message"].as_str().unwrap_or_default();
                assert!(m.contains("is for the incident"), "{m}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, cases().len() * CALLERS.len());
    // What the allowed actions started runs through to the end.
    app.run_pending_jobs().await;
}
