//! Joining and leaving an incident: self-join (participant, in the room) and subscribe (e-mail
//! updates only), both refused for restricted incidents and where the project disallows
//! self-join unless the caller is privileged; removing a participant, refused for the incident
//! commander and for anyone with open tasks; and the promotion of an observer who talks in the
//! room.

use crate::changes::Events;
use crate::incident::{load_detail, IncidentDetail};
use crate::record::save_with_events;
use crate::{Actor, Error, Result};
use dispatch_core::event::TimelineEvent;
use dispatch_core::values::{Email, IncidentRef};
use dispatch_core::{IncidentId, IncidentStatus, ParticipantRole, Visibility};
use dispatch_store::model::{incident, subscriber};
use dispatch_store::{repo, Conn};

/// `email` wants no more mail about the incident `current` (locked by the caller's
/// transaction): no longer a subscriber, and no stakeholder mail (its notifications group,
/// reports, status changes, the notification rules' report mail) until they subscribe again.
/// An `unsubscribed` event (by `events`' actor) when that changed anything.
pub(crate) async fn stop_mail(
    conn: &impl Conn,
    current: &incident::Model,
    email: &str,
    mut events: Events,
) -> Result<()> {
    let was_subscriber = repo::rules::unsubscribe(conn, current.id, email).await?;
    let opted_out = repo::participant_group::opt_out(conn, current.id, email, events.at()).await?;
    if was_subscriber || opted_out {
        events.push_event(TimelineEvent::Unsubscribed {
            email: email.to_string(),
        });
        save_with_events(conn, current, current.clone(), events).await?;
    }
    Ok(())
}

/// Whether the caller may join or subscribe by themselves; `what` names the action. Someone
/// who takes part in the incident may always (it changes nothing they could not see); someone
/// removed from it is like anyone else.
async fn may_self_join(
    conn: &impl Conn,
    inc: &incident::Model,
    actor: &Actor,
    privileged: bool,
    what: &str,
) -> Result<()> {
    if privileged
        || !repo::participant::roles_in_force(conn, inc.id, actor.individual_id.0)
            .await?
            .is_empty()
    {
        return Ok(());
    }
    if inc.visibility != Visibility::Open.as_str() {
        return Err(Error::Forbidden(format!(
            "{} is restricted: only an admin can {what} it",
            inc.name
        )));
    }
    let project = repo::project::get(conn, inc.project_id).await?;
    if !crate::accounts::projects::may_use_project(conn, &project, actor.individual_id.0).await? {
        return Err(Error::Forbidden(format!(
            "project {} is members-only: only its members can {what} its incidents",
            project.slug
        )));
    }
    if !project.allow_self_join {
        return Err(Error::Forbidden(format!(
            "project {} does not allow people to {what} its incidents by themselves; ask its incident commander to add you",
            project.slug
        )));
    }
    Ok(())
}

/// After a person's message in the room: an observer who has now posted the project's number
/// of messages becomes a participant. Runs in the message's transaction.
pub(crate) async fn promote_talking_observer(
    conn: &impl Conn,
    actor: &Actor,
    incident_id: i64,
    room_id: i64,
) -> Result<bool> {
    let posted = repo::room::messages_by(conn, room_id, actor.email.as_str()).await?;
    promote_if_talkative(conn, actor, incident_id, posted).await
}

/// An observer who has written `posted` messages (the project's number or more) becomes a
/// participant.
async fn promote_if_talkative(
    conn: &impl Conn,
    actor: &Actor,
    incident_id: i64,
    posted: u64,
) -> Result<bool> {
    let Some(p) = repo::participant::find(conn, incident_id, actor.individual_id.0).await? else {
        return Ok(false);
    };
    if repo::participant::active_roles(conn, p.id).await? != [ParticipantRole::Observer] {
        return Ok(false);
    }
    let current = repo::incident::row(conn, &IncidentRef::Id(IncidentId(incident_id))).await?;
    let needed = repo::project::get(conn, current.project_id)
        .await?
        .observer_promotion_messages;
    if posted < needed.max(1) as u64 {
        return Ok(false);
    }
    let current = repo::incident::lock(conn, &IncidentRef::Id(IncidentId(incident_id))).await?;
    let now = dispatch_core::now();
    repo::participant::renounce_all_of(conn, p.id, now).await?;
    repo::participant::assume_role(conn, &p, ParticipantRole::Participant, now).await?;
    let mut events = Events::new(actor, now);
    events.push_event(TimelineEvent::ParticipantPromoted {
        email: actor.email.clone(),
        from: "observer".into(),
        to: "participant".into(),
        messages: posted,
    });
    save_with_events(conn, &current, current.clone(), events).await?;
    Ok(true)
}

