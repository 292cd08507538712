//! Importing what the original's operators configured: projects, incident types, priorities and
//! severities (flags and colours), tag types and tags, individuals and teams, services,
//! notifications (their search filters become rule filters), the filters that engage contacts
//! (engagement rules) and incident roles (role policies).

use super::{slugify, Ctx};
use dispatch_core::filter::{Comparison, Field, Filter, Op};
use dispatch_store::model::{
    engagement_rule, incident_priority, incident_severity, incident_type, individual,
    notification_rule, project, role_policy, service, tag, tag_type, team,
};
use dispatch_store::repo::rows::Keyed;
use dispatch_store::repo::{self, rules, taxonomy};
use std::collections::HashMap;

/// Imports every configuration kind, in dependency order.
pub(crate) async fn run(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    projects(ctx).await?;
    types(ctx).await?;
    priorities(ctx).await?;
    severities(ctx).await?;
    tag_types(ctx).await?;
    tags(ctx).await?;
    individuals(ctx).await?;
    teams(ctx).await?;
    services(ctx).await?;
    notifications(ctx).await?;
    engagement(ctx).await?;
    role_policies(ctx).await?;
    Ok(())
}

/// The Dispatch project a source project became.
pub(crate) fn project_of(ctx: &Ctx<'_>, source_project: Option<i64>) -> anyhow::Result<i64> {
    source_project
        .and_then(|p| ctx.target("project", p))
        .ok_or_else(|| {
            anyhow::anyhow!("a source row names project {source_project:?}, which was not imported")
        })
}

async fn projects(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let rows = ctx
        .src
        .rows("SELECT id, name, display_name, description, \"default\", allow_self_join FROM {s}.project ORDER BY id")
        .await?;
    ctx.begin("project", rows.len() as i64).await?;
    let conn = ctx.conn();
    for r in rows {
        let sid = r.int("id")?.unwrap_or_default();
        let name = r.text("name")?;
        let slug = slugify(&name);
        let before = match ctx.existing::<project::Model>("project", sid).await? {
            Some(p) => Some(p),
            None => repo::project::by_slug(conn, &slug).await?,
        };
        let display = r.opt("display_name")?.unwrap_or_else(|| name.clone());
        let after = match &before {
            Some(p) => project::Model {
                name: display,
                description: r.text("description")?,
                allow_self_join: r.flag("allow_self_join", p.allow_self_join)?,
                ..p.clone()
            },
            None => project::Model {
                slug: slug.clone(),
                name: display,
                key_prefix: free_prefix(conn, &slug).await?,
                description: r.text("description")?,
                allow_self_join: r.flag("allow_self_join", true)?,
                created_at: ctx.now,
                ..repo::project::new_row()
            },
        };
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        ctx.mapped("project", sid, saved.id, outcome).await?;
    }
    Ok(())
}

/// A key prefix no project uses yet, from the slug (`SECURITY` → `SEC`, then `SEC2`, …).
async fn free_prefix(conn: &impl sea_orm::ConnectionTrait, slug: &str) -> anyhow::Result<String> {
    let base: String = slug
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(3)
        .collect::<String>()
        .to_ascii_uppercase();
    let base = if base.is_empty() { "IMP".into() } else { base };
    let taken: Vec<String> = repo::project::list(conn)
        .await?
        .into_iter()
        .map(|p| p.key_prefix)
        .collect();
    let mut candidate = base.clone();
    let mut n = 1;
    while taken.contains(&candidate) {
        n += 1;
        candidate = format!("{base}{n}");
    }
    Ok(candidate)
}

/// The slug a source taxonomy row takes: its own, or one made from its name.
fn slug_of(r: &super::source::Row) -> anyhow::Result<String> {
    Ok(match r.opt("slug")? {
        Some(s) => slugify(&s),
        None => slugify(&r.text("name")?),
    })
}

