//! Access control end to end. The permission matrix runs every API route (enumerated from the
//! OpenAPI document) as every kind of caller — anonymous, a read-only and a write-only token, a
//! member, a project admin, an admin and an owner, and people in each state towards the incident:
//! participant, removed participant (all roles ended), observer, subscriber, disabled account —
//! on a restricted and on an open incident, and checks each answer against the one policy table
//! the server enforces; a route without an entry fails. The leak test proves that no list,
//! filter, sort, page, search term or count shows a restricted incident to a member who does not
//! take part in it.

use crate::common::pages::signed_in;
use crate::common::{spawn_app, TestApp};
use dispatch_core::permission::{Action, Who};
use dispatch_web::policy::{self, Need};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;

/// The people the matrix calls as: personas (credential and organization role) and states
/// (how the person stands towards the incident).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Persona {
    Anonymous,
    /// The owner, with a read-scoped token.
    ReadToken,
    /// The owner, with a write-scoped token (no configuration).
    WriteToken,
    /// A member who takes no part in the incident.
    Member,
    /// A member who is a plain participant of the incident.
    Participant,
    /// A member who was a participant and was removed (every role ended).
    RemovedParticipant,
    /// A member who observes the incident.
    Observer,
    /// A member who subscribed to the incident by e-mail while it was open.
    Subscriber,
    /// A participant whose account was then disabled.
    Disabled,
    /// A member who is the admin of the `default` project (every fixture belongs to it).
    ProjectAdmin,
    Admin,
    Owner,
}

const PERSONAS: [Persona; 12] = [
    Persona::Anonymous,
    Persona::ReadToken,
    Persona::WriteToken,
    Persona::Member,
    Persona::Participant,
    Persona::RemovedParticipant,
    Persona::Observer,
    Persona::Subscriber,
    Persona::Disabled,
    Persona::ProjectAdmin,
    Persona::Admin,
    Persona::Owner,
];

/// What a persona should get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Past the access checks: anything but 401 and 403 (and 404, for incident routes).
    Allowed,
    Status(u16),
}

fn role_of(p: Persona) -> &'static str {
    match p {
        Persona::Admin => "admin",
        Persona::ReadToken | Persona::WriteToken | Persona::Owner => "owner",
        _ => "member",
    }
}

/// What `p` should get from a route that needs `need`, on a restricted or an open incident.
fn expect(p: Persona, method: &str, need: Need, restricted: bool) -> Expect {
    use Expect::*;
    if need == Need::Public {
        return Allowed;
    }
    if need == Need::Signed {
        // No credential opens these: only a valid signature (the `slack` module).
        return Status(401);
    }
    if matches!(p, Persona::Anonymous | Persona::Disabled) {
        return Status(401);
    }
    if p == Persona::ReadToken && method != "GET" {
        return Status(403);
    }
    if p == Persona::WriteToken
        && method != "GET"
        && matches!(need, Need::Role(_) | Need::Project(..))
    {
        return Status(403);
    }
    let role: dispatch_core::OrgRole = role_of(p).parse().unwrap();
    match need {
        Need::Public | Need::Signed | Need::Member => Allowed,
        // The fixture's case is assigned to no one (its definition names no service), so every
        // signed-in caller may work it; the `signals` module checks the assignee's rule.
        Need::Case(_) => Allowed,
        // The handler reads the incident under the caller's visibility: the rule of viewing it.
        Need::Seen => expect(p, method, Need::Incident(Action::View), restricted),
        Need::Role(r) => {
            if role.at_least(r) {
                Allowed
            } else {
                Status(403)
            }
        }
        Need::Project(r, _) => {
            if role.at_least(r) || p == Persona::ProjectAdmin {
                Allowed
            } else {
                Status(403)
            }
        }
        Need::Incident(action) | Need::Owned(_, action) => {
            if role.at_least(dispatch_core::OrgRole::Admin) {
                return Allowed;
            }
            let takes_part = matches!(p, Persona::Participant | Persona::Observer);
            // None of these personas commands, reports or scribes the incident; the admin of its
            // project is an admin in it (once they can see it).
            match action.who() {
                _ if restricted && !takes_part => Status(404),
                _ if p == Persona::ProjectAdmin => Allowed,
                Who::Anyone => Allowed,
                Who::Participants if takes_part => Allowed,
                _ => Status(403),
            }
        }
    }
}

/// The tokens of the personas, the ids of one of each configuration and directory record, and
/// for each incident (restricted, open) the ids of one of everything that belongs to it.
struct Fixtures {
    tokens: HashMap<&'static str, String>,
    ids: HashMap<&'static str, String>,
    restricted: HashMap<&'static str, String>,
    open: HashMap<&'static str, String>,
}

async fn created(app: &TestApp, path: &str, body: Value) -> Value {
    let r = app.post(path, body).await;
    assert!(r.status.is_success(), "{path}: {} {:?}", r.status, r.body);
    r.body
}

