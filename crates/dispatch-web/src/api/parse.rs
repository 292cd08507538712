//! Shared parsing of raw request values into domain values, collecting every field error.

use chrono::{DateTime, NaiveDate, Utc};
use dispatch_core::values::{Email, LongText};
use dispatch_core::{Patch, ValidationError};
use std::str::FromStr;

/// Records "is required" when a required field is missing; returns the value otherwise.
pub fn required<'a>(
    errors: &mut ValidationError,
    field: &str,
    v: &'a Option<String>,
) -> Option<&'a str> {
    if v.is_none() {
        errors.push(field, "is required");
    }
    v.as_deref()
}

/// Parses an optional closed-set value, recording a field error when it is not one of the set.
pub fn enum_field<T: FromStr<Err = dispatch_core::enums::UnknownVariant>>(
    errors: &mut ValidationError,
    field: &str,
    raw: Option<&str>,
) -> Option<T> {
    let raw = raw?;
    match raw.parse() {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(field, format!("{raw:?} is not valid; {e}"));
            None
        }
    }
}

/// Parses a time given as RFC 3339 (`2026-11-25T10:00:00Z`) or a date (`2026-11-25`, midnight UTC).
pub fn time(errors: &mut ValidationError, field: &str, raw: Option<&str>) -> Option<DateTime<Utc>> {
    let raw = raw?.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    errors.push(
        field,
        format!(
            "{raw:?} is not a time; use RFC 3339 (2026-11-25T10:00:00Z) or a date (2026-11-25)"
        ),
    );
    None
}

/// Parses a list of e-mail addresses.
pub fn emails(errors: &mut ValidationError, field: &str, raw: &[String]) -> Vec<Email> {
    raw.iter()
        .filter_map(|e| errors.check(Email::parse(field, e)))
        .collect()
}

/// The most values a comma-separated query parameter takes.
pub const MAX_LIST_VALUES: usize = 100;

/// Splits a comma-separated query value into lower-cased, trimmed parts; more than
/// [`MAX_LIST_VALUES`] parts is an error on `field`.
pub fn list(errors: &mut ValidationError, field: &str, raw: Option<&str>) -> Vec<String> {
    list_as_written(errors, field, raw)
        .into_iter()
        .map(|p| p.to_lowercase())
        .collect()
}

/// A comma-separated list of a closed set's values; each unknown one is an error on `field`.
pub fn enum_list<T: FromStr<Err = dispatch_core::enums::UnknownVariant>>(
    errors: &mut ValidationError,
    field: &str,
    raw: Option<&str>,
) -> Vec<T> {
    list(errors, field, raw)
        .iter()
        .filter_map(|v| enum_field(errors, field, Some(v)))
        .collect()
}

/// [`list`], keeping the case of each part.
pub fn list_as_written(
    errors: &mut ValidationError,
    field: &str,
    raw: Option<&str>,
) -> Vec<String> {
    let parts: Vec<String> = raw
        .map(|s| {
            s.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if parts.len() > MAX_LIST_VALUES {
        errors.push(
            field,
            format!(
                "takes at most {MAX_LIST_VALUES} comma-separated values (got {})",
                parts.len()
            ),
        );
        return Vec::new();
    }
    parts
}

/// The highest page a list serves: with at most 100 rows a page, far past any real list, and
/// low enough that the row offset it asks the database for never overflows.
pub const MAX_PAGE: i64 = 1_000_000;

/// Checks paging parameters: 1 ≤ `page` ≤ [`MAX_PAGE`], 1 ≤ `per_page` ≤ 100.
pub fn paging(
    errors: &mut ValidationError,
    page: Option<i64>,
    per_page: Option<i64>,
    default: u64,
) -> (u64, u64) {
    let page = match page {
        None => 1,
        Some(p) if (1..=MAX_PAGE).contains(&p) => p as u64,
        Some(p) => {
            errors.push(
                "page",
                format!("must be between 1 and {MAX_PAGE} (got {p})"),
            );
            1
        }
    };
    let per_page = match per_page {
        None => default,
        Some(n) if (1..=100).contains(&n) => n as u64,
        Some(n) => {
            errors.push("per_page", format!("must be between 1 and 100 (got {n})"));
            default
        }
    };
    (page, per_page)
}

/// A field that may not be cleared: `null` is an error, absent keeps it.
pub fn not_null<T>(e: &mut ValidationError, field: &str, p: Patch<T>) -> Option<T> {
    match p {
        Patch::Absent => None,
        Patch::Null => {
            e.push(
                field,
                "cannot be null; leave it out to keep the current value",
            );
            None
        }
        Patch::Value(v) => Some(v),
    }
}

/// A PATCH field that may not be cleared, parsed into a domain value (`None` when absent or bad).
pub fn parsed<T>(
    errors: &mut ValidationError,
    field: &str,
    p: Patch<String>,
    parse: impl FnOnce(&str, &str) -> Result<T, ValidationError>,
) -> Option<T> {
    let raw = not_null(errors, field, p)?;
    errors.check(parse(field, &raw))
}

/// A PATCH field that may be cleared: `null` or an empty string clears it, a value is parsed.
/// A bad value is recorded and leaves the field as it is.
pub fn clearable<T>(
    errors: &mut ValidationError,
    field: &str,
    p: Patch<String>,
    parse: impl FnOnce(&str, &str) -> Result<T, ValidationError>,
) -> Patch<T> {
    match p {
        Patch::Absent => Patch::Absent,
        Patch::Null => Patch::Null,
        Patch::Value(v) if v.trim().is_empty() => Patch::Null,
        Patch::Value(v) => errors
            .check(parse(field, &v))
            .map_or(Patch::Absent, Patch::Value),
    }
}

/// A description: free text that may be empty (`null` clears it to empty).
pub fn description(errors: &mut ValidationError, field: &str, p: Patch<String>) -> Option<String> {
    match clearable(errors, field, p, LongText::parse) {
        Patch::Absent => None,
        Patch::Null => Some(String::new()),
        Patch::Value(t) => Some(t.into_inner()),
    }
}

/// A `limit` of 1-500 rows, 100 when absent.
pub fn limit(e: &mut ValidationError, raw: Option<i64>) -> u64 {
    match raw {
        None => 100,
        Some(n) if (1..=500).contains(&n) => n as u64,
        Some(n) => {
            e.push("limit", format!("must be between 1 and 500 (got {n})"));
            100
        }
    }
}
