//! Opsgenie as an on-call provider: who is on call comes from a schedule
//! (`GET /v2/schedules/{id}/on-calls?flat=true`, recipients are Opsgenie usernames, i.e.
//! e-mails), pages create an alert (`POST /v2/alerts`) whose `alias` is the incident's name, so
//! a repeated page reaches the same open alert, and the alert is closed
//! (`POST /v2/alerts/{alias}/close?identifierType=alias`) once the incident is under control.
//! Opsgenie processes these requests asynchronously (202 with a `requestId`): the job step
//! follows each up with `GET /v2/alerts/requests/{requestId}` until it is processed, and fails
//! (so the job is retried, by alias again) when it is not processed in time or failed.
//!
//! A Dispatch on-call service is backed by Opsgenie through its external id: a schedule id, or
//! `name:<schedule name>`.

use crate::vendor_http::VendorHttp;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use dispatch_core::oncall::Shift;
use dispatch_core::provider::{OnCallProvider, OnCallService, PageRequest, ProviderResult};
use serde_json::{json, Value};

/// The provider's slug.
pub const SLUG: &str = "opsgenie";

/// Opsgenie's API in the US region.
pub const US_URL: &str = "https://api.opsgenie.com";

/// Opsgenie's API in the EU region.
pub const EU_URL: &str = "https://api.eu.opsgenie.com";

/// Opsgenie's settings.
#[derive(Clone)]
pub struct OpsgenieSettings {
    /// The API, [`US_URL`] or [`EU_URL`] (or an emulator's).
    pub api_url: String,
    /// An API key of an API integration (`Authorization: GenieKey …`).
    pub api_key: String,
    /// How many times an asynchronous request's status is read before the step gives up.
    pub poll_attempts: u32,
    /// The wait between two reads.
    pub poll_interval: std::time::Duration,
}

impl std::fmt::Debug for OpsgenieSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsgenieSettings")
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

impl OpsgenieSettings {
    /// Settings for `region` (`us` or `eu`); an error naming the known regions otherwise.
    pub fn for_region(api_key: &str, region: &str) -> Result<Self, String> {
        let api_url = match region.trim().to_ascii_lowercase().as_str() {
            "" | "us" => US_URL,
            "eu" => EU_URL,
            other => return Err(format!("unknown Opsgenie region {other:?}; known: us, eu")),
        };
        Ok(Self {
            api_url: api_url.into(),
            api_key: api_key.into(),
            poll_attempts: 10,
            poll_interval: std::time::Duration::from_millis(500),
        })
    }
}

/// Opsgenie, on-call and paging.
pub struct Opsgenie {
    settings: OpsgenieSettings,
    http: VendorHttp,
}

