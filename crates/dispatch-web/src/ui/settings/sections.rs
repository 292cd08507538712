//! The settings sections: what each lists and edits, and the API handlers each one calls. The
//! pages hand the API's handlers exactly the body an API client would send, so every rule about
//! a field lives once, in the API.

use super::{Field, Kind, ScopeQuery};
use crate::api::directory::{individuals, services, teams};
use crate::api::taxonomy::{priorities, projects, severities, tags, types};
use crate::api::{account, jobs, oncall, providers, rules, webhooks};
use crate::auth::RequestOrigin;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::ui::Caller;
use crate::AppState;
use axum::extract::State;
use dispatch_core::{Capability, OrgRole, ValidationError};
use dispatch_engine::audit::Origin;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Which records a section's pages are about.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    /// Every record.
    All,
    /// One project's (`?project=`, the default project when absent).
    Project,
    /// One webhook's (`?webhook=`).
    Webhook,
}

/// One settings section.
pub struct Meta {
    /// Its address under `/settings/`.
    pub slug: &'static str,
    /// Its title.
    pub title: &'static str,
    /// The group it is listed under on the index (`""`: reached from another page only).
    pub group: &'static str,
    /// One line about it.
    pub about: &'static str,
    /// Whose records.
    pub scope: ScopeKind,
    /// The key of a record in its address.
    pub key: &'static str,
    /// The key of a record's name, for headings.
    pub label: &'static str,
    /// Columns of the list: (heading, key of the record; dotted for nested).
    pub columns: &'static [(&'static str, &'static str)],
    /// Links beside each record (`{key}` and `{project}` are filled in).
    pub links: &'static [(&'static str, &'static str)],
    /// Whether records can be created here.
    pub create: bool,
    /// Whether records can be changed here.
    pub edit: bool,
    /// Whether records can be deleted here.
    pub delete: bool,
    /// A further action on each record: (action, button label).
    pub action: Option<(&'static str, &'static str)>,
    /// The role that may change it (the API's rule).
    pub role: OrgRole,
}

const fn section(slug: &'static str, title: &'static str, group: &'static str) -> Meta {
    Meta {
        slug,
        title,
        group,
        about: "",
        scope: ScopeKind::All,
        key: "id",
        label: "name",
        columns: &[],
        links: &[],
        create: false,
        edit: false,
        delete: false,
        action: None,
        role: OrgRole::Admin,
    }
}

const TAXONOMY_COLUMNS: &[(&str, &str)] = &[
    ("Name", "name"),
    ("Slug", "slug"),
    ("Description", "description"),
    ("Default", "default"),
    ("Enabled", "enabled"),
    ("Order", "view_order"),
];

