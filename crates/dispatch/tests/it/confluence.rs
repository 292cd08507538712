//! Confluence end to end against the emulator: a declare makes the incident page from its
//! template page (placeholders filled, values XML-escaped) under the configured parent; a title
//! change updates it (a 409 re-reads and retries); the executive and review pages come from
//! theirs; close restricts edits to the bot and re-open lifts it; a page a person edited is
//! theirs; a retried create finds the page instead of making a second; `providers check` and
//! bad credentials name the settings. As the storage provider, the incident page's attachments
//! are the incident's files: an upload is attached by a job (the same name again: a new
//! version of that attachment), through 429s.

use crate::common::TestApp;
use crate::emulators::confluence::{Confluence, ACCOUNT_ID, API_TOKEN, EMAIL, SPACE_ID};
use dispatch::config::Config;
use dispatch::confluence_config::ConfluenceConfig;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// The emulator with a parent page and three template pages; the configuration using them.
fn setup(c: &Confluence, token: &str) -> ConfluenceConfig {
    let parent = c.add_page("Incidents", "<p>All incidents</p>");
    let incident = c.add_page(
        "Template: incident",
        "<h1>{{name}}: {{title}}</h1><p>Status: {{status}}</p><p>{{description}}</p>",
    );
    let review = c.add_page(
        "Template: review",
        "<h1>Review of {{name}}</h1><p>{{resolution}}</p>",
    );
    let executive = c.add_page(
        "Template: executive {{name}}",
        "<p>Overview: {{overview}}</p><p>Next: {{next_steps}}</p>",
    );
    ConfluenceConfig {
        url: format!("{}/wiki", c.url),
        email: EMAIL.into(),
        api_token: token.into(),
        space_id: SPACE_ID.into(),
        parent_id: parent,
        template_incident: incident,
        template_review: review,
        template_executive: executive,
    }
}

async fn spawn(confluence: ConfluenceConfig) -> TestApp {
    let mut cfg = Config {
        confluence,
        ..Default::default()
    };
    cfg.providers.insert("document".into(), "confluence".into());
    crate::common::spawn_with_vendors(cfg).await
}

fn count(c: &Confluence, prefix: &str) -> usize {
    crate::emulators::count_starting(&c.requests(), prefix)
}

