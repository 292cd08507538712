//! The incident page: header with the life-cycle actions, the room, the timeline, resources
//! (with a retry for failed ones), participants, tasks and reports. Every form posts to the same
//! engine call as its API route and comes back here (303); a mistake shows the page again with
//! the error beside the field.

use super::{is_htmx, render, see_other, Caller, Chrome, Form};
use crate::api::room::MessageOut;
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::wire::{IncidentOut, ParticipantOut, ReportOut, ResourceOut, TaskOut};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use dispatch_core::commands::UpdateIncident;
use dispatch_core::commands::{CreateReport, CreateTask, UpdateTask};
use dispatch_core::permission::Action;
use dispatch_core::values::IncidentTitle;
use dispatch_core::values::{Email, IncidentRef, LongText};
use dispatch_core::{IncidentStatus, ReportKind, TaskPriority, TaskStatus, ValidationError};
use serde::Deserialize;

/// The incident's header: key, title, status, commander, taxonomy and the life-cycle actions.
#[derive(Template)]
#[template(path = "incident/header.html")]
pub struct Header {
    inc: IncidentOut,
    csrf: String,
    /// May mark it stable, close or re-open it ([`Action::ChangeStatus`]): the buttons are
    /// shown only to those who may press them.
    can_status: bool,
    /// The roles besides the commander's, held now: (role, e-mail).
    roles: Vec<(String, String)>,
    /// When the next tactical report is due (the priority's cadence after the last one), and
    /// whether that is past. None when closed or the priority asks for none.
    next_report: Option<(chrono::DateTime<chrono::Utc>, bool)>,
    /// The open task due first: (id, due, past).
    next_task: Option<(i64, chrono::DateTime<chrono::Utc>, bool)>,
}

/// The room's messages, as a chat shows them.
#[derive(Template)]
#[template(path = "incident/room.html")]
pub struct Room {
    messages: Vec<ChatLine>,
    /// Why there is no room yet (it is being set up, or failed).
    missing: Option<String>,
    archived: bool,
}

/// One message of the room as HTML, and whether it starts a run of one author's messages.
pub struct ChatLine {
    id: i64,
    author: Option<String>,
    html: String,
    created_at: chrono::DateTime<chrono::Utc>,
    /// The author (or the minute) changed: the line shows who and when.
    first: bool,
}

impl ChatLine {
    /// The room's messages in order; a run of one author's messages within five minutes shows
    /// the author once. Dispatch's messages (`blocks`) render as their blocks, buttons as forms
    /// that run their command in the room as the person who presses them; people's messages as
    /// text with markdown and clickable addresses.
    fn lines(messages: Vec<MessageOut>, key: &str, csrf: &str) -> Vec<ChatLine> {
        let mut out: Vec<ChatLine> = Vec::with_capacity(messages.len());
        for m in messages {
            let first = out.last().is_none_or(|p| {
                p.author != m.author || (m.created_at - p.created_at).num_minutes() >= 5
            });
            let blocks: Vec<dispatch_core::message::Block> =
                serde_json::from_value(m.blocks).unwrap_or_default();
            let html = if blocks.is_empty() {
                dispatch_core::rich_html::inline(&m.text)
            } else {
                let message = dispatch_core::message::RichMessage::new(blocks);
                dispatch_core::rich_html::render(&message, |buttons| {
                    chat_buttons(buttons, key, csrf)
                })
            };
            out.push(ChatLine {
                id: m.id,
                author: m.author,
                html,
                created_at: m.created_at,
                first,
            });
        }
        out
    }
}

/// A message's buttons: each posts its command to the room.
fn chat_buttons(buttons: &[(String, String)], key: &str, csrf: &str) -> String {
    use dispatch_core::email::escape;
    let mut out = String::from("<div class=\"actions\">");
    for (label, command) in buttons {
        out.push_str(&format!(
            "<form method=\"post\" action=\"/incidents/{key}/room\" class=\"inline\">\
             <input type=\"hidden\" name=\"_csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"text\" value=\"{}\">\
             <button type=\"submit\" class=\"small secondary\">{}</button></form>",
            escape(csrf),
            escape(command),
            escape(label)
        ));
    }
    out.push_str("</div>");
    out
}

