//! The API's extractors: a JSON body, query parameters and path parameters, each read strictly
//! and refused in the error envelope with the offending field named. A NUL character, which no
//! database column takes, is refused wherever it comes.

use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{request::Parts, StatusCode};
use dispatch_core::ValidationError;
use serde::de::DeserializeOwned;

/// A JSON body whose rejections use the envelope: wrong content type 415, unreadable JSON 400,
/// JSON of the wrong shape 422 naming the field, and fields the body type does not know 422
/// naming each of them (a misspelt field is refused rather than silently lost). Open-ended
/// parts of a body (`serde_json::Value`, maps) take any key.
pub struct Json<T>(pub T);

/// A JSON body of any shape as another tool sends it (an alert webhook), read once: refused as
/// [`Json`] refuses one (415, 413, a NUL character 422), except that a body that is not JSON
/// is a 422 naming `body` — of a tool's body, the field at fault is the whole of it.
pub struct JsonValue(pub serde_json::Value);

/// The body as a JSON value, with the envelope's rejections; `not_json` answers one that is not
/// JSON, given what is wrong with it.
async fn json_value<S: Send + Sync>(
    req: Request,
    state: &S,
    not_json: fn(&str) -> ApiError,
) -> Result<serde_json::Value, ApiError> {
    match axum::Json::<serde_json::Value>::from_request(req, state).await {
        Ok(axum::Json(v)) => Ok(v),
        Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMediaType(
            "the body must be JSON (Content-Type: application/json)".into(),
        )),
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(ApiError::PayloadTooLarge(crate::MAX_BODY_BYTES))
        }
        Err(e) => Err(not_json(&e.body_text())),
    }
}

/// A body that is not JSON, to the API's own endpoints: 400.
fn bad_request(why: &str) -> ApiError {
    ApiError::BadRequest(format!("the body is not valid JSON: {why}"))
}

/// A body that is not JSON, from another tool: 422 naming `body`, with serde's finding
/// (`expected value at line 1 column 1`) without axum's preamble.
fn not_json_body(why: &str) -> ApiError {
    let detail = why.rsplit_once(": ").map_or(why, |(_, d)| d);
    ApiError::field("body", format!("is not valid JSON: {detail}"))
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        from_json(json_value(req, state, bad_request).await?).map(Json)
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonValue {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = json_value(req, state, not_json_body).await?;
        refuse_nul(&value)?;
        Ok(JsonValue(value))
    }
}

/// A JSON body that may be left out: `None` for an empty body, else read as [`Json`] reads it.
pub struct MaybeJson<T>(pub Option<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for MaybeJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_type = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let v = v.to_ascii_lowercase();
                v.starts_with("application/json") || v.contains("+json")
            });
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge(crate::MAX_BODY_BYTES)
                } else {
                    ApiError::BadRequest(format!("the body could not be read: {}", e.body_text()))
                }
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(MaybeJson(None));
        }
        if !json_type {
            return Err(ApiError::UnsupportedMediaType(
                "the body must be JSON (Content-Type: application/json)".into(),
            ));
        }
        let v: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))?;
        from_json(v).map(|t| MaybeJson(Some(t)))
    }
}

/// Reads a JSON value as a request body type: a value of the wrong shape is a field error
/// naming the field, and every field the type does not know is one too.
pub fn from_json<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    refuse_nul(&value)?;
    let known = known_fields::<T>();
    // serde would read a struct from an array too, by position: a body of fields is an object.
    if !known.is_empty() && !value.is_object() {
        return Err(ApiError::field("body", "must be a JSON object"));
    }
    let mut unknown = Vec::new();
    let mut note = |path: serde_ignored::Path| unknown.push(dotted(&path));
    let ignoring = serde_ignored::Deserializer::new(value, &mut note);
    let parsed: T = serde_path_to_error::deserialize(ignoring).map_err(|e| {
        let path = e.path().to_string();
        field_error(&path, &e.into_inner().to_string())
    })?;
    if unknown.is_empty() {
        return Ok(parsed);
    }
    let mut errors = ValidationError::default();
    for field in unknown {
        let top_level = !field.contains(['.', '[']);
        if top_level && !known.is_empty() {
            errors.push(
                &field,
                format!("unknown field; known: {}", known.join(", ")),
            );
        } else {
            errors.push(&field, "unknown field");
        }
    }
    Err(ApiError::Validation(errors))
}

/// Reads a JSON value sent by another tool (an alert webhook): a value of the wrong shape is a
/// field error naming the field, and fields the type does not know are ignored (tools add
/// fields over time; the raw body is kept where it matters).
pub fn from_foreign_json<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        field_error(&path, &e.into_inner().to_string())
    })
}

const NUL: &str = "must not contain a NUL character";

/// A field error for every string (or key) of a JSON value that holds a NUL character.
fn refuse_nul(value: &serde_json::Value) -> Result<(), ValidationError> {
    let mut nul = ValidationError::default();
    if has_nul(value) {
        nul_strings(value, "", &mut nul);
    }
    nul.into_result()
}

/// Whether any string (or key) of a JSON value holds a NUL character: the walk that names
/// them (below) makes each one's path as it goes, so it runs only when there is one to name.
fn has_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Records every string (or key) of a JSON value that holds a NUL character.
fn nul_strings(value: &serde_json::Value, path: &str, errors: &mut ValidationError) {
    use serde_json::Value;
    let at = |p: &str| if p.is_empty() { "body" } else { p }.to_string();
    match value {
        Value::String(s) if s.contains('\0') => errors.push(at(path), NUL),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                nul_strings(v, &format!("{path}[{i}]"), errors);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if k.contains('\0') {
                    errors.push(at(&p), NUL);
                } else {
                    nul_strings(v, &p, errors);
                }
            }
        }
        _ => {}
    }
}

