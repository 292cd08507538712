//! The floors' database work, in raw SQL through the same database: the selects the API runs for
//! a read (the same statements, in the same order), and for a declaration one transaction that
//! writes the same rows. Nothing else: no token lookup, no ORM models, no JSON.

use super::sql::{exec, rows, scalar};
use anyhow::Context;
use chrono::{DateTime, Utc};
use dispatch_core::event::TimelineEvent;
use dispatch_core::timeline::{to_micros, ChainedEvent, GENESIS};
use dispatch_core::{ParticipantRole, Visibility};
use dispatch_store::{Backend, Batched, Db};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use serde_json::json;

/// The joined select every incident read starts from (as `repo::incident::base_select` builds it).
const INCIDENT_SELECT: &str = r#"SELECT "incidents"."id", "incidents"."project_id", "incidents"."number", "incidents"."name", "incidents"."title", "incidents"."description", "incidents"."resolution", "incidents"."status", "incidents"."visibility", "incidents"."type_id", "incidents"."priority_id", "incidents"."severity_id", "incidents"."commander_id", "incidents"."reporter_id", "incidents"."reported_at", "incidents"."stable_at", "incidents"."closed_at", "incidents"."created_at", "incidents"."updated_at", "projects"."slug" AS "project_slug", "projects"."name" AS "project_name", "incident_types"."slug" AS "type_slug", "incident_types"."name" AS "type_name", "incident_priorities"."slug" AS "priority_slug", "incident_priorities"."name" AS "priority_name", "incident_severities"."slug" AS "severity_slug", "incident_severities"."name" AS "severity_name", "cmd"."email" AS "commander_email", "cmd"."name" AS "commander_name", "rep"."email" AS "reporter_email", "rep"."name" AS "reporter_name" FROM "incidents" INNER JOIN "projects" ON "projects"."id" = "incidents"."project_id" INNER JOIN "incident_types" ON "incident_types"."id" = "incidents"."type_id" INNER JOIN "incident_priorities" ON "incident_priorities"."id" = "incidents"."priority_id" INNER JOIN "incident_severities" ON "incident_severities"."id" = "incidents"."severity_id" INNER JOIN "individuals" AS "cmd" ON "cmd"."id" = "incidents"."commander_id" INNER JOIN "individuals" AS "rep" ON "rep"."id" = "incidents"."reporter_id""#;

const TAGS_SELECT: &str = r#"SELECT "incident_tags"."incident_id", "tags"."id", "tags"."name", "tag_types"."name" AS "tag_type" FROM "incident_tags" INNER JOIN "tags" ON "tags"."id" = "incident_tags"."tag_id" LEFT JOIN "tag_types" ON "tag_types"."id" = "tags"."tag_type_id" WHERE "incident_tags"."incident_id" IN "#;
const TAGS_ORDER: &str = r#" ORDER BY "tags"."name" ASC"#;
const PARTICIPANTS: &str = r#"SELECT "participants"."id", "participants"."incident_id", "participants"."individual_id", "participants"."team_id", "participants"."added_reason", "participants"."created_at" FROM "participants" WHERE "participants"."incident_id" = ? ORDER BY "participants"."id" ASC"#;
const INDIVIDUALS: &str = r#"SELECT "individuals"."id", "individuals"."email", "individuals"."name", "individuals"."title", "individuals"."weblink", "individuals"."matrix_id", "individuals"."created_at" FROM "individuals" WHERE "individuals"."id" IN "#;
const ROLES: &str = r#"SELECT "participant_roles"."id", "participant_roles"."participant_id", "participant_roles"."incident_id", "participant_roles"."role", "participant_roles"."assumed_at", "participant_roles"."renounced_at" FROM "participant_roles" WHERE "participant_roles"."incident_id" = ? ORDER BY "participant_roles"."id" ASC"#;
const RESOURCES: &str = r#"SELECT "resources"."id", "resources"."incident_id", "resources"."kind", "resources"."provider", "resources"."external_id", "resources"."link", "resources"."status", "resources"."last_error", "resources"."created_at", "resources"."updated_at" FROM "resources" WHERE "resources"."incident_id" IN (?) ORDER BY "resources"."id" ASC"#;
/// The page's bounds follow as numbers in the text, as the API writes them.
const ORDER_PAGE: &str = r#" ORDER BY "incidents"."reported_at" DESC, "incidents"."id" DESC"#;
const STATUS_IN: &str = r#""incidents"."status" IN (?)"#;
const FTS_SQLITE: &str =
    r#""incidents"."id" IN (SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH ?)"#;
