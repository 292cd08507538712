//! Importing the original's signals and cases: its signal definitions (a Netflix signal names
//! its alerts by `externalId` or `variant`, so it becomes a generic-source definition matching
//! that top-level field), its signal filters (where their expression translates into label and
//! entity matchers), and its cases with their timelines.
//!
//! Dispatch's cases have no taxonomy of their own: they use the project's incident types,
//! priorities and severities (what they escalate with). A case type becomes the incident type
//! it escalates to (else the one of its slug); a case priority or severity, the incident one of
//! its slug. What has no counterpart is left off the case, and said.

use super::setup::project_of;
use super::{slugify, Ctx};
use crate::model::{case, case_event, incident_priority, incident_severity, incident_type};
use crate::model::{signal_definition, signal_filter};
use crate::repo::{self, taxonomy};
use dispatch_core::signal::{
    EntityType, Extractor, FieldMap, LabelMatcher, Matchers, Op, DEFAULT_DEDUP_WINDOW,
};
use std::collections::{BTreeMap, HashMap};

/// The incident taxonomy slug each case taxonomy entry (source id) takes, if any.
#[derive(Default)]
struct CaseTaxonomy {
    types: HashMap<i64, Option<String>>,
    /// A case type's on-call service (a Dispatch service id) and conversation target.
    type_routing: HashMap<i64, (Option<i64>, Option<String>)>,
    priorities: HashMap<i64, Option<String>>,
    severities: HashMap<i64, Option<String>>,
}

/// Imports signal definitions and filters, then cases and their timelines.
pub(crate) async fn run(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let tax = case_taxonomy(ctx).await?;
    let counts = [
        (ctx.src.count("case_type").await?, "case types"),
        (ctx.src.count("case_priority").await?, "case priorities"),
        (ctx.src.count("case_severity").await?, "case severities"),
    ];
    if counts.iter().any(|(n, _)| *n > 0) {
        let listed: Vec<String> = counts
            .iter()
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        ctx.skip(format!(
            "{} as tables of their own: Dispatch's cases and signals use the project's incident \
             types, priorities and severities, each taking the entry of its name (a case type, \
             the incident type it escalates to)",
            listed.join(", ")
        ));
    }
    let matchers = definitions(ctx, &tax).await?;
    filters(ctx, &matchers).await?;
    cases(ctx, &tax).await?;
    case_events(ctx).await?;
    let instances = ctx.src.count("signal_instance").await?;
    if instances > 0 {
        ctx.skip(format!(
            "{instances} signal instances: the alerts already received are history of the \
             original; new ones arrive at the imported definitions"
        ));
    }
    for (table, what) in [
        (
            "signal_engagement",
            "signal engagements (asking a user to confirm an alert)",
        ),
        ("assoc_signal_workflows", "workflows run by signals"),
    ] {
        let n = ctx.src.count(table).await?;
        if n > 0 {
            ctx.skip(format!("{n} {what}: Dispatch has no counterpart"));
        }
    }
    Ok(())
}

/// The slug of the project's taxonomy entry `T` named like `name`, if the project has one.
async fn slug_in<T: taxonomy::Taxonomy>(
    ctx: &Ctx<'_>,
    project_id: i64,
    name: &str,
) -> anyhow::Result<Option<String>> {
    let slug = slugify(name);
    Ok(taxonomy::list::<T>(ctx.conn(), project_id)
        .await?
        .iter()
        .find(|t| t.slug() == slug)
        .map(|t| t.slug().to_string()))
}

