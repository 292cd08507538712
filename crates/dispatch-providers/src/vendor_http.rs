//! A shared HTTP helper for the providers that call a vendor's JSON API (PagerDuty, Opsgenie,
//! Jira, Zoom, Confluence): one client with a timeout, 429 answers retried after the vendor's
//! `Retry-After` (a few times, then the job step fails and the job queue retries it with backoff), and the vendor's
//! error body turned into a message an operator can act on (401/403 say which setting to
//! check). Nothing here logs or returns a credential or a URL (URLs may carry keys).

use dispatch_core::provider::ProviderError;
use serde_json::Value;
use std::time::Duration;

/// How long one request may take, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How many times a rate-limited (429) request is sent before the step gives up.
const ATTEMPTS: u32 = 3;

/// The longest `Retry-After` honoured in the job step; a longer wait fails the step, and the
/// job queue retries it later.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// A vendor's HTTP API as the providers use it.
#[derive(Clone)]
pub struct VendorHttp {
    client: reqwest::Client,
    /// The provider's slug, for errors.
    slug: &'static str,
    /// The vendor's name, for messages.
    vendor: &'static str,
    /// Which setting holds the credential, for 401/403 messages.
    credential: &'static str,
}

/// A vendor's answer: its status and JSON body (`Null` when there was none or it was not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

impl VendorHttp {
    /// A client for `vendor` (errors name `slug`; 401/403 point at the `credential` setting).
    pub fn new(slug: &'static str, vendor: &'static str, credential: &'static str) -> Self {
        Self::with_timeout(slug, vendor, credential, REQUEST_TIMEOUT)
    }

