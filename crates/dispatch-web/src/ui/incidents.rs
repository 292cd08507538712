//! The incidents list (filters, sort, paging, CSV export) and the report form.

use super::{render, see_other, Caller, Chrome, Form};
use crate::api::incidents::{declaration, IncidentIn, ListQuery};
use crate::api::insights::SimilarIncidentOut;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::wire::IncidentSummaryOut;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use dispatch_engine::data::model::{incident_priority, incident_severity, incident_type, project};
use dispatch_engine::data::{Total, SEARCH_COUNT_LIMIT};
use serde::Deserialize;

/// What the filter and report forms offer: projects and the default project's taxonomies.
pub struct Choices {
    /// Projects.
    pub projects: Vec<project::Model>,
    /// Incident types (enabled ones).
    pub types: Vec<incident_type::Model>,
    /// Priorities.
    pub priorities: Vec<incident_priority::Model>,
    /// Severities.
    pub severities: Vec<incident_severity::Model>,
}

impl Choices {
    pub(super) async fn load(s: &AppState, project: Option<&str>) -> ApiResult<Self> {
        let p = match s.engine.projects().get_or_default(project).await {
            Ok(p) => p,
            // An unknown project named in a form: offer the default project's choices.
            Err(dispatch_engine::Error::NotFound(_)) => {
                s.engine.projects().get_or_default(None).await?
            }
            Err(e) => return Err(e.into()),
        };
        let project = dispatch_core::ProjectId(p.id);
        let taxonomy = s.engine.taxonomy();
        let (projects, types, priorities, severities) = tokio::try_join!(
            s.engine.projects().list(),
            taxonomy.incident_types(project),
            taxonomy.incident_priorities(project),
            taxonomy.incident_severities(project),
        )?;
        Ok(Self {
            projects,
            types: types.into_iter().filter(|t| t.enabled).collect(),
            priorities: priorities.into_iter().filter(|t| t.enabled).collect(),
            severities: severities.into_iter().filter(|t| t.enabled).collect(),
        })
    }
}

/// The incidents page.
#[derive(Template)]
#[template(path = "incidents.html")]
struct ListPage {
    chrome: Chrome,
    form: Form,
    /// The save-a-view form (its errors after a failed save).
    views_form: Form,
    /// The caller's saved views.
    views: Vec<dispatch_engine::data::model::saved_view::Model>,
    choices: Choices,
    items: Vec<IncidentSummaryOut>,
    total: Total,
    page: u64,
    pages: u64,
    /// The query string of this page without `page` (for the pager and the CSV link).
    query: String,
    /// One-click views for triage, each with how many incidents it holds.
    quick: Vec<Quick>,
    /// How many of the filters are set (the filter panel opens when any is).
    filters_set: usize,
}

/// A one-click view of the list: its label, address, count, and whether it is the one shown.
pub struct Quick {
    label: &'static str,
    href: String,
    /// Counted up to [`SEARCH_COUNT_LIMIT`]: a badge need not count a million closed incidents.
    count: Total,
    current: bool,
}

/// The triage views: open (active or stable), active, stable, the caller's, closed.
async fn quick_views(s: &AppState, caller: &Caller, q: &ListQuery) -> ApiResult<Vec<Quick>> {
    let me = caller.auth.actor().email.clone();
    let views: [(&str, Option<&str>, Option<&str>); 5] = [
        ("Open", Some("active,stable"), None),
        ("Active", Some("active"), None),
        ("Stable", Some("stable"), None),
        ("Mine, open", Some("active,stable"), Some(me.as_str())),
        ("Closed", Some("closed"), None),
    ];
    // Counted side by side.
    futures_util::future::try_join_all(views.into_iter().map(|(label, status, commander)| {
        let view = ListQuery {
            status: status.map(str::to_string),
            commander: commander.map(str::to_string),
            ..ListQuery::default()
        };
        async move {
            let mut f = view.clone().parse().map_err(ApiError::from)?;
            f.viewer = caller.auth.viewer();
            f.count_limit = Some(SEARCH_COUNT_LIMIT);
            let count = s.engine.incidents().count(&f).await?;
            let href = format!(
                "/incidents?{}",
                serde_urlencoded::to_string(&view).unwrap_or_default()
            );
            let current = q.status == view.status
                && q.commander == view.commander
                && filters_set(q) == usize::from(commander.is_some()) + 1;
            Ok::<_, ApiError>(Quick {
                label,
                href,
                count,
                current,
            })
        }
    }))
    .await
}

