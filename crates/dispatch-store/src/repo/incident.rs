//! Incidents: insert, the joined read model (with project, taxonomy and people names), and the
//! filtered, sorted, paged list.

use crate::entity::{
    incident, incident_priority, incident_severity, incident_type, individual, project,
};
use crate::error::{Result, StoreError};
use crate::repo::search;
use chrono::{DateTime, Utc};
use dispatch_core::values::IncidentRef;
use dispatch_core::{IncidentStatus, Visibility};
use sea_orm::sea_query::{Alias, Expr, JoinType, Order, Query, SelectStatement};
use sea_orm::{
    ConnectionTrait, EntityTrait, FromQueryResult, IdenStatic, QueryFilter, QuerySelect,
};

/// An incident with the names of everything it points at: what reads return.
#[derive(Debug, Clone, FromQueryResult)]
pub struct IncidentRow {
    pub id: i64,
    pub project_id: i64,
    pub project_slug: String,
    pub project_name: String,
    /// Whether its project is members-only.
    pub project_members_only: bool,
    pub number: i64,
    pub name: String,
    pub title: String,
    pub description: String,
    pub resolution: Option<String>,
    pub status: String,
    pub visibility: String,
    pub type_id: i64,
    pub type_slug: String,
    pub type_name: String,
    pub priority_id: i64,
    pub priority_slug: String,
    pub priority_name: String,
    pub severity_id: i64,
    pub severity_slug: String,
    pub severity_name: String,
    pub commander_id: i64,
    pub commander_email: String,
    pub commander_name: String,
    pub reporter_id: i64,
    pub reporter_email: String,
    pub reporter_name: String,
    pub reported_at: DateTime<Utc>,
    pub stable_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl IncidentRow {
    /// What the in-memory filter match looks at: this row and its tags.
    pub fn filter_subject(
        &self,
        tags: &[crate::repo::tag::TagRow],
    ) -> dispatch_core::filter::FilterSubject {
        let row = self;
        dispatch_core::filter::FilterSubject {
            project: (row.project_slug.clone(), row.project_name.clone()),
            incident_type: (row.type_slug.clone(), row.type_name.clone()),
            priority: (row.priority_slug.clone(), row.priority_name.clone()),
            severity: (row.severity_slug.clone(), row.severity_name.clone()),
            status: row.status.clone(),
            visibility: row.visibility.clone(),
            title: row.title.clone(),
            description: row.description.clone(),
            tags: tags
                .iter()
                .map(|t| (t.name.clone(), t.tag_type.clone()))
                .collect(),
        }
    }
}

/// The fields a list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortField {
    /// When it was reported (the default, newest first).
    #[default]
    ReportedAt,
    /// Last change.
    UpdatedAt,
    /// When it became stable.
    StableAt,
    /// When it was closed.
    ClosedAt,
    /// Incident number (key order within a project).
    Number,
    /// Title.
    Title,
    /// Status.
    Status,
}

impl SortField {
    /// Every accepted sort name.
    pub const NAMES: &'static [&'static str] = &[
        "reported_at",
        "updated_at",
        "stable_at",
        "closed_at",
        "name",
        "title",
        "status",
    ];

    /// Parses a sort name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "reported_at" | "created_at" => SortField::ReportedAt,
            "updated_at" => SortField::UpdatedAt,
            "stable_at" => SortField::StableAt,
            "closed_at" => SortField::ClosedAt,
            "name" | "number" | "key" => SortField::Number,
            "title" => SortField::Title,
            "status" => SortField::Status,
            _ => return None,
        })
    }

    fn column(self) -> incident::Column {
        match self {
            SortField::ReportedAt => incident::Column::ReportedAt,
            SortField::UpdatedAt => incident::Column::UpdatedAt,
            SortField::StableAt => incident::Column::StableAt,
            SortField::ClosedAt => incident::Column::ClosedAt,
            SortField::Number => incident::Column::Id,
            SortField::Title => incident::Column::Title,
            SortField::Status => incident::Column::Status,
        }
    }
}

