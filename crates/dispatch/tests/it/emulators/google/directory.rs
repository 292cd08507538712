//! Admin SDK Directory v1: groups and their members.

use super::*;

const GROUPS: &[&str] = &["https://www.googleapis.com/auth/admin.directory.group"];

fn group_json(g: &Group) -> Value {
    json!({"kind": "admin#directory#group", "id": g.id, "email": g.email, "name": g.name,
        "description": g.description, "directMembersCount": g.members.len().to_string(),
        "adminCreated": true})
}

fn group_not_found(what: &str) -> Response {
    google_error(
        StatusCode::NOT_FOUND,
        &format!("Resource Not Found: {what}"),
        "notFound",
    )
}

/// The administrator's token, or the answer (a non-admin is 403 `Not Authorized …`).
fn admin(s: &Inner, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let subject = s.gate(headers, GROUPS)?;
    if subject != SUBJECT {
        return Err(Box::new(google_error(
            StatusCode::FORBIDDEN,
            "Not Authorized to access this resource/api",
            "forbidden",
        )));
    }
    Ok(())
}

pub(super) async fn list_groups(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = admin(&s, &headers) {
        return *r;
    }
    let pairs = super::super::query_pairs(&q.unwrap_or_default());
    let domain = one(&pairs, "domain").unwrap_or_default();
    if domain != DOMAIN {
        return google_error(
            StatusCode::FORBIDDEN,
            "Not Authorized to access this resource/api",
            "forbidden",
        );
    }
    let data = s.data.lock().unwrap();
    let size = s.page(one(&pairs, "maxResults").and_then(|n| n.parse().ok()));
    let from = offset(&pairs);
    let list: Vec<Value> = data
        .groups
        .iter()
        .skip(from)
        .take(size)
        .map(group_json)
        .collect();
    let mut body = json!({"kind": "admin#directory#groups", "groups": list});
    if from + size < data.groups.len() {
        body["nextPageToken"] = json!(format!("page-{}", from + size));
    }
    Json(body).into_response()
}

pub(super) async fn insert_group(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = admin(&s, &headers) {
        return *r;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let email = v["email"].as_str().unwrap_or_default().to_lowercase();
    if email.split('@').nth(1) != Some(DOMAIN) {
        return google_error(StatusCode::BAD_REQUEST, "Invalid Input: email", "invalid");
    }
    let mut data = s.data.lock().unwrap();
    if data.groups.iter().any(|g| g.email == email) {
        return google_error(StatusCode::CONFLICT, "Entity already exists.", "duplicate");
    }
    let id = s.new_id(&mut data, "03");
    let g = Group {
        id,
        email,
        name: v["name"].as_str().unwrap_or_default().into(),
        description: v["description"].as_str().unwrap_or_default().into(),
        members: Vec::new(),
    };
    let out = group_json(&g);
    data.groups.push(g);
    Json(out).into_response()
}

fn find_group<'a>(data: &'a mut Data, key: &str) -> Option<&'a mut Group> {
    let key = key.to_lowercase();
    data.groups
        .iter_mut()
        .find(|g| g.email == key || g.id == key)
}

pub(super) async fn get_group(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Response {
    if let Err(r) = admin(&s, &headers) {
        return *r;
    }
    let mut data = s.data.lock().unwrap();
    match find_group(&mut data, &key) {
        Some(g) => Json(group_json(g)).into_response(),
        None => group_not_found("groupKey"),
    }
}

pub(super) async fn delete_group(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Response {
    if let Err(r) = admin(&s, &headers) {
        return *r;
    }
    let mut data = s.data.lock().unwrap();
    let key = key.to_lowercase();
    let before = data.groups.len();
    data.groups.retain(|g| g.email != key && g.id != key);
    if data.groups.len() == before {
        return group_not_found("groupKey");
    }
    StatusCode::NO_CONTENT.into_response()
}

pub(super) async fn list_members(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = admin(&s, &headers) {
        return *r;
    }
    let pairs = super::super::query_pairs(&q.unwrap_or_default());
    let asked = one(&pairs, "maxResults").and_then(|n| n.parse::<usize>().ok());
    if asked.is_some_and(|n| n > 200) {
        return google_error(
            StatusCode::BAD_REQUEST,
            "Invalid Input: maxResults",
            "invalid",
        );
    }
    let size = s.page(asked.or(Some(200)));
    let from = offset(&pairs);
    let mut data = s.data.lock().unwrap();
    let Some(g) = find_group(&mut data, &key) else {
        return group_not_found("groupKey");
    };
    let list: Vec<Value> = g
        .members
        .iter()
        .skip(from)
        .take(size)
        .map(|m| {
            json!({"kind": "admin#directory#member", "email": m, "role": "MEMBER",
                        "type": "USER", "status": "ACTIVE"})
        })
        .collect();
    let mut body = json!({"kind": "admin#directory#members"});
    if !list.is_empty() {
        body["members"] = json!(list);
    }
    if from + size < g.members.len() {
        body["nextPageToken"] = json!(format!("page-{}", from + size));
    }
    Json(body).into_response()
}

pub(super) async fn insert_member(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = admin(&s, &headers) {
        return *r;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let email = v["email"].as_str().unwrap_or_default().to_lowercase();
    if !email.contains('@') {
        return google_error(
            StatusCode::BAD_REQUEST,
            "Missing required field: memberKey",
            "required",
        );
    }
    let mut data = s.data.lock().unwrap();
    let Some(g) = find_group(&mut data, &key) else {
        return group_not_found("groupKey");
    };
    if g.members.contains(&email) {
        return google_error(StatusCode::CONFLICT, "Member already exists.", "duplicate");
    }
    g.members.push(email.clone());
    Json(json!({"kind": "admin#directory#member", "email": email,
        "role": v["role"].as_str().unwrap_or("MEMBER"), "type": "USER", "status": "ACTIVE"}))
    .into_response()
}

pub(super) async fn delete_member(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path((key, member)): Path<(String, String)>,
) -> Response {
    if let Err(r) = admin(&s, &headers) {
        return *r;
    }
    let mut data = s.data.lock().unwrap();
    let Some(g) = find_group(&mut data, &key) else {
        return group_not_found("groupKey");
    };
    let member = member.to_lowercase();
    let before = g.members.len();
    g.members.retain(|m| *m != member);
    if g.members.len() == before {
        return group_not_found("memberKey");
    }
    StatusCode::NO_CONTENT.into_response()
}
