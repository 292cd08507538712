//! The emulator's Microsoft Graph: a team's channels (paged), their members, tabs, archive and
//! unarchive, the team's members and the directory's users, behind Graph's bearer token and its
//! 429s with `Retry-After`.

use super::{graph_error, Channel, Emulator, Tab};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;

/// One page of `items` at `skip`, with the next page's link.
fn page(base_url: &str, query: &HashMap<String, String>, items: Vec<Value>, size: usize) -> Value {
    let skip: usize = query
        .get("$skiptoken")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let value: Vec<Value> = items.iter().skip(skip).take(size).cloned().collect();
    let mut out = json!({ "value": value });
    if skip + size < items.len() {
        let mut q: Vec<String> = query
            .iter()
            .filter(|(k, _)| k.as_str() != "$skiptoken")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        q.push(format!("$skiptoken={}", skip + size));
        out["@odata.nextLink"] = json!(format!("{base_url}?{}", q.join("&")));
    }
    out
}

fn channel_json(c: &Channel, base: &str) -> Value {
    json!({"id": c.id, "displayName": c.name, "description": c.description,
        "membershipType": c.membership, "isArchived": c.archived,
        "webUrl": format!("{base}/teams-web/channel/{}", c.id)})
}

pub(super) async fn graph(
    State(emu): State<Emulator>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = uri.path().to_string();
    emu.record(method.as_str(), &uri.to_string(), &body);
    let Some(rest) = path.strip_prefix("/graph/v1.0/") else {
        return graph_error(StatusCode::NOT_FOUND, "NotFound", "unknown path");
    };
    {
        let mut inner = emu.inner.lock().unwrap();
        if inner.rate_limit > 0 {
            inner.rate_limit -= 1;
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "1")],
                Json(json!({"error": {"code": "TooManyRequests", "message": "Please retry again later."}})),
            )
                .into_response();
        }
    }
    if emu.bearer(&headers) != Some("graph") {
        return graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token is empty or invalid.",
        );
    }
    let segments: Vec<String> = rest.split('/').map(percent_decode).collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let mut inner = emu.inner.lock().unwrap();
    let base = inner.base.clone();
    let url = format!("{base}{path}");
    let size = inner.page_size;
    if let ["users", id] = segs.as_slice() {
        let id = id.to_lowercase();
        return match inner.users.iter().find(|u| u.0 == id || u.1.to_lowercase() == id) {
            Some((id, email, name)) => Json(json!({"id": id, "mail": email,
                "userPrincipalName": email, "displayName": name}))
            .into_response(),
            None => graph_error(StatusCode::NOT_FOUND, "Request_ResourceNotFound",
                "Resource does not exist or one of its queried reference-property objects are not present."),
        };
    }
    let ["teams", team, rest @ ..] = segs.as_slice() else {
        return graph_error(StatusCode::NOT_FOUND, "NotFound", "unknown path");
    };
    if *team != inner.team {
        return graph_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "No team found with Group Id",
        );
    }
    let user_of = |b: &Value| -> Option<String> {
        let bind = b["user@odata.bind"].as_str()?;
        let start = bind.find("users('")? + 7;
        Some(bind[start..].trim_end_matches("')").to_string())
    };
    match (method.as_str(), rest) {
        ("GET", ["channels"]) => {
            let items = inner
                .channels
                .iter()
                .map(|c| channel_json(c, &base))
                .collect();
            Json(page(&url, &query, items, size)).into_response()
        }
        ("POST", ["channels"]) => {
            let name = body["displayName"].as_str().unwrap_or_default().to_string();
            if name.is_empty() || name.chars().count() > 50 {
                return graph_error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "displayName is invalid",
                );
            }
            if inner
                .channels
                .iter()
                .any(|c| c.name.eq_ignore_ascii_case(&name))
            {
                return graph_error(
                    StatusCode::CONFLICT,
                    "NameAlreadyExists",
                    "Channel name already existed",
                );
            }
            let membership = body["membershipType"]
                .as_str()
                .unwrap_or("standard")
                .to_string();
            let mut members = Vec::new();
            if membership == "private" {
                let owner = body["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|m| {
                        m["roles"]
                            .as_array()
                            .is_some_and(|r| r.iter().any(|x| x == "owner"))
                    })
                    .and_then(user_of);
                match owner {
                    Some(o) if inner.users.iter().any(|u| u.0 == o) => members.push(o),
                    _ => {
                        return graph_error(
                            StatusCode::BAD_REQUEST,
                            "BadRequest",
                            "A private channel created with application permissions needs an owner",
                        )
                    }
                }
            }
            inner.next += 1;
            let c = Channel {
                id: format!("19:{:08x}@thread.tacv2", inner.next),
                name,
                description: body["description"].as_str().unwrap_or_default().into(),
                membership,
                members,
                ..Default::default()
            };
            let out = channel_json(&c, &base);
            inner.channels.push(c);
            (StatusCode::CREATED, Json(out)).into_response()
        }
        (m, ["channels", channel, more @ ..]) => {
            let channel = channel.to_string();
            let Some(i) = inner.channels.iter().position(|c| c.id == channel) else {
                return graph_error(StatusCode::NOT_FOUND, "NotFound", "Channel not found");
            };
            let tab_app = format!(
                "{}/graph/v1.0/appCatalogs/teamsApps/{}",
                base,
                crate::graph::WEBSITE_APP
            );
            let users: Vec<String> = inner.users.iter().map(|u| u.0.clone()).collect();
            let next = inner.next + 1;
            let c = &mut inner.channels[i];
            let answer = match (m, more) {
                ("GET", []) => Json(channel_json(c, &base)).into_response(),
                ("PATCH", []) => {
                    if c.archived {
                        return graph_error(
                            StatusCode::FORBIDDEN,
                            "Forbidden",
                            "the channel is archived",
                        );
                    }
                    if let Some(d) = body["description"].as_str() {
                        if d.chars().count() > 1024 {
                            return graph_error(
                                StatusCode::BAD_REQUEST,
                                "BadRequest",
                                "description is too long",
                            );
                        }
                        c.description = d.into();
                    }
                    StatusCode::NO_CONTENT.into_response()
                }
                ("POST", ["members"]) => {
                    if c.membership == "standard" {
                        return graph_error(
                            StatusCode::BAD_REQUEST,
                            "BadRequest",
                            "Members can only be added to private or shared channels",
                        );
                    }
                    let Some(u) = user_of(&body).filter(|u| users.contains(u)) else {
                        return graph_error(StatusCode::NOT_FOUND, "NotFound", "User not found");
                    };
                    if c.members.contains(&u) {
                        return graph_error(StatusCode::CONFLICT, "Conflict", "already a member");
                    }
                    c.members.push(u.clone());
                    (
                        StatusCode::CREATED,
                        Json(json!({"id": format!("m-{u}"), "userId": u})),
                    )
                        .into_response()
                }
                ("GET", ["tabs"]) => {
                    let items = c
                        .tabs
                        .iter()
                        .map(|t| {
                            json!({"id": t.id, "displayName": t.name,
                        "configuration": {"contentUrl": t.url, "websiteUrl": t.url},
                        "teamsApp": {"id": crate::graph::WEBSITE_APP}})
                        })
                        .collect();
                    Json(page(&url, &query, items, size)).into_response()
                }
                ("POST", ["tabs"]) => {
                    if body["teamsApp@odata.bind"].as_str() != Some(tab_app.as_str()) {
                        return graph_error(
                            StatusCode::BAD_REQUEST,
                            "BadRequest",
                            "unknown teamsApp",
                        );
                    }
                    let t = Tab {
                        id: format!("tab-{next}"),
                        name: body["displayName"].as_str().unwrap_or_default().into(),
                        url: body["configuration"]["contentUrl"]
                            .as_str()
                            .unwrap_or_default()
                            .into(),
                    };
                    let out = json!({"id": t.id, "displayName": t.name});
                    c.tabs.push(t);
                    (StatusCode::CREATED, Json(out)).into_response()
                }
                ("PATCH", ["tabs", tab]) => match c.tabs.iter_mut().find(|t| t.id == *tab) {
                    Some(t) => {
                        if let Some(u) = body["configuration"]["contentUrl"].as_str() {
                            t.url = u.into();
                        }
                        Json(json!({"id": t.id, "displayName": t.name})).into_response()
                    }
                    None => graph_error(StatusCode::NOT_FOUND, "NotFound", "Tab not found"),
                },
                ("POST", ["archive"]) | ("POST", ["unarchive"]) => {
                    let archive = more[0] == "archive";
                    if c.archived == archive {
                        return graph_error(
                            StatusCode::BAD_REQUEST,
                            "BadRequest",
                            if archive {
                                "The channel is already archived"
                            } else {
                                "The channel is not archived"
                            },
                        );
                    }
                    c.archived = archive;
                    StatusCode::ACCEPTED.into_response()
                }
                _ => graph_error(StatusCode::NOT_FOUND, "NotFound", "unknown path"),
            };
            inner.next = next;
            answer
        }
        ("POST", ["members"]) => {
            let Some(u) = user_of(&body).filter(|u| inner.users.iter().any(|x| &x.0 == u)) else {
                return graph_error(StatusCode::NOT_FOUND, "NotFound", "User not found");
            };
            if inner.team_members.contains(&u) {
                return graph_error(StatusCode::CONFLICT, "Conflict", "already a member");
            }
            inner.team_members.push(u.clone());
            (
                StatusCode::CREATED,
                Json(json!({"id": format!("m-{u}"), "userId": u})),
            )
                .into_response()
        }
        _ => graph_error(StatusCode::NOT_FOUND, "NotFound", "unknown path"),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