/// Finds the row a taxonomy entry updates: the mapped one, else the project's entry of that slug.
async fn taxonomy_before<T: taxonomy::Taxonomy + PartialEq + Keyed>(
    ctx: &Ctx<'_>,
    kind: &str,
    sid: i64,
    project_id: i64,
    slug: &str,
) -> anyhow::Result<Option<T>> {
    if let Some(found) = ctx.existing::<T>(kind, sid).await? {
        return Ok(Some(found));
    }
    Ok(taxonomy::list::<T>(ctx.conn(), project_id)
        .await?
        .into_iter()
        .find(|t| t.slug() == slug))
}

/// Saves a taxonomy entry, keeping one default per project.
async fn save_taxonomy<T: taxonomy::Taxonomy + PartialEq>(
    ctx: &mut Ctx<'_>,
    kind: &'static str,
    sid: i64,
    before: Option<T>,
    after: T,
) -> anyhow::Result<()> {
    let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
    if saved.is_default() {
        taxonomy::clear_default::<T>(ctx.conn(), saved.project_id(), saved.id()).await?;
    }
    ctx.mapped(kind, sid, saved.id(), outcome).await
}

async fn types(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let rows = ctx.src.rows("SELECT id, project_id, name, slug, description, visibility, \"default\", enabled, exclude_from_metrics, exclude_from_reminders, exclude_from_review FROM {s}.incident_type ORDER BY id").await?;
    ctx.begin("incident_type", rows.len() as i64).await?;
    for (i, r) in rows.iter().enumerate() {
        let sid = r.int("id")?.unwrap_or_default();
        let project_id = project_of(ctx, r.int("project_id")?)?;
        let slug = slug_of(r)?;
        let before: Option<incident_type::Model> =
            taxonomy_before(ctx, "incident_type", sid, project_id, &slug).await?;
        let base = before.clone().unwrap_or_else(|| incident_type::Model {
            project_id,
            slug,
            view_order: 100 + i as i32,
            created_at: ctx.now,
            ..Default::default()
        });
        let after = incident_type::Model {
            name: r.text("name")?,
            description: r.text("description")?,
            default_visibility: r
                .opt("visibility")?
                .map(|v| v.to_lowercase())
                .filter(|v| v == "restricted")
                .unwrap_or_else(|| "open".into()),
            is_default: r.flag("default", false)?,
            enabled: r.flag("enabled", true)?,
            exclude_from_metrics: r.flag("exclude_from_metrics", false)?,
            exclude_from_reminders: r.flag("exclude_from_reminders", false)?,
            exclude_from_review: r.flag("exclude_from_review", false)?,
            ..base
        };
        save_taxonomy(ctx, "incident_type", sid, before, after).await?;
    }
    Ok(())
}

async fn priorities(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let rows = ctx.src.rows("SELECT id, project_id, name, description, color, \"default\", enabled, page_commander, tactical_report_reminder, executive_report_reminder, view_order FROM {s}.incident_priority ORDER BY id").await?;
    ctx.begin("incident_priority", rows.len() as i64).await?;
    for r in &rows {
        let sid = r.int("id")?.unwrap_or_default();
        let project_id = project_of(ctx, r.int("project_id")?)?;
        let slug = slug_of(r)?;
        let before: Option<incident_priority::Model> =
            taxonomy_before(ctx, "incident_priority", sid, project_id, &slug).await?;
        let base = before.clone().unwrap_or_else(|| incident_priority::Model {
            project_id,
            slug,
            created_at: ctx.now,
            ..Default::default()
        });
        let hours = |v: Option<i64>| v.filter(|h| *h > 0).map(|h| h as i32);
        let after = incident_priority::Model {
            name: r.text("name")?,
            description: r.text("description")?,
            color: r.opt("color")?,
            is_default: r.flag("default", false)?,
            enabled: r.flag("enabled", true)?,
            page_commander: r.flag("page_commander", false)?,
            tactical_report_reminder_hours: hours(r.int("tactical_report_reminder")?),
            executive_report_reminder_hours: hours(r.int("executive_report_reminder")?),
            view_order: r.int("view_order")?.unwrap_or(base.view_order as i64) as i32,
            ..base
        };
        save_taxonomy(ctx, "incident_priority", sid, before, after).await?;
    }
    Ok(())
}

