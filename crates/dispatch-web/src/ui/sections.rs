//! The incident page's sections that its forms re-render with it: the timeline (with its type
//! filter), the documents, feedback and what the caller may do there ("extra"), and the roles
//! the assign form offers. Read-only: the forms that post to the page (in the `incident`,
//! `timeline`, `people` and `extra` modules beside this one) sit above the page, which renders
//! these sections without naming any of them, so that a form can re-render the page.

use super::{markdown, Caller};
use crate::api::parse;
use crate::error::{ApiError, ApiResult};
use crate::wire::EventOut;
use crate::AppState;
use askama::Template;
use chrono::{DateTime, Utc};
use dispatch_core::permission::Action;
use dispatch_core::values::IncidentRef;
use dispatch_engine::access::IncidentAccess;
use dispatch_engine::data::EventFilter;
use dispatch_engine::incident::IncidentDetail;
use dispatch_engine::signal::InstanceQuery;
use serde::Deserialize;

/// The roles the incident page's assign form offers (value, label).
pub const ROLES: &[(&str, &str)] = &[
    ("incident_commander", "Incident commander"),
    ("scribe", "Scribe"),
    ("liaison", "Liaison"),
    ("participant", "Participant"),
    ("observer", "Observer"),
];

/// A role as people say it: the label the assign form shows, "Reporter" for the reporter.
pub fn role_name(role: &str) -> &str {
    match role {
        "reporter" => "Reporter",
        _ => ROLES
            .iter()
            .find(|(v, _)| *v == role)
            .map_or(role, |(_, label)| label),
    }
}

/// The timeline part: pinned events, then every event (or those of the chosen types).
#[derive(Template)]
#[template(path = "incident/timeline.html")]
pub struct Timeline {
    key: String,
    events: Vec<EventOut>,
    /// Whether the caller may pin (the incident's scribe, commander, reporter, or an admin).
    can_pin: bool,
    csrf: String,
    /// The chosen types, comma-separated ("" for all), so a pin keeps the filter.
    filter: String,
}

/// The timeline's groups of events (see [`dispatch_core::event::TimelineEvent::group`]), as
/// the filter offers them; a page shows all but `system` until asked.
pub const GROUPS: &[(&str, &str)] = &[
    ("key", "Key events"),
    ("people", "People"),
    ("work", "Tasks, reports and files"),
    ("system", "System (resources, mail, notifications)"),
];

/// An event type as people read it: `status_changed` → "Status changed".
pub fn kind_label(kind: &str) -> String {
    let spaced = kind.replace('_', " ");
    let mut c = spaced.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => spaced,
    }
}

impl Timeline {
    fn label(&self, kind: &str) -> String {
        kind_label(kind)
    }

    fn pinned(&self) -> impl Iterator<Item = &EventOut> {
        self.events.iter().filter(|e| e.pinned)
    }

    fn has_pinned(&self) -> bool {
        self.events.iter().any(|e| e.pinned)
    }
}

/// An incident's whole timeline and the caller's standing in it: what the timeline's parts
/// are made from (one read of the events, however they are filtered for showing).
pub struct Read {
    /// Every event, in chain order.
    pub events: Vec<Event>,
    /// The caller's standing in the incident.
    pub access: IncidentAccess,
}

/// An event as the engine reads it.
pub type Event = dispatch_engine::data::model::event::Model;

impl Read {
    /// Reads the timeline and the caller's standing, side by side.
    pub async fn of(s: &AppState, caller: &Caller, r: &IncidentRef) -> ApiResult<Read> {
        let all = EventFilter::default();
        let (events, access) = tokio::try_join!(
            s.engine.timeline().list(r, &all),
            s.engine.access().incident(&caller.auth.0, r),
        )?;
        Ok(Read { events, access })
    }

    /// The timeline as the caller sees it, with these types only (all when empty).
    pub fn part(&self, caller: &Caller, key: &str, kinds: Vec<String>) -> Timeline {
        let filter = kinds.join(",");
        let (groups, kinds): (Vec<String>, Vec<String>) = kinds
            .into_iter()
            .partition(|k| k == "all" || GROUPS.iter().any(|(g, _)| g == k));
        // Nothing chosen: all but Dispatch's bookkeeping of its tools.
        let groups: Vec<String> = match (groups.is_empty(), kinds.is_empty()) {
            (true, true) => vec!["key".into(), "people".into(), "work".into()],
            (true, false) => vec!["all".into()],
            _ => groups,
        };
        let f = EventFilter {
            kinds,
            ..EventFilter::default()
        };
        let events: Vec<EventOut> = self
            .events
            .iter()
            .filter(|e| f.matches(e))
            .cloned()
            .map(EventOut::from)
            .filter(|e| {
                groups.iter().any(|g| g == "all")
                    || e.pinned
                    || groups.iter().any(|g| g == group_of(e))
            })
            .collect();
        Timeline {
            key: key.to_string(),
            events,
            can_pin: self
                .access
                .allows(dispatch_core::permission::Action::PinEvent),
            csrf: caller.csrf.clone(),
            filter,
        }
    }

