//! Drive v3: about, files (list with `q` and pages, create, get, update, copy) and permissions.

use super::*;

const DRIVE: &[&str] = &["https://www.googleapis.com/auth/drive"];

fn web_link(f: &File) -> String {
    if f.mime == FOLDER_MIME {
        format!("https://drive.google.com/drive/folders/{}", f.id)
    } else {
        format!("https://docs.google.com/document/d/{}/edit", f.id)
    }
}

/// A file as Drive shows it: the default fields, and those `fields` names.
fn file_json(f: &File, fields: Option<&str>) -> Value {
    let mut v = json!({"kind": "drive#file", "id": f.id, "name": f.name, "mimeType": f.mime});
    let Some(fields) = fields else { return v };
    if fields.contains("parents") {
        v["parents"] = json!(f.parents);
    }
    if fields.contains("appProperties") {
        v["appProperties"] = json!(f.app_properties);
    }
    if fields.contains("webViewLink") {
        v["webViewLink"] = json!(web_link(f));
    }
    if fields.contains("contentRestrictions") {
        v["contentRestrictions"] = json!([{"readOnly": f.read_only}]);
    }
    v
}

fn permission_json(p: &Permission, fields: Option<&str>) -> Value {
    let mut v = json!({"kind": "drive#permission", "id": p.id, "type": p.kind, "role": p.role});
    if fields.is_some_and(|f| f.contains("emailAddress")) {
        v["emailAddress"] = json!(p.email);
    }
    v
}

fn not_found(id: &str) -> Response {
    google_error(
        StatusCode::NOT_FOUND,
        &format!("File not found: {id}."),
        "notFound",
    )
}

/// One clause of a `files.list` query.
#[derive(Debug, PartialEq)]
enum Clause {
    Property(String, String),
    InParents(String),
    Trashed(bool),
    Name(String),
    Mime(String),
}

/// A quoted string at the start of `s` (`'…'`, with `\'` and `\\`): it and the rest.
fn quoted(s: &str) -> Option<(String, &str)> {
    let rest = s.strip_prefix('\'')?;
    let mut out = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            '\'' => return Some((out, &rest[i + 1..])),
            c => out.push(c),
        }
    }
    None
}

/// Parses the query terms Dispatch uses; anything else is an error (Drive's 400 `invalid`).
fn parse_q(q: &str) -> Option<Vec<Clause>> {
    let mut out = Vec::new();
    let mut s = q.trim();
    loop {
        if let Some(rest) = s.strip_prefix("appProperties has {") {
            let end = rest.find('}')?;
            let inner = rest[..end].trim();
            let (k, after) = quoted(inner.strip_prefix("key=")?.trim_start())?;
            let after = after.trim_start().strip_prefix("and")?.trim_start();
            let (v, after) = quoted(after.strip_prefix("value=")?.trim_start())?;
            if !after.trim().is_empty() {
                return None;
            }
            out.push(Clause::Property(k, v));
            s = rest[end + 1..].trim_start();
        } else if s.starts_with('\'') {
            let (id, rest) = quoted(s)?;
            s = rest.trim_start().strip_prefix("in parents")?.trim_start();
            out.push(Clause::InParents(id));
        } else if let Some(rest) = s.strip_prefix("trashed") {
            let rest = rest.trim_start().strip_prefix('=')?.trim_start();
            let (b, rest) = if let Some(r) = rest.strip_prefix("false") {
                (false, r)
            } else {
                (true, rest.strip_prefix("true")?)
            };
            out.push(Clause::Trashed(b));
            s = rest.trim_start();
        } else if let Some(rest) = s.strip_prefix("name") {
            let (v, rest) = quoted(rest.trim_start().strip_prefix('=')?.trim_start())?;
            out.push(Clause::Name(v));
            s = rest.trim_start();
        } else if let Some(rest) = s.strip_prefix("mimeType") {
            let (v, rest) = quoted(rest.trim_start().strip_prefix('=')?.trim_start())?;
            out.push(Clause::Mime(v));
            s = rest.trim_start();
        } else {
            return None;
        }
        if s.is_empty() {
            return Some(out);
        }
        s = s.strip_prefix("and ")?.trim_start();
    }
}

fn matches(f: &File, clauses: &[Clause]) -> bool {
    clauses.iter().all(|c| match c {
        Clause::Property(k, v) => f.app_properties.get(k) == Some(v),
        Clause::InParents(p) => f.parents.contains(p),
        Clause::Trashed(t) => !*t,
        Clause::Name(n) => f.name == *n,
        Clause::Mime(m) => f.mime == *m,
    })
}

