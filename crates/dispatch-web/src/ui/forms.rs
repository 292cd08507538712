//! A form as a template sees it: what the person typed and, after a failed submit, the error
//! beside each field (from the same `ValidationError` the API answers with).

use crate::error::{ApiError, ApiResult};
use dispatch_core::values::LongText;
use dispatch_core::ValidationError;
use std::collections::HashMap;
use std::future::Future;

/// Values and per-field errors of one form.
#[derive(Default, Clone)]
pub struct Form {
    values: HashMap<String, String>,
    errors: HashMap<String, String>,
    /// An error about the form as a whole (a conflict, a refusal).
    pub failure: Option<String>,
}

impl Form {
    /// A form filled with these values.
    pub fn with_values<'a>(values: impl IntoIterator<Item = (&'a str, String)>) -> Self {
        Self {
            values: values
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            ..Self::default()
        }
    }

    /// The value typed into a field ("" when none).
    pub fn value(&self, field: &str) -> &str {
        self.values.get(field).map_or("", String::as_str)
    }

    /// Sets a field's value.
    pub fn set(&mut self, field: &str, value: String) {
        self.values.insert(field.to_string(), value);
    }

    /// Whether a select's option is the chosen one.
    pub fn chosen(&self, field: &str, option: &str) -> bool {
        self.value(field) == option
    }

    /// The error beside a field.
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }

    /// Whether the submit failed.
    pub fn failed(&self) -> bool {
        !self.errors.is_empty() || self.failure.is_some()
    }

    /// Records why a submit failed: field errors beside their fields, anything else above the
    /// form. Errors that are not the person's mistake are handed back.
    pub fn fail(&mut self, e: ApiError) -> Result<(), ApiError> {
        match e {
            ApiError::Validation(v) => {
                self.add(v);
                Ok(())
            }
            ApiError::Conflict(m) | ApiError::Forbidden(m) => {
                self.failure = Some(m);
                Ok(())
            }
            other => Err(other),
        }
    }

    fn add(&mut self, v: ValidationError) {
        for f in v.fields {
            // The first error of a field is the one shown; the others follow once it is fixed.
            self.errors.entry(f.field).or_insert(f.message);
        }
    }
}

/// A required field: `missing` beside it when it is absent or blank, else what `parse` makes of
/// the trimmed value (recording its own mistakes).
pub fn required<T>(
    e: &mut ValidationError,
    field: &str,
    raw: Option<&str>,
    missing: &str,
    parse: impl FnOnce(&mut ValidationError, &str) -> Option<T>,
) -> Option<T> {
    match raw.map(str::trim) {
        None | Some("") => {
            e.push(field, missing);
            None
        }
        Some(v) => parse(e, v),
    }
}

/// An optional field: nothing when it is absent or blank, else what `parse` makes of the
/// trimmed value (recording its own mistakes).
pub fn optional<T>(
    e: &mut ValidationError,
    raw: Option<&str>,
    parse: impl FnOnce(&mut ValidationError, &str) -> Option<T>,
) -> Option<T> {
    match raw.map(str::trim) {
        None | Some("") => None,
        Some(v) => parse(e, v),
    }
}

/// A required free-text field: `missing` beside it when empty, the length rule when too long.
pub fn long_text(
    e: &mut ValidationError,
    field: &str,
    raw: Option<&str>,
    missing: &str,
) -> Option<LongText> {
    required(e, field, raw, missing, |e, v| {
        e.check(LongText::parse(field, v))
    })
}

/// A ticked checkbox: whether it was ticked, and the value to show it again with.
pub fn checkbox(raw: &Option<String>) -> (bool, String) {
    let on = raw.is_some();
    (on, if on { "on".into() } else { String::new() })
}

/// What a submitted form comes to: the mistakes it was read with, or else what the engine call
/// (made only then) answers.
pub async fn submit<T, F>(e: ValidationError, call: impl FnOnce() -> F) -> ApiResult<T>
where
    F: Future<Output = dispatch_engine::Result<T>>,
{
    match e.into_result() {
        Ok(()) => call().await.map_err(ApiError::from),
        Err(e) => Err(e.into()),
    }
}

/// A time typed into a form: what a `datetime-local` field sends (`2026-11-25T10:00`, or with
/// seconds, or `2026-11-25 10:00`) read as UTC, else anything the API takes (RFC 3339, a date).
pub fn time(
    e: &mut ValidationError,
    field: &str,
    raw: &str,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let raw = raw.trim();
    for f in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(raw, f) {
            return Some(t.and_utc());
        }
    }
    crate::api::parse::time(e, field, Some(raw))
}
