//! Cases: the list with its triage filters, one case with its timeline, signals, incident and
//! related cases, and the actions on it (triage, escalate to an incident, stable, close).

use crate::api::parse;
use crate::api::signals::InstanceOut;
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::wire::{tag_names, IncidentOut, Page};
use crate::AppState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::signal::{CaseStatus, ResolutionReason};
use dispatch_core::values::{Email, IncidentTitle, LongText};
use dispatch_core::Patch;
use dispatch_core::{CaseId, ValidationError};
use dispatch_engine::data::model::{case, case_event, case_participant};
use dispatch_engine::data::TagRow;
use dispatch_engine::signal::case::{CaseDetail, CaseQuery, Escalation};
use dispatch_engine::signal::case_edit::CaseEdit;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Case routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list))
        .route("/cases/{id}", get(show).patch(edit))
        .route("/cases/{id}/snooze", post(snooze))
        .route("/cases/{id}/triage", post(triage))
        .route("/cases/{id}/escalate", post(escalate))
        .route("/cases/{id}/stable", post(stable))
        .route("/cases/{id}/close", post(close))
        .route("/cases/{id}/room", get(room))
        .route("/cases/{id}/room/messages", post(post_in_room))
}

/// A case.
#[derive(Serialize, ToSchema)]
pub struct CaseOut {
    /// Id.
    pub id: i64,
    /// The project's id.
    pub project_id: i64,
    /// The definition whose signal opened it.
    pub definition_id: Option<i64>,
    /// What is wrong.
    pub title: String,
    /// What is known.
    pub description: String,
    /// `new`, `triage`, `escalated`, `stable` or `closed`.
    pub status: CaseStatus,
    /// Incident type slug.
    #[serde(rename = "type")]
    pub case_type: Option<String>,
    /// Priority slug.
    pub priority: Option<String>,
    /// Severity slug.
    pub severity: Option<String>,
    /// Who is on it (the definition's on-call person when it opened).
    pub assignee: Option<String>,
    /// Who (which source's account) reported it.
    pub reporter: String,
    /// How it ended.
    pub resolution: Option<String>,
    /// Why it closed: `benign`, `contained`, `escalated`, `false_positive`, …
    pub resolution_reason: Option<String>,
    /// The incident's id, when escalated.
    pub incident_id: Option<i64>,
    /// When it opened.
    pub created_at: DateTime<Utc>,
    /// When triage began.
    pub triage_at: Option<DateTime<Utc>>,
    /// When it was escalated.
    pub escalated_at: Option<DateTime<Utc>>,
    /// When it became stable.
    pub stable_at: Option<DateTime<Utc>>,
    /// When it closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// When it last changed (a signal arriving again counts).
    pub updated_at: DateTime<Utc>,
    /// Its tags (`name`, or `type:name` for typed tags): the project's tags, as incidents carry.
    pub tags: Vec<String>,
}

impl CaseOut {
    /// The case with its tags.
    pub fn with_tags(c: case::Model, tags: &[TagRow]) -> Self {
        Self {
            tags: tag_names(tags),
            ..c.into()
        }
    }
}

/// The case as the API answers it: with its tags, read.
async fn answer(s: &AppState, c: case::Model) -> ApiResult<axum::Json<CaseOut>> {
    let tags = s.engine.cases().tags_of(&[c.id]).await?.remove(&c.id);
    Ok(axum::Json(CaseOut::with_tags(c, &tags.unwrap_or_default())))
}

/// A case's row without its tags (read them with [`CaseOut::with_tags`]).
impl From<case::Model> for CaseOut {
    fn from(c: case::Model) -> Self {
        Self {
            id: c.id,
            project_id: c.project_id,
            definition_id: c.definition_id,
            title: c.title,
            description: c.description,
            status: c.status.parse().unwrap_or(CaseStatus::New),
            case_type: c.case_type,
            priority: c.case_priority,
            severity: c.case_severity,
            assignee: c.assignee,
            reporter: c.reporter,
            resolution: c.resolution,
            resolution_reason: c.resolution_reason,
            incident_id: c.incident_id,
            created_at: c.created_at,
            triage_at: c.triage_at,
            escalated_at: c.escalated_at,
            stable_at: c.stable_at,
            closed_at: c.closed_at,
            updated_at: c.updated_at,
            tags: Vec::new(),
        }
    }
}

