//! The dashboard: incidents per week by type, priority, severity and status, the figures of
//! `GET /api/v1/metrics` (mean times to acknowledge, stable and close, reports on time, tasks,
//! participants), and the open tasks; `/dashboard.csv` exports the figures per week. Charts are
//! SVG drawn on the server, each with the table of its numbers behind it; only incidents the
//! reader may see are counted (the store's `Viewer`, exactly as the incidents list).

use super::{render, Caller, Chrome};
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate};
use dispatch_core::ValidationError;
use dispatch_engine::data::IncidentFact;
use dispatch_engine::data::IncidentFilter;
use dispatch_engine::metrics::{human, week_of, Figures, GroupBy};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// What the dashboard covers.
#[derive(Deserialize)]
pub struct DashboardQuery {
    /// Project slug (every project when empty).
    project: Option<String>,
    /// How many weeks back, 1-52 (default 12).
    weeks: Option<String>,
}

/// One chart and the table behind it.
pub struct Chart {
    /// What it counts.
    pub title: String,
    /// Element id.
    pub id: String,
    /// The drawing.
    pub svg: String,
    /// The series (column headings of the table).
    pub series: Vec<String>,
    /// One row per week: the week's first day and a count per series.
    pub rows: Vec<(String, Vec<u64>)>,
}

/// The dashboard page.
#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    projects: Vec<(String, String)>,
    project: String,
    weeks: i64,
    weeks_error: Option<String>,
    total: usize,
    open: usize,
    open_tasks: u64,
    figures: Figures,
    csv_link: String,
    charts: Vec<Chart>,
}

impl DashboardPage {
    /// A mean time for people, `—` when there is nothing to average.
    fn mean(&self, seconds: &Option<f64>) -> String {
        seconds.map_or_else(|| "—".into(), |s| human(s.round() as i64))
    }

    /// Mean participants per incident, one decimal.
    fn participants(&self) -> String {
        self.figures
            .participants_per_incident
            .map_or_else(|| "—".into(), |p| format!("{p:.1}"))
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Colours that stay apart in light and dark mode.
const PALETTE: &[&str] = &[
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// Counts the facts per week and per value of one dimension, and draws them as stacked bars.
fn chart(
    title: &str,
    id: &str,
    weeks: &[NaiveDate],
    facts: &[IncidentFact],
    key: fn(&IncidentFact) -> &str,
) -> Chart {
    let mut series: Vec<String> = Vec::new();
    let mut counts: BTreeMap<NaiveDate, BTreeMap<String, u64>> = BTreeMap::new();
    for f in facts {
        let name = key(f).to_string();
        if !series.contains(&name) {
            series.push(name.clone());
        }
        *counts
            .entry(week_of(f.reported_at))
            .or_default()
            .entry(name)
            .or_default() += 1;
    }
    series.sort();
    let rows: Vec<(String, Vec<u64>)> = weeks
        .iter()
        .map(|w| {
            let c = counts.get(w);
            (
                w.format("%Y-%m-%d").to_string(),
                series
                    .iter()
                    .map(|s| c.and_then(|c| c.get(s)).copied().unwrap_or(0))
                    .collect(),
            )
        })
        .collect();
    let max = rows
        .iter()
        .map(|(_, v)| v.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let (w, h, left, bottom, top) = (640.0, 220.0, 36.0, 28.0, 10.0);
    let plot = h - bottom - top;
    let slot = (w - left) / rows.len().max(1) as f64;
    let bar = (slot * 0.7).max(2.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t" class="chart" preserveAspectRatio="xMidYMid meet"><title id="{id}-t">{} per week (table below)</title>"#,
        escape(title)
    );
    let _ = write!(
        svg,
        r#"<line x1="{left}" y1="{y}" x2="{w}" y2="{y}" class="axis"/><text x="{tx}" y="{ty}" class="tick" text-anchor="end">{max}</text><text x="{tx}" y="{y}" class="tick" text-anchor="end">0</text>"#,
        y = h - bottom,
        tx = left - 4.0,
        ty = top + 8.0,
    );
    for (i, (week, values)) in rows.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = h - bottom;
        for (j, v) in values.iter().enumerate().filter(|(_, v)| **v > 0) {
            let bh = plot * (*v as f64) / (max as f64);
            y -= bh;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{bh:.1}" fill="{}"><title>{}: {} {v}</title></rect>"#,
                PALETTE[j % PALETTE.len()],
                week,
                escape(&series[j]),
            );
        }
        if rows.len() <= 13 || i % 4 == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{}" class="tick" text-anchor="middle">{}</text>"#,
                x + bar / 2.0,
                h - 10.0,
                &week[5..]
            );
        }
    }
    svg.push_str("</svg>");
    let _ = write!(svg, r#"<ul class="legend" aria-hidden="true">"#);
    for (j, s) in series.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<li><svg class="swatch" viewBox="0 0 1 1"><rect width="1" height="1" fill="{}"/></svg>{}</li>"#,
            PALETTE[j % PALETTE.len()],
            escape(s)
        );
    }
    svg.push_str("</ul>");
    Chart {
        title: title.into(),
        id: id.into(),
        svg,
        series,
        rows,
    }
}

