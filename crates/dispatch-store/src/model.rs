//! The stored records, as plain data: one module per table, each with its row type `Model`.
//! Only the store builds queries over them; everything else reads and writes them through the
//! repositories in [`crate::repo`].

/// Rows of the `api_token` table.
pub mod api_token {
    pub use crate::entity::api_token::Model;
}
/// Rows of the `audit_event` table.
pub mod audit_event {
    pub use crate::entity::audit_event::Model;
}
/// Rows of the `case` table.
pub mod case {
    pub use crate::entity::case::Model;
}
/// Rows of the `case_event` table.
pub mod case_event {
    pub use crate::entity::case_event::Model;
}
/// Rows of the `case_participant` table.
pub mod case_participant {
    pub use crate::entity::case_participant::Model;
}
/// Rows of the `cost_model` table.
pub mod cost_model {
    pub use crate::entity::cost_model::Model;
}
/// Rows of the `cost_type` table.
pub mod cost_type {
    pub use crate::entity::cost_type::Model;
}
/// Rows of the `incident_cost` table.
pub mod incident_cost {
    pub use crate::entity::incident_cost::Model;
}
/// Rows of the `direct_message` table.
pub mod direct_message {
    pub use crate::entity::direct_message::Model;
}
/// Rows of the `document` table.
pub mod document {
    pub use crate::entity::document::Model;
}
/// Rows of the `engagement` table.
pub mod engagement {
    pub use crate::entity::engagement::Model;
}
/// Rows of the `engagement_rule` table.
pub mod engagement_rule {
    pub use crate::entity::engagement_rule::Model;
}
/// Rows of the `event` table.
pub mod event {
    pub use crate::entity::event::Model;
}
/// Rows of the `feedback` table.
pub mod feedback {
    pub use crate::entity::feedback::Model;
}
/// Rows of the `file` table.
pub mod file {
    pub use crate::entity::file::Model;
}
/// Rows of the `incident` table.
pub mod incident {
    pub use crate::entity::incident::Model;
}
/// Rows of the `incident_priority` table.
pub mod incident_priority {
    pub use crate::entity::incident_priority::Model;
}
/// Rows of the `incident_severity` table.
pub mod incident_severity {
    pub use crate::entity::incident_severity::Model;
}
/// Rows of the `incident_tag` table.
pub mod incident_tag {
    pub use crate::entity::incident_tag::Model;
}
/// Rows of the `incident_type` table.
pub mod incident_type {
    pub use crate::entity::incident_type::Model;
}
/// Rows of the `individual` table.
pub mod individual {
    pub use crate::entity::individual::Model;
}
/// Rows of the `job` table.
pub mod job {
    pub use crate::entity::job::Model;
}
/// Rows of the `notification_rule` table.
pub mod notification_rule {
    pub use crate::entity::notification_rule::Model;
}
/// Rows of the `oncall_override` table.
pub mod oncall_override {
    pub use crate::entity::oncall_override::Model;
}
/// Rows of the `oncall_schedule` table.
pub mod oncall_schedule {
    pub use crate::entity::oncall_schedule::Model;
}
/// Rows of the `outbox` table.
pub mod outbox {
    pub use crate::entity::outbox::Model;
}
/// Rows of the `page` table.
pub mod page {
    pub use crate::entity::page::Model;
}
/// Rows of the `participant` table.
pub mod participant {
    pub use crate::entity::participant::Model;
}
/// Rows of the `participant_group` table.
pub mod participant_group {
    pub use crate::entity::participant_group::Model;
}
/// Rows of the `participant_group_member` table.
pub mod participant_group_member {
    pub use crate::entity::participant_group_member::Model;
}
/// Rows of the `participant_role` table.
pub mod participant_role {
    pub use crate::entity::participant_role::Model;
}
/// Rows of the `project` table.
pub mod project {
    pub use crate::entity::project::Model;
}
/// Rows of the `project_member` table.
pub mod project_member {
    pub use crate::entity::project_member::Model;
}
/// Rows of the `reminder` table.
pub mod reminder {
    pub use crate::entity::reminder::Model;
}
/// Rows of the `reminder_snooze` table.
pub mod reminder_snooze {
    pub use crate::entity::reminder_snooze::Model;
}
/// Rows of the `report` table.
pub mod report {
    pub use crate::entity::report::Model;
}
/// Rows of the `resource` table.
pub mod resource {
    pub use crate::entity::resource::Model;
}
/// Rows of the `role_policy` table.
pub mod role_policy {
    pub use crate::entity::role_policy::Model;
}
/// Rows of the `case_message` table.
pub mod case_message {
    pub use crate::entity::case_message::Model;
}
/// Rows of the `case_thread` table.
pub mod case_thread {
    pub use crate::entity::case_thread::Model;
}
/// Rows of the `room` table.
pub mod room {
    pub use crate::entity::room::Model;
}
/// Rows of the `room_bookmark` table.
pub mod room_bookmark {
    pub use crate::entity::room_bookmark::Model;
}
/// Rows of the `room_member` table.
pub mod room_member {
    pub use crate::entity::room_member::Model;
}
/// Rows of the `room_message` table.
pub mod room_message {
    pub use crate::entity::room_message::Model;
}
/// Rows of the `room_reaction` table.
pub mod room_reaction {
    pub use crate::entity::room_reaction::Model;
}
/// Rows of the `saved_view` table.
pub mod saved_view {
    pub use crate::entity::saved_view::Model;
}
/// Rows of the `service` table.
pub mod service {
    pub use crate::entity::service::Model;
}
/// Rows of the `session` table.
pub mod session {
    pub use crate::entity::session::Model;
}
/// Rows of the `signal_definition` table.
pub mod signal_definition {
    pub use crate::entity::signal_definition::Model;
}
/// Rows of the `signal_filter` table.
pub mod signal_filter {
    pub use crate::entity::signal_filter::Model;
}
/// Rows of the `signal_instance` table.
pub mod signal_instance {
    pub use crate::entity::signal_instance::Model;
}
/// Rows of the `slack_message` table.
pub mod slack_message {
    pub use crate::entity::slack_message::Model;
}
/// Rows of the `slack_user` table.
pub mod slack_user {
    pub use crate::entity::slack_user::Model;
}
/// Rows of the `subscriber` table.
pub mod subscriber {
    pub use crate::entity::subscriber::Model;
}
/// Rows of the `tag` table.
pub mod tag {
    pub use crate::entity::tag::Model;
}
/// Rows of the `tag_type` table.
pub mod tag_type {
    pub use crate::entity::tag_type::Model;
}
/// Rows of the `task` table.
pub mod task {
    pub use crate::entity::task::Model;
}
/// Rows of the `task_assignee` table.
pub mod task_assignee {
    pub use crate::entity::task_assignee::Model;
}
/// Rows of the `team` table.
pub mod team {
    pub use crate::entity::team::Model;
}
/// Rows of the `user` table.
pub mod user {
    pub use crate::entity::user::Model;
}
/// Rows of the `webhook_delivery` table.
pub mod webhook_delivery {
    pub use crate::entity::webhook_delivery::Model;
}
/// Rows of the `webhook_subscription` table.
pub mod webhook_subscription {
    pub use crate::entity::webhook_subscription::Model;
}
