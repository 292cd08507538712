//! Signal definitions, filters and instances, cases and case events: the queries of the
//! signals pipeline. An ingest reads what it needs in one query per kind (never one per alert)
//! and writes instances in one statement.

use crate::entity::signal_instance as instance;
use crate::entity::{case, case_event, signal_definition as definition, signal_filter as filter};
use crate::error::{Result, StoreError};
use crate::repo::rows;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

/// A project's definitions, by name.
pub async fn definitions(
    conn: &impl ConnectionTrait,
    project_id: i64,
) -> Result<Vec<definition::Model>> {
    Ok(definition::Entity::find()
        .filter(definition::Column::ProjectId.eq(project_id))
        .order_by_asc(definition::Column::Name)
        .all(conn)
        .await?)
}

/// A page (from 1) of a query's rows, and how many rows it holds in all.
async fn page_of<E>(
    conn: &impl ConnectionTrait,
    q: sea_orm::Select<E>,
    page: u64,
    per_page: u64,
) -> Result<(Vec<E::Model>, u64)>
where
    E: EntityTrait,
    E::Model: Send + Sync,
{
    let pages = q.paginate(conn, per_page.max(1));
    let total = pages.num_items().await?;
    Ok((pages.fetch_page(page.saturating_sub(1)).await?, total))
}

/// A project's enabled definitions, oldest first (the order alerts are matched in).
pub async fn enabled_definitions(
    conn: &impl ConnectionTrait,
    project_id: i64,
) -> Result<Vec<definition::Model>> {
    Ok(definition::Entity::find()
        .filter(definition::Column::ProjectId.eq(project_id))
        .filter(definition::Column::Enabled.eq(true))
        .order_by_asc(definition::Column::Id)
        .all(conn)
        .await?)
}

/// Which definitions to list (every one when empty).
#[derive(Debug, Clone, Default)]
pub struct DefinitionFilter {
    /// Of this project.
    pub project_id: Option<i64>,
    /// Of one of these sources.
    pub sources: Vec<String>,
    /// Enabled, or not.
    pub enabled: Option<bool>,
    /// Who lists them: only the projects they may use.
    pub viewer: crate::repo::incident::Viewer,
}

/// A page of definitions, by project and name, and how many match in all.
pub async fn definitions_page(
    conn: &impl ConnectionTrait,
    f: &DefinitionFilter,
    page: u64,
    per_page: u64,
) -> Result<(Vec<definition::Model>, u64)> {
    let mut q = definition::Entity::find()
        .order_by_asc(definition::Column::ProjectId)
        .order_by_asc(definition::Column::Name);
    if let Some(p) = f.project_id {
        q = q.filter(definition::Column::ProjectId.eq(p));
    }
    if !f.sources.is_empty() {
        q = q.filter(definition::Column::Source.is_in(f.sources.iter().cloned()));
    }
    if let Some(e) = f.enabled {
        q = q.filter(definition::Column::Enabled.eq(e));
    }
    if let Some(c) = f
        .viewer
        .uses_project((definition::Entity, definition::Column::ProjectId))
    {
        q = q.filter(c);
    }
    page_of(conn, q, page, per_page).await
}

/// A definition by id.
pub async fn definition(conn: &impl ConnectionTrait, id: i64) -> Result<definition::Model> {
    definition::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("signal definition {id}")))
}

/// Deletes a definition with (by cascade) its instances.
pub async fn delete_definition(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    definition::Entity::delete_by_id(id).exec(conn).await?;
    Ok(())
}

/// A project's filters (every project's when `None`), by name.
pub async fn filters(
    conn: &impl ConnectionTrait,
    project_id: Option<i64>,
) -> Result<Vec<filter::Model>> {
    let mut q = filter::Entity::find().order_by_asc(filter::Column::Name);
    if let Some(p) = project_id {
        q = q.filter(filter::Column::ProjectId.eq(p));
    }
    Ok(q.all(conn).await?)
}

