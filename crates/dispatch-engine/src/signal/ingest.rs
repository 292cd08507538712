//! Taking in alerts: each is matched to the first enabled definition of its source whose
//! matcher holds (from the in-memory cache), then deduplicated (the same fingerprint within
//! the window joins the first alert's case), snoozed (an active snooze filter holds), or
//! recorded as a new instance that opens a case. A resolved alert resolves the firing
//! instances of its fingerprint and notes it on their cases. A request's alerts are written in
//! one transaction, possibly shared with other requests' (see [`super::batch`]): what it
//! answers is stored, or nothing is.

use super::cache::{Definition, ProjectSignals};
use crate::{Actor, Result};
use chrono::{DateTime, Duration, Utc};
use dispatch_core::signal::{
    Alert, AlertResult, AlertStatus, CaseStatus, Entity, FilterAction, FilterKind, FilterMode,
    Outcome, SignalSource,
};
use dispatch_store::model::{case, case_event, signal_instance};
use dispatch_store::repo;
use dispatch_store::repo::audit::NewAudit;
use dispatch_store::repo::signal::InstanceHead;
use dispatch_store::Conn;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What came in: alerts already read, or a generic source's JSON objects (read by each
/// generic definition's own field paths).
#[derive(Debug, Clone)]
pub enum Incoming {
    /// Alerts read from a tool's body.
    Alerts(Vec<Alert>),
    /// Generic JSON objects.
    Generic(Vec<serde_json::Value>),
}

/// The plan for one alert, before anything is written.
enum Plan {
    Unmatched,
    /// Resolve or acknowledge the firing instances of (definition, fingerprint); without a
    /// definition (a PagerDuty resolve carries no labels), those of the fingerprint from any
    /// definition of the source.
    Settle(Option<usize>, AlertStatus),
    /// A new instance; `dup` names the first instance (stored, or planned at this index).
    Record {
        def: usize,
        entities: Vec<Entity>,
        action: FilterAction,
        filter_id: Option<i64>,
        monitored_by: Option<i64>,
        dup: Option<First>,
    },
}

/// The first instance an alert duplicates.
#[derive(Clone, Copy)]
enum First {
    Stored { id: i64, case_id: Option<i64> },
    Planned(usize),
}

/// Labels with the entities added by type name, for filters' expressions.
fn with_entities(alert: &Alert, entities: &[Entity]) -> BTreeMap<String, String> {
    let mut l = alert.labels.clone();
    for e in entities {
        l.entry(e.kind.clone()).or_insert_with(|| e.value.clone());
    }
    l
}

/// The first enabled definition of this source whose matcher holds.
fn match_alert<'a>(
    signals: &'a ProjectSignals,
    source: SignalSource,
    alert: &Alert,
) -> Option<(usize, &'a Definition)> {
    signals
        .definitions
        .iter()
        .enumerate()
        .find(|(_, d)| d.source == source && d.matcher.matches(&alert.labels))
}

/// A generic object read by the first generic definition whose fields and matcher take it.
fn match_generic(signals: &ProjectSignals, raw: serde_json::Value) -> (Alert, Option<usize>) {
    for (i, d) in signals.definitions.iter().enumerate() {
        if d.source != SignalSource::Generic {
            continue;
        }
        let alert = d.fields.read(raw.clone());
        if d.matcher.matches(&alert.labels) {
            return (alert, Some(i));
        }
    }
    (dispatch_core::signal::FieldMap::default().read(raw), None)
}

/// A request's alerts read, matched and priced before the writer is reached: everything
/// [`write`] needs that takes no database write.
pub(crate) struct Prepared {
    actor: Actor,
    project_id: i64,
    source: SignalSource,
    signals: Arc<ProjectSignals>,
    matched: Vec<(Alert, Option<usize>)>,
    assignees: HashMap<i64, String>,
    fingerprints: Vec<String>,
    max_window: i64,
    /// The text each stored alert keeps (labels, raw payload).
    texts: Vec<Option<(String, String)>>,
    /// The entities each alert's definition finds in it (none for an alert that records no
    /// instance).
    entities: Vec<Vec<Entity>>,
    /// The request's audit entry, written with its alerts.
    pub(crate) audit: Option<NewAudit>,
}

impl Prepared {
    pub(crate) fn alerts(&self) -> usize {
        self.matched.len()
    }

