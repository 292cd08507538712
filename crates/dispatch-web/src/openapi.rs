//! The OpenAPI 3.1 document, generated from the handlers' annotations, and a self-contained docs
//! page (no CDN: its script and style are embedded in the binary).

use crate::api;
use crate::AppState;
use axum::extract::State;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::{Modify, OpenApi};

mod answers;
use answers::ErrorAnswers;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "Dispatch API", description = "Incident-management orchestration: declare, run and review incidents."),
    paths(
        api::incidents::declare, api::incidents::list, api::incidents::show, api::incidents::update,
        api::incidents::mark_stable, api::incidents::mark_closed, api::incidents::reopen,
        api::incidents::assign_role, api::incidents::participants, api::insights::similar,
        api::insights::metrics, api::insights::weekly_report,
        api::costs::incident_costs, api::cost_models::list_models, api::cost_models::create_model,
        api::cost_models::show_model, api::cost_models::update_model, api::cost_models::delete_model,
        api::costs::list_types, api::costs::create_type, api::costs::show_type,
        api::costs::update_type, api::costs::delete_type,
        api::timeline::list, api::timeline::add, api::timeline::pin, api::timeline::unpin, api::timeline::verify,
        api::timeline::export,
        api::records::list_tasks, api::records::create_task, api::records::show_task, api::records::update_task,
        api::records::list_reports, api::records::create_report,
        api::records::list_feedback, api::records::give_feedback,
        api::jobs::list, api::jobs::retry,
        api::files::upload, api::files::list, api::files::download,
        api::oncall::set_rotation, api::oncall::on_call, api::oncall::add_override, api::oncall::pages,
        api::oncall::acknowledge, api::oncall::policies, api::oncall::add_policy, api::oncall::delete_policy,
        api::outbox::list,
        api::room::show, api::room::messages, api::room::post_message, api::room::react, api::room::documents, api::room::document,
        api::room::edit_document,
        api::commands::run, api::records::find_tasks,
        api::taxonomy::all,
        api::taxonomy::projects::list, api::taxonomy::projects::create,
        api::taxonomy::projects::show, api::taxonomy::projects::update,
        api::taxonomy::types::list, api::taxonomy::types::create,
        api::taxonomy::types::show, api::taxonomy::types::update,
        api::taxonomy::priorities::list, api::taxonomy::priorities::create,
        api::taxonomy::priorities::show, api::taxonomy::priorities::update,
        api::taxonomy::severities::list, api::taxonomy::severities::create,
        api::taxonomy::severities::show, api::taxonomy::severities::update,
        api::taxonomy::tags::list_types, api::taxonomy::tags::create_type,
        api::taxonomy::tags::list_tags, api::taxonomy::tags::create_tag,
        api::directory::individuals::list, api::directory::individuals::create,
        api::directory::individuals::show, api::directory::individuals::update,
        api::directory::teams::list, api::directory::teams::create, api::directory::teams::show,
        api::directory::teams::update, api::directory::teams::delete,
        api::directory::services::list, api::directory::services::create,
        api::directory::services::show, api::directory::services::update,
        api::directory::services::delete,
        api::webhooks::list, api::webhooks::create, api::webhooks::show, api::webhooks::update,
        api::webhooks::delete, api::webhooks::deliveries,
        api::config::export, api::config::schema, api::config::plan, api::config::apply,
        api::providers::list, api::providers::check, api::providers::contact, api::providers::direct_messages,
        api::providers::group,
        api::account::me, api::account::list_tokens, api::account::create_token,
        api::account::revoke_token, api::account::list_users, api::account::create_user,
        api::account::update_user, api::account::new_setup_link, api::account::audit,
        crate::login::login_page, crate::login::login, crate::login::logout,
        crate::login::setup_page, crate::login::setup,
        crate::oidc::start, crate::oidc::callback,
        crate::unsubscribe::confirm_page, crate::unsubscribe::unsubscribe,
        api::membership::join, api::membership::subscribe, api::membership::unsubscribe,
        api::membership::subscribers,
        api::stakeholders::show, api::stakeholders::add, api::stakeholders::remove,
        api::membership::remove, api::membership::engagements,
        api::rules::list_engagement, api::rules::create_engagement, api::rules::show_engagement,
        api::rules::update_engagement, api::rules::delete_engagement,
        api::rules::list_notification, api::rules::create_notification,
        api::rules::show_notification, api::rules::update_notification,
        api::rules::delete_notification,
        api::project_members::list, api::project_members::set, api::project_members::remove,
        api::signals::list_definitions, api::signals::list_all_definitions,
        api::signals::create_definition,
        api::signals::show_definition, api::signals::update_definition,
        api::signals::delete_definition,
        api::signals::list_filters, api::signals::create_filter, api::signals::show_filter,
        api::signals::update_filter, api::signals::delete_filter, api::signals::list_instances,
        api::signal_ingest::alertmanager, api::signal_ingest::grafana,
        api::signal_ingest::pagerduty, api::signal_ingest::generic,
        api::cases::list, api::cases::show, api::cases::triage, api::cases::escalate,
        api::cases::stable, api::cases::close, api::cases::edit, api::cases::snooze,
        api::cases::room, api::cases::post_in_room,
    ),
    components(schemas(crate::error::ErrorBody, crate::wire::IncidentSummaryOut)),
    modifiers(&BearerAuth, &ErrorAnswers),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token from `dispatch token create` or `POST /api/v1/tokens`",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document, with every route's path, served from `public_url` (the configured public URL;
/// without one, `/`: the server the document was fetched from).
pub fn document(public_url: Option<&str>) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.openapi = utoipa::openapi::OpenApiVersion::Version31;
    let url = public_url
        .map(|u| u.trim_end_matches('/'))
        .filter(|u| !u.is_empty())
        .unwrap_or("/");
    doc.servers = Some(vec![Server::new(url)]);
    doc
}

/// `/openapi.json` and `/docs` (mounted under `/api/v1`, without authentication).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(json))
        .route("/docs", get(docs))
}

async fn json(State(s): State<AppState>) -> impl IntoResponse {
    axum::Json(document(s.public_url.as_deref()))
}

async fn docs() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}
