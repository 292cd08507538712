//! Who may call which route: one table, enforced by one layer. Every API route has exactly one
//! entry (method + path template → what it needs); a route without an entry is refused, and the
//! permission matrix test, generated from this same table and the OpenAPI document, fails for it.
//!
//! The layer authenticates the caller (API token, web session or trusted proxy header), checks
//! the credential's scope (a read token cannot write; configuration needs an admin-scope
//! credential), the organization role, and for per-incident routes the engine's incident check
//! (a restricted incident the caller may not see is *not found*). It then hands the caller to the
//! handler as [`Auth`] and records writes in the audit log.

use crate::auth::{self, Auth, CSRF_HEADER, SESSION_COOKIE};
use crate::error::ApiError;
use crate::trusted;
use crate::AppState;
use axum::extract::{MatchedPath, RawPathParams, Request, State};
use axum::http::{header, request::Parts, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dispatch_core::permission::Action;
use dispatch_core::values::IncidentRef;
use dispatch_core::{IncidentId, OrgRole, TokenScope};
use dispatch_engine::access::{Authenticated, Owned};
use dispatch_engine::accounts::projects::Configured;

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nothing: anyone, signed in or not.
    Public,
    /// No sign-in: the handler verifies the request's own signature (Slack's). These routes are
    /// called by the chat service, not by API clients, and are not in the OpenAPI document.
    Signed,
    /// Any signed-in person.
    Member,
    /// At least this organization role.
    Role(OrgRole),
    /// The `{id}` path parameter names an incident; the caller may do this action in it (the one
    /// rule of [`dispatch_core::permission`] decides).
    Incident(Action),
    /// The `{id}` path parameter names an incident that the handler reads under the caller's
    /// visibility in the same query (one they may not see is *not found*, exactly like one that
    /// does not exist): the layer only authenticates. For reads whose one rule is seeing the
    /// incident, so that its visibility costs no statement of its own.
    Seen,
    /// The `{id}` path parameter names a record of an incident; the caller may do this action in
    /// that incident (a job of no incident needs an admin).
    Owned(Owned, Action),
    /// At least this organization role, or the admin role in the project the route addresses
    /// (see [`Scoped`]).
    Project(OrgRole, Scoped),
    /// The `{id}` path parameter names a case; the caller may do this case action in it (the
    /// one rule of [`dispatch_core::permission`] decides; a case of a members-only project the
    /// caller does not use is *not found*).
    Case(Action),
}

/// How a [`Need::Project`] route names its project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scoped {
    /// The `{slug}` path parameter.
    Slug,
    /// The `{id}` path parameter names a configuration record of a project.
    Record(Configured),
    /// The request body names it: the layer lets project admins through and the handler
    /// checks the project it names ([`Auth::require_configure`]).
    Body,
}

/// One route's rule.
#[derive(Debug, Clone, Copy)]
pub struct RoutePolicy {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// The path template as the OpenAPI document writes it.
    pub path: &'static str,
    /// What it needs.
    pub need: Need,
}

const fn r(method: &'static str, path: &'static str, need: Need) -> RoutePolicy {
    RoutePolicy { method, path, need }
}

use Action::*;
use Need::{Incident, Member, Public, Role};
const ADMIN: Need = Role(OrgRole::Admin);
const MANAGER: Need = Role(OrgRole::Manager);
const OWNER: Need = Role(OrgRole::Owner);
/// An organization admin, or the admin of the `{slug}` project.
const P_ADMIN: Need = Need::Project(OrgRole::Admin, Scoped::Slug);
/// An organization manager, or the admin of the `{slug}` project.
const P_MANAGER: Need = Need::Project(OrgRole::Manager, Scoped::Slug);
/// An organization admin, or the admin of the project the body names.
const BODY_ADMIN: Need = Need::Project(OrgRole::Admin, Scoped::Body);
/// An organization admin, or the admin of the project the `{id}` record belongs to.
const fn rec(kind: Configured) -> Need {
    Need::Project(OrgRole::Admin, Scoped::Record(kind))
}