/// A person of a case.
#[derive(Serialize, ToSchema)]
pub struct CaseParticipantOut {
    /// Their address.
    pub email: String,
    /// What first brought them in: `reporter`, `assignee`, `snoozed`, `edited`, `message`
    /// (wrote in its room), or the status they moved it to (`triage`, `escalated`, `stable`,
    /// `closed`).
    pub added_reason: String,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
}

impl From<case_participant::Model> for CaseParticipantOut {
    fn from(p: case_participant::Model) -> Self {
        Self {
            email: p.email,
            added_reason: p.added_reason,
            joined_at: p.created_at,
        }
    }
}

/// One entry of a case's timeline.
#[derive(Serialize, ToSchema)]
pub struct CaseEventOut {
    /// Id.
    pub id: i64,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// `case_opened`, `signal_received`, `signal_deduplicated`, `signal_resolved`,
    /// `status_changed`, `case_escalated`, `case_closed`, …
    pub kind: String,
    /// Who (the source's account for signals).
    pub actor: Option<String>,
    /// What happened.
    pub description: String,
    /// The kind's fields.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<case_event::Model> for CaseEventOut {
    fn from(e: case_event::Model) -> Self {
        Self {
            id: e.id,
            occurred_at: e.occurred_at,
            kind: e.kind,
            actor: e.actor,
            description: e.description,
            details: serde_json::from_str(&e.details).unwrap_or_default(),
        }
    }
}

/// A case with its timeline, signals, incident and related cases.
#[derive(Serialize, ToSchema)]
pub struct CaseDetailOut {
    /// The case.
    #[serde(flatten)]
    pub case: CaseOut,
    /// The incident's key (`INC-3`), when escalated.
    pub incident: Option<String>,
    /// Its timeline, oldest first.
    pub timeline: Vec<CaseEventOut>,
    /// Its signal instances, oldest first.
    pub signals: Vec<InstanceOut>,
    /// Other cases whose signals share an entity with this one's in the last 14 days.
    pub related_cases: Vec<i64>,
    /// Its people, once each, in the order they joined: its reporter and assignee, and
    /// everyone who acted on it.
    pub participants: Vec<CaseParticipantOut>,
}

impl From<CaseDetail> for CaseDetailOut {
    fn from(d: CaseDetail) -> Self {
        Self {
            case: CaseOut::with_tags(d.case, &d.tags),
            participants: d.participants.into_iter().map(Into::into).collect(),
            incident: d.incident,
            timeline: d.events.into_iter().map(Into::into).collect(),
            signals: d.instances.into_iter().map(Into::into).collect(),
            related_cases: d.related,
        }
    }
}

/// Which cases to list.
#[derive(Deserialize, IntoParams)]
pub struct CaseListQuery {
    /// Only this project's (by slug).
    pub project: Option<String>,
    /// Only these statuses, comma-separated (`new,triage`).
    pub status: Option<String>,
    /// Only those assigned to this e-mail address.
    pub assignee: Option<String>,
    /// Only those a definition opened.
    pub definition: Option<i64>,
    /// Only those of this priority (slug).
    pub priority: Option<String>,
    /// Only those whose title or description holds each of these words.
    pub q: Option<String>,
    /// Only those carrying each of these tags (names, comma-separated).
    pub tag: Option<String>,
    /// Page, from 1.
    pub page: Option<i64>,
    /// Rows per page, 1-100 (default 50).
    pub per_page: Option<i64>,
}

