//! The settings pages (admins): one generic list page and one generic form page serve every
//! section (projects, taxonomies, rules, the directory, webhooks, users, audit log, failed jobs).
//!
//! A section is a row of [`sections::SECTIONS`] (what it lists, which fields its form has, who may
//! change it) and a few arms in [`sections`] that call the API's own handlers. A submitted form
//! becomes the JSON body the API takes ([`to_json`]), so validation is the API's: a bad field
//! comes back as the same `ValidationError`, shown beside that field, and nothing is saved.

mod sections;

use super::{render, see_other, Caller, Chrome, Form};
use crate::auth::RequestOrigin;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Path, Query};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use dispatch_core::{OrgRole, ValidationError};
pub(crate) use sections::{body, fixed, options, out, select};
use sections::{Meta, Scope, SECTIONS};
use serde_json::{Map, Value};

/// How a form field is typed and sent.
pub enum Kind {
    /// One line of text (empty: `null`).
    Text,
    /// Several lines of text (empty: `null`).
    Area,
    /// A checkbox (`true` when ticked).
    Check,
    /// A whole number (empty: `null`).
    Number,
    /// Comma- or line-separated values, sent as a list of strings.
    List,
    /// Comma-separated ids, sent as a list of numbers.
    Ids,
    /// One of these `(value, label)` choices (`""`: `null`); `numeric` values are sent as numbers.
    Select {
        /// The choices.
        options: Vec<(String, String)>,
        /// Send the value as a number.
        numeric: bool,
    },
}

/// What an edit form sends for a field left empty.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Empty {
    /// Nothing: the stored value is kept.
    Keep,
    /// `null`: the stored value is cleared (descriptions, templates).
    Clear,
    /// `""`: the API says why it may not be empty (names).
    Refuse,
}

/// One field of a settings form. A dotted name (`providers.email`) is a key of a nested object.
pub struct Field {
    /// The API's field name (errors come back under it).
    pub name: String,
    /// What people read.
    pub label: String,
    /// How it is typed.
    pub kind: Kind,
    /// A line of help under the field.
    pub hint: String,
    /// The key of the shown record the edit form starts from (the name when empty).
    pub from: &'static str,
    /// What an edit form sends when it is left empty.
    pub empty: Empty,
}

impl Field {
    pub(crate) fn new(name: &str, label: &str, kind: Kind) -> Self {
        Self {
            name: name.into(),
            label: label.into(),
            kind,
            hint: String::new(),
            from: "",
            empty: Empty::Keep,
        }
    }

    /// Left empty on an edit form, it clears the stored value.
    pub(crate) fn clearable(mut self) -> Self {
        self.empty = Empty::Clear;
        self
    }

    /// Left empty, the API refuses it (it may not be empty).
    pub(crate) fn required(mut self) -> Self {
        self.empty = Empty::Refuse;
        self
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = hint.into();
        self
    }

    pub(crate) fn from(mut self, key: &'static str) -> Self {
        self.from = key;
        self
    }

    /// The element id of the field in the page.
    pub fn id(&self) -> String {
        format!("s-{}", self.name.replace('.', "-"))
    }

    /// Whether it is a checkbox.
    pub fn is_check(&self) -> bool {
        matches!(self.kind, Kind::Check)
    }
}

/// A JSON value as one table cell or form value.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}: {}", text(v)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The value at a dotted path of a JSON object.
pub(crate) fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, k| &v[k])
}

/// A shown record as the values of an edit form.
pub(crate) fn values_of(fields: &[Field], record: &Value) -> Form {
    Form::with_values(fields.iter().map(|f| {
        let key = if f.from.is_empty() { &f.name } else { f.from };
        let v = at(record, key);
        let shown = match (&f.kind, v) {
            (Kind::Check, Value::Bool(true)) => "on".to_string(),
            (Kind::Check, _) => String::new(),
            (_, v) => text(v),
        };
        (f.name.as_str(), shown)
    }))
}

