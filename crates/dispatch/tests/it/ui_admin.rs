//! The settings pages and the dashboard over HTTP, as a browser without JavaScript uses them:
//! admins only (members get a 403 page and no navigation entry), each form's mistakes beside
//! their fields with nothing saved, changes made through the API's own rules, and a dashboard
//! that counts only what the reader may see.

use crate::common::pages::{error_beside, signed_in, Session};
use crate::common::{spawn_app, TestApp};
use reqwest::StatusCode;
use serde_json::json;

/// Every settings address the index links to.
fn section_links(html: &str) -> Vec<String> {
    html.split(r#"href="/settings/"#)
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|s| format!("/settings/{s}"))
        .collect()
}

#[tokio::test]
async fn members_get_a_403_page_and_no_settings_entry_admins_get_every_section() {
    let app = spawn_app().await;
    let member = signed_in(&app, "mia@example.com", "member").await;
    let admin = signed_in(&app, "ada@example.com", "admin").await;

    let p = member.get(&app, "/incidents").await;
    assert!(
        !p.html.contains(r#"href="/settings""#),
        "member sees Settings"
    );
    assert!(p.html.contains(r#"href="/dashboard""#));
    for path in [
        "/settings",
        "/settings/projects",
        "/settings/engagement-rules/new",
        "/settings/users/1",
        "/settings/audit",
    ] {
        let p = member.get(&app, path).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{path}");
        assert!(p.html.contains("<html"), "{path}: an HTML page");
        assert!(p.html.contains("admin"), "{path}: says who may: {}", p.html);
    }
    let p = member
        .post(
            &app,
            "/settings/engagement-rules",
            &[
                ("name", "sneaky"),
                ("filter", "all"),
                ("individuals", "mia@example.com"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/engagement-rules").await.body, json!([]));

    let p = admin.get(&app, "/incidents").await;
    assert!(
        p.html.contains(r#"href="/settings""#),
        "admin sees Settings"
    );
    let index = admin.get(&app, "/settings").await;
    assert_eq!(index.status, StatusCode::OK);
    let links = section_links(&index.html);
    assert!(links.len() >= 16, "{links:?}");
    for link in links {
        let p = admin.get(&app, &link).await;
        assert_eq!(p.status, StatusCode::OK, "{link}: {}", p.html);
        assert!(
            p.html.contains("<table") || p.html.contains("None yet"),
            "{link}"
        );
        // Every section with a "New" button has a form that renders.
        let new = format!(r#"href="{}/new"#, link.split('?').next().unwrap());
        if let Some(at) = p.html.find(&new) {
            let href = p.html[at + 6..]
                .split('"')
                .next()
                .unwrap()
                .replace("&amp;", "&");
            let f = admin.get(&app, &href).await;
            assert_eq!(f.status, StatusCode::OK, "{href}");
            assert!(f.html.contains(r#"name="_csrf""#), "{href}");
        }
    }
}

#[tokio::test]
async fn engagement_rules_show_filter_errors_beside_the_field_and_save_nothing_until_right() {
    let app = spawn_app().await;
    let admin = signed_in(&app, "ada@example.com", "admin").await;
    let p = admin
        .post(
            &app,
            "/settings/engagement-rules?project=default",
            &[
                ("name", "Security observers"),
                ("filter", "(priority = high"),
                ("individuals", "sec@example.com, not-an-email"),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    let filter = error_beside(&p.html, "s-filter").expect("an error beside the filter");
    assert!(filter.starts_with("at position"), "{filter}");
    assert!(
        error_beside(&p.html, "s-individuals").is_some(),
        "{}",
        p.html
    );
    assert!(error_beside(&p.html, "s-name").is_none());
    // What was typed is kept.
    assert!(p.html.contains(r#"value="(priority = high""#), "{}", p.html);
    assert_eq!(app.get("/engagement-rules").await.body, json!([]));

    let p = admin
        .post(
            &app,
            "/settings/engagement-rules?project=default",
            &[
                ("name", "Security observers"),
                ("filter", "priority = high"),
                ("individuals", "sec@example.com"),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert_eq!(
        p.location.as_deref(),
        Some("/settings/engagement-rules?project=default")
    );
    let rules = app.get("/engagement-rules").await.body;
    assert_eq!(rules[0]["name"], "Security observers");
    assert_eq!(rules[0]["individuals"], json!(["sec@example.com"]));
    let id = rules[0]["id"].as_i64().unwrap();

    let list = admin.get(&app, "/settings/engagement-rules").await;
    assert!(list.html.contains("Security observers"));
    let edit = admin
        .get(
            &app,
            &format!("/settings/engagement-rules/{id}?project=default"),
        )
        .await;
    assert!(
        edit.html.contains(r#"value="priority = high""#),
        "{}",
        edit.html
    );

    // A change with a mistake keeps the rule as it was.
    let p = admin
        .post(
            &app,
            &format!("/settings/engagement-rules/{id}?project=default"),
            &[
                ("name", ""),
                ("filter", "severity ="),
                ("individuals", "sec@example.com"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_beside(&p.html, "s-filter").is_some(), "{}", p.html);
    assert!(error_beside(&p.html, "s-name").is_some(), "{}", p.html);
    let rule = app.get(&format!("/engagement-rules/{id}")).await.body;
    assert_eq!(rule["name"], "Security observers");
    assert_eq!(rule["enabled"], true);

    // Unticking "enabled" disables it; deleting removes it.
    let p = admin
        .post(
            &app,
            &format!("/settings/engagement-rules/{id}?project=default"),
            &[
                ("name", "Security observers"),
                ("filter", "priority = high or tag:team = sec"),
                ("individuals", "sec@example.com"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let rule = app.get(&format!("/engagement-rules/{id}")).await.body;
    assert_eq!(rule["enabled"], false);
    assert!(rule["filter_text"].as_str().unwrap().contains("tag:team"));
    let p = admin
        .post(
            &app,
            &format!("/settings/engagement-rules/{id}/delete?project=default"),
            &[],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/engagement-rules").await.body, json!([]));
}

#[tokio::test]
async fn projects_need_a_manager_and_choose_providers_from_the_registry() {
    let app = spawn_app().await;
    let admin = signed_in(&app, "ada@example.com", "admin").await;
    let owner = signed_in(&app, "olu@example.com", "owner").await;
    let form = [
        ("name", "Security"),
        ("key_prefix", "SEC"),
        ("allow_self_join", "on"),
        ("providers.email", "outbox"),
    ];
    // An admin is below a manager: the page refuses as the API would.
    let p = admin.post(&app, "/settings/projects", &form).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("manager"), "{}", p.html);
    assert_eq!(app.get("/projects").await.body.as_array().unwrap().len(), 1);

    // The provider choices are the registry's.
    let new = owner.get(&app, "/settings/projects/new").await;
    let providers = app.get("/providers").await.body;
    for c in providers.as_array().unwrap() {
        let cap = c["capability"].as_str().unwrap();
        assert!(
            new.html.contains(&format!(r#"name="providers.{cap}""#)),
            "{cap}"
        );
        for slug in c["providers"].as_array().unwrap() {
            assert!(new
                .html
                .contains(&format!(r#"value="{}""#, slug.as_str().unwrap())));
        }
    }
    let p = owner
        .post(
            &app,
            "/settings/projects",
            &[
                ("name", "Security"),
                ("key_prefix", "1x"),
                ("providers.email", "no-such"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error_beside(&p.html, "s-key_prefix").is_some(),
        "{}",
        p.html
    );
    assert!(
        error_beside(&p.html, "s-providers-email").is_some(),
        "{}",
        p.html
    );
    assert_eq!(app.get("/projects").await.body.as_array().unwrap().len(), 1);

    let email_slug = providers
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["capability"] == "email")
        .and_then(|c| c["providers"][0].as_str())
        .unwrap()
        .to_string();
    let p = owner
        .post(
            &app,
            "/settings/projects",
            &[
                ("name", "Security"),
                ("key_prefix", "SEC"),
                ("providers.email", &email_slug),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let sec = app.get("/projects/security").await.body;
    assert_eq!(sec["providers"]["email"], email_slug.as_str());
    assert_eq!(sec["allow_self_join"], false);
    // The edit form starts from what is stored, and the list shows the effective providers.
    let edit = owner.get(&app, "/settings/projects/security").await;
    assert!(edit.html.contains(r#"value="SEC""#));
    let list = owner.get(&app, "/settings/projects").await;
    assert!(
        list.html.contains(&format!("email: {email_slug}")),
        "{}",
        list.html
    );

    // Its taxonomies are a click away; a priority with a taken name is refused.
    let p = admin
        .post(
            &app,
            "/settings/incident-priorities?project=security",
            &[("name", "Urgent"), ("enabled", "on"), ("view_order", "x")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error_beside(&p.html, "s-view_order").is_some(),
        "{}",
        p.html
    );
    let p = admin
        .post(
            &app,
            "/settings/incident-priorities?project=security",
            &[("name", "Urgent"), ("enabled", "on"), ("view_order", "9")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let list = admin
        .get(&app, "/settings/incident-priorities?project=security")
        .await;
    assert!(list.html.contains("Urgent"));
    let p = admin
        .post(
            &app,
            "/settings/incident-priorities?project=security",
            &[("name", "Urgent"), ("enabled", "on")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
}

#[tokio::test]
async fn incident_type_templates_and_the_directory_are_edited_in_place() {
    let app = spawn_app().await;
    let admin = signed_in(&app, "ada@example.com", "admin").await;
    let types = app.get("/projects/default/incident-types").await.body;
    let t = &types[0];
    let id = t["id"].as_i64().unwrap();
    let name = t["name"].as_str().unwrap();
    let path = format!("/settings/incident-types/{id}?project=default");
    let edit = admin.get(&app, &path).await;
    assert!(edit.html.contains("Incident document template"));
    let p = admin
        .post(
            &app,
            &path,
            &[
                ("name", name),
                ("default_visibility", "sometimes"),
                ("incident_template", "# {{name}}"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error_beside(&p.html, "s-default_visibility").is_some(),
        "{}",
        p.html
    );
    let after = app
        .get(&format!("/projects/default/incident-types/{id}"))
        .await
        .body;
    assert_eq!(after["incident_template"], t["incident_template"]);
    let p = admin
        .post(
            &app,
            &path,
            &[
                ("name", name),
                ("default_visibility", "open"),
                ("enabled", "on"),
                ("default", if t["default"] == true { "on" } else { "" }),
                ("incident_template", "# {{name}}\n\n{{title}}"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let after = app
        .get(&format!("/projects/default/incident-types/{id}"))
        .await
        .body;
    assert_eq!(after["incident_template"], "# {{name}}\n\n{{title}}");

    // A service with a rotation.
    let p = admin
        .post(
            &app,
            "/settings/services?project=default",
            &[("name", "Payments"), ("is_active", "on")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let svc = app.get("/projects/default/services").await.body[0].clone();
    let sid = svc["id"].as_i64().unwrap();
    let rot = format!("/settings/rotations/{sid}?project=default");
    let p = admin
        .post(
            &app,
            &rot,
            &[("members", "ann@example.com, bad"), ("shift_hours", "24")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_beside(&p.html, "s-members").is_some(), "{}", p.html);
    let p = admin
        .post(
            &app,
            &rot,
            &[
                ("members", "ann@example.com, bo@example.com"),
                ("shift_hours", "24"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let oncall = app.get(&format!("/services/{sid}/oncall")).await.body;
    assert_eq!(
        oncall["rotation"]["members"],
        json!(["ann@example.com", "bo@example.com"])
    );
    let list = admin.get(&app, "/settings/rotations?project=default").await;
    assert!(
        list.html.contains("ann@example.com, bo@example.com"),
        "{}",
        list.html
    );

    // An individual with a bad profile link.
    let p = admin
        .post(
            &app,
            "/settings/individuals",
            &[("email", "kim@example.com"), ("weblink", "ftp://x")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_beside(&p.html, "s-weblink").is_some(), "{}", p.html);

    // Their Microsoft Teams id: not a GUID is refused beside the field, a GUID is kept.
    let p = admin
        .post(
            &app,
            "/settings/individuals",
            &[("email", "kim@example.com"), ("teams_id", "kim")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_beside(&p.html, "s-teams_id").is_some(), "{}", p.html);
    let guid = "6e2a4b1c-0f3d-4e5a-9b8c-7d6e5f4a3b2c";
    let p = admin
        .post(
            &app,
            "/settings/individuals",
            &[
                ("email", "kim@example.com"),
                ("name", "Kim"),
                ("teams_id", guid),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let kim = app.get("/individuals?q=kim").await.body;
    assert_eq!(kim["items"][0]["teams_id"], guid, "{kim}");
}

#[tokio::test]
async fn owners_change_roles_webhooks_show_their_secret_once_and_changes_are_audited() {
    let app = spawn_app().await;
    let owner = signed_in(&app, "olu@example.com", "owner").await;
    let admin = signed_in(&app, "ada@example.com", "admin").await;
    signed_in(&app, "mia@example.com", "member").await;
    let users = app.get("/users").await.body;
    let mia = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "mia@example.com")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let path = format!("/settings/users/{mia}");
    // An admin may look but not change people.
    let p = admin.post(&app, &path, &[("role", "admin")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("owner"), "{}", p.html);
    let p = owner.post(&app, &path, &[("role", "overlord")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_beside(&p.html, "s-role").is_some(), "{}", p.html);
    let p = owner
        .post(&app, &path, &[("role", "admin"), ("disabled", "on")])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let u = app.get("/users").await.body;
    let u = u
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == mia)
        .unwrap();
    assert_eq!(u["role"], "admin");
    assert_eq!(u["disabled"], true);
    // Adding someone who already has an account changes nothing and says so.
    let p = owner
        .post(
            &app,
            "/settings/users",
            &[("email", "mia@example.com"), ("role", "owner")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(
        p.html
            .contains(r#"<p class="failure" role="alert">mia@example.com already has an account"#),
        "{}",
        p.html
    );
    assert_eq!(app.user("mia@example.com").await["role"], "admin");

    // A webhook: the secret is shown once, on the page after creating it.
    let p = admin
        .post(
            &app,
            "/settings/webhooks",
            &[("url", "not a url"), ("enabled", "on")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_beside(&p.html, "s-url").is_some(), "{}", p.html);
    let p = admin
        .post(
            &app,
            "/settings/webhooks",
            &[("url", "https://hooks.example.com/in"), ("enabled", "on")],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(p.html.contains("not shown again"), "{}", p.html);
    let hook = app.get("/webhooks").await.body[0].clone();
    assert_eq!(hook["secret_set"], true, "{hook}");
    assert!(
        p.html.contains("whsec_"),
        "the secret is shown once: {}",
        p.html
    );
    let list = admin.get(&app, "/settings/webhooks").await;
    assert!(!list.html.contains("whsec_"), "{}", list.html);
    let d = admin
        .get(
            &app,
            &format!("/settings/deliveries?webhook={}", hook["id"]),
        )
        .await;
    assert_eq!(d.status, StatusCode::OK);

    // Both changes are in the audit log, newest first.
    let audit = admin.get(&app, "/settings/audit").await;
    assert_eq!(audit.status, StatusCode::OK);
    assert!(
        audit.html.contains("POST /settings/webhooks"),
        "{}",
        audit.html
    );
    assert!(audit.html.contains(&format!("POST /settings/users/{mia}")));
}

async fn total(app: &TestApp, who: &Session, query: &str) -> u64 {
    let p = who.get(app, &format!("/dashboard{query}")).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(p.html.contains("<svg"), "a chart");
    assert!(p.html.contains("c-type-table"), "a table behind the chart");
    let at = p.html.find(r#"id="d-total">"#).unwrap() + 13;
    p.html[at..].split('<').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_dashboard_counts_what_the_reader_may_see() {
    let app = spawn_app().await;
    let admin = signed_in(&app, "ada@example.com", "admin").await;
    let member = signed_in(&app, "mia@example.com", "member").await;
    app.declare("Open one").await;
    let r = app
        .post(
            "/incidents",
            json!({"title": "Quiet one", "description": "shh", "visibility": "restricted"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let key = r.body["name"].as_str().unwrap().to_string();
    assert_eq!(total(&app, &admin, "").await, 2);
    assert_eq!(
        total(&app, &member, "").await,
        1,
        "a restricted incident leaks"
    );
    // The table of priorities adds up to the same.
    let p = member.get(&app, "/dashboard?weeks=4").await;
    assert!(p.html.contains("Incidents by priority"));
    assert!(!p.html.contains("Quiet one"));
    // A participant sees it counted.
    let r = app
        .post(
            &format!("/incidents/{key}/roles"),
            json!({"role": "scribe", "email": "mia@example.com"}),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.body);
    assert_eq!(total(&app, &member, "").await, 2);
    // Another project's dashboard is empty; a bad number of weeks is shown beside its field.
    app.post(
        "/projects",
        json!({"name": "Security", "key_prefix": "SEC"}),
    )
    .await;
    assert_eq!(total(&app, &admin, "?project=security").await, 0);
    let p = admin.get(&app, "/dashboard?weeks=99").await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_beside(&p.html, "d-weeks").is_some());
    app.run_pending_jobs().await;
}

/// A ticket provider that is always down.
struct NoTickets;

#[async_trait::async_trait]
impl dispatch_core::provider::ResourceProvider for NoTickets {
    fn slug(&self) -> &'static str {
        "no-tickets"
    }

    async fn create(
        &self,
        _key: &str,
        _ctx: &dispatch_core::provider::IncidentContext,
    ) -> dispatch_core::provider::ProviderResult<dispatch_core::provider::Created> {
        Err(dispatch_core::provider::ProviderError::new(
            "no-tickets",
            "500 Internal Server Error",
        ))
    }
}

#[tokio::test]
async fn failed_jobs_are_listed_with_their_error_and_retried_from_the_settings() {
    let app = TestApp::builder()
        .providers(|mut p| {
            p.ticket = std::sync::Arc::new(NoTickets);
            p
        })
        .allow_pending_jobs(
            "the retried job is left queued: the test checks that the retry requeued it",
        )
        .spawn()
        .await;
    let admin = signed_in(&app, "ada@example.com", "admin").await;
    app.declare("Wiki down").await;
    app.run_pending_jobs().await;
    let failed = app.get("/jobs?state=failed").await.body;
    let id = failed[0]["id"].as_i64().expect("a failed job");
    let p = admin.get(&app, "/settings/jobs").await;
    assert!(p.html.contains("500 Internal Server Error"), "{}", p.html);
    let retry = format!(r#"action="/settings/jobs/{id}/retry""#);
    assert!(p.html.contains(&retry), "{}", p.html);
    let p = admin
        .post(&app, &format!("/settings/jobs/{id}/retry"), &[])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert_eq!(p.location.as_deref(), Some("/settings/jobs"));
    let queued = app.get("/jobs?state=queued").await.body;
    assert!(
        queued.as_array().unwrap().iter().any(|j| j["id"] == id),
        "{queued}"
    );
    let p = admin.get(&app, "/settings/jobs").await;
    assert!(!p.html.contains(&retry), "still listed as failed");
}