impl ListPage {
    /// Nothing was ever declared that the caller may see: the page explains where to start.
    fn first_run(&self) -> bool {
        self.quick
            .iter()
            .filter(|q| matches!(q.label, "Open" | "Closed"))
            .all(|q| q.count.count == 0)
    }

    fn page_link(&self, page: u64) -> String {
        super::page_link("/incidents", &self.query, page)
    }

    fn csv_link(&self) -> String {
        if self.query.is_empty() {
            "/incidents.csv".into()
        } else {
            format!("/incidents.csv?{}", self.query)
        }
    }
}

/// Empty form fields mean "any".
fn tidy(mut q: ListQuery) -> ListQuery {
    for f in [
        &mut q.project,
        &mut q.status,
        &mut q.incident_type,
        &mut q.priority,
        &mut q.severity,
        &mut q.visibility,
        &mut q.tag,
        &mut q.commander,
        &mut q.reported_after,
        &mut q.reported_before,
        &mut q.q,
        &mut q.filter,
        &mut q.sort,
    ] {
        if f.as_deref().is_some_and(|v| v.trim().is_empty()) {
            *f = None;
        }
    }
    q
}

/// How many filters a (tidied) query sets; sort and paging are not filters.
fn filters_set(q: &ListQuery) -> usize {
    [
        &q.project,
        &q.status,
        &q.incident_type,
        &q.priority,
        &q.severity,
        &q.visibility,
        &q.tag,
        &q.commander,
        &q.reported_after,
        &q.reported_before,
        &q.q,
        &q.filter,
    ]
    .iter()
    .filter(|f| f.is_some())
    .count()
}

fn form_of(q: &ListQuery) -> Form {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    Form::with_values([
        ("project", v(&q.project)),
        ("status", v(&q.status)),
        ("type", v(&q.incident_type)),
        ("priority", v(&q.priority)),
        ("severity", v(&q.severity)),
        ("tag", v(&q.tag)),
        ("reported_after", v(&q.reported_after)),
        ("reported_before", v(&q.reported_before)),
        ("q", v(&q.q)),
        ("filter", v(&q.filter)),
        ("sort", v(&q.sort)),
        ("per_page", q.per_page.unwrap_or(20).to_string()),
    ])
}

/// `GET /incidents`: the incidents the caller may see, filtered, sorted and paged.
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    list_page(&s, &caller, q, Form::default()).await
}

/// The list page, with the save-a-view form as `views_form` left it.
async fn list_page(
    s: &AppState,
    caller: &Caller,
    q: ListQuery,
    views_form: Form,
) -> ApiResult<Response> {
    let q = tidy(q);
    let mut form = form_of(&q);
    let query = serde_urlencoded::to_string(ListQuery {
        page: None,
        ..q.clone()
    })
    .unwrap_or_default();
    let filters_set = filters_set(&q);
    let listed = async {
        Ok::<_, ApiError>(match q.clone().parse() {
            Ok(mut f) => {
                f.viewer = caller.auth.viewer();
                let (rows, total) = s.engine.incidents().list(&f).await?;
                Ok((rows, total, f.page, f.per_page))
            }
            Err(e) => Err(e),
        })
    };
    // What the page shows, read side by side.
    let (choices, views, quick, listed) = tokio::try_join!(
        Choices::load(s, None),
        async { Ok(s.engine.accounts().saved_views(&caller.auth.0).await?) },
        quick_views(s, caller, &q),
        listed,
    )?;
    let (items, total, page, per_page) = match listed {
        Ok((rows, total, page, per_page)) => (
            rows.into_iter().map(Into::into).collect(),
            total,
            page,
            per_page,
        ),
        Err(e) => {
            form.fail(e.into())?;
            (Vec::new(), Total::exact(0), 1, 20)
        }
    };
    let status = if form.failed() || views_form.failed() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ListPage {
        chrome: caller.chrome("Incidents", "incidents"),
        form,
        views_form,
        views,
        choices,
        items,
        total,
        page,
        pages: total.count.div_ceil(per_page).max(1),
        query,
        quick,
        filters_set,
    };
    Ok(render(status, &page))
}