/// Every section, in the index's order.
pub const SECTIONS: &[Meta] = &[
    Meta {
        about:
            "Scopes of incidents: key prefix, self-join, and the provider chosen per capability.",
        key: "slug",
        columns: &[
            ("Name", "name"),
            ("Slug", "slug"),
            ("Key", "key_prefix"),
            ("Default", "default"),
            ("Self-join", "allow_self_join"),
            ("Providers in use", "effective_providers"),
        ],
        links: &[
            ("Types", "/settings/incident-types?project={key}"),
            ("Priorities", "/settings/incident-priorities?project={key}"),
            ("Severities", "/settings/incident-severities?project={key}"),
            ("Tags", "/settings/tags?project={key}"),
        ],
        create: true,
        edit: true,
        role: OrgRole::Manager,
        ..section("projects", "Projects", "Projects and taxonomies")
    },
    Meta {
        about: "Incident types: default visibility, metrics, and the document templates.",
        scope: ScopeKind::Project,
        columns: &[
            ("Name", "name"),
            ("Slug", "slug"),
            ("Visibility", "default_visibility"),
            ("Default", "default"),
            ("Enabled", "enabled"),
            ("Own document template", "incident_template"),
        ],
        create: true,
        edit: true,
        ..section(
            "incident-types",
            "Incident types",
            "Projects and taxonomies",
        )
    },
    Meta {
        about: "Priorities: paging the commander and report reminders.",
        scope: ScopeKind::Project,
        columns: TAXONOMY_COLUMNS,
        create: true,
        edit: true,
        ..section(
            "incident-priorities",
            "Priorities",
            "Projects and taxonomies",
        )
    },
    Meta {
        about: "Severities, and which allow marking an incident stable.",
        scope: ScopeKind::Project,
        columns: TAXONOMY_COLUMNS,
        create: true,
        edit: true,
        ..section(
            "incident-severities",
            "Severities",
            "Projects and taxonomies",
        )
    },
    Meta {
        about: "Kinds of tag (region, component): exclusive or required.",
        scope: ScopeKind::Project,
        columns: &[
            ("Name", "name"),
            ("Description", "description"),
            ("Exclusive", "exclusive"),
            ("Required", "required"),
        ],
        create: true,
        ..section("tag-types", "Tag types", "Projects and taxonomies")
    },
    Meta {
        about: "Tags incidents can carry.",
        scope: ScopeKind::Project,
        columns: &[
            ("Name", "name"),
            ("Type", "tag_type"),
            ("Description", "description"),
        ],
        create: true,
        ..section("tags", "Tags", "Projects and taxonomies")
    },
    Meta {
        about: "Who takes the commander, scribe or liaison role of new incidents.",
        scope: ScopeKind::Project,
        label: "role",
        columns: &[
            ("Role", "role"),
            ("Type id", "type_id"),
            ("Priority id", "priority_id"),
            ("Tag id", "tag_id"),
            ("Service id", "service_id"),
            ("Person", "email"),
            ("Order", "order"),
        ],
        create: true,
        delete: true,
        ..section("role-policies", "Role policies", "Rules")
    },
    Meta {
        about: "Who is brought into matching incidents (observers, teams, on-call, runbooks).",
        scope: ScopeKind::Project,
        columns: &[
            ("Name", "name"),
            ("Filter", "filter_text"),
            ("Individuals", "individuals"),
            ("Teams", "teams"),
            ("Services", "services"),
            ("Enabled", "enabled"),
        ],
        create: true,
        edit: true,
        delete: true,
        ..section("engagement-rules", "Engagement rules", "Rules")
    },
    Meta {
        about: "Who hears about matching incidents (rooms, e-mail, webhooks).",
        scope: ScopeKind::Project,
        columns: &[
            ("Name", "name"),
            ("Filter", "filter_text"),
            ("Kind", "target_kind"),
            ("Target", "target"),
            ("Restricted too", "restricted_safe"),
            ("Enabled", "enabled"),
        ],
        create: true,
        edit: true,
        delete: true,
        ..section("notification-rules", "Notification rules", "Rules")
    },
    Meta {
        about: "People Dispatch knows: names, titles, profile links, Teams ids, Matrix IDs.",
        label: "email",
        columns: &[
            ("E-mail", "email"),
            ("Name", "name"),
            ("Title", "title"),
            ("Profile", "weblink"),
            ("Matrix ID", "matrix_id"),
        ],
        create: true,
        edit: true,
        ..section("individuals", "Individuals", "Directory")
    },
    Meta {
        about: "Teams engagement rules bring in.",
        scope: ScopeKind::Project,
        columns: &[
            ("Name", "name"),
            ("E-mail", "email"),
            ("Description", "description"),
        ],
        create: true,
        edit: true,
        delete: true,
        ..section("teams", "Teams", "Directory")
    },
    Meta {
        about: "Services and their on-call provider.",
        scope: ScopeKind::Project,
        columns: &[
            ("Name", "name"),
            ("Provider", "provider"),
            ("External id", "external_id"),
            ("Active", "is_active"),
        ],
        links: &[("Rotation", "/settings/rotations/{key}?project={project}")],
        create: true,
        edit: true,
        delete: true,
        ..section("services", "Services", "Directory")
    },
    Meta {
        about: "Each service's on-call rotation: members, shift length, handoff.",
        scope: ScopeKind::Project,
        key: "service_id",
        label: "service",
        columns: &[
            ("Service", "service"),
            ("Members", "rotation.members"),
            ("Shift hours", "rotation.shift_hours"),
            ("On call now", "current.email"),
            ("Next", "next.email"),
        ],
        edit: true,
        ..section("rotations", "On-call rotations", "Directory")
    },
    Meta {
        about: "Providers this server has per capability, and the default of each.",
        key: "capability",
        label: "capability",
        columns: &[
            ("Capability", "capability"),
            ("Available", "providers"),
            ("Server default", "default"),
        ],
        links: &[
            ("Projects' choices", "/settings/projects"),
            ("Check them", "/settings/provider-checks"),
        ],
        ..section("providers", "Providers", "Integrations")
    },
    Meta {
        about: "Each provider that calls a vendor (Jira, Zoom, PagerDuty, Opsgenie), checked now \
                with a cheap authenticated call: what works, and what to fix.",
        key: "provider",
        label: "provider",
        columns: &[
            ("Capability", "capability"),
            ("Provider", "provider"),
            ("Works", "ok"),
            ("What Dispatch found", "message"),
        ],
        ..section("provider-checks", "Provider checks", "Integrations")
    },
    Meta {
        about: "Subscriptions to incident events, signed, with their deliveries.",
        label: "url",
        columns: &[
            ("URL", "url"),
            ("Events", "event_types"),
            ("Description", "description"),
            ("Enabled", "enabled"),
            ("Secret set", "secret_set"),
        ],
        links: &[("Deliveries", "/settings/deliveries?webhook={key}")],
        create: true,
        edit: true,
        delete: true,
        ..section("webhooks", "Webhooks", "Integrations")
    },
    Meta {
        scope: ScopeKind::Webhook,
        columns: &[
            ("Event", "event_type"),
            ("Status", "status"),
            ("Attempts", "attempts"),
            ("HTTP", "last_status_code"),
            ("Error", "last_error"),
            ("Created", "created_at"),
            ("Delivered", "delivered_at"),
        ],
        ..section("deliveries", "Webhook deliveries", "")
    },
    Meta {
        about: "Accounts: organization role, disable, invite.",
        label: "email",
        columns: &[
            ("E-mail", "email"),
            ("Name", "name"),
            ("Role", "role"),
            ("Kind", "kind"),
            ("Password set", "has_password"),
            ("Disabled", "disabled"),
        ],
        create: true,
        edit: true,
        role: OrgRole::Owner,
        ..section("users", "Users and roles", "People and access")
    },
    Meta {
        about: "Every sign-in and change: who, what, from where.",
        label: "action",
        columns: &[
            ("When", "at"),
            ("Who", "actor"),
            ("What", "action"),
            ("Target", "target"),
            ("Outcome", "outcome"),
            ("From", "source_addr"),
            ("Credential", "credential"),
        ],
        ..section("audit", "Audit log", "People and access")
    },
    Meta {
        about: "Jobs that ran out of attempts, to retry.",
        label: "kind",
        columns: &[
            ("Kind", "kind"),
            ("State", "state"),
            ("Attempts", "attempts"),
            ("Incident id", "incident_id"),
            ("Last error", "last_error"),
            ("Updated", "updated_at"),
        ],
        action: Some(("retry", "Retry")),
        ..section("jobs", "Failed jobs", "Operations")
    },
];