/// An incident (commanded by the on-call, who is paged; reported by the owner) with a
/// participant, an observer, a subscriber, a removed participant and a participant whose account
/// is disabled later; its task, event, file, message, documents, job and page. A restricted one
/// is declared open (so the subscriber can subscribe) and then restricted.
async fn incident_fixtures(
    app: &TestApp,
    tokens: &HashMap<&'static str, String>,
    restricted: bool,
) -> HashMap<&'static str, String> {
    let title = if restricted {
        "Restricted breach"
    } else {
        "Open outage"
    };
    let inc = created(
        app,
        "/incidents",
        json!({"title": title, "description": "secret", "priority": "high"}),
    )
    .await;
    let key = inc["name"].as_str().unwrap().to_string();
    for (email, role) in [
        ("pat@example.com", "participant"),
        ("quinn@example.com", "participant"),
        ("olive@example.com", "observer"),
        ("rita@example.com", "participant"),
        ("dora@example.com", "participant"),
    ] {
        app.give_role(&key, email, role).await;
    }
    app.subscribe(&key, &tokens["subscriber"]).await;
    app.remove_participant(&key, "rita@example.com").await;
    if restricted {
        let r = app
            .patch(
                &format!("/incidents/{key}"),
                json!({"visibility": "restricted"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    }
    // Quinn has an open task, so removing Quinn is refused (409) for everyone allowed to try.
    let task = created(
        app,
        &format!("/incidents/{key}/tasks"),
        json!({"description": "rotate keys", "assignees": ["quinn@example.com"]}),
    )
    .await;
    let event = created(
        app,
        &format!("/incidents/{key}/timeline"),
        json!({"description": "first sign", "occurred_at": "2026-11-24T23:50:00Z"}),
    )
    .await;
    let file = app
        .http
        .post(format!(
            "{}/api/v1/incidents/{key}/files?name=a.log",
            app.base
        ))
        .bearer_auth(&app.token)
        .body("log")
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::CREATED);
    let file: Value = file.json().await.unwrap();
    app.run_pending_jobs().await;
    let message = created(
        app,
        &format!("/incidents/{key}/room/messages"),
        json!({"text": "first look at the logs"}),
    )
    .await;
    let docs = app.get(&format!("/incidents/{key}/documents")).await.body;
    let jobs = app.get("/jobs?limit=500").await.body;
    let job = jobs
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["incident_id"] == inc["id"])
        .expect("a job of the incident");
    let pages = app.get(&format!("/pages?incident={key}")).await.body;
    let mut ids = HashMap::new();
    for (name, value) in [
        ("incident", key.clone()),
        ("task", task["id"].to_string()),
        ("event", event["id"].to_string()),
        ("file", file["id"].to_string()),
        ("document", docs[0]["id"].to_string()),
        ("job", job["id"].to_string()),
        ("page", pages[0]["id"].to_string()),
        ("message", message["id"].to_string()),
        ("person", "quinn@example.com".to_string()),
    ] {
        assert!(value != "null", "fixture {name} of {key} is missing");
        ids.insert(name, value);
    }
    ids
}

