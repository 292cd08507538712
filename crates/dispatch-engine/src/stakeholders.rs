//! An incident's stakeholders: its notifications group, a distribution list Dispatch keeps
//! (people and plain addresses) that receives the incident's reports and status changes by
//! mail. The incident's commander or scribe edits it (`/dispatch-notifications-group`, or
//! the API); each edit is one transaction with its timeline event. Each stakeholder mail
//! carries a signed link that stops that address's mail about the incident
//! ([`unsubscribe_link`], followed by [`Stakeholders::unsubscribe_by_link`](crate::Stakeholders)).

use crate::changes::Events;
use crate::record::save_with_events;
use crate::{Actor, Engine, Error, Result};
use dispatch_core::event::TimelineEvent;
use dispatch_core::values::{Email, IncidentRef};
use dispatch_core::{GroupPurpose, IncidentId};
use dispatch_store::repo;
use dispatch_store::repo::participant_group as groups;

/// An incident's notifications group.
#[derive(Debug, Clone, Default)]
pub struct NotificationsGroup {
    /// Its name, e.g. `inc-7-notifications`.
    pub name: String,
    /// The address it is known by (mail goes to its members).
    pub email: String,
    /// Its members' addresses, in order.
    pub members: Vec<String>,
    /// Members who unsubscribed from the incident's mail: they receive nothing until they
    /// subscribe again.
    pub unsubscribed: Vec<String>,
}

/// What an edit of the group did.
#[derive(Debug, Clone, Default)]
pub struct GroupEdit {
    /// The group after the edit.
    pub group: NotificationsGroup,
    /// Addresses that were added (not in before).
    pub added: Vec<String>,
    /// Addresses that were removed (in before).
    pub removed: Vec<String>,
}

async fn read(
    conn: &impl dispatch_store::Conn,
    incident_id: i64,
    incident_name: &str,
) -> Result<NotificationsGroup> {
    let opted_out = groups::opted_out(conn, incident_id).await?;
    Ok(
        match groups::of_incident(conn, incident_id, GroupPurpose::Notifications).await? {
            Some(g) => {
                let members = groups::member_emails(conn, g.id).await?;
                let unsubscribed = members
                    .iter()
                    .filter(|m| opted_out.contains(m))
                    .cloned()
                    .collect();
                NotificationsGroup {
                    name: g.name,
                    email: g.email,
                    members,
                    unsubscribed,
                }
            }
            // Made on its first edit; until then it is empty.
            None => {
                let name = format!("{}-notifications", incident_name.to_lowercase());
                NotificationsGroup {
                    email: groups::address(&name),
                    name,
                    ..Default::default()
                }
            }
        },
    )
}

