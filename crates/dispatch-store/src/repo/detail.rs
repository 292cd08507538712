//! Everything an incident's read shows besides its row — tags, participants with their people
//! and roles, resources, the latest tactical and executive reports, engagements, the total
//! cost — in one
//! statement: each part's rows become JSON objects (`json_object` on SQLite,
//! `json_build_object` on PostgreSQL) in one `UNION ALL`, decoded here into the same models the
//! other repositories return. The objects are built from the entities' own column lists, so a
//! new column is read without touching this file.

use crate::entity::{engagement, individual, participant, participant_role, report, resource};
use crate::error::{Result, StoreError};
use crate::repo::participant::ParticipantView;
use crate::repo::tag::TagRow;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, IdenStatic, Iterable, Statement};
use std::collections::HashMap;

/// An incident's parts, as [`parts`] reads them.
#[derive(Debug, Clone, Default)]
pub struct IncidentParts {
    /// Its tags, by name.
    pub tags: Vec<TagRow>,
    /// Its participants with their people and roles, oldest first.
    pub participants: Vec<ParticipantView>,
    /// What providers created for it, oldest first.
    pub resources: Vec<resource::Model>,
    /// The latest tactical report.
    pub last_tactical_report: Option<report::Model>,
    /// The latest executive report.
    pub last_executive_report: Option<report::Model>,
    /// Its engagements, oldest first.
    pub engagements: Vec<engagement::Model>,
    /// The sum of its costs in cents, if any was computed.
    pub total_cost_cents: Option<i64>,
}

/// `json_object('col', alias."col", …)` over every column of `E` (as text on PostgreSQL).
fn object<E: EntityTrait>(backend: DbBackend, alias: &str) -> String {
    let args: Vec<String> = E::Column::iter()
        .map(|c| format!("'{0}', {alias}.\"{0}\"", c.as_str()))
        .collect();
    match backend {
        DbBackend::Postgres => format!("json_build_object({})::text", args.join(", ")),
        _ => format!("json_object({})", args.join(", ")),
    }
}

/// A tag of an incident as a JSON object (`it`: `incident_tags`, `t`: `tags`, `tt`: `tag_types`).
fn tag_object(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "json_build_object('incident_id', it.incident_id, 'id', t.id, 'name', t.name, 'tag_type', tt.name)",
        _ => "json_object('incident_id', it.incident_id, 'id', t.id, 'name', t.name, 'tag_type', tt.name)",
    }
}

/// The tags of the incident in the row `"incidents"` (a page of them) as a JSON array of tag objects (a correlated
/// subquery for a page of incidents: run for the page's rows only).
pub(crate) fn tags_of_page(backend: DbBackend) -> String {
    let array = match backend {
        DbBackend::Postgres => format!(
            "coalesce(json_agg({}), '[]'::json)::text",
            tag_object(backend)
        ),
        _ => format!("json_group_array({})", tag_object(backend)),
    };
    format!(
        "(SELECT {array} FROM incident_tags it JOIN tags t ON t.id = it.tag_id \
         LEFT JOIN tag_types tt ON tt.id = t.tag_type_id WHERE it.incident_id = \"incidents\".\"id\")"
    )
}

/// Which of an incident's parts a read takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parts {
    /// Every part.
    All,
    /// Tags, participants (people and roles) and resources only — what providers are told of
    /// an incident; the latest reports, engagements and cost stay empty.
    People,
}

/// The one statement: `(part, doc)` rows, `$1` being the incident's id.
fn sql(backend: DbBackend) -> String {
    parts_of(backend, "$1", Parts::All)
}

/// The parts' `UNION ALL` for the incident whose id is the SQL expression `id`.
fn parts_of(backend: DbBackend, id: &str, which: Parts) -> String {
    let tag = match backend {
        DbBackend::Postgres => format!("{}::text", tag_object(backend)),
        _ => tag_object(backend).to_string(),
    };
    let latest = |kind: &str| {
        format!(
            "(SELECT id FROM reports WHERE incident_id = {id} AND kind = '{kind}' \
             ORDER BY created_at DESC, id DESC LIMIT 1)"
        )
    };
    let people = format!(
        "SELECT 'tag' AS part, {tag} AS doc FROM incident_tags it \
           JOIN tags t ON t.id = it.tag_id LEFT JOIN tag_types tt ON tt.id = t.tag_type_id \
           WHERE it.incident_id = {id} \
         UNION ALL SELECT 'participant', {participant} FROM participants p WHERE p.incident_id = {id} \
         UNION ALL SELECT 'individual', {individual} FROM individuals i \
           WHERE i.id IN (SELECT individual_id FROM participants WHERE incident_id = {id}) \
         UNION ALL SELECT 'role', {role} FROM participant_roles r WHERE r.incident_id = {id} \
         UNION ALL SELECT 'resource', {resource} FROM resources s WHERE s.incident_id = {id}",
        participant = object::<participant::Entity>(backend, "p"),
        individual = object::<individual::Entity>(backend, "i"),
        role = object::<participant_role::Entity>(backend, "r"),
        resource = object::<resource::Entity>(backend, "s"),
    );
    if which == Parts::People {
        return people;
    }
    format!(
        "{people} \
         UNION ALL SELECT 'report', {report} FROM reports o \
           WHERE o.id = {tactical} OR o.id = {executive} \
         UNION ALL SELECT 'engagement', {engagement} FROM engagements e WHERE e.incident_id = {id} \
         UNION ALL SELECT 'cost', CAST(c.total AS TEXT) FROM \
           (SELECT SUM(amount_cents) AS total FROM incident_costs WHERE incident_id = {id}) c \
           WHERE c.total IS NOT NULL",
        report = object::<report::Entity>(backend, "o"),
        engagement = object::<engagement::Entity>(backend, "e"),
        tactical = latest("tactical"),
        executive = latest("executive"),
    )
}