impl Opsgenie {
    /// The provider with these settings.
    pub fn new(settings: OpsgenieSettings) -> Self {
        Self {
            settings,
            http: VendorHttp::new(SLUG, "Opsgenie", "DISPATCH_OPSGENIE_API_KEY"),
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .client()
            .request(
                method,
                format!("{}{path}", self.settings.api_url.trim_end_matches('/')),
            )
            .header(
                reqwest::header::AUTHORIZATION,
                format!("GenieKey {}", self.settings.api_key),
            )
    }

    /// Sends an asynchronous request and follows it up until Opsgenie has processed it: the
    /// processed request's `data` (with `alertId`). `tolerate` accepts a processed request
    /// that did not succeed (closing an alert that is already closed).
    async fn processed(
        &self,
        what: &str,
        tolerate: bool,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> ProviderResult<Value> {
        let body = self.http.send_ok(what, build).await?;
        let id = body["requestId"]
            .as_str()
            .ok_or_else(|| {
                self.http
                    .error(format!("{what}: Opsgenie gave no requestId"))
            })?
            .to_string();
        let path = format!("/v2/alerts/requests/{id}");
        for _ in 0..self.settings.poll_attempts.max(1) {
            let a = self
                .http
                .send(&format!("{what} (request {id})"), || {
                    self.request(reqwest::Method::GET, &path)
                })
                .await?;
            match a.status {
                // Not processed yet.
                404 => tokio::time::sleep(self.settings.poll_interval).await,
                200..=299 => {
                    let data = a.body["data"].clone();
                    if data["isSuccess"].as_bool() == Some(true) || tolerate {
                        return Ok(data);
                    }
                    return Err(self.http.error(format!(
                        "{what}: Opsgenie did not do it: {}",
                        data["status"].as_str().unwrap_or("no reason given")
                    )));
                }
                _ => return Err(self.http.failed(what, &a)),
            }
        }
        Err(self.http.error(format!(
            "{what}: Opsgenie has not processed request {id} yet; the job will look again"
        )))
    }
}

#[async_trait]
impl OnCallProvider for Opsgenie {
    fn slug(&self) -> &'static str {
        SLUG
    }

    /// A cheap authenticated call: `GET /v2/account`.
    async fn check(&self) -> ProviderResult<Option<String>> {
        let body = self
            .http
            .send_ok("checking the API key", || {
                self.request(reqwest::Method::GET, "/v2/account")
            })
            .await?;
        Ok(Some(format!(
            "the API key works (account {:?})",
            body["data"]["name"].as_str().unwrap_or_default()
        )))
    }

    async fn on_call(
        &self,
        service: &OnCallService,
        at: DateTime<Utc>,
    ) -> ProviderResult<Option<Shift>> {
        let Some(ext) = service
            .external_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            return Ok(None);
        };
        let (kind, id) = match ext.split_once(':') {
            Some(("name", n)) => ("name", n.trim()),
            _ => ("id", ext),
        };
        let path = format!("/v2/schedules/{id}/on-calls");
        let date = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let query = [
            ("scheduleIdentifierType", kind),
            ("flat", "true"),
            ("date", date.as_str()),
        ];
        let body = self
            .http
            .send_ok("looking up who is on call", || {
                self.request(reqwest::Method::GET, &path).query(&query)
            })
            .await?;
        let first = body["data"]["onCallRecipients"]
            .as_array()
            .and_then(|r| r.iter().filter_map(Value::as_str).next())
            .map(str::to_string);
        // The on-call answer has no shift bounds: the shift is told as the hour from `at`.
        Ok(first.map(|email| Shift {
            email,
            starts_at: at,
            ends_at: at + Duration::hours(1),
            overridden: false,
        }))
    }

    async fn next(
        &self,
        _service: &OnCallService,
        _at: DateTime<Utc>,
    ) -> ProviderResult<Option<Shift>> {
        Ok(None)
    }

    async fn page(&self, page: &PageRequest) -> ProviderResult<Option<String>> {
        let responders = match page.service.as_ref().and_then(|s| s.external_id.as_deref()) {
            Some(ext) => match ext.split_once(':') {
                Some(("name", n)) => json!([{"type": "schedule", "name": n.trim()}]),
                _ => json!([{"type": "schedule", "id": ext.trim()}]),
            },
            None => json!([{"type": "user", "username": page.email}]),
        };
        let message: String = format!("{}: {}", page.incident, page.title)
            .chars()
            .take(130)
            .collect();
        let alert = json!({
            "message": message,
            "alias": page.incident,
            "description": format!("{}\n\nOpen it in Dispatch: {}", page.reason, page.link),
            "responders": responders,
            "source": "Dispatch",
            "entity": page.incident,
            "priority": "P1",
            "details": {"dispatch": page.link, "paged": page.email},
        });
        let data = self
            .processed("creating the alert", false, || {
                self.request(reqwest::Method::POST, "/v2/alerts")
                    .json(&alert)
            })
            .await?;
        Ok(data["alertId"].as_str().map(str::to_string))
    }

    async fn resolve(&self, page: &PageRequest) -> ProviderResult<()> {
        let path = format!("/v2/alerts/{}/close", page.incident);
        let body =
            json!({"source": "Dispatch", "note": format!("{} is under control", page.incident)});
        self.processed("closing the alert", true, || {
            self.request(reqwest::Method::POST, &path)
                .query(&[("identifierType", "alias")])
                .json(&body)
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_picks_the_url() {
        assert_eq!(
            OpsgenieSettings::for_region("k", "EU").unwrap().api_url,
            EU_URL
        );
        assert_eq!(
            OpsgenieSettings::for_region("k", "").unwrap().api_url,
            US_URL
        );
        assert!(OpsgenieSettings::for_region("k", "mars")
            .unwrap_err()
            .contains("us, eu"));
    }
}
