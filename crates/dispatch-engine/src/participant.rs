//! Participants and roles: assigning a role keeps the history, and an incident always has
//! exactly one active incident commander. A person a role brings in gets a welcome e-mail.

use crate::changes::Events;
use crate::incident::{load_detail, IncidentDetail};
use crate::record::save_with_events;
use crate::{Actor, Result};
use dispatch_core::commands::AssignRole;
use dispatch_core::event::{Change, TimelineEvent};
use dispatch_core::values::IncidentRef;
use dispatch_core::{IncidentId, ParticipantRole};
use dispatch_store::repo;
use dispatch_store::repo::participant::ParticipantView;

/// Roles held by one person at a time in an incident; assigning one moves it from the previous
/// holder, who stays on as a participant.
const SINGLE_HOLDER: &[ParticipantRole] = &[
    ParticipantRole::IncidentCommander,
    ParticipantRole::Scribe,
    ParticipantRole::Liaison,
];

/// People join an incident as observers, once each (a person named twice, or already in the
/// incident, adds nothing), each with the reason given, told on its timeline; in the caller's
/// transaction. Returns who joined.
pub(crate) async fn add_observers(
    conn: &impl dispatch_store::Conn,
    incident_id: i64,
    people: &[(String, String)],
    events: &mut Events,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<String>> {
    let mut joined: Vec<String> = Vec::new();
    for (email, reason) in people {
        if joined.contains(email) {
            continue;
        }
        let person = repo::individual::get_or_create(conn, email, None).await?;
        let (p, new) =
            repo::participant::ensure(conn, incident_id, person.id, Some(reason.clone()), now)
                .await?;
        if new {
            repo::participant::assume_role(conn, &p, ParticipantRole::Observer, now).await?;
            events.push_event(TimelineEvent::ParticipantAdded {
                email: email.clone(),
                role: Some("observer".into()),
                reason: Some(reason.clone()),
            });
            joined.push(email.clone());
        }
    }
    Ok(joined)
}

/// Ends one active role of one participant.
async fn renounce_one(
    conn: &impl dispatch_store::Conn,
    participant_id: i64,
    role: ParticipantRole,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    repo::participant::renounce_role_of(conn, participant_id, role, at).await?;
    Ok(())
}

impl crate::Roles<'_> {
    /// Gives a person a role. The person joins the incident if they are not in it yet.
    pub async fn assign(
        self,
        actor: &Actor,
        r: &IncidentRef,
        cmd: AssignRole,
    ) -> Result<IncidentDetail> {
        self.assign_because(actor, r, cmd, None).await
    }

    /// [`Roles::assign`] with the reason a newcomer is added (default: who assigned what).
    pub async fn assign_because(
        self,
        actor: &Actor,
        r: &IncidentRef,
        cmd: AssignRole,
        reason: Option<String>,
    ) -> Result<IncidentDetail> {
        let txn = self.db.write().await?;
        let conn = &*txn;
        let current = repo::incident::lock(conn, r).await?;
        let now = dispatch_core::now();
        let person = repo::individual::get_or_create(conn, cmd.email.as_str(), None).await?;
        let (p, joined) = repo::participant::ensure(
            conn,
            current.id,
            person.id,
            Some(reason.unwrap_or_else(|| format!("assigned {} by {}", cmd.role, actor.email))),
            now,
        )
        .await?;
        let held = repo::participant::active_roles(conn, p.id).await?;
        let mut events = Events::new(actor, now);
        if joined {
            events.push_event(TimelineEvent::ParticipantAdded {
                email: person.email.clone(),
                role: None,
                reason: None,
            });
            // The role's announcement below tells the room; the welcome job mails them.
            events.job(crate::rules::welcome::job(
                current.id,
                std::slice::from_ref(&person.email),
                false,
                &format!("role:{}", person.email),
                now,
            ));
        }
        let mut row = current.clone();
        if !held.contains(&cmd.role) {
            if SINGLE_HOLDER.contains(&cmd.role) {
                for previous in
                    repo::participant::renounce_role(conn, current.id, cmd.role, now).await?
                {
                    let prev = repo::participant::list(conn, current.id)
                        .await?
                        .into_iter()
                        .find(|v| v.participant.id == previous);
                    if let Some(prev) = prev {
                        events.push_event(TimelineEvent::RoleRenounced {
                            email: prev.individual.email.clone(),
                            role: cmd.role,
                        });
                        if repo::participant::active_roles(conn, previous)
                            .await?
                            .is_empty()
                        {
                            repo::participant::assume_role(
                                conn,
                                &prev.participant,
                                ParticipantRole::Participant,
                                now,
                            )
                            .await?;
                        }
                    }
                }
            }
            // A plain participant or observer who takes a real role drops the plain one.
            if cmd.role != ParticipantRole::Observer {
                for plain in [ParticipantRole::Participant, ParticipantRole::Observer] {
                    if held.contains(&plain) && plain != cmd.role {
                        renounce_one(conn, p.id, plain, now).await?;
                    }
                }
            }
            repo::participant::assume_role(conn, &p, cmd.role, now).await?;
            events.push_event(TimelineEvent::RoleAssumed {
                email: person.email.clone(),
                role: cmd.role,
                reason: None,
            });
            if cmd.role == ParticipantRole::IncidentCommander {
                row.commander_id = person.id;
            }
            // The room is told; a new commander also gets the commander's tips.
            let key = format!(
                "role:{}:{}:{}",
                cmd.role,
                person.email,
                now.timestamp_micros()
            );
            let mut text = format!(
                "{} is now the {} (assigned by {}).",
                person.email,
                cmd.role.as_str().replace('_', " "),
                actor.email
            );
            if cmd.role == ParticipantRole::IncidentCommander {
                text = format!("{text}\n{}", crate::flows::COMMANDER_TIPS);
            }
            events.job(crate::flows::announce(
                dispatch_core::IncidentId(current.id),
                &key,
                &text,
                now,
            ));
        }
        if !events.is_empty() {
            events.job(crate::flows::refresh(
                dispatch_core::IncidentId(current.id),
                None,
                now,
            ));
            save_with_events(conn, &current, row, events).await?;
            txn.commit().await?;
            self.wake_workers();
        }
        load_detail(self.db.conn(), &IncidentRef::Id(IncidentId(current.id))).await
    }
}