/// The records a section's pages are about, resolved.
pub struct Scope {
    /// Which kind.
    pub kind: ScopeKind,
    /// The project's slug (project sections).
    pub project: String,
    /// The webhook (deliveries).
    pub webhook: i64,
}

impl Scope {
    /// Resolves the query: the default project when none is named.
    pub async fn resolve(s: &AppState, meta: &Meta, q: &ScopeQuery) -> ApiResult<Self> {
        let project = match meta.scope {
            ScopeKind::Project => {
                let named = q
                    .project
                    .as_deref()
                    .map(str::trim)
                    .filter(|p| !p.is_empty());
                s.engine.projects().get_or_default(named).await?.slug
            }
            _ => String::new(),
        };
        let webhook = match meta.scope {
            ScopeKind::Webhook => q
                .webhook
                .ok_or_else(|| ApiError::NotFound("webhook".into()))?,
            _ => 0,
        };
        Ok(Self {
            kind: meta.scope,
            project,
            webhook,
        })
    }

    /// The query string that keeps the scope in links (`""` when there is none).
    pub fn query(&self) -> String {
        match self.kind {
            ScopeKind::All => String::new(),
            ScopeKind::Project => format!("?project={}", self.project),
            ScopeKind::Webhook => format!("?webhook={}", self.webhook),
        }
    }

    /// Whether the pages pick a project.
    pub fn by_project(&self) -> bool {
        self.kind == ScopeKind::Project
    }
}

/// A page of records.
pub struct Listing {
    /// The records as the API answers them.
    pub rows: Vec<Value>,
    /// The query string of the next page, if there is one.
    pub next: Option<String>,
}

pub(crate) fn out<T: Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn rows_of(v: Value) -> Vec<Value> {
    match v {
        Value::Array(rows) => rows,
        _ => Vec::new(),
    }
}

/// The form's JSON as the API's request body type.
pub(crate) fn body<T: DeserializeOwned>(v: Value) -> ApiResult<Json<T>> {
    serde_json::from_value(v).map(Json).map_err(|e| {
        let mut v = ValidationError::default();
        v.push("form", e.to_string());
        ApiError::Validation(v)
    })
}

fn number(id: &str, what: &str) -> ApiResult<i64> {
    id.parse()
        .map_err(|_| ApiError::NotFound(format!("{what} {id:?}")))
}