/// Which filters to list (every one when empty).
#[derive(Debug, Clone, Default)]
pub struct FilterFilter {
    /// Of this project.
    pub project_id: Option<i64>,
    /// Of one of these kinds.
    pub kinds: Vec<String>,
    /// In one of these modes as they stand at `now`: `expired` is any mode whose expiry passed,
    /// and the stored modes count only before it.
    pub modes: Vec<String>,
    /// The time the modes are read at.
    pub now: DateTime<Utc>,
    /// Who lists them: only the projects they may use.
    pub viewer: crate::repo::incident::Viewer,
}

/// A page of filters, by project and name, and how many match in all.
pub async fn filters_page(
    conn: &impl ConnectionTrait,
    f: &FilterFilter,
    page: u64,
    per_page: u64,
) -> Result<(Vec<filter::Model>, u64)> {
    let mut q = filter::Entity::find()
        .order_by_asc(filter::Column::ProjectId)
        .order_by_asc(filter::Column::Name);
    if let Some(p) = f.project_id {
        q = q.filter(filter::Column::ProjectId.eq(p));
    }
    if let Some(c) = f
        .viewer
        .uses_project((filter::Entity, filter::Column::ProjectId))
    {
        q = q.filter(c);
    }
    if !f.kinds.is_empty() {
        q = q.filter(filter::Column::Kind.is_in(f.kinds.iter().cloned()));
    }
    if !f.modes.is_empty() {
        let expired = filter::Column::ExpiresAt.lte(f.now);
        let live = Condition::any()
            .add(filter::Column::ExpiresAt.is_null())
            .add(filter::Column::ExpiresAt.gt(f.now));
        let mut any = Condition::any();
        let stored: Vec<&String> = f.modes.iter().filter(|m| *m != "expired").collect();
        if !stored.is_empty() {
            any = any.add(
                Condition::all()
                    .add(filter::Column::Mode.is_in(stored.into_iter().cloned()))
                    .add(live),
            );
        }
        if f.modes.iter().any(|m| m == "expired") {
            any = any.add(expired);
        }
        q = q.filter(any);
    }
    page_of(conn, q, page, per_page).await
}

/// A filter by id.
pub async fn filter(conn: &impl ConnectionTrait, id: i64) -> Result<filter::Model> {
    filter::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("signal filter {id}")))
}

/// The project a filter belongs to, if the filter exists.
pub async fn filter_project(conn: &impl ConnectionTrait, id: i64) -> Result<Option<i64>> {
    Ok(filter::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(|f| f.project_id))
}

/// Deletes a filter.
pub async fn delete_filter(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    filter::Entity::delete_by_id(id).exec(conn).await?;
    Ok(())
}

/// Inserts any record of the pipeline (definition, filter, case, event) and returns it stored.
pub async fn insert<R: rows::Record>(conn: &impl ConnectionTrait, row: R) -> Result<R> {
    rows::insert(conn, row).await
}

/// Saves the columns of a record that changed between `before` (as read) and `after`.
pub async fn update<R: rows::Record>(
    conn: &impl ConnectionTrait,
    before: &R,
    after: R,
) -> Result<R> {
    rows::update(conn, before, after).await
}

/// Inserts rows (in one statement on PostgreSQL, in [`rows::statement_sizes`] on SQLite), reading back only their ids (ids grow with the insertion
/// order, whatever order the database returns them in), and returns the rows with their ids.
async fn insert_with_ids<M, A>(
    conn: &impl ConnectionTrait,
    mut list: Vec<M>,
    set_id: fn(&mut M, i64),
) -> Result<Vec<M>>
where
    M: sea_orm::ModelTrait + sea_orm::IntoActiveModel<A> + Clone,
    A: sea_orm::ActiveModelTrait<Entity = M::Entity> + Send,
    <M::Entity as EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
    <M::Entity as EntityTrait>::PrimaryKey: sea_orm::PrimaryKeyTrait<ValueType = i64>,
{
    use sea_orm::{Iterable, PrimaryKeyToColumn};
    if list.is_empty() {
        return Ok(list);
    }
    if let Some(mut ids) = insert_as_json(conn, &list).await? {
        ids.sort_unstable();
        for (row, id) in list.iter_mut().zip(ids) {
            set_id(row, id);
        }
        return Ok(list);
    }
    let actives: Vec<A> = list
        .iter()
        .map(|row| {
            let mut a = row.clone().into_active_model().reset_all();
            for key in <M::Entity as EntityTrait>::PrimaryKey::iter() {
                a.not_set(key.into_column());
            }
            a
        })
        .collect();
    let mut ids = Vec::with_capacity(actives.len());
    let mut rest = actives.into_iter();
    for size in rows::statement_sizes(rest.len()) {
        let chunk: Vec<A> = rest.by_ref().take(size).collect();
        ids.extend(
            M::Entity::insert_many(chunk)
                .exec_with_returning_keys(conn)
                .await?,
        );
    }
    ids.sort_unstable();
    for (row, id) in list.iter_mut().zip(ids) {
        set_id(row, id);
    }
    Ok(list)
}