/// Whose eyes a read is for. This is the one place that decides which incidents a reader may
/// see: restricted incidents are visible only to admins (and Dispatch itself) and to their
/// participants; the incidents of a members-only project only to admins, the project's members
/// and the incident's participants. A participant is someone who takes part now: with a role
/// in force ([`super::participant::in_force`]), so removing someone shuts them out at once.
/// Every list of incidents, or of rows that belong to
/// incidents, applies it, and so does every read of one incident ([`visible`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Viewer {
    /// Open incidents of projects open to everyone (the safe default: what may be told to
    /// anyone, e.g. a distribution list).
    #[default]
    OpenOnly,
    /// What this individual may see: open incidents of projects open to everyone or that they
    /// belong to, and every incident they take part in.
    Individual(i64),
    /// Every incident: admins and Dispatch itself.
    Everyone,
}

/// `incidents.project_id` is a members-only project.
fn in_members_only_project() -> sea_orm::sea_query::SimpleExpr {
    Expr::col((incident::Entity, incident::Column::ProjectId)).in_subquery(members_only_projects())
}

/// The ids of the members-only projects.
pub(crate) fn members_only_projects() -> SelectStatement {
    Query::select()
        .column((project::Entity, project::Column::Id))
        .from(project::Entity)
        .and_where(Expr::col((project::Entity, project::Column::MembersOnly)).eq(true))
        .to_owned()
}

/// The ids of the projects the individual `who` is a member of.
pub(crate) fn member_projects(who: i64) -> SelectStatement {
    use crate::entity::{project_member, user};
    Query::select()
        .column((project_member::Entity, project_member::Column::ProjectId))
        .from(project_member::Entity)
        .inner_join(
            user::Entity,
            Expr::col((user::Entity, user::Column::Id))
                .equals((project_member::Entity, project_member::Column::UserId)),
        )
        .and_where(Expr::col((user::Entity, user::Column::IndividualId)).eq(who))
        .to_owned()
}

impl Viewer {
    /// The condition on a table's project id column: a project whose records the viewer may
    /// list (every project open to everyone, and the members-only ones they belong to).
    pub fn uses_project(
        self,
        project_id: impl sea_orm::sea_query::IntoColumnRef + Clone,
    ) -> Option<sea_orm::sea_query::SimpleExpr> {
        let open = Expr::col(project_id.clone())
            .in_subquery(members_only_projects())
            .not();
        match self {
            Viewer::Everyone => None,
            Viewer::OpenOnly => Some(open),
            Viewer::Individual(who) => {
                Some(open.or(Expr::col(project_id).in_subquery(member_projects(who))))
            }
        }
    }
}

impl Viewer {
    /// The condition over `incidents` a row must meet to be visible (`None`: every row).
    pub fn condition(self) -> Option<sea_orm::sea_query::SimpleExpr> {
        let open = Expr::col((incident::Entity, incident::Column::Visibility))
            .eq(Visibility::Open.as_str());
        match self {
            Viewer::Everyone => None,
            Viewer::OpenOnly => Some(open.and(in_members_only_project().not())),
            Viewer::Individual(who) => {
                let takes_part = Expr::col((incident::Entity, incident::Column::Id))
                    .in_subquery(super::participant::taking_part(who));
                let belongs = Expr::col((incident::Entity, incident::Column::ProjectId))
                    .in_subquery(member_projects(who));
                Some(
                    open.and(in_members_only_project().not().or(belongs))
                        .or(takes_part),
                )
            }
        }
    }

    /// The condition on another table's incident id column: its incident is visible (rows with
    /// no incident are not, unless the viewer sees everything).
    pub fn owns(
        self,
        incident_id: impl sea_orm::sea_query::IntoColumnRef,
    ) -> Option<sea_orm::sea_query::SimpleExpr> {
        self.condition().map(|c| {
            Expr::col(incident_id).in_subquery(
                Query::select()
                    .column((incident::Entity, incident::Column::Id))
                    .from(incident::Entity)
                    .and_where(c)
                    .to_owned(),
            )
        })
    }
}

/// Whether `viewer` may see the incident `id`: the same condition every list applies.
pub async fn visible(conn: &impl ConnectionTrait, viewer: Viewer, id: i64) -> Result<bool> {
    Ok(count_visible(conn, viewer, &[id]).await? > 0)
}