    /// Like [`VendorHttp::new`], with `timeout` for each request instead of [`REQUEST_TIMEOUT`].
    pub fn with_timeout(
        slug: &'static str,
        vendor: &'static str,
        credential: &'static str,
        timeout: Duration,
    ) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("Dispatch/", env!("CARGO_PKG_VERSION")))
            .build()
            // Building fails only when the TLS backend cannot start: nothing would work then.
            .expect("the HTTP client for vendors builds");
        Self {
            client,
            slug,
            vendor,
            credential,
        }
    }

    /// The shared client, to build requests with.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// An error of this provider.
    pub fn error(&self, message: impl Into<String>) -> ProviderError {
        ProviderError::new(self.slug, message)
    }

    /// Sends the request `build` makes (once more after each 429, waiting `Retry-After`), and
    /// returns any answer that is not a 429; an error when none came or the vendor kept
    /// limiting.
    pub async fn send(
        &self,
        what: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Answer, ProviderError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let res = build().send().await.map_err(|e| self.transport(what, e))?;
            let status = res.status().as_u16();
            let retry_after = retry_after(res.headers());
            let text = res.text().await.unwrap_or_default();
            let body = serde_json::from_str(&text).unwrap_or(Value::Null);
            if status != 429 {
                return Ok(Answer { status, body });
            }
            let wait = retry_after.unwrap_or(Duration::from_secs(1));
            if attempt >= ATTEMPTS || wait > MAX_RETRY_AFTER {
                return Err(self.error(format!(
                    "{what}: {} is rate limiting Dispatch (429; retry after {}s){}",
                    self.vendor,
                    wait.as_secs(),
                    detail(&body)
                )));
            }
            tracing::info!(
                provider = self.slug,
                what,
                wait_s = wait.as_secs_f64(),
                "rate limited; waiting as Retry-After says"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Like [`VendorHttp::send`], and a non-2xx answer becomes an error saying what failed.
    pub async fn send_ok(
        &self,
        what: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Value, ProviderError> {
        let a = self.send(what, build).await?;
        if (200..300).contains(&a.status) {
            Ok(a.body)
        } else {
            Err(self.failed(what, &a))
        }
    }

    /// The error for a non-2xx answer: 401/403 name the credential setting to check.
    pub fn failed(&self, what: &str, a: &Answer) -> ProviderError {
        // An OAuth server refuses bad client credentials with 400 `invalid_client` (or
        // another `invalid_…` error), as an API does with 401.
        let oauth_refused = a.status == 400
            && a.body["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("invalid_"));
        let hint = match a.status {
            _ if oauth_refused => format!(
                ": {} did not accept the credentials; check {}",
                self.vendor, self.credential
            ),
            401 => format!(
                ": {} did not accept the credentials; check {}",
                self.vendor, self.credential
            ),
            403 => format!(
                ": the {} credentials lack the permission for this; check {}'s access",
                self.vendor, self.credential
            ),
            _ => String::new(),
        };
        self.error(format!(
            "{what}: {} answered {}{hint}{}",
            self.vendor,
            a.status,
            detail(&a.body)
        ))
    }

    fn transport(&self, what: &str, e: reqwest::Error) -> ProviderError {
        let kind = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else {
            "request failed"
        };
        let e = e.without_url();
        let source = std::error::Error::source(&e)
            .map(|s| format!(": {s}"))
            .unwrap_or_default();
        self.error(format!("{what}: {} {kind}{source}", self.vendor))
    }
}

/// `text` on one line (runs of white space as one space), at most `max` characters: a title as
/// vendors take it.
pub fn one_line(text: &str, max: usize) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max)
        .collect()
}

/// `Retry-After` in seconds (vendors send seconds; an HTTP date is not honoured).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// The vendor's own words from an error body: PagerDuty's `{"error": {"message", "errors"}}`,
/// the Events API's and Opsgenie's `{"message", "errors"}`, Jira's
/// `{"errorMessages": [..], "errors": {"field": "message"}}`, Zoom's `{"code", "message"}` and
/// an OAuth server's `{"error", "reason" | "error_description"}`; empty when there are none.
pub fn detail(body: &Value) -> String {
    let inner = if body["error"].is_object() {
        &body["error"]
    } else {
        body
    };
    let mut words: Vec<String> = Vec::new();
    if let Some(m) = inner["message"].as_str().filter(|m| !m.is_empty()) {
        words.push(m.to_string());
    }
    for key in ["reason", "error_description"] {
        if let Some(m) = inner[key].as_str().filter(|m| !m.is_empty()) {
            words.push(m.to_string());
        }
    }
    if let Some(list) = inner["errorMessages"].as_array() {
        words.extend(list.iter().filter_map(|e| e.as_str()).map(str::to_string));
    }
    match &inner["errors"] {
        Value::Array(list) => words.extend(list.iter().filter_map(|e| {
            match e {
                Value::String(s) => Some(s.clone()),
                // Zoom's `[{"field", "message"}]`; Confluence v2's `[{"status", "code", "title",
                // "detail"}]`.
                Value::Object(o) => o
                    .get("message")
                    .or(o.get("title"))
                    .and_then(Value::as_str)
                    .map(|m| match (o.get("field"), o.get("detail")) {
                        (Some(Value::String(f)), _) => format!("{f}: {m}"),
                        (_, Some(Value::String(d))) if !d.is_empty() => format!("{m}: {d}"),
                        _ => m.to_string(),
                    }),
                _ => None,
            }
        })),
        Value::Object(fields) => words.extend(
            fields
                .iter()
                .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or(&v.to_string()))),
        ),
        _ => {}
    }
    if words.is_empty() {
        String::new()
    } else {
        format!(" ({})", words.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_vendors_words_come_from_either_error_shape() {
        assert_eq!(
            detail(
                &json!({"error": {"message": "Invalid Input Provided", "code": 2001, "errors": ["Offset must be a number"]}})
            ),
            " (Invalid Input Provided; Offset must be a number)"
        );
        assert_eq!(
            detail(&json!({"message": "Could not authenticate", "took": 0.0})),
            " (Could not authenticate)"
        );
        assert_eq!(detail(&Value::Null), "");
        assert_eq!(
            detail(
                &json!({"errorMessages": ["Issue does not exist"], "errors": {"summary": "You must specify a summary of the issue."}})
            ),
            " (Issue does not exist; summary: You must specify a summary of the issue.)"
        );
        assert_eq!(
            detail(
                &json!({"reason": "Invalid client_id or client_secret", "error": "invalid_client"})
            ),
            " (Invalid client_id or client_secret)"
        );
        assert_eq!(
            detail(
                &json!({"code": 300, "message": "Validation Failed.", "errors": [{"field": "topic", "message": "Too long."}]})
            ),
            " (Validation Failed.; topic: Too long.)"
        );
        assert_eq!(
            detail(
                &json!({"errors": [{"status": 409, "code": "CONFLICT", "title": "Version must be incremented on update. Current version is: 3", "detail": null}]})
            ),
            " (Version must be incremented on update. Current version is: 3)"
        );
    }

    #[test]
    fn a_401_names_the_setting_to_check() {
        let h = VendorHttp::new("pagerduty", "PagerDuty", "DISPATCH_PAGERDUTY_API_TOKEN");
        let e = h.failed(
            "on-call look-up",
            &Answer {
                status: 401,
                body: json!({"error": {"message": "Unauthorized", "code": 2006}}),
            },
        );
        assert_eq!(e.provider, "pagerduty");
        assert!(
            e.message.contains("check DISPATCH_PAGERDUTY_API_TOKEN")
                && e.message.contains("(Unauthorized)"),
            "{e}"
        );
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(reqwest::header::RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(
            reqwest::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }
}
