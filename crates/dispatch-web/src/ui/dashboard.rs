//! The dashboard: incidents per week by type, priority, severity and status, the mean time to
//! stable and to close, and the open tasks. Charts are SVG drawn on the server, each with the
//! table of its numbers behind it; only incidents the reader may see are counted (the store's
//! `Viewer`, exactly as the incidents list).

use super::{render, Caller, Chrome};
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use dispatch_core::ValidationError;
use dispatch_engine::data::IncidentFact;
use dispatch_engine::data::IncidentFilter;
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
    mean_to_stable: String,
    mean_to_close: String,
    charts: Vec<Chart>,
}

/// The Monday that starts the week of a time.
fn week_of(t: DateTime<Utc>) -> NaiveDate {
    let d = t.date_naive();
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// A duration for people: `2d 3h`, `3h 12m`, `40m`.
fn human(d: Duration) -> String {
    let m = d.num_minutes().max(0);
    let (days, hours, mins) = (m / 1440, (m % 1440) / 60, m % 60);
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {mins}m")
    } else {
        format!("{mins}m")
    }
}

fn mean(ds: impl Iterator<Item = Duration>) -> String {
    let (mut sum, mut n) = (0i64, 0i64);
    for d in ds {
        sum += d.num_seconds();
        n += 1;
    }
    if n == 0 {
        "—".into()
    } else {
        human(Duration::seconds(sum / n))
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

/// `GET /dashboard`: the numbers of the last weeks, for one project or all.
pub async fn page(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<DashboardQuery>,
) -> ApiResult<Response> {
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
    let now = dispatch_core::now();
    let first = week_of(now) - Duration::weeks(weeks - 1);
    let week_starts: Vec<NaiveDate> = (0..weeks).map(|i| first + Duration::weeks(i)).collect();
    let f = IncidentFilter {
        viewer: caller.auth.viewer(),
        projects: project.iter().cloned().collect(),
        reported_from: first.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
        ..Default::default()
    };
    let (facts, open_tasks) = s.engine.incidents().dashboard(&f).await?;
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
    let page = DashboardPage {
        chrome: caller.chrome("Dashboard", "dashboard"),
        projects,
        project: project.unwrap_or_default(),
        weeks,
        weeks_error,
        total: facts.len(),
        open: facts.iter().filter(|f| f.status != "closed").count(),
        open_tasks,
        mean_to_stable: mean(
            facts
                .iter()
                .filter_map(|f| f.stable_at.map(|t| t - f.reported_at)),
        ),
        mean_to_close: mean(
            facts
                .iter()
                .filter_map(|f| f.closed_at.map(|t| t - f.reported_at)),
        ),
        charts,
    };
    Ok(render(status, &page))
}
