//! The incident page's people: assign a role, engage a service's on-call (and page them), join
//! and subscribe. Each form calls the engine as its API route or chat command does.

use super::incident::{back, page_with, settle, Done, Failed};
use super::{forms, see_other, Caller, Form};
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use dispatch_core::commands::AssignRole;
use dispatch_core::values::{Email, IncidentRef};
use dispatch_core::{ParticipantRole, ValidationError};
use serde::Deserialize;

/// A role for a person.
#[derive(Deserialize)]
pub struct RoleForm {
    email: Option<String>,
    role: Option<String>,
}

/// `POST /incidents/{key}/roles`.
pub async fn assign_role(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    axum::Form(b): axum::Form<RoleForm>,
) -> ApiResult<Response> {
    let mut e = ValidationError::default();
    let email = forms::required(
        &mut e,
        "email",
        b.email.as_deref(),
        "is required: whose role",
        |e, m| e.check(Email::parse("email", m)),
    );
    let role = crate::api::parse::enum_field::<ParticipantRole>(
        &mut e,
        "role",
        b.role.as_deref().filter(|r| !r.is_empty()),
    );
    if role.is_none() && !e.fields.iter().any(|f| f.field == "role") {
        e.push("role", "is required");
    }
    let incident = IncidentRef::parse(&id);
    let result = forms::submit(e, || {
        s.engine.roles().assign(
            caller.auth.actor(),
            &incident,
            AssignRole {
                email: email.expect("checked"),
                role: role.expect("checked"),
            },
        )
    })
    .await
    .map(|_| ());
    let form = Form::with_values([
        ("email", b.email.unwrap_or_default()),
        ("role", b.role.unwrap_or_default()),
    ]);
    settle(&s, &caller, &id, result, form, Done::RoleAssigned, |f| {
        Failed::named("role", f)
    })
    .await
}

/// A service whose on-call to bring in.
#[derive(Deserialize)]
pub struct EngageForm {
    service: Option<String>,
    page: Option<String>,
}

/// `POST /incidents/{key}/engage`: the service's current on-call joins as an observer and,
/// when asked, is paged (the engine's `/dispatch-engage-oncall`).
pub async fn engage_oncall(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    axum::Form(b): axum::Form<EngageForm>,
) -> ApiResult<Response> {
    let service = b.service.clone().unwrap_or_default();
    let (page, page_value) = forms::checkbox(&b.page);
    let result = if service.trim().is_empty() {
        Err(ApiError::field("service", "choose a service"))
    } else {
        s.engine
            .oncall()
            .engage(
                caller.auth.actor(),
                &IncidentRef::parse(&id),
                &service,
                page,
            )
            .await
            .map(|_| ())
            .map_err(ApiError::from)
    };
    let form = Form::with_values([("service", service), ("page", page_value)]);
    settle(&s, &caller, &id, result, form, Done::Engaged, |f| {
        Failed::named("engage", f)
    })
    .await
}

/// Where to go afterwards (the status page sends `back=/status`).
#[derive(Deserialize)]
pub struct BackForm {
    back: Option<String>,
}

async fn after(
    s: &AppState,
    caller: &Caller,
    id: &str,
    result: dispatch_engine::Result<()>,
    to: Option<String>,
    done: Done,
) -> ApiResult<Response> {
    match result {
        Ok(()) => Ok(match to.as_deref() {
            Some("/status") => see_other("/status"),
            _ => back(id, done),
        }),
        Err(dispatch_engine::Error::Forbidden(m) | dispatch_engine::Error::Conflict(m)) => {
            page_with(s, caller, id, Failed::because(m)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /incidents/{key}/join`: joins as a participant (refused for restricted incidents and
/// where the project disallows it, unless admin).
pub async fn join(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    axum::Form(b): axum::Form<BackForm>,
) -> ApiResult<Response> {
    take_part(&s, &caller, &id, b, false).await
}

/// `POST /incidents/{key}/subscribe`: follows the incident by e-mail.
pub async fn subscribe(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    axum::Form(b): axum::Form<BackForm>,
) -> ApiResult<Response> {
    take_part(&s, &caller, &id, b, true).await
}

/// Joins or subscribes, then goes back where the button was.
async fn take_part(
    s: &AppState,
    caller: &Caller,
    id: &str,
    b: BackForm,
    subscribe: bool,
) -> ApiResult<Response> {
    let (actor, r, admin) = (
        caller.auth.actor(),
        IncidentRef::parse(id),
        caller.auth.0.is_admin(),
    );
    let result = if subscribe {
        s.engine
            .participants()
            .subscribe(actor, &r, admin)
            .await
            .map(|_| ())
    } else {
        s.engine
            .participants()
            .join(actor, &r, admin)
            .await
            .map(|_| ())
    };
    let done = if subscribe {
        Done::Subscribed
    } else {
        Done::Joined
    };
    after(s, caller, id, result, b.back, done).await
}
