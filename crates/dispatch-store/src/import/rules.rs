//! Importing the original's rules: notifications (their search filters become rule filters),
//! the search filters that engage contacts (engagement rules) and incident roles (role
//! policies).

use super::setup::project_of;
use super::Ctx;
use crate::model::{engagement_rule, individual, notification_rule, role_policy};
use crate::repo::{self, rules};
use dispatch_core::filter::{Comparison, Field, Filter, Op};
use std::collections::HashMap;

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

pub(crate) async fn notifications(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
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
pub(crate) async fn engagement(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
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
pub(crate) async fn role_policies(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
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