/// Every route and what it needs.
pub const POLICIES: &[RoutePolicy] = &[
    // Documentation and sign-in.
    r("GET", "/api/v1/openapi.json", Public),
    r("GET", "/api/v1/docs", Public),
    r("GET", "/auth/login", Public),
    r("POST", "/auth/login", Public),
    r("GET", "/auth/setup", Public),
    r("POST", "/auth/setup", Public),
    r("GET", "/auth/oidc/login", Public),
    r("GET", "/auth/oidc/callback", Public),
    r("POST", "/auth/logout", Member),
    // A stakeholder's signed unsubscribe link: the token is the credential.
    r("GET", "/unsubscribe", Public),
    r("POST", "/unsubscribe", Public),
    // The web UI (HTML pages, not in the OpenAPI document: `ui::ROUTES` lists them). Each page
    // needs what the API calls it makes need.
    r("GET", "/", Member),
    r("GET", "/assets/{name}", Public),
    r("GET", "/incidents", Member),
    r("GET", "/incidents.csv", Member),
    // Saved views: everyone keeps their own (someone else's is not found).
    r("POST", "/views", Member),
    r("POST", "/views/{id}/delete", Member),
    r("GET", "/report", Member),
    r("POST", "/report", Member),
    r("GET", "/report/similar", Member),
    r("GET", "/incidents/{id}", Incident(View)),
    r("GET", "/incidents/{id}/events", Incident(View)),
    r("POST", "/incidents/{id}/stable", Incident(ChangeStatus)),
    r("GET", "/incidents/{id}/close", Incident(ChangeStatus)),
    r("POST", "/incidents/{id}/close", Incident(ChangeStatus)),
    r("POST", "/incidents/{id}/reopen", Incident(ChangeStatus)),
    r("POST", "/incidents/{id}/edit", Incident(EditIncident)),
    r("POST", "/incidents/{id}/room", Incident(PostInRoom)),
    r("POST", "/incidents/{id}/tasks", Incident(CreateTask)),
    r(
        "POST",
        "/incidents/{id}/tasks/{task_id}/resolve",
        Incident(ResolveTask),
    ),
    r("POST", "/incidents/{id}/reports", Incident(WriteReport)),
    r(
        "POST",
        "/jobs/{id}/retry",
        Need::Owned(Owned::Job, RetryJob),
    ),
    r("GET", "/tasks", Member),
    r("GET", "/oncall", Member),
    // Signal pages and cases: the API's rules (reading for everyone; definitions and filters
    // changed by an admin or the project's; each move of a case its case action).
    r("GET", "/signals", Member),
    r("GET", "/projects/{slug}/signal-definitions/new", P_ADMIN),
    r("POST", "/projects/{slug}/signal-definitions", P_ADMIN),
    r("GET", "/projects/{slug}/signal-definitions/{id}", P_ADMIN),
    r("POST", "/projects/{slug}/signal-definitions/{id}", P_ADMIN),
    r(
        "POST",
        "/projects/{slug}/signal-definitions/{id}/{action}",
        P_ADMIN,
    ),
    r("GET", "/signal-filters", Member),
    r("POST", "/signal-filters", BODY_ADMIN),
    r("GET", "/signal-filters/new", BODY_ADMIN),
    r("GET", "/signal-filters/{id}", rec(Configured::SignalFilter)),
    r(
        "POST",
        "/signal-filters/{id}",
        rec(Configured::SignalFilter),
    ),
    r(
        "POST",
        "/signal-filters/{id}/delete",
        rec(Configured::SignalFilter),
    ),
    r("GET", "/cases", Member),
    r("GET", "/cases/{id}", Need::Case(ViewCase)),
    r("GET", "/cases/{id}/events", Need::Case(ViewCase)),
    r("POST", "/cases/{id}/triage", Need::Case(TriageCase)),
    r("POST", "/cases/{id}/escalate", Need::Case(EscalateCase)),
    r("POST", "/cases/{id}/stable", Need::Case(StabilizeCase)),
    r("POST", "/cases/{id}/close", Need::Case(CloseCase)),
    r("POST", "/cases/{id}/snooze", Need::Case(SnoozeCase)),
    r("POST", "/cases/{id}/assign", Need::Case(EditCase)),
    r("POST", "/cases/{id}/tags", Need::Case(EditCase)),
    r("POST", "/cases/{id}/room", Need::Case(ViewCase)),
    r("POST", "/oncall/overrides", ADMIN),
    r("POST", "/pages/{id}/ack", Need::Owned(Owned::Page, AckPage)),
    // What an incident's links open: the same rules as their API routes.
    r("GET", "/documents/{id}", Need::Owned(Owned::Document, View)),
    r(
        "POST",
        "/documents/{id}",
        Need::Owned(Owned::Document, EditDocument),
    ),
    r("GET", "/incidents/{id}/files", Incident(View)),
    r("POST", "/incidents/{id}/files", Incident(PostInRoom)),
    r("GET", "/files/{id}", Need::Owned(Owned::File, View)),
    r("GET", "/incidents/{id}/group", Incident(View)),
    r("GET", "/incidents/{id}/room", Incident(View)),
    r("GET", "/pages/{id}", Need::Owned(Owned::Page, View)),
    // Settings pages: admins (a section that needs more, like projects or people, refuses
    // the change itself, as its API route would). The dashboard counts what the caller sees.
    r("GET", "/settings", ADMIN),
    r("GET", "/settings/{section}", ADMIN),
    r("POST", "/settings/{section}", ADMIN),
    r("GET", "/settings/{section}/new", ADMIN),
    r("GET", "/settings/{section}/{id}", ADMIN),
    r("POST", "/settings/{section}/{id}", ADMIN),
    r("POST", "/settings/{section}/{id}/{action}", ADMIN),
    r("GET", "/dashboard", Member),
    r("GET", "/dashboard.csv", Member),
    // Responders' pages: timeline tools, people, documents, reports, feedback, account, status.
    r("GET", "/incidents/{id}/timeline", Incident(View)),
    r(
        "POST",
        "/incidents/{id}/timeline",
        Incident(AddTimelineEvent),
    ),
    r("GET", "/incidents/{id}/timeline.md", Incident(View)),
    r(
        "POST",
        "/incidents/{id}/timeline/{event_id}/pin",
        Incident(PinEvent),
    ),
    r(
        "POST",
        "/incidents/{id}/timeline/{event_id}/unpin",
        Incident(PinEvent),
    ),
    r("POST", "/incidents/{id}/roles", Incident(AssignRole)),
    r("POST", "/incidents/{id}/engage", Incident(EngageOncall)),
    r("POST", "/incidents/{id}/join", Incident(Join)),
    r("POST", "/incidents/{id}/subscribe", Incident(Subscribe)),
    r(
        "POST",
        "/incidents/{id}/documents/{document_id}",
        Incident(EditDocument),
    ),
    r(
        "POST",
        "/incidents/{id}/reports/executive",
        Incident(WriteReport),
    ),
    r("POST", "/incidents/{id}/feedback", Incident(GiveFeedback)),
    r("GET", "/account", Member),
    r("POST", "/account/tokens", Member),
    r("POST", "/account/tokens/{id}/revoke", Member),
    r("GET", "/status", Member),
    // Accounts: everyone manages their own tokens; owners manage people and roles.
    r("GET", "/api/v1/me", Member),
    r("GET", "/api/v1/tokens", Member),
    r("POST", "/api/v1/tokens", Member),
    r("DELETE", "/api/v1/tokens/{id}", Member),
    r("GET", "/api/v1/users", ADMIN),
    r("POST", "/api/v1/users", OWNER),
    r("PATCH", "/api/v1/users/{id}", OWNER),
    r("POST", "/api/v1/users/{id}/setup-link", OWNER),
    r("GET", "/api/v1/audit", ADMIN),
    // Incidents. Lists are filtered to what the caller may see by the store.
    r("POST", "/api/v1/incidents", Member),
    r("GET", "/api/v1/incidents", Member),
    r("GET", "/api/v1/incidents/{id}", Need::Seen),
    r("PATCH", "/api/v1/incidents/{id}", Incident(EditIncident)),
    r(
        "POST",
        "/api/v1/incidents/{id}/stable",
        Incident(ChangeStatus),
    ),
    r(
        "POST",
        "/api/v1/incidents/{id}/close",
        Incident(ChangeStatus),
    ),
    r(
        "POST",
        "/api/v1/incidents/{id}/reopen",
        Incident(ChangeStatus),
    ),
    r("POST", "/api/v1/incidents/{id}/roles", Incident(AssignRole)),
    r("GET", "/api/v1/incidents/{id}/participants", Incident(View)),
    // Similar incidents: the store leaves out those the caller may not see.
    r("GET", "/api/v1/incidents/{id}/similar", Incident(View)),
    r("GET", "/api/v1/incidents/{id}/timeline", Incident(View)),
    r(
        "POST",
        "/api/v1/incidents/{id}/timeline",
        Incident(AddTimelineEvent),
    ),
    r(
        "GET",
        "/api/v1/incidents/{id}/timeline/verify",
        Incident(View),
    ),
    r(
        "POST",
        "/api/v1/incidents/{id}/timeline/{event_id}/pin",
        Incident(PinEvent),
    ),
    r(
        "DELETE",
        "/api/v1/incidents/{id}/timeline/{event_id}/pin",
        Incident(PinEvent),
    ),
    r("GET", "/api/v1/incidents/{id}/tasks", Incident(View)),
    r("POST", "/api/v1/incidents/{id}/tasks", Incident(CreateTask)),
    r(
        "GET",
        "/api/v1/incidents/{id}/tasks/{task_id}",
        Incident(View),
    ),
    r(
        "PATCH",
        "/api/v1/incidents/{id}/tasks/{task_id}",
        Incident(ResolveTask),
    ),
    r("GET", "/api/v1/incidents/{id}/reports", Incident(View)),
    r(
        "POST",
        "/api/v1/incidents/{id}/reports",
        Incident(WriteReport),
    ),
    // Ratings and comments are for those who run the response: admins, the IC, the reporter.
    r(
        "GET",
        "/api/v1/incidents/{id}/feedback",
        Incident(ReadFeedback),
    ),
    r(
        "POST",
        "/api/v1/incidents/{id}/feedback",
        Incident(GiveFeedback),
    ),
    r("GET", "/api/v1/incidents/{id}/room", Incident(View)),
    r(
        "GET",
        "/api/v1/incidents/{id}/room/messages",
        Incident(View),
    ),
    r(
        "POST",
        "/api/v1/incidents/{id}/room/messages",
        Incident(PostInRoom),
    ),
    r(
        "POST",
        "/api/v1/incidents/{id}/room/messages/{message_id}/reactions",
        Incident(PostInRoom),
    ),
    // Chat commands: the engine checks each command's own action, by the same rule, on top of
    // seeing the incident.
    r("POST", "/api/v1/incidents/{id}/commands", Incident(View)),
    r("GET", "/api/v1/incidents/{id}/group", Incident(View)),
    r(
        "GET",
        "/api/v1/incidents/{id}/group/notifications",
        Incident(View),
    ),
    r(
        "POST",
        "/api/v1/incidents/{id}/group/notifications/members",
        Incident(EditNotificationsGroup),
    ),
    r(
        "DELETE",
        "/api/v1/incidents/{id}/group/notifications/members/{email}",
        Incident(EditNotificationsGroup),
    ),
    r("GET", "/api/v1/tasks", Member),
    // Metrics count only the incidents the caller may see.
    r("GET", "/api/v1/metrics", Member),
    // Joining and subscribing: the engine refuses restricted incidents (unless admin) and
    // projects that disallow self-join.
    r("POST", "/api/v1/incidents/{id}/join", Incident(Join)),
    r(
        "POST",
        "/api/v1/incidents/{id}/subscribe",
        Incident(Subscribe),
    ),
    // Unsubscribing is open to anyone who sees the incident: it only stops mail to the caller.
    r("DELETE", "/api/v1/incidents/{id}/subscribe", Incident(View)),
    r("GET", "/api/v1/incidents/{id}/subscribers", Incident(View)),
    r(
        "DELETE",
        "/api/v1/incidents/{id}/participants/{email}",
        Incident(RemoveParticipant),
    ),
    r("GET", "/api/v1/incidents/{id}/engagements", Incident(View)),
    r("GET", "/api/v1/incidents/{id}/documents", Incident(View)),
    r(
        "PATCH",
        "/api/v1/incidents/{id}/documents/{document_id}",
        Incident(EditDocument),
    ),
    r("GET", "/api/v1/incidents/{id}/timeline.md", Incident(View)),
    r("GET", "/api/v1/incidents/{id}/files", Incident(View)),
    r("POST", "/api/v1/incidents/{id}/files", Incident(PostInRoom)),
    r(
        "GET",
        "/api/v1/documents/{id}",
        Need::Owned(Owned::Document, View),
    ),
    r("GET", "/api/v1/files/{id}", Need::Owned(Owned::File, View)),
    // Operations.
    r("GET", "/api/v1/jobs", Member),
    r(
        "POST",
        "/api/v1/jobs/{id}/retry",
        Need::Owned(Owned::Job, RetryJob),
    ),
    r("GET", "/api/v1/outbox", Member),
    r("GET", "/api/v1/messages/direct", Member),
    r("GET", "/api/v1/providers", Member),
    // It calls the vendors with the server's credentials.
    r("GET", "/api/v1/providers/check", ADMIN),
    r("GET", "/api/v1/contacts/{email}", Member),
    // Slack's requests carry no token: each is verified by its signature instead.
    r("POST", "/api/v1/slack/commands", Need::Signed),
    r("POST", "/api/v1/slack/events", Need::Signed),
    r("POST", "/api/v1/slack/interactions", Need::Signed),
    // The Bot Connector's activities carry its own JWT, checked by the Teams transport.
    r("POST", "/api/v1/teams/messages", Need::Signed),
    // PagerDuty's webhook: verified by its X-PagerDuty-Signature.
    r("POST", "/api/v1/providers/pagerduty/webhook", Need::Signed),
    r("GET", "/api/v1/pages", Member),
    r(
        "POST",
        "/api/v1/pages/{id}/ack",
        Need::Owned(Owned::Page, AckPage),
    ),
    // Projects: managers create and change them.
    r("GET", "/api/v1/projects", Member),
    r("POST", "/api/v1/projects", MANAGER),
    r("GET", "/api/v1/projects/{slug}", Member),
    r("PATCH", "/api/v1/projects/{slug}", P_MANAGER),
    // Sending the weekly report now: what the project's admins may configure.
    r("POST", "/api/v1/projects/{slug}/weekly-report", P_ADMIN),
    // An incident's costs: whoever sees it. Cost models and types: project admins change them.
    r("GET", "/api/v1/incidents/{id}/costs", Incident(View)),
    r("GET", "/api/v1/projects/{slug}/cost-models", Member),
    r("POST", "/api/v1/projects/{slug}/cost-models", P_ADMIN),
    r("GET", "/api/v1/projects/{slug}/cost-models/{id}", Member),
    r("PATCH", "/api/v1/projects/{slug}/cost-models/{id}", P_ADMIN),
    r(
        "DELETE",
        "/api/v1/projects/{slug}/cost-models/{id}",
        P_ADMIN,
    ),
    r("GET", "/api/v1/projects/{slug}/cost-types", Member),
    r("POST", "/api/v1/projects/{slug}/cost-types", P_ADMIN),
    r("GET", "/api/v1/projects/{slug}/cost-types/{id}", Member),
    r("PATCH", "/api/v1/projects/{slug}/cost-types/{id}", P_ADMIN),
    r("DELETE", "/api/v1/projects/{slug}/cost-types/{id}", P_ADMIN),
    // Taxonomies, rules and the directory: admins change them, everyone reads them.
    r("GET", "/api/v1/taxonomies", Member),
    r("GET", "/api/v1/projects/{slug}/incident-types", Member),
    r("POST", "/api/v1/projects/{slug}/incident-types", P_ADMIN),
    r("GET", "/api/v1/projects/{slug}/incident-types/{id}", Member),
    r(
        "PATCH",
        "/api/v1/projects/{slug}/incident-types/{id}",
        P_ADMIN,
    ),
    r("GET", "/api/v1/projects/{slug}/incident-priorities", Member),
    r(
        "POST",
        "/api/v1/projects/{slug}/incident-priorities",
        P_ADMIN,
    ),
    r(
        "GET",
        "/api/v1/projects/{slug}/incident-priorities/{id}",
        Member,
    ),
    r(
        "PATCH",
        "/api/v1/projects/{slug}/incident-priorities/{id}",
        P_ADMIN,
    ),
    r("GET", "/api/v1/projects/{slug}/incident-severities", Member),
    r(
        "POST",
        "/api/v1/projects/{slug}/incident-severities",
        P_ADMIN,
    ),
    r(
        "GET",
        "/api/v1/projects/{slug}/incident-severities/{id}",
        Member,
    ),
    r(
        "PATCH",
        "/api/v1/projects/{slug}/incident-severities/{id}",
        P_ADMIN,
    ),
    r("GET", "/api/v1/projects/{slug}/tag-types", Member),
    r("POST", "/api/v1/projects/{slug}/tag-types", P_ADMIN),
    r("GET", "/api/v1/projects/{slug}/tags", Member),
    r("POST", "/api/v1/projects/{slug}/tags", P_ADMIN),
    r("GET", "/api/v1/projects/{slug}/role-policies", Member),
    r("POST", "/api/v1/projects/{slug}/role-policies", P_ADMIN),
    r(
        "DELETE",
        "/api/v1/role-policies/{id}",
        rec(Configured::RolePolicy),
    ),
    r("GET", "/api/v1/individuals", Member),
    r("POST", "/api/v1/individuals", ADMIN),
    r("GET", "/api/v1/individuals/{id}", Member),
    r("PATCH", "/api/v1/individuals/{id}", ADMIN),
    r("GET", "/api/v1/projects/{slug}/teams", Member),
    r("POST", "/api/v1/projects/{slug}/teams", ADMIN),
    r("GET", "/api/v1/teams/{id}", Member),
    r("PATCH", "/api/v1/teams/{id}", ADMIN),
    r("DELETE", "/api/v1/teams/{id}", ADMIN),
    r("GET", "/api/v1/projects/{slug}/services", Member),
    r("POST", "/api/v1/projects/{slug}/services", ADMIN),
    r("GET", "/api/v1/services/{id}", Member),
    r("PATCH", "/api/v1/services/{id}", ADMIN),
    r("DELETE", "/api/v1/services/{id}", ADMIN),
    r("PUT", "/api/v1/services/{id}/rotation", ADMIN),
    r("GET", "/api/v1/services/{id}/oncall", Member),
    r("POST", "/api/v1/services/{id}/overrides", ADMIN),
    // Engagement and notification rules: admins change them, everyone reads them.
    r("GET", "/api/v1/engagement-rules", Member),
    r("POST", "/api/v1/engagement-rules", BODY_ADMIN),
    r("GET", "/api/v1/engagement-rules/{id}", Member),
    r(
        "PATCH",
        "/api/v1/engagement-rules/{id}",
        rec(Configured::EngagementRule),
    ),
    r(
        "DELETE",
        "/api/v1/engagement-rules/{id}",
        rec(Configured::EngagementRule),
    ),
    r("GET", "/api/v1/notification-rules", Member),
    r("POST", "/api/v1/notification-rules", BODY_ADMIN),
    r("GET", "/api/v1/notification-rules/{id}", Member),
    r(
        "PATCH",
        "/api/v1/notification-rules/{id}",
        rec(Configured::NotificationRule),
    ),
    r(
        "DELETE",
        "/api/v1/notification-rules/{id}",
        rec(Configured::NotificationRule),
    ),
    // Webhooks carry every incident's events: admins only.
    r("GET", "/api/v1/config/export", OWNER),
    // The schema describes the document's shape only; editors fetch it without credentials.
    r("GET", "/api/v1/config/schema", Public),
    r("POST", "/api/v1/config/plan", OWNER),
    r("POST", "/api/v1/config/apply", OWNER),
    r("GET", "/api/v1/webhooks", ADMIN),
    r("POST", "/api/v1/webhooks", ADMIN),
    r("GET", "/api/v1/webhooks/{id}", ADMIN),
    r("PATCH", "/api/v1/webhooks/{id}", ADMIN),
    r("DELETE", "/api/v1/webhooks/{id}", ADMIN),
    r("GET", "/api/v1/webhooks/{id}/deliveries", ADMIN),
    // Signals: admins configure definitions and filters; any signed-in caller (a source's
    // service account) sends alerts; everyone reads and works cases.
    r("GET", "/api/v1/projects/{slug}/signal-definitions", Member),
    r(
        "POST",
        "/api/v1/projects/{slug}/signal-definitions",
        P_ADMIN,
    ),
    r(
        "GET",
        "/api/v1/projects/{slug}/signal-definitions/{id}",
        Member,
    ),
    r(
        "PATCH",
        "/api/v1/projects/{slug}/signal-definitions/{id}",
        P_ADMIN,
    ),
    r(
        "DELETE",
        "/api/v1/projects/{slug}/signal-definitions/{id}",
        P_ADMIN,
    ),
    r("GET", "/api/v1/signal-definitions", Member),
    r("GET", "/api/v1/signal-filters", Member),
    r("POST", "/api/v1/signal-filters", BODY_ADMIN),
    r("GET", "/api/v1/signal-filters/{id}", Member),
    r(
        "PATCH",
        "/api/v1/signal-filters/{id}",
        rec(Configured::SignalFilter),
    ),
    r(
        "DELETE",
        "/api/v1/signal-filters/{id}",
        rec(Configured::SignalFilter),
    ),
    r("GET", "/api/v1/signal-instances", Member),
    r("POST", "/api/v1/signals/alertmanager", Member),
    r("POST", "/api/v1/signals/grafana", Member),
    r("POST", "/api/v1/signals/pagerduty", Member),
    r("POST", "/api/v1/signals/generic", Member),
    r("GET", "/api/v1/cases", Member),
    r("GET", "/api/v1/cases/{id}", Need::Case(ViewCase)),
    r("PATCH", "/api/v1/cases/{id}", Need::Case(EditCase)),
    r("POST", "/api/v1/cases/{id}/triage", Need::Case(TriageCase)),
    r("POST", "/api/v1/cases/{id}/snooze", Need::Case(SnoozeCase)),
    r(
        "POST",
        "/api/v1/cases/{id}/escalate",
        Need::Case(EscalateCase),
    ),
    r(
        "POST",
        "/api/v1/cases/{id}/stable",
        Need::Case(StabilizeCase),
    ),
    r("POST", "/api/v1/cases/{id}/close", Need::Case(CloseCase)),
    r("GET", "/api/v1/cases/{id}/room", Need::Case(ViewCase)),
    // Chat commands in the case's room: the engine checks each command's own case action, by
    // the same rule, on top of seeing the case.
    r(
        "POST",
        "/api/v1/cases/{id}/room/messages",
        Need::Case(ViewCase),
    ),
    // Per-project membership: org managers and owners, and the project's own admins.
    r("GET", "/api/v1/projects/{slug}/members", Member),
    r(
        "PUT",
        "/api/v1/projects/{slug}/members/{user_id}",
        P_MANAGER,
    ),
    r(
        "DELETE",
        "/api/v1/projects/{slug}/members/{user_id}",
        P_MANAGER,
    ),
];