    /// The timeline section for these types: its filter (every type the incident has) and the
    /// chosen events.
    pub fn section(&self, caller: &Caller, key: &str, chosen: Vec<String>) -> ApiResult<String> {
        let mut kinds: Vec<String> = self.events.iter().map(|e| e.kind.clone()).collect();
        kinds.sort();
        kinds.dedup();
        let body = self
            .part(caller, key, chosen.clone())
            .render()
            .map_err(|e| ApiError::Internal(format!("template: {e}")))?;
        Section {
            key: key.to_string(),
            kinds,
            chosen,
            body,
        }
        .render()
        .map_err(|e| ApiError::Internal(format!("template: {e}")))
    }
}

/// The timeline of an incident as the caller sees it, with these types only (all when empty).
pub async fn part(
    s: &AppState,
    caller: &Caller,
    r: &IncidentRef,
    key: &str,
    kinds: Vec<String>,
) -> ApiResult<Timeline> {
    Ok(Read::of(s, caller, r).await?.part(caller, key, kinds))
}

/// The group of an event as the API shows it.
fn group_of(e: &EventOut) -> &'static str {
    dispatch_core::event::TimelineEvent::decode(&e.kind, &e.details).group()
}

/// The filter of the timeline: `?type=status_changed,custom` (several `type` values work too);
/// a group's name (`key`, `people`, `work`, `system`) or `all` stands for its events.
#[derive(Deserialize, Default)]
pub struct TypeQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
    /// What the form before did (the incident page's toast, see `incident::Done`).
    pub done: Option<String>,
}

impl TypeQuery {
    /// The chosen types and groups (none: all but the system group).
    pub fn kinds(&self) -> Vec<String> {
        parse::list(&mut Default::default(), "type", self.kind.as_deref())
    }

    /// The chosen event types alone (the export has the whole timeline unless types are chosen).
    pub fn types_only(&self) -> Vec<String> {
        self.kinds()
            .into_iter()
            .filter(|k| k != "all" && !GROUPS.iter().any(|(g, _)| g == k))
            .collect()
    }
}

/// The timeline section: its filter form and the events, live when unfiltered.
#[derive(Template)]
#[template(path = "incident/timeline_section.html")]
pub struct Section {
    /// The incident's key.
    pub key: String,
    /// Every event type of the incident, for the filter.
    pub kinds: Vec<String>,
    /// The chosen types.
    pub chosen: Vec<String>,
    /// The rendered events.
    pub body: String,
}

impl Section {
    fn groups(&self) -> &'static [(&'static str, &'static str)] {
        GROUPS
    }

    fn label(&self, kind: &str) -> String {
        kind_label(kind)
    }

    fn is_chosen(&self, kind: &str) -> bool {
        self.chosen.iter().any(|c| c == kind)
    }

    fn query(&self) -> String {
        if self.chosen.is_empty() {
            String::new()
        } else {
            format!(
                "?{}",
                serde_urlencoded::to_string([("type", self.chosen.join(","))]).unwrap_or_default()
            )
        }
    }
}

/// Renders the timeline section for these types.
pub async fn section(
    s: &AppState,
    caller: &Caller,
    r: &IncidentRef,
    key: &str,
    chosen: Vec<String>,
) -> ApiResult<String> {
    Read::of(s, caller, r).await?.section(caller, key, chosen)
}