#[tokio::test]
async fn incident_review_and_executive_pages_follow_the_incident_and_lock_on_close() {
    let c = Confluence::start().await;
    let cfg = setup(&c, API_TOKEN);
    let parent = cfg.parent_id.clone();
    let app = spawn(cfg).await;
    c.faults().rate_limit_next(1);
    let r = app
        .post(
            "/incidents",
            json!({"title": "Checkout <slow> & sad", "description": "p99 4s\nsince 10:00", "priority": "high"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let name = r.body["name"].as_str().unwrap().to_string();
    app.run_pending_jobs().await;

    let title = format!("{name}: Checkout <slow> & sad — Incident document");
    let page = c.page_titled(&title).expect("the incident page");
    assert_eq!(page.parent_id.as_deref(), Some(parent.as_str()));
    assert_eq!(
        page.body,
        format!("<h1>{name}: Checkout &lt;slow&gt; &amp; sad</h1><p>Status: active</p><p>p99 4s<br />since 10:00</p>")
    );
    let doc = app.resource(&name, "document").await;
    assert_eq!(doc["status"], "ready", "{doc}");
    assert_eq!(doc["provider"], "confluence");
    assert_eq!(doc["external_id"], format!("{}:document", page.id));
    let link = doc["link"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("{}/wiki/spaces/OPS/pages/{}/", c.url, page.id)),
        "{link}"
    );
    // The space was searched for the title before the page was made.
    let asked = c.requests();
    let look = asked
        .iter()
        .position(|r| r.starts_with("GET /wiki/api/v2/pages?") && r.contains("title="))
        .unwrap();
    let made = asked
        .iter()
        .position(|r| r == "POST /wiki/api/v2/pages")
        .unwrap();
    assert!(look < made, "{asked:?}");

    // A new title: the page follows, through one 409 (someone saved in between).
    c.conflict_next(1);
    let r = app
        .patch(
            &format!("/incidents/{name}"),
            json!({"title": "Checkout down"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    let now = c.pages().into_iter().find(|p| p.id == page.id).unwrap();
    assert_eq!(
        now.title,
        format!("{name}: Checkout down — Incident document")
    );
    assert!(now.body.contains("Checkout down</h1>"), "{}", now.body);
    assert_eq!(now.version, 3, "one save by someone else, one by Dispatch");
    assert!(count(&c, &format!("PUT /wiki/api/v2/pages/{}", page.id)) >= 2);

    // An executive report makes the executive page, titled by its template's title.
    let r = app
        .post(
            &format!("/incidents/{name}/reports"),
            json!({"kind": "executive", "current_status": "degraded", "overview": "EU checkout <50%", "next_steps": "fail over"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    app.run_pending_jobs().await;
    let exec = c
        .page_titled(&format!("Template: executive {name}"))
        .expect("the executive page");
    assert_eq!(
        exec.body,
        "<p>Overview: EU checkout &lt;50%</p><p>Next: fail over</p>"
    );
    assert_eq!(
        app.resource(&name, "executive_document").await["external_id"],
        format!("{}:executive_document", exec.id)
    );

    // Close: the review page is made, and every page is editable by the bot alone.
    let r = app
        .call(
            Method::POST,
            &format!("/incidents/{name}/close"),
            Some(json!({"resolution": "Rolled back"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    let review = c
        .page_titled(&format!("{name}: Checkout down — Post-incident review"))
        .expect("the review page");
    assert!(review.body.contains("Rolled back"), "{}", review.body);
    for id in [&page.id, &exec.id] {
        let p = c.pages().into_iter().find(|p| &p.id == id).unwrap();
        assert_eq!(p.update_restricted_to, [ACCOUNT_ID], "page {id} is locked");
    }

    // Re-open: the restriction is lifted.
    let r = app
        .call(Method::POST, &format!("/incidents/{name}/reopen"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    let p = c.pages().into_iter().find(|p| p.id == page.id).unwrap();
    assert!(p.update_restricted_to.is_empty(), "{p:?}");
    assert_eq!(
        count(&c, "POST /wiki/api/v2/pages"),
        3,
        "one page per document"
    );
    // One look-up of the bot's account served every call.
    assert_eq!(count(&c, "GET /wiki/rest/api/user/current"), 1);
}

#[tokio::test]
async fn a_page_a_person_edited_is_left_alone_and_a_retried_create_finds_the_page() {
    let c = Confluence::start().await;
    let mut cfg = setup(&c, API_TOKEN);
    // No template page for the incident document: Dispatch's own, in storage format.
    cfg.template_incident = String::new();
    let app = spawn(cfg).await;
    let name = app.declare("Search is slow").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_pending_jobs().await;
    let page = c
        .page_titled(&format!("{name}: Search is slow"))
        .expect("the page");
    assert!(
        page.body
            .starts_with(&format!("<h1>{name}: Search is slow</h1><table><tbody>")),
        "{}",
        page.body
    );
    // A second create for the same incident (a retried job) finds the page.
    let confluence = app
        .engine
        .registry()
        .document
        .find("confluence")
        .unwrap()
        .clone();
    let ctx = crate::common::incident_context(&name, "Search is slow");
    let again = confluence
        .create(
            "k",
            dispatch_core::ResourceKind::Document,
            dispatch_core::template::INCIDENT_DOCUMENT,
            &ctx,
        )
        .await
        .unwrap();
    assert_eq!(again.external_id, format!("{}:document", page.id));
    assert_eq!(count(&c, "POST /wiki/api/v2/pages"), 1);

    // A person edits the page: from then on it is theirs.
    c.edit_as_person(&page.id, "<p>Our own notes</p>");
    let r = app
        .patch(
            &format!("/incidents/{name}"),
            json!({"title": "Search is down"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    let p = c.pages().into_iter().find(|p| p.id == page.id).unwrap();
    assert_eq!(p.body, "<p>Our own notes</p>");
    assert_eq!(count(&c, &format!("PUT /wiki/api/v2/pages/{}", page.id)), 0);
}

#[tokio::test]
async fn bad_confluence_credentials_fail_the_document_naming_the_settings() {
    let c = Confluence::start().await;
    let app = spawn(setup(&c, "wrong")).await;
    app.expect_failed_jobs("Confluence refuses the token, so no page can be made");
    let name = app.declare("No pages").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_pending_jobs().await;
    let d = app.resource(&name, "document").await;
    assert_eq!(d["status"], "failed", "{d}");
    let e = d["error"].as_str().unwrap_or_default();
    assert!(
        e.contains("DISPATCH_CONFLUENCE_API_TOKEN") && e.contains("401"),
        "{e}"
    );
    assert_eq!(count(&c, "POST /wiki/api/v2/pages"), 0);
    // The check says the same.
    let r = app.get("/providers/check").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let row = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["provider"] == "confluence" && r["capability"] == "document")
        .cloned()
        .expect("Confluence is checked");
    assert_eq!(
        (row["capability"].as_str(), row["ok"].as_bool()),
        (Some("document"), Some(false))
    );
    assert!(
        row["message"]
            .as_str()
            .unwrap()
            .contains("DISPATCH_CONFLUENCE_API_TOKEN"),
        "{row}"
    );
}

#[tokio::test]
async fn providers_check_reads_the_confluence_account_space_and_templates() {
    let c = Confluence::start().await;
    let cfg = setup(&c, API_TOKEN);
    let app = crate::common::spawn_app().await;
    let env = vec![
        ("DISPATCH_CONFLUENCE_URL", cfg.url.clone()),
        ("DISPATCH_CONFLUENCE_EMAIL", cfg.email.clone()),
        ("DISPATCH_CONFLUENCE_API_TOKEN", cfg.api_token.clone()),
        ("DISPATCH_CONFLUENCE_SPACE_ID", cfg.space_id.clone()),
        ("DISPATCH_CONFLUENCE_PARENT_ID", cfg.parent_id.clone()),
        (
            "DISPATCH_CONFLUENCE_TEMPLATE_INCIDENT",
            cfg.template_incident.clone(),
        ),
        (
            "DISPATCH_CONFLUENCE_TEMPLATE_REVIEW",
            cfg.template_review.clone(),
        ),
        (
            "DISPATCH_CONFLUENCE_TEMPLATE_EXECUTIVE",
            cfg.template_executive.clone(),
        ),
    ];
    let (ok, out, err) = crate::provider_checks::check_cli(&app, env).await;
    assert!(ok, "{out}\n{err}");
    let line = "OK     confluence (document): signed in as Dispatch Bot; space OPS (Operations); 3 template page(s) readable";
    assert!(out.contains(line), "{line:?} in\n{out}");
    let line = "OK     confluence (storage): signed in as Dispatch Bot; space OPS (Operations); 3 template page(s) readable";
    assert!(out.contains(line), "{line:?} in\n{out}");
    // Once as the document provider, once as the storage provider.
    assert_eq!(count(&c, &format!("GET /wiki/api/v2/spaces/{SPACE_ID}")), 2);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn files_attached_to_an_incident_become_attachments_of_its_page() {
    let c = Confluence::start().await;
    let mut cfg = Config {
        confluence: setup(&c, API_TOKEN),
        ..Default::default()
    };
    cfg.providers.insert("document".into(), "confluence".into());
    cfg.providers.insert("storage".into(), "confluence".into());
    let app = crate::common::spawn_with_vendors(cfg).await;
    let name = app.declare("Payments failing").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_pending_jobs().await;

    // The storage is the incident page, the same page as the incident document.
    let page = c
        .page_titled(&format!("{name}: Payments failing — Incident document"))
        .expect("the incident page");
    assert_eq!(count(&c, "POST /wiki/api/v2/pages"), 1, "one page for both");
    let storage = app.resource(&name, "storage").await;
    assert_eq!(storage["status"], "ready", "{storage}");
    assert_eq!(storage["provider"], "confluence");
    assert_eq!(storage["external_id"], page.id.as_str());
    assert_eq!(
        storage["link"],
        format!(
            "{}/wiki/pages/viewpageattachments.action?pageId={}",
            c.url, page.id
        )
    );
    assert_eq!(
        app.resource(&name, "document").await["external_id"],
        format!("{}:document", page.id)
    );

    // Any bytes, including ones that look like a multipart boundary.
    let upload = |data: Vec<u8>| {
        app.http
            .post(format!(
                "{}/api/v1/incidents/{name}/files?name=heap%20dump.bin",
                app.base
            ))
            .bearer_auth(&app.token)
            .header("content-type", "application/octet-stream")
            .body(data)
            .send()
    };
    let mut first: Vec<u8> = (0..=255u8).collect();
    first.extend_from_slice(b"\r\n--dispatch-attachment-00000000\r\n");
    let r = upload(first.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(
        c.attachments().is_empty(),
        "attached by a job, not in the request"
    );
    app.run_pending_jobs().await;
    let all = c.attachments();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].page_id, page.id);
    assert_eq!(all[0].title, "heap dump.bin");
    assert_eq!(all[0].media_type, "application/octet-stream");
    assert_eq!(all[0].data, first);
    assert_eq!(all[0].version, 1);

    // The same name again, through a 429: a new version of that attachment, not a second one.
    c.faults().rate_limit_next(1);
    let second = b"the second dump".to_vec();
    let r = upload(second.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    app.run_pending_jobs().await;
    let all = c.attachments();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].data, second);
    assert_eq!(all[0].version, 2);
    let attachments = format!("/wiki/rest/api/content/{}/child/attachment", page.id);
    assert_eq!(
        count(&c, &format!("GET {attachments}?filename=heap+dump.bin"))
            + count(&c, &format!("GET {attachments}?filename=heap%20dump.bin")),
        3,
        "one look-up per upload, and one more after the 429"
    );
    assert_eq!(
        count(&c, &format!("POST {attachments}/{}/data", all[0].id)),
        1
    );
    assert_eq!(
        count(&c, &format!("POST {attachments}")),
        2,
        "one add and one new version"
    );
    // Dispatch keeps its own copy too.
    let files = app.get(&format!("/incidents/{name}/files")).await.body;
    assert_eq!(files.as_array().unwrap().len(), 2, "{files}");
}