/// A section's records.
pub async fn list(
    s: &AppState,
    caller: &Caller,
    meta: &Meta,
    scope: &Scope,
    q: &ScopeQuery,
) -> ApiResult<Listing> {
    let st = || State(s.clone());
    let a = || caller.auth.clone();
    let p = || Path(scope.project.clone());
    let rules_query = || {
        Query(rules::RulesQuery {
            project: Some(scope.project.clone()),
        })
    };
    let mut next = None;
    let rows = match meta.slug {
        "projects" => out(projects::list(st(), a()).await?.0),
        "incident-types" => out(types::list(st(), a(), p()).await?.0),
        "incident-priorities" => out(priorities::list(st(), a(), p()).await?.0),
        "incident-severities" => out(severities::list(st(), a(), p()).await?.0),
        "tag-types" => out(tags::list_types(st(), a(), p()).await?.0),
        "tags" => out(tags::list_tags(st(), a(), p()).await?.0),
        "role-policies" => out(oncall::policies(st(), a(), p()).await?.0),
        "engagement-rules" => out(rules::list_engagement(st(), a(), rules_query()).await?.0),
        "notification-rules" => out(rules::list_notification(st(), a(), rules_query()).await?.0),
        "individuals" => {
            let page = individuals::list(
                st(),
                a(),
                Query(individuals::IndividualQuery {
                    q: None,
                    page: q.page,
                    per_page: Some(50),
                }),
            )
            .await?
            .0;
            if page.page * page.per_page < page.total {
                next = Some(format!("?page={}", page.page + 1));
            }
            out(page.items)
        }
        "teams" => out(teams::list(st(), a(), p()).await?.0),
        "services" => out(services::list(st(), a(), p()).await?.0),
        "rotations" => {
            let project = s.engine.projects().get(&scope.project).await?;
            let mut rows = Vec::new();
            for svc in s
                .engine
                .directory()
                .services(dispatch_core::ProjectId(project.id))
                .await?
            {
                let view = s
                    .engine
                    .oncall()
                    .who(dispatch_core::ServiceId(svc.id), dispatch_core::now())
                    .await;
                rows.push(match view {
                    Ok(v) => out(oncall::OnCallOut::from(v)),
                    // A provider that cannot answer leaves the row empty rather than the page.
                    Err(_) => serde_json::json!({"service_id": svc.id, "service": svc.name}),
                });
            }
            Value::Array(rows)
        }
        "providers" => out(providers::list(st(), a()).await?.0),
        "provider-checks" => {
            out(
                providers::check(st(), a(), Query(providers::CheckParams { project: None }))
                    .await?
                    .0,
            )
        }
        "webhooks" => out(webhooks::list(st(), a()).await?.0),
        "deliveries" => {
            let page = webhooks::deliveries(
                st(),
                a(),
                Path(scope.webhook),
                Query(webhooks::DeliveryQuery {
                    page: q.page,
                    per_page: Some(50),
                }),
            )
            .await?
            .0;
            if page.page * page.per_page < page.total {
                next = Some(format!("?webhook={}&page={}", scope.webhook, page.page + 1));
            }
            out(page.items)
        }
        "users" => out(account::list_users(st(), a()).await?.0),
        "audit" => {
            const PAGE: usize = 50;
            let rows = account::audit(
                st(),
                a(),
                Query(account::AuditQuery {
                    action: None,
                    actor: None,
                    before: q.before,
                    limit: Some(PAGE as i64),
                }),
            )
            .await?
            .0;
            if rows.len() == PAGE {
                next = rows.last().map(|r| format!("?before={}", r.id));
            }
            out(rows)
        }
        "jobs" => out(jobs::list(
            st(),
            a(),
            Query(jobs::JobQuery {
                state: Some(q.state.clone().unwrap_or_else(|| "failed".into())),
                limit: Some(200),
            }),
        )
        .await?
        .0),
        other => return Err(ApiError::NotFound(format!("settings page {other:?}"))),
    };
    Ok(Listing {
        rows: rows_of(rows),
        next,
    })
}

/// One record, as the API shows it.
pub async fn show(
    s: &AppState,
    caller: &Caller,
    meta: &Meta,
    scope: &Scope,
    id: &str,
) -> ApiResult<Value> {
    let st = || State(s.clone());
    let a = || caller.auth.clone();
    let pid = || -> ApiResult<Path<(String, i64)>> {
        Ok(Path((scope.project.clone(), number(id, meta.slug)?)))
    };
    let n = || -> ApiResult<Path<i64>> { Ok(Path(number(id, meta.slug)?)) };
    Ok(match meta.slug {
        "projects" => out(projects::show(st(), a(), Path(id.to_string())).await?.0),
        "incident-types" => out(types::show(st(), a(), pid()?).await?.0),
        "incident-priorities" => out(priorities::show(st(), a(), pid()?).await?.0),
        "incident-severities" => out(severities::show(st(), a(), pid()?).await?.0),
        "engagement-rules" => out(rules::show_engagement(st(), a(), n()?).await?.0),
        "notification-rules" => out(rules::show_notification(st(), a(), n()?).await?.0),
        "individuals" => out(individuals::show(st(), a(), n()?).await?.0),
        "teams" => out(teams::show(st(), a(), n()?).await?.0),
        "services" => out(services::show(st(), a(), n()?).await?.0),
        "rotations" => out(oncall::OnCallOut::from(
            s.engine
                .oncall()
                .who(dispatch_core::ServiceId(n()?.0), dispatch_core::now())
                .await?,
        )),
        "webhooks" => out(webhooks::show(st(), a(), n()?).await?.0),
        "users" => {
            let id = n()?.0;
            account::list_users(st(), a())
                .await?
                .0
                .into_iter()
                .find(|u| u.id == id)
                .map(out)
                .ok_or_else(|| ApiError::NotFound(format!("user {id}")))?
        }
        other => return Err(ApiError::NotFound(format!("{other} {id}"))),
    })
}

