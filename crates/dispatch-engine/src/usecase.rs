//! The engine's use cases, grouped by area: each area is a small handle on the [`Engine`]
//! (`engine.tasks().create(…)`, `engine.incidents().declare(…)`), defined in the module of its area.
//! A handle borrows the engine and derefs to it, so a use case reaches the database, the providers
//! and the other areas the same way.

use crate::Engine;

macro_rules! use_cases {
    ($($(#[$doc:meta])* $accessor:ident => $Handle:ident,)*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy)]
            pub struct $Handle<'a>(&'a Engine);

            impl std::ops::Deref for $Handle<'_> {
                type Target = Engine;
                fn deref(&self) -> &Engine {
                    self.0
                }
            }
        )*

        impl Engine {
            $(
                $(#[$doc])*
                pub fn $accessor(&self) -> $Handle<'_> {
                    $Handle(self)
                }
            )*
        }
    };
}

use_cases! {
    /// Declaring, reading, listing, updating incidents and moving them through their statuses.
    incidents => Incidents,
    /// Who may see and act on an incident.
    access => Access,
    /// API tokens: minting, listing, revoking, and authenticating a bearer secret.
    credentials => Credentials,
    /// Projects and their members.
    projects => Projects,
    /// People, teams and services, and saving any configuration record.
    directory => Directory,
    /// Incident types, severities, priorities, tag types and tags.
    taxonomy => Taxonomies,
    /// The audit log of configuration changes.
    audit => Audit,
    /// The built-in incident documents.
    documents => Documents,
    /// Files attached to incidents.
    files => Files,
    /// Participants' feedback on an incident.
    feedback => Feedback,
    /// Who takes part in an incident: joining, subscribing, leaving, and conversation membership.
    participants => Participants,
    /// Incident roles: assigning them, and the role policies that fill them.
    roles => Roles,
    /// On-call rotations, overrides, engagement and pages.
    oncall => OnCall,
    /// Each project's providers: checks, contacts, direct messages, groups and the outbox.
    integrations => Integrations,
    /// Status reports and their reminders.
    reports => Reports,
    /// An incident's stakeholders: its notifications group.
    stakeholders => Stakeholders,
    /// The built-in incident room: messages, reactions, imported messages.
    room => Room,
    /// Secrets kept in the database, sealed at rest.
    secrets => Secrets,
    /// Incident tasks.
    tasks => Tasks,
    /// The incident timeline: events, pins, export and verification.
    timeline => Timeline,
    /// Outgoing webhooks and their deliveries.
    webhooks => Webhooks,
    /// The durable job queue, as operators see it.
    jobs => Jobs,
    /// Chat commands and the chat transports' bookkeeping.
    chat => Chat,
    /// Engagement and notification rules.
    rules => Rules,
    /// User accounts and their saved views.
    accounts => Accounts,
    /// Web sign-in, sessions and the login throttle.
    sessions => Sessions,
    /// Signal definitions, filters and instances, and taking in alerts.
    signals => Signals,
    /// Cases: triage, escalation to an incident, closing.
    cases => Cases,
    /// Response cost: cost models, cost types and each incident's costs.
    costs => Costs,
}
