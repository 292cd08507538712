//! The incident page's documents (markdown rendered to safe HTML, editable by those who may
//! change the incident), the executive report form beside the tactical one, and feedback after
//! close (participants rate the response; the commander and admins read what they said).

use super::incident::{post_report, settle, Done, Failed};
use super::{Caller, Form};
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use dispatch_core::values::IncidentRef;
use dispatch_core::{ReportKind, ValidationError};
use serde::Deserialize;

/// A document's new markdown.
#[derive(Deserialize)]
pub struct DocumentForm {
    body: Option<String>,
}

impl DocumentForm {
    /// The markdown typed; browsers send CRLF line ends from a textarea, documents keep LF.
    pub(super) fn markdown(self) -> String {
        self.body.unwrap_or_default().replace("\r\n", "\n")
    }
}

/// `POST /incidents/{key}/documents/{document_id}`: saves a person's edit.
pub async fn edit_document(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, document_id)): Path<(String, i64)>,
    axum::Form(b): axum::Form<DocumentForm>,
) -> ApiResult<Response> {
    let body = b.markdown();
    let result = s
        .engine
        .documents()
        .edit(
            caller.auth.actor(),
            &IncidentRef::parse(&id),
            dispatch_core::DocumentId(document_id),
            &body,
        )
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    let form = Form::with_values([("body", body)]);
    settle(&s, &caller, &id, result, form, Done::DocumentSaved, |f| {
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
    settle(&s, &caller, &id, result, form, Done::ReportPosted, |f| {
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
        s.engine.feedback().give(
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
    settle(&s, &caller, &id, result, form, Done::FeedbackSent, |f| {
        Failed::named("feedback", f)
    })
    .await
}