async fn case_taxonomy(ctx: &mut Ctx<'_>) -> anyhow::Result<CaseTaxonomy> {
    let mut tax = CaseTaxonomy::default();
    if ctx.src.has_table("case_type").await? {
        for r in ctx
            .src
            .rows("SELECT id, project_id, name, incident_type_id, oncall_service_id, conversation_target FROM {s}.case_type ORDER BY id")
            .await?
        {
            let sid = r.int("id")?.unwrap_or_default();
            let name = r.text("name")?;
            let project_id = project_of(ctx, r.int("project_id")?)?;
            let escalates_to = match r
                .int("incident_type_id")?
                .and_then(|t| ctx.target("incident_type", t))
            {
                Some(id) => crate::repo::rows::find::<incident_type::Model>(ctx.conn(), id)
                    .await?
                    .map(|t| t.slug),
                None => None,
            };
            let slug = match escalates_to {
                Some(s) => Some(s),
                None => slug_in::<incident_type::Model>(ctx, project_id, &name).await?,
            };
            if slug.is_none() {
                ctx.skip(format!(
                    "case type {name:?}: no incident type to escalate to, nor one of its name; \
                     its cases and signals take the project's default type"
                ));
            }
            tax.types.insert(sid, slug);
            let service = r
                .int("oncall_service_id")?
                .and_then(|s| ctx.target("service", s));
            tax.type_routing
                .insert(sid, (service, r.opt("conversation_target")?));
        }
    }
    for (table, kind) in [("case_priority", "priority"), ("case_severity", "severity")] {
        if !ctx.src.has_table(table).await? {
            continue;
        }
        for r in ctx
            .src
            .rows(&format!(
                "SELECT id, project_id, name FROM {{s}}.{table} ORDER BY id"
            ))
            .await?
        {
            let sid = r.int("id")?.unwrap_or_default();
            let name = r.text("name")?;
            let project_id = project_of(ctx, r.int("project_id")?)?;
            let slug = if kind == "priority" {
                slug_in::<incident_priority::Model>(ctx, project_id, &name).await?
            } else {
                slug_in::<incident_severity::Model>(ctx, project_id, &name).await?
            };
            if slug.is_none() {
                ctx.skip(format!(
                    "case {kind} {name:?}: the project has no incident {kind} of that name \
                     (Dispatch's cases use the incident taxonomy); its cases and signals take none"
                ));
            }
            if kind == "priority" {
                tax.priorities.insert(sid, slug);
            } else {
                tax.severities.insert(sid, slug);
            }
        }
    }
    Ok(tax)
}