pub(crate) fn options(
    items: impl IntoIterator<Item = (String, String)>,
    none: &str,
) -> Vec<(String, String)> {
    std::iter::once((String::new(), none.to_string()))
        .chain(items)
        .collect()
}

pub(crate) fn select(options: Vec<(String, String)>) -> Kind {
    Kind::Select {
        options,
        numeric: false,
    }
}

pub(crate) fn fixed(values: &[&str], none: Option<&str>) -> Kind {
    let items = values.iter().map(|v| (v.to_string(), v.to_string()));
    select(match none {
        Some(none) => options(items, none),
        None => items.collect(),
    })
}

/// A section's form.
pub async fn fields(
    s: &AppState,
    meta: &Meta,
    scope: &Scope,
    create: bool,
) -> ApiResult<Vec<Field>> {
    let project = || async {
        let p = s
            .engine
            .projects()
            .get_or_default(Some(scope.project.as_str()))
            .await
            .map_err(ApiError::from)?;
        ApiResult::Ok(dispatch_core::ProjectId(p.id))
    };
    Ok(match meta.slug {
        "projects" => project_fields(s),
        "tags" => tag_fields(s, project().await?).await?,
        "role-policies" => role_policy_fields(s, project().await?).await?,
        "engagement-rules" => engagement_rule_fields(s, project().await?).await?,
        "services" => service_fields(s),
        slug => plain_fields(slug, create)
            .ok_or_else(|| ApiError::NotFound(format!("a form for {slug}")))?,
    })
}

/// The forms that read nothing: their fields are fixed.
fn plain_fields(slug: &str, create: bool) -> Option<Vec<Field>> {
    use Kind::{Area, Check, List, Number, Text};
    let f = Field::new;
    Some(match slug {
        "incident-types" => vec![
            f("name", "Name", Text).required(),
            f("slug", "Slug", Text).hint("from the name when empty"),
            f("description", "Description", Area).clearable(),
            f("default_visibility", "Default visibility", fixed(&["open", "restricted"], None)),
            f("default", "The project's default type", Check),
            f("enabled", "Offered when reporting", Check),
            f("exclude_from_metrics", "Leave out of metrics", Check),
            f("exclude_from_reminders", "No reminders", Check),
            f("exclude_from_review", "No post-incident review", Check),
            f("view_order", "Order in lists", Number),
            f("incident_template", "Incident document template", Area).clearable()
                .hint("markdown with {{name}}, {{title}}, {{commander}}, {{status}}, {{links}}, {{timeline}}; empty: the built-in one"),
            f("review_template", "Post-incident review template", Area).clearable().hint("empty: the built-in one"),
            f("executive_template", "Executive summary template", Area).clearable().hint("empty: the built-in one"),
        ],
        "incident-priorities" => vec![
            f("name", "Name", Text).required(),
            f("slug", "Slug", Text).hint("from the name when empty"),
            f("description", "Description", Area).clearable(),
            f("color", "Colour", Text).clearable().hint("#rrggbb"),
            f("default", "The project's default priority", Check),
            f("enabled", "Offered when reporting", Check),
            f("page_commander", "Page the commander", Check),
            f("tactical_report_reminder_hours", "Tactical report reminder (hours)", Number).clearable(),
            f("executive_report_reminder_hours", "Executive report reminder (hours)", Number).clearable(),
            f("view_order", "Order in lists", Number),
        ],
        "incident-severities" => vec![
            f("name", "Name", Text).required(),
            f("slug", "Slug", Text).hint("from the name when empty"),
            f("description", "Description", Area).clearable(),
            f("color", "Colour", Text).clearable().hint("#rrggbb"),
            f("default", "The project's default severity", Check),
            f("enabled", "Offered when reporting", Check),
            f("allowed_for_stable", "Allows marking an incident stable", Check),
            f("view_order", "Order in lists", Number),
        ],
        "tag-types" => vec![
            f("name", "Name", Text).required(),
            f("description", "Description", Area).clearable(),
            f("exclusive", "An incident has at most one tag of this type", Check),
            f("required", "Every incident needs one", Check),
        ],
        "notification-rules" => vec![
            f("name", "Name", Text).required(),
            f("description", "Description", Area).clearable(),
            f("filter", "Filter", Text).required().from("filter_text")
                .hint("which incidents, e.g. priority = high; \"all\" for every incident"),
            f("target_kind", "Send to", fixed(&["conversation", "email", "webhook"], Some(""))),
            f("target", "Target", Text).required()
                .hint("an incident key (its room) or channel:<id>; e-mail addresses; a webhook id"),
            f("restricted_safe", "Restricted incidents may reach it", Check),
            f("enabled", "Enabled", Check),
        ],
        "individuals" => vec![
            f("email", "E-mail", Text).required(),
            f("name", "Name", Text).required(),
            f("title", "Title", Text).clearable(),
            f("weblink", "Profile link", Text).clearable(),
            f("teams_id", "Microsoft Teams id", Text).clearable()
                .hint("their Azure AD object id; Teams messages run as this person"),
            f("matrix_id", "Matrix ID", Text).clearable()
                .hint("@alice:example.org — how the Matrix bot knows this person"),
        ],
        "teams" => vec![
            f("name", "Name", Text).required(),
            f("email", "E-mail", Text).clearable(),
            f("description", "Description", Area).clearable(),
        ],
        "rotations" => vec![
            f("members", "Members, in order", List).from("rotation.members").hint("e-mail addresses, comma-separated"),
            f("shift_hours", "Shift length (hours)", Number).from("rotation.shift_hours").hint("168 = weekly"),
            f("handoff_time", "Handoff time", Text).from("rotation.handoff_time").hint("HH:MM, local"),
            f("start_date", "First shift's day", Text).from("rotation.start_date").hint("YYYY-MM-DD"),
            f("time_zone", "Time zone", Text).from("rotation.time_zone").hint("IANA, e.g. Europe/Berlin; UTC when empty"),
        ],
        "webhooks" => vec![
            f("url", "URL", Text).required(),
            f("event_types", "Events", List).hint("event types, comma-separated; every event when empty"),
            f("description", "Description", Area).clearable(),
            f("enabled", "Enabled", Check),
        ],
        "users" if create => vec![
            f("email", "E-mail", Text).required(),
            f("role", "Role", fixed(OrgRole::NAMES, None)),
            f("kind", "Kind", fixed(&["person", "service"], None)).hint("a person gets a one-time link to choose a password"),
        ],
        "users" => vec![
            f("role", "Role", fixed(OrgRole::NAMES, None)),
            f("disabled", "Disabled (cannot sign in or use tokens)", Check),
        ],
        _ => return None,
    })
}

