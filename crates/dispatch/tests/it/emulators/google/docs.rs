//! Docs v1: `documents.get` and `documents.batchUpdate`, on a document kept as plain text.
//!
//! Indexes are Google's: UTF-16 code units from the start of the body, where the body's first
//! element is a section break (`endIndex: 1`) and the text starts at index 1, one paragraph per
//! line. Named ranges (`namedRanges` in `documents.get`, by name, each with its id and ranges)
//! follow the edits as the "Work with named ranges" guide describes: text inserted before a
//! range moves it, text inserted inside it grows it, and a range whose whole content is deleted
//! is gone. The requests emulated are `replaceAllText` (`occurrencesChanged` in its reply),
//! `deleteContentRange` (not the final newline), `insertText` (at an index inside the body),
//! `createNamedRange` (its reply names the new id) and `deleteNamedRange`; a read-only
//! (content-restricted) document answers 403.

use super::*;

const DOCS: &[&str] = &[
    "https://www.googleapis.com/auth/documents",
    "https://www.googleapis.com/auth/drive",
];

/// A named range of a document.
#[derive(Debug, Clone)]
pub struct NamedRange {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its start index.
    pub start: usize,
    /// Its end index (exclusive).
    pub end: usize,
}

fn docs_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(
            json!({"error": {"code": 404, "message": "Requested entity was not found.",
            "status": "NOT_FOUND"}}),
        ),
    )
        .into_response()
}

fn bad(message: String) -> Response {
    google_error(StatusCode::BAD_REQUEST, &message, "badRequest")
}

fn len16(s: &str) -> usize {
    s.encode_utf16().count()
}

/// The byte offset of a Docs index in `text` (index 1 is the first character).
fn byte_at(text: &str, index: usize) -> Option<usize> {
    let mut at = 1;
    for (b, c) in text.char_indices() {
        if at == index {
            return Some(b);
        }
        if at > index {
            return None;
        }
        at += c.len_utf16();
    }
    (at == index).then_some(text.len())
}

/// The document as `documents.get` shows it.
fn document_json(f: &File, ranges: &[NamedRange]) -> Value {
    let mut content = vec![json!({"endIndex": 1, "sectionBreak": {"sectionStyle": {}}})];
    let mut at = 1;
    for line in f.text.split_inclusive('\n') {
        let end = at + len16(line);
        content.push(json!({"startIndex": at, "endIndex": end, "paragraph": {
            "elements": [{"startIndex": at, "endIndex": end,
                          "textRun": {"content": line, "textStyle": {}}}],
            "paragraphStyle": {"namedStyleType": "NORMAL_TEXT"}}}));
        at = end;
    }
    let mut named = serde_json::Map::new();
    for r in ranges {
        let entry = named
            .entry(r.name.clone())
            .or_insert_with(|| json!({"name": r.name, "namedRanges": []}));
        entry["namedRanges"].as_array_mut().unwrap().push(json!({
            "namedRangeId": r.id, "name": r.name,
            "ranges": [{"startIndex": r.start, "endIndex": r.end}]}));
    }
    json!({"documentId": f.id, "title": f.name, "revisionId": "rev",
           "body": {"content": content}, "namedRanges": named})
}

pub(super) async fn get_document(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let subject = match s.gate(&headers, DOCS) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let data = s.data.lock().unwrap();
    match data.files.iter().find(|f| f.id == id && f.mime == DOC_MIME) {
        Some(f) if visible(&data, &id, &subject, 0) => {
            let ranges = data.ranges.get(&id).cloned().unwrap_or_default();
            Json(document_json(f, &ranges)).into_response()
        }
        _ => docs_not_found(),
    }
}

/// A document being changed by one `batchUpdate`.
struct Edit {
    text: String,
    ranges: Vec<NamedRange>,
}

impl Edit {
    /// The index just past the body's last character (its final newline's end).
    fn end(&self) -> usize {
        1 + len16(&self.text)
    }

    fn delete(&mut self, start: usize, end: usize) -> Result<(), String> {
        let last = if self.text.ends_with('\n') {
            self.end() - 1
        } else {
            self.end()
        };
        if start < 1 || end <= start || end > last {
            return Err(format!(
                "The range [{start}, {end}) must be inside the body and cannot include the final newline of the segment."
            ));
        }
        let (a, b) = (
            byte_at(&self.text, start).ok_or("Invalid startIndex")?,
            byte_at(&self.text, end).ok_or("Invalid endIndex")?,
        );
        self.text.replace_range(a..b, "");
        let n = end - start;
        self.ranges.retain_mut(|r| {
            let shift = |i: usize| {
                if i >= end {
                    i - n
                } else if i > start {
                    start
                } else {
                    i
                }
            };
            r.start = shift(r.start);
            r.end = shift(r.end);
            r.start < r.end
        });
        Ok(())
    }

    fn insert(&mut self, index: usize, text: &str) -> Result<(), String> {
        let last = if self.text.ends_with('\n') {
            self.end() - 1
        } else {
            self.end()
        };
        if index < 1 || index > last {
            return Err(format!(
                "Index {index} must be less than the end index of the referenced segment, {}.",
                self.end()
            ));
        }
        let at = byte_at(&self.text, index).ok_or("Invalid index")?;
        self.text.insert_str(at, text);
        let n = len16(text);
        for r in &mut self.ranges {
            if r.start >= index {
                r.start += n;
                r.end += n;
            } else if r.end > index {
                r.end += n;
            }
        }
        Ok(())
    }