/// The first key of the transaction-scoped advisory locks on alert fingerprints (the second is
/// a hash of the project and fingerprint): the two-key form, apart from the scheduler's lock.
const FINGERPRINT_LOCK_CLASS: i32 = 0x5167;

/// On PostgreSQL, waits for and takes, until the transaction ends, a lock on each (project,
/// fingerprint): alert batches written side by side that share a fingerprint are written one
/// after the other, so the later one reads the earlier one's instances (its chain head, its
/// case) and deduplicates into them. Taken in one order (by key) in one statement, so two
/// batches never wait on each other in a cycle. Nothing to do on SQLite (one writer).
pub async fn lock_fingerprints(conn: &impl ConnectionTrait, keys: &[(i64, &str)]) -> Result<()> {
    use sea_orm::Statement;
    if keys.is_empty() || conn.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    let list = serde_json::to_string(keys).map_err(|e| StoreError::other(e.to_string()))?;
    let sql = format!(
        "SELECT count(pg_advisory_xact_lock({FINGERPRINT_LOCK_CLASS}, k)) FROM ( \
           SELECT DISTINCT hashtext((f->>0) || ':' || (f->>1)) AS k \
           FROM json_array_elements($1::json) AS f ORDER BY k OFFSET 0) s"
    );
    conn.execute(Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        sql,
        [list.into()],
    ))
    .await?;
    Ok(())
}

/// On PostgreSQL, inserts rows as one JSON array through `json_populate_recordset` and answers
/// their ids; `None` on SQLite, or for a row holding a kind of value this does not write.
///
/// The statement's text is the same whatever the number of rows, so it is prepared and planned
/// once per connection, and the rows travel as one parameter: a multi-row `VALUES` with a
/// parameter per cell was a new statement for each batch size (prepared, parsed and planned
/// every time, thousands of parameters built and sent one by one) and took most of an alert
/// batch's writing time.
async fn insert_as_json<M>(conn: &impl ConnectionTrait, list: &[M]) -> Result<Option<Vec<i64>>>
where
    M: sea_orm::ModelTrait,
{
    use sea_orm::{EntityName, IdenStatic, Iterable, PrimaryKeyToColumn, Statement};
    if conn.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(None);
    }
    let keys: Vec<String> = <M::Entity as EntityTrait>::PrimaryKey::iter()
        .map(|k| k.into_column().as_str().to_string())
        .collect();
    let columns: Vec<_> = <M::Entity as EntityTrait>::Column::iter()
        .filter(|c| !keys.iter().any(|k| k == c.as_str()))
        .collect();
    let mut rows = Vec::with_capacity(list.len());
    for m in list {
        let mut row = serde_json::Map::with_capacity(columns.len());
        for c in &columns {
            let Some(v) = json_cell(m.get(*c)) else {
                return Ok(None);
            };
            row.insert(c.as_str().to_string(), v);
        }
        rows.push(serde_json::Value::Object(row));
    }
    let entity = M::Entity::default();
    let table = entity.table_name();
    let names = columns
        .iter()
        .map(|c| format!("\"{}\"", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO \"{table}\" ({names}) SELECT {names} \
         FROM json_populate_recordset(NULL::\"{table}\", $1::json) RETURNING \"{key}\"",
        key = keys.first().map_or("id", String::as_str)
    );
    let body = serde_json::Value::Array(rows).to_string();
    let stmt = Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, sql, [body.into()]);
    let mut ids = Vec::with_capacity(list.len());
    for row in conn.query_all(stmt).await? {
        ids.push(row.try_get_by_index::<i64>(0)?);
    }
    Ok(Some(ids))
}