/// A path template with its parameter names blanked, so `{id}` and `{task_id}` compare equal
/// whichever name the router and the OpenAPI document use.
pub fn shape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

/// The rule for a method and a path template (the first in [`POLICIES`] for it).
pub fn lookup(method: &str, path: &str) -> Option<&'static RoutePolicy> {
    /// [`POLICIES`] by method (upper case) and path shape, made once: every request looks up
    /// its rule, and comparing against each of two hundred shapes cost as much as the rest of
    /// a small request's routing.
    static BY_ROUTE: std::sync::LazyLock<
        std::collections::HashMap<(String, String), &'static RoutePolicy>,
    > = std::sync::LazyLock::new(|| {
        let mut map = std::collections::HashMap::new();
        for p in POLICIES {
            map.entry((p.method.to_ascii_uppercase(), shape(p.path)))
                .or_insert(p);
        }
        map
    });
    BY_ROUTE
        .get(&(method.to_ascii_uppercase(), shape(path)))
        .copied()
}

/// The scope a credential needs for a request: reads need `read`, configuration needs `admin`,
/// other writes `write`.
pub fn scope_needed(method: &Method, need: Need) -> TokenScope {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        TokenScope::Read
    } else if matches!(need, Need::Role(_) | Need::Project(..)) {
        TokenScope::Admin
    } else {
        TokenScope::Write
    }
}