/// Decodes one part's JSON.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(part: &str, doc: &str) -> Result<T> {
    serde_json::from_str(doc).map_err(|e| {
        StoreError::Db(sea_orm::DbErr::Custom(format!(
            "an incident's {part} row did not decode: {e}"
        )))
    })
}

/// The parts of incident `incident_id`, in one statement.
pub async fn parts(conn: &impl ConnectionTrait, incident_id: i64) -> Result<IncidentParts> {
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all(Statement::from_sql_and_values(
            backend,
            sql(backend),
            [incident_id.into()],
        ))
        .await?;
    let rows = rows
        .iter()
        .map(|row| Ok((row.try_get("", "part")?, row.try_get("", "doc")?)))
        .collect::<Result<Vec<(String, String)>>>()?;
    assemble(rows)
}

/// The row of the incident `r` if `viewer` may see it, with its parts (`which`), in one
/// statement: the parts come as one JSON array of `[part, doc]` pairs, a column of the row.
/// `None` both when it does not exist and when it is hidden.
pub async fn visible_with_parts(
    conn: &impl ConnectionTrait,
    viewer: crate::repo::incident::Viewer,
    r: &dispatch_core::values::IncidentRef,
    which: Parts,
) -> Result<Option<(crate::repo::incident::IncidentRow, IncidentParts)>> {
    use sea_orm::sea_query::{Alias, Expr};
    use sea_orm::FromQueryResult;
    let backend = conn.get_database_backend();
    let union = parts_of(backend, "\"incidents\".\"id\"", which);
    let array = match backend {
        DbBackend::Postgres => {
            "coalesce(json_agg(json_build_array(x.part, x.doc)), '[]'::json)::text"
        }
        _ => "json_group_array(json_array(x.part, x.doc))",
    };
    let mut q = crate::repo::incident::visible_select(viewer, r);
    q.expr_as(
        Expr::cust(format!("(SELECT {array} FROM ({union}) AS x)")),
        Alias::new("parts_json"),
    );
    let Some(row) = conn.query_one(backend.build(&q)).await? else {
        return Ok(None);
    };
    let incident = crate::repo::incident::IncidentRow::from_query_result(&row, "")?;
    let json: String = row.try_get("", "parts_json")?;
    let pairs: Vec<(String, String)> = decode("parts", &json)?;
    Ok(Some((incident, assemble(pairs)?)))
}

/// The parts from their `(part, doc)` rows.
fn assemble(rows: Vec<(String, String)>) -> Result<IncidentParts> {
    let mut out = IncidentParts::default();
    let mut participants: Vec<participant::Model> = Vec::new();
    let mut people: HashMap<i64, individual::Model> = HashMap::new();
    let mut roles: Vec<participant_role::Model> = Vec::new();
    for (part, doc) in rows {
        match part.as_str() {
            "tag" => out.tags.push(decode(&part, &doc)?),
            "participant" => participants.push(decode(&part, &doc)?),
            "individual" => {
                let i: individual::Model = decode(&part, &doc)?;
                people.insert(i.id, i);
            }
            "role" => roles.push(decode(&part, &doc)?),
            "resource" => out.resources.push(decode(&part, &doc)?),
            "report" => {
                let r: report::Model = decode(&part, &doc)?;
                match r.kind.as_str() {
                    "tactical" => out.last_tactical_report = Some(r),
                    _ => out.last_executive_report = Some(r),
                }
            }
            "cost" => {
                out.total_cost_cents = Some(doc.trim().parse().map_err(|e| {
                    StoreError::Db(sea_orm::DbErr::Custom(format!(
                        "an incident's total cost {doc:?} did not decode: {e}"
                    )))
                })?)
            }
            _ => out.engagements.push(decode(&part, &doc)?),
        }
    }
    out.tags.sort_by(|a, b| a.name.cmp(&b.name));
    out.resources.sort_by_key(|r| r.id);
    out.engagements.sort_by_key(|e| e.id);
    participants.sort_by_key(|p| p.id);
    roles.sort_by_key(|r| r.id);
    out.participants = participants
        .into_iter()
        .filter_map(|participant| {
            let individual = people.get(&participant.individual_id)?.clone();
            let roles = roles
                .iter()
                .filter(|r| r.participant_id == participant.id)
                .cloned()
                .collect();
            Some(ParticipantView {
                participant,
                individual,
                roles,
            })
        })
        .collect();
    Ok(out)
}