/// What providers made for the incident, each failed one with the job to retry.
#[derive(Template)]
#[template(path = "incident/resources.html")]
pub struct Resources {
    items: Vec<(ResourceOut, Option<i64>)>,
    csrf: String,
}

/// Participants and their roles.
#[derive(Template)]
#[template(path = "incident/participants.html")]
pub struct Participants {
    list: Vec<ParticipantOut>,
}

impl Participants {
    /// A role as people say it ("Incident commander", not `incident_commander`).
    fn role_name<'a>(&self, role: &'a str) -> &'a str {
        super::sections::role_name(role)
    }

    /// The roles someone held and no longer holds (after close every role has ended), as
    /// people say them, oldest first: who ran the incident stays on the page.
    fn past_roles(&self, p: &ParticipantOut) -> String {
        let mut held: Vec<&str> = Vec::new();
        for r in &p.role_history {
            let name = super::sections::role_name(&r.role);
            if !held.contains(&name) {
                held.push(name);
            }
        }
        held.join(", ").to_lowercase()
    }
}

/// The tasks, each open one with a resolve button.
#[derive(Template)]
#[template(path = "incident/tasks.html")]
pub struct Tasks {
    key: String,
    tasks: Vec<TaskOut>,
    csrf: String,
}

/// The latest reports.
#[derive(Template)]
#[template(path = "incident/reports.html")]
pub struct Reports {
    reports: Vec<ReportOut>,
}

impl ReportOut {
    /// A field of the report's details ("" when absent).
    pub fn field(&self, name: &str) -> &str {
        self.details[name].as_str().unwrap_or_default()
    }
}

