//! `deliver_webhook`: sign one stored webhook message with its subscription's secret and POST it.
//! A 2xx answer delivers it; anything else, or no answer, records the attempt on the delivery
//! and fails the job, which the queue retries with backoff. After the last attempt the delivery
//! is `failed`. A message already delivered is not sent again; a retry after a crash between the
//! POST and the commit may send it twice, with the same `webhook-id` for the receiver to drop.

use super::outcome::{finish_in, JobFailure};
use crate::Engine;
use dispatch_core::provider::WebhookRequest;
use dispatch_core::webhook::WebhookSecret;
use dispatch_store::model::job;
use dispatch_store::repo;
use dispatch_store::repo::webhook::Attempt;

/// Sends the delivery named by the payload (`subscription_id`, `message_id`) once.
pub(crate) async fn run(
    engine: &Engine,
    job: &job::Model,
    incident_id: Option<i64>,
    payload: &dispatch_core::job::DeliverWebhook,
) -> Result<(), JobFailure> {
    let (subscription_id, message_id) = (payload.subscription_id, payload.message_id.as_str());
    let conn = engine.db().conn();
    // A deleted subscription took its deliveries with it: nothing is left to send.
    let (Some(delivery), Some(sub)) = (
        repo::webhook::delivery(conn, subscription_id, message_id).await?,
        repo::webhook::find(conn, subscription_id).await?,
    ) else {
        return finish(engine, job, None).await;
    };
    if delivery.status == "delivered" {
        return finish(engine, job, None).await;
    }
    if !sub.enabled {
        let txn = engine.db().write().await?;
        repo::webhook::give_up(&*txn, delivery, "the subscription was disabled").await?;
        finish_in(&txn, job).await?;
        txn.commit().await?;
        return Ok(());
    }
    let secret = WebhookSecret::parse(&engine.secrets().webhook_signing_secret(&sub)?)?;
    let providers = match (incident_id, payload.case_id) {
        (Some(incident), _) => engine.providers_of_incident(incident).await?,
        // A case's event: its project's providers.
        (None, Some(case)) => {
            let project = repo::signal::case(conn, case).await?.project_id;
            let cfg = engine.project_config_by_id(project).await?;
            engine.providers_for(&cfg)?
        }
        (None, None) => {
            return Err(JobFailure(
                "the webhook job names no incident or case".into(),
            ))
        }
    };
    let now = dispatch_core::now();
    let timestamp = now.timestamp();
    let signature = secret.sign(&delivery.message_id, timestamp, &delivery.payload);
    let outcome = providers
        .webhook
        .send(&WebhookRequest {
            url: &sub.url,
            id: &delivery.message_id,
            timestamp,
            signature: &signature,
            body: &delivery.payload,
        })
        .await;
    let (status_code, error) = match outcome {
        Ok(r) if (200..300).contains(&r.status) => (Some(r.status), None),
        Ok(r) => {
            let body = r.body.trim();
            let error = if body.is_empty() {
                format!("the receiver answered HTTP {}", r.status)
            } else {
                format!("the receiver answered HTTP {}: {body}", r.status)
            };
            (Some(r.status), Some(error))
        }
        Err(e) => (None, Some(e.message)),
    };
    let status_code = status_code.map(i32::from);
    let Some(error) = error else {
        let attempt = Attempt {
            status: "delivered",
            status_code,
            error: None,
            at: now,
        };
        return finish(engine, job, Some((delivery, attempt))).await;
    };
    // The runner fails the job for good after this same last attempt.
    let last = job.attempts >= job.max_attempts;
    let attempt = Attempt {
        status: if last { "failed" } else { "pending" },
        status_code,
        error: Some(error.clone()),
        at: now,
    };
    let txn = engine.db().write().await?;
    repo::webhook::record_attempt(&*txn, delivery, attempt).await?;
    txn.commit().await?;
    Err(JobFailure(error))
}

/// Records the attempt (if one was made) and marks the job succeeded, in one transaction.
async fn finish(
    engine: &Engine,
    job: &job::Model,
    attempt: Option<(dispatch_store::model::webhook_delivery::Model, Attempt)>,
) -> Result<(), JobFailure> {
    let txn = engine.db().write().await?;
    if let Some((delivery, attempt)) = attempt {
        repo::webhook::record_attempt(&*txn, delivery, attempt).await?;
    }
    // No timeline events: a delivery is not incident history, and an event here would trigger
    // webhooks of its own.
    finish_in(&txn, job).await?;
    txn.commit().await?;
    Ok(())
}