/// A cell as `json_populate_recordset` reads it into its column's type; `None` for a kind of
/// value not written this way.
fn json_cell(v: sea_orm::Value) -> Option<serde_json::Value> {
    use sea_orm::Value as V;
    use serde_json::Value as J;
    Some(match v {
        V::Bool(b) => b.map_or(J::Null, J::Bool),
        V::Int(n) => n.map_or(J::Null, J::from),
        V::BigInt(n) => n.map_or(J::Null, J::from),
        V::Double(n) => n.map_or(J::Null, J::from),
        V::String(s) => s.map_or(J::Null, |s| J::String(*s)),
        V::Json(j) => j.map_or(J::Null, |j| *j),
        V::ChronoDateTimeUtc(t) => t.map_or(J::Null, |t| {
            J::String(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        }),
        _ => return None,
    })
}

/// Inserts instances in one statement and returns them stored (with their ids), in order.
pub async fn insert_instances(
    conn: &impl ConnectionTrait,
    list: Vec<instance::Model>,
) -> Result<Vec<instance::Model>> {
    insert_with_ids(conn, list, |r, id| r.id = id).await
}

/// Inserts cases in one statement and returns them stored (with their ids), in order.
pub async fn insert_cases(
    conn: &impl ConnectionTrait,
    list: Vec<case::Model>,
) -> Result<Vec<case::Model>> {
    insert_with_ids(conn, list, |r, id| r.id = id).await
}

/// What an ingest reads of an earlier instance: enough to deduplicate into it or settle it,
/// none of its payload.
#[derive(Debug, Clone, PartialEq, sea_orm::FromQueryResult)]
pub struct InstanceHead {
    /// The instance.
    pub id: i64,
    /// Its definition.
    pub definition_id: i64,
    /// Its source.
    pub source: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// `firing`, `acknowledged` or `resolved`.
    pub status: String,
    /// `none`, `deduplicate` or `snooze`.
    pub filter_action: String,
    /// Its case.
    pub case_id: Option<i64>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// A chain's first instance: when its latest repeat arrived.
    pub last_received_at: Option<DateTime<Utc>>,
}

impl From<&instance::Model> for InstanceHead {
    fn from(m: &instance::Model) -> Self {
        Self {
            id: m.id,
            definition_id: m.definition_id,
            source: m.source.clone(),
            fingerprint: m.fingerprint.clone(),
            status: m.status.clone(),
            filter_action: m.filter_action.clone(),
            case_id: m.case_id,
            received_at: m.received_at,
            last_received_at: m.last_received_at,
        }
    }
}

/// The columns of [`InstanceHead`], of a project's instances with one of these fingerprints.
fn heads(project_id: i64, fingerprints: &[String]) -> sea_orm::Select<instance::Entity> {
    use instance::Column as C;
    instance::Entity::find()
        .filter(C::ProjectId.eq(project_id))
        .filter(C::Fingerprint.is_in(rows::in_list(fingerprints.iter().cloned())))
        .select_only()
        .columns([
            C::Id,
            C::DefinitionId,
            C::Source,
            C::Fingerprint,
            C::Status,
            C::FilterAction,
            C::CaseId,
            C::ReceivedAt,
            C::LastReceivedAt,
        ])
}

/// The instances of a project with any of these fingerprints that may head a deduplication
/// chain — every one that was not itself deduplicated and was received (or last repeated) since
/// `since` or is still firing — oldest first. One query for a whole batch's alerts, on the
/// partial index of chain heads: however many repeats a chain has, they are not read (the
/// latest one's arrival is kept on the head, see [`touch_chains`]).
pub async fn chain_heads(
    conn: &impl ConnectionTrait,
    project_id: i64,
    fingerprints: &[String],
    since: DateTime<Utc>,
) -> Result<Vec<InstanceHead>> {
    if fingerprints.is_empty() {
        return Ok(Vec::new());
    }
    // The filter_action test is written out, not bound, so that both databases can use the
    // partial index.
    let cond = "s.filter_action <> 'deduplicate' \
                AND (s.received_at >= $3 OR s.last_received_at >= $3 OR s.status <> 'resolved')";
    let at = Some(since);
    if let Some(rows) = heads_per_fingerprint(conn, project_id, fingerprints, cond, at).await? {
        return Ok(rows);
    }
    let not_repeat =
        sea_orm::sea_query::Expr::cust("\"signal_instances\".\"filter_action\" <> 'deduplicate'");
    Ok(heads(project_id, fingerprints)
        .filter(not_repeat)
        .filter(
            Condition::any()
                .add(instance::Column::ReceivedAt.gte(since))
                .add(instance::Column::LastReceivedAt.gte(since))
                .add(instance::Column::Status.ne("resolved")),
        )
        .order_by_asc(instance::Column::Id)
        .into_model::<InstanceHead>()
        .all(conn)
        .await?)
}

/// On PostgreSQL, the instances of these fingerprints matching `cond` (over `s`, with `$3` bound
/// to `at` if given), oldest first, looked up one fingerprint at a time through the index; `None` on
/// SQLite, whose planner already does so for an `IN` list.
///
/// An `IN` list lets PostgreSQL's planner choose, and while a storm grows the table faster than
/// autovacuum analyzes it, the planner's statistics say the project has a few hundred
/// instances, so it reads all of them by `project_id` (tens of milliseconds per batch at 100k
/// instances) instead of the handful that share a fingerprint. Written as a lateral lookup per
/// fingerprint (`OFFSET 0` keeps it from being flattened into a join the planner could
/// reorder), the plan no longer depends on how current the statistics are.
async fn heads_per_fingerprint(
    conn: &impl ConnectionTrait,
    project_id: i64,
    fingerprints: &[String],
    cond: &str,
    at: Option<DateTime<Utc>>,
) -> Result<Option<Vec<InstanceHead>>> {
    use sea_orm::{FromQueryResult, Statement};
    if conn.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(None);
    }
    let sql = format!(
        "SELECT i.id, i.definition_id, i.source, i.fingerprint, i.status, i.filter_action, \
                i.case_id, i.received_at, i.last_received_at \
         FROM json_array_elements_text($2::json) AS f(fingerprint) \
         CROSS JOIN LATERAL ( \
           SELECT s.* FROM signal_instances s \
           WHERE s.project_id = $1 AND s.fingerprint = f.fingerprint AND {cond} OFFSET 0 \
         ) i ORDER BY i.id"
    );
    let list = serde_json::to_string(fingerprints).map_err(|e| StoreError::other(e.to_string()))?;
    let mut values: Vec<sea_orm::Value> = vec![project_id.into(), list.into()];
    values.extend(at.map(Into::into));
    let stmt = Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, sql, values);
    Ok(Some(InstanceHead::find_by_statement(stmt).all(conn).await?))
}