/// The parts of the page that change while people work, each re-rendered for the live stream.
pub struct Live {
    /// Name → rendered fragment, in page order.
    pub parts: Vec<(&'static str, String)>,
}

/// Everything the page shows, read in one go.
struct View {
    header: Header,
    room: Room,
    timeline: super::sections::Timeline,
    resources: Resources,
    participants: Participants,
    tasks: Tasks,
    reports: Reports,
}

/// What every part of the incident page is made from, read once: the incident as the caller
/// may see it, their standing in it and its whole timeline.
struct Loaded {
    detail: dispatch_engine::incident::IncidentDetail,
    timeline: super::sections::Read,
}

impl Loaded {
    /// Three reads after the caller's: the incident with its parts (if the caller may see it),
    /// then their roles in it beside its timeline.
    async fn of(s: &AppState, caller: &Caller, id: &str) -> ApiResult<Loaded> {
        let who = &caller.auth.0;
        let detail = s
            .engine
            .incidents()
            .get_visible(who.viewer(), &IncidentRef::parse(id))
            .await?;
        let (r, all) = (
            by_id(&detail),
            dispatch_engine::data::EventFilter::default(),
        );
        let (access, events) = tokio::try_join!(
            s.engine.access().in_detail(who, &detail),
            s.engine.timeline().list(&r, &all),
        )?;
        Ok(Loaded {
            detail,
            timeline: super::sections::Read { events, access },
        })
    }
}

/// The incident of `d`, by its id.
fn by_id(d: &dispatch_engine::incident::IncidentDetail) -> IncidentRef {
    IncidentRef::Id(dispatch_core::IncidentId(d.row.id))
}

async fn view(s: &AppState, caller: &Caller, id: &str) -> ApiResult<View> {
    view_of(s, caller, &Loaded::of(s, caller, id).await?).await
}

/// The live parts of the page; what they need besides `loaded` is read side by side.
async fn view_of(s: &AppState, caller: &Caller, loaded: &Loaded) -> ApiResult<View> {
    let r = by_id(&loaded.detail);
    let incident_id = loaded.detail.row.id;
    let access = &loaded.timeline.access;
    let inc: IncidentOut = loaded.detail.clone().into();
    let (room, failed, tasks, reports, priorities) = tokio::try_join!(
        room_of(s, caller, &r, &inc),
        async {
            Ok(s.engine
                .jobs()
                .failed(dispatch_core::IncidentId(incident_id))
                .await?)
        },
        async { Ok(s.engine.tasks().list(&r).await?) },
        async { Ok(s.engine.reports().list(&r, None).await?) },
        async {
            // Only an active incident is due a report.
            Ok(match inc.status.as_str() {
                "active" => Some(
                    s.engine
                        .taxonomy()
                        .incident_priorities(dispatch_core::ProjectId(inc.project.id))
                        .await?,
                ),
                _ => None,
            })
        },
    )?;
    let timeline = loaded.timeline.part(caller, &inc.name, Vec::new());
    let resources = inc
        .resources
        .iter()
        .map(|res| {
            let job = (res.status == "failed")
                .then(|| {
                    failed
                        .iter()
                        .find(|(_, k)| k.is_some_and(|k| k.as_str() == res.kind))
                        .map(|(j, _)| j.id)
                })
                .flatten();
            (res.clone(), job)
        })
        .collect();
    let participants: Vec<ParticipantOut> =
        loaded.detail.participants.iter().map(Into::into).collect();
    let now = dispatch_core::now();
    let roles = participants
        .iter()
        .flat_map(|p| p.roles.iter().map(move |r| (r, &p.email)))
        .filter(|(r, _)| {
            !matches!(
                r.as_str(),
                "incident_commander" | "participant" | "observer"
            )
        })
        .map(|(r, e)| (super::sections::role_name(r).to_string(), e.clone()))
        .collect();
    let next_task = tasks
        .iter()
        .filter(|_| inc.status != "closed")
        .filter(|t| t.task.status == "open")
        .filter_map(|t| t.task.resolve_by.map(|d| (t.task.id, d)))
        .min_by_key(|(_, d)| *d)
        .map(|(id, d)| (id, d, d < now));
    let next_report = match priorities {
        Some(priorities) => {
            let hours = priorities
                .into_iter()
                .find(|p| p.slug == inc.priority)
                .and_then(|p| p.tactical_report_reminder_hours)
                .filter(|h| *h > 0);
            let last = reports
                .iter()
                .filter(|r| r.kind == ReportKind::Tactical.as_str())
                .map(|r| r.created_at)
                .max()
                .unwrap_or(inc.reported_at);
            hours.map(|h| {
                let due = last + chrono::Duration::hours(h.into());
                (due, due < now)
            })
        }
        None => None,
    };
    Ok(View {
        participants: Participants { list: participants },
        tasks: Tasks {
            key: inc.name.clone(),
            tasks: tasks.into_iter().map(Into::into).collect(),
            csrf: caller.csrf.clone(),
        },
        reports: Reports {
            reports: reports.into_iter().take(5).map(Into::into).collect(),
        },
        resources: Resources {
            items: resources,
            csrf: caller.csrf.clone(),
        },
        timeline,
        room,
        header: Header {
            inc,
            csrf: caller.csrf.clone(),
            can_status: access.allows(Action::ChangeStatus),
            roles,
            next_report,
            next_task,
        },
    })
}

/// The room's messages, or why there is no room yet.
async fn room_of(
    s: &AppState,
    caller: &Caller,
    r: &IncidentRef,
    inc: &IncidentOut,
) -> ApiResult<Room> {
    Ok(match s.engine.room().messages(r, 200).await {
        Ok(v) => Room {
            archived: v.room.archived,
            messages: ChatLine::lines(
                v.messages.into_iter().map(Into::into).collect(),
                &inc.name,
                &caller.csrf,
            ),
            missing: None,
        },
        Err(dispatch_engine::Error::NotFound(_)) => Room {
            messages: Vec::new(),
            archived: false,
            missing: Some(
                match inc.resources.iter().find(|r| r.kind == "conversation") {
                    Some(c) if c.status == "failed" => {
                        "The room could not be set up; retry it under Resources."
                    }
                    _ => "The room is being set up…",
                }
                .to_string(),
            ),
        },
        Err(e) => return Err(e.into()),
    })
}

/// The room with its message box, for the incident page, the room's own page (`back` is where
/// a posted message returns to without JavaScript) and htmx's swap after a post.
pub(super) async fn room_section(
    s: &AppState,
    caller: &Caller,
    r: &IncidentRef,
    form: Form,
    back: Option<String>,
) -> ApiResult<String> {
    let inc: IncidentOut = s.engine.incidents().get(r).await?.into();
    let room = room_of(s, caller, r, &inc).await?;
    fragment(&RoomSection {
        key: inc.name,
        room: fragment(&room)?,
        form,
        csrf: caller.csrf.clone(),
        back,
    })
}

pub(super) fn fragment(t: &impl Template) -> ApiResult<String> {
    t.render()
        .map_err(|e| ApiError::Internal(format!("template: {e}")))
}

/// The live parts of an incident page, rendered.
pub async fn live(s: &AppState, caller: &Caller, id: &str) -> ApiResult<Live> {
    parts(&view(s, caller, id).await?)
}

fn parts(v: &View) -> ApiResult<Live> {
    Ok(Live {
        parts: vec![
            ("header", fragment(&v.header)?),
            ("room", fragment(&v.room)?),
            ("timeline", fragment(&v.timeline)?),
            ("resources", fragment(&v.resources)?),
            ("participants", fragment(&v.participants)?),
            ("tasks", fragment(&v.tasks)?),
            ("reports", fragment(&v.reports)?),
        ],
    })
}

/// The incident page.
#[derive(Template)]
#[template(path = "incident/page.html")]
struct Page {
    chrome: Chrome,
    key: String,
    description: String,
    tags: Vec<String>,
    runbooks: Vec<(String, String)>,
    live: Live,
    /// The room with its form.
    room_section: String,
    task_form: Form,
    report_form: Form,
    /// Set when an action above the forms failed (a conflicting status change).
    failure: Option<String>,
    /// The timeline with its filter and export.
    timeline_section: String,
    /// Documents, feedback, and what the caller may do (see [`super::sections::Extra`]).
    extra: super::sections::Extra,
    /// The other forms of the page that failed, by name.
    forms: Vec<(String, Form)>,
    /// The edit form: the incident's current fields, or what was typed and its errors.
    edit_form: Form,
    /// The project's types, priorities and severities, for the edit form.
    choices: super::incidents::Choices,
    /// What the form before did (a toast).
    toast: Option<&'static str>,
}

impl Page {
    fn commands(&self) -> &'static [dispatch_core::chat::Spec] {
        dispatch_core::chat::COMMANDS
    }