const FTS_POSTGRES: &str = r#""incidents"."search_vector" @@ to_tsquery('simple', ?)"#;

/// `(?, ?, …)` for `n` values.
fn list_of(n: usize) -> String {
    format!("({})", vec!["?"; n.max(1)].join(", "))
}

/// Reads the first column of every row as an id.
fn ids(rows: &[QueryResult], column: usize) -> anyhow::Result<Vec<i64>> {
    rows.iter()
        .map(|r| Ok(r.try_get_by_index::<i64>(column)?))
        .collect()
}

/// The tags of the given incidents (skipped when there are none, as the API does).
async fn tags(conn: &impl ConnectionTrait, incident_ids: &[i64]) -> anyhow::Result<usize> {
    if incident_ids.is_empty() {
        return Ok(0);
    }
    let sql = format!("{TAGS_SELECT}{}{TAGS_ORDER}", list_of(incident_ids.len()));
    Ok(
        rows(conn, &sql, incident_ids.iter().map(|&i| i.into()).collect())
            .await?
            .len(),
    )
}

/// What `GET /api/v1/incidents/{key}` reads: the incident, its tags, participants with their
/// people, roles and resources. Returns the number of rows read.
pub async fn get(db: &Db, key: &str) -> anyhow::Result<usize> {
    let conn = db.conn();
    let found = rows(
        conn,
        &format!(r#"{INCIDENT_SELECT} WHERE "incidents"."name" = ?"#),
        vec![key.into()],
    )
    .await?;
    let id = *ids(&found, 0)?
        .first()
        .ok_or_else(|| anyhow::anyhow!("{key} is not in the database"))?;
    let mut n = found.len() + tags(conn, &[id]).await?;
    let people = rows(conn, PARTICIPANTS, vec![id.into()]).await?;
    let individual_ids = ids(&people, 2)?;
    let sql = format!("{INDIVIDUALS}{}", list_of(individual_ids.len()));
    n += people.len()
        + rows(
            conn,
            &sql,
            individual_ids.into_iter().map(Into::into).collect(),
        )
        .await?
        .len();
    n += rows(conn, ROLES, vec![id.into()]).await?.len();
    n += rows(conn, RESOURCES, vec![id.into()]).await?.len();
    Ok(n)
}

/// A list filter: the SQL condition and its one value.
fn condition(db: &Db, status: Option<&str>, word: Option<&str>) -> (String, Vec<Value>) {
    let mut parts = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if let Some(s) = status {
        parts.push(STATUS_IN.to_string());
        values.push(s.into());
    }
    if let Some(w) = word {
        let (sql, query) = match db.backend() {
            Backend::Postgres => (FTS_POSTGRES, format!("{w}:*")),
            Backend::Sqlite => (FTS_SQLITE, format!("\"{w}\"*")),
        };
        parts.push(sql.to_string());
        values.push(query.into());
    }
    (parts.join(" AND "), values)
}

/// What `GET /api/v1/incidents?…` reads: the count, one page of the joined select and the page's
/// tags. `status` filters like `?status=`, `word` searches like `?q=`. Returns rows read.
pub async fn list(
    db: &Db,
    status: Option<&str>,
    word: Option<&str>,
    page: u64,
    per_page: u64,
) -> anyhow::Result<usize> {
    let conn = db.conn();
    let (cond, values) = condition(db, status, word);
    let count_sql = format!(r#"SELECT COUNT(*) FROM "incidents" WHERE {cond}"#);
    let total = scalar(conn, &count_sql, values.clone()).await?;
    let offset = page.saturating_sub(1) * per_page;
    let found = rows(
        conn,
        &format!("{INCIDENT_SELECT} WHERE {cond}{ORDER_PAGE} LIMIT {per_page} OFFSET {offset}"),
        values,
    )
    .await?;
    let n = found.len() + tags(conn, &ids(&found, 0)?).await?;
    Ok(n + usize::from(total > 0))
}

/// Who declares in the floor's transaction, and the key prefix of the default project.
pub struct Declarer<'a> {
    /// The reporter's individual id.
    pub id: i64,
    /// The reporter's e-mail (on the timeline).
    pub email: &'a str,
    /// The default project's key prefix.
    pub prefix: &'a str,
}

const NEXT_NUMBER: &str =
    "UPDATE projects SET incident_seq = incident_seq + 1 WHERE is_default = ? RETURNING incident_seq";
/// PostgreSQL: the number with the keys of the incident and its participant, as the API takes them.
const NEXT_NUMBER_KEYS: &str = "UPDATE projects SET incident_seq = incident_seq + 1 \
    WHERE is_default = ? RETURNING incident_seq, nextval(pg_get_serial_sequence('incidents', 'id')), \
    nextval(pg_get_serial_sequence('participants', 'id'))";
/// The incident, with the default project's default type, priority and severity: its id named
/// first (`id, ` and `?, `) or answered (` RETURNING id`).
macro_rules! insert_incident {
    ($id:literal, $key:literal, $returning:literal) => {
        concat!(
            "INSERT INTO incidents (",
            $id,
            "project_id, number, name, title, description, status, visibility, type_id, \
             priority_id, severity_id, commander_id, reporter_id, reported_at, created_at, \
             updated_at, event_seq, last_event_hash) SELECT ",
            $key,
            "p.id, ?, ?, ?, ?, 'active', 'open', t.id, pr.id, s.id, ?, ?, ?, ?, ?, 3, ? \
             FROM projects p \
             JOIN incident_types t ON t.project_id = p.id AND t.is_default \
             JOIN incident_priorities pr ON pr.project_id = p.id AND pr.is_default \
             JOIN incident_severities s ON s.project_id = p.id AND s.is_default \
             WHERE p.is_default",
            $returning
        )
    };
}
const INSERT_INCIDENT: &str = insert_incident!("", "", " RETURNING id");
const INSERT_INCIDENT_KEYED: &str = insert_incident!("id, ", "?, ", "");
const INSERT_EVENTS: &str =
    "INSERT INTO events (incident_id, seq, occurred_at, recorded_at, kind, \
    source, actor, transport, description, details, pinned, prev_hash, hash) VALUES ";
const INSERT_PARTICIPANT: &str =
    "INSERT INTO participants (incident_id, individual_id, created_at) VALUES (?, ?, ?) RETURNING id";
const INSERT_PARTICIPANT_KEYED: &str =
    "INSERT INTO participants (id, incident_id, individual_id, created_at) VALUES (?, ?, ?, ?)";
/// The six resources of the declare saga, pending.
const INSERT_RESOURCES: &str = "INSERT INTO resources (incident_id, kind, provider, status, created_at, updated_at) VALUES \
    (?, 'ticket', 'dispatch-ticket', 'pending', ?, ?), (?, 'group', 'dispatch-group', 'pending', ?, ?), \
    (?, 'storage', 'dispatch-storage', 'pending', ?, ?), \
    (?, 'document', 'dispatch-document', 'pending', ?, ?), (?, 'conference', 'dispatch-conference', 'pending', ?, ?), \
    (?, 'conversation', 'dispatch-room', 'pending', ?, ?) ON CONFLICT (incident_id, kind) DO NOTHING";
/// The saga's first job.
const INSERT_JOB: &str =
    "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, idempotency_key, \
    incident_id, created_at, updated_at) VALUES ('provision', ?, 'queued', 0, 8, ?, ?, ?, ?, ?) \
    ON CONFLICT (idempotency_key) DO NOTHING";
const INSERT_ROLES: &str =
    "INSERT INTO participant_roles (participant_id, incident_id, role, assumed_at) \
    VALUES (?, ?, 'reporter', ?), (?, ?, 'incident_commander', ?)";

/// The three timeline events of a declaration as `events` rows without their incident id (the
/// chain covers the key, not the id), and the chain's head hash.
fn declared_events(
    name: &str,
    who: &Declarer<'_>,
    title: &str,
    now: DateTime<Utc>,
) -> (Vec<Vec<Value>>, String) {
    let email = who.email;
    let declared = TimelineEvent::IncidentDeclared {
        title: title.to_string(),
        type_: "default".into(),
        priority: "low".into(),
        severity: "undetermined".into(),
        visibility: Visibility::Open,
        tags: Vec::new(),
    };
    let role = |role| TimelineEvent::RoleAssumed {
        email: email.to_string(),
        role,
        reason: Some(None),
    };
    let events = [
        declared,
        role(ParticipantRole::Reporter),
        role(ParticipantRole::IncidentCommander),
    ]
    .map(|e| {
        let (kind, details) = e.encode();
        (kind, e.describe(email, name), details)
    });
    let mut prev = GENESIS.to_string();
    let mut rows: Vec<Vec<Value>> = Vec::with_capacity(3);
    for (i, (kind, text, details)) in events.into_iter().enumerate() {
        let seq = i as i64 + 1;
        let details = details.to_string();
        let hash = ChainedEvent {
            incident_name: name,
            seq,
            occurred_at: now,
            kind: &kind,
            source: "dispatch",
            actor: Some(email),
            transport: "api",
            description: &text,
            details: &details,
            prev_hash: &prev,
        }
        .hash();
        let prev_hash = std::mem::replace(&mut prev, hash.clone());
        #[rustfmt::skip]
        rows.push(vec![
            seq.into(), now.into(), now.into(), kind.into(), "dispatch".into(), email.into(),
            "api".into(), text.into(), details.into(), false.into(), prev_hash.into(), hash.into(),
        ]);
    }
    (rows, prev)
}

/// The rows a declaration writes, in one transaction: the project's next number, the incident
/// (with the default taxonomy, resolved in the same statement), its three chained events, the
/// reporter as participant and the two roles, the six pending resources and the saga's first
/// job (announced with NOTIFY on PostgreSQL); on PostgreSQL the keys come with the number and
/// the inserts go as one statement, as the API sends them. Returns the key.
pub async fn declare(
    db: &Db,
    who: &Declarer<'_>,
    title: &str,
    description: &str,
) -> anyhow::Result<String> {
    let txn = db.write().await?;
    // As the API: on PostgreSQL the keys come with the number and the inserts go as one
    // statement; SQLite's inserts answer their keys.
    let batch = Batched::new(&*txn);
    let conn = &batch;
    let now = to_micros(dispatch_core::now());
    let (number, keys) = match db.backend() {
        Backend::Postgres => {
            let taken = rows(conn, NEXT_NUMBER_KEYS, vec![true.into()]).await?;
            let row = taken.first().context("no row from the project's counter")?;
            let key = |i| row.try_get_by_index::<i64>(i);
            (key(0)?, Some((key(1)?, key(2)?)))
        }
        Backend::Sqlite => (scalar(conn, NEXT_NUMBER, vec![true.into()]).await?, None),
    };
    let name = format!("{}-{number}", who.prefix);
    let (events, head) = declared_events(&name, who, title, now);
    #[rustfmt::skip]
    let mut values = vec![
        number.into(), name.clone().into(), title.into(), description.into(), who.id.into(), who.id.into(),
        now.into(), now.into(), now.into(), head.into(),
    ];
    let id = match keys {
        Some((id, _)) => {
            values.insert(0, id.into());
            exec(conn, INSERT_INCIDENT_KEYED, values).await?;
            id
        }
        None => scalar(conn, INSERT_INCIDENT, values).await?,
    };
    let events = events
        .into_iter()
        .flat_map(|row| std::iter::once(Value::from(id)).chain(row))
        .collect();
    let sql = format!(
        "{INSERT_EVENTS}{}",
        [list_of(13), list_of(13), list_of(13)].join(", ")
    );
    exec(conn, &sql, events).await?;
    let participant = match keys {
        Some((_, key)) => {
            let values = vec![key.into(), id.into(), who.id.into(), now.into()];
            exec(conn, INSERT_PARTICIPANT_KEYED, values).await?;
            key
        }
        None => {
            let values = vec![id.into(), who.id.into(), now.into()];
            scalar(conn, INSERT_PARTICIPANT, values).await?
        }
    };
    #[rustfmt::skip]
    let roles = vec![participant.into(), id.into(), now.into(), participant.into(), id.into(), now.into()];
    exec(conn, INSERT_ROLES, roles).await?;
    let resources: Vec<Value> = (0..6)
        .flat_map(|_| [Value::from(id), now.into(), now.into()])
        .collect();
    exec(conn, INSERT_RESOURCES, resources).await?;
    #[rustfmt::skip]
    let job = vec![
        json!({"incident_id": id, "kind": "ticket"}).to_string().into(), now.into(),
        format!("provision:{id}:ticket").into(), id.into(), now.into(), now.into(),
    ];
    exec(conn, INSERT_JOB, job).await?;
    batch.flush().await?;
    txn.commit().await?;
    Ok(name)
}