/// Notes on these chains' first instances that a repeat arrived `at`.
pub async fn touch_chains(
    conn: &impl ConnectionTrait,
    ids: &[i64],
    at: DateTime<Utc>,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    instance::Entity::update_many()
        .col_expr(
            instance::Column::LastReceivedAt,
            sea_orm::sea_query::Expr::value(at),
        )
        .filter(instance::Column::Id.is_in(rows::in_list(ids.iter().copied())))
        .exec(conn)
        .await?;
    Ok(())
}

/// The instances of a project with any of these fingerprints that are not resolved (firing or
/// acknowledged), oldest first: what a resolved or acknowledged alert settles.
pub async fn unresolved(
    conn: &impl ConnectionTrait,
    project_id: i64,
    fingerprints: &[String],
) -> Result<Vec<InstanceHead>> {
    if fingerprints.is_empty() {
        return Ok(Vec::new());
    }
    let cond = "s.status <> 'resolved'";
    if let Some(rows) = heads_per_fingerprint(conn, project_id, fingerprints, cond, None).await? {
        return Ok(rows);
    }
    Ok(heads(project_id, fingerprints)
        .filter(instance::Column::Status.ne("resolved"))
        .order_by_asc(instance::Column::Id)
        .into_model::<InstanceHead>()
        .all(conn)
        .await?)
}