    fn replace_all(&mut self, find: &str, with: &str, match_case: bool) -> Result<usize, String> {
        let (hay, needle) = if match_case {
            (self.text.clone(), find.to_string())
        } else {
            (self.text.to_ascii_lowercase(), find.to_ascii_lowercase())
        };
        let at: Vec<usize> = hay.match_indices(&needle).map(|(b, _)| b).collect();
        for b in at.iter().rev() {
            let start = 1 + len16(&self.text[..*b]);
            let end = start + len16(find);
            self.delete(start, end)?;
            if !with.is_empty() {
                self.insert(start, with)?;
            }
        }
        Ok(at.len())
    }
}

fn index(v: &Value, field: &str, i: usize) -> Result<usize, String> {
    v[field]
        .as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| format!("Invalid requests[{i}]: {field} is required"))
}

/// One request applied: its reply.
fn apply(
    doc: &mut Edit,
    r: &Value,
    i: usize,
    next_id: &mut dyn FnMut() -> String,
) -> Result<Value, String> {
    if let Some(rep) = r.get("replaceAllText") {
        let find = rep["containsText"]["text"].as_str().unwrap_or_default();
        if find.is_empty() {
            return Err(format!(
                "Invalid requests[{i}].replaceAllText: The text must not be empty."
            ));
        }
        let with = rep["replaceText"].as_str().unwrap_or_default();
        let case = rep["containsText"]["matchCase"] == true;
        let n = doc.replace_all(find, with, case)?;
        return Ok(if n == 0 {
            json!({"replaceAllText": {}})
        } else {
            json!({"replaceAllText": {"occurrencesChanged": n}})
        });
    }
    if let Some(d) = r.get("deleteContentRange") {
        let range = &d["range"];
        doc.delete(index(range, "startIndex", i)?, index(range, "endIndex", i)?)?;
        return Ok(json!({}));
    }
    if let Some(ins) = r.get("insertText") {
        let text = ins["text"].as_str().unwrap_or_default();
        doc.insert(index(&ins["location"], "index", i)?, text)?;
        return Ok(json!({}));
    }
    if let Some(c) = r.get("createNamedRange") {
        let name = c["name"].as_str().unwrap_or_default();
        if name.is_empty() || len16(name) > 256 {
            return Err(format!(
                "Invalid requests[{i}].createNamedRange: the name must be 1 to 256 characters."
            ));
        }
        let (start, end) = (
            index(&c["range"], "startIndex", i)?,
            index(&c["range"], "endIndex", i)?,
        );
        if start < 1 || end <= start || end > doc.end() {
            return Err(format!(
                "Invalid requests[{i}].createNamedRange: the range [{start}, {end}) is not inside the body."
            ));
        }
        let id = next_id();
        doc.ranges.push(NamedRange {
            id: id.clone(),
            name: name.into(),
            start,
            end,
        });
        return Ok(json!({"createNamedRange": {"namedRangeId": id}}));
    }
    if let Some(d) = r.get("deleteNamedRange") {
        let (name, id) = (d["name"].as_str(), d["namedRangeId"].as_str());
        doc.ranges
            .retain(|r| Some(r.name.as_str()) != name && Some(r.id.as_str()) != id);
        return Ok(json!({}));
    }
    Err(format!(
        "Invalid requests[{i}]: this request is not emulated"
    ))
}

pub(super) async fn batch_update(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(target): Path<String>,
    body: Bytes,
) -> Response {
    let subject = match s.gate(&headers, DOCS) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let Some(id) = target.strip_suffix(":batchUpdate") else {
        return docs_not_found();
    };
    let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let Some(requests) = v["requests"].as_array().filter(|r| !r.is_empty()) else {
        return bad("Invalid requests: must not be empty.".into());
    };
    let mut guard = s.data.lock().unwrap();
    let data = &mut *guard;
    if !visible(data, id, &subject, 0) {
        return docs_not_found();
    }
    let Some(f) = data
        .files
        .iter_mut()
        .find(|f| f.id == id && f.mime == DOC_MIME)
    else {
        return docs_not_found();
    };
    if f.read_only {
        return google_error(
            StatusCode::FORBIDDEN,
            "The caller does not have permission",
            "forbidden",
        );
    }
    // All or nothing: the requests apply to a copy, kept only when every one succeeds.
    let mut doc = Edit {
        text: f.text.clone(),
        ranges: data.ranges.get(id).cloned().unwrap_or_default(),
    };
    let mut next = data.next;
    let mut next_id = || {
        next += 1;
        format!("kix.{next:06}")
    };
    let mut replies = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        match apply(&mut doc, r, i, &mut next_id) {
            Ok(reply) => replies.push(reply),
            Err(e) => return bad(e),
        }
    }
    f.text = doc.text;
    data.next = next;
    data.ranges.insert(id.to_string(), doc.ranges);
    Json(json!({"documentId": id, "replies": replies,
        "writeControl": {"requiredRevisionId": "rev"}}))
    .into_response()
}