async fn severities(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let rows = ctx.src.rows("SELECT id, project_id, name, description, color, \"default\", enabled, allowed_for_stable_incidents, view_order FROM {s}.incident_severity ORDER BY id").await?;
    ctx.begin("incident_severity", rows.len() as i64).await?;
    for r in &rows {
        let sid = r.int("id")?.unwrap_or_default();
        let project_id = project_of(ctx, r.int("project_id")?)?;
        let slug = slug_of(r)?;
        let before: Option<incident_severity::Model> =
            taxonomy_before(ctx, "incident_severity", sid, project_id, &slug).await?;
        let base = before.clone().unwrap_or_else(|| incident_severity::Model {
            project_id,
            slug,
            created_at: ctx.now,
            ..Default::default()
        });
        let after = incident_severity::Model {
            name: r.text("name")?,
            description: r.text("description")?,
            color: r.opt("color")?,
            is_default: r.flag("default", false)?,
            enabled: r.flag("enabled", true)?,
            allowed_for_stable: r.flag("allowed_for_stable_incidents", true)?,
            view_order: r.int("view_order")?.unwrap_or(base.view_order as i64) as i32,
            ..base
        };
        save_taxonomy(ctx, "incident_severity", sid, before, after).await?;
    }
    Ok(())
}

async fn tag_types(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let rows = ctx.src.rows("SELECT id, project_id, name, description, exclusive, required FROM {s}.tag_type ORDER BY id").await?;
    ctx.begin("tag_type", rows.len() as i64).await?;
    for r in &rows {
        let sid = r.int("id")?.unwrap_or_default();
        let project_id = project_of(ctx, r.int("project_id")?)?;
        let name = r.text("name")?;
        let before = match ctx.existing::<tag_type::Model>("tag_type", sid).await? {
            Some(t) => Some(t),
            None => repo::tag::type_by_name(ctx.conn(), project_id, &name).await?,
        };
        let base = before.clone().unwrap_or_else(|| tag_type::Model {
            project_id,
            created_at: ctx.now,
            ..Default::default()
        });
        let after = tag_type::Model {
            name,
            description: r.text("description")?,
            exclusive: r.flag("exclusive", false)?,
            required: r.flag("required", false)?,
            ..base
        };
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        ctx.mapped("tag_type", sid, saved.id, outcome).await?;
    }
    Ok(())
}

async fn tags(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let rows = ctx
        .src
        .rows("SELECT id, project_id, tag_type_id, name, description FROM {s}.tag ORDER BY id")
        .await?;
    ctx.begin("tag", rows.len() as i64).await?;
    for r in &rows {
        let sid = r.int("id")?.unwrap_or_default();
        let project_id = project_of(ctx, r.int("project_id")?)?;
        let name = r.text("name")?;
        let before = match ctx.existing::<tag::Model>("tag", sid).await? {
            Some(t) => Some(t),
            None => repo::tag::by_names(ctx.conn(), project_id, std::slice::from_ref(&name))
                .await?
                .into_iter()
                .next(),
        };
        let base = before.clone().unwrap_or_else(|| tag::Model {
            project_id,
            created_at: ctx.now,
            ..Default::default()
        });
        let after = tag::Model {
            name,
            description: r.text("description")?,
            tag_type_id: r
                .int("tag_type_id")?
                .and_then(|t| ctx.target("tag_type", t)),
            ..base
        };
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        ctx.mapped("tag", sid, saved.id, outcome).await?;
    }
    Ok(())
}

async fn individuals(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let rows = ctx
        .src
        .rows("SELECT id, email, name, title, weblink FROM {s}.individual_contact ORDER BY id")
        .await?;
    ctx.begin("individual", rows.len() as i64).await?;
    for r in &rows {
        let sid = r.int("id")?.unwrap_or_default();
        let email = r.text("email")?.trim().to_lowercase();
        if email.is_empty() {
            ctx.skip(format!(
                "individual {sid}: no e-mail address (Dispatch knows people by e-mail)"
            ));
            continue;
        }
        let before = repo::individual::by_email(ctx.conn(), &email).await?;
        let base = before.clone().unwrap_or_else(|| individual::Model {
            email: email.clone(),
            created_at: ctx.now,
            ..Default::default()
        });
        let after = individual::Model {
            name: r.opt("name")?.unwrap_or_else(|| base.name.clone()),
            title: r.opt("title")?.or(base.title.clone()),
            weblink: r.opt("weblink")?.or(base.weblink.clone()),
            ..base
        };
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        ctx.mapped("individual", sid, saved.id, outcome).await?;
    }
    Ok(())
}

