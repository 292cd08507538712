//! Applying a document: in one transaction, validated whole against the configuration it
//! changes before anything is written (every error names the object and field), then written —
//! projects, then each project's lists in dependency order, then
//! (with `prune`) the deletions in reverse order, then the webhooks.

use super::export::{load, ProjectRows};
use super::plan::{diff, Plan};
use super::*;
use crate::{Engine, Error, Result};
use chrono::{DateTime, Utc};
use dispatch_core::ValidationError;
use dispatch_store::model::{
    incident_priority, incident_severity, incident_type, project, service, tag, tag_type, team,
    webhook_subscription,
};
use dispatch_store::repo::rows::Keyed;
use dispatch_store::repo::{self, rows};
use dispatch_store::Conn;
use dispatch_store::Record;
use std::collections::HashMap;

/// What an apply did.
#[derive(Debug)]
pub struct Applied {
    /// The plan it carried out.
    pub plan: Plan,
    /// The signing secret (`whsec_…`) of each webhook it created, by URL: shown this once, so
    /// the operator can give it to the receiver (only its sealed form is stored).
    pub webhook_secrets: Vec<(String, String)>,
}

impl Applied {
    /// The new webhooks' secrets as people read them (empty when none was created).
    pub fn render_secrets(&self) -> String {
        let mut out = String::new();
        if self.webhook_secrets.is_empty() {
            return out;
        }
        out.push_str("New webhook signing secrets (shown this once; give each to its receiver):\n");
        for (url, secret) in &self.webhook_secrets {
            out.push_str(&format!("  {url}: {secret}\n"));
        }
        out
    }
}

/// Applies `doc`: validates it, then writes the changes in one transaction. Returns the plan
/// it carried out, with the secrets of the webhooks it created.
pub async fn apply(engine: &Engine, doc: &Document, prune: bool) -> Result<Applied> {
    let db = engine.db();
    let txn = db.write().await?;
    let conn = &*txn;
    let before = current(conn).await?;
    // Before anything is written, against the configuration as this transaction reads it (the
    // errors in the file's order, as `plan` gives them).
    super::validate::validate(doc, &before, prune)?;
    let mut doc = doc.clone();
    doc.sort();
    let now = dispatch_core::now();
    let plan = diff(&before, &doc, prune);
    let taken: HashMap<String, String> = repo::project::list(conn)
        .await?
        .into_iter()
        .map(|p| (p.key_prefix, p.slug))
        .collect();
    for p in &doc.projects {
        if let Some(other) = taken.get(&p.key_prefix).filter(|s| **s != p.slug) {
            if !doc.projects.iter().any(|q| q.slug == *other) {
                return Err(ValidationError::field(
                    format!("projects[{}].key_prefix", p.slug),
                    format!("project {other:?} uses {:?}", p.key_prefix),
                )
                .into());
            }
        }
    }
    let mut default_project = None;
    for p in &doc.projects {
        let id = write_project(conn, p, prune, now).await?;
        if p.default {
            default_project = Some(id);
        }
    }
    if let Some(id) = default_project {
        repo::project::set_default(conn, id).await?;
    }
    let mut webhook_secrets = Vec::new();
    if let Some(hooks) = &doc.webhooks {
        let seal = |plain: &str| engine.seal_webhook_secret(plain);
        webhook_secrets = write_webhooks(conn, hooks, prune, now, &seal).await?;
    }
    txn.commit().await?;
    // What this process keeps of the configuration is read afresh (other replicas within the
    // caches' few seconds).
    engine.invalidate_config();
    engine.invalidate_signals();
    Ok(Applied {
        plan,
        webhook_secrets,
    })
}

/// The database's configuration, read in the transaction.
async fn current(conn: &impl Conn) -> Result<Document> {
    let mut doc = Document::default();
    for p in repo::project::list(conn).await? {
        doc.projects
            .push(super::export::to_doc(&load(conn, p).await?));
    }
    let hooks = repo::webhook::list(conn).await?;
    doc.webhooks = Some(hooks.iter().map(super::export::webhook_doc).collect());
    doc.sort();
    Ok(doc)
}

/// Inserts `after`, or saves it over `before` when they differ.
async fn save<R: Record + PartialEq>(conn: &impl Conn, before: Option<&R>, after: R) -> Result<R> {
    Ok(match before {
        None => rows::insert(conn, after).await?,
        Some(b) if *b == after => after,
        Some(b) => rows::update(conn, b, after).await?,
    })
}

