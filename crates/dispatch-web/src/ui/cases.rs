//! The case pages: the list with its triage filters and paging, and one case with the moves the
//! caller may make (triage, escalate, stable, close with a resolution, snooze, assign, tags), its
//! signals with their raw payloads, entities, related cases, timeline and incident. Each action
//! goes through the API's own handler, so its rule and its errors are the API's; a mistake shows
//! the page again with the error beside the field.

use super::incident::{fragment, Live};
use super::incidents::some as given;
use super::settings::body;
use super::{render, see_other, Caller, Chrome, Form};
use crate::api::cases::{
    self as api, CaseDetailOut, CaseEventOut, CaseListQuery, CaseOut, CloseIn, SnoozeIn,
};
use crate::api::parse;
use crate::api::signals::InstanceOut;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use dispatch_core::permission::Action;
use dispatch_core::signal::{CaseStatus, ResolutionReason};
use dispatch_core::{CaseId, ValidationError};
use serde::Deserialize;
use serde_json::json;

/// The list's filters as the form sends them.
#[derive(Deserialize, Default, Clone)]
pub struct ListForm {
    project: Option<String>,
    status: Option<String>,
    priority: Option<String>,
    assignee: Option<String>,
    /// `on`: only the caller's.
    mine: Option<String>,
    q: Option<String>,
    page: Option<i64>,
}

/// `GET /cases`.
#[derive(Template)]
#[template(path = "cases/list.html")]
struct ListPage {
    chrome: Chrome,
    form: Form,
    projects: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    items: Vec<CaseOut>,
    total: u64,
    page: u64,
    pages: u64,
    /// The query string of this page without `page`.
    query: String,
}

impl ListPage {
    fn page_link(&self, page: u64) -> String {
        super::page_link("/cases", &self.query, page)
    }

    fn statuses(&self) -> &'static [&'static str] {
        &[
            "new,triage",
            "new",
            "triage",
            "escalated",
            "stable",
            "closed",
        ]
    }
}

const PER_PAGE: i64 = 25;

/// `GET /cases`: cases, newest first, by status, priority, assignee (or mine), project, text.
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Query(f): Query<ListForm>,
) -> ApiResult<Response> {
    let mine = f.mine.is_some();
    let assignee = if mine {
        Some(caller.auth.actor().email.clone())
    } else {
        given(&f.assignee)
    };
    let q = CaseListQuery {
        project: given(&f.project),
        status: given(&f.status),
        assignee,
        definition: None,
        priority: given(&f.priority),
        q: given(&f.q),
        tag: None,
        page: f.page,
        per_page: Some(PER_PAGE),
    };
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let mut form = Form::with_values([
        ("project", v(&f.project)),
        ("status", v(&f.status)),
        ("priority", v(&f.priority)),
        ("assignee", v(&f.assignee)),
        ("mine", if mine { "on".into() } else { String::new() }),
        ("q", v(&f.q)),
    ]);
    let query = serde_urlencoded::to_string(
        [
            ("project", &f.project),
            ("status", &f.status),
            ("priority", &f.priority),
            ("assignee", &f.assignee),
            ("mine", &f.mine),
            ("q", &f.q),
        ]
        .iter()
        .filter_map(|(k, v)| given(v).map(|v| (*k, v)))
        .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    let (items, total, page, status) =
        match api::list(State(s.clone()), caller.auth.clone(), Query(q)).await {
            Ok(p) => (p.0.items, p.0.total, p.0.page, StatusCode::OK),
            Err(e) => {
                form.fail(e)?;
                (Vec::new(), 0, 1, StatusCode::UNPROCESSABLE_ENTITY)
            }
        };
    let project = s
        .engine
        .projects()
        .get_or_default(given(&f.project).as_deref())
        .await
        .ok();
    let priorities = match project {
        Some(p) => s
            .engine
            .taxonomy()
            .incident_priorities(dispatch_core::ProjectId(p.id))
            .await?
            .into_iter()
            .map(|t| (t.slug, t.name))
            .collect(),
        None => Vec::new(),
    };
    let page = ListPage {
        chrome: caller.chrome("Cases", "cases"),
        form,
        projects: super::signals::projects(&s).await?,
        priorities,
        pages: total.div_ceil(PER_PAGE as u64).max(1),
        items,
        total,
        page,
        query,
    };
    Ok(render(status, &page))
}

/// One signal of a case as its page shows it.
pub struct Signal {
    /// The instance.
    pub i: InstanceOut,
    /// Its labels, by name.
    pub labels: Vec<(String, String)>,
    /// The alert as received, indented.
    pub raw: String,
}

/// A case's header: facts and the moves the caller may make.
#[derive(Template)]
#[template(path = "cases/header.html")]
pub struct Header {
    /// The case (its signals and timeline are in their own parts).
    c: CaseDetailOut,
    /// The moves the case may make now: triage, escalate, stable, close.
    moves: Vec<&'static str>,
    /// Whether the caller may snooze its signal.
    may_snooze: bool,
    csrf: String,
}

impl Header {
    fn may(&self, action: &str) -> bool {
        self.moves.contains(&action)
    }
}

/// A case's signals.
#[derive(Template)]
#[template(path = "cases/signals.html")]
pub struct Signals {
    signals: Vec<Signal>,
}

/// A case's timeline.
#[derive(Template)]
#[template(path = "cases/timeline.html")]
pub struct Timeline {
    events: Vec<CaseEventOut>,
}

/// A case's room: where its message went, and its messages.
#[derive(Template)]
#[template(path = "cases/room.html")]
pub struct Room {
    thread: Option<api::CaseThreadOut>,
    messages: Vec<api::CaseMessageOut>,
}

/// Everything the case page shows, read in one go.
struct View {
    header: Header,
    room: Room,
    signals: Signals,
    timeline: Timeline,
    project: (String, String),
    entities: Vec<(String, String)>,
    related: Vec<CaseOut>,
    /// Whether the caller may edit the case (assign it, set its tags).
    may_edit: bool,
}

/// `GET /cases/{id}`.
#[derive(Template)]
#[template(path = "cases/page.html")]
struct CasePage {
    chrome: Chrome,
    csrf: String,
    id: i64,
    project: (String, String),
    live: Live,
    entities: Vec<(String, String)>,
    related: Vec<CaseOut>,
    moves: Vec<&'static str>,
    may_snooze: bool,
    may_edit: bool,
    /// The current assignee, for the assign form.
    assignee: String,
    /// The case's tags as the tags form shows them: `name` or `type:name`, comma-separated.
    tags: String,
    /// The project's tags (those a case may carry) as the tags form takes them, `name` or
    /// `type:name`.
    project_tags: Vec<String>,
    failure: Option<String>,
    close_form: Form,
    snooze_form: Form,
    assign_form: Form,
    tags_form: Form,
}

impl CasePage {
    fn reasons(&self) -> &'static [&'static str] {
        ResolutionReason::NAMES
    }

    fn may(&self, action: &str) -> bool {
        self.moves.contains(&action)
    }

    fn part(&self, name: &str) -> &str {
        self.live
            .parts
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, html)| html.as_str())
    }
}

