//! Fast seeding: N incidents written straight into the database with multi-row inserts in big
//! transactions, with every row a real declaration writes (the incident, its reporter as a
//! participant holding the reporter and commander roles, three hash-chained timeline events),
//! plus a few tags. Titles and descriptions are made of real words so that search and filters
//! behave as they would on real data.

use super::sql::{exec, insert_rows, scalar};
use super::words::{capitalise, Rng, CAUSES, COMPONENTS, OBSERVATIONS, REGIONS, SYMPTOMS, TAGS};
use chrono::{DateTime, Duration, Utc};
use dispatch_core::event::TimelineEvent;
use dispatch_core::timeline::{to_micros, ChainedEvent, GENESIS};
use dispatch_core::{ParticipantRole, Visibility};
use dispatch_store::repo::{self, taxonomy};
use dispatch_store::{Backend, Db};
use sea_orm::{ConnectionTrait, Value};

/// Incidents written per transaction.
const BATCH: u64 = 5_000;

/// What the seeding produced, for the scenarios.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The default project's key prefix (`INC`).
    pub key_prefix: String,
    /// Numbers of the seeded incidents: `first..=last`.
    pub first: i64,
    /// The last seeded number.
    pub last: i64,
    /// The API token the scenarios call with.
    pub token: String,
    /// The token's person (the reporter of every bench declaration).
    pub reporter_id: i64,
    /// The reporter's e-mail.
    pub reporter_email: String,
}

/// Ids the rows point at.
struct Refs {
    project_id: i64,
    type_id: i64,
    priorities: Vec<(i64, String)>,
    severities: Vec<(i64, String)>,
    people: Vec<(i64, String)>,
    tags: Vec<(i64, String)>,
}

/// Migrates, seeds the defaults, writes `n` incidents and mints the bench's token.
pub async fn seed(db: &Db, n: u64) -> anyhow::Result<Seeded> {
    db.migrate().await?;
    dispatch_store::seed::ensure_defaults(db).await?;
    let conn = db.conn();
    let project = repo::project::default_project(conn).await?;
    let refs = references(db, project.id).await?;
    let first_id = scalar(
        conn,
        "SELECT COALESCE(MAX(id), 0) + 1 FROM incidents",
        vec![],
    )
    .await?;
    let first_participant = scalar(
        conn,
        "SELECT COALESCE(MAX(id), 0) + 1 FROM participants",
        vec![],
    )
    .await?;
    let first_number = project.incident_seq + 1;
    let mut rng = Rng::new(0x5EED ^ n);
    let now = to_micros(dispatch_core::now());
    let start = now - Duration::days(731);
    let step_us = (Duration::days(730).num_microseconds().unwrap_or(1) / n.max(1) as i64).max(1);
    let mut done = 0u64;
    while done < n {
        let size = BATCH.min(n - done);
        let mut b = Batch::default();
        for i in done..done + size {
            let at = start
                + Duration::microseconds(i as i64 * step_us + rng.below(step_us as u64) as i64);
            let inc = Draft {
                id: first_id + i as i64,
                participant_id: first_participant + i as i64,
                number: first_number + i as i64,
                reported_at: at,
            };
            b.add(&mut rng, &refs, &project.key_prefix, &inc);
        }
        let txn = db.write().await?;
        b.write(&*txn).await?;
        txn.commit().await?;
        done += size;
    }
    let last_number = first_number + n as i64 - 1;
    exec(
        conn,
        "UPDATE projects SET incident_seq = ? WHERE id = ?",
        vec![last_number.into(), project.id.into()],
    )
    .await?;
    if db.backend() == Backend::Postgres {
        for table in ["incidents", "participants"] {
            let sql = format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))");
            conn.execute_unprepared(&sql).await?;
        }
        conn.execute_unprepared("VACUUM ANALYZE").await?;
    }
    let engine = dispatch_engine::Engine::new(db.clone());
    let email = "bench@dispatch.local";
    let (token, row) = engine.credentials().create(email, "bench", "admin").await?;
    Ok(Seeded {
        key_prefix: project.key_prefix,
        first: first_number,
        last: last_number,
        token,
        reporter_id: row.individual_id,
        reporter_email: email.to_string(),
    })
}

