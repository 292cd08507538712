//! Feedback: when an incident closes its participants are asked how it went; each may leave a
//! rating (1-5) and a comment, which they can change later.

use crate::changes::Events;
use crate::record::save_with_events;
use crate::{Actor, Result};
use dispatch_core::event::TimelineEvent;
use dispatch_core::values::IncidentRef;
use dispatch_core::ValidationError;
use dispatch_store::model::feedback;
use dispatch_store::repo;

impl crate::Feedback<'_> {
    /// Records (or replaces) the actor's feedback on an incident.
    pub async fn give(
        self,
        actor: &Actor,
        r: &IncidentRef,
        rating: i32,
        comment: String,
    ) -> Result<feedback::Model> {
        if !(1..=5).contains(&rating) {
            return Err(
                ValidationError::field("rating", "must be a whole number from 1 to 5").into(),
            );
        }
        let txn = self.db().write().await?;
        let current = repo::incident::lock(&*txn, r).await?;
        let now = dispatch_core::now();
        let existing = repo::feedback::find(&*txn, current.id, &actor.email).await?;
        let saved = match existing {
            Some(f) => {
                let mut after = f.clone();
                after.rating = rating;
                after.comment = comment;
                after.updated_at = now;
                repo::feedback::update(&*txn, &f, after).await?
            }
            None => {
                repo::feedback::insert(
                    &*txn,
                    feedback::Model {
                        incident_id: current.id,
                        email: actor.email.clone(),
                        rating,
                        comment,
                        created_at: now,
                        updated_at: now,
                        ..Default::default()
                    },
                )
                .await?
            }
        };
        let mut events = Events::new(actor, now);
        events.push_event(TimelineEvent::FeedbackGiven {
            rating: rating.into(),
        });
        save_with_events(&*txn, &current, current.clone(), events).await?;
        txn.commit().await?;
        Ok(saved)
    }

    /// The feedback on an incident, oldest first.
    pub async fn list(self, r: &IncidentRef) -> Result<Vec<feedback::Model>> {
        let conn = self.db().conn();
        let inc = repo::incident::get(conn, r).await?;
        Ok(repo::feedback::list(conn, inc.id).await?)
    }
}