/// Which form of the case page failed, if any.
#[derive(Default)]
struct Failed {
    failure: Option<String>,
    close: Option<Form>,
    snooze: Option<Form>,
    assign: Option<Form>,
    tags: Option<Form>,
}

async fn view(s: &AppState, caller: &Caller, id: i64) -> ApiResult<View> {
    let detail = s.engine.cases().get(CaseId(id)).await?;
    let related = s
        .engine
        .cases()
        .by_ids(
            &detail
                .related
                .iter()
                .map(|r| CaseId(*r))
                .collect::<Vec<_>>(),
        )
        .await?;
    let mut c: CaseDetailOut = detail.into();
    let instances = std::mem::take(&mut c.signals);
    let events = std::mem::take(&mut c.timeline);
    let project = s
        .engine
        .projects()
        .list()
        .await?
        .into_iter()
        .find(|p| p.id == c.case.project_id)
        .map(|p| (p.slug, p.name))
        .unwrap_or_default();
    let mut entities: Vec<(String, String)> = instances
        .iter()
        .flat_map(|i| i.entities.as_array().cloned().unwrap_or_default())
        .filter_map(|e| Some((e["type"].as_str()?.into(), e["value"].as_str()?.into())))
        .collect();
    entities.sort();
    entities.dedup();
    let signals: Vec<Signal> = instances
        .into_iter()
        .map(|i| Signal {
            labels: i
                .labels
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), String::from),
                    )
                })
                .collect(),
            raw: serde_json::to_string_pretty(&i.raw).unwrap_or_default(),
            i,
        })
        .collect();
    // The one case rule decides each move (what the API and chat would allow this caller).
    let access = s.engine.access().case(&caller.auth.0, CaseId(id)).await?;
    let allowed = |a: Action| access.require(a).is_ok();
    let status = c.case.status;
    let moves = [
        ("triage", CaseStatus::Triage, Action::TriageCase),
        ("escalate", CaseStatus::Escalated, Action::EscalateCase),
        ("stable", CaseStatus::Stable, Action::StabilizeCase),
        ("close", CaseStatus::Closed, Action::CloseCase),
    ]
    .into_iter()
    .filter(|(_, to, action)| status.may_become(*to) && allowed(*action))
    // Only the incident moves an escalated case to stable (and the case follows it).
    .filter(|(a, _, _)| *a != "stable" || c.case.incident_id.is_none())
    .map(|(a, _, _)| a)
    .collect();
    let may_snooze =
        status != CaseStatus::Closed && !signals.is_empty() && allowed(Action::SnoozeCase);
    let may_edit = status != CaseStatus::Closed && allowed(Action::EditCase);
    let room = s.engine.cases().room(CaseId(id), 200).await?;
    Ok(View {
        room: Room {
            thread: room.thread.map(|t| api::CaseThreadOut {
                provider: t.provider,
                channel: t.channel,
                message_ts: t.message_ts,
            }),
            messages: room.messages.into_iter().map(Into::into).collect(),
        },
        may_edit,
        header: Header {
            c,
            moves,
            may_snooze,
            csrf: caller.csrf.clone(),
        },
        signals: Signals { signals },
        timeline: Timeline { events },
        project,
        entities,
        related: related.into_iter().map(Into::into).collect(),
    })
}

