//! What past incidents teach: the incidents most like one (`/incidents/{id}/similar`) and the
//! metrics of a set of incidents (`/metrics`; each figure is defined in docs/metrics.md).

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Path, Query};
use crate::wire::{tag_names, PersonOut};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::values::IncidentRef;
use dispatch_core::ValidationError;
use dispatch_engine::data::IncidentFilter;
use dispatch_engine::incident::SimilarIncident;
use dispatch_engine::metrics::{Figures, GroupBy, Metrics};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Learning routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/similar", get(similar))
        .route("/metrics", get(metrics))
        .route("/projects/{slug}/weekly-report", post(weekly_report))
}

/// An incident like another, with what was learned from it.
#[derive(Serialize, ToSchema)]
pub struct SimilarIncidentOut {
    /// Human key.
    pub name: String,
    /// Project slug.
    pub project: String,
    /// Title.
    pub title: String,
    /// Status (`active`, `stable`, `closed`).
    pub status: String,
    /// Type slug.
    #[serde(rename = "type")]
    pub incident_type: String,
    /// Priority slug.
    pub priority: String,
    /// What was done about it (the resolution), if written.
    pub resolution: Option<String>,
    /// Its incident commander.
    pub commander: PersonOut,
    /// Its tags.
    pub tags: Vec<String>,
    /// When it was reported.
    pub reported_at: DateTime<Utc>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// From reported to closed, in seconds; `null` while it is not closed.
    pub duration_seconds: Option<i64>,
    /// Its post-incident review document, when it has one.
    pub review_link: Option<String>,
    /// How alike, from 0 to 1: 0.75 × the share of keywords in common (title, description,
    /// resolution) + 0.15 × the share of tags in common + 0.10 for the same type.
    pub score: f64,
}

impl From<SimilarIncident> for SimilarIncidentOut {
    fn from(s: SimilarIncident) -> Self {
        let r = s.row;
        Self {
            duration_seconds: r.closed_at.map(|c| (c - r.reported_at).num_seconds()),
            name: r.name,
            project: r.project_slug,
            title: r.title,
            status: r.status,
            incident_type: r.type_slug,
            priority: r.priority_slug,
            resolution: r.resolution.filter(|t| !t.trim().is_empty()),
            commander: PersonOut {
                id: r.commander_id,
                email: r.commander_email,
                name: r.commander_name,
            },
            tags: tag_names(&s.tags),
            reported_at: r.reported_at,
            closed_at: r.closed_at,
            review_link: s.review_link,
            score: s.score,
        }
    }
}

impl SimilarIncidentOut {
    /// How long it ran until closed, for people (`2d 3h`); `None` while not closed.
    pub fn duration_text(&self) -> Option<String> {
        self.duration_seconds.map(dispatch_engine::metrics::human)
    }
}

/// Similar incidents, best first.
#[derive(Serialize, ToSchema)]
pub struct SimilarOut {
    /// The look-alikes.
    pub items: Vec<SimilarIncidentOut>,
}

/// How many look-alikes.
#[derive(Deserialize, IntoParams)]
pub struct SimilarQuery {
    /// 1-20 (default 5).
    pub limit: Option<i64>,
}