/// Of these cases, those in this status.
pub async fn cases_in_status(
    conn: &impl ConnectionTrait,
    ids: &[i64],
    status: &str,
) -> Result<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(case::Entity::find()
        .select_only()
        .column(case::Column::Id)
        .filter(case::Column::Id.is_in(rows::in_list(ids.iter().copied())))
        .filter(case::Column::Status.eq(status))
        .into_tuple::<i64>()
        .all(conn)
        .await?)
}

/// Marks instances resolved (or acknowledged) at `at`, in one statement.
pub async fn set_instances_status(
    conn: &impl ConnectionTrait,
    ids: &[i64],
    status: &str,
    at: Option<DateTime<Utc>>,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut q =
        instance::Entity::update_many().col_expr(instance::Column::Status, Expr::value(status));
    if let Some(at) = at {
        q = q.col_expr(instance::Column::ResolvedAt, Expr::value(at));
    }
    q.filter(instance::Column::Id.is_in(rows::in_list(ids.iter().copied())))
        .exec(conn)
        .await?;
    Ok(())
}

/// Which instances to list.
#[derive(Debug, Clone, Default)]
pub struct InstanceFilter {
    /// Of this definition.
    pub definition_id: Option<i64>,
    /// On this case.
    pub case_id: Option<i64>,
    /// Of this project.
    pub project_id: Option<i64>,
    /// In one of these statuses (any when empty).
    pub statuses: Vec<String>,
    /// With one of these filter actions (any when empty).
    pub actions: Vec<String>,
    /// Who lists them: instances of members-only projects only for their members (and admins),
    /// as their cases.
    pub viewer: crate::repo::incident::Viewer,
}

/// A page of instances, newest first, and how many match in all.
pub async fn instances(
    conn: &impl ConnectionTrait,
    f: &InstanceFilter,
    page: u64,
    per_page: u64,
) -> Result<(Vec<instance::Model>, u64)> {
    let mut q = instance::Entity::find().order_by_desc(instance::Column::Id);
    if let Some(c) = f
        .viewer
        .uses_project((instance::Entity, instance::Column::ProjectId))
    {
        q = q.filter(c);
    }
    if let Some(d) = f.definition_id {
        q = q.filter(instance::Column::DefinitionId.eq(d));
    }
    if let Some(c) = f.case_id {
        q = q.filter(instance::Column::CaseId.eq(c));
    }
    if let Some(p) = f.project_id {
        q = q.filter(instance::Column::ProjectId.eq(p));
    }
    if !f.statuses.is_empty() {
        q = q.filter(instance::Column::Status.is_in(f.statuses.iter().cloned()));
    }
    if !f.actions.is_empty() {
        q = q.filter(instance::Column::FilterAction.is_in(f.actions.iter().cloned()));
    }
    page_of(conn, q, page, per_page).await
}

/// Every instance of a case, oldest first.
pub async fn case_instances(
    conn: &impl ConnectionTrait,
    case_id: i64,
) -> Result<Vec<instance::Model>> {
    Ok(instance::Entity::find()
        .filter(instance::Column::CaseId.eq(case_id))
        .order_by_asc(instance::Column::Id)
        .all(conn)
        .await?)
}

/// A case by id.
pub async fn case(conn: &impl ConnectionTrait, id: i64) -> Result<case::Model> {
    case::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("case {id}")))
}

/// Cases by id (those that exist).
pub async fn cases_by_ids(conn: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<case::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(case::Entity::find()
        .filter(case::Column::Id.is_in(rows::in_list(ids.iter().copied())))
        .all(conn)
        .await?)
}

/// The cases escalated to an incident.
pub async fn cases_of_incident(
    conn: &impl ConnectionTrait,
    incident_id: i64,
) -> Result<Vec<case::Model>> {
    Ok(case::Entity::find()
        .filter(case::Column::IncidentId.eq(incident_id))
        .order_by_asc(case::Column::Id)
        .all(conn)
        .await?)
}