/// How many of the incidents `ids` (distinct) `viewer` may see.
pub async fn count_visible(
    conn: &impl ConnectionTrait,
    viewer: Viewer,
    ids: &[i64],
) -> Result<u64> {
    use sea_orm::{ColumnTrait, PaginatorTrait};
    // Someone who sees everything needs no query.
    let Some(c) = viewer.condition() else {
        return Ok(ids.len() as u64);
    };
    let q = incident::Entity::find()
        .filter(incident::Column::Id.is_in(ids.iter().copied()))
        .filter(c);
    Ok(q.count(conn).await?)
}

/// The plain row of an incident by id or key if `viewer` may see it (the condition every list
/// applies), in one query; `None` both when it does not exist and when it is hidden.
pub async fn visible_row(
    conn: &impl ConnectionTrait,
    viewer: Viewer,
    r: &IncidentRef,
) -> Result<Option<incident::Model>> {
    let mut find = by_ref(r);
    if let Some(c) = viewer.condition() {
        find = find.filter(c);
    }
    Ok(find.one(conn).await?)
}

/// A select of the incident with this id or key.
fn by_ref(r: &IncidentRef) -> sea_orm::Select<incident::Entity> {
    use sea_orm::ColumnTrait;
    let find = incident::Entity::find();
    match r {
        IncidentRef::Id(id) => find.filter(incident::Column::Id.eq(id.0)),
        IncidentRef::Key(key) => find.filter(key_condition(key)),
    }
}

/// The names incidents had before they were renamed (e.g. to their Jira issue's key), so links
/// and commands that use an old name still find them.
const ALIASES: &str = "incident_aliases";

/// The incident whose name, or one of whose former names, is `key`: `id = (its id by name
/// UNION ALL its id by alias LIMIT 1)`, a sub-query each database runs once, before the joins,
/// as two unique-index look-ups; the current name wins over another incident's former one.
/// (An `OR` of the two made PostgreSQL scan every incident, and an `IN` joined every incident
/// to its look-ups before filtering.)
fn key_condition(key: &str) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{SimpleExpr, SubQueryStatement, UnionType};
    let id = Query::select()
        .column(incident::Column::Id)
        .from(incident::Entity)
        .and_where(Expr::col(incident::Column::Name).eq(key))
        .union(
            UnionType::All,
            Query::select()
                .column(Alias::new("incident_id"))
                .from(Alias::new(ALIASES))
                .and_where(Expr::col(Alias::new("name")).eq(key))
                .to_owned(),
        )
        .limit(1)
        .to_owned();
    Expr::col((incident::Entity, incident::Column::Id)).eq(SimpleExpr::SubQuery(
        None,
        Box::new(SubQueryStatement::SelectStatement(id)),
    ))
}

/// Renames an incident to `to`, keeping its name so far as an alias that still finds it.
/// `None` (nothing changed) when `to` already names an incident, now or formerly.
pub async fn rename(
    conn: &impl ConnectionTrait,
    before: &incident::Model,
    to: &str,
) -> Result<Option<incident::Model>> {
    use sea_orm::{ColumnTrait, PaginatorTrait};
    let taken = incident::Entity::find()
        .filter(key_condition(to))
        .count(conn)
        .await?
        > 0;
    // A name a project of ours would give one day (`OPS-7` while a project has the prefix OPS)
    // is not taken either.
    let ours = match to.rsplit_once('-') {
        Some((prefix, n)) if n.parse::<u64>().is_ok() => {
            project::Entity::find()
                .filter(project::Column::KeyPrefix.eq(prefix.to_ascii_uppercase()))
                .count(conn)
                .await?
                > 0
        }
        _ => false,
    };
    if taken || ours {
        return Ok(None);
    }
    let alias = Query::insert()
        .into_table(Alias::new(ALIASES))
        .columns([Alias::new("name"), Alias::new("incident_id")])
        .values_panic([before.name.clone().into(), before.id.into()])
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(Alias::new("name"))
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    conn.execute(conn.get_database_backend().build(&alias))
        .await?;
    let after = incident::Model {
        name: to.to_string(),
        ..before.clone()
    };
    Ok(Some(update(conn, before, after).await?))
}