/// A project: its settings and a provider per capability, offered from the registry.
fn project_fields(s: &AppState) -> Vec<Field> {
    use Kind::{Area, Check, Number, Text};
    let f = Field::new;
    let mut v = vec![
        f("name", "Name", Text).required(),
        f("slug", "Slug", Text)
            .hint("lower-case letters, digits, dashes; from the name when empty"),
        f("key_prefix", "Key prefix", Text)
            .required()
            .hint("SEC in SEC-42: 2-10 letters or digits"),
        f("description", "Description", Area).clearable(),
        f(
            "allow_self_join",
            "People may join its open incidents by themselves",
            Check,
        ),
        f("default", "The default project", Check),
        f("timeline_emoji", "Timeline emoji", Text)
            .hint("reacting with it puts a room message on the timeline"),
        f(
            "observer_promotion_messages",
            "Messages that make an observer a participant",
            Number,
        ),
        f(
            "weekly_report",
            "Send a weekly report to its notification rules' targets",
            Check,
        ),
    ];
    // Jira's per-project settings, when this server has Jira (the API takes more: per incident
    // type, under `by_type`).
    let jira = s
        .engine
        .registry()
        .available(Capability::Ticket)
        .0
        .contains(&"jira");
    for &(name, label, hint) in if jira { JIRA_FIELDS } else { &[] } {
        v.push(
            f(&format!("provider_settings.jira.{name}"), label, Text)
                .clearable()
                .hint(hint),
        );
    }
    if jira {
        v.push(
            f("provider_settings.jira.labels", "Jira labels", Kind::List)
                .clearable()
                .hint("put on every issue, comma-separated; empty: the server's"),
        );
    }
    for c in Capability::ALL {
        let (slugs, default) = s.engine.registry().available(*c);
        let none = match default {
            Some(d) => format!("Server default ({d})"),
            None => "Server default (none)".into(),
        };
        v.push(f(
            &format!("providers.{c}"),
            &format!("Provider: {c}"),
            select(options(
                slugs.iter().map(|s| (s.to_string(), s.to_string())),
                &none,
            )),
        ));
    }
    v
}

/// Jira's per-project fields on the project form: (field under `provider_settings.jira`, label,
/// hint).
const JIRA_FIELDS: &[(&str, &str, &str)] = &[
    (
        "project_key",
        "Jira project key",
        "e.g. OPS; empty: the server's DISPATCH_JIRA_PROJECT_KEY",
    ),
    ("issue_type", "Jira issue type", "e.g. Incident or Task"),
    (
        "transitions.active",
        "Jira transition when active",
        "the workflow transition's name",
    ),
    (
        "transitions.stable",
        "Jira transition when stable",
        "the workflow transition's name",
    ),
    (
        "transitions.closed",
        "Jira transition when closed",
        "e.g. Done; the resolution goes into its comment",
    ),
    (
        "custom_fields.commander",
        "Jira commander field",
        "a user-picker custom field id, e.g. customfield_10010",
    ),
    (
        "custom_fields.priority",
        "Jira priority field",
        "a select-list custom field id set to the priority's name",
    ),
];

