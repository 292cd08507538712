//! The records and query shapes the transports read and fill in, handed through from the store
//! so that the web, chat and other transports never depend on the store themselves: they reach
//! data only through the engine's use cases.

pub use dispatch_store::model;
pub use dispatch_store::repo::event::EventFilter;
pub use dispatch_store::repo::incident::{
    IncidentFilter, IncidentRow, SortField, Total, SEARCH_COUNT_LIMIT,
};
pub use dispatch_store::repo::participant::ParticipantView;
pub use dispatch_store::repo::project_member::MemberRow;
pub use dispatch_store::repo::stats::IncidentFact;
pub use dispatch_store::repo::tag::TagRow;
pub use dispatch_store::repo::task::TaskFilter;
pub use dispatch_store::repo::taxonomy::Taxonomy;
pub use dispatch_store::repo::user::UserRow;