    /// The roles the assign form offers.
    fn roles(&self) -> &'static [(&'static str, &'static str)] {
        super::sections::ROLES
    }

    /// Whether the caller's own feedback has this rating.
    fn is_mine(&self, n: &str) -> bool {
        self.extra
            .mine
            .as_ref()
            .is_some_and(|m| m.rating.to_string() == n)
    }

    /// A form of the page by name: as typed, with its errors, after a failed submit.
    fn form(&self, name: &str) -> Form {
        self.forms
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f.clone())
            .unwrap_or_default()
    }

    fn part(&self, name: &str) -> &str {
        self.live
            .parts
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, html)| html.as_str())
    }
}

/// Which form of the page failed, if any; and the timeline's filter.
#[derive(Default)]
pub(super) struct Failed {
    room: Option<Form>,
    edit: Option<Form>,
    task: Option<Form>,
    report: Option<Form>,
    failure: Option<String>,
    /// Other forms, by name (`event`, `role`, `engage`, `document-{id}`, `executive`, …).
    named: Vec<(String, Form)>,
    /// The timeline shows these event types only (all when empty).
    timeline_types: Vec<String>,
    /// What the form before did, said in a toast.
    toast: Option<&'static str>,
}

impl Failed {
    /// The named form failed.
    pub(super) fn named(name: impl Into<String>, form: Form) -> Self {
        Self {
            named: vec![(name.into(), form)],
            ..Self::default()
        }
    }

    /// An action failed: the reason above the forms.
    pub(super) fn because(message: String) -> Self {
        Self {
            failure: Some(message),
            ..Self::default()
        }
    }
}

