//! `send_email`: sends one mail through the e-mail provider, then records it in the outbox (with
//! the provider that sent it) and on the incident's timeline, in the transaction that ends the job.
//! A mail the outbox already holds is not sent again; a crash between an SMTP send and that
//! transaction re-sends it with the same `Message-ID`.

use super::{complete_in, finish_in, JobFailure};
use crate::incident::Events;
use crate::Engine;
use dispatch_core::provider::Email;
use dispatch_store::entity::job;
use dispatch_store::repo;
use dispatch_store::repo::outbox::NewMail;
use serde::Deserialize;
use serde_json::json;

/// The job's arguments (see [`crate::flows::email_job`]).
#[derive(Deserialize)]
struct Payload {
    incident_id: Option<i64>,
    key: String,
    to: Vec<String>,
    subject: String,
    text: String,
    html: Option<String>,
}

pub(crate) async fn send(
    engine: &Engine,
    job: &job::Model,
    payload: serde_json::Value,
) -> Result<(), JobFailure> {
    let p: Payload = serde_json::from_value(payload)
        .map_err(|e| JobFailure(format!("bad send_email payload: {e}")))?;
    // Mail about an incident goes through its project's provider; other mail through the
    // server's default.
    let provider = match p.incident_id {
        Some(id) => engine.providers_of_incident(id).await?.email,
        None => engine
            .registry()
            .email
            .default_provider()
            .cloned()
            .ok_or_else(|| JobFailure("this process has no e-mail provider".into()))?,
    };
    let email = Email {
        to: p.to,
        // Whatever built it, a subject never carries a line break into the mail's headers.
        subject: dispatch_core::email::header_safe(&p.subject),
        text: p.text,
        html: p.html,
    };
    // Recorded already: an earlier attempt sent it (or the outbox kept it) and then stopped
    // before this job's end was committed.
    if repo::outbox::by_key(engine.db().conn(), &p.key)
        .await?
        .is_none()
    {
        provider.send(&p.key, &email).await?;
    }
    let now = dispatch_core::now();
    let txn = engine.db().write().await?;
    let mail = NewMail {
        key: &p.key,
        email: &email,
        provider: provider.slug(),
        incident_id: p.incident_id,
    };
    repo::outbox::record(&*txn, mail, now).await?;
    match p.incident_id {
        Some(incident_id) => {
            let mut events = Events::system(now);
            events.push(
                "email_sent",
                format!(
                    "e-mail \"{}\" sent to {}",
                    email.subject,
                    email.to.join(", ")
                ),
                json!({"to": email.to, "subject": email.subject, "provider": provider.slug(), "key": p.key}),
            );
            complete_in(&txn, job, incident_id, events).await?;
        }
        None => finish_in(&txn, job).await?,
    }
    txn.commit().await?;
    engine.wake_workers();
    Ok(())
}