/// A path as the field errors name it: `conditions[0].field`.
fn dotted(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path as P;
    match path {
        P::Root => String::new(),
        P::Seq { parent, index } => format!("{}[{index}]", dotted(parent)),
        P::Map { parent, key } => match dotted(parent) {
            p if p.is_empty() => key.clone(),
            p => format!("{p}.{key}"),
        },
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
            dotted(parent)
        }
    }
}

/// The fields a struct body type knows, as its `Deserialize` implementation declares them
/// (empty for a type that is not a plain struct).
fn known_fields<T: DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{Error as _, Visitor};
    type E = serde::de::value::Error;
    /// A deserializer that only records the field list it is asked for.
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> serde::Deserializer<'de> for Probe<'_> {
        type Error = E;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, E> {
            Err(E::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, E> {
            *self.0 = fields;
            Err(E::custom("probed"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

/// Turns serde's "field `x`: invalid type …" into a field error naming `x`.
fn data_error(text: &str) -> ApiError {
    let detail = text.split_once(": ").map(|(_, d)| d).unwrap_or(text);
    match detail.split_once(": ") {
        Some((path, msg)) if !path.contains(' ') => field_error(path, msg),
        _ => field_error(".", detail),
    }
}

/// A field error at this path (`.` for the whole body); a "missing field `x`" names `x` under
/// the path, and a body that is not even an object is `body`.
fn field_error(path: &str, message: &str) -> ApiError {
    let named = message
        .split('`')
        .nth(1)
        .filter(|_| message.contains("field `"));
    let field = match (path, named) {
        ("." | "", Some(name)) => name.to_string(),
        ("." | "", None) => "body".to_string(),
        (p, Some(name)) if message.starts_with("missing field") => format!("{p}.{name}"),
        (p, _) => p.to_string(),
    };
    let message = message.split(" at line ").next().unwrap_or(message);
    ApiError::field(&field, message)
}

/// Query parameters whose rejections use the envelope (422 naming the parameter).
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(parts.uri.query().unwrap_or_default()).unwrap_or_default();
        let mut nul = ValidationError::default();
        for (k, v) in &pairs {
            if k.contains('\0') || v.contains('\0') {
                nul.push(k.replace('\0', "\\0"), NUL);
            }
        }
        nul.into_result()?;
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                Err(data_error(&e.body_text()))
            }
            Err(e) => Err(ApiError::BadRequest(e.body_text())),
        }
    }
}

/// Path parameters whose rejections use the envelope.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // No record is named with a NUL character.
        if parts.uri.path().to_ascii_lowercase().contains("%00") {
            return Err(ApiError::NotFound(
                "a path with a NUL character (bad path parameter)".into(),
            ));
        }
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(ApiError::NotFound(
                format!("{} (bad path parameter)", e.body_text()),
            )),
            Err(e) => Err(ApiError::BadRequest(e.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize, Debug)]
    #[expect(dead_code, reason = "only read by the deserializer")]
    struct Outer {
        name: Option<String>,
        inner: Option<Inner>,
        #[serde(default)]
        list: Vec<Inner>,
        free: Option<serde_json::Value>,
    }

    #[derive(Deserialize, Debug)]
    #[expect(dead_code, reason = "only read by the deserializer")]
    struct Inner {
        x: i64,
    }

    fn fields(e: ApiError) -> Vec<(String, String)> {
        match e {
            ApiError::Validation(v) => v.fields.into_iter().map(|f| (f.field, f.message)).collect(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn unknown_fields_are_named_by_their_path_and_free_form_values_take_any_key() {
        let e = from_json::<Outer>(json!({
            "nme": "a",
            "inner": {"x": 1, "y": 2},
            "list": [{"x": 1}, {"x": 2, "z": 3}],
            "free": {"anything": {"goes": true}},
        }))
        .unwrap_err();
        let got = fields(e);
        let names: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(names, ["inner.y", "list[1].z", "nme"]);
        assert_eq!(got[0].1, "unknown field");
        assert_eq!(got[2].1, "unknown field; known: name, inner, list, free");
        assert!(from_json::<Outer>(json!({"free": {"a": [1, {"b": 2}]}})).is_ok());
    }

    #[test]
    fn a_nul_character_anywhere_in_a_body_is_refused_by_its_path() {
        let got = fields(
            from_json::<Outer>(json!({"name": "a\u{0}b", "free": {"k": ["ok", "x\u{0}"]}}))
                .unwrap_err(),
        );
        let names: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(names, ["free.k[1]", "name"]);
        assert_eq!(got[0].1, NUL);
    }

    #[test]
    fn a_value_of_the_wrong_shape_names_its_field() {
        let got = fields(from_json::<Outer>(json!({"inner": {"x": "one"}})).unwrap_err());
        assert_eq!(got[0].0, "inner.x");
        assert!(got[0].1.starts_with("invalid type: string"), "{}", got[0].1);
        let got = fields(from_json::<Outer>(json!({"inner": {}})).unwrap_err());
        assert_eq!(got[0], ("inner.x".into(), "missing field `x`".into()));
        let got = fields(from_json::<Outer>(json!(["a"])).unwrap_err());
        assert_eq!(got[0], ("body".into(), "must be a JSON object".into()));
    }
}
