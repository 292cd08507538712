//! Google Workspace end to end against the emulator: a declare makes the incident's Drive folder
//! (in the configured folder), the incident document as a filled copy of its template in that
//! folder and the responders' Google Group; people who join get folder access (writer, or
//! commenter for observers) and group membership, people who leave leave the group; the title
//! follows into the folder's name; closing moves the folder to the archive, makes the documents
//! read-only, deletes the groups and fills the review document's timeline. The notifications
//! group beside the responders' group follows the incident's notifications group and the
//! e-mail notification rules that match it. A 429 is waited out;
//! a template the account cannot read fails the document with a message naming the template and
//! what to do; a scope not delegated fails the check with the console setting to change.

use crate::common::TestApp;
use crate::emulators::google::{
    Google, ARCHIVE_FOLDER, DELEGATED, DOMAIN, KEY_FILE, PARENT_FOLDER, SUBJECT,
};
use dispatch::config::Config;
use dispatch::google_config::GoogleConfig;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const INCIDENT_TEMPLATE: &str = "# {{name}}: {{title}}\nStatus: {{status}}\nCommander: {{commander}}\nNeeds: {{needs}}\nKept as written: {{nope}}\n";

fn config(g: &Google) -> GoogleConfig {
    GoogleConfig {
        service_account_key: KEY_FILE.into(),
        subject: SUBJECT.into(),
        folder_id: PARENT_FOLDER.into(),
        folder_on_close: "archive".into(),
        archive_folder_id: ARCHIVE_FOLDER.into(),
        template_incident: "tpl-incident".into(),
        template_review: "tpl-review".into(),
        template_executive: "tpl-executive".into(),
        group_domain: DOMAIN.into(),
        group_on_close: "delete".into(),
        token_url: g.token_url.clone(),
        drive_url: g.drive_url.clone(),
        docs_url: g.docs_url.clone(),
        directory_url: g.directory_url.clone(),
        ..Default::default()
    }
}

async fn spawn(google: GoogleConfig, expect_failure: Option<&'static str>) -> TestApp {
    spawn_with(google, &["storage", "document", "group"], expect_failure).await
}

/// The app with Google configured, the server's default for `capabilities`.
async fn spawn_with(
    google: GoogleConfig,
    capabilities: &[&str],
    expect_failure: Option<&'static str>,
) -> TestApp {
    let mut cfg = Config {
        google,
        ..Default::default()
    };
    for capability in capabilities {
        cfg.providers
            .insert(capability.to_string(), "google".into());
    }
    let mut b = TestApp::builder().registry(move |_, r| {
        dispatch::server::add_vendor_providers(r, &cfg).expect("Google settings");
        cfg.apply_provider_defaults(r).expect("defaults");
    });
    if let Some(reason) = expect_failure {
        b = b.expect_failed_jobs(reason);
    }
    b.spawn().await
}