/// The submitted values as a form to show again.
pub(crate) fn values_typed(fields: &[Field], pairs: &[(String, String)]) -> Form {
    Form::with_values(fields.iter().map(|f| {
        let v = pairs
            .iter()
            .rev()
            .find(|(k, _)| *k == f.name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        (f.name.as_str(), v)
    }))
}

/// Turns submitted form fields into the JSON body the API takes. A value that is not even of
/// the right shape (letters in a number) is a field error here; everything else is the API's.
/// A field left empty is left out (a new record takes the API's default, an edited one keeps
/// its value), cleared or sent empty, as the field says.
pub fn to_json(fields: &[Field], pairs: &[(String, String)]) -> Result<Value, ValidationError> {
    let mut e = ValidationError::default();
    let mut out = Value::Object(Map::new());
    for f in fields {
        let raw = pairs
            .iter()
            .rev()
            .find(|(k, _)| *k == f.name)
            .map(|(_, v)| v.trim());
        let given = raw.filter(|v| !v.is_empty());
        let parts = || {
            given
                .unwrap_or_default()
                .split([',', '\n'])
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let number = |v: &str, e: &mut ValidationError| match v.parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => {
                e.push(&f.name, format!("{v:?} is not a whole number"));
                Value::Null
            }
        };
        let value = match &f.kind {
            Kind::Check => Value::Bool(raw.is_some()),
            Kind::Number | Kind::Select { numeric: true, .. } => match given {
                Some(v) => number(v, &mut e),
                None => Value::Null,
            },
            // An empty list is sent as `[]`, unless leaving it empty means "clear it".
            Kind::List if given.is_none() && f.empty == Empty::Clear => Value::Null,
            Kind::List => Value::from(parts()),
            Kind::Ids => Value::Array(parts().iter().map(|p| number(p, &mut e)).collect()),
            Kind::Text | Kind::Area | Kind::Select { .. } => {
                given.map_or(Value::Null, |v| Value::from(v.to_string()))
            }
        };
        let value = match (value, f.empty) {
            (Value::Null, Empty::Keep) => continue,
            (Value::Null, Empty::Refuse) => Value::from(""),
            (v, _) => v,
        };
        let mut slot = &mut out;
        for key in f.name.split('.') {
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            slot = slot
                .as_object_mut()
                .expect("an object")
                .entry(key)
                .or_insert(Value::Null);
        }
        *slot = value;
    }
    e.into_result()?;
    Ok(out)
}

/// Which records a list shows, and which page.
#[derive(serde::Deserialize, serde::Serialize, Default, Clone)]
pub struct ScopeQuery {
    /// Project slug, for project sections (the default project when absent).
    pub project: Option<String>,
    /// Webhook id, for deliveries.
    pub webhook: Option<i64>,
    /// Page (from 1).
    pub page: Option<i64>,
    /// Entries older than this id (audit log).
    pub before: Option<i64>,
    /// Job state (failed jobs).
    pub state: Option<String>,
}

fn meta(slug: &str) -> ApiResult<&'static Meta> {
    SECTIONS
        .iter()
        .find(|m| m.slug == slug)
        .ok_or_else(|| ApiError::NotFound(format!("settings page {slug:?}")))
}

/// Refuses a change the caller's role does not allow (projects need a manager, people an owner).
fn may_change(caller: &Caller, meta: &Meta) -> ApiResult<()> {
    let role: OrgRole = caller.auth.0.role;
    if role.at_least(meta.role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "changing {} needs the {} role (you are {role})",
            meta.title.to_lowercase(),
            meta.role
        )))
    }
}

/// The settings index.
#[derive(Template)]
#[template(path = "settings/index.html")]
struct IndexPage {
    chrome: Chrome,
    sections: &'static [Meta],
}

impl IndexPage {
    /// The sections by group, in order (sections of no group are reached from others).
    fn groups(&self) -> Vec<(&'static str, Vec<&'static Meta>)> {
        let mut out: Vec<(&'static str, Vec<&'static Meta>)> = Vec::new();
        for m in self.sections.iter().filter(|m| !m.group.is_empty()) {
            match out.iter_mut().find(|(g, _)| *g == m.group) {
                Some((_, items)) => items.push(m),
                None => out.push((m.group, vec![m])),
            }
        }
        out
    }
}

/// `GET /settings`: every settings section.
pub async fn index(caller: Caller) -> ApiResult<Response> {
    let page = IndexPage {
        chrome: caller.chrome("Settings", "settings"),
        sections: SECTIONS,
    };
    Ok(render(StatusCode::OK, &page))
}

/// One row of a list.
pub struct Row {
    /// The record's key in links.
    pub key: String,
    /// The cells, in column order.
    pub cells: Vec<String>,
    /// Links beside it (label, address).
    pub links: Vec<(String, String)>,
}

