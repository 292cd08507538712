//! Jira end to end against the emulator: a declare creates one issue (looked up by its label
//! first), the ticket links to it, changes update it, the life cycle moves it by transition
//! name (the resolution as the closing comment), Data Center takes a bearer token and wiki
//! text, 429s are waited out, bad credentials name the settings, and half the calls failing or
//! timing out still end with one issue and one move per status.

use crate::common::TestApp;
use crate::emulators::jira::{Jira, API_TOKEN, EMAIL, PAT};
use dispatch::config::Config;
use dispatch::vendor_config::JiraConfig;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

fn cloud_config(j: &Jira, token: &str) -> JiraConfig {
    JiraConfig {
        url: j.url.clone(),
        email: EMAIL.into(),
        api_token: token.into(),
        project_key: "OPS".into(),
        ..Default::default()
    }
}

async fn spawn_with(jira: JiraConfig, timeout: Option<Duration>) -> TestApp {
    let mut cfg = Config {
        jira,
        ..Default::default()
    };
    cfg.providers.insert("ticket".into(), "jira".into());
    TestApp::builder()
        .registry(move |_, r| {
            let mut s = cfg
                .jira
                .settings()
                .expect("Jira settings")
                .expect("Jira on");
            if let Some(t) = timeout {
                s.timeout = t;
            }
            r.ticket
                .add(std::sync::Arc::new(dispatch_providers::jira::Jira::new(s)));
            cfg.apply_provider_defaults(r).expect("defaults");
        })
        .spawn()
        .await
}

async fn spawn(j: &Jira) -> TestApp {
    spawn_with(cloud_config(j, API_TOKEN), None).await
}