async fn resource(app: &TestApp, name: &str, kind: &str) -> Value {
    let detail = app.get(&format!("/incidents/{name}")).await.body;
    detail["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind)
        .cloned()
        .unwrap_or(Value::Null)
}

fn templates(g: &Google) {
    g.add_template("tpl-incident", "Incident template", INCIDENT_TEMPLATE, true);
    g.add_template(
        "tpl-review",
        "Review template",
        "Review of {{name}}\nResolution: {{resolution}}\n{{timeline}}\n",
        true,
    );
    g.add_template(
        "tpl-executive",
        "Executive template",
        "{{name}} for executives: {{current_status}}\n",
        true,
    );
}

#[tokio::test]
async fn a_declare_with_google_makes_a_shared_folder_a_filled_document_and_a_group_and_close_archives_them(
) {
    let g = Google::start().await;
    templates(&g);
    let app = spawn(config(&g), None).await;
    let name = app.declare("Checkout latency above SLO").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_pending_jobs().await;

    // The folder, in the configured folder, linked as the storage resource.
    let folder = g.file_of("storage").expect("a folder");
    assert_eq!(folder.mime, "application/vnd.google-apps.folder");
    assert_eq!(folder.parents, [PARENT_FOLDER]);
    assert_eq!(folder.name, format!("{name}: Checkout latency above SLO"));
    let storage = resource(&app, &name, "storage").await;
    assert_eq!(storage["status"], "ready", "{storage}");
    assert_eq!(storage["provider"], "google");
    assert_eq!(storage["external_id"], folder.id);
    assert_eq!(
        storage["link"],
        format!("https://drive.google.com/drive/folders/{}", folder.id)
    );

    // The incident document: a copy of its template in the folder, placeholders filled.
    let doc = g.file_of("document").expect("a document");
    assert_eq!(doc.parents, std::slice::from_ref(&folder.id));
    assert!(
        doc.text.starts_with(&format!(
            "# {name}: Checkout latency above SLO\nStatus: active\nCommander: "
        )) && doc.text.ends_with(&format!(
            " <{SUBJECT}>\nNeeds: No report yet.\nKept as written: {{{{nope}}}}\n"
        )),
        "{}",
        doc.text
    );
    let d = resource(&app, &name, "document").await;
    assert_eq!(d["status"], "ready", "{d}");
    assert_eq!(
        d["link"],
        format!("https://docs.google.com/document/d/{}/edit", doc.id)
    );

    // The responders' group, with the commander in it, and the stakeholders' group beside it;
    // both have access to the folder.
    let group_email = format!("{}-responders@{DOMAIN}", name.to_lowercase());
    let notifications_email = format!("{}-notifications@{DOMAIN}", name.to_lowercase());
    let mut emails: Vec<String> = g.groups().into_iter().map(|g| g.email).collect();
    emails.sort();
    assert_eq!(emails, [notifications_email.clone(), group_email.clone()]);
    assert_eq!(g.group(&group_email).unwrap().members, [SUBJECT]);
    assert!(g.group(&notifications_email).unwrap().members.is_empty());
    let gr = resource(&app, &name, "group").await;
    assert_eq!(gr["status"], "ready", "{gr}");
    assert_eq!(gr["external_id"], group_email);
    let access = |email: &str| {
        g.file_of("storage")
            .unwrap()
            .permissions
            .into_iter()
            .find(|p| p.email == email)
            .map(|p| (p.kind, p.role))
    };
    assert_eq!(
        access(&group_email),
        Some(("group".to_string(), "writer".to_string()))
    );
    assert_eq!(
        access(&notifications_email),
        Some(("group".to_string(), "reader".to_string()))
    );

    // People who join get access (no notification mail) and membership.
    app.give_role(&name, "bea@example.com", "participant").await;
    app.give_role(&name, "olive@example.com", "observer").await;
    app.run_pending_jobs().await;
    let folder = g.file_of("storage").unwrap();
    let role = |email: &str| {
        folder
            .permissions
            .iter()
            .find(|p| p.email == email)
            .map(|p| (p.role.clone(), p.notified))
    };
    assert_eq!(role("bea@example.com"), Some(("writer".into(), false)));
    assert_eq!(role("olive@example.com"), Some(("commenter".into(), false)));
    assert_eq!(role(SUBJECT), Some(("owner".into(), false)));
    let mut members = g.group(&group_email).unwrap().members;
    members.sort();
    assert_eq!(
        members,
        ["admin@example.com", "bea@example.com", "olive@example.com"]
    );
    // A person who leaves leaves the group; a new title renames the folder.
    app.remove_participant(&name, "olive@example.com").await;
    let r = app
        .patch(
            &format!("/incidents/{name}"),
            json!({"title": "Checkout down"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    assert!(!g
        .group(&group_email)
        .unwrap()
        .members
        .contains(&"olive@example.com".to_string()));
    assert_eq!(
        g.file_of("storage").unwrap().name,
        format!("{name}: Checkout down")
    );
    // The document is kept current: the new title, and a report's needs, where the old values
    // were, however the text before them was edited.
    let r = app
        .post(
            &format!("/incidents/{name}/reports"),
            json!({"kind": "tactical", "conditions": "EU down", "actions": "failing over",
                   "needs": "A DBA"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    app.run_pending_jobs().await;
    let doc = g.file_of("document").unwrap();
    assert!(
        doc.text
            .starts_with(&format!("# {name}: Checkout down\nStatus: active\n"))
            && doc
                .text
                .contains("\nNeeds: A DBA\nKept as written: {{nope}}\n"),
        "{}",
        doc.text
    );
    let names: Vec<String> = g
        .named_ranges(&doc.id)
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert!(names.contains(&"dispatch.title".to_string()), "{names:?}");

    // Close: archived folder, read-only documents, the group deleted, the review filled.
    let r = app
        .call(Method::POST, &format!("/incidents/{name}/close"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    let folder = g.file_of("storage").unwrap();
    assert_eq!(folder.parents, [ARCHIVE_FOLDER], "moved to the archive");
    assert!(g.file_of("document").unwrap().read_only);
    assert!(g.groups().is_empty(), "both groups are deleted on close");
    let review = g.file_of("review_document").expect("the review document");
    assert!(
        review.text.starts_with(&format!("Review of {name}\n")) && !review.text.contains("{{"),
        "{}",
        review.text
    );
    assert!(review.text.contains("UTC"), "the timeline: {}", review.text);
    // One token per set of scopes served every call.
    let tokens = g
        .requests()
        .iter()
        .filter(|r| r.starts_with("POST /token"))
        .count();
    assert_eq!(tokens, 3, "{:?}", g.requests());
}

#[tokio::test]
async fn a_rate_limited_google_call_is_sent_again_after_retry_after() {
    let g = Google::start().await;
    templates(&g);
    let app = spawn(config(&g), None).await;
    g.faults().rate_limit_next(1);
    let name = app.declare("Slow").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_pending_jobs().await;
    for kind in ["group", "storage", "document"] {
        assert_eq!(resource(&app, &name, kind).await["status"], "ready");
    }
    let log = g.requests();
    assert!(
        log.windows(2)
            .any(|w| w[0] == w[1] && !w[0].starts_with("POST /token")),
        "the limited request was sent again: {log:?}"
    );
}

#[tokio::test]
async fn a_template_the_account_cannot_read_fails_the_document_saying_what_to_fix() {
    let g = Google::start().await;
    g.add_template("tpl-incident", "Private", INCIDENT_TEMPLATE, false);
    let app = spawn(
        config(&g),
        Some("the incident template is not shared with the account"),
    )
    .await;
    let name = app.declare("No document").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_pending_jobs().await;
    let d = resource(&app, &name, "document").await;
    assert_eq!(d["status"], "failed", "{d}");
    let e = d["error"].as_str().unwrap_or_default();
    for needle in [
        "tpl-incident",
        "DISPATCH_GOOGLE_TEMPLATE_INCIDENT",
        "File not found: tpl-incident.",
        "share the document with admin@example.com",
        "https://docs.google.com/document/d/tpl-incident/edit",
    ] {
        assert!(e.contains(needle), "{needle:?} in {e}");
    }
    assert_eq!(resource(&app, &name, "storage").await["status"], "ready");

    // The check says the same, and a scope not delegated names the console setting.
    g.delegate(&DELEGATED[..2]);
    let r = app.get("/providers/check").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let rows = r.body.as_array().unwrap();
    let row = |cap: &str| {
        rows.iter()
            .find(|r| r["provider"] == "google" && r["capability"] == cap)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(row("storage")["ok"], true, "{rows:?}");
    let doc = row("document")["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(doc.contains("tpl-incident"), "{rows:?}");
    let group = row("group")["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        group.contains("Domain-wide delegation") && group.contains("unauthorized_client"),
        "{rows:?}"
    );
}

#[tokio::test]
async fn the_notifications_google_group_follows_the_notifications_group_and_the_rules() {
    let g = Google::start().await;
    templates(&g);
    // Every listing answers one item a page: Dispatch follows the pageToken.
    g.page_size(1);
    let app = spawn(config(&g), None).await;
    let r = app
        .post(
            "/notification-rules",
            json!({"name": "executives", "filter": "all", "target_kind": "email",
                   "target": "Exec-List@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let name = app.declare("Payments slow").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_pending_jobs().await;
    let notifications = format!("{}-notifications@{DOMAIN}", name.to_lowercase());
    let members = || {
        let mut m = g.group(&notifications).expect("the group").members;
        m.sort();
        m
    };
    assert_eq!(members(), ["exec-list@example.com"]);

    let edit = |text: &'static str| {
        let app = &app;
        let name = name.clone();
        async move {
            let r = app
                .post(
                    &format!("/incidents/{name}/commands"),
                    json!({ "text": text }),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{text}: {:?}", r.body);
            app.run_pending_jobs().await;
        }
    };
    edit("/dispatch-notifications-group add vp@example.com cfo@example.com").await;
    assert_eq!(
        members(),
        ["cfo@example.com", "exec-list@example.com", "vp@example.com"]
    );
    edit("/dispatch-notifications-group remove cfo@example.com").await;
    assert_eq!(members(), ["exec-list@example.com", "vp@example.com"]);
    // The people in the incident are in the responders' group, not in this one.
    assert!(!members().contains(&SUBJECT.to_string()));
    let log = g.requests();
    assert!(
        log.iter()
            .any(|r| r.contains("/members?") && r.contains("pageToken=page-2")),
        "members read page by page: {log:?}"
    );
    // Each edit added or removed only the difference.
    let inserts = log
        .iter()
        .filter(|r| r.starts_with("POST") && r.contains("-notifications@example.com/members"))
        .count();
    assert_eq!(inserts, 3, "{log:?}");
}

#[tokio::test]
async fn an_incident_type_whose_template_is_a_google_docs_link_gets_a_copy_of_that_document() {
    let g = Google::start().await;
    templates(&g);
    g.add_template(
        "tpl-security",
        "Security template",
        "Security incident {{name}}, led by {{commander}}\n",
        true,
    );
    let app = spawn(config(&g), None).await;
    let t = app
        .post(
            "/projects/default/incident-types",
            json!({"name": "Security", "default_visibility": "open",
                   "incident_template": "https://docs.google.com/document/d/tpl-security/edit"}),
        )
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{:?}", t.body);
    let r = app
        .post(
            "/incidents",
            json!({"title": "Phishing wave", "description": "d", "type": "security"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let name = r.body["name"].as_str().unwrap().to_string();
    app.run_pending_jobs().await;
    let doc = g.file_of("document").expect("a document");
    assert!(
        doc.text
            .starts_with(&format!("Security incident {name}, led by ")),
        "{}",
        doc.text
    );
    // Another type keeps the configured template.
    let plain = app.declare("Plain").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_pending_jobs().await;
    let other = g
        .files()
        .into_iter()
        .find(|f| {
            f.app_properties.get("dispatchKind").map(String::as_str) == Some("document")
                && f.name.starts_with(&format!("{plain} "))
        })
        .expect("the other incident's document");
    assert!(
        other.text.starts_with(&format!("# {plain}: Plain")),
        "{}",
        other.text
    );
}

#[tokio::test]
async fn an_incident_with_a_tag_that_has_a_folder_gets_its_folder_in_that_one() {
    let g = Google::start().await;
    templates(&g);
    g.add_folder("0APciFolder", "PCI incidents");
    let app = spawn(
        GoogleConfig {
            tag_folders: "PCI=0APciFolder".into(),
            ..config(&g)
        },
        None,
    )
    .await;
    let r = app
        .post(
            "/incidents",
            json!({"title": "Card data exposed", "description": "d", "tags": ["pci"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let tagged = r.body["name"].as_str().unwrap().to_string();
    let plain = app.declare("Slow search").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_pending_jobs().await;
    let folder_of = |name: &str| {
        g.files()
            .into_iter()
            .find(|f| {
                f.app_properties.get("dispatchKind").map(String::as_str) == Some("storage")
                    && f.name.starts_with(&format!("{name}: "))
            })
            .map(|f| f.parents)
    };
    assert_eq!(folder_of(&tagged), Some(vec!["0APciFolder".to_string()]));
    assert_eq!(folder_of(&plain), Some(vec![PARENT_FOLDER.to_string()]));
}

#[tokio::test]
async fn a_parent_folder_the_subject_cannot_use_fails_the_folder_with_the_setting_and_its_link() {
    let g = Google::start().await;
    templates(&g);
    let app = spawn(
        GoogleConfig {
            folder_id: "0ANotShared".into(),
            ..config(&g)
        },
        Some("the parent folder is not shared with the subject"),
    )
    .await;
    let name = app.declare("Nowhere to go").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_pending_jobs().await;
    let s = resource(&app, &name, "storage").await;
    assert_eq!(s["status"], "failed", "{s}");
    let e = s["error"].as_str().unwrap_or_default();
    for needle in [
        "the folder 0ANotShared cannot be added to by admin@example.com",
        "File not found: 0ANotShared.",
        "DISPATCH_GOOGLE_FOLDER_ID",
        "https://drive.google.com/drive/folders/0ANotShared",
    ] {
        assert!(e.contains(needle), "{needle:?} in {e}");
    }
    assert!(g.file_of("storage").is_none(), "no folder was made");
}

#[tokio::test]
async fn a_project_that_chooses_google_storage_gets_drive_folders_and_the_others_do_not() {
    let g = Google::start().await;
    templates(&g);
    let app = spawn_with(config(&g), &[], None).await;
    let r = app
        .post(
            "/projects",
            json!({"name": "Payments", "key_prefix": "PAY"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = app
        .patch(
            "/projects/payments",
            json!({"providers": {"storage": "google"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app
        .post(
            "/incidents",
            json!({"title": "Refunds stuck", "description": "d", "project": "payments"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let chosen = r.body["name"].as_str().unwrap().to_string();
    let other = app.declare("Default project").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_pending_jobs().await;
    let s = resource(&app, &chosen, "storage").await;
    assert_eq!(s["provider"], "google", "{s}");
    assert_eq!(s["external_id"], g.file_of("storage").unwrap().id);
    assert_ne!(
        resource(&app, &chosen, "document").await["provider"],
        "google"
    );
    assert_ne!(
        resource(&app, &other, "storage").await["provider"],
        "google"
    );
    assert!(g.groups().is_empty());
}

#[tokio::test]
async fn with_revoke_closing_takes_everyones_access_to_the_folder_but_the_owners() {
    let g = Google::start().await;
    templates(&g);
    let app = spawn(
        GoogleConfig {
            folder_on_close: "revoke".into(),
            group_on_close: "keep".into(),
            ..config(&g)
        },
        None,
    )
    .await;
    let name = app.declare("Leaky bucket").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    app.give_role(&name, "bea@example.com", "participant").await;
    app.run_pending_jobs().await;
    let who = || {
        let mut w: Vec<(String, String)> = g
            .file_of("storage")
            .unwrap()
            .permissions
            .into_iter()
            .map(|p| (p.email, p.role))
            .collect();
        w.sort();
        w
    };
    assert_eq!(who().len(), 4, "owner, bea and the two groups: {:?}", who());
    let r = app
        .call(Method::POST, &format!("/incidents/{name}/close"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    assert_eq!(who(), [(SUBJECT.to_string(), "owner".to_string())]);
    assert_eq!(g.file_of("storage").unwrap().parents, [PARENT_FOLDER]);
    assert_eq!(g.groups().len(), 2, "groups are kept");
}