/// A parsed list query. Empty vectors mean "any".
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// Who is reading: restricts the rows to those they may see.
    pub viewer: Viewer,
    /// Project slugs.
    pub projects: Vec<String>,
    /// Statuses.
    pub statuses: Vec<IncidentStatus>,
    /// Visibilities.
    pub visibilities: Vec<Visibility>,
    /// Type slugs or names (lower-case).
    pub types: Vec<String>,
    /// Priority slugs or names (lower-case).
    pub priorities: Vec<String>,
    /// Severity slugs or names (lower-case).
    pub severities: Vec<String>,
    /// Tag names: the incident must carry every one.
    pub tags: Vec<String>,
    /// Commander e-mail.
    pub commander: Option<String>,
    /// Reported at or after.
    pub reported_from: Option<DateTime<Utc>>,
    /// Reported strictly before.
    pub reported_to: Option<DateTime<Utc>>,
    /// Full-text terms over title and description.
    pub text: Option<String>,
    /// A filter in the filter language (`filter=` on the API).
    pub filter: Option<dispatch_core::filter::Filter>,
    /// Sort field and direction.
    pub sort: SortField,
    /// Ascending instead of the default descending.
    pub ascending: bool,
    /// 1-based page.
    pub page: u64,
    /// Rows per page.
    pub per_page: u64,
    /// Count matches only up to this many (see [`Total`]); `None` counts up to
    /// [`LIST_COUNT_LIMIT`], or [`SEARCH_COUNT_LIMIT`] for a full-text search.
    pub count_limit: Option<u64>,
}

fn cmd() -> Alias {
    Alias::new("cmd")
}
fn rep() -> Alias {
    Alias::new("rep")
}

/// The incident's own columns every read selects.
pub(crate) const INCIDENT_COLUMNS: [incident::Column; 19] = {
    use incident::Column as C;
    [
        C::Id,
        C::ProjectId,
        C::Number,
        C::Name,
        C::Title,
        C::Description,
        C::Resolution,
        C::Status,
        C::Visibility,
        C::TypeId,
        C::PriorityId,
        C::SeverityId,
        C::CommanderId,
        C::ReporterId,
        C::ReportedAt,
        C::StableAt,
        C::ClosedAt,
        C::CreatedAt,
        C::UpdatedAt,
    ]
};

/// The joined select every read starts from.
pub(crate) fn base_select() -> SelectStatement {
    use incident::Column as C;
    let mut q = Query::select();
    q.from(incident::Entity)
        .columns(INCIDENT_COLUMNS.map(|c| (incident::Entity, c)))
        .expr_as(
            Expr::col((project::Entity, project::Column::Slug)),
            Alias::new("project_slug"),
        )
        .expr_as(
            Expr::col((project::Entity, project::Column::Name)),
            Alias::new("project_name"),
        )
        .expr_as(
            Expr::col((project::Entity, project::Column::MembersOnly)),
            Alias::new("project_members_only"),
        )
        .expr_as(
            Expr::col((incident_type::Entity, incident_type::Column::Slug)),
            Alias::new("type_slug"),
        )
        .expr_as(
            Expr::col((incident_priority::Entity, incident_priority::Column::Slug)),
            Alias::new("priority_slug"),
        )
        .expr_as(
            Expr::col((incident_severity::Entity, incident_severity::Column::Slug)),
            Alias::new("severity_slug"),
        )
        .expr_as(
            Expr::col((cmd(), individual::Column::Email)),
            Alias::new("commander_email"),
        )
        .expr_as(
            Expr::col((cmd(), individual::Column::Name)),
            Alias::new("commander_name"),
        )
        .expr_as(
            Expr::col((rep(), individual::Column::Email)),
            Alias::new("reporter_email"),
        )
        .expr_as(
            Expr::col((rep(), individual::Column::Name)),
            Alias::new("reporter_name"),
        )
        .inner_join(
            project::Entity,
            Expr::col((project::Entity, project::Column::Id))
                .equals((incident::Entity, C::ProjectId)),
        );
    join_taxonomies(&mut q);
    q.join_as(
        JoinType::InnerJoin,
        individual::Entity,
        cmd(),
        Expr::col((cmd(), individual::Column::Id)).equals((incident::Entity, C::CommanderId)),
    )
    .join_as(
        JoinType::InnerJoin,
        individual::Entity,
        rep(),
        Expr::col((rep(), individual::Column::Id)).equals((incident::Entity, C::ReporterId)),
    );
    q
}