/// Writes one list: each entry inserted or updated by key; returns key → id of the entries,
/// and the ids of the rows the file does not have.
pub(crate) async fn sync<M, D>(
    conn: &impl Conn,
    existing: &[M],
    row_key: impl Fn(&M) -> String,
    id: impl Fn(&M) -> i64,
    docs: &[D],
    doc_key: impl Fn(&D) -> String,
    build: impl Fn(Option<&M>, &D) -> M,
) -> Result<(HashMap<String, i64>, Vec<i64>)>
where
    M: Record + PartialEq,
{
    let mut ids = HashMap::new();
    for d in docs {
        let key = doc_key(d);
        let before = existing.iter().find(|m| row_key(m) == key);
        let saved = save(conn, before, build(before, d)).await?;
        ids.insert(key, id(&saved));
    }
    let gone = existing
        .iter()
        .filter(|m| !ids.contains_key(&row_key(m)))
        .map(&id)
        .collect();
    Ok((ids, gone))
}

/// Deletes rows the file no longer has; a row still in use (e.g. a priority incidents have) is
/// an error naming it.
pub(crate) async fn prune_rows<M: Keyed>(
    conn: &impl Conn,
    what: &str,
    project: &str,
    ids: &[i64],
) -> Result<()> {
    for id in ids {
        rows::delete::<M>(conn, *id).await.map_err(|e| {
            Error::Conflict(format!(
                "projects[{project}].{what}: cannot delete a row the file no longer has (id {id}), it is still in use: {e}"
            ))
        })?;
    }
    Ok(())
}

pub(crate) fn json(v: &impl Serialize) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

pub(crate) fn touch<T>(
    before: Option<&T>,
    after: &T,
    same: impl Fn(&T, &T) -> bool,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match before {
        Some(b) if same(b, after) => None,
        _ => Some(now),
    }
}

