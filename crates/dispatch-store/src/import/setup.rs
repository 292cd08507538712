//! Importing what the original's operators configured: projects, incident types, priorities and
//! severities (flags and colours), tag types and tags, individuals and teams, services; then
//! its rules ([`super::rules`]).

use super::{slugify, Ctx};
use crate::model::{
    incident_priority, incident_severity, incident_type, individual, project, service, tag,
    tag_type, team,
};
use crate::repo::rows::Keyed;
use crate::repo::{self, import_source, taxonomy};

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
    super::rules::notifications(ctx).await?;
    super::rules::engagement(ctx).await?;
    super::rules::role_policies(ctx).await?;
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
    // The projects that were here before the import took them over (source id → project).
    let existing = import_source::all(conn, &ctx.key, EXISTING_PROJECT).await?;
    for r in rows {
        let sid = r.int("id")?.unwrap_or_default();
        let name = r.text("name")?;
        let slug = slugify(&name);
        let (before, was_here) = match ctx.existing::<project::Model>("project", sid).await? {
            Some(p) => (Some(p), existing.contains_key(&sid.to_string())),
            None => {
                let found = repo::project::by_slug(conn, &slug).await?;
                let was_here = found.is_some();
                (found, was_here)
            }
        };
        if let (Some(p), true) = (&before, was_here) {
            import_source::record(
                conn,
                &ctx.key,
                EXISTING_PROJECT,
                &sid.to_string(),
                p.id,
                ctx.now,
            )
            .await?;
        }
        let display = r.opt("display_name")?.unwrap_or_else(|| name.clone());
        let after = match &before {
            Some(p) if was_here && !ctx.update_existing_projects => {
                let theirs = (display, r.text("description")?);
                if theirs != (p.name.clone(), p.description.clone()) {
                    ctx.skip(format!(
                        "project {slug}: it was here before the import, so it keeps its name \
                         {:?} and description (the original's: {:?}, {:?}; \
                         --update-existing-projects takes them)",
                        p.name, theirs.0, theirs.1
                    ));
                }
                p.clone()
            }
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

/// The mapping kind of source projects imported into a project that was here before.
const EXISTING_PROJECT: &str = "existing_project";

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
