//! Reaching one person: a page through the project's on-call provider (`page`), and a direct
//! message through its conversation provider (`direct_message`).

use super::outcome::{complete, JobFailure};
use crate::changes::Events;
use crate::oncall::service_ref;
use crate::Engine;
use dispatch_core::event::TimelineEvent;
use dispatch_core::message::RichMessage;
use dispatch_core::provider::PageRequest;
use dispatch_store::model::job;
use dispatch_store::repo;

/// The provider's view of a page record of `inc`.
async fn page_request(
    engine: &Engine,
    inc: &repo::incident::IncidentRow,
    page: &dispatch_store::model::page::Model,
) -> Result<PageRequest, JobFailure> {
    let conn = engine.db().conn();
    let service = match page.service_id {
        Some(id) => Some(service_ref(&repo::directory::service(conn, id).await?)),
        None => None,
    };
    Ok(PageRequest {
        page_id: page.id,
        email: page.email.clone(),
        service,
        reason: page.reason.clone(),
        link: dispatch_core::links::incident(&engine.base_url(), &inc.name),
        incident: inc.name.clone(),
        title: inc.title.clone(),
    })
}

fn incident_ref(incident_id: i64) -> dispatch_core::values::IncidentRef {
    dispatch_core::values::IncidentRef::Id(dispatch_core::IncidentId(incident_id))
}

/// Pages the person of the page record named by the payload (`page_id`).
pub(crate) async fn page(
    engine: &Engine,
    job: &job::Model,
    incident_id: i64,
    page_id: i64,
) -> Result<(), JobFailure> {
    let conn = engine.db().conn();
    let page = repo::oncall::page(conn, page_id).await?;
    let inc = repo::incident::get(conn, &incident_ref(incident_id)).await?;
    let p = engine.providers_of_incident(incident_id).await?;
    let request = page_request(engine, &inc, &page).await?;
    let external_id = p.oncall.page(&request).await?;
    let mut events = Events::system(dispatch_core::now());
    events.push_event(TimelineEvent::PageSent {
        page_id,
        email: page.email.clone(),
        provider: p.oncall.slug().to_string(),
        external_id,
    });
    complete(engine, job, incident_id, events).await
}

/// Resolves the incident's pages with its on-call provider (once per service: the vendor's
/// alert is the incident's, whoever was paged for it).
pub(crate) async fn resolve_pages(
    engine: &Engine,
    job: &job::Model,
    incident_id: i64,
) -> Result<(), JobFailure> {
    let conn = engine.db().conn();
    let inc = repo::incident::get(conn, &incident_ref(incident_id)).await?;
    let pages = repo::oncall::pages(conn, None, Some(incident_id), 1000).await?;
    let p = engine.providers_of_incident(incident_id).await?;
    let mut done = std::collections::HashSet::new();
    for page in pages {
        if done.insert(page.service_id) {
            p.oncall
                .resolve(&page_request(engine, &inc, &page).await?)
                .await?;
        }
    }
    complete(
        engine,
        job,
        incident_id,
        Events::system(dispatch_core::now()),
    )
    .await
}

/// Sends the payload's `text` to `email` as a direct message, once per `key`.
pub(crate) async fn direct_message(
    engine: &Engine,
    job: &job::Model,
    incident_id: i64,
    payload: dispatch_core::job::DirectMessage,
) -> Result<(), JobFailure> {
    let dispatch_core::job::DirectMessage {
        email, key, text, ..
    } = payload;
    if !engine
        .access()
        .may_hear(dispatch_core::IncidentId(incident_id), &email)
        .await?
    {
        let mut events = Events::system(dispatch_core::now());
        super::email::withheld(&mut events, "direct message", &[email]);
        return complete(engine, job, incident_id, events).await;
    }
    let p = engine.providers_of_incident(incident_id).await?;
    p.conversation
        .direct_message(&email, Some(&key), &RichMessage::plain(text))
        .await?;
    let mut events = Events::system(dispatch_core::now());
    events.push_event(TimelineEvent::DirectMessageSent {
        email: email.to_string(),
        key: key.to_string(),
        provider: p.conversation.slug().to_string(),
    });
    complete(engine, job, incident_id, events).await
}