/// The personas' tokens, a restricted and an open incident with everything that belongs to
/// them, and one of each directory and configuration record.
async fn fixtures(app: &TestApp) -> Fixtures {
    let mut tokens = HashMap::new();
    tokens.insert("owner", app.token.clone());
    for (name, email, role, scope) in [
        ("read", "admin@example.com", "owner", "read"),
        ("write", "admin@example.com", "owner", "write"),
        ("member", "mia@example.com", "member", "admin"),
        ("participant", "pat@example.com", "member", "admin"),
        ("removed", "rita@example.com", "member", "admin"),
        ("observer", "olive@example.com", "member", "admin"),
        ("subscriber", "sam@example.com", "member", "admin"),
        ("disabled", "dora@example.com", "member", "admin"),
        ("admin", "ada@example.com", "admin", "admin"),
        ("project-admin", "pam@example.com", "member", "admin"),
    ] {
        tokens.insert(name, app.token_with(email, role, scope).await);
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
    let mut ids = HashMap::new();
    let svc = created(
        app,
        "/projects/default/services",
        json!({"name": "sec-oncall"}),
    )
    .await;
    let sid = svc["id"].to_string();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let r = app
        .call(
            Method::PUT,
            &format!("/services/{sid}/rotation"),
            Some(json!({"members": ["ona@example.com"], "shift_hours": 168, "handoff_time": "00:00", "start_date": today, "time_zone": "UTC"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let policy = created(
        app,
        "/projects/default/role-policies",
        json!({"role": "incident_commander", "priority": "high", "service_id": svc["id"]}),
    )
    .await;
    let restricted = incident_fixtures(app, &tokens, true).await;
    let open = incident_fixtures(app, &tokens, false).await;
    let dora = app.user_id("dora@example.com").await;
    let r = app
        .patch(&format!("/users/{dora}"), json!({"disabled": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let team = created(app, "/projects/default/teams", json!({"name": "SecOps"})).await;
    let hook = created(app, "/webhooks", json!({"url": "http://127.0.0.1:9/hook"})).await;
    let engagement = created(
        app,
        "/engagement-rules",
        json!({"name": "breach experts", "filter": "title ~ breach", "individuals": ["eve@example.com"]}),
    )
    .await;
    let notification = created(
        app,
        "/notification-rules",
        json!({"name": "ciso", "filter": "all", "target_kind": "email", "target": "ciso@example.com"}),
    )
    .await;
    let definition = created(
        app,
        "/projects/default/signal-definitions",
        json!({"name": "Disk full", "source": "alertmanager", "match": {"alertname": "DiskFull"}, "create_case": true}),
    )
    .await;
    let filter = created(
        app,
        "/signal-filters",
        json!({"name": "Lab hosts", "expression": {"env": "lab"}, "mode": "monitor"}),
    )
    .await;
    let alert = json!({"version": "4", "status": "firing", "receiver": "dispatch", "alerts": [
        {"status": "firing", "labels": {"alertname": "DiskFull", "host": "db-1"}, "annotations": {},
         "startsAt": "2026-12-03T06:00:00Z", "fingerprint": "d15cf011"}]});
    created(app, "/signals/alertmanager", alert).await;
    let case = app.get("/cases?project=default").await.body;
    assert!(
        case["items"][0]["id"].is_number(),
        "no case from the alert: {case:#}"
    );
    let who = app.get("/individuals?q=pat@").await.body;
    let spare = created(app, "/tokens", json!({"name": "spare"})).await;
    let mia = app.user_id("mia@example.com").await;
    let cost_model = created(
        app,
        "/projects/default/cost-models",
        json!({"name": "Chat", "activities": {"room_message": 300}}),
    )
    .await;
    let cost_type = created(
        app,
        "/projects/default/cost-types",
        json!({"name": "Vendor support"}),
    )
    .await;
    let types = app.get("/projects/default/incident-types").await.body;
    let prios = app.get("/projects/default/incident-priorities").await.body;
    let sevs = app.get("/projects/default/incident-severities").await.body;
    for (name, value) in [
        ("service", sid),
        ("team", team["id"].to_string()),
        ("webhook", hook["id"].to_string()),
        ("role-policy", policy["id"].to_string()),
        ("individual", who["items"][0]["id"].to_string()),
        ("token", spare["id"].to_string()),
        ("user", mia.to_string()),
        ("type", types[0]["id"].to_string()),
        ("priority", prios[0]["id"].to_string()),
        ("severity", sevs[0]["id"].to_string()),
        ("engagement-rule", engagement["id"].to_string()),
        ("notification-rule", notification["id"].to_string()),
        ("signal-definition", definition["id"].to_string()),
        ("signal-filter", filter["id"].to_string()),
        ("case", case["items"][0]["id"].to_string()),
        ("cost-model", cost_model["id"].to_string()),
        ("cost-type", cost_type["id"].to_string()),
    ] {
        assert!(value != "null", "fixture {name} is missing");
        ids.insert(name, value);
    }
    Fixtures {
        tokens,
        ids,
        restricted,
        open,
    }
}

impl Fixtures {
    /// The template with every parameter filled in from the fixtures, those of an incident from
    /// the restricted or the open one.
    fn fill(&self, template: &str, restricted: bool) -> String {
        let incident = if restricted {
            &self.restricted
        } else {
            &self.open
        };
        let segments: Vec<&str> = template.split('/').collect();
        let mut out = Vec::new();
        for (i, seg) in segments.iter().enumerate() {
            if !seg.starts_with('{') {
                out.push(seg.to_string());
                continue;
            }
            let owner = segments[i - 1];
            let name = match (owner, *seg) {
                ("incidents", _) => "incident",
                ("tasks", _) => "task",
                ("timeline", _) => "event",
                ("files", _) => "file",
                ("documents", _) => "document",
                ("jobs", _) => "job",
                ("pages", _) => "page",
                ("services", _) => "service",
                ("teams", _) => "team",
                ("webhooks", _) => "webhook",
                ("role-policies", _) => "role-policy",
                ("individuals", _) => "individual",
                ("tokens", _) => "token",
                ("users", _) | ("members", _) => "user",
                ("incident-types", _) => "type",
                ("incident-priorities", _) => "priority",
                ("incident-severities", _) => "severity",
                ("messages", _) => "message",
                ("engagement-rules", _) => "engagement-rule",
                ("notification-rules", _) => "notification-rule",
                ("signal-definitions", _) => "signal-definition",
                ("signal-filters", _) => "signal-filter",
                ("cases", _) => "case",
                ("cost-models", _) => "cost-model",
                ("cost-types", _) => "cost-type",
                ("participants", _) | ("contacts", _) => "person",
                ("projects", _) => {
                    out.push("default".into());
                    continue;
                }
                _ => panic!("no fixture for {seg} in {template}: add one to the matrix test"),
            };
            out.push(
                incident
                    .get(name)
                    .unwrap_or_else(|| &self.ids[name])
                    .clone(),
            );
        }
        out.join("/")
    }

    fn token(&self, p: Persona) -> Option<&str> {
        let name = match p {
            Persona::Anonymous => return None,
            Persona::ReadToken => "read",
            Persona::WriteToken => "write",
            Persona::Member => "member",
            Persona::Participant => "participant",
            Persona::RemovedParticipant => "removed",
            Persona::Observer => "observer",
            Persona::Subscriber => "subscriber",
            Persona::Disabled => "disabled",
            Persona::ProjectAdmin => "project-admin",
            Persona::Admin => "admin",
            Persona::Owner => "owner",
        };
        Some(self.tokens[name].as_str())
    }
}

/// Every (method, path) of the OpenAPI document.
async fn documented_routes(app: &TestApp) -> Vec<(String, String)> {
    let doc = app.get("/openapi.json").await.body;
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                routes.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

#[tokio::test]
async fn every_route_answers_each_kind_of_caller_as_the_policy_table_says() {
    let app = spawn_app().await;
    let mut routes = documented_routes(&app).await;
    // The document does not describe itself or its docs page.
    for path in ["/api/v1/openapi.json", "/api/v1/docs"] {
        routes.push(("GET".to_string(), path.to_string()));
    }
    let missing: Vec<_> = routes
        .iter()
        .filter(|(m, p)| policy::lookup(m, p).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "routes without an access rule: {missing:?}"
    );
    // Signed routes (Slack's) are not documented: the matrix covers them by their own list.
    for p in policy::POLICIES.iter().filter(|p| p.need == Need::Signed) {
        routes.push((p.method.to_string(), p.path.to_string()));
    }
    // The web UI's pages are not documented either: they have their own list, checked in
    // the `ui` module (signed out, a member who may not see the incident, a participant).
    let ui: Vec<(String, String)> = dispatch_web::ui::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let ui_missing: Vec<_> = ui
        .iter()
        .filter(|(m, p)| policy::lookup(m, p).is_none())
        .collect();
    assert!(
        ui_missing.is_empty(),
        "UI routes without an access rule: {ui_missing:?}"
    );
    let stale: Vec<_> = policy::POLICIES
        .iter()
        .filter(|p| {
            !routes
                .iter()
                .chain(&ui)
                .any(|(m, path)| m == p.method && policy::shape(path) == policy::shape(p.path))
        })
        .collect();
    assert!(
        stale.is_empty(),
        "rules for routes that do not exist: {stale:?}"
    );

    // Joining changes who takes part: it runs last, so every other answer is for the states
    // the fixtures set up.
    routes.sort_by_key(|(_, path)| path.ends_with("/join"));
    let f = fixtures(&app).await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for restricted in [true, false] {
        for (method, template) in &routes {
            let need = policy::lookup(method, template).unwrap().need;
            let path = f.fill(template, restricted);
            let incident_route = matches!(need, Need::Incident(_) | Need::Owned(..));
            for p in PERSONAS {
                let body = (method != "GET" && method != "DELETE").then(|| json!({}));
                let m = Method::from_bytes(method.as_bytes()).unwrap();
                let r = app.call_url(f.token(p), m, &path, body).await;
                let got = r.status.as_u16();
                let want = expect(p, method, need, restricted);
                let ok = match want {
                    Expect::Status(s) => got == s,
                    Expect::Allowed => {
                        got != 401 && got != 403 && !(incident_route && got == 404) && got < 500
                    }
                };
                checked += 1;
                if !ok {
                    failures.push(format!(
                        "{method} {path} as {p:?}: got {got}, want {want:?} ({:?})",
                        r.body
                    ));
                }
            }
        }
    }
    // Lists and search agree with the routes: the restricted incident is found by those who
    // take part in it (and admins) only.
    for p in PERSONAS {
        let Some(token) = f.token(p) else { continue };
        if p == Persona::Disabled {
            continue;
        }
        let r = app
            .call_as(Some(token), Method::GET, "/incidents?q=breach", None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{p:?}");
        let found = r.body["total"] == 1;
        let sees = matches!(
            expect(p, "GET", Need::Incident(Action::View), true),
            Expect::Allowed
        );
        assert_eq!(found, sees, "{p:?} searching: {}", r.body);
    }
    assert_eq!(checked, routes.len() * PERSONAS.len() * 2);
    println!(
        "permission matrix: {} routes x {} callers (7 personas, 5 states) x 2 incidents (restricted, open) = {checked} checks",
        routes.len(),
        PERSONAS.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn on_an_open_incident_members_read_but_only_its_commander_reporter_or_scribe_change_it() {
    let app = spawn_app().await;
    let mia = app.token_with("mia@example.com", "member", "admin").await;
    let rex = app.token_with("rex@example.com", "member", "write").await;
    let r = app
        .call_as(
            Some(&rex),
            Method::POST,
            "/incidents",
            Some(json!({"title": "Open one", "description": "d"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.run_pending_jobs().await;
    let routes = documented_routes(&app).await;
    for (method, template) in &routes {
        let Need::Incident(action) = policy::lookup(method, template).unwrap().need else {
            continue;
        };
        if template.contains("{task_id}")
            || template.contains("{event_id}")
            || template.contains("{message_id}")
            || template.contains("{email}")
        {
            continue;
        }
        let path = template
            .trim_start_matches("/api/v1")
            .replace("{id}", "INC-1");
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let body = (method != "GET").then(|| json!({}));
        let res = app.call_as(Some(&mia), m, &path, body).await;
        let got = res.status;
        match action.who() {
            Who::Anyone => assert!(
                got != StatusCode::FORBIDDEN && got != StatusCode::NOT_FOUND,
                "{method} {path}: {got} {:?}",
                res.body
            ),
            _ => assert_eq!(got, StatusCode::FORBIDDEN, "{method} {path}"),
        }
    }
    // The reporter may change it; a member may not.
    let r = app
        .call_as(
            Some(&mia),
            Method::PATCH,
            "/incidents/INC-1",
            Some(json!({"title": "Hijacked"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["code"], "forbidden");
    let r = app
        .call_as(
            Some(&rex),
            Method::PATCH,
            "/incidents/INC-1",
            Some(json!({"title": "Renamed"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    // Made scribe, the member may keep the record but still not change the incident.
    app.post(
        "/incidents/INC-1/roles",
        json!({"email": "mia@example.com", "role": "scribe"}),
    )
    .await;
    let r = app
        .call_as(
            Some(&mia),
            Method::POST,
            "/incidents/INC-1/tasks",
            Some(json!({"description": "collect logs"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = app
        .call_as(Some(&mia), Method::POST, "/incidents/INC-1/stable", None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn disabling_an_account_signing_out_and_revoking_a_token_count_from_the_next_request() {
    let app = spawn_app().await;
    let key = app.declare("Breach").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/incidents/{key}");
    // The same read, with a session cookie or a token.
    let read_with = |cookie: Option<String>, token: Option<String>| {
        let app = &app;
        let path = path.clone();
        async move {
            let mut req = app.http.get(format!("{}{path}", app.base));
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            req.send().await.unwrap().status()
        }
    };
    let cy = signed_in(&app, "cy@example.com", "member").await;
    let cy_token = app.token_with("cy@example.com", "member", "write").await;
    let di = signed_in(&app, "di@example.com", "member").await;
    let di_token = app.token_with("di@example.com", "member", "write").await;
    for (cookie, token) in [
        (Some(cy.cookie.clone()), None),
        (None, Some(cy_token.clone())),
        (Some(di.cookie.clone()), None),
        (None, Some(di_token.clone())),
    ] {
        assert_eq!(read_with(cookie, token).await, StatusCode::OK);
    }
    // Disabled: both of cy's credentials stop at once.
    let id = app.user_id("cy@example.com").await;
    let r = app
        .patch(&format!("/users/{id}"), json!({"disabled": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        read_with(Some(cy.cookie.clone()), None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        read_with(None, Some(cy_token)).await,
        StatusCode::UNAUTHORIZED
    );
    // Signing out ends di's session, not di's token; revoking the token ends it too.
    let out = app
        .http
        .post(format!("{}/auth/logout", app.base))
        .header("cookie", &di.cookie)
        .header("x-csrf-token", &di.csrf)
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success(), "{}", out.status());
    assert_eq!(
        read_with(Some(di.cookie.clone()), None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        read_with(None, Some(di_token.clone())).await,
        StatusCode::OK
    );
    app.revoke_own_token(&di_token).await;
    assert_eq!(
        read_with(None, Some(di_token)).await,
        StatusCode::UNAUTHORIZED
    );
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn a_read_token_cannot_write_and_a_demoted_user_loses_admin_rights_at_once() {
    let app = spawn_app().await;
    let read = app.token_with("ro@example.com", "admin", "read").await;
    let r = app
        .call_as(Some(&read), Method::GET, "/webhooks", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "an admin's read token reads");
    let r = app
        .call_as(
            Some(&read),
            Method::POST,
            "/incidents",
            Some(json!({"title": "t", "description": "d"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("scope"));
    let write = app.token_with("wr@example.com", "admin", "write").await;
    let r = app
        .call_as(
            Some(&write),
            Method::POST,
            "/projects/default/tags",
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "configuration needs an admin-scope credential"
    );
    let adm = app.token_with("boss@example.com", "admin", "admin").await;
    let r = app
        .call_as(Some(&adm), Method::GET, "/webhooks", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    app.token_with("boss@example.com", "member", "admin").await;
    let r = app
        .call_as(Some(&adm), Method::GET, "/webhooks", None)
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "the old token follows the new role"
    );
}

/// Every list query a member could try, as (path, query) pairs.
fn list_queries() -> Vec<String> {
    let mut qs = vec![String::new()];
    for q in [
        "q=zebra",
        "q=credential",
        "q=stuffing",
        "q=secret",
        "q=quagga",
        "visibility=restricted",
        "visibility=open,restricted",
        "status=active",
        "status=active,stable,closed",
        "priority=high",
        "severity=high",
        "type=default",
        "tag=quagga",
        "commander=ic@example.com",
        "project=default",
        "reported_after=2000-01-01",
        "reported_before=2100-01-01",
    ] {
        qs.push(q.to_string());
    }
    for sort in dispatch_store::repo::incident::SortField::NAMES {
        qs.push(format!("sort={sort}"));
        qs.push(format!("sort=-{sort}"));
    }
    for page in 1..=5 {
        qs.push(format!("per_page=1&page={page}"));
        qs.push(format!("per_page=2&page={page}&sort=title"));
    }
    qs
}

#[tokio::test]
async fn no_list_filter_sort_page_search_or_count_shows_a_restricted_incident_to_an_outsider() {
    let app = spawn_app().await;
    let mia = app.token_with("mia@example.com", "member", "admin").await;
    app.post("/projects/default/tags", json!({"name": "quagga"}))
        .await;
    // Two restricted incidents with a marker word everywhere, between open ones.
    app.declare("Open zebra sighting").await;
    let mut secret = Vec::new();
    for (title, status) in [
        ("Credential stuffing zebra quagga", "active"),
        ("Quagga exfiltration", "closed"),
    ] {
        let r = app
            .post(
                "/incidents",
                json!({"title": title, "description": "secret quagga details", "visibility": "restricted",
                       "priority": "high", "severity": "high", "tags": ["quagga"], "commander": "ic@example.com", "status": status}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        secret.push((
            r.body["name"].as_str().unwrap().to_string(),
            r.body["id"].to_string(),
        ));
        app.declare("Open stuffing credential report").await;
    }
    app.post(
        &format!("/incidents/{}/tasks", secret[0].0),
        json!({"description": "quagga task"}),
    )
    .await;
    app.run_pending_jobs().await;

    let leaks = |text: &str| {
        text.to_lowercase().contains("quagga")
            || secret
                .iter()
                .any(|(key, _)| text.contains(&format!("\"{key}\"")))
    };
    let as_mia = |path: String| {
        let mia = mia.clone();
        let app = &app;
        async move {
            let r = app.call_as(Some(&mia), Method::GET, &path, None).await;
            (r.status, r.body)
        }
    };

    for q in list_queries() {
        let (status, body) = as_mia(format!("/incidents?{q}")).await;
        assert_eq!(status, StatusCode::OK, "{q}: {body}");
        assert!(!leaks(&body.to_string()), "{q} leaked: {body}");
        // The member's answer is exactly the admin's answer over open incidents only.
        if q == "visibility=restricted" {
            assert_eq!(body["total"], 0, "{q}: {body}");
            assert!(body["items"].as_array().unwrap().is_empty());
            continue;
        }
        let open_only = if q.contains("visibility=") {
            "visibility=open".to_string()
        } else {
            format!("{q}&visibility=open")
        };
        let admin = app.get(&format!("/incidents?{open_only}")).await.body;
        assert_eq!(body["total"], admin["total"], "{q}");
        assert_eq!(body["items"], admin["items"], "{q}");
    }
    let (_, all) = as_mia("/incidents?per_page=100".into()).await;
    assert_eq!(all["total"], 3, "three open incidents: {all}");

    // Every per-incident route and every owned record answers exactly as for a missing one.
    let routes = documented_routes(&app).await;
    let jobs = app.get("/jobs?limit=500").await.body;
    let docs = app
        .get(&format!("/incidents/{}/documents", secret[0].0))
        .await
        .body;
    for (key, id) in &secret {
        for (method, template) in &routes {
            let need = policy::lookup(method, template).unwrap().need;
            if !matches!(need, Need::Incident(_)) {
                continue;
            }
            for r in [key.as_str(), id.as_str()] {
                let path = template
                    .trim_start_matches("/api/v1")
                    .replace("{id}", r)
                    .replace("{task_id}", "1")
                    .replace("{event_id}", "1");
                let m = Method::from_bytes(method.as_bytes()).unwrap();
                let body = (method != "GET").then(|| json!({}));
                let res = app
                    .call_as(Some(&mia), m.clone(), &path, body.clone())
                    .await;
                let missing = app
                    .call_as(Some(&mia), m, &path.replace(r, "INC-999"), body)
                    .await;
                assert_eq!(res.status, StatusCode::NOT_FOUND, "{method} {path}");
                assert_eq!(missing.status, StatusCode::NOT_FOUND);
                assert_eq!(
                    res.body["error"]["message"]
                        .as_str()
                        .unwrap()
                        .replace(r, "X"),
                    missing.body["error"]["message"]
                        .as_str()
                        .unwrap()
                        .replace("INC-999", "X"),
                    "{method} {path}: the answers must not differ"
                );
            }
        }
    }
    for j in jobs.as_array().unwrap() {
        if secret.iter().any(|(_, id)| {
            j["incident_id"].as_i64().map(|n| n.to_string()).as_deref() == Some(id.as_str())
        }) {
            let r = app
                .call_as(
                    Some(&mia),
                    Method::POST,
                    &format!("/jobs/{}/retry", j["id"]),
                    None,
                )
                .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND);
        }
    }
    for d in docs.as_array().unwrap() {
        let (status, _) = as_mia(format!("/documents/{}", d["id"])).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    // Lists of other things leave the restricted incidents out too.
    for path in [
        "/jobs?limit=500",
        "/jobs?state=succeeded&limit=500",
        "/outbox",
        "/pages",
        "/incidents/INC-1/timeline",
        "/incidents/INC-1/participants",
        "/taxonomies",
    ] {
        let (status, body) = as_mia(path.into()).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!leaks(&body.to_string()), "{path} leaked: {body}");
    }
    for path in [
        format!("/outbox?incident={}", secret[0].0),
        format!("/pages?incident={}", secret[0].0),
    ] {
        let (status, _) = as_mia(path.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    // The admin sees them all.
    let admin = app.get("/incidents?q=quagga").await.body;
    assert_eq!(admin["total"], 2, "{admin}");
}

#[tokio::test]
async fn a_members_only_project_shows_and_takes_its_incidents_from_its_members_and_admins_only() {
    let app = spawn_app().await;
    let mia = app.token_with("mia@example.com", "member", "admin").await;
    let mel = app.token_with("mel@example.com", "member", "admin").await;
    let ada = app.token_with("ada@example.com", "admin", "admin").await;
    let pat = app.token_with("pat@example.com", "member", "admin").await;
    let as_ = |tok: &str, m: Method, path: String, body: Option<Value>| {
        let tok = tok.to_string();
        let app = &app;
        async move { app.call_as(Some(&tok), m, &path, body).await }
    };
    created(
        &app,
        "/projects",
        json!({"name": "Red team", "slug": "red", "key_prefix": "RED"}),
    )
    .await;
    let mel_id = app.user_id("mel@example.com").await;
    // Membership is validated, field by field, and managed by managers and project admins only.
    let members = |path: String| format!("/projects/red/members/{path}");
    let r = as_(
        &app.token,
        Method::PUT,
        members(mel_id.to_string()),
        Some(json!({"role": "boss"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(crate::common::error_fields(&r.body), ["role"]);
    let r = as_(
        &app.token,
        Method::PUT,
        members("999999".into()),
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields = crate::common::error_fields(&r.body);
    fields.sort();
    assert_eq!(fields, ["role", "user_id"]);
    let r = as_(
        &mia,
        Method::PUT,
        members(mel_id.to_string()),
        Some(json!({"role": "member"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = as_(
        &ada,
        Method::PUT,
        members(mel_id.to_string()),
        Some(json!({"role": "member"})),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "an org admin is not a manager"
    );
    let r = as_(
        &app.token,
        Method::PUT,
        members(mel_id.to_string()),
        Some(json!({"role": "member"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["email"], "mel@example.com");
    assert_eq!(r.body["role"], "member");
    let listed = app.get("/projects/red/members").await.body;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let audit = app.get("/audit?action=project.member_added").await.body;
    assert!(audit.to_string().contains("mel@example.com"), "{audit}");

    let r = app
        .patch("/projects/red", json!({"members_only": "yes"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let r = app
        .patch("/projects/red", json!({"members_only": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["members_only"], true);

    // One incident with a marker word in the members-only project, between open ones.
    app.declare("Open zebra sighting").await;
    let red = created(
        &app,
        "/incidents",
        json!({"project": "red", "title": "Quagga red-team finding", "description": "quagga",
               "priority": "high", "commander": "ic@example.com"}),
    )
    .await;
    let key = red["name"].as_str().unwrap().to_string();
    let id = red["id"].to_string();
    app.declare("Open stuffing credential report").await;
    created(
        &app,
        &format!("/incidents/{key}/tasks"),
        json!({"description": "quagga task"}),
    )
    .await;
    app.run_pending_jobs().await;
    let leaks = |text: &str| text.to_lowercase().contains("quagga") || text.contains(&key);

    // An outsider: no list, filter, sort, page, search, count or record shows it.
    for q in list_queries()
        .into_iter()
        .chain(["project=red".to_string(), "q=red-team".to_string()])
    {
        let r = as_(&mia, Method::GET, format!("/incidents?{q}"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{q}");
        assert!(!leaks(&r.body.to_string()), "{q} leaked: {}", r.body);
    }
    let r = as_(&mia, Method::GET, "/incidents?per_page=100".into(), None).await;
    assert_eq!(r.body["total"], 2, "{}", r.body);
    for (method, template) in documented_routes(&app).await {
        let need = policy::lookup(&method, &template).unwrap().need;
        if !matches!(need, Need::Incident(_)) {
            continue;
        }
        for reference in [key.as_str(), id.as_str()] {
            let path = template
                .trim_start_matches("/api/v1")
                .replace("{id}", reference)
                .replace("{task_id}", "1")
                .replace("{event_id}", "1");
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let body = (method != "GET").then(|| json!({}));
            let r = as_(&mia, m, path.clone(), body).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}");
        }
    }
    for path in ["/jobs?limit=500", "/outbox", "/pages", "/tasks"] {
        let r = as_(&mia, Method::GET, path.into(), None).await;
        assert!(!leaks(&r.body.to_string()), "{path} leaked: {}", r.body);
    }
    let declare = json!({"project": "red", "title": "Outsider report", "description": "x"});
    let r = as_(
        &mia,
        Method::POST,
        "/incidents".into(),
        Some(declare.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);

    // Its member and an org admin see it and declare there.
    for tok in [&mel, &ada] {
        let r = as_(tok, Method::GET, format!("/incidents/{key}"), None).await;
        assert_eq!(r.status, StatusCode::OK);
        let r = as_(tok, Method::GET, "/incidents?q=quagga".into(), None).await;
        assert_eq!(r.body["total"], 1, "{}", r.body);
        let r = as_(
            tok,
            Method::POST,
            "/incidents".into(),
            Some(declare.clone()),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    // A participant who is no member sees the incident they take part in, and no other.
    created(
        &app,
        &format!("/incidents/{key}/roles"),
        json!({"email": "pat@example.com", "role": "participant"}),
    )
    .await;
    let r = as_(&pat, Method::GET, format!("/incidents/{key}"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = as_(&pat, Method::GET, "/incidents?project=red".into(), None).await;
    assert_eq!(r.body["total"], 1, "{}", r.body);
    // Removed from the project, the member no longer sees it.
    let r = as_(
        &app.token,
        Method::DELETE,
        members(mel_id.to_string()),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = as_(&mel, Method::GET, format!("/incidents/{key}"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let audit = app.get("/audit?action=project.member_removed").await.body;
    assert!(audit.to_string().contains("mel@example.com"), "{audit}");
    // With the flag off, the project is open to everyone again.
    app.patch("/projects/red", json!({"members_only": false}))
        .await;
    let r = as_(&mia, Method::GET, format!("/incidents/{key}"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn a_project_admin_configures_their_project_only_and_notifications_keep_members_only_incidents_in(
) {
    let app = spawn_app().await;
    let pam = app.token_with("pam@example.com", "member", "admin").await;
    created(
        &app,
        "/projects",
        json!({"name": "Red team", "slug": "red", "key_prefix": "RED", "members_only": true}),
    )
    .await;
    let pam_id = app.user_id("pam@example.com").await;
    let r = app
        .call(
            Method::PUT,
            &format!("/projects/red/members/{pam_id}"),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let as_pam = |m: Method, path: &str, body: Option<Value>| {
        let (path, pam, app) = (path.to_string(), pam.clone(), &app);
        async move { app.call_as(Some(&pam), m, &path, body).await }
    };
    // Their project: taxonomies, rules, provider choice, membership.
    let r = as_pam(
        Method::POST,
        "/projects/red/tags",
        Some(json!({"name": "apt"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let rule = json!({"project": "red", "name": "ciso", "filter": "all", "target_kind": "email",
                      "target": "list@example.com"});
    let r = as_pam(Method::POST, "/notification-rules", Some(rule.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let rule_id = r.body["id"].clone();
    let r = as_pam(
        Method::PATCH,
        &format!("/notification-rules/{rule_id}"),
        Some(json!({"restricted_safe": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(crate::common::error_fields(&r.body), ["restricted_safe"]);
    let r = as_pam(
        Method::PATCH,
        "/projects/red",
        Some(json!({"description": "ours"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = as_pam(
        Method::PATCH,
        "/projects/red",
        Some(json!({"default": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    // Not another project's, not org-wide settings.
    let r = as_pam(
        Method::POST,
        "/projects/default/tags",
        Some(json!({"name": "apt"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = as_pam(
        Method::POST,
        "/notification-rules",
        Some(json!({"name": "x", "filter": "all", "target_kind": "email", "target": "x@example.com"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    let default_rule = created(
        &app,
        "/notification-rules",
        json!({"name": "d", "filter": "all", "target_kind": "email", "target": "d@example.com"}),
    )
    .await;
    let r = as_pam(
        Method::DELETE,
        &format!("/notification-rules/{}", default_rule["id"]),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = as_pam(
        Method::POST,
        "/webhooks",
        Some(json!({"url": "http://127.0.0.1:9/x"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // A members-only project's incident is not told to a target that is not restricted-safe.
    let r = as_pam(
        Method::POST,
        "/incidents",
        Some(json!({"project": "red", "title": "Quagga", "description": "quagga"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    app.run_pending_jobs().await;
    let mail = app.get("/outbox?to=list@example.com").await.body;
    assert_eq!(mail.as_array().map(Vec::len), Some(0), "{mail}");
    // Once an org admin makes the target restricted-safe, it hears.
    let r = app
        .patch(
            &format!("/notification-rules/{rule_id}"),
            json!({"restricted_safe": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = as_pam(
        Method::POST,
        "/incidents",
        Some(json!({"project": "red", "title": "Second", "description": "x"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.run_pending_jobs().await;
    let mail = app.get("/outbox?to=list@example.com").await.body;
    assert_eq!(mail.as_array().map(Vec::len), Some(1), "{mail}");
}