/// Cases, newest first.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseListQuery),
    responses((status = 200, body = Page<CaseOut>), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<CaseListQuery>,
) -> ApiResult<axum::Json<Page<CaseOut>>> {
    let mut e = ValidationError::default();
    let (page, per_page) = parse::paging(&mut e, q.page, q.per_page, 50);
    let statuses = parse::enum_list::<CaseStatus>(&mut e, "status", q.status.as_deref());
    let assignee = q
        .assignee
        .as_deref()
        .and_then(|a| e.check(Email::parse("assignee", a)))
        .map(|a| a.to_string());
    let tags = parse::list_as_written(&mut e, "tag", q.tag.as_deref());
    e.into_result()?;
    let query = CaseQuery {
        tags,
        project: q.project,
        statuses,
        assignee,
        definition: q.definition.map(dispatch_core::SignalDefinitionId),
        priority: q.priority.filter(|p| !p.trim().is_empty()),
        text: q.q.filter(|t| !t.trim().is_empty()),
        viewer: auth.0.viewer(),
    };
    let (rows, total) = s.engine.cases().list(&query, page, per_page).await?;
    let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
    let mut tags = s.engine.cases().tags_of(&ids).await?;
    Ok(axum::Json(Page {
        items: rows
            .into_iter()
            .map(|c| {
                let t = tags.remove(&c.id).unwrap_or_default();
                CaseOut::with_tags(c, &t)
            })
            .collect(),
        total,
        total_exact: true,
        page,
        per_page,
    }))
}

/// One case with its timeline, signals, incident and related cases.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = CaseDetailOut), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<CaseDetailOut>> {
    Ok(axum::Json(s.engine.cases().get(CaseId(id)).await?.into()))
}

/// A change to a case: absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
pub struct CasePatch {
    /// What is wrong.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub title: Patch<String>,
    /// What is known (`null` clears it).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    /// Who is on it, by e-mail address (`null` or empty: no one).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub assignee: Patch<String>,
    /// Its tags, the whole set (`name` or `type:name`; each one the project has; `null` or
    /// `[]`: none).
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Patch<Vec<String>>,
}

/// Changes a case's title, description, assignee or tags (its assignee or an admin; anyone
/// while it has no assignee).
#[utoipa::path(patch, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = i64, Path)),
    request_body(content = CasePatch, example = json!({"assignee": "ann@example.com", "tags": ["payments"]})),
    responses((status = 200, body = CaseOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(b): Json<CasePatch>,
) -> ApiResult<axum::Json<CaseOut>> {
    let mut e = ValidationError::default();
    let title = parse::parsed(&mut e, "title", b.title, IncidentTitle::parse);
    let description = parse::description(&mut e, "description", b.description)
        .and_then(|d| e.check(LongText::parse("description", &d)));
    let assignee = match parse::clearable(&mut e, "assignee", b.assignee, Email::parse) {
        Patch::Absent => None,
        Patch::Null => Some(None),
        Patch::Value(a) => Some(Some(a)),
    };
    let tags = match b.tags {
        Patch::Absent => None,
        Patch::Null => Some(vec![]),
        Patch::Value(t) => Some(t),
    };
    e.into_result()?;
    let edit = CaseEdit {
        title,
        description,
        assignee,
        tags,
    };
    let c = s
        .engine
        .cases()
        .edit(auth.actor(), CaseId(id), edit)
        .await?;
    answer(&s, c).await
}

/// Snoozing a case's signal.
#[derive(Deserialize, ToSchema)]
pub struct SnoozeIn {
    /// For how long (required): `30m`, `2h`, `1d`, … up to `30d`.
    #[schema(required = true)]
    pub duration: Option<String>,
}

/// The snooze filter made for a case.
#[derive(Serialize, ToSchema)]
pub struct SnoozedOut {
    /// The filter's id.
    pub filter_id: i64,
    /// Its expression: the case's first signal's labels.
    pub expression: String,
    /// When it stops snoozing.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Snoozes a case's signal: an active snooze filter over its first signal's labels until the
/// duration ends (alerts it takes are stored but open no case).
#[utoipa::path(post, path = "/api/v1/cases/{id}/snooze", tag = "cases", params(("id" = i64, Path)),
    request_body(content = SnoozeIn, example = json!({"duration": "2h"})),
    responses((status = 201, body = SnoozedOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn snooze(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(b): Json<SnoozeIn>,
) -> ApiResult<(axum::http::StatusCode, axum::Json<SnoozedOut>)> {
    let mut e = ValidationError::default();
    let length = parse::required(&mut e, "duration", &b.duration)
        .and_then(|d| e.check(dispatch_core::signal::parse_snooze("duration", d)));
    e.into_result()?;
    let f = s
        .engine
        .cases()
        .snooze(auth.actor(), CaseId(id), length.expect("checked"))
        .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        axum::Json(SnoozedOut {
            filter_id: f.id,
            expression: f.expression,
            expires_at: f.expires_at,
        }),
    ))
}

/// Starts triage of a new case.
#[utoipa::path(post, path = "/api/v1/cases/{id}/triage", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = CaseOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn triage(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<CaseOut>> {
    move_to(&s, &auth, id, CaseStatus::Triage).await
}

/// Moves a case to a status that needs nothing more.
async fn move_to(
    s: &AppState,
    auth: &Auth,
    id: i64,
    to: CaseStatus,
) -> ApiResult<axum::Json<CaseOut>> {
    let c = s
        .engine
        .cases()
        .transition(auth.actor(), CaseId(id), to, None)
        .await?;
    answer(s, c).await
}

/// Marks an escalated case stable.
#[utoipa::path(post, path = "/api/v1/cases/{id}/stable", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = CaseOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn stable(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<CaseOut>> {
    move_to(&s, &auth, id, CaseStatus::Stable).await
}