async fn teams(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let rows = ctx
        .src
        .rows("SELECT id, project_id, name, email, notes FROM {s}.team_contact ORDER BY id")
        .await?;
    ctx.begin("team", rows.len() as i64).await?;
    for r in &rows {
        let sid = r.int("id")?.unwrap_or_default();
        let project_id = project_of(ctx, r.int("project_id")?)?;
        let name = r.text("name")?;
        let before = match ctx.existing::<team::Model>("team", sid).await? {
            Some(t) => Some(t),
            None => repo::directory::teams(ctx.conn(), project_id)
                .await?
                .into_iter()
                .find(|t| t.name == name),
        };
        let base = before.clone().unwrap_or_else(|| team::Model {
            project_id,
            created_at: ctx.now,
            ..Default::default()
        });
        let after = team::Model {
            name,
            email: r.opt("email")?.map(|e| e.to_lowercase()),
            description: r.text("notes")?,
            ..base
        };
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        ctx.mapped("team", sid, saved.id, outcome).await?;
    }
    Ok(())
}

async fn services(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let rows = ctx
        .src
        .rows("SELECT id, project_id, name, type, external_id, description, is_active FROM {s}.service ORDER BY id")
        .await?;
    ctx.begin("service", rows.len() as i64).await?;
    for r in &rows {
        let sid = r.int("id")?.unwrap_or_default();
        let project_id = project_of(ctx, r.int("project_id")?)?;
        let name = r.text("name")?;
        let before = match ctx.existing::<service::Model>("service", sid).await? {
            Some(s) => Some(s),
            None => repo::directory::services(ctx.conn(), project_id)
                .await?
                .into_iter()
                .find(|s| s.name == name),
        };
        let base = before.clone().unwrap_or_else(|| service::Model {
            project_id,
            created_at: ctx.now,
            ..Default::default()
        });
        let after = service::Model {
            name,
            provider: oncall_provider(&r.text("type")?),
            external_id: r.opt("external_id")?,
            description: r.text("description")?,
            is_active: r.flag("is_active", true)?,
            ..base
        };
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        ctx.mapped("service", sid, saved.id, outcome).await?;
    }
    Ok(())
}

/// The on-call provider of a source service type (`pagerduty-oncall` → `pagerduty`).
fn oncall_provider(kind: &str) -> String {
    let k = kind.to_lowercase();
    if k.contains("pagerduty") {
        "pagerduty".into()
    } else if k.contains("opsgenie") {
        "opsgenie".into()
    } else {
        "dispatch".into()
    }
}

/// The source's search filters as Dispatch filters, by source id; the ones that do not
/// translate carry the reason.
async fn search_filters(
    ctx: &Ctx<'_>,
) -> anyhow::Result<HashMap<i64, (String, Result<Filter, String>)>> {
    let names = |sql: &'static str| async move {
        let mut m = HashMap::new();
        for r in ctx.src.rows(sql).await? {
            m.insert(r.int("id")?.unwrap_or_default(), r.text("name")?);
        }
        anyhow::Ok(m)
    };
    let lookups: HashMap<&str, HashMap<i64, String>> = HashMap::from([
        (
            "IncidentType",
            names("SELECT id, name FROM {s}.incident_type").await?,
        ),
        (
            "IncidentPriority",
            names("SELECT id, name FROM {s}.incident_priority").await?,
        ),
        (
            "IncidentSeverity",
            names("SELECT id, name FROM {s}.incident_severity").await?,
        ),
        ("Tag", names("SELECT id, name FROM {s}.tag").await?),
        ("TagType", names("SELECT id, name FROM {s}.tag_type").await?),
        ("Project", names("SELECT id, name FROM {s}.project").await?),
    ]);
    let mut out = HashMap::new();
    for r in ctx
        .src
        .rows("SELECT id, name, subject, expression::text AS expression FROM {s}.search_filter ORDER BY id")
        .await?
    {
        let id = r.int("id")?.unwrap_or_default();
        let subject = r.opt("subject")?.unwrap_or_else(|| "incident".into());
        let parsed = if subject != "incident" {
            Err(format!("it filters {subject}s, and Dispatch's rules filter incidents"))
        } else {
            serde_json::from_str::<serde_json::Value>(&r.text("expression")?)
                .map_err(|e| format!("its expression does not read: {e}"))
                .and_then(|v| translate(&v, &lookups))
        };
        out.insert(id, (r.text("name")?, parsed));
    }
    Ok(out)
}