    pub(crate) fn project_id(&self) -> i64 {
        self.project_id
    }

    /// The fingerprints the request's alerts read and write chains of.
    pub(crate) fn fingerprints(&self) -> impl Iterator<Item = &str> {
        self.fingerprints.iter().map(String::as_str)
    }

    /// Whether `other` may be written as one with this request: the same project, source and
    /// sender, matched against the same definitions.
    pub(crate) fn joins(&self, other: &Prepared) -> bool {
        self.project_id == other.project_id
            && self.source == other.source
            && self.actor.email == other.actor.email
            && Arc::ptr_eq(&self.signals, &other.signals)
    }
}

impl crate::Signals<'_> {
    /// Takes in a request's alerts for the project (the default project when `None`) and
    /// answers what happened to each, in order. Durable when it returns: the answer is given
    /// after the commit of the transaction that wrote it (see [`super::batch`]).
    pub async fn ingest(
        self,
        actor: &Actor,
        project: Option<&str>,
        source: SignalSource,
        incoming: Incoming,
    ) -> Result<Vec<AlertResult>> {
        let mut prepared = self.prepare(actor, project, source, incoming).await?;
        // The batch's transaction is not this task's: the request's audit entry goes with it.
        prepared.audit = repo::audit::take_pending();
        let results = super::batch::submit(&self, prepared).await?;
        crate::telemetry::signals(
            source.as_str(),
            &results
                .iter()
                .map(|r| r.outcome.as_str())
                .collect::<Vec<_>>(),
        );
        Ok(results)
    }

    /// Reads and matches a request's alerts and asks (cached) who would be assigned new cases:
    /// no database write, so requests do this side by side.
    async fn prepare(
        self,
        actor: &Actor,
        project: Option<&str>,
        source: SignalSource,
        incoming: Incoming,
    ) -> Result<Prepared> {
        let cfg = self.project_config(project).await?;
        let project_id = cfg.project.id;
        let signals = self.project_signals(project_id).await?;
        // Read and match: no database access.
        let mut matched: Vec<(Alert, Option<usize>)> = match incoming {
            Incoming::Alerts(list) => list
                .into_iter()
                .map(|a| {
                    let m = match_alert(&signals, source, &a).map(|(i, _)| i);
                    (a, m)
                })
                .collect(),
            Incoming::Generic(list) => list
                .into_iter()
                .map(|raw| match_generic(&signals, raw))
                .collect(),
        };
        let defs = &signals.definitions;
        // Who would be assigned a new case, asked before the transaction (cached).
        let mut services: Vec<i64> = matched
            .iter()
            .filter(|(a, m)| a.status == AlertStatus::Firing && m.is_some())
            .filter_map(|(_, m)| defs[m.unwrap_or_default()].row.service_id)
            .collect();
        services.sort_unstable();
        services.dedup();
        let assignees = self.on_call_cached(project_id, &services).await?;
        let mut fingerprints: Vec<String> = matched
            .iter()
            .filter(|(a, m)| m.is_some() || a.status != AlertStatus::Firing)
            .map(|(a, _)| a.fingerprint.clone())
            .collect();
        fingerprints.sort_unstable();
        fingerprints.dedup();
        let max_window = defs
            .iter()
            .map(|d| d.row.dedup_window_seconds)
            .chain(
                signals
                    .filters
                    .iter()
                    .filter(|f| f.kind == FilterKind::Deduplicate)
                    .map(|f| f.row.window_seconds),
            )
            .max()
            .unwrap_or(0);

        // Entities are found before the raw payload is let go below: a `path` extractor reads it.
        let entities: Vec<Vec<Entity>> = matched
            .iter()
            .map(|(a, m)| match m {
                Some(d) if a.status == AlertStatus::Firing => defs[*d]
                    .extractors
                    .iter()
                    .filter_map(|x| x.extract(a))
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        // The text each stored alert keeps, made before the write lock is taken; the parsed
        // payload is freed here too, not by the writer.
        let texts: Vec<Option<(String, String)>> = matched
            .iter_mut()
            .map(|(a, m)| {
                let raw = std::mem::take(&mut a.raw);
                (a.status == AlertStatus::Firing && m.is_some()).then(|| {
                    let labels = serde_json::to_string(&a.labels).unwrap_or_else(|_| "{}".into());
                    (labels, raw.to_string())
                })
            })
            .collect();
        Ok(Prepared {
            actor: actor.clone(),
            project_id,
            source,
            signals,
            matched,
            assignees,
            fingerprints,
            max_window,
            texts,
            entities,
            audit: None,
        })
    }
}

/// Writes requests that [join](Prepared::joins) the first in `conn`'s transaction, as one
/// (their alerts in order, so a later request's alert joins an earlier one's case), and answers
/// what happened to each alert of each request; whether a case was opened (the workers have
/// jobs to run).
pub(crate) async fn write(
    conn: &impl Conn,
    group: &[&Prepared],
) -> Result<(Vec<Vec<AlertResult>>, bool)> {
    let Some(p) = group.first() else {
        return Ok((Vec::new(), false));
    };
    let (actor, signals) = (&p.actor, &p.signals);
    let (project_id, source) = (p.project_id, p.source);
    let max_window = group.iter().map(|p| p.max_window).max().unwrap_or(0);
    let matched: Vec<&(Alert, Option<usize>)> =
        group.iter().flat_map(|p| p.matched.iter()).collect();
    let texts: Vec<&Option<(String, String)>> = group.iter().flat_map(|p| p.texts.iter()).collect();
    let found: Vec<&Vec<Entity>> = group.iter().flat_map(|p| p.entities.iter()).collect();
    let mut fingerprints: Vec<&str> = group
        .iter()
        .flat_map(|p| p.fingerprints.iter().map(String::as_str))
        .collect();
    fingerprints.sort_unstable();
    fingerprints.dedup();
    let fingerprints: Vec<String> = fingerprints.into_iter().map(str::to_owned).collect();
    let assignees: HashMap<i64, &String> = group
        .iter()
        .flat_map(|p| p.assignees.iter().map(|(k, v)| (*k, v)))
        .collect();
    let defs = &signals.definitions;
    let now = dispatch_core::now();
    let since = now - Duration::seconds(max_window);
    let heads = repo::signal::chain_heads(conn, project_id, &fingerprints, since).await?;
    let mut case_ids: Vec<i64> = heads.iter().filter_map(|i| i.case_id).collect();
    case_ids.sort_unstable();
    case_ids.dedup();
    let closed: std::collections::HashSet<i64> =
        repo::signal::cases_in_status(conn, &case_ids, CaseStatus::Closed.as_str())
            .await?
            .into_iter()
            .collect();
    // Per (definition, fingerprint): the chain's first instance (the latest one on a live
    // case) and its latest arrival, its duplicates' included.
    let mut chains: HashMap<(i64, String), (First, DateTime<Utc>)> = HashMap::new();
    for i in &heads {
        if i.filter_action != FilterAction::None.as_str() {
            continue;
        }
        let key = (i.definition_id, i.fingerprint.clone());
        if i.case_id.is_none_or(|c| !closed.contains(&c)) {
            let last = i
                .last_received_at
                .map_or(i.received_at, |d| i.received_at.max(d));
            let first = First::Stored {
                id: i.id,
                case_id: i.case_id,
            };
            chains.insert(key, (first, last));
        } else {
            chains.remove(&key);
        }
    }

    let mut plans = Vec::with_capacity(matched.len());
    for (idx, (alert, m)) in matched.iter().enumerate() {
        if alert.status != AlertStatus::Firing {
            plans.push(Plan::Settle(*m, alert.status));
            continue;
        }
        let Some(d) = *m else {
            plans.push(Plan::Unmatched);
            continue;
        };
        let def = &defs[d];
        let entities = found[idx].clone();
        let labels = with_entities(alert, &entities);
        let mut filter_id = None;
        let mut monitored_by = None;
        let mut window = def.row.dedup_window_seconds;
        // The first deduplicate filter in monitor mode that holds: what its window would do is
        // recorded, and the alert goes on as if it were not there.
        let mut watching = None;
        for f in signals
            .filters
            .iter()
            .filter(|f| f.kind == FilterKind::Deduplicate && f.matcher.matches(&labels))
        {
            match f.mode(now) {
                FilterMode::Active => {
                    window = f.row.window_seconds;
                    filter_id = Some(f.row.id);
                    break;
                }
                FilterMode::Monitor if watching.is_none() => watching = Some(f),
                _ => {}
            }
        }
        let key = (def.row.id, alert.fingerprint.clone());
        let within = |window: i64| {
            chains
                .get(&key)
                .filter(|(_, last)| *last >= now - Duration::seconds(window))
                .map(|(first, _)| *first)
        };
        let dup = within(window);
        let (action, dup) = match dup {
            Some(first) => (FilterAction::Deduplicate, Some(first)),
            None => {
                filter_id = None;
                // It would have joined the chain within the watching filter's window.
                monitored_by = watching
                    .filter(|f| within(f.row.window_seconds).is_some())
                    .map(|f| f.row.id);
                let mut action = FilterAction::None;
                for f in signals
                    .filters
                    .iter()
                    .filter(|f| f.kind == FilterKind::Snooze)
                {
                    if !f.matcher.matches(&labels) {
                        continue;
                    }
                    match f.mode(now) {
                        FilterMode::Active => {
                            action = FilterAction::Snooze;
                            filter_id = Some(f.row.id);
                            break;
                        }
                        FilterMode::Monitor if monitored_by.is_none() => {
                            monitored_by = Some(f.row.id);
                        }
                        _ => {}
                    }
                }
                if action == FilterAction::None {
                    // Later copies of this alert in the same request join it.
                    chains.insert(key, (First::Planned(idx), now));
                }
                (action, None)
            }
        };
        plans.push(Plan::Record {
            def: d,
            entities,
            action,
            filter_id,
            monitored_by,
            dup,
        });
    }

    // New cases, one per new firing alert of a definition that opens them.
    let mut new_case: HashMap<usize, i64> = HashMap::new();
    let mut case_events: Vec<case_event::Model> = Vec::new();
    let event = |case_id: i64, kind: &str, description: String, details: serde_json::Value| {
        case_event::Model {
            case_id,
            occurred_at: now,
            kind: kind.into(),
            actor: Some(actor.email.clone()),
            description,
            details: details.to_string(),
            ..Default::default()
        }
    };
    let mut opened = Vec::new();
    for (idx, plan) in plans.iter().enumerate() {
        let Plan::Record {
            def,
            action: FilterAction::None,
            ..
        } = plan
        else {
            continue;
        };
        let def = &defs[*def].row;
        if !def.create_case {
            continue;
        }
        let alert = &matched[idx].0;
        let row = case::Model {
            project_id,
            definition_id: Some(def.id),
            title: alert.title.chars().take(500).collect(),
            description: alert
                .annotations
                .get("description")
                .cloned()
                .unwrap_or_else(|| def.description.clone()),
            status: CaseStatus::New.as_str().into(),
            case_type: def.case_type.clone(),
            case_priority: def.case_priority.clone(),
            case_severity: def.case_severity.clone(),
            assignee: def
                .service_id
                .and_then(|s| assignees.get(&s).map(|a| (*a).clone())),
            reporter: actor.email.clone(),
            created_at: now,
            updated_at: now,
            ..Default::default()
        };
        opened.push((idx, def, row));
    }
    let rows = opened.iter().map(|(_, _, row)| row.clone()).collect();
    let saved = repo::signal::insert_cases(conn, rows).await?;
    let starts: Vec<_> = opened
        .iter()
        .zip(&saved)
        .map(|((_, def, _), c)| {
            let tags = super::case_people::definition_tags(&def.tags);
            (c.id, c.reporter.as_str(), c.assignee.as_deref(), tags)
        })
        .collect();
    super::case_people::opened(conn, project_id, &starts, now).await?;
    for ((idx, def, _), saved) in opened.iter().zip(saved) {
        case_events.push(event(
            saved.id,
            "case_opened",
            format!("Case opened by {} ({})", def.name, matched[*idx].0.title),
            json!({"definition_id": def.id, "assignee": saved.assignee}),
        ));
        new_case.insert(*idx, saved.id);
    }

    // Instances: first the alerts that stand on their own, then their duplicates.
    let instance = |idx: usize,
                    def: &Definition,
                    entities: &[Entity],
                    action: FilterAction,
                    filter_id: Option<i64>,
                    duplicate_of: Option<i64>,
                    case_id: Option<i64>| {
        let alert = &matched[idx].0;
        let (labels, raw) = texts[idx].clone().unwrap_or_default();
        signal_instance::Model {
            project_id,
            definition_id: def.row.id,
            source: def.source.as_str().into(),
            fingerprint: alert.fingerprint.clone(),
            status: "firing".into(),
            title: alert.title.clone(),
            severity: alert.severity.clone(),
            link: alert.link.clone(),
            labels,
            entities: serde_json::to_string(entities).unwrap_or_else(|_| "[]".into()),
            raw,
            filter_action: action.as_str().into(),
            filter_id,
            duplicate_of,
            case_id,
            received_at: now,
            ..Default::default()
        }
    };
    let mut firsts = Vec::new();
    let mut first_idx = Vec::new();
    for (idx, plan) in plans.iter().enumerate() {
        if let Plan::Record {
            def,
            entities,
            action,
            filter_id,
            monitored_by,
            dup: None,
        } = plan
        {
            let f = if *action == FilterAction::Snooze {
                *filter_id
            } else {
                *monitored_by
            };
            firsts.push(instance(
                idx,
                &defs[*def],
                entities,
                *action,
                f,
                None,
                new_case.get(&idx).copied(),
            ));
            first_idx.push(idx);
        }
    }
    let stored_firsts = repo::signal::insert_instances(conn, firsts).await?;
    let mut stored: HashMap<usize, signal_instance::Model> =
        first_idx.into_iter().zip(stored_firsts).collect();
    let mut dups = Vec::new();
    let mut dup_idx = Vec::new();
    for (idx, plan) in plans.iter().enumerate() {
        if let Plan::Record {
            def,
            entities,
            filter_id,
            dup: Some(first),
            ..
        } = plan
        {
            let (first_id, case_id) = match *first {
                First::Stored { id, case_id } => (id, case_id),
                First::Planned(i) => {
                    let s = &stored[&i];
                    (s.id, s.case_id)
                }
            };
            dups.push(instance(
                idx,
                &defs[*def],
                entities,
                FilterAction::Deduplicate,
                *filter_id,
                Some(first_id),
                case_id,
            ));
            dup_idx.push(idx);
        }
    }
    let stored_dups = repo::signal::insert_instances(conn, dups).await?;
    let mut repeated: Vec<i64> = stored_dups.iter().filter_map(|d| d.duplicate_of).collect();
    repeated.sort_unstable();
    repeated.dedup();
    repo::signal::touch_chains(conn, &repeated, now).await?;
    stored.extend(dup_idx.into_iter().zip(stored_dups));

    // Resolved and acknowledged alerts settle the firing instances of their fingerprint.
    let mut settling: Vec<String> = plans
        .iter()
        .zip(matched.iter())
        .filter(|(p, _)| matches!(p, Plan::Settle(..)))
        .map(|(_, (a, _))| a.fingerprint.clone())
        .collect();
    settling.sort_unstable();
    settling.dedup();
    let mut unsettled = repo::signal::unresolved(conn, project_id, &settling).await?;
    if !settling.is_empty() {
        // Read back above too when this transaction wrote them: each once.
        unsettled.extend(stored.values().map(InstanceHead::from));
        unsettled.sort_by_key(|i| i.id);
        unsettled.dedup_by_key(|i| i.id);
    }
    let mut settled: HashMap<usize, Vec<&InstanceHead>> = HashMap::new();
    let mut resolve_ids = Vec::new();
    let mut ack_ids = Vec::new();
    let mut touched: Vec<i64> = Vec::new();
    for (idx, plan) in plans.iter().enumerate() {
        let Plan::Settle(d, status) = plan else {
            continue;
        };
        let alert = &matched[idx].0;
        let def_id = d.map(|d| defs[d].row.id);
        let open: Vec<&InstanceHead> = unsettled
            .iter()
            .filter(|i| {
                def_id.map_or(i.source == source.as_str(), |d| i.definition_id == d)
                    && i.fingerprint == alert.fingerprint
                    && (i.status == "firing"
                        || (i.status == "acknowledged" && *status == AlertStatus::Resolved))
            })
            .collect();
        let (ids, verb, kind) = match status {
            AlertStatus::Resolved => (&mut resolve_ids, "resolved", "signal_resolved"),
            _ => (&mut ack_ids, "acknowledged", "signal_acknowledged"),
        };
        ids.extend(open.iter().map(|i| i.id));
        let mut cases: Vec<i64> = open.iter().filter_map(|i| i.case_id).collect();
        cases.sort_unstable();
        cases.dedup();
        for c in cases {
            case_events.push(event(
                c,
                kind,
                format!("Alert {verb} at the source: {}", alert.title),
                json!({"fingerprint": alert.fingerprint}),
            ));
            touched.push(c);
        }
        settled.insert(idx, open);
    }
    resolve_ids.sort_unstable();
    resolve_ids.dedup();
    ack_ids.sort_unstable();
    ack_ids.dedup();
    repo::signal::set_instances_status(conn, &resolve_ids, "resolved", Some(now)).await?;
    repo::signal::set_instances_status(conn, &ack_ids, "acknowledged", None).await?;

    // Every new instance on a case is on its timeline; a request's repeats of a case's alerts
    // are one entry per case, naming each instance.
    let mut repeats: BTreeMap<i64, Vec<&signal_instance::Model>> = BTreeMap::new();
    for (idx, plan) in plans.iter().enumerate() {
        let Plan::Record { action, .. } = plan else {
            continue;
        };
        let Some(i) = stored.get(&idx) else { continue };
        let Some(c) = i.case_id else { continue };
        if *action == FilterAction::Deduplicate {
            repeats.entry(c).or_default().push(i);
            continue;
        }
        case_events.push(event(
            c,
            "signal_received",
            format!("Signal received: {}", i.title),
            json!({"instance_id": i.id, "fingerprint": i.fingerprint}),
        ));
    }
    for (c, list) in repeats {
        let first = list[0];
        let description = match list.len() {
            1 => format!("Signal received again (deduplicated): {}", first.title),
            n => format!(
                "Signal received again {n} times (deduplicated): {}",
                first.title
            ),
        };
        let ids: Vec<i64> = list.iter().map(|i| i.id).collect();
        case_events.push(event(
            c,
            "signal_deduplicated",
            description,
            json!({"instance_id": first.id, "instance_ids": ids, "count": ids.len(),
                   "fingerprint": first.fingerprint}),
        ));
        touched.push(c);
    }
    touched.sort_unstable();
    touched.dedup();
    repo::signal::touch_cases(conn, &touched, now).await?;
    crate::webhook::cases::record(conn, case_events).await?;

    let results: Vec<AlertResult> = plans
        .iter()
        .enumerate()
        .map(|(idx, plan)| {
            let alert = &matched[idx].0;
            let mut r = AlertResult {
                index: idx,
                fingerprint: alert.fingerprint.clone(),
                outcome: Outcome::NoDefinitionMatched,
                definition_id: matched[idx].1.map(|d| defs[d].row.id),
                instance_id: None,
                duplicate_of: None,
                case_id: None,
                filter_id: None,
                monitored_by: None,
                instances: Vec::new(),
            };
            match plan {
                Plan::Unmatched => {}
                Plan::Settle(d, status) => {
                    let open = &settled[&idx];
                    r.instances = open.iter().map(|i| i.id).collect();
                    r.case_id = open.iter().find_map(|i| i.case_id);
                    r.definition_id = r
                        .definition_id
                        .or_else(|| open.first().map(|i| i.definition_id));
                    r.outcome = match (open.is_empty(), status) {
                        (true, _) if d.is_none() => Outcome::NoDefinitionMatched,
                        (true, _) => Outcome::NothingFiring,
                        (false, AlertStatus::Resolved) => Outcome::Resolved,
                        (false, _) => Outcome::Acknowledged,
                    };
                }
                Plan::Record {
                    action,
                    filter_id,
                    monitored_by,
                    ..
                } => {
                    let i = &stored[&idx];
                    r.instance_id = Some(i.id);
                    r.case_id = i.case_id;
                    r.duplicate_of = i.duplicate_of;
                    r.filter_id = *filter_id;
                    r.monitored_by = *monitored_by;
                    r.outcome = match action {
                        FilterAction::Deduplicate => Outcome::Deduplicated,
                        FilterAction::Snooze => Outcome::Snoozed,
                        FilterAction::None if new_case.contains_key(&idx) => Outcome::NewCase,
                        FilterAction::None => Outcome::NewInstance,
                    };
                }
            }
            r
        })
        .collect();
    // Each request's answers, numbered from its own first alert.
    let mut rest = results.into_iter();
    let mut answers = Vec::with_capacity(group.len());
    for p in group {
        let offset = answers.iter().map(Vec::len).sum::<usize>();
        let mut part: Vec<AlertResult> = rest.by_ref().take(p.alerts()).collect();
        for r in &mut part {
            r.index -= offset;
        }
        answers.push(part);
    }
    Ok((answers, !new_case.is_empty()))
}