/// A matcher `label="value"`.
fn equals(label: &str, value: &str) -> anyhow::Result<LabelMatcher> {
    LabelMatcher::new("matcher", label, Op::Eq, value).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Source signal id → the matcher its definition was given (for the filters linked to it).
type DefinitionMatchers = HashMap<i64, Matchers>;

async fn definitions(ctx: &mut Ctx<'_>, tax: &CaseTaxonomy) -> anyhow::Result<DefinitionMatchers> {
    let mut out = HashMap::new();
    if !ctx.src.has_table("signal").await? {
        return Ok(out);
    }
    let rows = ctx
        .src
        .rows("SELECT id, project_id, name, owner, description, external_url, external_id, variant, runbook, case_type_id, case_priority_id, oncall_service_id, conversation_target, enabled, create_case FROM {s}.signal ORDER BY id")
        .await?;
    ctx.begin("signal_definition", rows.len() as i64).await?;
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    for r in ctx
        .src
        .rows("SELECT a.signal_id, t.name FROM {s}.assoc_signal_tags a JOIN {s}.tag t ON t.id = a.tag_id ORDER BY t.name")
        .await?
    {
        tags.entry(r.int("signal_id")?.unwrap_or_default())
            .or_default()
            .push(r.text("name")?);
    }
    let mut entity_types: HashMap<i64, Vec<EntityType>> = HashMap::new();
    for r in ctx
        .src
        .rows("SELECT a.signal_id, e.name, e.jpath, e.regular_expression FROM {s}.assoc_signal_entity_types a JOIN {s}.entity_type e ON e.id = a.entity_type_id ORDER BY e.name")
        .await?
    {
        let t = EntityType {
            name: r.text("name")?,
            label: None,
            path: r.opt("jpath")?,
            regex: r.opt("regular_expression")?,
        };
        if t.path.is_some() == t.regex.is_some() || Extractor::new("entity_types", &t).is_err() {
            ctx.skip(format!(
                "entity type {:?}: it needs exactly one of a JSON path or a regular expression \
                 that Dispatch can read",
                t.name
            ));
            continue;
        }
        entity_types
            .entry(r.int("signal_id")?.unwrap_or_default())
            .or_default()
            .push(t);
    }
    for r in &rows {
        let sid = r.int("id")?.unwrap_or_default();
        let name = r.text("name")?;
        let project_id = project_of(ctx, r.int("project_id")?)?;
        // The original finds an alert's signal by the alert's `externalId`, else its `variant`.
        let matcher = match (r.opt("external_id")?, r.opt("variant")?) {
            (Some(id), _) => Matchers(vec![equals("externalId", &id)?]),
            (None, Some(v)) => Matchers(vec![equals("variant", &v)?]),
            (None, None) => {
                ctx.skip(format!(
                    "signal {name:?}: it has neither an external id nor a variant, so no alert \
                     could name it"
                ));
                continue;
            }
        };
        let before = match ctx
            .existing::<signal_definition::Model>("signal_definition", sid)
            .await?
        {
            Some(d) => Some(d),
            None => repo::signal::definitions(ctx.conn(), project_id)
                .await?
                .into_iter()
                .find(|d| d.name == name),
        };
        let base = before.clone().unwrap_or_else(|| signal_definition::Model {
            project_id,
            dedup_window_seconds: DEFAULT_DEDUP_WINDOW,
            created_at: ctx.now,
            updated_at: ctx.now,
            ..Default::default()
        });
        let case_type = r.int("case_type_id")?;
        let (type_service, type_target) = case_type
            .and_then(|t| tax.type_routing.get(&t).cloned())
            .unwrap_or_default();
        let url = |s: Option<String>| s.filter(|u| u.starts_with("http"));
        let fields = FieldMap {
            labels: Some("$".into()),
            ..Default::default()
        };
        let after = signal_definition::Model {
            name,
            description: r.text("description")?,
            owner: r.text("owner")?,
            runbook_url: url(r.opt("runbook")?).or(url(r.opt("external_url")?)),
            source: "generic".into(),
            matcher: matcher.to_string(),
            enabled: r.flag("enabled", false)?,
            create_case: r.flag("create_case", true)?,
            case_type: case_type.and_then(|t| tax.types.get(&t).cloned().flatten()),
            case_priority: r
                .int("case_priority_id")?
                .and_then(|p| tax.priorities.get(&p).cloned().flatten()),
            case_severity: base.case_severity.clone(),
            service_id: r
                .int("oncall_service_id")?
                .and_then(|s| ctx.target("service", s))
                .or(type_service),
            conversation_target: r.opt("conversation_target")?.or(type_target),
            tags: serde_json::to_string(tags.get(&sid).unwrap_or(&Vec::new()))?,
            entity_types: serde_json::to_string(entity_types.get(&sid).unwrap_or(&Vec::new()))?,
            fields: serde_json::to_string(&fields)?,
            ..base.clone()
        };
        let after = if before.as_ref().is_some_and(|b| {
            signal_definition::Model {
                updated_at: b.updated_at,
                ..after.clone()
            } == *b
        }) {
            before.clone().expect("checked")
        } else {
            signal_definition::Model {
                updated_at: ctx.now,
                ..after
            }
        };
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        ctx.mapped("signal_definition", sid, saved.id, outcome)
            .await?;
        out.insert(sid, matcher);
    }
    Ok(out)
}

/// One signal-filter expression (a list of groups `{"or": [{model, field, op, value}]}`) as
/// matchers: every group must hold one equality on an entity or an entity type.
fn filter_matchers(
    v: &serde_json::Value,
    entities: &HashMap<i64, (String, String)>,
    entity_types: &HashMap<i64, String>,
) -> Result<Vec<LabelMatcher>, String> {
    use serde_json::Value;
    let mut out = Vec::new();
    let groups = match v {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    for g in groups {
        let terms: Vec<Value> = match g.get("or").or_else(|| g.get("and")) {
            Some(Value::Array(t)) => t.clone(),
            _ => vec![g.clone()],
        };
        if terms.len() != 1 {
            return Err(format!(
                "a group of {} alternatives (Dispatch's matchers must all hold)",
                terms.len()
            ));
        }
        let t = &terms[0];
        let (model, field, op) = (
            t["model"].as_str().unwrap_or_default(),
            t["field"].as_str().unwrap_or_default(),
            t["op"].as_str().unwrap_or("=="),
        );
        if op != "==" && op != "eq" {
            return Err(format!("the operator {op:?}"));
        }
        let id = t["value"].as_i64();
        let bad = || format!("the term {t}");
        let m = match (model, field) {
            ("Entity", "id") => {
                let (ty, value) = id.and_then(|i| entities.get(&i)).ok_or_else(bad)?;
                LabelMatcher::new("expression", ty, Op::Eq, value)
            }
            ("EntityType", "id") => {
                let ty = id.and_then(|i| entity_types.get(&i)).ok_or_else(bad)?;
                LabelMatcher::new("expression", ty, Op::Re, ".+")
            }
            ("EntityType", "name") => LabelMatcher::new(
                "expression",
                t["value"].as_str().ok_or_else(bad)?,
                Op::Re,
                ".+",
            ),
            _ => return Err(bad()),
        };
        out.push(m.map_err(|e| e.to_string())?);
    }
    if out.is_empty() {
        return Err("an empty expression".into());
    }
    Ok(out)
}

async fn filters(ctx: &mut Ctx<'_>, definitions: &DefinitionMatchers) -> anyhow::Result<()> {
    if !ctx.src.has_table("signal_filter").await? {
        return Ok(());
    }
    let rows = ctx
        .src
        .rows("SELECT id, project_id, name, description, expression::text AS expression, mode, action, expiration, \"window\" FROM {s}.signal_filter ORDER BY id")
        .await?;
    ctx.begin("signal_filter", rows.len() as i64).await?;
    let mut entity_types = HashMap::new();
    for r in ctx.src.rows("SELECT id, name FROM {s}.entity_type").await? {
        entity_types.insert(r.int("id")?.unwrap_or_default(), r.text("name")?);
    }
    let mut entities = HashMap::new();
    for r in ctx
        .src
        .rows("SELECT e.id, t.name, e.value FROM {s}.entity e JOIN {s}.entity_type t ON t.id = e.entity_type_id")
        .await?
    {
        entities.insert(
            r.int("id")?.unwrap_or_default(),
            (r.text("name")?, r.text("value")?),
        );
    }
    let mut linked: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for r in ctx
        .src
        .rows("SELECT signal_id, signal_filter_id FROM {s}.assoc_signal_filters ORDER BY signal_id")
        .await?
    {
        linked
            .entry(r.int("signal_filter_id")?.unwrap_or_default())
            .or_default()
            .push(r.int("signal_id")?.unwrap_or_default());
    }
    for r in &rows {
        let sid = r.int("id")?.unwrap_or_default();
        let name = r.text("name")?;
        let project_id = project_of(ctx, r.int("project_id")?)?;
        let kind = r.opt("action")?.unwrap_or_default().to_lowercase();
        if kind != "snooze" && kind != "deduplicate" {
            ctx.skip(format!(
                "signal filter {name:?}: its action {kind:?} does nothing (Dispatch's filters \
                 snooze or deduplicate)"
            ));
            continue;
        }
        let parsed = serde_json::from_str::<serde_json::Value>(&r.text("expression")?)
            .map_err(|e| format!("its expression does not read: {e}"))
            .and_then(|v| filter_matchers(&v, &entities, &entity_types));
        let mut matchers = match parsed {
            Ok(m) => m,
            Err(why) => {
                ctx.skip(format!(
                    "signal filter {name:?}: {why} has no counterpart in Dispatch's matchers"
                ));
                continue;
            }
        };
        // The original applies a filter to the signals it is linked with; here a filter acts
        // on the whole project, so one linked signal's matcher narrows it to that signal.
        match linked.get(&sid).map(Vec::as_slice).unwrap_or_default() {
            [one] => {
                if let Some(m) = definitions.get(one) {
                    matchers.splice(0..0, m.0.iter().cloned());
                }
            }
            [] => {}
            many => ctx.skip(format!(
                "signal filter {name:?}: linked with {} signals, it acts on every signal of \
                 its project here",
                many.len()
            )),
        }
        let mode = r.opt("mode")?.unwrap_or_default().to_lowercase();
        let before = match ctx
            .existing::<signal_filter::Model>("signal_filter", sid)
            .await?
        {
            Some(f) => Some(f),
            None => repo::signal::filters(ctx.conn(), Some(project_id))
                .await?
                .into_iter()
                .find(|f| f.name == name),
        };
        let base = before.clone().unwrap_or_else(|| signal_filter::Model {
            project_id,
            created_at: ctx.now,
            updated_at: ctx.now,
            ..Default::default()
        });
        let after = signal_filter::Model {
            name,
            description: r.text("description")?,
            kind,
            expression: Matchers(matchers).to_string(),
            // An expired filter is kept as inactive, with its expiry.
            mode: if matches!(mode.as_str(), "active" | "monitor") {
                mode
            } else {
                "inactive".into()
            },
            expires_at: r.at("expiration")?,
            window_seconds: r.int("window")?.unwrap_or(DEFAULT_DEDUP_WINDOW),
            ..base
        };
        let after = match &before {
            Some(b)
                if signal_filter::Model {
                    updated_at: b.updated_at,
                    ..after.clone()
                } == *b =>
            {
                b.clone()
            }
            _ => signal_filter::Model {
                updated_at: ctx.now,
                ..after
            },
        };
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        ctx.mapped("signal_filter", sid, saved.id, outcome).await?;
    }
    Ok(())
}

async fn cases(ctx: &mut Ctx<'_>, tax: &CaseTaxonomy) -> anyhow::Result<()> {
    if !ctx.src.has_table("case").await? {
        return Ok(());
    }
    let rows = ctx
        .src
        .rows("SELECT id, project_id, name, title, description, resolution, resolution_reason, status, case_type_id, case_priority_id, case_severity_id, assignee_id, reporter_id, reported_at, triage_at, escalated_at, closed_at, created_at, updated_at FROM {s}.\"case\" ORDER BY id")
        .await?;
    ctx.begin("case", rows.len() as i64).await?;
    let mut emails: HashMap<i64, String> = HashMap::new();
    for r in ctx
        .src
        .rows("SELECT p.id, i.email FROM {s}.participant p JOIN {s}.individual_contact i ON i.id = p.individual_contact_id WHERE p.case_id IS NOT NULL")
        .await?
    {
        if let Some(e) = r.opt("email")? {
            emails.insert(r.int("id")?.unwrap_or_default(), e.to_lowercase());
        }
    }
    let mut incidents: HashMap<i64, i64> = HashMap::new();
    for r in ctx
        .src
        .rows("SELECT case_id, min(incident_id) AS incident_id FROM {s}.assoc_case_incidents GROUP BY case_id")
        .await?
    {
        if let Some(i) = r.int("incident_id")?.and_then(|i| ctx.target("incident", i)) {
            incidents.insert(r.int("case_id")?.unwrap_or_default(), i);
        }
    }
    let mut signals: HashMap<i64, i64> = HashMap::new();
    for r in ctx
        .src
        .rows("SELECT case_id, min(signal_id) AS signal_id FROM {s}.signal_instance WHERE case_id IS NOT NULL GROUP BY case_id")
        .await?
    {
        if let Some(d) = r
            .int("signal_id")?
            .and_then(|s| ctx.target("signal_definition", s))
        {
            signals.insert(r.int("case_id")?.unwrap_or_default(), d);
        }
    }
    for r in &rows {
        let sid = r.int("id")?.unwrap_or_default();
        let project_id = project_of(ctx, r.int("project_id")?)?;
        let person = |col: &str| -> anyhow::Result<Option<String>> {
            Ok(r.int(col)?.and_then(|p| emails.get(&p).cloned()))
        };
        let assignee = person("assignee_id")?;
        let reporter = person("reporter_id")?
            .or_else(|| assignee.clone())
            .unwrap_or_else(|| format!("{} import", ctx.key));
        let created = r
            .at("reported_at")?
            .or(r.at("created_at")?)
            .unwrap_or(ctx.now);
        let status = r
            .opt("status")?
            .map(|s| s.to_lowercase())
            .filter(|s| ["new", "triage", "escalated", "stable", "closed"].contains(&s.as_str()))
            .unwrap_or_else(|| "new".into());
        let updated = r.at("updated_at")?.unwrap_or(created);
        let before = ctx.existing::<case::Model>("case", sid).await?;
        let base = before.clone().unwrap_or_else(|| case::Model {
            project_id,
            ..Default::default()
        });
        let pick =
            |m: &HashMap<i64, Option<String>>, col: &str| -> anyhow::Result<Option<String>> {
                Ok(r.int(col)?.and_then(|t| m.get(&t).cloned().flatten()))
            };
        let after = case::Model {
            definition_id: signals.get(&sid).copied(),
            title: r.text("title")?,
            description: r.text("description")?,
            stable_at: (status == "stable").then_some(updated),
            status,
            case_type: pick(&tax.types, "case_type_id")?,
            case_priority: pick(&tax.priorities, "case_priority_id")?,
            case_severity: pick(&tax.severities, "case_severity_id")?,
            assignee,
            reporter,
            resolution: r.opt("resolution")?,
            resolution_reason: r.opt("resolution_reason")?,
            incident_id: incidents.get(&sid).copied(),
            created_at: created,
            triage_at: r.at("triage_at")?,
            escalated_at: r.at("escalated_at")?,
            closed_at: r.at("closed_at")?,
            updated_at: updated,
            ..base
        };
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        ctx.mapped("case", sid, saved.id, outcome).await?;
    }
    Ok(())
}

/// The cases' timelines: each source event of a case, once.
async fn case_events(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    if !ctx.src.has_table("case").await? {
        return Ok(());
    }
    let rows = ctx
        .src
        .rows("SELECT e.id, e.case_id, e.started_at, e.source, e.description, e.details::text AS details, e.type, i.email FROM {s}.event e LEFT JOIN {s}.individual_contact i ON i.id = e.individual_id WHERE e.case_id IS NOT NULL ORDER BY e.started_at, e.id")
        .await?;
    ctx.begin("case_event", rows.len() as i64).await?;
    for r in &rows {
        let sid = r.int("id")?.unwrap_or_default();
        let Some(case_id) = r.int("case_id")?.and_then(|c| ctx.target("case", c)) else {
            ctx.skip(format!("case event {sid}: its case was not imported"));
            continue;
        };
        let details = r
            .opt("details")?
            .and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok())
            .filter(serde_json::Value::is_object)
            .unwrap_or_else(|| serde_json::json!({}));
        let mut details = details;
        details["source"] = r.text("source")?.into();
        if let Some(t) = r.opt("type")? {
            details["type"] = t.into();
        }
        let before = ctx.existing::<case_event::Model>("case_event", sid).await?;
        let base = before.clone().unwrap_or_default();
        let after = case_event::Model {
            case_id,
            occurred_at: r.at("started_at")?.unwrap_or(ctx.now),
            kind: "imported".into(),
            actor: r.opt("email")?.map(|e| e.to_lowercase()),
            description: r.text("description")?,
            details: details.to_string(),
            ..base
        };
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        ctx.mapped("case_event", sid, saved.id, outcome).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entity_expressions_become_matchers_and_alternatives_do_not() {
        let entities = HashMap::from([(7, ("host".to_string(), "db1".to_string()))]);
        let types = HashMap::from([(3, "user".to_string())]);
        let m = filter_matchers(
            &json!([{"or": [{"model": "Entity", "field": "id", "op": "==", "value": 7}]},
                    {"or": [{"model": "EntityType", "field": "id", "op": "==", "value": 3}]}]),
            &entities,
            &types,
        )
        .unwrap();
        assert_eq!(Matchers(m).to_string(), r#"host="db1", user=~".+""#);
        let two = json!([{"or": [{"model": "Entity", "field": "id", "value": 7},
                                 {"model": "Entity", "field": "id", "value": 7}]}]);
        assert!(filter_matchers(&two, &entities, &types)
            .unwrap_err()
            .contains("2 alternatives"));
        assert!(filter_matchers(&json!([]), &entities, &types).is_err());
    }
}