async fn tag_fields(s: &AppState, project: dispatch_core::ProjectId) -> ApiResult<Vec<Field>> {
    use Kind::{Area, Text};
    let f = Field::new;
    let kinds = s.engine.taxonomy().tag_types(project).await?;
    Ok(vec![
        f("name", "Name", Text).required(),
        f("description", "Description", Area).clearable(),
        f(
            "tag_type",
            "Type",
            select(options(
                kinds.into_iter().map(|t| (t.name.clone(), t.name)),
                "None",
            )),
        ),
    ])
}

async fn role_policy_fields(
    s: &AppState,
    project: dispatch_core::ProjectId,
) -> ApiResult<Vec<Field>> {
    use Kind::{Number, Text};
    let f = Field::new;
    let named = |rows: Vec<(String, String)>| options(rows, "Any");
    Ok(vec![
        f(
            "role",
            "Role",
            fixed(&["incident_commander", "scribe", "liaison"], Some("")),
        ),
        f(
            "type",
            "Incident type",
            select(named(
                s.engine
                    .taxonomy()
                    .incident_types(project)
                    .await?
                    .into_iter()
                    .map(|t| (t.slug, t.name))
                    .collect(),
            )),
        ),
        f(
            "priority",
            "Priority",
            select(named(
                s.engine
                    .taxonomy()
                    .incident_priorities(project)
                    .await?
                    .into_iter()
                    .map(|t| (t.slug, t.name))
                    .collect(),
            )),
        ),
        f("tag", "Tag", Text).hint("any when empty"),
        f(
            "service_id",
            "The on-call of this service takes the role",
            Kind::Select {
                options: options(
                    s.engine
                        .directory()
                        .services(project)
                        .await?
                        .into_iter()
                        .map(|v| (v.id.to_string(), v.name)),
                    "No service",
                ),
                numeric: true,
            },
        ),
        f("email", "…or this person", Text),
        f("order", "Order (lowest wins)", Number),
    ])
}

async fn engagement_rule_fields(
    s: &AppState,
    project: dispatch_core::ProjectId,
) -> ApiResult<Vec<Field>> {
    use Kind::{Area, Check, Ids, List, Text};
    let f = Field::new;
    let listed = |rows: Vec<(i64, String)>| {
        let v: Vec<String> = rows
            .into_iter()
            .map(|(id, n)| format!("{id} = {n}"))
            .collect();
        if v.is_empty() {
            "none in this project yet".to_string()
        } else {
            format!("ids: {}", v.join(", "))
        }
    };
    let teams = listed(
        s.engine
            .directory()
            .teams(project)
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect(),
    );
    let services = listed(
        s.engine
            .directory()
            .services(project)
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect(),
    );
    Ok(vec![
        f("name", "Name", Text).required(),
        f("description", "Description", Area).clearable(),
        f("filter", "Filter", Text)
            .required()
            .from("filter_text")
            .hint(
            "which incidents, e.g. priority = high and tag:region = eu; \"all\" for every incident",
        ),
        f("individuals", "Individuals (observers)", List).hint("e-mail addresses, comma-separated"),
        f("teams", "Teams", Ids).hint(teams),
        f("services", "Services (their on-call joins)", Ids).hint(services),
        f("enabled", "Enabled", Check),
    ])
}

/// An on-call service, its provider offered from the registry.
fn service_fields(s: &AppState) -> Vec<Field> {
    use Kind::{Area, Check, Text};
    let f = Field::new;
    let (slugs, _) = s.engine.registry().available(Capability::Oncall);
    vec![
        f("name", "Name", Text).required(),
        f(
            "provider",
            "On-call provider",
            select(options(
                slugs.iter().map(|s| (s.to_string(), s.to_string())),
                "Built-in (dispatch)",
            )),
        ),
        f("external_id", "The provider's id for it", Text).clearable(),
        f("description", "Description", Area).clearable(),
        f("is_active", "Active", Check),
    ]
}

/// What a new record's form starts with.
pub fn starting(meta: &Meta) -> &'static [(&'static str, &'static str)] {
    match meta.slug {
        "projects" => &[("allow_self_join", "on")],
        "incident-types" | "incident-priorities" => &[("enabled", "on")],
        "incident-severities" => &[("enabled", "on"), ("allowed_for_stable", "on")],
        "engagement-rules" | "notification-rules" | "webhooks" => &[("enabled", "on")],
        "services" => &[("is_active", "on")],
        _ => &[],
    }
}