/// Joins an incident's type, priority and severity, and selects their names as `type_name`,
/// `priority_name` and `severity_name`.
pub(crate) fn join_taxonomies(q: &mut SelectStatement) {
    use incident::Column as C;
    q.expr_as(
        Expr::col((incident_type::Entity, incident_type::Column::Name)),
        Alias::new("type_name"),
    )
    .expr_as(
        Expr::col((incident_priority::Entity, incident_priority::Column::Name)),
        Alias::new("priority_name"),
    )
    .expr_as(
        Expr::col((incident_severity::Entity, incident_severity::Column::Name)),
        Alias::new("severity_name"),
    )
    .inner_join(
        incident_type::Entity,
        Expr::col((incident_type::Entity, incident_type::Column::Id))
            .equals((incident::Entity, C::TypeId)),
    )
    .inner_join(
        incident_priority::Entity,
        Expr::col((incident_priority::Entity, incident_priority::Column::Id))
            .equals((incident::Entity, C::PriorityId)),
    )
    .inner_join(
        incident_severity::Entity,
        Expr::col((incident_severity::Entity, incident_severity::Column::Id))
            .equals((incident::Entity, C::SeverityId)),
    );
}

/// Reads one incident by id or key.
pub async fn find(conn: &impl ConnectionTrait, r: &IncidentRef) -> Result<Option<IncidentRow>> {
    find_visible(conn, Viewer::Everyone, r).await
}

/// Reads one incident by id or key if `viewer` may see it (the condition every list applies),
/// in one query; `None` both when it does not exist and when it is hidden.
pub async fn find_visible(
    conn: &impl ConnectionTrait,
    viewer: Viewer,
    r: &IncidentRef,
) -> Result<Option<IncidentRow>> {
    let stmt = conn
        .get_database_backend()
        .build(&visible_select(viewer, r));
    Ok(IncidentRow::find_by_statement(stmt).one(conn).await?)
}

/// The joined select of the incident `r` if `viewer` may see it.
pub(crate) fn visible_select(viewer: Viewer, r: &IncidentRef) -> SelectStatement {
    let mut q = base_select();
    match r {
        IncidentRef::Id(id) => {
            q.and_where(Expr::col((incident::Entity, incident::Column::Id)).eq(id.0))
        }
        IncidentRef::Key(key) => q.and_where(key_condition(key)),
    };
    if let Some(c) = viewer.condition() {
        q.and_where(c);
    }
    q
}

/// Reads one incident by id or key, or fails with not found.
pub async fn get(conn: &impl ConnectionTrait, r: &IncidentRef) -> Result<IncidentRow> {
    find(conn, r)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("incident {r}")))
}

/// The plain row of an incident, for a command that is about to change it. On PostgreSQL the row
/// is locked until the transaction ends, so concurrent commands on one incident queue up and its
/// timeline chain never forks.
pub async fn lock(conn: &impl ConnectionTrait, r: &IncidentRef) -> Result<incident::Model> {
    model(
        conn,
        r,
        conn.get_database_backend() == sea_orm::DbBackend::Postgres,
    )
    .await
}

/// The plain row of an incident, for reading its chain head (no lock).
pub async fn row(conn: &impl ConnectionTrait, r: &IncidentRef) -> Result<incident::Model> {
    model(conn, r, false).await
}

async fn model(
    conn: &impl ConnectionTrait,
    r: &IncidentRef,
    for_update: bool,
) -> Result<incident::Model> {
    let mut find = by_ref(r);
    if for_update {
        find = find.lock_exclusive();
    }
    find.one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("incident {r}")))
}

/// The plain rows of every incident in `status` (e.g. `active`), in no particular order (for
/// the reminders).
pub async fn rows_in_status(
    conn: &impl ConnectionTrait,
    status: &str,
) -> Result<Vec<incident::Model>> {
    use sea_orm::ColumnTrait;
    Ok(incident::Entity::find()
        .filter(incident::Column::Status.eq(status))
        .all(conn)
        .await?)
}

/// Inserts a new incident.
pub async fn insert(conn: &impl ConnectionTrait, row: incident::Model) -> Result<incident::Model> {
    crate::repo::rows::insert(conn, row).await
}

/// Inserts an incident whose id was taken beforehand ([`crate::repo::project::next_incident`]),
/// every column as given.
pub async fn insert_keyed(conn: &impl ConnectionTrait, row: incident::Model) -> Result<()> {
    crate::repo::rows::insert_many_keyed(conn, vec![row]).await
}

