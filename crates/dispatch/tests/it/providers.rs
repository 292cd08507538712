//! Providers chosen per project: two projects declare with different e-mail and conversation
//! providers and each uses its own; bad choices are 422s naming the field; an external on-call
//! provider picks the commander and is paged; pages reach the person by e-mail and direct
//! message; the incident's participant group follows its people and is mailed.

use crate::common::{error_fields, spawn_app, TestApp};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dispatch_core::message::RichMessage;
use dispatch_core::oncall::Shift;
use dispatch_core::provider::{
    ConversationProvider, Created, Email, EmailProvider, IncidentContext, OnCallProvider,
    OnCallService, PageRequest, ProviderResult,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// Mail kept in memory, under its own slug.
struct Recorder {
    sent: Arc<Mutex<Vec<Email>>>,
}

#[async_trait]
impl EmailProvider for Recorder {
    fn slug(&self) -> &'static str {
        "recorder"
    }

    async fn send(&self, _key: &str, message: &Email) -> ProviderResult<()> {
        self.sent.lock().unwrap().push(message.clone());
        Ok(())
    }
}

/// The built-in room under another slug: a second conversation provider. Records the rooms
/// it is asked to change.
struct OtherRoom {
    inner: Arc<dyn ConversationProvider>,
    touched: Arc<Mutex<Vec<String>>>,
}

impl OtherRoom {
    fn touch(&self, id: &str) {
        self.touched.lock().unwrap().push(id.to_string());
    }
}

#[async_trait]
impl ConversationProvider for OtherRoom {
    fn slug(&self) -> &'static str {
        "other-room"
    }
    async fn create(&self, key: &str, ctx: &IncidentContext) -> ProviderResult<Created> {
        self.inner.create(key, ctx).await
    }
    async fn set_topic(&self, id: &str, topic: &str) -> ProviderResult<()> {
        self.touch(id);
        self.inner.set_topic(id, topic).await
    }
    async fn bookmark(&self, id: &str, title: &str, link: &str) -> ProviderResult<()> {
        self.touch(id);
        self.inner.bookmark(id, title, link).await
    }
    async fn add_members(&self, id: &str, emails: &[String]) -> ProviderResult<()> {
        self.touch(id);
        self.inner.add_members(id, emails).await
    }
    async fn post(&self, id: &str, key: Option<&str>, m: &RichMessage) -> ProviderResult<()> {
        self.touch(id);
        self.inner.post(id, key, m).await
    }
    async fn set_archived(&self, id: &str, archived: bool) -> ProviderResult<()> {
        self.touch(id);
        self.inner.set_archived(id, archived).await
    }
    async fn direct_message(
        &self,
        email: &str,
        key: Option<&str>,
        m: &RichMessage,
    ) -> ProviderResult<()> {
        self.inner.direct_message(email, key, m).await
    }
}

/// An external on-call service: carol is on call everywhere, dave is next; pages are recorded.
struct Pager {
    pages: Arc<Mutex<Vec<PageRequest>>>,
}

fn shift(email: &str, at: DateTime<Utc>) -> Shift {
    Shift {
        email: email.into(),
        starts_at: at - chrono::Duration::hours(1),
        ends_at: at + chrono::Duration::hours(1),
        overridden: false,
    }
}

#[async_trait]
impl OnCallProvider for Pager {
    fn slug(&self) -> &'static str {
        "test-pager"
    }
    async fn on_call(
        &self,
        _s: &OnCallService,
        at: DateTime<Utc>,
    ) -> ProviderResult<Option<Shift>> {
        Ok(Some(shift("carol@example.com", at)))
    }
    async fn next(&self, _s: &OnCallService, at: DateTime<Utc>) -> ProviderResult<Option<Shift>> {
        Ok(Some(shift("dave@example.com", at)))
    }
    async fn page(&self, page: &PageRequest) -> ProviderResult<Option<String>> {
        self.pages.lock().unwrap().push(page.clone());
        Ok(Some(format!("PD-{}", page.page_id)))
    }
}

fn resource<'a>(incident: &'a Value, kind: &str) -> &'a Value {
    incident["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} resource: {incident}"))
}