/// A document as the page shows it.
pub struct Doc {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// The markdown, for the edit form.
    pub body: String,
    /// The markdown rendered to safe HTML.
    pub html: String,
    /// Closed incidents' documents are read-only.
    pub read_only: bool,
    /// Who edited it by hand (Dispatch no longer re-renders it then).
    pub edited_by: Option<String>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<dispatch_engine::data::model::document::Model> for Doc {
    fn from(d: dispatch_engine::data::model::document::Model) -> Self {
        Self {
            id: d.id,
            html: markdown::to_safe_html(&d.body),
            title: d.title,
            body: d.body,
            read_only: d.read_only,
            edited_by: d.edited_by,
            updated_at: d.updated_at,
        }
    }
}

/// One participant's feedback.
pub struct Rating {
    /// Who.
    pub email: String,
    /// 1-5.
    pub rating: i32,
    /// What they said.
    pub comment: String,
}

/// What the page shows besides its live parts, and what the caller may do there.
pub struct Extra {
    /// May edit its documents ([`Action::EditDocument`]).
    pub can_edit: bool,
    /// May edit its fields: title, description, resolution, taxonomy ([`Action::EditIncident`]).
    pub can_edit_incident: bool,
    /// May assign roles ([`Action::AssignRole`]).
    pub can_assign: bool,
    /// May engage on-call ([`Action::EngageOncall`]).
    pub can_engage: bool,
    /// May keep its record: timeline entries, reports ([`Action::AddTimelineEvent`]).
    pub can_scribe: bool,
    /// Takes part in it (may engage on-call and give feedback).
    pub participant: bool,
    /// Reads everyone's feedback ([`Action::ReadFeedback`]).
    pub reads_feedback: bool,
    /// The incident is closed (feedback is asked for).
    pub closed: bool,
    /// The project's services, for engaging their on-call.
    pub services: Vec<String>,
    /// The incident's documents.
    pub documents: Vec<Doc>,
    /// Every participant's feedback (for those who read it).
    pub feedback: Vec<Rating>,
    /// The caller's own feedback.
    pub mine: Option<Rating>,
    /// The cases escalated to it, each with how many signals it holds.
    pub cases: Vec<(crate::api::cases::CaseOut, u64)>,
    /// The incidents most like it that the caller may see (`GET …/similar`), rendered.
    pub similar: String,
}

impl Extra {
    /// Average rating, one decimal.
    pub fn average(&self) -> String {
        if self.feedback.is_empty() {
            return String::new();
        }
        let sum: i32 = self.feedback.iter().map(|f| f.rating).sum();
        format!("{:.1}", f64::from(sum) / self.feedback.len() as f64)
    }
}

/// Reads what the page needs for its documents, people forms and feedback, for a caller who
/// stands so (`access`) in the incident read as `detail`; the reads run side by side.
pub async fn extra(
    s: &AppState,
    caller: &Caller,
    access: &IncidentAccess,
    detail: &IncidentDetail,
) -> ApiResult<Extra> {
    let who = &caller.auth.0;
    let r = IncidentRef::Id(dispatch_core::IncidentId(detail.row.id));
    let (documents, all, services, cases, similar) = tokio::try_join!(
        async { Ok::<_, ApiError>(s.engine.documents().list(&r).await?) },
        async { Ok(s.engine.feedback().list(&r).await?) },
        async {
            Ok(s.engine
                .directory()
                .services(dispatch_core::ProjectId(detail.row.project_id))
                .await?)
        },
        cases_of(s, dispatch_core::IncidentId(detail.row.id)),
        async { Ok(s.engine.incidents().similar(who.viewer(), &r, 5).await?) },
    )?;
    let reads_feedback = access.allows(Action::ReadFeedback);
    let all: Vec<Rating> = all
        .into_iter()
        .map(|f| Rating {
            email: f.email,
            rating: f.rating,
            comment: f.comment,
        })
        .collect();
    let mine = all
        .iter()
        .find(|f| f.email == who.actor.email)
        .map(|f| Rating {
            email: f.email.clone(),
            rating: f.rating,
            comment: f.comment.clone(),
        });
    Ok(Extra {
        can_edit: access.allows(Action::EditDocument),
        can_edit_incident: access.allows(Action::EditIncident),
        can_assign: access.allows(Action::AssignRole),
        can_engage: access.allows(Action::EngageOncall),
        can_scribe: access.allows(Action::AddTimelineEvent),
        participant: access.standing.participant(),
        reads_feedback,
        closed: detail.row.status == "closed",
        services: services.into_iter().map(|s| s.name).collect(),
        documents: documents.into_iter().map(Doc::from).collect(),
        feedback: if reads_feedback { all } else { Vec::new() },
        mine,
        cases,
        similar: super::incidents::similar_list(similar.into_iter().map(Into::into).collect())?,
    })
}

/// The cases escalated to an incident, each with how many signals it holds.
async fn cases_of(
    s: &AppState,
    incident: dispatch_core::IncidentId,
) -> ApiResult<Vec<(crate::api::cases::CaseOut, u64)>> {
    let mut out = Vec::new();
    for c in s.engine.cases().of_incident(incident).await? {
        let (_, signals) = s
            .engine
            .signals()
            .instances(
                &InstanceQuery {
                    case: Some(dispatch_core::CaseId(c.id)),
                    ..InstanceQuery::seen_by(dispatch_engine::access::Viewer::Everyone)
                },
                1,
                1,
            )
            .await?;
        out.push((c.into(), signals));
    }
    Ok(out)
}