impl crate::Stakeholders<'_> {
    /// The incident's notifications group.
    pub async fn notifications_group(self, r: &IncidentRef) -> Result<NotificationsGroup> {
        let conn = self.db().conn();
        let inc = repo::incident::get(conn, r).await?;
        read(conn, inc.id, &inc.name).await
    }

    /// Adds and removes members of the incident's notifications group, in one transaction
    /// with a `notifications_group_changed` event (none when nothing changed). An address in
    /// both lists is removed. The caller's permission (`edit_notifications_group`) is checked
    /// by the transport, as for every incident action.
    pub async fn edit_notifications_group(
        self,
        actor: &Actor,
        r: &IncidentRef,
        add: &[Email],
        remove: &[Email],
    ) -> Result<GroupEdit> {
        let txn = self.db().write().await?;
        let conn = &*txn;
        let current = repo::incident::lock(conn, r).await?;
        let now = dispatch_core::now();
        let g = groups::ensure_notifications(conn, current.id, &current.name, now).await?;
        let before = groups::member_emails(conn, g.id).await?;
        let lower = |list: &[Email]| -> Vec<String> {
            let mut v: Vec<String> = list.iter().map(|e| e.as_str().to_lowercase()).collect();
            v.sort();
            v.dedup();
            v
        };
        let (add, remove) = (lower(add), lower(remove));
        let added: Vec<String> = add
            .iter()
            .filter(|a| !before.contains(a) && !remove.contains(a))
            .cloned()
            .collect();
        let removed: Vec<String> = remove
            .iter()
            .filter(|a| before.contains(a))
            .cloned()
            .collect();
        groups::add_members(conn, g.id, &added, now).await?;
        groups::remove_members(conn, g.id, &removed).await?;
        if !added.is_empty() || !removed.is_empty() {
            let mut events = Events::new(actor, now);
            events.push_event(TimelineEvent::NotificationsGroupChanged {
                added: added.clone(),
                removed: removed.clone(),
            });
            // A provider's copy of the group (a Google Group) follows.
            events.job(crate::flows::refresh(
                dispatch_core::IncidentId(current.id),
                None,
                now,
            ));
            save_with_events(conn, &current, current.clone(), events).await?;
        }
        let group = read(conn, current.id, &current.name).await?;
        txn.commit().await?;
        Ok(GroupEdit {
            group,
            added,
            removed,
        })
    }

    /// Whom and what a signed unsubscribe link is about (to show before it is followed).
    pub async fn unsubscribe_link_target(self, token: &str) -> Result<LinkTarget> {
        let (incident_id, email) = open_link(&self, token)?;
        let inc = repo::incident::get(self.db().conn(), &IncidentRef::Id(incident_id)).await?;
        Ok(LinkTarget {
            incident: inc.name,
            title: inc.title,
            email,
        })
    }

    /// Follows a signed unsubscribe link: its address receives no more mail about its
    /// incident (see [`crate::membership`]), with an `unsubscribed` event by Dispatch.
    /// Following it again changes nothing.
    pub async fn unsubscribe_by_link(self, token: &str) -> Result<LinkTarget> {
        let (incident_id, email) = open_link(&self, token)?;
        let txn = self.db().write().await?;
        let conn = &*txn;
        let current = repo::incident::lock(conn, &IncidentRef::Id(incident_id)).await?;
        crate::membership::stop_mail(
            conn,
            &current,
            &email,
            crate::changes::Events::system(dispatch_core::now()),
        )
        .await?;
        txn.commit().await?;
        Ok(LinkTarget {
            incident: current.name,
            title: current.title,
            email,
        })
    }
}

/// The context unsubscribe links' tokens are sealed with.
const UNSUBSCRIBE_LINK: &str = "unsubscribe_link";

/// What an unsubscribe link stops.
#[derive(Debug, Clone)]
pub struct LinkTarget {
    /// The incident's name.
    pub incident: String,
    /// Its title.
    pub title: String,
    /// The address that will receive (or receives) no more mail about it.
    pub email: String,
}

/// The signed link that stops `email`'s mail about the incident (sent in each stakeholder mail,
/// and as its `List-Unsubscribe` header). It works without signing in, for that address and
/// incident only; no one can make one without the server's secret key.
pub(crate) fn unsubscribe_link(engine: &Engine, incident_id: IncidentId, email: &str) -> String {
    let token = engine.seal_token(
        &format!("{} {}", incident_id.0, email.trim().to_lowercase()),
        UNSUBSCRIBE_LINK,
    );
    format!("{}/unsubscribe?token={token}", engine.base_url())
}

fn open_link(engine: &Engine, token: &str) -> Result<(IncidentId, String)> {
    engine
        .open_token(token, UNSUBSCRIBE_LINK)
        .and_then(|plain| {
            let (id, email) = plain.split_once(' ')?;
            Some((IncidentId(id.parse().ok()?), email.to_string()))
        })
        .ok_or_else(|| {
            Error::Validation(dispatch_core::ValidationError::field(
                "token",
                "this unsubscribe link is not valid (altered or cut short); use the whole link from the mail",
            ))
        })
}