pub(super) async fn page_with(
    s: &AppState,
    caller: &Caller,
    id: &str,
    failed: Failed,
) -> ApiResult<Response> {
    let loaded = Loaded::of(s, caller, id).await?;
    let (v, extra, choices) = tokio::try_join!(
        view_of(s, caller, &loaded),
        super::sections::extra(s, caller, &loaded.timeline.access, &loaded.detail),
        super::incidents::Choices::load(s, Some(&loaded.detail.row.project_slug)),
    )?;
    // A new report starts from the latest of its kind.
    let latest = |form: &str| {
        let values = loaded.detail.form_values(form);
        Form::with_values(values.iter().map(|(k, v)| (k.as_str(), v.clone())))
    };
    let inc = &v.header.inc;
    let status = if failed.room.is_some()
        || failed.edit.is_some()
        || failed.task.is_some()
        || failed.report.is_some()
        || failed.failure.is_some()
        || !failed.named.is_empty()
    {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = Page {
        chrome: caller.chrome(format!("{} {}", inc.name, inc.title), "incidents"),
        key: inc.name.clone(),
        description: inc.description.clone(),
        tags: inc.tags.clone(),
        runbooks: inc
            .runbooks
            .iter()
            .map(|r| (r.title.clone(), r.link.clone()))
            .collect(),
        live: parts(&v)?,
        room_section: fragment(&RoomSection {
            key: inc.name.clone(),
            room: fragment(&v.room)?,
            form: failed.room.unwrap_or_default(),
            csrf: caller.csrf.clone(),
            back: None,
        })?,
        task_form: failed
            .task
            .unwrap_or_else(|| Form::with_values([("priority", "medium".to_string())])),
        // A new report starts from the latest of its kind.
        report_form: failed
            .report
            .unwrap_or_else(|| latest("dispatch-status-report")),
        failure: failed.failure,
        timeline_section: loaded
            .timeline
            .section(caller, &inc.name, failed.timeline_types)?,
        extra,
        edit_form: failed.edit.unwrap_or_else(|| {
            Form::with_values([
                ("title", inc.title.clone()),
                ("description", inc.description.clone()),
                ("resolution", inc.resolution.clone().unwrap_or_default()),
                ("type", inc.incident_type.clone()),
                ("priority", inc.priority.clone()),
                ("severity", inc.severity.clone()),
                ("visibility", inc.visibility.clone()),
            ])
        }),
        choices,
        toast: failed.toast,
        forms: {
            let mut forms = failed.named;
            if !forms.iter().any(|(n, _)| n == "executive") {
                forms.push(("executive".into(), latest("dispatch-report-executive")));
            }
            forms
        },
    };
    Ok(render(status, &page))
}

/// `GET /incidents/{key}` (`?type=…` filters the timeline).
pub async fn page(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    crate::extract::Query(q): crate::extract::Query<super::sections::TypeQuery>,
) -> ApiResult<Response> {
    let failed = Failed {
        timeline_types: q.kinds(),
        toast: Done::toast(q.done.as_deref()),
        ..Failed::default()
    };
    page_with(&s, &caller, &id, failed).await
}

/// What a form of the incident page did: the page says it in a toast (`?done=…`) and opens
/// at the section the form is in, not at the top.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Done {
    Edited,
    StatusChanged,
    MessageSent,
    TaskAdded,
    TaskResolved,
    ReportPosted,
    RoleAssigned,
    Engaged,
    Joined,
    Subscribed,
    DocumentSaved,
    EventAdded,
    FeedbackSent,
    Retried,
}

impl Done {
    const ALL: [Done; 14] = [
        Done::Edited,
        Done::StatusChanged,
        Done::MessageSent,
        Done::TaskAdded,
        Done::TaskResolved,
        Done::ReportPosted,
        Done::RoleAssigned,
        Done::Engaged,
        Done::Joined,
        Done::Subscribed,
        Done::DocumentSaved,
        Done::EventAdded,
        Done::FeedbackSent,
        Done::Retried,
    ];