/// One search-filter expression (a list of `and`/`or` groups of `{model, field, op, value}`)
/// as a filter.
fn translate(
    v: &serde_json::Value,
    names: &HashMap<&str, HashMap<i64, String>>,
) -> Result<Filter, String> {
    use serde_json::Value;
    match v {
        Value::Array(items) => Ok(Filter::And(
            items
                .iter()
                .map(|i| translate(i, names))
                .collect::<Result<_, _>>()?,
        )),
        Value::Object(o) if o.contains_key("or") => Ok(Filter::Or(
            o["or"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|i| translate(i, names))
                .collect::<Result<_, _>>()?,
        )),
        Value::Object(o) if o.contains_key("and") => Ok(Filter::And(
            o["and"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|i| translate(i, names))
                .collect::<Result<_, _>>()?,
        )),
        Value::Object(o) => {
            let model = o.get("model").and_then(Value::as_str).unwrap_or_default();
            let field = match model {
                "IncidentType" => Field::Type,
                "IncidentPriority" => Field::Priority,
                "IncidentSeverity" => Field::Severity,
                "Tag" => Field::Tag(None),
                "TagType" => Field::TagType,
                "Project" => Field::Project,
                other => {
                    return Err(format!(
                        "it compares {other:?}, which Dispatch's filters do not know"
                    ))
                }
            };
            let by = o.get("field").and_then(Value::as_str).unwrap_or("name");
            let value = |x: &Value| -> Result<String, String> {
                match (by, x) {
                    ("id", Value::Number(n)) => n
                        .as_i64()
                        .and_then(|id| names.get(model).and_then(|m| m.get(&id)).cloned())
                        .ok_or_else(|| format!("it names {model} {n}, which is not in the source")),
                    ("name" | "slug", Value::String(s)) => Ok(s.clone()),
                    _ => Err(format!(
                        "it compares {model}.{by}, which Dispatch's filters do not know"
                    )),
                }
            };
            let raw = o.get("value").cloned().unwrap_or(Value::Null);
            let (op, values) = match o.get("op").and_then(Value::as_str).unwrap_or("==") {
                "==" | "eq" => (Op::Eq, vec![value(&raw)?]),
                "!=" | "ne" => (Op::Ne, vec![value(&raw)?]),
                "in" => (
                    Op::In,
                    raw.as_array()
                        .into_iter()
                        .flatten()
                        .map(value)
                        .collect::<Result<_, _>>()?,
                ),
                other => return Err(format!("it uses the operator {other:?}")),
            };
            Comparison::new(field, op, values).map(Filter::Cmp)
        }
        _ => Err("its expression is not a list of conditions".into()),
    }
}

/// The filter of a rule made of several search filters (any of them matches).
fn combined(parts: Vec<Filter>) -> Filter {
    match parts.len() {
        0 => Filter::all(),
        1 => parts.into_iter().next().expect("one").normalized(),
        _ => Filter::Or(parts).normalized(),
    }
}