async fn write_project(
    conn: &impl Conn,
    p: &ProjectDoc,
    prune: bool,
    now: DateTime<Utc>,
) -> Result<i64> {
    let existing = repo::project::by_slug(conn, &p.slug).await?;
    let base = existing.clone().unwrap_or_else(|| project::Model {
        slug: p.slug.clone(),
        created_at: now,
        ..repo::project::new_row()
    });
    let row = project::Model {
        name: p.name.clone(),
        key_prefix: p.key_prefix.clone(),
        description: p.description.clone(),
        allow_self_join: p.allow_self_join,
        members_only: p.members_only,
        timeline_emoji: p.timeline_emoji.clone(),
        observer_promotion_messages: p.observer_promotion_messages,
        annual_employee_cost: p.annual_employee_cost,
        business_year_hours: p.business_year_hours,
        providers: json(&p.providers),
        provider_settings: json(&p.provider_settings),
        is_default: base.is_default,
        ..base
    };
    let saved = save(conn, existing.as_ref(), row).await?;
    let pid = saved.id;
    let rows_now: ProjectRows = load(conn, saved.clone()).await?;
    let slug = p.slug.as_str();

    let (types, gone_types) = sync(
        conn,
        &rows_now.types,
        |m| m.slug.clone(),
        |m| m.id,
        &p.incident_types,
        |d| d.slug.clone(),
        |b, d| type_row(d, stored_or_new(b, pid, now)),
    )
    .await?;
    let (priorities, gone_priorities) = sync(
        conn,
        &rows_now.priorities,
        |m| m.slug.clone(),
        |m| m.id,
        &p.incident_priorities,
        |d| d.slug.clone(),
        |b, d| priority_row(d, stored_or_new(b, pid, now)),
    )
    .await?;
    let (_, gone_severities) = sync(
        conn,
        &rows_now.severities,
        |m| m.slug.clone(),
        |m| m.id,
        &p.incident_severities,
        |d| d.slug.clone(),
        |b, d| severity_row(d, stored_or_new(b, pid, now)),
    )
    .await?;
    let stable = p
        .stable_priority
        .as_ref()
        .and_then(|s| priorities.get(s))
        .copied();
    if saved.stable_priority_id != stable {
        repo::project::update(
            conn,
            &saved,
            project::Model {
                stable_priority_id: stable,
                ..saved.clone()
            },
        )
        .await?;
    }
    let (tag_types, gone_tag_types) = sync(
        conn,
        &rows_now.tag_types,
        |m| m.name.clone(),
        |m| m.id,
        &p.tag_types,
        |d| d.name.clone(),
        |b, d| tag_type_row(d, stored_or_new(b, pid, now)),
    )
    .await?;
    let (tags, gone_tags) = sync(
        conn,
        &rows_now.tags,
        |m| m.name.clone(),
        |m| m.id,
        &p.tags,
        |d| d.name.clone(),
        |b, d| tag_row(d, &tag_types, stored_or_new(b, pid, now)),
    )
    .await?;
    let (teams, gone_teams) = sync(
        conn,
        &rows_now.teams,
        |m| m.name.clone(),
        |m| m.id,
        &p.teams,
        |d| d.name.clone(),
        |b, d| team::Model {
            name: d.name.clone(),
            email: d.email.clone(),
            description: d.description.clone(),
            ..stored_or_new(b, pid, now)
        },
    )
    .await?;
    let (services, gone_services) = sync(
        conn,
        &rows_now.services,
        |m| m.name.clone(),
        |m| m.id,
        &p.services,
        |d| d.name.clone(),
        |b, d| service::Model {
            name: d.name.clone(),
            provider: d.provider.clone(),
            external_id: d.external_id.clone(),
            description: d.description.clone(),
            is_active: d.active,
            ..stored_or_new(b, pid, now)
        },
    )
    .await?;
    let refs = super::rules::Refs {
        types,
        priorities,
        tags,
        teams,
        services,
    };
    let gone = super::rules::write(conn, p, &rows_now, &refs, pid, now).await?;
    if prune {
        super::rules::prune(conn, slug, &gone).await?;
        prune_rows::<service::Model>(conn, "services", slug, &gone_services).await?;
        prune_rows::<team::Model>(conn, "teams", slug, &gone_teams).await?;
        prune_rows::<tag::Model>(conn, "tags", slug, &gone_tags).await?;
        prune_rows::<tag_type::Model>(conn, "tag_types", slug, &gone_tag_types).await?;
        prune_rows::<incident_severity::Model>(conn, "incident_severities", slug, &gone_severities)
            .await?;
        prune_rows::<incident_priority::Model>(conn, "incident_priorities", slug, &gone_priorities)
            .await?;
        prune_rows::<incident_type::Model>(conn, "incident_types", slug, &gone_types).await?;
    }
    Ok(pid)
}

/// A row of one of a project's lists.
trait ProjectRow: Clone {
    /// A new row of the project, created `now`.
    fn new_in(project_id: i64, now: DateTime<Utc>) -> Self;
}

/// [`ProjectRow`] for tables whose new rows need only their project and creation time.
macro_rules! project_rows {
    ($($table:ident),*) => {$(
        impl ProjectRow for $table::Model {
            fn new_in(project_id: i64, created_at: DateTime<Utc>) -> Self {
                Self { project_id, created_at, ..Default::default() }
            }
        }
    )*};
}

project_rows!(
    incident_type,
    incident_priority,
    incident_severity,
    tag_type,
    tag,
    team,
    service
);

/// The stored row an entry of the file is written over, or a new one of the project.
fn stored_or_new<M: ProjectRow>(stored: Option<&M>, project_id: i64, now: DateTime<Utc>) -> M {
    stored
        .cloned()
        .unwrap_or_else(|| M::new_in(project_id, now))
}

/// An incident type's row as the file has it, over `base` (the stored row, or a new one's).
pub(crate) fn type_row(d: &TypeDoc, base: incident_type::Model) -> incident_type::Model {
    incident_type::Model {
        slug: d.slug.clone(),
        name: d.name.clone(),
        description: d.description.clone(),
        default_visibility: d.default_visibility.clone(),
        is_default: d.default,
        enabled: d.enabled,
        exclude_from_metrics: d.exclude_from_metrics,
        exclude_from_reminders: d.exclude_from_reminders,
        exclude_from_review: d.exclude_from_review,
        view_order: d.view_order,
        incident_template: d.incident_template.clone(),
        review_template: d.review_template.clone(),
        executive_template: d.executive_template.clone(),
        ..base
    }
}