impl crate::Participants<'_> {
    /// A message the caller wrote in the incident's external conversation (a Slack channel):
    /// counted, and an observer who has written the project's number becomes a participant.
    /// Returns whether they were promoted.
    pub async fn note_conversation_message(self, actor: &Actor, r: &IncidentRef) -> Result<bool> {
        let txn = self.db().write().await?;
        let conn = &*txn;
        let current = repo::incident::row(conn, r).await?;
        let Some(p) = repo::participant::find(conn, current.id, actor.individual_id.0).await?
        else {
            return Ok(false);
        };
        let posted = i64::from(p.conversation_messages) + 1;
        let mut after = p.clone();
        after.conversation_messages = posted as i32;
        repo::participant::update(conn, &p, after).await?;
        let promoted = promote_if_talkative(conn, actor, current.id, posted as u64).await?;
        txn.commit().await?;
        Ok(promoted)
    }

    /// The person joined (`true`) or left the incident's external conversation: they become a
    /// participant, or leave the incident (refusals — the commander, open tasks — are logged
    /// and leave them in).
    pub async fn sync_member(self, actor: &Actor, r: &IncidentRef, joined: bool) -> Result<()> {
        if joined {
            return match self.join(actor, r, true).await {
                Ok(_) => {
                    self.wake_workers();
                    Ok(())
                }
                Err(Error::Conflict(why)) => {
                    tracing::info!(%why, "a person joined the conversation of a closed incident");
                    Ok(())
                }
                Err(e) => Err(e),
            };
        }
        let email = Email::parse("email", &actor.email)?;
        match self.remove(actor, r, &email).await {
            Ok(_) => {
                self.wake_workers();
                Ok(())
            }
            Err(Error::Conflict(why)) | Err(Error::NotFound(why)) => {
                tracing::info!(%why, "a person left the conversation but stays in the incident");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// The caller joins the incident as a participant (and its room), and is welcomed.
    pub async fn join(
        self,
        actor: &Actor,
        r: &IncidentRef,
        privileged: bool,
    ) -> Result<IncidentDetail> {
        let txn = self.db().write().await?;
        let conn = &*txn;
        let current = repo::incident::lock(conn, r).await?;
        may_self_join(conn, &current, actor, privileged, "join").await?;
        if current.status == IncidentStatus::Closed.as_str() {
            return Err(Error::Conflict(format!(
                "{} is closed; re-open it to join",
                current.name
            )));
        }
        let now = dispatch_core::now();
        let (p, _) = repo::participant::ensure(
            conn,
            current.id,
            actor.individual_id.0,
            Some("joined by themselves".into()),
            now,
        )
        .await?;
        if repo::participant::active_roles(conn, p.id)
            .await?
            .is_empty()
        {
            repo::participant::assume_role(conn, &p, ParticipantRole::Participant, now).await?;
            let mut events = Events::new(actor, now);
            events.push_event(TimelineEvent::ParticipantAdded {
                email: actor.email.clone(),
                role: Some("participant".into()),
                reason: Some("joined by themselves".into()),
            });
            events.job(crate::rules::welcome::job(
                current.id,
                std::slice::from_ref(&actor.email),
                true,
                &format!("join:{}:{}", actor.email, now.timestamp_micros()),
                now,
            ));
            events.job(crate::flows::refresh(IncidentId(current.id), None, now));
            save_with_events(conn, &current, current.clone(), events).await?;
            txn.commit().await?;
            self.wake_workers();
        }
        load_detail(self.db().conn(), &IncidentRef::Id(IncidentId(current.id))).await
    }

    /// The caller follows the incident by e-mail: change summaries, not the room.
    pub async fn subscribe(
        self,
        actor: &Actor,
        r: &IncidentRef,
        privileged: bool,
    ) -> Result<Vec<subscriber::Model>> {
        let txn = self.db().write().await?;
        let conn = &*txn;
        let current = repo::incident::lock(conn, r).await?;
        may_self_join(conn, &current, actor, privileged, "subscribe to").await?;
        let now = dispatch_core::now();
        // Subscribing again takes back an earlier unsubscribe.
        repo::participant_group::opt_in(conn, current.id, &actor.email).await?;
        if repo::rules::subscribe(conn, current.id, &actor.email, now).await? {
            let mut events = Events::new(actor, now);
            events.push_event(TimelineEvent::Subscribed {
                email: actor.email.clone(),
            });
            save_with_events(conn, &current, current.clone(), events).await?;
        }
        let list = repo::rules::subscribers(conn, current.id).await?;
        txn.commit().await?;
        Ok(list)
    }

    /// The caller wants no more e-mail about the incident: they stop following it, and no
    /// stakeholder mail reaches them (its notifications group, reports, status changes) until
    /// they subscribe again. Anyone who sees the incident may; saying it twice changes nothing.
    pub async fn unsubscribe(self, actor: &Actor, r: &IncidentRef) -> Result<()> {
        let txn = self.db().write().await?;
        let conn = &*txn;
        let current = repo::incident::lock(conn, r).await?;
        let now = dispatch_core::now();
        stop_mail(conn, &current, &actor.email, Events::new(actor, now)).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Who follows an incident by e-mail.
    pub async fn subscribers(self, r: &IncidentRef) -> Result<Vec<subscriber::Model>> {
        let inc = repo::incident::get(self.db().conn(), r).await?;
        Ok(repo::rules::subscribers(self.db().conn(), inc.id).await?)
    }

    /// Removes a person from an incident (their roles end; the history stays). Refused for the
    /// incident commander and for anyone with open tasks in it.
    pub async fn remove(
        self,
        actor: &Actor,
        r: &IncidentRef,
        email: &Email,
    ) -> Result<IncidentDetail> {
        let txn = self.db().write().await?;
        let conn = &*txn;
        let current = repo::incident::lock(conn, r).await?;
        if current.status == IncidentStatus::Closed.as_str() {
            return Err(Error::Conflict(format!(
                "{} is closed; re-open it to change its participants",
                current.name
            )));
        }
        let missing = || Error::NotFound(format!("participant {email} in {}", current.name));
        let person = repo::individual::by_email(conn, email.as_str())
            .await?
            .ok_or_else(missing)?;
        let p = repo::participant::find(conn, current.id, person.id)
            .await?
            .ok_or_else(missing)?;
        let roles = repo::participant::active_roles(conn, p.id).await?;
        if roles.is_empty() {
            return Err(missing());
        }
        if roles.contains(&ParticipantRole::IncidentCommander) {
            return Err(Error::Conflict(format!(
                "{email} is the incident commander of {}; assign the role to someone else before removing them",
                current.name
            )));
        }
        let tasks = repo::task::list(conn, current.id).await?;
        let ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
        let assignees = repo::task::assignees(conn, &ids).await?;
        let open: Vec<String> = tasks
            .iter()
            .filter(|t| t.status == "open")
            .filter(|t| {
                t.owner_id == Some(person.id)
                    || assignees.get(&t.id).is_some_and(|a| a.contains(&person.id))
            })
            .map(|t| format!("#{}", t.id))
            .collect();
        if !open.is_empty() {
            return Err(Error::Conflict(format!(
                "{email} has {} open task(s) in {} ({}); re-assign or resolve them before removing them",
                open.len(),
                current.name,
                open.join(", ")
            )));
        }
        let now = dispatch_core::now();
        repo::participant::renounce_all_of(conn, p.id, now).await?;
        let mut events = Events::new(actor, now);
        events.push_event(TimelineEvent::ParticipantRemoved {
            email: email.as_str().to_string(),
            roles,
        });
        // The tactical group and the room follow the incident's people.
        events.job(crate::flows::refresh(IncidentId(current.id), None, now));
        save_with_events(conn, &current, current.clone(), events).await?;
        txn.commit().await?;
        self.wake_workers();
        load_detail(self.db().conn(), &IncidentRef::Id(IncidentId(current.id))).await
    }
}