/// Saves the fields of an incident that changed since it was read as `before`.
pub async fn update(
    conn: &impl ConnectionTrait,
    before: &incident::Model,
    after: incident::Model,
) -> Result<incident::Model> {
    crate::repo::rows::update(conn, before, after).await
}

/// Adds the filter's conditions to a select over `incidents`. Taxonomy and tag filters are
/// subqueries on ids, so counting needs no joins.
pub(crate) fn apply_filter(
    q: &mut SelectStatement,
    f: &IncidentFilter,
    backend: sea_orm::DbBackend,
) {
    use incident::Column as C;
    let col = |c: C| Expr::col((incident::Entity, c));
    if let Some(visible) = f.viewer.condition() {
        q.and_where(visible);
    }
    if !f.projects.is_empty() {
        q.and_where(
            col(C::ProjectId).in_subquery(
                Query::select()
                    .column(project::Column::Id)
                    .from(project::Entity)
                    .and_where(Expr::col(project::Column::Slug).is_in(f.projects.clone()))
                    .to_owned(),
            ),
        );
    }
    if !f.statuses.is_empty() {
        q.and_where(col(C::Status).is_in(f.statuses.iter().map(|s| s.as_str())));
    }
    if !f.visibilities.is_empty() {
        q.and_where(col(C::Visibility).is_in(f.visibilities.iter().map(|s| s.as_str())));
    }
    macro_rules! taxonomy {
        ($values:expr, $column:expr, $entity:ident) => {
            if !$values.is_empty() {
                q.and_where(
                    col($column).in_subquery(
                        Query::select()
                            .column($entity::Column::Id)
                            .from($entity::Entity)
                            .cond_where(
                                sea_orm::Condition::any()
                                    .add(Expr::col($entity::Column::Slug).is_in($values.clone()))
                                    .add(
                                        Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(
                                            $entity::Column::Name,
                                        )))
                                        .is_in($values.clone()),
                                    ),
                            )
                            .to_owned(),
                    ),
                );
            }
        };
    }
    taxonomy!(f.types, C::TypeId, incident_type);
    taxonomy!(f.priorities, C::PriorityId, incident_priority);
    taxonomy!(f.severities, C::SeverityId, incident_severity);
    for tag in &f.tags {
        q.and_where(col(C::Id).in_subquery(super::tag::incidents_with_tag(tag)));
    }
    if let Some(email) = &f.commander {
        q.and_where(
            col(C::CommanderId).in_subquery(
                Query::select()
                    .column(individual::Column::Id)
                    .from(individual::Entity)
                    .and_where(Expr::col(individual::Column::Email).eq(email.as_str()))
                    .to_owned(),
            ),
        );
    }
    if let Some(from) = f.reported_from {
        q.and_where(col(C::ReportedAt).gte(from));
    }
    if let Some(to) = f.reported_to {
        q.and_where(col(C::ReportedAt).lt(to));
    }
    if let Some(text) = &f.text {
        if let Some(cond) = search::condition(backend, text) {
            q.and_where(cond);
        }
    }
    if let Some(filter) = &f.filter {
        q.and_where(super::filter::condition(filter));
    }
}

/// A full-text search counts its matches up to this many: counting every incident that holds a
/// common word means reading all of them (0.4 s at a million incidents; up to 10,000 of them,
/// 70 ms), while the page itself needs only its own rows.
pub const SEARCH_COUNT_LIMIT: u64 = 1_000;

/// A list without text counts its matches up to this many: counting 200,000 active incidents
/// took 50 ms; 10,000 of them, through the status index, about 3 ms.
pub const LIST_COUNT_LIMIT: u64 = 10_000;

/// How many incidents match a filter: `count` exactly, or, when `exact` is false, more than
/// `count` (a count that stopped at its limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    /// The number counted.
    pub count: u64,
    /// Whether `count` is every match, rather than a limit that more matches passed.
    pub exact: bool,
}

impl Total {
    /// An exact number.
    pub fn exact(count: u64) -> Self {
        Self { count, exact: true }
    }
}

impl std::fmt::Display for Total {
    /// `12`, or `1,000+` for a count that stopped at its limit.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.exact {
            write!(f, "{}", self.count)
        } else {
            write!(f, "{}+", dispatch_core::size::thousands(self.count))
        }
    }
}

