//! Feedback: when an incident closes its participants are asked how it went; each may leave a
//! rating (1-5) and a comment, which they can change later.

use crate::incident::{save_with_events, Events};
use crate::{Actor, Engine, Result};
use dispatch_core::values::IncidentRef;
use dispatch_core::ValidationError;
use dispatch_store::entity::feedback;
use dispatch_store::repo;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

impl Engine {
    /// Records (or replaces) the actor's feedback on an incident.
    pub async fn give_feedback(
        &self,
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
        let existing = feedback::Entity::find()
            .filter(feedback::Column::IncidentId.eq(current.id))
            .filter(feedback::Column::Email.eq(actor.email.clone()))
            .one(&*txn)
            .await?;
        let saved = match existing {
            Some(f) => {
                let mut row: feedback::ActiveModel = f.into();
                row.rating = Set(rating);
                row.comment = Set(comment);
                row.updated_at = Set(now);
                row.update(&*txn).await?
            }
            None => {
                feedback::ActiveModel {
                    incident_id: Set(current.id),
                    email: Set(actor.email.clone()),
                    rating: Set(rating),
                    comment: Set(comment),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(&*txn)
                .await?
            }
        };
        let mut events = Events::new(actor, now);
        events.push(
            "feedback_given",
            format!("{} rated the response {rating}/5", actor.email),
            json!({"rating": rating}),
        );
        save_with_events(&*txn, &current, current.clone(), events).await?;
        txn.commit().await?;
        Ok(saved)
    }

    /// The feedback on an incident, oldest first.
    pub async fn feedback(&self, r: &IncidentRef) -> Result<Vec<feedback::Model>> {
        let conn = self.db().conn();
        let inc = repo::incident::get(conn, r).await?;
        Ok(feedback::Entity::find()
            .filter(feedback::Column::IncidentId.eq(inc.id))
            .order_by_asc(feedback::Column::Id)
            .all(conn)
            .await?)
    }
}