/// A priority's row as the file has it, over `base`.
pub(crate) fn priority_row(
    d: &PriorityDoc,
    base: incident_priority::Model,
) -> incident_priority::Model {
    incident_priority::Model {
        slug: d.slug.clone(),
        name: d.name.clone(),
        description: d.description.clone(),
        color: d.color.clone(),
        is_default: d.default,
        enabled: d.enabled,
        page_commander: d.page_commander,
        tactical_report_reminder_hours: d.tactical_report_reminder_hours,
        executive_report_reminder_hours: d.executive_report_reminder_hours,
        view_order: d.view_order,
        ..base
    }
}

/// A severity's row as the file has it, over `base`.
pub(crate) fn severity_row(
    d: &SeverityDoc,
    base: incident_severity::Model,
) -> incident_severity::Model {
    incident_severity::Model {
        slug: d.slug.clone(),
        name: d.name.clone(),
        description: d.description.clone(),
        color: d.color.clone(),
        is_default: d.default,
        enabled: d.enabled,
        allowed_for_stable: d.allowed_for_stable,
        view_order: d.view_order,
        ..base
    }
}

/// A tag type's row as the file has it, over `base`.
pub(crate) fn tag_type_row(d: &TagTypeDoc, base: tag_type::Model) -> tag_type::Model {
    tag_type::Model {
        name: d.name.clone(),
        description: d.description.clone(),
        exclusive: d.exclusive,
        required: d.required,
        ..base
    }
}

/// A tag's row as the file has it, over `base`; `tag_types` is the project's tag type ids by
/// name.
pub(crate) fn tag_row(
    d: &TagDoc,
    tag_types: &HashMap<String, i64>,
    base: tag::Model,
) -> tag::Model {
    tag::Model {
        name: d.name.clone(),
        description: d.description.clone(),
        tag_type_id: d.tag_type.as_ref().and_then(|t| tag_types.get(t)).copied(),
        ..base
    }
}

/// The stored JSON of a filter given as text: the stored one when it reads as the same text
/// (so an unchanged rule is not rewritten), else the text's normalized JSON.
pub(crate) fn keep_filter(
    stored: Option<&str>,
    text: &str,
    to_json: &impl Fn(&str) -> String,
) -> String {
    match stored {
        Some(s) if super::export::filter_text(s) == text => s.to_string(),
        _ => to_json(text),
    }
}

/// The stored JSON of a value: the stored text when it reads as the same value, else the
/// value's JSON.
pub(crate) fn keep_json<T: Serialize + serde::de::DeserializeOwned + PartialEq>(
    stored: Option<&str>,
    value: &T,
) -> String {
    match stored {
        Some(s) if serde_json::from_str::<T>(s).ok().as_ref() == Some(value) => s.to_string(),
        _ => json(value),
    }
}

/// Writes the webhooks; a new one gets a fresh signing secret, stored sealed. Returns each new
/// webhook's URL with its secret in plain.
async fn write_webhooks(
    conn: &impl Conn,
    hooks: &[WebhookDoc],
    prune: bool,
    now: DateTime<Utc>,
    seal: &(dyn Fn(&str) -> String + Sync),
) -> Result<Vec<(String, String)>> {
    let existing = repo::webhook::list(conn).await?;
    let fresh: Vec<(String, String)> = hooks
        .iter()
        .filter(|d| !existing.iter().any(|m| m.url == d.url))
        .map(|d| (d.url.clone(), repo::webhook::new_secret()))
        .collect();
    let (_, gone) = sync(
        conn,
        &existing,
        |m| m.url.clone(),
        |m| m.id,
        hooks,
        |d| d.url.clone(),
        |b, d| webhook_subscription::Model {
            url: d.url.clone(),
            description: d.description.clone(),
            event_types: keep_json(b.map(|x| x.event_types.as_str()), &d.event_types),
            enabled: d.enabled,
            ..b.cloned().unwrap_or_else(|| webhook_subscription::Model {
                secret: seal(
                    &fresh
                        .iter()
                        .find(|(url, _)| *url == d.url)
                        .map(|(_, s)| s.clone())
                        .unwrap_or_else(repo::webhook::new_secret),
                ),
                created_at: now,
                ..Default::default()
            })
        },
    )
    .await?;
    if prune {
        for id in gone {
            repo::webhook::delete(conn, id).await?;
        }
    }
    Ok(fresh)
}