/// Which cases to list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Of this project.
    pub project_id: Option<i64>,
    /// In any of these statuses (any when empty).
    pub statuses: Vec<String>,
    /// Assigned to this e-mail address.
    pub assignee: Option<String>,
    /// Opened by this definition.
    pub definition_id: Option<i64>,
    /// With this priority slug.
    pub priority: Option<String>,
    /// Whose title or description holds each of these words (any case).
    pub words: Vec<String>,
    /// Carrying each of these tags (by name).
    pub tags: Vec<String>,
    /// Who lists them: cases of members-only projects only for their members (and admins).
    pub viewer: crate::repo::incident::Viewer,
}

/// A page of cases, newest first, and how many match in all.
pub async fn cases(
    conn: &impl ConnectionTrait,
    f: &CaseFilter,
    page: u64,
    per_page: u64,
) -> Result<(Vec<case::Model>, u64)> {
    let mut q = case::Entity::find().order_by_desc(case::Column::Id);
    if let Some(c) = f
        .viewer
        .uses_project((case::Entity, case::Column::ProjectId))
    {
        q = q.filter(c);
    }
    if let Some(p) = f.project_id {
        q = q.filter(case::Column::ProjectId.eq(p));
    }
    if !f.statuses.is_empty() {
        q = q.filter(case::Column::Status.is_in(f.statuses.iter().cloned()));
    }
    if let Some(a) = &f.assignee {
        q = q.filter(case::Column::Assignee.eq(a.clone()));
    }
    if let Some(d) = f.definition_id {
        q = q.filter(case::Column::DefinitionId.eq(d));
    }
    if let Some(p) = &f.priority {
        q = q.filter(case::Column::CasePriority.eq(p.clone()));
    }
    for t in &f.tags {
        q = q.filter(case::Column::Id.in_subquery(crate::repo::tag::cases_with_tag(t)));
    }
    for w in &f.words {
        let pattern = format!("%{}%", w.to_lowercase().replace(['%', '_', '\\'], ""));
        let lower = |c: case::Column| Expr::expr(Func::lower(Expr::col(c)));
        q = q.filter(
            Condition::any()
                .add(lower(case::Column::Title).like(pattern.clone()))
                .add(lower(case::Column::Description).like(pattern)),
        );
    }
    page_of(conn, q, page, per_page).await
}

/// Adds events to cases' timelines in one statement.
pub async fn add_case_events(
    conn: &impl ConnectionTrait,
    events: Vec<case_event::Model>,
) -> Result<()> {
    rows::insert_many(conn, events).await
}

/// A case's timeline, oldest first.
pub async fn case_events(
    conn: &impl ConnectionTrait,
    case_id: i64,
) -> Result<Vec<case_event::Model>> {
    Ok(case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(case_id))
        .order_by_asc(case_event::Column::Id)
        .all(conn)
        .await?)
}

/// Touches cases' `updated_at` in one statement.
pub async fn touch_cases(
    conn: &impl ConnectionTrait,
    ids: &[i64],
    at: DateTime<Utc>,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    case::Entity::update_many()
        .col_expr(case::Column::UpdatedAt, Expr::value(at))
        .filter(case::Column::Id.is_in(rows::in_list(ids.iter().copied())))
        .exec(conn)
        .await?;
    Ok(())
}

/// The cases (other than `case_id`) whose instances since `since` share one of these entity
/// values (`"type":"value"` fragments as stored), newest first, at most `limit`.
pub async fn related_cases(
    conn: &impl ConnectionTrait,
    project_id: i64,
    case_id: i64,
    fragments: &[String],
    since: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<i64>> {
    if fragments.is_empty() {
        return Ok(Vec::new());
    }
    let mut any = Condition::any();
    for f in fragments {
        any = any.add(instance::Column::Entities.contains(f));
    }
    let ids: Vec<Option<i64>> = instance::Entity::find()
        .select_only()
        .column(instance::Column::CaseId)
        .distinct()
        .filter(instance::Column::ProjectId.eq(project_id))
        .filter(instance::Column::ReceivedAt.gte(since))
        .filter(instance::Column::CaseId.is_not_null())
        .filter(instance::Column::CaseId.ne(case_id))
        .filter(any)
        .order_by_desc(instance::Column::CaseId)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(ids.into_iter().flatten().collect())
}