/// What a dashboard query asks for.
struct Scope {
    /// Every project: (slug, name).
    projects: Vec<(String, String)>,
    /// The project asked for, if any.
    project: Option<String>,
    /// How many weeks.
    weeks: i64,
    /// What was wrong with `weeks`.
    weeks_error: Option<String>,
    /// The first week's Monday.
    first: NaiveDate,
    /// The incidents counted.
    filter: IncidentFilter,
}

/// Reads the query: an unknown project is refused, a bad number of weeks falls back to 12.
async fn scope(s: &AppState, caller: &Caller, q: &DashboardQuery) -> ApiResult<Scope> {
    let project = q
        .project
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_lowercase);
    let mut weeks_error = None;
    let weeks = match q.weeks.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        None => 12,
        Some(w) => match w.parse::<i64>() {
            Ok(n) if (1..=52).contains(&n) => n,
            _ => {
                weeks_error = Some(format!("{w:?} is not a number of weeks from 1 to 52"));
                12
            }
        },
    };
    let projects: Vec<(String, String)> = s
        .engine
        .projects()
        .list()
        .await?
        .into_iter()
        .map(|p| (p.slug, p.name))
        .collect();
    if let Some(p) = &project {
        if !projects.iter().any(|(slug, _)| slug == p) {
            let mut e = ValidationError::default();
            e.push("project", format!("no project {p:?}"));
            return Err(ApiError::Validation(e));
        }
    }
    let first = week_of(dispatch_core::now()) - Duration::weeks(weeks - 1);
    let filter = IncidentFilter {
        viewer: caller.auth.viewer(),
        projects: project.iter().cloned().collect(),
        reported_from: first.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
        ..Default::default()
    };
    Ok(Scope {
        projects,
        project,
        weeks,
        weeks_error,
        first,
        filter,
    })
}

/// `GET /dashboard`: the numbers of the last weeks, for one project or all.
pub async fn page(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<DashboardQuery>,
) -> ApiResult<Response> {
    let Scope {
        projects,
        project,
        weeks,
        weeks_error,
        first,
        filter: f,
    } = scope(&s, &caller, &q).await?;
    let week_starts: Vec<NaiveDate> = (0..weeks).map(|i| first + Duration::weeks(i)).collect();
    let d = s.engine.incidents().dashboard(&f).await?;
    let facts = d.facts;
    let charts = vec![
        chart("Incidents by type", "c-type", &week_starts, &facts, |f| {
            &f.type_name
        }),
        chart(
            "Incidents by priority",
            "c-priority",
            &week_starts,
            &facts,
            |f| &f.priority_name,
        ),
        chart(
            "Incidents by severity",
            "c-severity",
            &week_starts,
            &facts,
            |f| &f.severity_name,
        ),
        chart(
            "Incidents by status",
            "c-status",
            &week_starts,
            &facts,
            |f| &f.status,
        ),
    ];
    let status = if weeks_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let project = project.unwrap_or_default();
    let page = DashboardPage {
        chrome: caller.chrome("Dashboard", "dashboard"),
        projects,
        // A project's slug needs no escaping (letters, digits, dashes).
        csv_link: format!("/dashboard.csv?project={project}&weeks={weeks}"),
        project,
        weeks,
        weeks_error,
        total: facts.len(),
        open: facts.iter().filter(|f| f.status != "closed").count(),
        open_tasks: d.open_tasks,
        figures: d.figures,
        charts,
    };
    Ok(render(status, &page))
}

/// `GET /dashboard.csv`: the dashboard's figures per week (`GET /api/v1/metrics?group_by=week`
/// over the same weeks), one row a week with incidents, as a CSV file.
pub async fn csv(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<DashboardQuery>,
) -> ApiResult<Response> {
    let scope = scope(&s, &caller, &q).await?;
    if let Some(e) = scope.weeks_error {
        return Err(ApiError::field("weeks", e));
    }
    let m = s
        .engine
        .incidents()
        .metrics(&scope.filter, Some(GroupBy::Week))
        .await?;
    let mut out = String::from(
        "week,count,open,closed,mtta_seconds,mttm_seconds,mttr_seconds,active_seconds,stable_seconds,tactical_reports,reports_on_time,tasks_open,tasks_overdue,participants_per_incident\r\n",
    );
    let n = |v: Option<f64>| v.map(|v| format!("{v:.0}")).unwrap_or_default();
    for g in m.groups {
        let f = g.figures;
        let cells = [
            g.key,
            f.count.to_string(),
            f.open.to_string(),
            f.closed.to_string(),
            n(f.mtta_seconds),
            n(f.mttm_seconds),
            n(f.mttr_seconds),
            n(f.time_in_status.active),
            n(f.time_in_status.stable),
            f.tactical_reports.to_string(),
            f.reports_on_time.to_string(),
            f.tasks_open.to_string(),
            f.tasks_overdue.to_string(),
            f.participants_per_incident
                .map(|p| format!("{p:.2}"))
                .unwrap_or_default(),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"metrics.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}