/// One page of incidents matching the filter, and how many match in all; the count and the page
/// run at once.
pub async fn list(
    conn: &impl ConnectionTrait,
    f: &IncidentFilter,
) -> Result<(Vec<IncidentRow>, Total)> {
    let (total, rows) = tokio::try_join!(count(conn, f), page_rows(conn, f, ""))?;
    let rows = rows
        .iter()
        .map(|r| IncidentRow::from_query_result(r, ""))
        .collect::<std::result::Result<_, _>>()?;
    Ok((rows, total))
}

/// [`list`] with each incident's tags (by name), in two statements: the count, and the page with
/// its tags as a JSON array per row (gathered for the page's rows only).
///
/// Both statements run at once (on two of the pool's connections), so a call costs the longer
/// of the two rather than their sum.
pub async fn list_with_tags(
    conn: &impl ConnectionTrait,
    f: &IncidentFilter,
) -> Result<(Vec<(IncidentRow, Vec<super::tag::TagRow>)>, Total)> {
    let backend = conn.get_database_backend();
    let tags = format!(
        ", {} AS \"tags_json\"",
        super::detail::tags_of_page(backend)
    );
    let (total, rows) = tokio::try_join!(count(conn, f), page_rows(conn, f, &tags))?;
    let mut out = Vec::new();
    for r in rows {
        let row = IncidentRow::from_query_result(&r, "")?;
        let json: Option<String> = r.try_get("", "tags_json")?;
        let mut tags: Vec<super::tag::TagRow> =
            super::detail::decode("tags", json.as_deref().unwrap_or("[]"))?;
        tags.sort_by(|a, b| a.name.cmp(&b.name));
        out.push((row, tags));
    }
    Ok((out, total))
}

/// How many incidents match the filter, up to its `count_limit` ([`LIST_COUNT_LIMIT`] for a
/// list, [`SEARCH_COUNT_LIMIT`] for a full-text search, by default): `SELECT COUNT(*) FROM
/// (SELECT 1 … LIMIT n + 1)`, which stops reading at the limit.
pub async fn count(conn: &impl ConnectionTrait, f: &IncidentFilter) -> Result<Total> {
    let backend = conn.get_database_backend();
    let limit = f.count_limit.unwrap_or(if f.text.is_some() {
        SEARCH_COUNT_LIMIT
    } else {
        LIST_COUNT_LIMIT
    });
    let mut matches = Query::select();
    matches.from(incident::Entity).expr(Expr::cust("1"));
    apply_filter(&mut matches, f, backend);
    let mut stmt = backend.build(&matches);
    // The limit is a number of the filter's, never text from the request.
    stmt.sql = format!(
        "SELECT COUNT(*) FROM ({} LIMIT {}) AS \"matches\"",
        stmt.sql,
        limit.saturating_add(1)
    );
    let n: i64 = conn
        .query_one(stmt)
        .await?
        .map(|r| r.try_get_by_index(0))
        .transpose()?
        .unwrap_or(0);
    let n = n as u64;
    Ok(if n > limit {
        Total {
            count: limit,
            exact: false,
        }
    } else {
        Total::exact(n)
    })
}

/// The rows of one page of incidents matching the filter, sorted, with `extra` (`, expr AS
/// name`, which may refer to the page's rows as `"incidents"`) added to their columns.
///
/// A full-text search on PostgreSQL takes two statements: the page's ids, then those incidents
/// joined. The text predicate keeps PostgreSQL planning its statement afresh on every call
/// (its reusable plan cannot know how common a word is), and planning the page together with
/// its seven joins took 0.8–1 ms, as long as running it; the ids alone plan in about 0.1 ms and
/// the joined statement, which no longer depends on the text, keeps one plan.
async fn page_rows(
    conn: &impl ConnectionTrait,
    f: &IncidentFilter,
    extra: &str,
) -> Result<Vec<sea_orm::QueryResult>> {
    let backend = conn.get_database_backend();
    let searching = f
        .text
        .as_deref()
        .is_some_and(|t| search::condition(backend, t).is_some());
    if backend != sea_orm::DbBackend::Postgres || !searching {
        return Ok(conn.query_all(page_statement(f, backend, extra)).await?);
    }
    let ids: Vec<i64> = conn
        .query_all(page_of(f, backend, &[incident::Column::Id]))
        .await?
        .iter()
        .map(|r| r.try_get_by_index(0))
        .collect::<std::result::Result<_, _>>()?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let mut by_id = Query::select();
    by_id
        .from(incident::Entity)
        .columns(INCIDENT_COLUMNS.map(|c| (incident::Entity, c)))
        .and_where(Expr::cust_with_values(
            "\"incidents\".\"id\" = ANY(CAST($1 AS bigint[]))",
            [format!("{{{list}}}")],
        ));
    Ok(conn
        .query_all(joined(backend.build(&by_id), f, backend, extra))
        .await?)
}