async fn notifications(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let filters = search_filters(ctx).await?;
    let links = ctx
        .src
        .rows("SELECT notification_id, search_filter_id FROM {s}.assoc_notification_filters")
        .await?;
    let rows = ctx.src.rows("SELECT id, project_id, name, description, type, target, enabled FROM {s}.notification ORDER BY id").await?;
    ctx.begin("notification", rows.len() as i64).await?;
    'rows: for r in &rows {
        let sid = r.int("id")?.unwrap_or_default();
        let project_id = project_of(ctx, r.int("project_id")?)?;
        let name = r.text("name")?;
        let target_kind = match r.text("type")?.to_lowercase().as_str() {
            "email" => "email",
            "conversation" => "conversation",
            "webhook" => "webhook",
            other => {
                ctx.skip(format!(
                    "notification {name:?}: its type {other:?} has no Dispatch counterpart"
                ));
                continue;
            }
        };
        let mut parts = vec![];
        for l in &links {
            if l.int("notification_id")? != Some(sid) {
                continue;
            }
            let fid = l.int("search_filter_id")?.unwrap_or_default();
            match filters.get(&fid) {
                Some((_, Ok(f))) => parts.push(f.clone()),
                Some((fname, Err(why))) => {
                    ctx.skip(format!("notification {name:?}: its search filter {fname:?} does not translate: {why}"));
                    continue 'rows;
                }
                None => {}
            }
        }
        let before = match ctx
            .existing::<notification_rule::Model>("notification", sid)
            .await?
        {
            Some(n) => Some(n),
            None => rules::list::<notification_rule::Model>(ctx.conn(), Some(project_id))
                .await?
                .into_iter()
                .find(|n| n.name == name),
        };
        let base = before.clone().unwrap_or_else(|| notification_rule::Model {
            project_id,
            created_at: ctx.now,
            updated_at: ctx.now,
            ..Default::default()
        });
        let mut after = notification_rule::Model {
            name,
            description: r.text("description")?,
            filter: combined(parts).to_json().to_string(),
            target_kind: target_kind.into(),
            target: r.text("target")?,
            enabled: r.flag("enabled", true)?,
            ..base
        };
        if before.as_ref().is_some_and(|b| *b != after) {
            after.updated_at = ctx.now;
        }
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        ctx.mapped("notification", sid, saved.id, outcome).await?;
    }
    Ok(())
}

/// Whom a search filter engages: e-mails, team ids and service ids.
type Engaged = (Vec<String>, Vec<i64>, Vec<i64>);

/// The search filters that engage contacts become engagement rules: one per filter, engaging
/// the individuals, teams and services that name it.
async fn engagement(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let filters = search_filters(ctx).await?;
    let mut engaged: HashMap<i64, Engaged> = HashMap::new();
    let assoc = [
        (
            "assoc_individual_contact_filters",
            "individual_contact_id",
            0,
        ),
        ("assoc_team_contact_filters", "team_contact_id", 1),
        ("assoc_service_filters", "service_id", 2),
    ];
    for (table, col, which) in assoc {
        if !ctx.src.has_table(table).await? {
            continue;
        }
        for l in ctx
            .src
            .rows(&format!(
                "SELECT {col} AS who, search_filter_id FROM {{s}}.{table}"
            ))
            .await?
        {
            let fid = l.int("search_filter_id")?.unwrap_or_default();
            let who = l.int("who")?.unwrap_or_default();
            let e = engaged.entry(fid).or_default();
            match which {
                0 => {
                    if let Some(id) = ctx.target("individual", who) {
                        let p: individual::Model = repo::individual::get(ctx.conn(), id).await?;
                        e.0.push(p.email);
                    }
                }
                1 => e.1.extend(ctx.target("team", who)),
                _ => e.2.extend(ctx.target("service", who)),
            }
        }
    }
    let mut ids: Vec<i64> = engaged.keys().copied().collect();
    ids.sort();
    ctx.begin("engagement_filter", ids.len() as i64).await?;
    let projects = ctx
        .src
        .rows("SELECT id, project_id FROM {s}.search_filter")
        .await?;
    for fid in ids {
        let Some((name, parsed)) = filters.get(&fid) else {
            continue;
        };
        let filter = match parsed {
            Ok(f) => f.clone().normalized(),
            Err(why) => {
                ctx.skip(format!("search filter {name:?} (engages contacts): {why}"));
                continue;
            }
        };
        let source_project = projects
            .iter()
            .find(|p| p.int("id").ok().flatten() == Some(fid))
            .and_then(|p| p.int("project_id").ok().flatten());
        let project_id = project_of(ctx, source_project)?;
        let (mut people, mut team_ids, mut service_ids) = engaged.remove(&fid).unwrap_or_default();
        people.sort();
        people.dedup();
        team_ids.sort();
        team_ids.dedup();
        service_ids.sort();
        service_ids.dedup();
        let before = match ctx
            .existing::<engagement_rule::Model>("engagement_filter", fid)
            .await?
        {
            Some(e) => Some(e),
            None => rules::list::<engagement_rule::Model>(ctx.conn(), Some(project_id))
                .await?
                .into_iter()
                .find(|e| e.name == *name),
        };
        let base = before.clone().unwrap_or_else(|| engagement_rule::Model {
            project_id,
            documents: "[]".into(),
            enabled: true,
            created_at: ctx.now,
            updated_at: ctx.now,
            ..Default::default()
        });
        let mut after = engagement_rule::Model {
            name: name.clone(),
            filter: filter.to_json().to_string(),
            individuals: serde_json::to_string(&people)?,
            teams: serde_json::to_string(&team_ids)?,
            services: serde_json::to_string(&service_ids)?,
            ..base
        };
        if before.as_ref().is_some_and(|b| *b != after) {
            after.updated_at = ctx.now;
        }
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        ctx.mapped("engagement_filter", fid, saved.id, outcome)
            .await?;
    }
    Ok(())
}