fn parts(v: &View) -> ApiResult<Live> {
    Ok(Live {
        parts: vec![
            ("header", fragment(&v.header)?),
            ("signals", fragment(&v.signals)?),
            ("timeline", fragment(&v.timeline)?),
            ("room", fragment(&v.room)?),
        ],
    })
}

/// The live parts of a case page, rendered.
pub async fn live(s: &AppState, caller: &Caller, id: i64) -> ApiResult<Live> {
    parts(&view(s, caller, id).await?)
}

async fn page_with(s: &AppState, caller: &Caller, id: i64, failed: Failed) -> ApiResult<Response> {
    let v = view(s, caller, id).await?;
    let snooze_form = failed
        .snooze
        .unwrap_or_else(|| Form::with_values([("duration", "4h".to_string())]));
    let assign_form = failed.assign.unwrap_or_default();
    let tags_form = failed.tags.unwrap_or_default();
    let code = if failed.failure.is_some()
        || failed.close.is_some()
        || snooze_form.failed()
        || assign_form.failed()
        || tags_form.failed()
    {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let project_tags = if v.may_edit {
        let project = dispatch_core::ProjectId(v.header.c.case.project_id);
        s.engine.taxonomy().tags_as_written(project).await?
    } else {
        Vec::new()
    };
    let page = CasePage {
        chrome: caller.chrome(format!("Case {id}: {}", v.header.c.case.title), "cases"),
        csrf: caller.csrf.clone(),
        id,
        live: parts(&v)?,
        moves: v.header.moves.clone(),
        may_snooze: v.header.may_snooze,
        may_edit: v.may_edit,
        assignee: v.header.c.case.assignee.clone().unwrap_or_default(),
        tags: v.header.c.case.tags.join(", "),
        project_tags,
        project: v.project,
        entities: v.entities,
        related: v.related,
        failure: failed.failure,
        close_form: failed.close.unwrap_or_default(),
        snooze_form,
        assign_form,
        tags_form,
    };
    Ok(render(code, &page))
}

/// `GET /cases/{id}`.
pub async fn page(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    page_with(&s, &caller, id, Failed::default()).await
}

fn back(id: i64) -> Response {
    see_other(&format!("/cases/{id}"))
}

/// The form an action's field errors go into: its values as typed, and where on the page.
type Slot = (Form, fn(Form) -> Failed);

/// After an action: back to the case, or the case again with why it could not be done: a
/// conflict above the actions, field errors beside the fields of the form `slot` puts them in
/// (above the actions when the action has no form). A refusal is the 403 page.
async fn done<T>(
    s: &AppState,
    caller: &Caller,
    id: i64,
    r: ApiResult<T>,
    slot: Option<Slot>,
) -> ApiResult<Response> {
    let failed = match r {
        Ok(_) => return Ok(back(id)),
        Err(ApiError::Conflict(m)) => Failed {
            failure: Some(m),
            ..Failed::default()
        },
        Err(ApiError::Validation(v)) => match slot {
            Some((mut typed, put)) => {
                typed.fail(ApiError::Validation(v))?;
                put(typed)
            }
            None => Failed {
                failure: Some(
                    v.fields
                        .iter()
                        .map(|f| format!("{}: {}", f.field, f.message))
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
                ..Failed::default()
            },
        },
        Err(e) => return Err(e),
    };
    page_with(s, caller, id, failed).await
}

/// `POST /cases/{id}/triage`.
pub async fn triage(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let r = api::triage(State(s.clone()), caller.auth.clone(), Path(id)).await;
    done(&s, &caller, id, r, None).await
}

/// `POST /cases/{id}/stable`.
pub async fn stable(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let r = api::stable(State(s.clone()), caller.auth.clone(), Path(id)).await;
    done(&s, &caller, id, r, None).await
}

/// `POST /cases/{id}/escalate`: declares the incident, then back to the case (which links it).
pub async fn escalate(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let r = api::escalate(
        State(s.clone()),
        caller.auth.clone(),
        Path(id),
        body(json!({}))?,
    )
    .await;
    done(&s, &caller, id, r, None).await
}

/// The close form.
#[derive(Deserialize)]
pub struct CloseForm {
    resolution_reason: Option<String>,
    resolution: Option<String>,
}

/// `POST /cases/{id}/close`: with a resolution reason (required) and text.
pub async fn close(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    axum::Form(f): axum::Form<CloseForm>,
) -> ApiResult<Response> {
    let typed = Form::with_values([
        (
            "resolution_reason",
            f.resolution_reason.clone().unwrap_or_default(),
        ),
        ("resolution", f.resolution.clone().unwrap_or_default()),
    ]);
    let r = api::close(
        State(s.clone()),
        caller.auth.clone(),
        Path(id),
        Json(CloseIn {
            resolution_reason: given(&f.resolution_reason),
            resolution: given(&f.resolution),
        }),
    )
    .await;
    let put = |f| Failed {
        close: Some(f),
        ..Failed::default()
    };
    done(&s, &caller, id, r, Some((typed, put))).await
}

/// The snooze form.
#[derive(Deserialize)]
pub struct SnoozeForm {
    duration: Option<String>,
}

/// `POST /cases/{id}/snooze`: an active snooze filter over the case's first signal's labels, for
/// the duration given (`30m`, `4h`, `1d`, …), as the API's snooze makes it.
pub async fn snooze(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    axum::Form(f): axum::Form<SnoozeForm>,
) -> ApiResult<Response> {
    let typed = Form::with_values([("duration", f.duration.clone().unwrap_or_default())]);
    let r = api::snooze(
        State(s.clone()),
        caller.auth.clone(),
        Path(id),
        Json(SnoozeIn {
            duration: given(&f.duration),
        }),
    )
    .await;
    let put = |f| Failed {
        snooze: Some(f),
        ..Failed::default()
    };
    done(&s, &caller, id, r, Some((typed, put))).await
}

/// The assign form.
#[derive(Deserialize)]
pub struct AssignForm {
    assignee: Option<String>,
}

/// `POST /cases/{id}/assign`: sets (or, empty, clears) the assignee, as the API's edit does.
pub async fn assign(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    axum::Form(f): axum::Form<AssignForm>,
) -> ApiResult<Response> {
    let typed = Form::with_values([("assignee", f.assignee.clone().unwrap_or_default())]);
    let r = api::edit(
        State(s.clone()),
        caller.auth.clone(),
        Path(id),
        body(json!({ "assignee": given(&f.assignee) }))?,
    )
    .await;
    let put = |f| Failed {
        assign: Some(f),
        ..Failed::default()
    };
    done(&s, &caller, id, r, Some((typed, put))).await
}

/// The tags form.
#[derive(Deserialize)]
pub struct TagsForm {
    tags: Option<String>,
}

/// `POST /cases/{id}/tags`: sets the case's tags to the comma-separated names given (`name` or
/// `type:name`; empty: none), as the API's edit does — so one the project lacks is the API's
/// error on `tags`, shown beside the field with nothing written.
pub async fn set_tags(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    axum::Form(f): axum::Form<TagsForm>,
) -> ApiResult<Response> {
    let typed = Form::with_values([("tags", f.tags.clone().unwrap_or_default())]);
    let mut e = ValidationError::default();
    let tags = parse::list_as_written(&mut e, "tags", f.tags.as_deref());
    let r = match e.into_result() {
        Err(e) => Err(e.into()),
        Ok(()) => {
            api::edit(
                State(s.clone()),
                caller.auth.clone(),
                Path(id),
                body(json!({ "tags": tags }))?,
            )
            .await
        }
    };
    let put = |f| Failed {
        tags: Some(f),
        ..Failed::default()
    };
    done(&s, &caller, id, r, Some((typed, put))).await
}

/// A message for the case's room.
#[derive(Deserialize)]
pub struct RoomForm {
    text: Option<String>,
}

/// `POST /cases/{id}/room`: posts a message in the case's room; a `/dispatch-case-…` command
/// runs as the poster, and the answer or the refusal is posted in the room (as over the API).
pub async fn post_message(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    axum::Form(f): axum::Form<RoomForm>,
) -> ApiResult<Response> {
    let r = api::post_in_room(
        State(s.clone()),
        caller.auth.clone(),
        Path(id),
        Json(api::CaseMessageIn {
            text: given(&f.text),
        }),
    )
    .await;
    done(&s, &caller, id, r, None).await
}