/// The layer: finds the route's rule, authenticates and authorizes the caller, runs the handler
/// with the caller in the request, and audits writes.
pub async fn enforce(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let Some(policy) = lookup(req.method().as_str(), &template) else {
        tracing::error!(route = %template, method = %req.method(), "route has no access rule; refused");
        return ApiError::Forbidden("this route has no access rule".into()).into_response();
    };
    if matches!(policy.need, Public | Need::Signed) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let who = match authorize(&state, &mut parts, policy.need).await {
        Ok(who) => who,
        Err(e) => return e.into_response(),
    };
    let writes = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    let audit = writes.then(|| {
        let action = if matches!(policy.need, Need::Role(_) | Need::Project(..)) {
            "config.changed"
        } else {
            "api.write"
        };
        // Inside `/api/v1` the URI has lost its prefix; the original one has it.
        let path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or_else(|| parts.uri.path().to_string(), |u| u.path().to_string());
        let target = format!("{} {path}", parts.method);
        who.audit(action, target, &auth::origin(&parts, &state))
    });
    parts.extensions.insert(Auth(who));
    let req = Request::from_parts(parts, body);
    // Every change is audited: who, what, from where, with which credential. The entry rides in
    // the change's own transaction; a request that changed nothing in one gets it on its own
    // once it succeeded (a page's form that worked answers with a redirect to the next page).
    let (res, left) = match audit {
        Some(entry) => dispatch_engine::audit::with_pending(entry, next.run(req)).await,
        None => (next.run(req).await, None),
    };
    let worked = res.status().is_success() || res.status().is_redirection();
    if let Some(mut entry) = left.filter(|_| worked) {
        entry.details = serde_json::json!({"status": res.status().as_u16()});
        if let Err(e) = state.engine.audit().record(entry).await {
            tracing::error!(error = %e, "cannot write the audit log");
        }
    }
    res
}

