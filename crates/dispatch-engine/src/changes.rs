//! What a command or job records besides its state change: timeline events and follow-up jobs,
//! collected in [`Events`] and written by [`crate::record::save_with_events`]. Depends on no
//! other module of the engine, so every layer can use it.

use crate::Actor;
use chrono::{DateTime, Utc};
use dispatch_core::event::TimelineEvent;
use dispatch_core::{EventSource, Transport};
use dispatch_store::repo::event::NewEvent;
use dispatch_store::repo::job::NewJob;

/// What a command appends besides its state change: timeline events (all stamped with the
/// same actor, transport and time) and the jobs for its side effects. Both are written in the
/// command's transaction by [`crate::record::save_with_events`]. Typed events get their
/// description when the incident's key is known, as they are written.
pub(crate) struct Events {
    actor: Option<String>,
    transport: Transport,
    at: DateTime<Utc>,
    list: Vec<Pending>,
    jobs: Vec<NewJob>,
    /// The follow-up the job recording these runs next itself, when its runner can (see
    /// [`Events::then`]).
    next: Option<NewJob>,
}

/// An event waiting to be written.
enum Pending {
    /// Dispatch's own: described from the typed event.
    Typed(TimelineEvent),
    /// Given whole (custom events, imported messages).
    Given(NewEvent),
}

impl Events {
    pub(crate) fn new(actor: &Actor, at: DateTime<Utc>) -> Self {
        Self {
            actor: Some(actor.email.clone()),
            transport: actor.transport,
            at,
            list: Vec::new(),
            jobs: Vec::new(),
            next: None,
        }
    }

    /// Events written by Dispatch itself (jobs, scheduler).
    pub(crate) fn system(at: DateTime<Utc>) -> Self {
        Self {
            actor: None,
            transport: Transport::System,
            at,
            list: Vec::new(),
            jobs: Vec::new(),
            next: None,
        }
    }

    /// Who the events are by, for descriptions.
    pub(crate) fn who(&self) -> &str {
        self.actor.as_deref().unwrap_or("Dispatch")
    }

    /// When the command happened.
    pub(crate) fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// Records that something happened; its kind, details and description all come from the
    /// typed event.
    pub(crate) fn push_event(&mut self, event: TimelineEvent) {
        self.list.push(Pending::Typed(event));
    }

    /// Records a custom event given by a person.
    pub(crate) fn push_custom(&mut self, e: NewEvent) {
        self.list.push(Pending::Given(e));
    }

    /// The typed events recorded so far.
    pub(crate) fn typed(&self) -> impl Iterator<Item = &TimelineEvent> {
        self.list.iter().filter_map(|p| match p {
            Pending::Typed(e) => Some(e),
            Pending::Given(_) => None,
        })
    }

    /// Enqueues a job in the command's transaction.
    pub(crate) fn job(&mut self, job: NewJob) {
        self.jobs.push(job);
    }

    /// Enqueues the next step of a flow, which the job recording these runs itself right after
    /// it (without a claim, see [`crate::jobs::outcome::complete_in`]) when its runner takes
    /// follow-ups; else it is enqueued like [`Events::job`]. One per job: a second replaces the
    /// first, which is then enqueued like any other.
    pub(crate) fn then(&mut self, job: NewJob) {
        if let Some(before) = self.next.replace(job) {
            self.jobs.push(before);
        }
    }

    /// Takes out the step given to [`Events::then`].
    pub(crate) fn take_next(&mut self) -> Option<NewJob> {
        self.next.take()
    }

    /// True when there is nothing to write.
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty() && self.jobs.is_empty() && self.next.is_none()
    }

    /// Takes the events (described for the incident keyed `incident`) and jobs out.
    pub(crate) fn into_parts(self, incident: &str) -> (Vec<NewEvent>, Vec<NewJob>) {
        let who = self.who().to_string();
        let list = self
            .list
            .into_iter()
            .map(|p| match p {
                Pending::Given(e) => e,
                Pending::Typed(event) => {
                    let description = event.describe(&who, incident);
                    let (kind, details) = event.encode();
                    NewEvent {
                        occurred_at: self.at,
                        kind,
                        source: EventSource::Dispatch,
                        actor: self.actor.clone(),
                        transport: self.transport,
                        description,
                        details,
                        pinned: false,
                    }
                }
            })
            .collect();
        let mut jobs = self.jobs;
        jobs.extend(self.next);
        (list, jobs)
    }
}