/// The save-a-view form.
#[derive(Deserialize)]
pub struct SaveView {
    #[serde(default)]
    name: String,
    /// The list's query string.
    #[serde(default)]
    query: String,
}

/// `POST /views`: saves the list's current filters under a name, then shows that view. A name
/// or filters that are not right show beside the form, and nothing is saved.
pub async fn save_view(
    State(s): State<AppState>,
    caller: Caller,
    axum::Form(b): axum::Form<SaveView>,
) -> ApiResult<Response> {
    let query = b.query.trim().trim_start_matches('?').to_string();
    let q: ListQuery = serde_urlencoded::from_str(&query).unwrap_or_default();
    let mut views_form = Form::with_values([("name", b.name.clone())]);
    // Only filters the list accepts are kept.
    let saved = match tidy(q.clone()).parse() {
        Err(e) => {
            let why: Vec<String> = e
                .fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect();
            Err(ApiError::Validation(dispatch_core::ValidationError::field(
                "query",
                format!(
                    "these filters are not valid ({}); fix them before saving the view",
                    why.join("; ")
                ),
            )))
        }
        Ok(_) => s
            .engine
            .accounts()
            .save_view(&caller.auth.0, &b.name, &query)
            .await
            .map_err(ApiError::from),
    };
    match saved {
        Ok(()) if query.is_empty() => Ok(see_other("/incidents")),
        Ok(()) => Ok(see_other(&format!("/incidents?{query}"))),
        Err(e) => {
            views_form.fail(e)?;
            list_page(&s, &caller, q, views_form).await
        }
    }
}

/// `POST /views/{id}/delete`: deletes one of the caller's saved views.
pub async fn delete_view(
    State(s): State<AppState>,
    caller: Caller,
    crate::extract::Path(id): crate::extract::Path<i64>,
) -> ApiResult<Response> {
    s.engine
        .accounts()
        .delete_view(&caller.auth.0, dispatch_core::ViewId(id))
        .await?;
    Ok(see_other("/incidents"))
}

/// At most this many rows in one CSV export.
const CSV_MAX_ROWS: u64 = 10_000;