/// The caller behind the request's credential: `None` when there is none or it is not live.
/// A session-authenticated request that changes state without the session's CSRF token is
/// refused. The bearer token and the session cookie come first; without either, the trusted
/// header ([`trusted`]) may name the caller.
async fn authenticate(
    parts: &mut Parts,
    state: &AppState,
) -> Result<Option<Authenticated>, ApiError> {
    if let Some(header) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
    {
        let Some((scheme, token)) = header.trim().split_once(' ') else {
            return Ok(None);
        };
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Ok(None);
        }
        return Ok(state
            .engine
            .credentials()
            .authenticate(token.trim())
            .await?);
    }
    if let Some(secret) = auth::cookie(&parts.headers, SESSION_COOKIE) {
        let Some(live) = state.engine.sessions().get(secret).await? else {
            return Ok(None);
        };
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !auth::constant_time_eq(sent.as_bytes(), live.csrf_token.as_bytes()) {
                return Err(ApiError::Forbidden(format!(
                    "a signed-in request that changes something needs the session's CSRF token in the {CSRF_HEADER} header (GET /api/v1/me shows it)"
                )));
            }
        }
        return Ok(Some(live.who));
    }
    trusted::authenticate(parts, state).await
}

async fn authorize(
    state: &AppState,
    parts: &mut axum::http::request::Parts,
    need: Need,
) -> Result<Authenticated, ApiError> {
    let who = authenticate(parts, state)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let scope = scope_needed(&parts.method, need);
    if !who.scope.at_least(scope) {
        return Err(ApiError::Forbidden(format!(
            "this credential's scope ({}) does not allow this; it needs {scope}",
            who.scope
        )));
    }
    let engine = &state.engine;
    let id = path_param(parts, "id").await;
    match need {
        Public | Need::Signed | Member | Need::Seen => {}
        Role(role) => {
            if !who.role.at_least(role) {
                return Err(ApiError::Forbidden(format!(
                    "this needs the {role} role (you are {})",
                    who.role
                )));
            }
        }
        Need::Project(role, scoped) => {
            if !who.role.at_least(role) {
                let project_admin = match scoped {
                    Scoped::Slug => match path_param(parts, "slug").await {
                        Some(slug) => {
                            engine.projects().role(&who, &slug).await?
                                == Some(dispatch_core::ProjectRole::Admin)
                        }
                        None => false,
                    },
                    Scoped::Record(kind) => {
                        let what = format!("{kind:?}").to_lowercase();
                        let id: i64 = id
                            .and_then(|i| i.parse().ok())
                            .ok_or_else(|| ApiError::NotFound(what.clone()))?;
                        match engine.projects().configured(kind.record(id)).await? {
                            Some(project) => {
                                engine.projects().role_by_id(&who, project).await?
                                    == Some(dispatch_core::ProjectRole::Admin)
                            }
                            // A missing record: *not found* for those who could change
                            // one, *forbidden* for everyone else.
                            None if engine.projects().admins_any(&who).await? => {
                                return Err(ApiError::NotFound(format!("{what} {id}")))
                            }
                            None => false,
                        }
                    }
                    Scoped::Body => engine.projects().admins_any(&who).await?,
                };
                if !project_admin {
                    return Err(ApiError::Forbidden(format!(
                        "this needs the {role} role or the admin role in the project (you are {})",
                        who.role
                    )));
                }
            }
        }
        Need::Case(action) => {
            let id: i64 = id
                .and_then(|i| i.parse().ok())
                .ok_or_else(|| ApiError::NotFound("case".into()))?;
            engine
                .access()
                .require_case(&who, dispatch_core::CaseId(id), action)
                .await?;
        }
        Incident(action) => {
            let id = id.ok_or_else(|| ApiError::NotFound("incident".into()))?;
            engine
                .access()
                .require(&who, &IncidentRef::parse(&id), action)
                .await?;
        }
        Need::Owned(kind, action) => {
            let what = format!("{kind:?}").to_lowercase();
            let id: i64 = id
                .and_then(|i| i.parse().ok())
                .ok_or_else(|| ApiError::NotFound(what.clone()))?;
            match engine.access().owner_incident(kind.record(id)).await? {
                Some(IncidentId(incident)) => {
                    engine
                        .access()
                        .require(&who, &IncidentRef::Id(IncidentId(incident)), action)
                        .await
                        // The record of an incident the caller may not see does not exist.
                        .map_err(|e| match e {
                            dispatch_engine::Error::NotFound(_) => {
                                ApiError::NotFound(format!("{what} {id}"))
                            }
                            other => other.into(),
                        })?;
                }
                None if who.is_admin() => {}
                None => {
                    return Err(ApiError::Forbidden(format!(
                        "this {what} belongs to no incident; it needs the admin role"
                    )))
                }
            }
        }
    }
    Ok(who)
}

/// A path parameter's raw value.
async fn path_param(parts: &mut axum::http::request::Parts, name: &str) -> Option<String> {
    use axum::extract::FromRequestParts;
    let params = RawPathParams::from_request_parts(parts, &()).await.ok()?;
    params
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        // No record is named with a NUL character (and no database takes one in a query).
        .filter(|v| !v.contains('\0'))
}