impl crate::Participants<'_> {
    /// Changes why a participant is in an incident.
    pub async fn update_reason(
        self,
        actor: &Actor,
        r: &IncidentRef,
        email: &dispatch_core::values::Email,
        reason: dispatch_core::values::LongText,
    ) -> Result<()> {
        let txn = self.db.write().await?;
        let conn = &*txn;
        let current = repo::incident::lock(conn, r).await?;
        let view = repo::participant::list(conn, current.id)
            .await?
            .into_iter()
            .find(|v| v.individual.email == email.as_str())
            .ok_or_else(|| {
                crate::Error::NotFound(format!("participant {email} of {}", current.name))
            })?;
        let before = view.participant.added_reason.clone();
        let mut after = view.participant.clone();
        after.added_reason = Some(reason.as_str().to_string());
        repo::participant::update(conn, &view.participant, after).await?;
        let mut events = Events::new(actor, dispatch_core::now());
        events.push_event(TimelineEvent::ParticipantUpdated {
            email: email.to_string(),
            added_reason: Change::new(before, Some(reason.as_str().to_string())),
        });
        save_with_events(conn, &current, current.clone(), events).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The participants of an incident with their role history.
    pub async fn list(self, r: &IncidentRef) -> Result<Vec<ParticipantView>> {
        let inc = repo::incident::get(self.db.conn(), r).await?;
        Ok(repo::participant::list(self.db.conn(), inc.id).await?)
    }
}