/// A section's list page.
#[derive(Template)]
#[template(path = "settings/list.html")]
struct ListPage {
    chrome: Chrome,
    meta: &'static Meta,
    projects: Vec<(String, String)>,
    scope: Scope,
    rows: Vec<Row>,
    next: Option<String>,
    notice: Option<String>,
    may_change: bool,
}

async fn list_page(
    s: &AppState,
    caller: &Caller,
    meta: &'static Meta,
    q: &ScopeQuery,
    notice: Option<String>,
) -> ApiResult<Response> {
    let scope = Scope::resolve(s, meta, q).await?;
    let listing = sections::list(s, caller, meta, &scope, q).await?;
    let rows = listing
        .rows
        .iter()
        .map(|r| Row {
            key: text(&r[meta.key]),
            cells: meta
                .columns
                .iter()
                .map(|(_, k)| {
                    let v = at(r, k);
                    let t = text(v);
                    if v.is_string() && t.chars().count() > 140 {
                        format!("{}…", t.chars().take(140).collect::<String>())
                    } else {
                        t
                    }
                })
                .collect(),
            links: meta
                .links
                .iter()
                .map(|(label, to)| {
                    (
                        label.to_string(),
                        to.replace("{key}", &text(&r[meta.key]))
                            .replace("{project}", &scope.project),
                    )
                })
                .collect(),
        })
        .collect();
    let page = ListPage {
        chrome: caller.chrome(meta.title, "settings"),
        meta,
        projects: s
            .engine
            .projects()
            .list()
            .await?
            .into_iter()
            .map(|p| (p.slug, p.name))
            .collect(),
        scope,
        rows,
        next: listing.next,
        notice,
        may_change: may_change(caller, meta).is_ok(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// `GET /settings/{section}`: a section's records.
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Path(section): Path<String>,
    Query(q): Query<ScopeQuery>,
) -> ApiResult<Response> {
    list_page(&s, &caller, meta(&section)?, &q, None).await
}

/// A section's create or edit form.
#[derive(Template)]
#[template(path = "settings/form.html")]
struct FormPage {
    chrome: Chrome,
    meta: &'static Meta,
    scope: Scope,
    heading: String,
    action: String,
    fields: Vec<Field>,
    form: Form,
    /// Where "delete" posts (edit forms of sections that delete).
    delete: Option<String>,
}

impl FormPage {
    /// The form of a new record (`id` none) or of record `id`, called `name`.
    fn new(caller: &Caller, target: Target, name: &str, fields: Vec<Field>, form: Form) -> Self {
        let Target { meta, scope, id } = target;
        let q = scope.query();
        let (title, heading, action, delete) = match &id {
            None => (
                format!("New · {}", meta.title),
                format!("New: {}", meta.title),
                format!("/settings/{}{q}", meta.slug),
                None,
            ),
            Some(id) => (
                meta.title.to_string(),
                format!("{}: {name}", meta.title),
                format!("/settings/{}/{id}{q}", meta.slug),
                meta.delete
                    .then(|| format!("/settings/{}/{id}/delete{q}", meta.slug)),
            ),
        };
        Self {
            chrome: caller.chrome(title, "settings"),
            meta,
            scope,
            heading,
            action,
            fields,
            form,
            delete,
        }
    }

    fn back(&self) -> String {
        format!("/settings/{}{}", self.meta.slug, self.scope.query())
    }
}

/// What a form is about: a section, its scope, and the record (none for a new one).
struct Target {
    meta: &'static Meta,
    scope: Scope,
    id: Option<String>,
}

impl Target {
    /// Finds the section and checks it has this form.
    async fn resolve(
        s: &AppState,
        section: &str,
        id: Option<String>,
        q: &ScopeQuery,
    ) -> ApiResult<Self> {
        let meta = meta(section)?;
        let has = if id.is_some() { meta.edit } else { meta.create };
        if !has {
            return Err(ApiError::NotFound(format!("a form of {}", meta.slug)));
        }
        let scope = Scope::resolve(s, meta, q).await?;
        Ok(Self { meta, scope, id })
    }

    async fn fields(&self, s: &AppState) -> ApiResult<Vec<Field>> {
        sections::fields(s, self.meta, &self.scope, self.id.is_none()).await
    }

    /// The list the form came from.
    fn back(&self) -> Response {
        see_other(&format!(
            "/settings/{}{}",
            self.meta.slug,
            self.scope.query()
        ))
    }
}

/// `GET /settings/{section}/new`: the form of a new record.
pub async fn new_form(
    State(s): State<AppState>,
    caller: Caller,
    Path(section): Path<String>,
    Query(q): Query<ScopeQuery>,
) -> ApiResult<Response> {
    let t = Target::resolve(&s, &section, None, &q).await?;
    let fields = t.fields(&s).await?;
    let start = sections::starting(t.meta)
        .iter()
        .map(|(k, v)| (*k, v.to_string()));
    let page = FormPage::new(&caller, t, "", fields, Form::with_values(start));
    Ok(render(StatusCode::OK, &page))
}

/// `GET /settings/{section}/{id}`: the form of a record.
pub async fn edit_form(
    State(s): State<AppState>,
    caller: Caller,
    Path((section, id)): Path<(String, String)>,
    Query(q): Query<ScopeQuery>,
) -> ApiResult<Response> {
    let t = Target::resolve(&s, &section, Some(id.clone()), &q).await?;
    let record = sections::show(&s, &caller, t.meta, &t.scope, &id).await?;
    let fields = t.fields(&s).await?;
    let form = values_of(&fields, &record);
    let name = text(at(&record, t.meta.label));
    let page = FormPage::new(&caller, t, &name, fields, form);
    Ok(render(StatusCode::OK, &page))
}

/// Shows a submitted form again with why it failed (errors that are not the person's
/// mistake are handed back).
fn failed(
    caller: &Caller,
    t: Target,
    fields: Vec<Field>,
    pairs: &[(String, String)],
    e: ApiError,
) -> ApiResult<Response> {
    let mut form = values_typed(&fields, pairs);
    form.fail(e)?;
    let name = t.id.clone().unwrap_or_default();
    let page = FormPage::new(caller, t, &name, fields, form);
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// The body a submitted form makes, if the caller may change the section.
fn submitted(
    caller: &Caller,
    t: &Target,
    fields: &[Field],
    pairs: &[(String, String)],
) -> ApiResult<Value> {
    may_change(caller, t.meta)?;
    Ok(to_json(fields, pairs)?)
}

/// `POST /settings/{section}`: creates a record (as the API's create does); a mistake shows
/// the form again with the error beside each field.
pub async fn create(
    State(s): State<AppState>,
    caller: Caller,
    RequestOrigin(origin): RequestOrigin,
    Path(section): Path<String>,
    Query(q): Query<ScopeQuery>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let t = Target::resolve(&s, &section, None, &q).await?;
    let fields = t.fields(&s).await?;
    let result = match submitted(&caller, &t, &fields, &pairs) {
        Ok(body) => sections::create(&s, &caller, origin, t.meta, &t.scope, body).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(created) => {
            // A secret or a set-up link is shown once, right here.
            let notice = ["secret", "setup_link"]
                .iter()
                .find_map(|k| created[*k].as_str())
                .map(|v| format!("Created. Copy this now; it is not shown again: {v}"));
            match notice {
                Some(_) => list_page(&s, &caller, t.meta, &q, notice).await,
                None => Ok(t.back()),
            }
        }
        Err(e) => failed(&caller, t, fields, &pairs, e),
    }
}

/// `POST /settings/{section}/{id}`: changes a record (as the API's update does).
pub async fn update(
    State(s): State<AppState>,
    caller: Caller,
    RequestOrigin(origin): RequestOrigin,
    Path((section, id)): Path<(String, String)>,
    Query(q): Query<ScopeQuery>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let t = Target::resolve(&s, &section, Some(id.clone()), &q).await?;
    let fields = t.fields(&s).await?;
    let result = match submitted(&caller, &t, &fields, &pairs) {
        Ok(body) => sections::update(&s, &caller, origin, t.meta, &t.scope, &id, body).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(t.back()),
        Err(e) => failed(&caller, t, fields, &pairs, e),
    }
}

/// `POST /settings/{section}/{id}/{action}`: deletes a record (`delete`) or retries a failed
/// job (`retry`), then goes back to the list.
pub async fn act(
    State(s): State<AppState>,
    caller: Caller,
    Path((section, id, action)): Path<(String, String, String)>,
    Query(q): Query<ScopeQuery>,
) -> ApiResult<Response> {
    let meta = meta(&section)?;
    may_change(&caller, meta)?;
    let scope = Scope::resolve(&s, meta, &q).await?;
    sections::act(&s, &caller, meta, &id, &action).await?;
    Ok(Target {
        meta,
        scope,
        id: None,
    }
    .back())
}