/// Closing a case.
#[derive(Deserialize, ToSchema)]
pub struct CloseIn {
    /// Why (required): `benign`, `contained`, `escalated`, `false_positive`,
    /// `information_gathered`, `insufficient_information`, `mitigated`, `operational_error`,
    /// `policy_violation` or `user_acknowledged`.
    #[schema(required = true)]
    pub resolution_reason: Option<String>,
    /// What was found or done.
    pub resolution: Option<String>,
}

/// Closes a case with a resolution reason.
#[utoipa::path(post, path = "/api/v1/cases/{id}/close", tag = "cases", params(("id" = i64, Path)),
    request_body(content = CloseIn, example = json!({"resolution_reason": "false_positive", "resolution": "Load test"})),
    responses((status = 200, body = CaseOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn close(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(b): Json<CloseIn>,
) -> ApiResult<axum::Json<CaseOut>> {
    let mut e = ValidationError::default();
    let reason = parse::required(&mut e, "resolution_reason", &b.resolution_reason)
        .and_then(|r| parse::enum_field::<ResolutionReason>(&mut e, "resolution_reason", Some(r)));
    let resolution =
        parse::description(&mut e, "resolution", b.resolution.into()).filter(|r| !r.is_empty());
    e.into_result()?;
    let c = s
        .engine
        .cases()
        .transition(
            auth.actor(),
            CaseId(id),
            CaseStatus::Closed,
            reason.map(|r| (r, resolution)),
        )
        .await?;
    answer(&s, c).await
}

/// Escalating a case: the incident's type, priority and severity (the case's when absent).
#[derive(Deserialize, ToSchema)]
pub struct EscalateIn {
    /// Incident type slug or name.
    pub incident_type: Option<String>,
    /// Priority slug or name.
    pub priority: Option<String>,
    /// Severity slug or name.
    pub severity: Option<String>,
}

/// The incident a case became, and the case.
#[derive(Serialize, ToSchema)]
pub struct EscalatedOut {
    /// The incident, declared through the normal declaration.
    pub incident: IncidentOut,
    /// The case, now escalated and linked to it.
    pub case: CaseOut,
}

/// Escalates a case to an incident: declares it (the case's type, priority and severity
/// unless given), links the two both ways and copies the case's timeline onto the incident's.
#[utoipa::path(post, path = "/api/v1/cases/{id}/escalate", tag = "cases", params(("id" = i64, Path)),
    request_body(content = EscalateIn, example = json!({})),
    responses((status = 201, body = EscalatedOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn escalate(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(b): Json<EscalateIn>,
) -> ApiResult<(axum::http::StatusCode, axum::Json<EscalatedOut>)> {
    let (incident, case) = s
        .engine
        .cases()
        .escalate(
            auth.actor(),
            CaseId(id),
            Escalation {
                incident_type: b.incident_type,
                priority: b.priority,
                severity: b.severity,
            },
        )
        .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        axum::Json(EscalatedOut {
            incident: incident.into(),
            case: answer(&s, case).await?.0,
        }),
    ))
}

/// A message of a case's room.
#[derive(Serialize, ToSchema)]
pub struct CaseMessageOut {
    /// Id.
    pub id: i64,
    /// The case's message this replies to (`null` for the case's message and for what people
    /// typed in the room).
    pub parent_id: Option<i64>,
    /// Who wrote it (`null` for Dispatch).
    pub author: Option<String>,
    /// Plain text.
    pub text: String,
    /// The rich message blocks (the case's message carries its buttons).
    #[schema(value_type = Vec<Object>)]
    pub blocks: serde_json::Value,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it last changed (the case's message is updated in place).
    pub updated_at: DateTime<Utc>,
}

impl From<dispatch_engine::data::model::case_message::Model> for CaseMessageOut {
    fn from(m: dispatch_engine::data::model::case_message::Model) -> Self {
        Self {
            id: m.id,
            parent_id: m.parent_id,
            author: m.author,
            text: m.text,
            blocks: serde_json::from_str(&m.blocks).unwrap_or_default(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// Where a case's message was posted.
#[derive(Serialize, ToSchema)]
pub struct CaseThreadOut {
    /// The conversation provider (`dispatch-room`, `slack`).
    pub provider: String,
    /// The channel: the target's name in the built-in room, the channel id in Slack.
    pub channel: String,
    /// The case's message there (Slack's `ts`, the built-in message id).
    pub message_ts: String,
}

/// A case's thread and its room in the built-in conversation provider.
#[derive(Serialize, ToSchema)]
pub struct CaseRoomOut {
    /// Where the case's message went, once posted (`null` before, or with no target).
    pub thread: Option<CaseThreadOut>,
    /// The built-in room's latest 200 messages, oldest first.
    pub messages: Vec<CaseMessageOut>,
}

/// A case's thread and the latest 200 messages of its room.
#[utoipa::path(get, path = "/api/v1/cases/{id}/room", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = CaseRoomOut), (status = 404, body = ErrorBody)))]
pub async fn room(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<CaseRoomOut>> {
    let r = s.engine.cases().room(CaseId(id), 200).await?;
    Ok(axum::Json(CaseRoomOut {
        thread: r.thread.map(|t| CaseThreadOut {
            provider: t.provider,
            channel: t.channel,
            message_ts: t.message_ts,
        }),
        messages: r.messages.into_iter().map(Into::into).collect(),
    }))
}

/// A message to post in a case's room.
#[derive(Deserialize, ToSchema)]
pub struct CaseMessageIn {
    /// The text; `/dispatch-case-…` runs a case command.
    #[schema(required = true)]
    pub text: Option<String>,
}

/// A posted message and, for a command, Dispatch's answer.
#[derive(Serialize, ToSchema)]
pub struct CasePostedOut {
    /// The message.
    pub message: CaseMessageOut,
    /// When the message was a `/dispatch-…` command: the answer (or the usage, or the refusal)
    /// Dispatch posted in the room.
    pub reply: Option<CaseMessageOut>,
}

/// Posts a message in a case's room. A message starting with `/` runs as a chat command in the
/// case (as the poster, under the same rule as the API's case actions) and Dispatch posts the
/// answer, the usage help or the refusal in the room.
#[utoipa::path(post, path = "/api/v1/cases/{id}/room/messages", tag = "cases", params(("id" = i64, Path)),
    request_body(content = CaseMessageIn, example = json!({"text": "/dispatch-case-triage"})),
    responses((status = 201, body = CasePostedOut), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn post_in_room(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(b): Json<CaseMessageIn>,
) -> ApiResult<(axum::http::StatusCode, axum::Json<CasePostedOut>)> {
    let mut e = ValidationError::default();
    let text =
        parse::required(&mut e, "text", &b.text).and_then(|t| e.check(LongText::parse("text", t)));
    e.into_result()?;
    let (m, reply) = s
        .engine
        .cases()
        .post_in_room(&auth.0, CaseId(id), text.expect("checked"))
        .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        axum::Json(CasePostedOut {
            message: m.into(),
            reply: reply.map(Into::into),
        }),
    ))
}