/// Loads the taxonomy ids and creates the bench's people and tags (idempotently).
async fn references(db: &Db, project_id: i64) -> anyhow::Result<Refs> {
    let conn = db.conn();
    let now = dispatch_core::now();
    let txn = db.write().await?;
    for i in 0..40 {
        let email = format!("oncall{i:02}@bench.example");
        let name = format!("On-call {i:02}");
        exec(
            &*txn,
            "INSERT INTO individuals (email, name, created_at) VALUES (?, ?, ?) ON CONFLICT (email) DO NOTHING",
            vec![email.into(), name.into(), now.into()],
        )
        .await?;
    }
    for t in TAGS {
        exec(
            &*txn,
            "INSERT INTO tags (project_id, name, description, created_at) VALUES (?, ?, '', ?) ON CONFLICT (project_id, name) DO NOTHING",
            vec![project_id.into(), (*t).into(), now.into()],
        )
        .await?;
    }
    txn.commit().await?;
    let pairs = |rows: Vec<sea_orm::QueryResult>| -> anyhow::Result<Vec<(i64, String)>> {
        rows.iter()
            .map(|r| Ok((r.try_get_by_index(0)?, r.try_get_by_index(1)?)))
            .collect()
    };
    let people = pairs(
        super::sql::rows(conn, "SELECT id, email FROM individuals WHERE email LIKE 'oncall%@bench.example' ORDER BY id", vec![]).await?,
    )?;
    let tags = pairs(
        super::sql::rows(
            conn,
            "SELECT id, name FROM tags WHERE project_id = ? ORDER BY id",
            vec![project_id.into()],
        )
        .await?,
    )?;
    let priorities = taxonomy::priorities::list(conn, project_id)
        .await?
        .into_iter()
        .map(|p| (p.id, p.slug))
        .collect();
    let severities = taxonomy::severities::list(conn, project_id)
        .await?
        .into_iter()
        .map(|s| (s.id, s.slug))
        .collect();
    let type_id = taxonomy::types::default(conn, project_id).await?.id;
    anyhow::ensure!(
        !people.is_empty() && !tags.is_empty(),
        "the bench's people and tags are missing"
    );
    Ok(Refs {
        project_id,
        type_id,
        priorities,
        severities,
        people,
        tags,
    })
}

/// One incident to write.
struct Draft {
    id: i64,
    participant_id: i64,
    number: i64,
    reported_at: DateTime<Utc>,
}

/// Rows of one transaction, per table.
#[derive(Default)]
struct Batch {
    incidents: Vec<Vec<Value>>,
    events: Vec<Vec<Value>>,
    participants: Vec<Vec<Value>>,
    roles: Vec<Vec<Value>>,
    tags: Vec<Vec<Value>>,
}

