//! The error answers every operation can give, added to the document in one place rather than
//! written into each handler's annotation: one shared response per status, all with the error
//! envelope, chosen from what the operation takes (a body, query or path parameters), its
//! method and its access rule.

use crate::policy::{self, Need};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::Modify;

/// Status, component name and what it means.
const ANSWERS: &[(u16, &str, &str)] = &[
    (
        400,
        "BadRequest",
        "The body or the query string could not be read (e.g. not JSON).",
    ),
    (401, "Unauthorized", "No credential, or not a live one."),
    (
        403,
        "Forbidden",
        "The credential's scope or the caller's role does not allow this.",
    ),
    (
        404,
        "NotFound",
        "What the path names does not exist, or the caller may not see it.",
    ),
    (
        409,
        "Conflict",
        "The change conflicts with the current state.",
    ),
    (
        413,
        "PayloadTooLarge",
        "The body is larger than the server accepts.",
    ),
    (415, "UnsupportedMediaType", "The body is not JSON."),
    (
        422,
        "ValidationFailed",
        "Fields failed validation, or are unknown; each is named in `fields`.",
    ),
];

/// Adds the shared error responses to the components and to every operation, where it can give
/// them.
pub struct ErrorAnswers;

impl Modify for ErrorAnswers {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        for (_, name, description) in ANSWERS {
            let envelope = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build();
            let response = ResponseBuilder::new()
                .description(*description)
                .content("application/json", envelope)
                .build();
            components
                .responses
                .insert((*name).to_string(), RefOr::T(response));
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            let methods = [
                ("GET", &mut item.get),
                ("PUT", &mut item.put),
                ("POST", &mut item.post),
                ("DELETE", &mut item.delete),
                ("PATCH", &mut item.patch),
            ];
            for (method, op) in methods {
                if let Some(op) = op.as_mut() {
                    add_answers(method, path, op);
                }
            }
        }
    }
}

/// The error statuses an operation can answer with.
fn statuses(method: &str, signed_in: bool, op: &Operation) -> Vec<u16> {
    let params = op.parameters.as_deref().unwrap_or_default();
    let takes = |place: ParameterIn| params.iter().any(|p| p.parameter_in == place);
    let writes = method != "GET";
    let (body, query, path) = (
        op.request_body.is_some(),
        takes(ParameterIn::Query),
        takes(ParameterIn::Path),
    );
    let mut out = Vec::new();
    if body || query {
        // A body that is not JSON, a query string that does not parse.
        out.push(400);
    }
    if signed_in {
        out.extend([401, 403]);
    }
    if path || query {
        // The path, or a query parameter, names a record that does not exist.
        out.push(404);
    }
    if writes && signed_in {
        out.push(409);
    }
    if body {
        out.push(413);
    }
    let json_body = op
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.contains_key("application/json"));
    if json_body {
        // Only a JSON body is refused for its content type; a file takes any.
        out.push(415);
    }
    if body || query || path {
        // Any value the caller sends is checked, path parameters included.
        out.push(422);
    }
    out.sort_unstable();
    out
}

fn add_answers(method: &str, path: &str, op: &mut Operation) {
    // A route missing from the access table is refused to everyone: as good as signed-in.
    let signed_in = !matches!(
        policy::lookup(method, path).map(|p| p.need),
        Some(Need::Public)
    );
    if !signed_in {
        // No credential needed: say so, over the document's default.
        op.security = Some(Vec::new());
    }
    for status in statuses(method, signed_in, op) {
        let Some((_, name, _)) = ANSWERS.iter().find(|(s, _, _)| *s == status) else {
            continue;
        };
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
    }
}
