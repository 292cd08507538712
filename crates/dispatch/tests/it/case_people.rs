//! A case's tags and people: a definition's tags reach its cases and, on escalation, the
//! incident; a case's tags are the project's, set over the API or on the case page; everyone
//! who acts on a case is recorded once; escalating hands the case's people to the incident.

use crate::common::pages::{error_beside, signed_in, Page, Session};
use crate::common::{error_fields, refused_on, spawn_app, TestApp};
use crate::signals::{alert, define, errors, notification, send};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Makes a tag of the default project.
async fn tag(app: &TestApp, name: &str) {
    let r = app
        .post("/projects/default/tags", json!({"name": name}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
}

/// A case opened by a HighErrorRate alert with this fingerprint; its id.
async fn open_case(app: &TestApp, fingerprint: &str) -> Value {
    let got = send(app, notification(vec![errors(fingerprint)])).await;
    assert_eq!(got[0]["outcome"], "new_case", "{got:#?}");
    got[0]["case_id"].clone()
}

/// The case's people as (address, reason), in the order they joined.
async fn people(app: &TestApp, case: &Value) -> Vec<(String, String)> {
    let c = app.get(&format!("/cases/{case}")).await.body;
    c["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert!(p["joined_at"].is_string(), "{p}");
            (
                p["email"].as_str().unwrap().to_string(),
                p["added_reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_definition_s_tags_reach_its_case_and_the_incident_it_is_escalated_to() {
    let app = spawn_app().await;
    tag(&app, "payments").await;
    tag(&app, "db").await;
    define(
        &app,
        json!({"name": "Errors", "source": "alertmanager",
        "match": {"alertname": "HighErrorRate"}, "tags": ["payments"]}),
    )
    .await;
    let case = open_case(&app, "t1").await;
    let c = app.get(&format!("/cases/{case}")).await.body;
    assert_eq!(c["tags"], json!(["payments"]), "{c:#}");
    let mia = signed_in(&app, "mia@example.com", "member").await;
    let p = mia.get(&app, &format!("/cases/{case}")).await;
    assert!(
        p.html.contains(r#"<span class="badge">payments</span>"#),
        "{}",
        p.html
    );
    // The list filters by tag, as the incident list does.
    let listed = app.get("/cases?tag=payments").await.body;
    assert_eq!(listed["total"], 1, "{listed:#}");
    assert_eq!(listed["items"][0]["tags"], json!(["payments"]));
    assert_eq!(app.get("/cases?tag=db").await.body["total"], 0);
    let r = app
        .post(&format!("/cases/{case}/escalate"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    assert_eq!(
        r.body["incident"]["tags"],
        json!(["payments"]),
        "{:#}",
        r.body
    );
    assert_eq!(r.body["case"]["tags"], json!(["payments"]));
    let name = r.body["incident"]["name"].as_str().unwrap().to_string();
    let inc = app.get(&format!("/incidents/{name}")).await.body;
    assert_eq!(inc["tags"], json!(["payments"]), "{inc:#}");
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn a_new_case_carries_the_tags_its_definition_names_and_skips_one_that_no_longer_resolves() {
    let app = spawn_app().await;
    app.make_tags(&["env", "team"], &["env:prod", "team:payments", "db"])
        .await;
    let stale = define(
        &app,
        json!({"name": "Errors", "source": "alertmanager",
        "match": {"alertname": "HighErrorRate"}, "tags": ["db"]}),
    )
    .await;
    define(
        &app,
        json!({"name": "Disk", "source": "alertmanager",
        "match": {"alertname": "DiskFull"}, "tags": ["env:prod", "prod"]}),
    )
    .await;
    // Saved before `type:name` was checked (plain SQL, as an old version would have stored
    // it): `prod` is an `env` tag, not a `team` one, `db` has no type, there is no `region`
    // type and no tag `gone`.
    let raw = app.db.open().await;
    let sql = format!(
        r#"UPDATE signal_definitions SET tags = '["team:prod", "env:db", "region:eu", "gone", "team:payments", "db"]' WHERE id = {}"#,
        stale["id"]
    );
    assert_eq!(dispatch_store::testing::execute(&raw, &sql).await, 1);
    // Both cases open in one batch, each with the tags its definition names.
    let disk = alert(
        "firing",
        json!({"alertname": "DiskFull", "service": "payments"}),
        "d1",
    );
    let got = send(&app, notification(vec![errors("s1"), disk])).await;
    let outcomes: Vec<&Value> = got.iter().map(|a| &a["outcome"]).collect();
    assert_eq!(
        outcomes,
        [&json!("new_case"), &json!("new_case")],
        "{got:#?}"
    );
    assert_eq!(
        tags_of(&app, &got[0]["case_id"]).await,
        json!(["db", "team:payments"])
    );
    assert_eq!(tags_of(&app, &got[1]["case_id"]).await, json!(["env:prod"]));
}

#[tokio::test]
async fn setting_a_tag_the_project_lacks_is_a_422_naming_tags_and_writes_nothing() {
    let app = spawn_app().await;
    tag(&app, "db").await;
    define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let case = open_case(&app, "t2").await;
    let bob = app.token_for("bob@example.com").await;
    let r = app
        .call_as(
            Some(&bob),
            Method::PATCH,
            &format!("/cases/{case}"),
            Some(json!({"title": "Renamed", "tags": ["db", "nope"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:#}", r.body);
    assert_eq!(error_fields(&r.body), ["tags"]);
    assert!(
        r.body["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("\"nope\""),
        "{:#}",
        r.body
    );
    // Nothing written: not the title, not a tag, not the editor, not a timeline entry, and
    // no tag "nope" made.
    let c = app.get(&format!("/cases/{case}")).await.body;
    assert_eq!(c["title"], "HighErrorRate on payments", "{c:#}");
    assert_eq!(c["tags"], json!([]));
    assert!(c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["kind"] != "case_edited"));
    assert!(!people(&app, &case)
        .await
        .iter()
        .any(|(e, _)| e == "bob@example.com"));
    let tags = app.get("/projects/default/tags").await.body;
    assert!(!tags.to_string().contains("nope"), "{tags:#}");
    // A tag the project has is set, and noted on the timeline.
    let r = app
        .call_as(
            Some(&bob),
            Method::PATCH,
            &format!("/cases/{case}"),
            Some(json!({"tags": ["db"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["tags"], json!(["db"]));
    let edited = edits(&app, &case).await;
    assert_eq!(edited.len(), 1, "{edited:#?}");
    assert_eq!(edited[0]["details"]["tags"], json!(["db"]));
    assert_eq!(
        edited[0]["description"],
        "bob@example.com set the case's tags to db"
    );
    // `null` clears them; the timeline says so, and names the set beside other fields.
    let r = app
        .patch(&format!("/cases/{case}"), json!({"tags": null}))
        .await;
    assert_eq!(r.body["tags"], json!([]), "{:#}", r.body);
    let r = app
        .patch(
            &format!("/cases/{case}"),
            json!({"title": "Renamed", "tags": ["db"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let edited = edits(&app, &case).await;
    let said: Vec<&str> = edited
        .iter()
        .map(|e| e["description"].as_str().unwrap())
        .collect();
    for want in [
        "admin@example.com removed every tag from the case",
        "admin@example.com changed the case's title and set the case's tags to db",
    ] {
        assert!(said.contains(&want), "{want:?} in {said:#?}");
    }
}

/// The case's `case_edited` timeline entries.
async fn edits(app: &TestApp, case: &Value) -> Vec<Value> {
    let c = app.get(&format!("/cases/{case}")).await.body;
    c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "case_edited")
        .cloned()
        .collect()
}

/// The tags the case API shows for a case.
async fn tags_of(app: &TestApp, case: &Value) -> Value {
    app.get(&format!("/cases/{case}")).await.body["tags"].clone()
}

/// Submits the case page's tags form with this text.
async fn submit_tags(who: &Session, app: &TestApp, case: &Value, tags: &str) -> Page {
    who.post(app, &format!("/cases/{case}/tags"), &[("tags", tags)])
        .await
}

#[tokio::test]
async fn the_case_page_adds_and_removes_tags_and_a_tag_the_project_lacks_stays_on_the_form() {
    let app = spawn_app().await;
    tag(&app, "payments").await;
    tag(&app, "db").await;
    define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let case = open_case(&app, "ui1").await;
    let (page, action) = (format!("/cases/{case}"), format!("/cases/{case}/tags"));
    let mia = signed_in(&app, "mia@example.com", "member").await;
    let p = mia.get(&app, &page).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(
        p.html.contains(&format!(r#"action="{action}""#)),
        "anyone may tag a case that has no assignee: {}",
        p.html
    );
    assert!(
        p.html.contains("The project's tags: db, payments."),
        "the form says which tags there are: {}",
        p.html
    );

    // A tag the project lacks: the field's error, what was typed kept, nothing written.
    let p = submit_tags(&mia, &app, &case, "payments, nope").await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    let e = error_beside(&p.html, "tags-tags").expect("beside the tags field");
    assert!(e.contains("nope"), "names the tag: {e}");
    assert!(p.html.contains(r#"value="payments, nope""#), "{}", p.html);
    let c = app.get(&page).await.body;
    assert_eq!(c["tags"], json!([]), "{c:#}");
    assert!(!c.to_string().contains("case_edited"), "{c:#}");

    // Added: back to the case, which shows them; the change is on its timeline.
    let p = submit_tags(&mia, &app, &case, " payments , db ").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert_eq!(p.location.as_deref(), Some(page.as_str()));
    assert_eq!(tags_of(&app, &case).await, json!(["db", "payments"]));
    let p = mia.get(&app, &page).await;
    assert!(
        p.html.contains(r#"<span class="badge">payments</span>"#),
        "{}",
        p.html
    );
    assert!(
        p.html.contains(r#"value="db, payments""#),
        "the form holds the set: {}",
        p.html
    );
    assert!(people(&app, &case)
        .await
        .contains(&("mia@example.com".into(), "edited".into())));

    // Removed: one, then all (an empty field).
    for (typed, left) in [("db", json!(["db"])), ("", json!([]))] {
        let p = submit_tags(&mia, &app, &case, typed).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{typed:?}: {}", p.html);
        assert_eq!(tags_of(&app, &case).await, left, "{typed:?}");
    }

    // Ann's case is hers to tag: Mia sees no form, and posting it anyway is refused.
    app.patch(&page, json!({"assignee": "ann@example.com"}))
        .await;
    let p = mia.get(&app, &page).await;
    assert!(!p.html.contains(r#"id="tags""#), "{}", p.html);
    let p = submit_tags(&mia, &app, &case, "db").await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.html);
    assert_eq!(tags_of(&app, &case).await, json!([]));
}

#[tokio::test]
async fn a_case_s_type_and_name_tag_must_be_of_that_type_over_the_api_and_on_the_case_page() {
    let app = spawn_app().await;
    app.make_tags(&["env", "team"], &["env:prod", "db"]).await;
    define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let case = open_case(&app, "tt1").await;
    let page = format!("/cases/{case}");
    for (wrong, right) in [("team:prod", "env:prod"), ("env:db", "\"db\"")] {
        let r = app.patch(&page, json!({"tags": ["db", wrong]})).await;
        let message = refused_on(&r, "tags");
        assert!(
            message.contains(&format!("{wrong:?}")) && message.contains(right),
            "names the tag and how to write it: {message}"
        );
    }
    assert_eq!(tags_of(&app, &case).await, json!([]), "nothing is set");
    let r = app.patch(&page, json!({"tags": ["env:prod", "db"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["tags"], json!(["db", "env:prod"]));

    let timeline = app.get(&page).await.body["timeline"].to_string();
    assert!(
        timeline.contains("admin@example.com set the case's tags to db, env:prod"),
        "the timeline names the set as the case shows it: {timeline}"
    );

    let mia = signed_in(&app, "mia@example.com", "member").await;
    let p = mia.get(&app, &page).await;
    assert!(
        p.html.contains("The project's tags: db, env:prod."),
        "the form lists the tags as it takes them: {}",
        p.html
    );
    let p = submit_tags(&mia, &app, &case, "db, team:prod").await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    let e = error_beside(&p.html, "tags-tags").expect("beside the tags field");
    assert!(e.contains("team:prod"), "names the tag: {e}");
    assert!(p.html.contains(r#"value="db, team:prod""#), "{}", p.html);
    assert_eq!(tags_of(&app, &case).await, json!(["db", "env:prod"]));
}

#[tokio::test]
async fn everyone_who_acts_on_a_case_is_recorded_once_with_when_they_joined() {
    let app = spawn_app().await;
    define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let case = open_case(&app, "p1").await;
    // Its reporter: the account that sent the alert.
    assert_eq!(
        people(&app, &case).await,
        [("admin@example.com".to_string(), "reporter".to_string())]
    );
    let bob = app.token_for("bob@example.com").await;
    let carol = app.token_for("carol@example.com").await;
    let act = |token: &str, m: Method, path: String, body: Value| {
        let token = token.to_string();
        let app = &app;
        async move {
            let r = app.call_as(Some(&token), m, &path, Some(body)).await;
            assert!(r.status.is_success(), "{path}: {:#}", r.body);
        }
    };
    act(
        &bob,
        Method::POST,
        format!("/cases/{case}/triage"),
        json!({}),
    )
    .await;
    act(
        &bob,
        Method::POST,
        format!("/cases/{case}/snooze"),
        json!({"duration": "1h"}),
    )
    .await;
    act(
        &bob,
        Method::PATCH,
        format!("/cases/{case}"),
        json!({"assignee": "ann@example.com"}),
    )
    .await;
    act(
        &carol,
        Method::POST,
        format!("/cases/{case}/room/messages"),
        json!({"text": "Looking at the dashboards"}),
    )
    .await;
    // Bob again, and Ann acting on her case: nobody twice.
    act(
        &bob,
        Method::POST,
        format!("/cases/{case}/room/messages"),
        json!({"text": "Snoozed it for an hour"}),
    )
    .await;
    let ann = app.token_for("ann@example.com").await;
    act(
        &ann,
        Method::PATCH,
        format!("/cases/{case}"),
        json!({"title": "Checkout errors"}),
    )
    .await;
    act(
        &ann,
        Method::POST,
        format!("/cases/{case}/close"),
        json!({"resolution_reason": "benign"}),
    )
    .await;
    let want = [
        ("admin@example.com", "reporter"),
        ("bob@example.com", "triage"),
        ("ann@example.com", "assignee"),
        ("carol@example.com", "message"),
    ];
    assert_eq!(
        people(&app, &case).await,
        want.map(|(e, r)| (e.to_string(), r.to_string()))
    );
    // The case page shows them.
    let mia = signed_in(&app, "mia@example.com", "member").await;
    let p = mia.get(&app, &format!("/cases/{case}")).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(p.html.contains(r#"id="case-participants""#), "{}", p.html);
    assert!(
        p.html
            .contains(r#"carol@example.com <span class="muted">— message, joined"#),
        "{}",
        p.html
    );
}

#[tokio::test]
async fn escalating_a_case_adds_its_people_to_the_incident_as_observers() {
    let app = spawn_app().await;
    define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let case = open_case(&app, "e1").await;
    let bob = app.token_for("bob@example.com").await;
    let r = app
        .call_as(
            Some(&bob),
            Method::POST,
            &format!("/cases/{case}/triage"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    app.patch(
        &format!("/cases/{case}"),
        json!({"assignee": "ann@example.com"}),
    )
    .await;
    let r = app
        .call_as(
            Some(&bob),
            Method::POST,
            &format!("/cases/{case}/escalate"),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    let name = r.body["incident"]["name"].as_str().unwrap().to_string();
    // The answer and the incident agree: the case's people are in it, each once.
    for inc in [
        r.body["incident"].clone(),
        app.get(&format!("/incidents/{name}")).await.body,
    ] {
        let parts = inc["participants"].as_array().unwrap();
        let of = |email: &str| {
            let found: Vec<&Value> = parts.iter().filter(|p| p["email"] == email).collect();
            assert_eq!(found.len(), 1, "{email} once: {inc:#}");
            found[0].clone()
        };
        // Bob escalated: he reported the incident; Ann and the alert's sender observe.
        assert!(of("bob@example.com")["roles"]
            .to_string()
            .contains("reporter"));
        let ann = of("ann@example.com");
        assert_eq!(ann["roles"], json!(["observer"]), "{inc:#}");
        assert_eq!(ann["added_reason"], format!("assignee of case {case}"));
        assert_eq!(of("admin@example.com")["roles"], json!(["observer"]));
    }
    let events = app.get(&format!("/incidents/{name}/timeline")).await.body;
    assert!(
        events.to_string().contains("participant_added"),
        "{events:#}"
    );
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn the_openapi_document_describes_a_case_s_tags_and_participants() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await.body;
    let schemas = &doc["components"]["schemas"];
    assert!(
        schemas["CaseOut"]["properties"]["tags"].is_object(),
        "{:#}",
        schemas["CaseOut"]
    );
    assert!(schemas["CasePatch"]["properties"]["tags"].is_object());
    assert!(schemas["CaseDetailOut"]
        .to_string()
        .contains("participants"));
    let p = &schemas["CaseParticipantOut"]["properties"];
    for field in ["email", "added_reason", "joined_at"] {
        assert!(p[field].is_object(), "{field}: {p:#}");
    }
    let list = doc["paths"]["/api/v1/cases"]["get"]["parameters"].to_string();
    assert!(list.contains("\"tag\""), "{list}");
}

#[tokio::test]
async fn the_alert_source_s_service_account_stays_a_case_reporter_and_is_no_incident_observer() {
    let app = spawn_app().await;
    define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let r = app
        .post(
            "/tokens",
            json!({"name": "am", "scope": "write", "service_account": "alertmanager@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    let source = r.body["token"].as_str().unwrap().to_string();
    let r = app
        .call_as(
            Some(&source),
            Method::POST,
            "/signals/alertmanager",
            Some(notification(vec![errors("svc1")])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let case = r.body["alerts"][0]["case_id"].clone();
    assert!(case.is_i64(), "{:#}", r.body);
    assert!(
        people(&app, &case)
            .await
            .contains(&("alertmanager@example.com".into(), "reporter".into())),
        "{:?}",
        people(&app, &case).await
    );
    let r = app
        .post(&format!("/cases/{case}/escalate"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    let name = r.body["incident"]["name"].as_str().unwrap().to_string();
    let inc = app.get(&format!("/incidents/{name}")).await.body;
    let emails: Vec<&str> = inc["participants"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["email"].as_str())
        .collect();
    assert!(emails.contains(&"admin@example.com"), "{inc:#}");
    assert!(!emails.contains(&"alertmanager@example.com"), "{inc:#}");
    app.run_pending_jobs().await;
}