impl Batch {
    /// Adds the rows of one incident.
    fn add(&mut self, rng: &mut Rng, refs: &Refs, prefix: &str, d: &Draft) {
        let component = rng.pick(COMPONENTS);
        let symptom = rng.pick(SYMPTOMS);
        let title = format!(
            "{} in {component} ({})",
            capitalise(symptom),
            rng.pick(REGIONS)
        );
        let description = format!(
            "Customers report {symptom} when using {component}. The on-call engineer saw {} on {} after {}.",
            rng.pick(OBSERVATIONS),
            rng.pick(COMPONENTS),
            rng.pick(CAUSES)
        );
        let roll = rng.below(100);
        let status = match roll {
            0..=19 => "active",
            20..=39 => "stable",
            _ => "closed",
        };
        let stable_at = (status != "active")
            .then(|| d.reported_at + Duration::minutes(30 + rng.below(600) as i64));
        let closed_at = (status == "closed").then(|| {
            stable_at.unwrap_or(d.reported_at) + Duration::hours(1 + rng.below(72) as i64)
        });
        let updated_at = closed_at.or(stable_at).unwrap_or(d.reported_at);
        let priority = &refs.priorities[match rng.below(10) {
            0..=5 => 0,
            6..=8 => 1,
            _ => 2,
        }
        .min(refs.priorities.len() - 1)];
        let severity = rng.pick(&refs.severities);
        let visibility = if rng.below(10) == 0 {
            Visibility::Restricted
        } else {
            Visibility::Open
        };
        let (person_id, email) = rng.pick(&refs.people);
        let mut tag_names = Vec::new();
        let tag_count = match rng.below(10) {
            0..=5 => 0,
            6..=8 => 1,
            _ => 2,
        };
        for _ in 0..tag_count {
            let (tag_id, name) = rng.pick(&refs.tags);
            if !tag_names.contains(name) {
                tag_names.push(name.clone());
                self.tags.push(vec![d.id.into(), (*tag_id).into()]);
            }
        }
        let name = format!("{prefix}-{}", d.number);
        let at = d.reported_at;
        let declared = TimelineEvent::IncidentDeclared {
            title: title.clone(),
            type_: "default".into(),
            priority: priority.1.clone(),
            severity: severity.1.clone(),
            visibility,
            tags: tag_names,
        };
        let role = |role| TimelineEvent::RoleAssumed {
            email: email.clone(),
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
            (kind, e.describe(email, &name), details)
        });
        let mut prev = GENESIS.to_string();
        for (seq, (kind, text, details)) in events.into_iter().enumerate() {
            let details = details.to_string();
            let hash = ChainedEvent {
                incident_name: &name,
                seq: seq as i64 + 1,
                occurred_at: at,
                kind: &kind,
                source: "dispatch",
                actor: Some(email),
                transport: "api",
                description: &text,
                details: &details,
                prev_hash: &prev,
            }
            .hash();
            self.events.push(vec![
                d.id.into(),
                (seq as i64 + 1).into(),
                at.into(),
                at.into(),
                kind.into(),
                "dispatch".into(),
                Some(email.clone()).into(),
                "api".into(),
                text.into(),
                details.into(),
                false.into(),
                std::mem::replace(&mut prev, hash.clone()).into(),
                hash.into(),
            ]);
        }
        let resolution: Option<String> = (status == "closed")
            .then(|| format!("Mitigated {} by reverting {}.", component, rng.pick(CAUSES)));
        self.incidents.push(vec![
            d.id.into(),
            refs.project_id.into(),
            d.number.into(),
            name.into(),
            title.into(),
            description.into(),
            resolution.into(),
            status.into(),
            visibility.as_str().into(),
            refs.type_id.into(),
            priority.0.into(),
            severity.0.into(),
            (*person_id).into(),
            (*person_id).into(),
            at.into(),
            stable_at.into(),
            closed_at.into(),
            at.into(),
            updated_at.into(),
            3i64.into(),
            prev.into(),
        ]);
        self.participants.push(vec![
            d.participant_id.into(),
            d.id.into(),
            (*person_id).into(),
            at.into(),
        ]);
        for role in ["reporter", "incident_commander"] {
            self.roles.push(vec![
                d.participant_id.into(),
                d.id.into(),
                role.into(),
                at.into(),
            ]);
        }
    }

    /// Writes the batch, parents first.
    async fn write(self, conn: &impl ConnectionTrait) -> anyhow::Result<()> {
        #[rustfmt::skip]
        let incident_columns = [
            "id", "project_id", "number", "name", "title", "description", "resolution", "status", "visibility",
            "type_id", "priority_id", "severity_id", "commander_id", "reporter_id", "reported_at", "stable_at",
            "closed_at", "created_at", "updated_at", "event_seq", "last_event_hash",
        ];
        insert_rows(conn, "incidents", &incident_columns, self.incidents).await?;
        #[rustfmt::skip]
        let event_columns = [
            "incident_id", "seq", "occurred_at", "recorded_at", "kind", "source", "actor", "transport",
            "description", "details", "pinned", "prev_hash", "hash",
        ];
        insert_rows(conn, "events", &event_columns, self.events).await?;
        insert_rows(
            conn,
            "participants",
            &["id", "incident_id", "individual_id", "created_at"],
            self.participants,
        )
        .await?;
        insert_rows(
            conn,
            "participant_roles",
            &["participant_id", "incident_id", "role", "assumed_at"],
            self.roles,
        )
        .await?;
        insert_rows(conn, "incident_tags", &["incident_id", "tag_id"], self.tags).await?;
        Ok(())
    }
}