/// The incidents most like this one (closed ones included, the incident itself never), best
/// first: ranked by the words their title, description and resolution share with this one's,
/// then by shared tags and type. Restricted incidents the caller may not see are left out.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/similar", tag = "incidents",
    params(("id" = String, Path, description = "Id or key"), SimilarQuery),
    responses((status = 200, body = SimilarOut), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn similar(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<SimilarQuery>,
) -> ApiResult<axum::Json<SimilarOut>> {
    let limit = match q.limit {
        None => 5,
        Some(n) if (1..=20).contains(&n) => n as usize,
        Some(n) => {
            let mut e = ValidationError::default();
            e.push("limit", format!("must be between 1 and 20 (got {n})"));
            return Err(e.into());
        }
    };
    let items = s
        .engine
        .incidents()
        .similar(auth.viewer(), &IncidentRef::parse(&id), limit)
        .await?;
    Ok(axum::Json(SimilarOut {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Which incidents the metrics count, and how to break them down.
#[derive(Deserialize, IntoParams)]
pub struct MetricsQuery {
    /// Project slug (every project when absent).
    pub project: Option<String>,
    /// Incident type slugs or names, comma-separated.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub incident_type: Option<String>,
    /// Reported at or after this time (RFC 3339 or date).
    pub from: Option<String>,
    /// Reported before this time (RFC 3339 or date).
    pub to: Option<String>,
    /// `week`, `type` or `priority`: the figures per group besides the totals.
    pub group_by: Option<String>,
}

/// Mean seconds in each status, over closed incidents.
#[derive(Serialize, ToSchema)]
pub struct TimeInStatusOut {
    /// From reported to stable (to closed when never stable).
    pub active: Option<f64>,
    /// From stable to closed.
    pub stable: Option<f64>,
}

/// Tactical reports against their priority's cadence.
#[derive(Serialize, ToSchema)]
pub struct ReportsOut {
    /// Tactical reports of incidents whose priority sets a cadence.
    pub tactical: u64,
    /// Of which posted within the cadence of the previous one (the first: of the report).
    pub on_time: u64,
}

/// Open tasks.
#[derive(Serialize, ToSchema)]
pub struct TasksOut {
    /// Open tasks of the incidents counted.
    pub open: u64,
    /// Of which past their due time.
    pub overdue: u64,
}

/// The figures of a set of incidents (see docs/metrics.md for each definition).
#[derive(Serialize, ToSchema)]
pub struct FiguresOut {
    /// Incidents reported in the period.
    pub count: u64,
    /// Of which not closed.
    pub open: u64,
    /// Of which closed.
    pub closed: u64,
    /// Mean seconds from reported to first acknowledged (`null`: none acknowledged).
    pub mtta_seconds: Option<f64>,
    /// Mean seconds from reported to stable (`null`: none became stable).
    pub mttm_seconds: Option<f64>,
    /// Mean seconds from reported to closed (`null`: none closed).
    pub mttr_seconds: Option<f64>,
    /// Mean seconds in each status, over closed incidents.
    pub time_in_status_seconds: TimeInStatusOut,
    /// Tactical reports on time.
    pub reports: ReportsOut,
    /// Open and overdue tasks.
    pub tasks: TasksOut,
    /// Mean participants per incident (`null`: no incident).
    pub participants_per_incident: Option<f64>,
    /// The costs' total of the incidents costed so far (`null`: none was); see "Cost".
    pub total_cost: Option<f64>,
    /// The mean cost of the incidents costed so far (`null`: none was).
    pub avg_cost: Option<f64>,
}

impl From<Figures> for FiguresOut {
    fn from(f: Figures) -> Self {
        Self {
            count: f.count,
            open: f.open,
            closed: f.closed,
            mtta_seconds: f.mtta_seconds,
            mttm_seconds: f.mttm_seconds,
            mttr_seconds: f.mttr_seconds,
            time_in_status_seconds: TimeInStatusOut {
                active: f.time_in_status.active,
                stable: f.time_in_status.stable,
            },
            reports: ReportsOut {
                tactical: f.tactical_reports,
                on_time: f.reports_on_time,
            },
            tasks: TasksOut {
                open: f.tasks_open,
                overdue: f.tasks_overdue,
            },
            participants_per_incident: f.participants_per_incident,
            total_cost: f.total_cost_cents.map(crate::api::costs::amount),
            avg_cost: f.avg_cost_cents.map(|c| c.round() / 100.0),
        }
    }
}

/// One group's figures.
#[derive(Serialize, ToSchema)]
pub struct GroupOut {
    /// The week's Monday (`2026-11-30`), or the type's or priority's slug.
    pub key: String,
    /// The week, or the type's or priority's name.
    pub name: String,
    /// Its figures.
    #[serde(flatten)]
    pub figures: FiguresOut,
}

/// The metrics: the totals' figures at the top level, and per group.
#[derive(Serialize, ToSchema)]
pub struct MetricsOut {
    /// The project counted (`null`: every project).
    pub project: Option<String>,
    /// Reported at or after.
    pub from: Option<DateTime<Utc>>,
    /// Reported before.
    pub to: Option<DateTime<Utc>>,
    /// The grouping asked for.
    pub group_by: Option<String>,
    /// The figures over every incident counted.
    #[serde(flatten)]
    pub totals: FiguresOut,
    /// Per group, in key order (empty without `group_by`).
    pub groups: Vec<GroupOut>,
}

/// Parses the metrics query into a filter for the caller and a grouping; an unknown project
/// is a field error.
pub(crate) async fn metrics_filter(
    s: &AppState,
    auth: &Auth,
    q: &MetricsQuery,
) -> ApiResult<(IncidentFilter, Option<GroupBy>)> {
    let mut e = ValidationError::default();
    let project = q
        .project
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_lowercase);
    let types = super::parse::list(&mut e, "type", q.incident_type.as_deref());
    let from = super::parse::time(&mut e, "from", q.from.as_deref());
    let to = super::parse::time(&mut e, "to", q.to.as_deref());
    let group_by = match q
        .group_by
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
    {
        None => None,
        Some(g) => {
            let parsed = GroupBy::parse(g);
            if parsed.is_none() {
                e.push(
                    "group_by",
                    format!(
                        "{g:?} is not a grouping; use one of {}",
                        GroupBy::NAMES.join(", ")
                    ),
                );
            }
            parsed
        }
    };
    if let Some(p) = &project {
        if !s
            .engine
            .projects()
            .list()
            .await?
            .iter()
            .any(|x| &x.slug == p)
        {
            e.push("project", format!("no project {p:?}"));
        }
    }
    e.into_result()?;
    Ok((
        IncidentFilter {
            viewer: auth.viewer(),
            projects: project.into_iter().collect(),
            types,
            reported_from: from,
            reported_to: to,
            ..Default::default()
        },
        group_by,
    ))
}

impl MetricsOut {
    fn new(f: &IncidentFilter, q: &MetricsQuery, m: Metrics) -> Self {
        Self {
            project: f.projects.first().cloned(),
            from: f.reported_from,
            to: f.reported_to,
            group_by: q.group_by.clone().filter(|g| !g.trim().is_empty()),
            totals: m.totals.into(),
            groups: m
                .groups
                .into_iter()
                .map(|g| GroupOut {
                    key: g.key,
                    name: g.name,
                    figures: g.figures.into(),
                })
                .collect(),
        }
    }
}

/// The metrics of the incidents the caller may see, reported in the period (types marked
/// `exclude_from_metrics` are left out): counts, MTTA, MTTM, MTTR, time in each status,
/// tactical reports on time, open and overdue tasks, participants per incident; per week, type
/// or priority with `group_by`. Means are `null` when there is nothing to average.
#[utoipa::path(get, path = "/api/v1/metrics", tag = "metrics", params(MetricsQuery),
    responses((status = 200, body = MetricsOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn metrics(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<MetricsQuery>,
) -> ApiResult<axum::Json<MetricsOut>> {
    let (f, group_by) = metrics_filter(&s, &auth, &q).await?;
    let m = s.engine.incidents().metrics(&f, group_by).await?;
    Ok(axum::Json(MetricsOut::new(&f, &q, m)))
}

/// What was done.
#[derive(Serialize, ToSchema)]
pub struct QueuedOut {
    /// Always true: the work is queued and runs at once.
    pub queued: bool,
}

/// Sends the project's weekly report now (for the week ending now) to its notification rules'
/// targets, whether or not its `weekly_report` setting is on; it is mailed through the outbox
/// and posted in the rules' conversations.
#[utoipa::path(post, path = "/api/v1/projects/{slug}/weekly-report", tag = "metrics",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 202, body = QueuedOut), (status = 404, body = crate::error::ErrorBody)))]
pub async fn weekly_report(
    State(s): State<AppState>,
    _auth: Auth,
    Path(slug): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<QueuedOut>)> {
    s.engine.projects().send_weekly_report(&slug).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(QueuedOut { queued: true })))
}