/// Incident roles (who takes a role for which types, priorities and tags) become role policies,
/// one per combination.
async fn role_policies(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    if !ctx.src.has_table("incident_role").await? {
        return Ok(());
    }
    let rows = ctx.src.rows("SELECT id, project_id, role, enabled, \"order\" AS view_order, service_id, individual_id FROM {s}.incident_role ORDER BY id").await?;
    ctx.begin("incident_role", rows.len() as i64).await?;
    let src = ctx.src;
    let link = |table: &'static str, col: &'static str| async move {
        let mut m: HashMap<i64, i64> = HashMap::new();
        if src.has_table(table).await? {
            for l in src
                .rows(&format!(
                    "SELECT incident_role_id, {col} AS v FROM {{s}}.{table}"
                ))
                .await?
            {
                m.insert(
                    l.int("incident_role_id")?.unwrap_or_default(),
                    l.int("v")?.unwrap_or_default(),
                );
            }
        }
        anyhow::Ok(m)
    };
    let by_type = link("incident_role_incident_type", "incident_type_id").await?;
    let by_priority = link("incident_role_incident_priority", "incident_priority_id").await?;
    let by_tag = link("incident_role_tag", "tag_id").await?;
    for r in &rows {
        let sid = r.int("id")?.unwrap_or_default();
        let project_id = project_of(ctx, r.int("project_id")?)?;
        let role = match r.text("role")?.as_str() {
            "Incident Commander" | "incident_commander" => "incident_commander",
            "Liaison" | "liaison" => "liaison",
            "Scribe" | "scribe" => "scribe",
            other => {
                ctx.skip(format!(
                    "incident role {sid}: role {other:?} has no role policy in Dispatch"
                ));
                continue;
            }
        };
        let email = match r
            .int("individual_id")?
            .and_then(|i| ctx.target("individual", i))
        {
            Some(id) => Some(repo::individual::get(ctx.conn(), id).await?.email),
            None => None,
        };
        let before = ctx
            .existing::<role_policy::Model>("incident_role", sid)
            .await?;
        let base = before.clone().unwrap_or_else(|| role_policy::Model {
            project_id,
            created_at: ctx.now,
            ..Default::default()
        });
        let after = role_policy::Model {
            role: role.into(),
            type_id: by_type
                .get(&sid)
                .and_then(|t| ctx.target("incident_type", *t)),
            priority_id: by_priority
                .get(&sid)
                .and_then(|t| ctx.target("incident_priority", *t)),
            tag_id: by_tag.get(&sid).and_then(|t| ctx.target("tag", *t)),
            service_id: r.int("service_id")?.and_then(|s| ctx.target("service", s)),
            email,
            view_order: r.int("view_order")?.unwrap_or(0) as i32,
            enabled: r.flag("enabled", true)?,
            ..base
        };
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        ctx.mapped("incident_role", sid, saved.id, outcome).await?;
    }
    Ok(())
}