pub(super) async fn about(State(s): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    Json(
        json!({"kind": "drive#about", "user": {"kind": "drive#user", "displayName": "Admin",
        "emailAddress": subject, "me": true}}),
    )
    .into_response()
}

pub(super) async fn list_files(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let pairs = super::super::query_pairs(&q.unwrap_or_default());
    let Some(clauses) = parse_q(&one(&pairs, "q").unwrap_or_default()) else {
        return google_error(StatusCode::BAD_REQUEST, "Invalid Value", "invalid");
    };
    let data = s.data.lock().unwrap();
    let all: Vec<&File> = data
        .files
        .iter()
        .filter(|f| matches(f, &clauses) && visible(&data, &f.id, &subject, 0))
        .collect();
    let size = s.page(one(&pairs, "pageSize").and_then(|n| n.parse().ok()));
    let from = offset(&pairs);
    let fields = one(&pairs, "fields");
    let files: Vec<Value> = all
        .iter()
        .skip(from)
        .take(size)
        .map(|f| file_json(f, fields.as_deref()))
        .collect();
    let mut body = json!({"kind": "drive#fileList", "incompleteSearch": false, "files": files});
    if from + size < all.len() {
        body["nextPageToken"] = json!(format!("page-{}", from + size));
    }
    Json(body).into_response()
}

pub(super) async fn create_file(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let pairs = super::super::query_pairs(&q.unwrap_or_default());
    let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let mut data = s.data.lock().unwrap();
    let parents = match parents(&v, &data, &subject) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let id = s.new_id(&mut data, "1F");
    let f = File {
        id: id.clone(),
        name: v["name"].as_str().unwrap_or("Untitled").into(),
        mime: v["mimeType"]
            .as_str()
            .unwrap_or("application/octet-stream")
            .into(),
        parents,
        app_properties: props(&v["appProperties"]),
        text: String::new(),
        permissions: vec![owner(&subject)],
        read_only: false,
    };
    let out = file_json(&f, one(&pairs, "fields").as_deref());
    data.files.push(f);
    Json(out).into_response()
}

