//! SeaORM entities: one module per table, plain rows with no behaviour.

pub mod api_token;
pub mod document;
pub mod event;
pub mod incident;
pub mod incident_priority;
pub mod incident_severity;
pub mod incident_tag;
pub mod incident_type;
pub mod individual;
pub mod job;
pub mod outbox;
pub mod participant;
pub mod participant_role;
pub mod project;
pub mod report;
pub mod resource;
pub mod room;
pub mod room_bookmark;
pub mod room_member;
pub mod room_message;
pub mod service;
pub mod tag;
pub mod tag_type;
pub mod task;
pub mod task_assignee;
pub mod team;