    /// Its name in the address, what the toast says, and the section the page opens at.
    fn parts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Done::Edited => ("edited", "Incident saved.", ""),
            Done::StatusChanged => ("status", "Status changed.", ""),
            Done::MessageSent => ("message", "Sent to the room.", "#room"),
            Done::TaskAdded => ("task", "Task added.", "#tasks-h"),
            Done::TaskResolved => ("resolved", "Task resolved.", "#tasks-h"),
            Done::ReportPosted => ("report", "Report posted.", "#reports-h"),
            Done::RoleAssigned => ("role", "Role assigned.", "#participants-h"),
            Done::Engaged => ("engaged", "On-call engaged.", "#participants-h"),
            Done::Joined => ("joined", "You joined the incident.", "#participants-h"),
            Done::Subscribed => ("subscribed", "You will get its updates by e-mail.", ""),
            Done::DocumentSaved => ("document", "Document saved.", "#documents"),
            Done::EventAdded => ("event", "Added to the timeline.", "#timeline"),
            Done::FeedbackSent => ("feedback", "Thank you for the feedback.", "#feedback"),
            Done::Retried => ("retried", "Queued again.", "#resources-h"),
        }
    }

    /// The toast for a `done` value of the address (nothing for an unknown one).
    pub(super) fn toast(name: Option<&str>) -> Option<&'static str> {
        let name = name?;
        Done::ALL
            .iter()
            .map(|d| d.parts())
            .find(|(n, _, _)| *n == name)
            .map(|(_, text, _)| text)
    }
}

/// Back to the incident's page after a form, saying what was done.
pub(super) fn back(id: &str, done: Done) -> Response {
    let (name, _, anchor) = done.parts();
    see_other(&format!("/incidents/{id}?done={name}{anchor}"))
}