/// The `parents` of a new file (My Drive's `root` when none): each must be visible to the
/// subject, else Drive's 404 for it.
fn parents(v: &Value, data: &Data, subject: &str) -> Result<Vec<String>, Box<Response>> {
    let parents: Vec<String> = v["parents"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_else(|| vec!["root".into()]);
    match parents
        .iter()
        .find(|p| *p != "root" && !visible(data, p, subject, 0))
    {
        Some(p) => Err(Box::new(not_found(p))),
        None => Ok(parents),
    }
}

fn props(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) async fn get_file(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let pairs = super::super::query_pairs(&q.unwrap_or_default());
    let data = s.data.lock().unwrap();
    match data.files.iter().find(|f| f.id == id) {
        Some(f) if visible(&data, &id, &subject, 0) => {
            Json(file_json(f, one(&pairs, "fields").as_deref())).into_response()
        }
        _ => not_found(&id),
    }
}

pub(super) async fn update_file(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let pairs = super::super::query_pairs(&q.unwrap_or_default());
    let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let mut data = s.data.lock().unwrap();
    if !visible(&data, &id, &subject, 0) {
        return not_found(&id);
    }
    let add: Vec<String> = one(&pairs, "addParents")
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    for p in &add {
        if !visible(&data, p, &subject, 0) {
            return not_found(p);
        }
    }
    let remove = one(&pairs, "removeParents").unwrap_or_default();
    let f = data.files.iter_mut().find(|f| f.id == id).unwrap();
    if let Some(n) = v["name"].as_str() {
        f.name = n.into();
    }
    if let Some(r) = v["contentRestrictions"].as_array() {
        f.read_only = r.iter().any(|r| r["readOnly"] == true);
    }
    f.parents.retain(|p| !remove.split(',').any(|r| r == p));
    for p in add {
        if !f.parents.contains(&p) {
            f.parents.push(p);
        }
    }
    Json(file_json(f, one(&pairs, "fields").as_deref())).into_response()
}

pub(super) async fn copy_file(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let pairs = super::super::query_pairs(&q.unwrap_or_default());
    let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let mut data = s.data.lock().unwrap();
    if !visible(&data, &id, &subject, 0) {
        return not_found(&id);
    }
    let template = data.files.iter().find(|f| f.id == id).unwrap().clone();
    if template.mime == FOLDER_MIME {
        return google_error(
            StatusCode::FORBIDDEN,
            "This file cannot be copied by the user.",
            "cannotCopyFile",
        );
    }
    let parents = match parents(&v, &data, &subject) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let new = s.new_id(&mut data, "1D");
    let f = File {
        id: new,
        name: v["name"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("Copy of {}", template.name)),
        mime: template.mime.clone(),
        parents,
        app_properties: props(&v["appProperties"]),
        text: template.text.clone(),
        permissions: vec![owner(&subject)],
        read_only: false,
    };
    let out = file_json(&f, one(&pairs, "fields").as_deref());
    data.files.push(f);
    Json(out).into_response()
}

pub(super) async fn list_permissions(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let pairs = super::super::query_pairs(&q.unwrap_or_default());
    let data = s.data.lock().unwrap();
    if !visible(&data, &id, &subject, 0) {
        return not_found(&id);
    }
    let f = data.files.iter().find(|f| f.id == id).unwrap();
    let size = s.page(one(&pairs, "pageSize").and_then(|n| n.parse().ok()));
    let from = offset(&pairs);
    let fields = one(&pairs, "fields");
    let list: Vec<Value> = f
        .permissions
        .iter()
        .skip(from)
        .take(size)
        .map(|p| permission_json(p, fields.as_deref()))
        .collect();
    let mut body = json!({"kind": "drive#permissionList", "permissions": list});
    if from + size < f.permissions.len() {
        body["nextPageToken"] = json!(format!("page-{}", from + size));
    }
    Json(body).into_response()
}

const ROLES: &[&str] = &[
    "owner",
    "organizer",
    "fileOrganizer",
    "writer",
    "commenter",
    "reader",
];

pub(super) async fn create_permission(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let pairs = super::super::query_pairs(&q.unwrap_or_default());
    let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let role = v["role"].as_str().unwrap_or_default();
    let kind = v["type"].as_str().unwrap_or_default();
    if !ROLES.contains(&role) {
        return google_error(
            StatusCode::BAD_REQUEST,
            "The permission role field is required.",
            "required",
        );
    }
    let email = v["emailAddress"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    if matches!(kind, "user" | "group") && !email.contains('@') {
        return google_error(
            StatusCode::BAD_REQUEST,
            "The permission emailAddress field is required.",
            "required",
        );
    }
    let mut data = s.data.lock().unwrap();
    if !visible(&data, &id, &subject, 0) {
        return not_found(&id);
    }
    let pid = s.new_id(&mut data, "0");
    let f = data.files.iter_mut().find(|f| f.id == id).unwrap();
    let p = Permission {
        id: pid,
        kind: kind.into(),
        role: role.into(),
        email,
        notified: one(&pairs, "sendNotificationEmail").as_deref() != Some("false"),
    };
    let out = permission_json(&p, one(&pairs, "fields").as_deref());
    f.permissions.push(p);
    Json(out).into_response()
}

pub(super) async fn update_permission(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path((id, pid)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let mut data = s.data.lock().unwrap();
    if !visible(&data, &id, &subject, 0) {
        return not_found(&id);
    }
    let f = data.files.iter_mut().find(|f| f.id == id).unwrap();
    let Some(p) = f.permissions.iter_mut().find(|p| p.id == pid) else {
        return google_error(
            StatusCode::NOT_FOUND,
            &format!("Permission not found: {pid}."),
            "notFound",
        );
    };
    if let Some(r) = v["role"].as_str().filter(|r| ROLES.contains(r)) {
        p.role = r.into();
    }
    Json(permission_json(p, None)).into_response()
}

pub(super) async fn delete_permission(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path((id, pid)): Path<(String, String)>,
) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut data = s.data.lock().unwrap();
    if !visible(&data, &id, &subject, 0) {
        return not_found(&id);
    }
    let f = data.files.iter_mut().find(|f| f.id == id).unwrap();
    let before = f.permissions.len();
    f.permissions.retain(|p| p.id != pid);
    if f.permissions.len() == before {
        return google_error(
            StatusCode::NOT_FOUND,
            &format!("Permission not found: {pid}."),
            "notFound",
        );
    }
    StatusCode::NO_CONTENT.into_response()
}