/// Creates a record through the API's handler; answers what it answered.
pub async fn create(
    s: &AppState,
    caller: &Caller,
    origin: Origin,
    meta: &Meta,
    scope: &Scope,
    mut b: Value,
) -> ApiResult<Value> {
    // A new record's empty fields are absent: the API's defaults apply.
    if let Value::Object(m) = &mut b {
        m.retain(|_, v| !v.is_null());
    }
    let st = || State(s.clone());
    let a = || caller.auth.clone();
    let p = || Path(scope.project.clone());
    Ok(match meta.slug {
        "projects" => out(projects::create(st(), a(), body(b)?).await?.1 .0),
        "incident-types" => out(types::create(st(), a(), p(), body(b)?).await?.1 .0),
        "incident-priorities" => out(priorities::create(st(), a(), p(), body(b)?).await?.1 .0),
        "incident-severities" => out(severities::create(st(), a(), p(), body(b)?).await?.1 .0),
        "tag-types" => out(tags::create_type(st(), a(), p(), body(b)?).await?.1 .0),
        "tags" => out(tags::create_tag(st(), a(), p(), body(b)?).await?.1 .0),
        "role-policies" => out(oncall::add_policy(st(), a(), p(), body(b)?).await?.1 .0),
        "engagement-rules" | "notification-rules" => {
            b["project"] = Value::from(scope.project.clone());
            if meta.slug == "engagement-rules" {
                out(rules::create_engagement(st(), a(), body(b)?).await?.1 .0)
            } else {
                out(rules::create_notification(st(), a(), body(b)?).await?.1 .0)
            }
        }
        "individuals" => out(individuals::create(st(), a(), body(b)?).await?.1 .0),
        "teams" => out(teams::create(st(), a(), p(), body(b)?).await?.1 .0),
        "services" => out(services::create(st(), a(), p(), body(b)?).await?.1 .0),
        "webhooks" => out(webhooks::create(st(), a(), body(b)?).await?.1 .0),
        "users" => out(
            account::create_user(st(), a(), RequestOrigin(origin), body(b)?)
                .await?
                .1
                 .0,
        ),
        other => return Err(ApiError::NotFound(format!("a form for new {other}"))),
    })
}

/// Changes a record through the API's handler.
pub async fn update(
    s: &AppState,
    caller: &Caller,
    origin: Origin,
    meta: &Meta,
    scope: &Scope,
    id: &str,
    b: Value,
) -> ApiResult<()> {
    let st = || State(s.clone());
    let a = || caller.auth.clone();
    let pid = || -> ApiResult<Path<(String, i64)>> {
        Ok(Path((scope.project.clone(), number(id, meta.slug)?)))
    };
    let n = || -> ApiResult<Path<i64>> { Ok(Path(number(id, meta.slug)?)) };
    match meta.slug {
        "projects" => drop(projects::update(st(), a(), Path(id.to_string()), body(b)?).await?),
        "incident-types" => drop(types::update(st(), a(), pid()?, body(b)?).await?),
        "incident-priorities" => drop(priorities::update(st(), a(), pid()?, body(b)?).await?),
        "incident-severities" => drop(severities::update(st(), a(), pid()?, body(b)?).await?),
        "engagement-rules" => drop(rules::update_engagement(st(), a(), n()?, body(b)?).await?),
        "notification-rules" => drop(rules::update_notification(st(), a(), n()?, body(b)?).await?),
        "individuals" => drop(individuals::update(st(), a(), n()?, body(b)?).await?),
        "teams" => drop(teams::update(st(), a(), n()?, body(b)?).await?),
        "services" => drop(services::update(st(), a(), n()?, body(b)?).await?),
        "rotations" => drop(oncall::set_rotation(st(), a(), n()?, body(b)?).await?),
        "webhooks" => drop(webhooks::update(st(), a(), n()?, body(b)?).await?),
        "users" => {
            drop(account::update_user(st(), a(), RequestOrigin(origin), n()?, body(b)?).await?)
        }
        other => return Err(ApiError::NotFound(format!("{other} {id}"))),
    }
    Ok(())
}

/// Deletes a record or retries a job through the API's handler.
pub async fn act(
    s: &AppState,
    caller: &Caller,
    meta: &Meta,
    id: &str,
    action: &str,
) -> ApiResult<()> {
    let st = || State(s.clone());
    let a = || caller.auth.clone();
    let n = Path(number(id, meta.slug)?);
    match (meta.slug, action) {
        ("role-policies", "delete") => drop(oncall::delete_policy(st(), a(), n).await?),
        ("engagement-rules", "delete") => drop(rules::delete_engagement(st(), a(), n).await?),
        ("notification-rules", "delete") => drop(rules::delete_notification(st(), a(), n).await?),
        ("teams", "delete") => drop(teams::delete(st(), a(), n).await?),
        ("services", "delete") => drop(services::delete(st(), a(), n).await?),
        ("webhooks", "delete") => drop(webhooks::delete(st(), a(), n).await?),
        ("jobs", "retry") => drop(jobs::retry(st(), a(), n).await?),
        (slug, action) => return Err(ApiError::NotFound(format!("{action} of {slug} {id}"))),
    }
    Ok(())
}