/// `GET /incidents.csv`: the same list as a CSV file (every page, up to 10,000 rows).
pub async fn csv(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let mut f = tidy(ListQuery {
        page: None,
        per_page: Some(100),
        ..q
    })
    .parse()?;
    f.viewer = caller.auth.viewer();
    let mut out = String::from(
        "key,title,status,project,type,priority,severity,visibility,commander,reported_at,stable_at,closed_at,tags\r\n",
    );
    let mut written = 0;
    loop {
        let (rows, total) = s.engine.incidents().list(&f).await?;
        let n = rows.len() as u64;
        for r in rows {
            let i: IncidentSummaryOut = r.into();
            let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map(|t| t.to_rfc3339()).unwrap_or_default()
            };
            let cells = [
                i.name,
                i.title,
                i.status,
                i.project,
                i.incident_type,
                i.priority,
                i.severity,
                i.visibility,
                i.commander.email,
                i.reported_at.to_rfc3339(),
                time(i.stable_at),
                time(i.closed_at),
                i.tags.join(" "),
            ];
            let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        written += n;
        if n == 0 || (total.exact && written >= total.count) || written >= CSV_MAX_ROWS {
            break;
        }
        f.page += 1;
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"incidents.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

/// One CSV cell: quoted when needed, and never read as a formula by a spreadsheet.
fn csv_cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// The report form.
#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    chrome: Chrome,
    form: Form,
    choices: Choices,
}

/// `GET /report`: the form to report an incident.
pub async fn report_page(State(s): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let page = ReportPage {
        chrome: caller.chrome("Report an incident", "report"),
        form: Form::default(),
        choices: Choices::load(&s, None).await?,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The report form's fields.
#[derive(Deserialize, Default)]
pub struct ReportForm {
    title: Option<String>,
    description: Option<String>,
    project: Option<String>,
    #[serde(rename = "type")]
    incident_type: Option<String>,
    priority: Option<String>,
    severity: Option<String>,
    visibility: Option<String>,
    tags: Option<String>,
}

/// A form field's value, trimmed; `None` when absent or blank.
pub(super) fn some(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// `POST /report`: declares the incident (as `POST /api/v1/incidents` does) and opens its page;
/// a mistake shows the form again with the error beside each field.
pub async fn report(
    State(s): State<AppState>,
    caller: Caller,
    axum::Form(b): axum::Form<ReportForm>,
) -> ApiResult<Response> {
    let body = IncidentIn {
        // A title or description left empty is "missing", not an empty string.
        title: some(&b.title),
        description: some(&b.description),
        project: some(&b.project),
        incident_type: some(&b.incident_type),
        priority: some(&b.priority),
        severity: some(&b.severity),
        visibility: some(&b.visibility),
        tags: b
            .tags
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        commander: None,
        reported_at: None,
        status: None,
    };
    let result = match declaration(&s, &body).await {
        Ok(cmd) => s
            .engine
            .incidents()
            .declare(caller.auth.actor(), cmd)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(detail) => Ok(see_other(&format!("/incidents/{}", detail.row.name))),
        Err(e) => {
            let v = |o: &Option<String>| o.clone().unwrap_or_default();
            let mut form = Form::with_values([
                ("title", v(&b.title)),
                ("description", v(&b.description)),
                ("project", v(&b.project)),
                ("type", v(&b.incident_type)),
                ("priority", v(&b.priority)),
                ("severity", v(&b.severity)),
                ("visibility", v(&b.visibility)),
                ("tags", v(&b.tags)),
            ]);
            form.fail(e)?;
            let page = ReportPage {
                chrome: caller.chrome("Report an incident", "report"),
                form,
                choices: Choices::load(&s, b.project.as_deref().filter(|p| !p.is_empty())).await?,
            };
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

/// Incidents like another (`GET /api/v1/incidents/{id}/similar`'s items), as the incident
/// page and the report form list them.
#[derive(Template)]
#[template(path = "similar.html")]
struct Similar {
    items: Vec<SimilarIncidentOut>,
}

/// The list of similar incidents, rendered (empty for none).
pub(crate) fn similar_list(items: Vec<SimilarIncidentOut>) -> ApiResult<String> {
    if items.is_empty() {
        return Ok(String::new());
    }
    super::incident::fragment(&Similar { items })
}

/// The title typed so far.
#[derive(Deserialize)]
pub struct SimilarQuery {
    title: Option<String>,
}

/// `GET /report/similar?title=…`: the incidents most like the words typed so far, closed ones
/// included with their resolution (the report form asks as the person types), by the same
/// ranking as an incident's similar incidents.
pub async fn similar(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<SimilarQuery>,
) -> ApiResult<Response> {
    let text = q.title.unwrap_or_default();
    let items = if text.trim().chars().count() < 3 {
        Vec::new()
    } else {
        let probe = dispatch_engine::incident::Probe {
            title: text,
            ..Default::default()
        };
        s.engine
            .incidents()
            .similar_to(caller.auth.viewer(), &probe, 5)
            .await?
    };
    let html = similar_list(items.into_iter().map(Into::into).collect())?;
    Ok((StatusCode::OK, axum::response::Html(html)).into_response())
}