async fn declare(app: &TestApp, title: &str) -> String {
    let r = app
        .post(
            "/incidents",
            json!({"title": title, "description": "p99 4s\nsince the 10:00 deploy", "priority": "high"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["name"].as_str().unwrap().to_string()
}

async fn ticket(app: &TestApp, name: &str) -> Value {
    let detail = app.get(&format!("/incidents/{name}")).await.body;
    detail["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "ticket")
        .cloned()
        .unwrap_or(Value::Null)
}

fn count(j: &Jira, prefix: &str) -> usize {
    j.requests()
        .iter()
        .filter(|r| r.starts_with(prefix))
        .count()
}

#[tokio::test]
async fn a_declare_makes_one_jira_issue_kept_current_and_moved_by_name_through_the_life_cycle() {
    let j = Jira::start().await;
    j.with_stable_transition();
    let app = spawn(&j).await;
    let name = declare(&app, "Checkout latency above SLO").await;
    app.run_pending_jobs().await;

    let issues = j.issues();
    assert_eq!(
        issues.len(),
        1,
        "{issues:?} {} {:?}",
        ticket(&app, &name).await,
        j.requests()
    );
    let issue = &issues[0];
    assert_eq!(issue.key, "OPS-1");
    assert_eq!(issue.fields["summary"], "Checkout latency above SLO");
    assert_eq!(issue.fields["issuetype"]["name"], "Task");
    let labels = issue.fields["labels"].as_array().unwrap();
    assert!(
        labels.contains(&json!("incident")) && labels.contains(&json!(format!("dispatch-{name}"))),
        "{labels:?}"
    );
    let description = issue.fields["description"].to_string();
    assert_eq!(issue.fields["description"]["type"], "doc");
    assert!(
        description.contains(&format!("/incidents/{name}")),
        "{description}"
    );
    assert!(
        description.contains("since the 10:00 deploy"),
        "{description}"
    );
    // The look-up came first, by the incident's label in the project.
    let asked = j.requests();
    let search = asked
        .iter()
        .position(|r| r.starts_with("GET /rest/api/3/search/jql?"))
        .expect("a search");
    let create = asked
        .iter()
        .position(|r| r == "POST /rest/api/3/issue")
        .unwrap();
    assert!(search < create, "{asked:?}");
    assert!(
        asked[search].contains(&format!("labels%20%3D%20%22dispatch-{name}%22"))
            || asked[search].contains(&format!("labels+%3D+%22dispatch-{name}%22")),
        "{}",
        asked[search]
    );
    assert_eq!(
        count(&j, "POST /rest/api/3/issue"),
        1 + 1,
        "one create, one move"
    );
    assert_eq!(issue.moves, ["In Progress"]);

    let t = ticket(&app, &name).await;
    assert_eq!(t["status"], "ready", "{t}");
    assert_eq!(t["provider"], "jira");
    assert_eq!(t["link"], format!("{}/browse/OPS-1", j.url));

    // A new title and priority update the issue.
    let r = app
        .patch(
            &format!("/incidents/{name}"),
            json!({"title": "Checkout down", "priority": "low"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    let issue = j.issues()[0].clone();
    assert_eq!(issue.fields["summary"], "Checkout down");
    assert!(
        issue.fields["description"]
            .to_string()
            .contains("Priority: Low"),
        "{}",
        issue.fields["description"]
    );

    let r = app
        .call(Method::POST, &format!("/incidents/{name}/stable"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    assert_eq!(j.issues()[0].moves, ["In Progress", "Stable"]);

    let r = app
        .patch(
            &format!("/incidents/{name}"),
            json!({"status": "closed", "resolution": "Rolled back the release."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    let issue = j.issues()[0].clone();
    assert_eq!(issue.moves, ["In Progress", "Stable", "Done"]);
    assert_eq!(issue.status, "Done");
    assert_eq!(issue.comments.len(), 1, "{:?}", issue.comments);
    assert!(issue.comments[0]
        .to_string()
        .contains("Rolled back the release."));
    assert_eq!(issue.comments[0]["type"], "doc");
    // Every move looked its transition up by name first.
    assert_eq!(count(&j, "GET /rest/api/3/issue/OPS-1/transitions"), 3);
    // A later refresh moves nothing again.
    let r = app
        .patch(
            &format!("/incidents/{name}"),
            json!({"title": "Checkout was down"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    assert_eq!(j.issues()[0].moves.len(), 3);
    assert_eq!(j.issues()[0].fields["summary"], "Checkout was down");
}

#[tokio::test]
async fn jira_data_center_takes_a_personal_access_token_and_wiki_text() {
    let j = Jira::start().await;
    let app = spawn_with(
        JiraConfig {
            url: j.url.clone(),
            pat: PAT.into(),
            project_key: "OPS".into(),
            issue_type: "Incident".into(),
            ..Default::default()
        },
        None,
    )
    .await;
    let name = declare(&app, "Search is slow").await;
    app.run_pending_jobs().await;
    let issue = &j.issues()[0];
    assert_eq!(issue.fields["issuetype"]["name"], "Incident");
    let d = issue.fields["description"].as_str().expect("wiki text");
    assert!(
        d.contains(&format!("|{}/incidents/{name}]", "http://127.0.0.1:8080"))
            || d.contains(&format!("/incidents/{name}]")),
        "{d}"
    );
    assert!(j
        .requests()
        .iter()
        .any(|r| r.starts_with("GET /rest/api/2/search?")));
    assert_eq!(
        count(&j, "POST /rest/api/2/issue"),
        2,
        "one create, one move"
    );
    assert_eq!(count(&j, "POST /rest/api/3/"), 0);
    assert_eq!(ticket(&app, &name).await["status"], "ready");
}

#[tokio::test]
async fn an_issue_made_before_is_found_not_made_again_and_429s_are_waited_out() {
    use dispatch_core::provider::{IncidentContext, ResourceProvider};
    let j = Jira::start().await;
    let mut s = cloud_config(&j, API_TOKEN).settings().unwrap().unwrap();
    s.timeout = Duration::from_secs(5);
    let jira = dispatch_providers::jira::Jira::new(s);
    let ctx = crate::common::incident_context("INC-7", "Queue backlog");
    j.faults().rate_limit_next(2);
    let first = jira.create("INC-7/ticket", &ctx).await.unwrap();
    let again = jira.create("INC-7/ticket", &ctx).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(first.external_id, "OPS-1");
    assert_eq!(j.issues().len(), 1);
    assert_eq!(j.issues()[0].moves, ["In Progress"], "moved once");
    assert_eq!(
        count(&j, "GET /rest/api/3/search/jql"),
        2 + 2,
        "two 429s, then two look-ups"
    );
    // Another incident is another issue.
    let other = IncidentContext {
        name: "INC-8".into(),
        ..ctx
    };
    assert_eq!(
        jira.create("INC-8/ticket", &other)
            .await
            .unwrap()
            .external_id,
        "OPS-2"
    );
}

#[tokio::test]
async fn a_bad_jira_token_fails_the_ticket_with_the_settings_to_check() {
    let j = Jira::start().await;
    let app = spawn_with(cloud_config(&j, "wrong"), None).await;
    app.expect_failed_jobs("Jira refuses the token, so the ticket cannot be made");
    let name = declare(&app, "Login errors").await;
    app.run_pending_jobs().await;
    let t = ticket(&app, &name).await;
    assert_eq!(t["status"], "failed", "{t}");
    let e = t["error"].as_str().unwrap_or_default();
    assert!(
        e.contains("401")
            && e.contains("DISPATCH_JIRA_API_TOKEN")
            && e.contains("You are not authenticated"),
        "{e}"
    );
    assert!(j.issues().is_empty());
}

#[tokio::test]
async fn half_the_jira_calls_failing_or_timing_out_still_make_one_issue_and_one_move_per_status() {
    let j = Jira::start().await;
    j.stall(Duration::from_millis(1500));
    j.faults().flaky(true);
    let app = spawn_with(
        cloud_config(&j, API_TOKEN),
        Some(Duration::from_millis(500)),
    )
    .await;
    let name = declare(&app, "Flaky Jira").await;
    app.run_pending_jobs().await;
    assert_eq!(ticket(&app, &name).await["status"], "ready");
    let r = app
        .call(Method::POST, &format!("/incidents/{name}/stable"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    let r = app
        .patch(
            &format!("/incidents/{name}"),
            json!({"status": "closed", "resolution": "Restarted the pool."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    let issues = j.issues();
    assert_eq!(issues.len(), 1, "exactly one issue: {issues:?}");
    // The workflow here has no Stable transition: active and closed move once each.
    assert_eq!(issues[0].moves, ["In Progress", "Done"]);
    assert_eq!(issues[0].comments.len(), 1);
    let creates = count(&j, "POST /rest/api/3/issue");
    assert!(
        creates > 3,
        "calls failed and were retried ({creates} writes)"
    );
}

#[tokio::test]
async fn a_project_sends_its_issues_to_its_own_jira_project_and_fills_its_custom_fields() {
    use crate::emulators::jira::{COMMANDER_FIELD, PRIORITY_FIELD};
    let j = Jira::start().await;
    let app = spawn(&j).await;
    let r = app
        .patch(
            "/projects/default",
            json!({"provider_settings": {"jira": {
                "project_key": "SEC", "issue_type": "Incident", "labels": ["sev", "ops"],
                "transitions": {"active": "In Progress", "closed": "Done"},
                "custom_fields": {"commander": COMMANDER_FIELD, "priority": PRIORITY_FIELD}}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["provider_settings"]["jira"]["project_key"], "SEC");
    let name = declare(&app, "Token leak").await;
    let ic = app.get(&format!("/incidents/{name}")).await.body["commander"]["email"]
        .as_str()
        .unwrap()
        .to_string();
    let account = j.add_user(&ic, "Ida Commander");
    app.run_pending_jobs().await;

    let issues = j.issues();
    assert_eq!(issues.len(), 1, "{:?}", j.requests());
    let issue = &issues[0];
    assert_eq!(issue.key, "SEC-1");
    assert_eq!(issue.fields["issuetype"]["name"], "Incident");
    let labels = issue.fields["labels"].as_array().unwrap();
    assert!(
        labels.contains(&json!("sev")) && !labels.contains(&json!("incident")),
        "{labels:?}"
    );
    assert_eq!(issue.fields[COMMANDER_FIELD]["accountId"], account.as_str());
    assert_eq!(issue.fields[PRIORITY_FIELD]["value"], "High");
    // The look-up searched the project's own Jira project.
    assert!(
        j.requests()
            .iter()
            .any(|r| r.starts_with("GET /rest/api/3/search/jql?") && r.contains("SEC")),
        "{:?}",
        j.requests()
    );
    assert_eq!(
        ticket(&app, &name).await["link"],
        format!("{}/browse/SEC-1", j.url)
    );

    // A new priority updates the select field; the commander is looked up once.
    let r = app
        .patch(&format!("/incidents/{name}"), json!({"priority": "medium"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    assert_eq!(j.issues()[0].fields[PRIORITY_FIELD]["value"], "Medium");
    assert_eq!(count(&j, "GET /rest/api/3/user/search"), 1);

    let r = app
        .call(
            Method::POST,
            &format!("/incidents/{name}/close"),
            Some(json!({"resolution": "Rotated the token."})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    let issue = j.issues()[0].clone();
    assert_eq!(issue.moves, ["In Progress", "Done"]);
    assert!(
        issue.comments[0].to_string().contains("Rotated the token."),
        "{:?}",
        issue.comments
    );
}

#[tokio::test]
async fn provider_settings_are_merged_checked_and_name_the_bad_field() {
    let j = Jira::start().await;
    let app = spawn(&j).await;
    let r = app
        .patch(
            "/projects/default",
            json!({"provider_settings": {"jira": {"project_key": "SEC", "issue_type": "Bug",
                "by_type": {"Default": {"issue_type": "Incident"}}}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    // A merge patch: the key stays, the issue type goes, the labels come.
    let r = app
        .patch(
            "/projects/default",
            json!({"provider_settings": {"jira": {"issue_type": null, "labels": ["x"]}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let jira = &r.body["provider_settings"]["jira"];
    assert_eq!(jira["project_key"], "SEC");
    assert!(jira.get("issue_type").is_none(), "{jira}");
    assert_eq!(jira["labels"], json!(["x"]));
    assert_eq!(jira["by_type"]["Default"]["issue_type"], "Incident");

    for (body, field) in [
        (
            json!({"jira": {"project_key": "sec ops"}}),
            "provider_settings.jira.project_key",
        ),
        (
            json!({"jira": {"custom_fields": {"priority": "Priority"}}}),
            "provider_settings.jira.custom_fields.priority",
        ),
        (
            json!({"jira": {"projectkey": "SEC"}}),
            "provider_settings.jira",
        ),
        (json!({"zoom": {"passcode": "1"}}), "provider_settings.zoom"),
        (json!(["jira"]), "provider_settings"),
    ] {
        let r = app
            .patch(
                "/projects/default",
                json!({"provider_settings": body, "name": "Renamed"}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            r.body
        );
        assert!(
            r.body["error"]["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["field"] == field),
            "{field}: {:?}",
            r.body
        );
    }
    // Nothing half-written.
    let p = app.get("/projects/default").await.body;
    assert_eq!(p["name"], "Default");
    assert_eq!(p["provider_settings"]["jira"]["project_key"], "SEC");

    // The incident type's override is what its issue gets.
    declare(&app, "Typed").await;
    app.run_pending_jobs().await;
    let issues = j.issues();
    assert_eq!(issues.len(), 1, "{:?}", j.requests());
    assert_eq!(issues[0].key, "SEC-1");
    assert_eq!(issues[0].fields["issuetype"]["name"], "Incident");
    assert_eq!(issues[0].fields["labels"][0], "x");
}

#[tokio::test]
async fn an_incident_may_take_its_issue_s_key_as_its_name_and_keeps_answering_to_the_old_one() {
    let j = Jira::start().await;
    let app = spawn(&j).await;
    let r = app
        .patch(
            "/projects/default",
            json!({"provider_settings": {"jira": {"name_follows_key": true}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let first = declare(&app, "Named after its ticket").await;
    app.run_pending_jobs().await;
    let inc = app.get(&format!("/incidents/{first}")).await;
    assert_eq!(inc.status, StatusCode::OK, "the old name still finds it");
    assert_eq!(inc.body["name"], "OPS-1", "{}", inc.body);
    let renamed = app.get("/incidents/OPS-1").await;
    assert_eq!(renamed.body["id"], inc.body["id"]);
    // The timeline says so, and the issue's description links to the new name.
    let timeline = app.get("/incidents/OPS-1/timeline").await.body.to_string();
    assert!(timeline.contains("OPS-1"), "{timeline}");
    let description = j.issues()[0].fields["description"].to_string();
    assert!(description.contains("/incidents/OPS-1"), "{description}");
    // Commands work under the new name.
    let r = app
        .call(
            Method::POST,
            "/incidents/OPS-1/close",
            Some(json!({"resolution": "Done."})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["name"], "OPS-1");

    // A key one of our own projects would give (a project with the prefix OPS) is not taken:
    // the incident keeps its own name.
    let r = app
        .post(
            "/projects",
            json!({"name": "Operations", "key_prefix": "OPS"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let plain = declare(&app, "Keeps its name").await;
    app.run_pending_jobs().await;
    assert_eq!(j.issues().len(), 2);
    assert_eq!(
        app.get(&format!("/incidents/{plain}")).await.body["name"],
        plain.as_str()
    );
}