fn event_types(timeline: &Value) -> Vec<String> {
    timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

async fn app_with_recorder_and_other_room(
    sent: Arc<Mutex<Vec<Email>>>,
    touched: Arc<Mutex<Vec<String>>>,
) -> TestApp {
    TestApp::builder()
        .registry(|_, r| {
            let inner = r.conversation.find("dispatch-room").unwrap().clone();
            r.conversation.add(Arc::new(OtherRoom { inner, touched }));
            r.email.add(Arc::new(Recorder { sent }));
        })
        .spawn()
        .await
}

#[tokio::test]
async fn two_projects_each_use_the_providers_they_chose() {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let touched = Arc::new(Mutex::new(Vec::new()));
    let app = app_with_recorder_and_other_room(sent.clone(), touched.clone()).await;
    let ops = app
        .post("/projects", json!({"name": "Ops", "key_prefix": "OPS"}))
        .await;
    assert_eq!(ops.status, StatusCode::CREATED, "{:?}", ops.body);
    assert_eq!(ops.body["providers"], json!({}));
    assert_eq!(ops.body["effective_providers"]["email"], "dispatch-outbox");

    // Before choosing, the project uses the server's defaults.
    let before = app
        .post(
            "/incidents",
            json!({"title": "Before", "description": "d", "project": "ops"}),
        )
        .await
        .body;
    assert_eq!(
        resource(&before, "conversation")["provider"],
        "dispatch-room"
    );
    app.run_pending_jobs().await;

    let chose = app
        .patch(
            "/projects/ops",
            json!({"providers": {"email": "recorder", "conversation": "other-room"}}),
        )
        .await;
    assert_eq!(chose.status, StatusCode::OK, "{:?}", chose.body);
    assert_eq!(
        chose.body["providers"],
        json!({"conversation": "other-room", "email": "recorder"})
    );
    let shown = app.get("/projects/ops").await.body;
    assert_eq!(shown["effective_providers"]["email"], "recorder");
    assert_eq!(shown["effective_providers"]["conversation"], "other-room");
    assert_eq!(shown["effective_providers"]["ticket"], "dispatch-ticket");
    let default = app.get("/projects/default").await.body;
    assert_eq!(default["providers"], json!({}));
    assert_eq!(default["effective_providers"]["email"], "dispatch-outbox");

    app.declare("In the default project").await;
    let declared = app
        .post(
            "/incidents",
            json!({"title": "In ops", "description": "d", "project": "ops"}),
        )
        .await
        .body;
    assert_eq!(declared["name"], "OPS-2");
    assert_eq!(
        resource(&declared, "conversation")["provider"],
        "other-room",
        "the pending resource already names the project's provider"
    );
    for key in ["INC-1", "OPS-1", "OPS-2"] {
        let r = app
            .post(
                &format!("/incidents/{key}/roles"),
                json!({"email": "bea@example.com", "role": "scribe"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    }
    app.run_pending_jobs().await;

    let inc = app.get("/incidents/INC-1").await.body;
    let conv = resource(&inc, "conversation");
    assert_eq!(
        (&conv["provider"], &conv["status"]),
        (&json!("dispatch-room"), &json!("ready"))
    );
    let ops2 = app.get("/incidents/OPS-2").await.body;
    let conv = resource(&ops2, "conversation");
    assert_eq!(
        (&conv["provider"], &conv["status"]),
        (&json!("other-room"), &json!("ready"))
    );
    // OPS-1's room was made before the switch: its provider still looks after it.
    let ops1 = app.get("/incidents/OPS-1").await.body;
    let conv = resource(&ops1, "conversation");
    assert_eq!(conv["provider"], "dispatch-room");
    let room = app.get("/incidents/OPS-1/room").await.body;
    assert!(
        room["members"]
            .as_array()
            .unwrap()
            .contains(&json!("bea@example.com")),
        "{room}"
    );
    let ops2_room = resource(&ops2, "conversation")["external_id"].clone();
    let touched = touched.lock().unwrap().clone();
    assert!(
        !touched.is_empty() && touched.iter().all(|id| json!(id) == ops2_room),
        "{touched:?}"
    );

    // The welcome mail of OPS-2 went through the recorder, INC-1's stayed in the outbox.
    // Mail follows the project's choice at the time it is sent: both OPS incidents' welcomes.
    let recorded = sent.lock().unwrap().clone();
    let mut subjects: Vec<_> = recorded.iter().map(|m| &m.subject[..7]).collect();
    subjects.sort();
    assert_eq!(subjects, ["[OPS-1]", "[OPS-2]"], "{recorded:?}");
    assert!(recorded.iter().all(|m| m.to == ["bea@example.com"]));
    let outbox = app.get("/outbox?to=bea@example.com").await.body;
    let mut by: Vec<(String, String)> = outbox
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["incident"].as_str().unwrap().to_string(),
                m["provider"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    by.sort();
    assert_eq!(
        by,
        [
            ("INC-1".to_string(), "dispatch-outbox".to_string()),
            ("OPS-1".to_string(), "recorder".to_string()),
            ("OPS-2".to_string(), "recorder".to_string())
        ]
    );
}

#[tokio::test]
async fn a_bad_provider_choice_is_a_422_naming_each_field() {
    let app = app_with_recorder_and_other_room(Default::default(), Default::default()).await;
    let r = app
        .patch(
            "/projects/default",
            json!({"providers": {"conversation": "slack", "chat": "x", "email": 3}, "name": "Renamed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let mut fields = error_fields(&r.body);
    fields.sort();
    assert_eq!(
        fields,
        [
            "providers.chat",
            "providers.conversation",
            "providers.email"
        ]
    );
    let message = r.body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "providers.conversation")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("\"slack\"") && message.contains("dispatch-room, other-room"),
        "{message}"
    );
    let unchanged = app.get("/projects/default").await.body;
    assert_eq!(unchanged["name"], "Default", "nothing half-written");
    assert_eq!(unchanged["providers"], json!({}));

    let r = app
        .patch("/projects/default", json!({"providers": "recorder"}))
        .await;
    assert_eq!(error_fields(&r.body), ["providers"]);
    let r = app
        .post(
            "/projects",
            json!({"name": "X", "key_prefix": "XX", "providers": {"ticket": "jira"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r.body), ["providers.ticket"]);
    assert_eq!(app.get("/projects/x").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_choice_set_to_null_goes_back_to_the_default() {
    let app = app_with_recorder_and_other_room(Default::default(), Default::default()).await;
    let set = app
        .patch(
            "/projects/default",
            json!({"providers": {"email": "recorder", "conversation": "other-room"}}),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    let one = app
        .patch("/projects/default", json!({"providers": {"email": null}}))
        .await
        .body;
    assert_eq!(one["providers"], json!({"conversation": "other-room"}));
    assert_eq!(one["effective_providers"]["email"], "dispatch-outbox");
    let none = app
        .patch("/projects/default", json!({"providers": null}))
        .await
        .body;
    assert_eq!(none["providers"], json!({}));
    assert_eq!(none["effective_providers"]["conversation"], "dispatch-room");
}

#[tokio::test]
async fn the_providers_endpoint_lists_every_capability_with_its_choices() {
    let app = app_with_recorder_and_other_room(Default::default(), Default::default()).await;
    let list = app.get("/providers").await.body;
    let caps: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["capability"].as_str().unwrap())
        .collect();
    assert_eq!(
        caps,
        [
            "ticket",
            "storage",
            "conference",
            "document",
            "conversation",
            "email",
            "webhook",
            "oncall",
            "contact",
            "group"
        ]
    );
    let email = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["capability"] == "email")
        .unwrap();
    assert_eq!(email["providers"], json!(["dispatch-outbox", "recorder"]));
    assert_eq!(email["default"], "dispatch-outbox");
}

#[tokio::test]
async fn an_external_on_call_provider_picks_the_commander_and_is_paged_with_mail_and_a_dm() {
    let pages = Arc::new(Mutex::new(Vec::new()));
    let recorded = pages.clone();
    let app = TestApp::builder()
        .registry(|_, r| {
            r.oncall.add(Arc::new(Pager { pages: recorded }));
        })
        .spawn()
        .await;
    let r = app
        .patch(
            "/projects/default",
            json!({"providers": {"oncall": "test-pager"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let svc = app
        .post(
            "/projects/default/services",
            json!({"name": "payments", "external_id": "PXYZ"}),
        )
        .await;
    let sid = svc.body["id"].as_i64().unwrap();
    let oncall = app.get(&format!("/services/{sid}/oncall")).await.body;
    assert_eq!(oncall["current"]["email"], "carol@example.com", "{oncall}");
    assert_eq!(oncall["next"]["email"], "dave@example.com");
    app.post(
        "/projects/default/role-policies",
        json!({"role": "incident_commander", "priority": "high", "service_id": sid}),
    )
    .await;

    let high = app
        .post(
            "/incidents",
            json!({"title": "Cards declined", "description": "d", "priority": "high"}),
        )
        .await
        .body;
    assert_eq!(high["commander"]["email"], "carol@example.com");
    app.run_pending_jobs().await;

    let sent = pages.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "paged once: {sent:?}");
    assert_eq!(sent[0].email, "carol@example.com");
    let service = sent[0].service.clone().unwrap();
    assert_eq!(
        (service.id, service.external_id.as_deref()),
        (sid, Some("PXYZ"))
    );
    assert!(sent[0].reason.starts_with("INC-1: Cards declined"));

    // The person hears it by e-mail and by direct message too.
    let mail = app.get("/outbox?to=carol@example.com").await.body;
    assert!(mail
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["subject"].as_str().unwrap().starts_with("[PAGE] INC-1")));
    let dms = app
        .get("/messages/direct?email=carol@example.com")
        .await
        .body;
    assert_eq!(dms.as_array().unwrap().len(), 1, "{dms}");
    assert!(dms[0]["text"]
        .as_str()
        .unwrap()
        .starts_with("You were paged: INC-1: Cards declined"));
    let carol = app.token_for("carol@example.com").await;
    let own = app
        .call_as(Some(&carol), Method::GET, "/messages/direct", None)
        .await
        .body;
    assert_eq!(own, dms, "a person reads their own direct messages");
    let timeline = event_types(&app.get("/incidents/INC-1/timeline").await.body);
    for kind in [
        "commander_paged",
        "page_sent",
        "direct_message_sent",
        "email_sent",
    ] {
        assert!(timeline.contains(&kind.to_string()), "{kind}: {timeline:?}");
    }
    let bad = app.get("/messages/direct?email=nope&limit=0").await;
    let mut fields = error_fields(&bad.body);
    fields.sort();
    assert_eq!(fields, ["email", "limit"]);
}

#[tokio::test]
async fn the_participant_group_follows_the_incidents_people_and_is_mailed_the_tactical_report() {
    let app = spawn_app().await;
    app.declare("Queue backlog").await;
    app.run_pending_jobs().await;
    let i = app.get("/incidents/INC-1").await.body;
    let g = resource(&i, "group");
    assert_eq!(
        (&g["provider"], &g["status"]),
        (&json!("dispatch-group"), &json!("ready"))
    );
    assert!(g["link"]
        .as_str()
        .unwrap()
        .ends_with(":8080/incidents/INC-1/group"));
    assert_eq!(
        app.get("/incidents/INC-1/group").await.body["members"],
        json!(["admin@example.com"])
    );

    app.post(
        "/incidents/INC-1/roles",
        json!({"email": "bea@example.com", "role": "scribe"}),
    )
    .await;
    app.run_pending_jobs().await;
    assert_eq!(
        app.get("/incidents/INC-1/group").await.body["members"],
        json!(["admin@example.com", "bea@example.com"])
    );
    let timeline = app.get("/incidents/INC-1/timeline").await.body;
    let changed: Vec<_> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "group_members_changed")
        .collect();
    assert_eq!(changed.len(), 1, "{timeline}");
    assert_eq!(
        changed[0]["description"],
        "participant group: added bea@example.com"
    );

    let r = app
        .post(
            "/incidents/INC-1/reports",
            json!({"kind": "tactical", "conditions": "backlog at 2M", "actions": "scaling consumers", "needs": "none"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    app.run_pending_jobs().await;
    let outbox = app.get("/outbox?incident=INC-1").await.body;
    let report = outbox
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["subject"] == "[INC-1] Tactical report: Queue backlog")
        .unwrap_or_else(|| panic!("the report is mailed: {outbox}"));
    assert_eq!(
        report["to"],
        json!(["admin@example.com", "bea@example.com"])
    );
    assert!(report["text"]
        .as_str()
        .unwrap()
        .contains("scaling consumers"));

    // Someone removed from the incident leaves the group.
    app.post(
        "/incidents/INC-1/roles",
        json!({"email": "carl@example.com", "role": "participant"}),
    )
    .await;
    app.run_pending_jobs().await;
    app.remove_participant("INC-1", "bea@example.com").await;
    app.run_pending_jobs().await;
    assert_eq!(
        app.get("/incidents/INC-1/group").await.body["members"],
        json!(["admin@example.com", "carl@example.com"])
    );
    let timeline = app
        .get("/incidents/INC-1/timeline?type=group_members_changed")
        .await
        .body;
    assert!(
        timeline
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["description"] == "participant group: removed bea@example.com"),
        "{timeline}"
    );

    // Someone who joins by themselves is in it too.
    let dan = app.token_for("dan@example.com").await;
    let r = app
        .call_as(Some(&dan), Method::POST, "/incidents/INC-1/join", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    let members = json!(["admin@example.com", "carl@example.com", "dan@example.com"]);
    assert_eq!(
        app.get("/incidents/INC-1/group").await.body["members"],
        members
    );

    // Closing renounces every role, but the group keeps its people.
    app.call(Method::POST, "/incidents/INC-1/close", None).await;
    app.run_pending_jobs().await;
    assert_eq!(
        app.get("/incidents/INC-1/group").await.body["members"],
        members
    );
}

#[tokio::test]
async fn the_contact_directory_answers_by_e_mail() {
    let app = spawn_app().await;
    let r = app.get("/contacts/Admin@Example.com").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["email"], "admin@example.com");
    assert_eq!(r.body["provider"], "dispatch-directory");
    assert_eq!(
        app.get("/contacts/nobody@example.com").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        error_fields(&app.get("/contacts/not-an-email").await.body),
        ["email"]
    );
    assert_eq!(
        error_fields(
            &app.get("/contacts/admin@example.com?project=nope")
                .await
                .body
        ),
        ["project"]
    );
}
