//! `send_email`: sends one mail through the e-mail provider, then records it in the outbox (with
//! the provider that sent it) and on the incident's timeline, in the transaction that ends the job.
//! A mail the outbox already holds is not sent again; a crash between an SMTP send and that
//! transaction re-sends it with the same `Message-ID`. A mail of a thread (an incident's
//! stakeholder mail) is the thread's root when it is the first to its recipients, else it
//! answers the root.
//!
//! Who may hear is decided when the mail goes out, not when it was queued: mail about an
//! incident reaches only the people who may see it now (and a notification rule's target only
//! while the rule may hear of it; stakeholders and a rule's addresses only while they have not
//! unsubscribed from the incident's mail). Those left out are named on the timeline
//! (`message_withheld`) and in the log.

use super::outcome::{complete_in, finish_in, JobFailure};
use crate::changes::Events;
use crate::Engine;
use dispatch_core::event::TimelineEvent;
use dispatch_core::provider::Email;
use dispatch_store::model::job;
use dispatch_store::repo;
use dispatch_store::repo::outbox::NewMail;

use dispatch_core::job::{Audience, SendEmail as Payload};

/// Splits the recipients into those who may hear of what the mail is about now, and the rest.
/// Stakeholders, and a rule's addresses, who unsubscribed from the incident's mail are in
/// neither: they hear nothing more, whenever they said so.
async fn who_may_hear(
    engine: &Engine,
    p: &Payload,
) -> Result<(Vec<String>, Vec<String>), JobFailure> {
    let conn = engine.db().conn();
    let mut to = p.to.clone();
    if let (Audience::Stakeholders | Audience::Rule { .. }, Some(incident_id)) =
        (&p.audience, p.incident_id)
    {
        let opted_out = repo::participant_group::opted_out(conn, incident_id).await?;
        to.retain(|a| {
            let out = opted_out.contains(&a.trim().to_lowercase());
            if out {
                tracing::info!(to = %a, "not sent: unsubscribed from the incident's mail");
            }
            !out
        });
    }
    let allowed = match (&p.audience, p.incident_id) {
        (Audience::People | Audience::Stakeholders, None) => return Ok((to, Vec::new())),
        (Audience::People | Audience::Stakeholders, Some(incident_id)) => {
            let (mut may, mut withheld) = (Vec::new(), Vec::new());
            for a in to {
                if engine
                    .access()
                    .may_hear(dispatch_core::IncidentId(incident_id), &a)
                    .await?
                {
                    may.push(a);
                } else {
                    withheld.push(a);
                }
            }
            return Ok((may, withheld));
        }
        (Audience::Rule { id, about }, _) => {
            crate::rules::notification::rule_may_hear(conn, *id, about)
                .await?
                .is_some()
        }
    };
    Ok(if allowed {
        (to, Vec::new())
    } else {
        (Vec::new(), to)
    })
}

/// The key of the first mail of the mail's thread to these recipients (see
/// [`repo::outbox::thread_root`]); this mail's own when it is the first.
async fn thread_root(
    engine: &Engine,
    thread: &str,
    to: &[String],
    key: &str,
) -> Result<String, JobFailure> {
    let mut recipients: Vec<String> = to.iter().map(|a| a.trim().to_lowercase()).collect();
    recipients.sort();
    recipients.dedup();
    let txn = engine.db().write().await?;
    let root = repo::outbox::thread_root(
        &*txn,
        thread,
        &recipients.join(","),
        key,
        dispatch_core::now(),
    )
    .await?;
    txn.commit().await?;
    Ok(root)
}

/// Records on the incident's timeline that a message was not sent to `to`, who may no longer
/// hear of it (`what`: `e-mail "subject"`, `direct message`).
pub(crate) fn withheld(events: &mut Events, what: &str, to: &[String]) {
    tracing::info!(
        ?to,
        what,
        "withheld from recipients who may no longer see the incident"
    );
    events.push_event(TimelineEvent::MessageWithheld {
        what: what.to_string(),
        to: to.to_vec(),
    });
}

pub(crate) async fn send(engine: &Engine, job: &job::Model, p: Payload) -> Result<(), JobFailure> {
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
    let (to, left_out) = who_may_hear(engine, &p).await?;
    let thread = match &p.thread {
        Some(thread) if !to.is_empty() => Some(thread_root(engine, thread, &to, &p.key).await?),
        _ => None,
    };
    let email = Email {
        to,
        // Whatever built it, a subject never carries a line break into the mail's headers.
        subject: dispatch_core::email::header_safe(&p.subject),
        text: p.text,
        html: p.html,
        thread,
        unsubscribe: p.unsubscribe,
    };
    let what = format!("e-mail {:?}", email.subject);
    if email.to.is_empty() {
        let txn = engine.db().write().await?;
        match p.incident_id {
            Some(incident_id) => {
                let mut events = Events::system(dispatch_core::now());
                // No one left: withheld from some, or everyone had unsubscribed.
                if !left_out.is_empty() {
                    withheld(&mut events, &what, &left_out);
                }
                complete_in(&txn, job, incident_id, events).await?;
            }
            None => {
                tracing::info!(to = ?left_out, what, "withheld: the rule's target may no longer hear of it");
                finish_in(&txn, job).await?;
            }
        }
        txn.commit().await?;
        return Ok(());
    }
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
            if !left_out.is_empty() {
                withheld(&mut events, &what, &left_out);
            }
            events.push_event(TimelineEvent::EmailSent {
                to: email.to.clone(),
                subject: email.subject.clone(),
                provider: provider.slug().to_string(),
                key: p.key.clone(),
            });
            complete_in(&txn, job, incident_id, events).await?;
        }
        None => finish_in(&txn, job).await?,
    }
    txn.commit().await?;
    engine.wake_workers();
    Ok(())
}