pub(super) async fn transition(
    s: &AppState,
    caller: &Caller,
    id: &str,
    to: IncidentStatus,
) -> ApiResult<Response> {
    match s
        .engine
        .incidents()
        .change_status(caller.auth.actor(), &IncidentRef::parse(id), to)
        .await
    {
        Ok(d) => Ok(back(&d.row.name, Done::StatusChanged)),
        Err(dispatch_engine::Error::Conflict(m)) => {
            let failed = Failed {
                failure: Some(m),
                ..Default::default()
            };
            page_with(s, caller, id, failed).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /incidents/{key}/stable`.
pub async fn mark_stable(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    transition(&s, &caller, &id, IncidentStatus::Stable).await
}

/// `POST /incidents/{key}/reopen`.
pub async fn reopen(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    transition(&s, &caller, &id, IncidentStatus::Active).await
}

/// A message for the room.
#[derive(Deserialize)]
pub struct MessageForm {
    text: Option<String>,
    /// The room's own page sends its address, to come back to it.
    back: Option<String>,
}

/// The room with its form, as htmx swaps it in after a post.
#[derive(Template)]
#[template(path = "incident/room_section.html")]
struct RoomSection {
    key: String,
    room: String,
    form: Form,
    csrf: String,
    /// Where the form returns to, when not the incident page.
    back: Option<String>,
}

/// `POST /incidents/{key}/room`: posts a message; a message starting with `/` runs a chat
/// command as the poster and Dispatch answers in the room (as the API's room post does).
pub async fn post_message(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(b): axum::Form<MessageForm>,
) -> ApiResult<Response> {
    let raw = b.text.unwrap_or_default();
    let mut e = ValidationError::default();
    if raw.trim().is_empty() {
        e.push("text", "write a message or a /dispatch-… command");
    }
    let text = e.check(LongText::parse("text", raw.trim()));
    let result = match (e.into_result(), text) {
        (Ok(()), Some(text)) => s
            .engine
            .room()
            .post_in_room(&caller.auth.0, &IncidentRef::parse(&id), text)
            .await
            .map(|_| ())
            .map_err(ApiError::from),
        (Err(e), _) => Err(e.into()),
        (Ok(()), None) => Err(ApiError::field("text", "is required")),
    };
    let mut form = Form::default();
    if let Err(err) = result {
        form = Form::with_values([("text", raw.clone())]);
        form.fail(err)?;
    }
    let back_to = b.back.filter(|b| b.starts_with("/incidents/"));
    if is_htmx(&headers) {
        let r = IncidentRef::parse(&id);
        let section = room_section(&s, &caller, &r, form, back_to).await?;
        return Ok((StatusCode::OK, axum::response::Html(section)).into_response());
    }
    if let Some(to) = back_to {
        if form.failed() {
            return super::attached::room_page(&s, &caller, &id, form).await;
        }
        return Ok(see_other(&to));
    }
    if form.failed() {
        let failed = Failed {
            room: Some(form),
            ..Default::default()
        };
        return page_with(&s, &caller, &id, failed).await;
    }
    Ok(back(&id, Done::MessageSent))
}

/// The incident's fields, edited on its page.
#[derive(Deserialize)]
pub struct EditForm {
    title: Option<String>,
    description: Option<String>,
    resolution: Option<String>,
    #[serde(rename = "type")]
    incident_type: Option<String>,
    priority: Option<String>,
    severity: Option<String>,
    visibility: Option<String>,
}

/// `POST /incidents/{key}/edit`: what changed in the edit form (a field left as it was is not
/// sent, so the timeline names only real changes; an emptied resolution clears it).
pub async fn edit(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    axum::Form(b): axum::Form<EditForm>,
) -> ApiResult<Response> {
    let incident = IncidentRef::parse(&id);
    let now = IncidentOut::from(s.engine.incidents().get(&incident).await?);
    let changed = |new: &Option<String>, old: &str| {
        new.as_deref()
            .map(str::trim)
            .filter(|v| *v != old.trim())
            .map(str::to_string)
    };
    let mut e = ValidationError::default();
    let title =
        changed(&b.title, &now.title).and_then(|t| e.check(IncidentTitle::parse("title", &t)));
    let description = changed(&b.description, &now.description)
        .and_then(|t| e.check(LongText::parse("description", &t)));
    let resolution = match changed(&b.resolution, now.resolution.as_deref().unwrap_or_default()) {
        None => dispatch_core::Patch::Absent,
        Some(r) if r.is_empty() => dispatch_core::Patch::Null,
        Some(r) => e
            .check(LongText::parse("resolution", &r))
            .map_or(dispatch_core::Patch::Absent, dispatch_core::Patch::Value),
    };
    let visibility = crate::api::parse::enum_field::<dispatch_core::Visibility>(
        &mut e,
        "visibility",
        changed(&b.visibility, &now.visibility).as_deref(),
    );
    let cmd = UpdateIncident {
        title,
        description,
        resolution,
        incident_type: changed(&b.incident_type, &now.incident_type),
        priority: changed(&b.priority, &now.priority),
        severity: changed(&b.severity, &now.severity),
        visibility,
        tags: None,
        status: None,
    };
    let result = if cmd.is_empty() && e.fields.is_empty() {
        Ok(())
    } else {
        super::forms::submit(e, || {
            s.engine
                .incidents()
                .update(caller.auth.actor(), &incident, cmd)
        })
        .await
        .map(|_| ())
    };
    let form = Form::with_values([
        ("title", b.title.unwrap_or_default()),
        ("description", b.description.unwrap_or_default()),
        ("resolution", b.resolution.unwrap_or_default()),
        ("type", b.incident_type.unwrap_or_default()),
        ("priority", b.priority.unwrap_or_default()),
        ("severity", b.severity.unwrap_or_default()),
        ("visibility", b.visibility.unwrap_or_default()),
    ]);
    settle(&s, &caller, &id, result, form, Done::Edited, |f| Failed {
        edit: Some(f),
        ..Default::default()
    })
    .await
}

/// A new task from the page.
#[derive(Deserialize)]
pub struct TaskForm {
    description: Option<String>,
    assignees: Option<String>,
    priority: Option<String>,
}

/// `POST /incidents/{key}/tasks`.
pub async fn add_task(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    axum::Form(b): axum::Form<TaskForm>,
) -> ApiResult<Response> {
    let mut e = ValidationError::default();
    let description = super::forms::long_text(
        &mut e,
        "description",
        b.description.as_deref(),
        "is required: what needs doing",
    );
    let assignees: Vec<Email> = b
        .assignees
        .as_deref()
        .unwrap_or_default()
        .split([',', ' '])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .filter_map(|a| e.check(Email::parse("assignees", a)))
        .collect();
    let priority = crate::api::parse::enum_field::<TaskPriority>(
        &mut e,
        "priority",
        b.priority.as_deref().filter(|p| !p.is_empty()),
    );
    let incident = IncidentRef::parse(&id);
    let result = super::forms::submit(e, || {
        s.engine.tasks().create(
            caller.auth.actor(),
            &incident,
            CreateTask {
                description: description.expect("checked"),
                assignees,
                owner: None,
                resolve_by: None,
                priority: priority.unwrap_or(TaskPriority::Medium),
            },
        )
    })
    .await
    .map(|_| ());
    let form = Form::with_values([
        ("description", b.description.unwrap_or_default()),
        ("assignees", b.assignees.unwrap_or_default()),
        ("priority", b.priority.unwrap_or_default()),
    ]);
    settle(&s, &caller, &id, result, form, Done::TaskAdded, |f| {
        Failed {
            task: Some(f),
            ..Default::default()
        }
    })
    .await
}

/// After a form of the page: back to the page, or the page again with the form's errors.
pub(super) async fn settle(
    s: &AppState,
    caller: &Caller,
    id: &str,
    result: ApiResult<()>,
    mut form: Form,
    done: Done,
    place: impl FnOnce(Form) -> Failed,
) -> ApiResult<Response> {
    match result {
        Ok(()) => Ok(back(id, done)),
        Err(err) => {
            form.fail(err)?;
            page_with(s, caller, id, place(form)).await
        }
    }
}

/// Where to go after resolving a task (the tasks page sends `back=/tasks`).
#[derive(Deserialize)]
pub struct ResolveForm {
    back: Option<String>,
}

/// `POST /incidents/{key}/tasks/{task_id}/resolve`.
pub async fn resolve_task(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, task_id)): Path<(String, dispatch_core::TaskId)>,
    axum::Form(b): axum::Form<ResolveForm>,
) -> ApiResult<Response> {
    let cmd = UpdateTask {
        description: None,
        assignees: None,
        owner: None,
        resolve_by: dispatch_core::Patch::Absent,
        status: Some(TaskStatus::Resolved),
        priority: None,
    };
    s.engine
        .tasks()
        .update(caller.auth.actor(), &IncidentRef::parse(&id), task_id, cmd)
        .await?;
    Ok(match b.back.as_deref() {
        Some("/tasks") => see_other("/tasks"),
        _ => back(&id, Done::TaskResolved),
    })
}

/// A tactical report from the page.
#[derive(Deserialize)]
pub struct ReportForm {
    conditions: Option<String>,
    actions: Option<String>,
    needs: Option<String>,
}

/// `POST /incidents/{key}/reports`: a tactical report (conditions, actions, needs).
pub async fn add_report(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    axum::Form(b): axum::Form<ReportForm>,
) -> ApiResult<Response> {
    let (result, form) = post_report(
        &s,
        &caller,
        &id,
        ReportKind::Tactical,
        [
            ("conditions", b.conditions),
            ("actions", b.actions),
            ("needs", b.needs),
        ],
    )
    .await;
    settle(&s, &caller, &id, result, form, Done::ReportPosted, |f| {
        Failed {
            report: Some(f),
            ..Default::default()
        }
    })
    .await
}

/// Posts a report of this kind from a form's three fields (each required); answers the result
/// and the form as typed.
pub(super) async fn post_report(
    s: &AppState,
    caller: &Caller,
    id: &str,
    kind: ReportKind,
    values: [(&'static str, Option<String>); 3],
) -> (ApiResult<()>, Form) {
    let mut e = ValidationError::default();
    let missing = format!("is required in a {kind} report");
    let fields: Vec<_> = values
        .iter()
        .filter_map(|(name, v)| {
            super::forms::long_text(&mut e, name, v.as_deref(), &missing).map(|t| (*name, t))
        })
        .collect();
    let incident = IncidentRef::parse(id);
    let result = super::forms::submit(e, || {
        s.engine.reports().create(
            caller.auth.actor(),
            &incident,
            CreateReport { kind, fields },
        )
    })
    .await
    .map(|_| ());
    let form = Form::with_values(values.map(|(n, v)| (n, v.unwrap_or_default())));
    (result, form)
}

/// `POST /jobs/{id}/retry`: puts a failed job back in the queue and returns to its incident.
pub async fn retry_job(
    State(s): State<AppState>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let job = s.engine.jobs().retry(dispatch_core::JobId(id)).await?;
    Ok(match job.incident_id {
        Some(incident) => {
            let d = s
                .engine
                .incidents()
                .get(&IncidentRef::Id(dispatch_core::IncidentId(incident)))
                .await?;
            back(&d.row.name, Done::Retried)
        }
        None => see_other("/incidents"),
    })
}
