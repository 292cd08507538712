//! The incident page's documents (markdown rendered to safe HTML, editable by those who may
//! change the incident), the executive report form beside the tactical one, and feedback after
//! close (participants rate the response; the commander and admins read what they said).

use super::incident::{post_report, settle, Failed};
use super::{markdown, Caller, Form};
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use dispatch_core::permission::Action;
use dispatch_core::values::IncidentRef;
use dispatch_core::{ReportKind, ValidationError};
use serde::Deserialize;

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

/// Reads what the page needs for its documents, people forms and feedback.
pub async fn extra(s: &AppState, caller: &Caller, r: &IncidentRef) -> ApiResult<Extra> {
    let who = &caller.auth.0;
    let access = s.engine.incident_access(who, r).await?;
    let detail = s.engine.incident(r).await?;
    let documents = s
        .engine
        .documents(r)
        .await?
        .into_iter()
        .map(|d| Doc {
            id: d.id,
            html: markdown::to_safe_html(&d.body),
            title: d.title,
            body: d.body,
            read_only: d.read_only,
            edited_by: d.edited_by,
            updated_at: d.updated_at,
        })
        .collect();
    let reads_feedback = access.allows(Action::ReadFeedback);
    let all: Vec<Rating> = s
        .engine
        .feedback(r)
        .await?
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
        can_assign: access.allows(Action::AssignRole),
        can_engage: access.allows(Action::EngageOncall),
        can_scribe: access.allows(Action::AddTimelineEvent),
        participant: access.standing.participant(),
        reads_feedback,
        closed: detail.row.status == "closed",
        services: s
            .engine
            .services(detail.row.project_id)
            .await?
            .into_iter()
            .map(|s| s.name)
            .collect(),
        documents,
        feedback: if reads_feedback { all } else { Vec::new() },
        mine,
    })
}

/// A document's new markdown.
#[derive(Deserialize)]
pub struct DocumentForm {
    body: Option<String>,
}

/// `POST /incidents/{key}/documents/{document_id}`: saves a person's edit.
pub async fn edit_document(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, document_id)): Path<(String, i64)>,
    axum::Form(b): axum::Form<DocumentForm>,
) -> ApiResult<Response> {
    // Browsers send CRLF line ends from a textarea; documents keep LF.
    let body = b.body.unwrap_or_default().replace("\r\n", "\n");
    let result = s
        .engine
        .edit_document(
            caller.auth.actor(),
            &IncidentRef::parse(&id),
            document_id,
            &body,
        )
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    let form = Form::with_values([("body", body)]);
    settle(&s, &caller, &id, result, form, |f| {
        Failed::named(format!("document-{document_id}"), f)
    })
    .await
}

/// An executive report from the page.
#[derive(Deserialize)]
pub struct ExecutiveForm {
    current_status: Option<String>,
    overview: Option<String>,
    next_steps: Option<String>,
}

/// `POST /incidents/{key}/reports/executive`: an executive report (current status, overview,
/// next steps), through the same engine call as the API's.
pub async fn add_executive_report(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    axum::Form(b): axum::Form<ExecutiveForm>,
) -> ApiResult<Response> {
    let (result, form) = post_report(
        &s,
        &caller,
        &id,
        ReportKind::Executive,
        [
            ("current_status", b.current_status),
            ("overview", b.overview),
            ("next_steps", b.next_steps),
        ],
    )
    .await;
    settle(&s, &caller, &id, result, form, |f| {
        Failed::named("executive", f)
    })
    .await
}

/// A rating and comment.
#[derive(Deserialize)]
pub struct FeedbackForm {
    rating: Option<String>,
    comment: Option<String>,
}

/// `POST /incidents/{key}/feedback`: a participant rates how the incident was run.
pub async fn give_feedback(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    axum::Form(b): axum::Form<FeedbackForm>,
) -> ApiResult<Response> {
    let mut e = ValidationError::default();
    let rating = super::forms::required(
        &mut e,
        "rating",
        b.rating.as_deref(),
        "choose a rating from 1 (poor) to 5 (excellent)",
        |e, r| match r.parse::<i32>() {
            Ok(n) if (1..=5).contains(&n) => Some(n),
            _ => {
                e.push("rating", "must be a whole number from 1 to 5");
                None
            }
        },
    );
    let comment = b.comment.clone().unwrap_or_default();
    if comment.chars().count() > 5000 {
        e.push("comment", "must be at most 5000 characters");
    }
    let incident = IncidentRef::parse(&id);
    let result = super::forms::submit(e, || {
        s.engine.give_feedback(
            caller.auth.actor(),
            &incident,
            rating.expect("checked"),
            comment.trim().to_string(),
        )
    })
    .await
    .map(|_| ());
    let form = Form::with_values([
        ("rating", b.rating.unwrap_or_default()),
        ("comment", comment),
    ]);
    settle(&s, &caller, &id, result, form, |f| {
        Failed::named("feedback", f)
    })
    .await
}