/// The select of one page (bounds included) of `columns` of the incidents matching the filter,
/// sorted, from `incidents` alone.
///
/// The page's bounds are written into the SQL as numbers, not bound as parameters: with
/// `LIMIT $n` PostgreSQL's reusable (generic) plan has to guess how many rows a page holds, so
/// it planned the select afresh on every call. With the numbers in the text, one prepared
/// statement per page size and offset is planned once. They are integers of the filter, never
/// text from the request.
fn page_of(
    f: &IncidentFilter,
    backend: sea_orm::DbBackend,
    columns: &[incident::Column],
) -> sea_orm::Statement {
    use incident::Column as C;
    let order = if f.ascending { Order::Asc } else { Order::Desc };
    let mut page = Query::select();
    page.from(incident::Entity)
        .columns(columns.iter().map(|c| (incident::Entity, *c)));
    apply_filter(&mut page, f, backend);
    page.order_by((incident::Entity, f.sort.column()), order.clone())
        .order_by((incident::Entity, C::Id), order);
    let mut stmt = backend.build(&page);
    let offset = f.page.saturating_sub(1).saturating_mul(f.per_page);
    stmt.sql = format!("{} LIMIT {} OFFSET {offset}", stmt.sql, f.per_page);
    stmt
}

/// The select of one page of incidents matching the filter, sorted, with `extra` columns.
///
/// The page is cut from `incidents` alone and only its rows are joined to their project,
/// taxonomies and people: joining first made PostgreSQL join every match of a search before
/// sorting (811 rows for a common word, 2.4 ms where the page alone takes 0.7 ms), and planning
/// seven tables at once took longer than running them.
fn page_statement(
    f: &IncidentFilter,
    backend: sea_orm::DbBackend,
    extra: &str,
) -> sea_orm::Statement {
    joined(page_of(f, backend, &INCIDENT_COLUMNS), f, backend, extra)
}

/// `rows` (a select of [`INCIDENT_COLUMNS`] from `incidents`) joined to their project,
/// taxonomies and people like [`base_select`], with `extra` columns, in the filter's order.
fn joined(
    rows: sea_orm::Statement,
    f: &IncidentFilter,
    backend: sea_orm::DbBackend,
    extra: &str,
) -> sea_orm::Statement {
    let direction = if f.ascending { "ASC" } else { "DESC" };
    let order = format!(
        "\"incidents\".\"{sort}\" {direction}, \"incidents\".\"id\" {direction}",
        sort = f.sort.column().as_str(),
    );
    joined_in_order(rows, backend, extra, &order)
}

/// `rows` (a select of at least [`INCIDENT_COLUMNS`], read as `"incidents"`) joined to their
/// project, taxonomies and people like [`base_select`], with `extra` columns, sorted by `order`
/// (SQL over `"incidents"`'s columns).
pub(crate) fn joined_in_order(
    rows: sea_orm::Statement,
    backend: sea_orm::DbBackend,
    extra: &str,
    order: &str,
) -> sea_orm::Statement {
    let joined = backend.build(&base_select()).sql;
    let (columns, joins) = joined
        .split_once(FROM_INCIDENTS)
        .expect("the joined select reads FROM \"incidents\"");
    sea_orm::Statement {
        sql: format!(
            "{columns}{extra} FROM ({rows}) AS \"incidents\" {joins} ORDER BY {order}",
            rows = rows.sql,
        ),
        ..rows
    }
}

/// Where [`base_select`]'s columns end and its joins begin.
const FROM_INCIDENTS: &str = " FROM \"incidents\" ";
