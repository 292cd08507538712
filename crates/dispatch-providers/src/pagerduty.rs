//! PagerDuty as an on-call provider: who is on call comes from the REST API
//! (`GET /oncalls`, escalation level 1, with `GET /users/{id}` for an e-mail the answer lacks),
//! pages trigger an alert through the Events API v2 (`POST /v2/enqueue`) with the incident's
//! name as `dedup_key`, and are resolved the same way when the incident is under control.
//! Acknowledgements come back through a v3 webhook subscription; [`verify_signature`] checks
//! its `X-PagerDuty-Signature` and [`acknowledged_incident`] reads which incident it is about.
//!
//! A Dispatch on-call service is backed by PagerDuty through its external id: an escalation
//! policy id (`PABC123`, or `escalation_policy:PABC123`) or a schedule id (`schedule:PDEF456`).
//! The Events API routing key (an integration key of a PagerDuty service) is chosen per
//! Dispatch service by name or external id, else the default one.

use crate::vendor_http::VendorHttp;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use dispatch_core::oncall::Shift;
use dispatch_core::provider::{
    OnCallProvider, OnCallService, PageRequest, ProviderError, ProviderResult,
};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Instant;

/// The provider's slug.
pub const SLUG: &str = "pagerduty";

/// The REST API's media type, as PagerDuty asks clients to send in `Accept`.
const ACCEPT: &str = "application/vnd.pagerduty+json;version=2";

/// How many on-call entries to ask for per page (PagerDuty's maximum).
const PAGE_LIMIT: u32 = 100;

/// The most pages of on-call entries read for one look-up.
const MAX_PAGES: u32 = 20;

/// PagerDuty's settings.
#[derive(Clone)]
pub struct PagerDutySettings {
    /// The REST API, `https://api.pagerduty.com`.
    pub api_url: String,
    /// The Events API, `https://events.pagerduty.com`.
    pub events_url: String,
    /// A REST API key (`Authorization: Token token=…`).
    pub api_token: String,
    /// The `From` e-mail (a PagerDuty user) sent with REST calls.
    pub from: String,
    /// The routing key for pages of services without one of their own.
    pub routing_key: Option<String>,
    /// Routing keys by Dispatch service name or external id.
    pub routing_keys: BTreeMap<String, String>,
    /// How long who is on call is remembered.
    pub cache_for: std::time::Duration,
    /// Public base URL of Dispatch (the alert's `client_url`).
    pub base_url: String,
}

impl std::fmt::Debug for PagerDutySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PagerDutySettings")
            .field("api_url", &self.api_url)
            .field("events_url", &self.events_url)
            .field("from", &self.from)
            .field(
                "routing_keys",
                &self.routing_keys.keys().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl PagerDutySettings {
    /// Settings with the vendor's URLs, a 60-second cache and no routing keys.
    pub fn new(api_token: &str, from: &str) -> Self {
        Self {
            api_url: "https://api.pagerduty.com".into(),
            events_url: "https://events.pagerduty.com".into(),
            api_token: api_token.into(),
            from: from.into(),
            routing_key: None,
            routing_keys: BTreeMap::new(),
            cache_for: std::time::Duration::from_secs(60),
            base_url: String::new(),
        }
    }
}

/// Parses `name=key, name=key` (how routing keys are given in one setting); an error names the
/// entry that has no `=`.
pub fn parse_routing_keys(s: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((name, key)) = entry.split_once('=') else {
            return Err(format!(
                "routing keys are `service=key` pairs separated by commas; {:?} has no `=`",
                entry.split('=').next().unwrap_or_default()
            ));
        };
        out.insert(name.trim().to_string(), key.trim().to_string());
    }
    Ok(out)
}

/// What a Dispatch service's external id points at.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    EscalationPolicy(String),
    Schedule(String),
}

impl Target {
    fn parse(external_id: &str) -> Option<Self> {
        let s = external_id.trim();
        if s.is_empty() {
            return None;
        }
        Some(match s.split_once(':') {
            Some(("schedule", id)) => Target::Schedule(id.trim().into()),
            Some(("escalation_policy", id)) => Target::EscalationPolicy(id.trim().into()),
            _ => Target::EscalationPolicy(s.into()),
        })
    }

    fn query(&self) -> (&'static str, &str) {
        match self {
            Target::EscalationPolicy(id) => ("escalation_policy_ids[]", id),
            Target::Schedule(id) => ("schedule_ids[]", id),
        }
    }
}

/// PagerDuty, on-call and paging.
pub struct PagerDuty {
    settings: PagerDutySettings,
    http: VendorHttp,
    /// Who was on call: target → (when asked, the shift).
    on_call: Mutex<HashMap<String, (Instant, Option<Shift>)>>,
    /// PagerDuty user id → e-mail.
    emails: Mutex<HashMap<String, String>>,
}

impl PagerDuty {
    /// The provider with these settings.
    pub fn new(settings: PagerDutySettings) -> Self {
        Self {
            settings,
            http: VendorHttp::new(SLUG, "PagerDuty", "DISPATCH_PAGERDUTY_API_TOKEN"),
            on_call: Mutex::new(HashMap::new()),
            emails: Mutex::new(HashMap::new()),
        }
    }

    fn rest(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self
            .http
            .client()
            .request(
                method,
                format!("{}{path}", self.settings.api_url.trim_end_matches('/')),
            )
            .header(
                reqwest::header::AUTHORIZATION,
                format!("Token token={}", self.settings.api_token),
            )
            .header(reqwest::header::ACCEPT, ACCEPT);
        if !self.settings.from.is_empty() {
            r = r.header("From", &self.settings.from);
        }
        r
    }

    /// The e-mail of a PagerDuty user: from the entry when it has one, else `GET /users/{id}`
    /// (remembered).
    async fn email_of(&self, user: &Value) -> ProviderResult<String> {
        if let Some(e) = user["email"].as_str().filter(|e| !e.is_empty()) {
            return Ok(e.to_string());
        }
        let id = user["id"]
            .as_str()
            .ok_or_else(|| self.http.error("an on-call entry has no user id"))?
            .to_string();
        if let Some(e) = self
            .emails
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
        {
            return Ok(e.clone());
        }
        let path = format!("/users/{id}");
        let body = self
            .http
            .send_ok(&format!("reading PagerDuty user {id}"), || {
                self.rest(reqwest::Method::GET, &path)
            })
            .await?;
        let email = body["user"]["email"]
            .as_str()
            .filter(|e| !e.is_empty())
            .ok_or_else(|| {
                self.http
                    .error(format!("PagerDuty user {id} has no e-mail"))
            })?
            .to_string();
        self.emails
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, email.clone());
        Ok(email)
    }

    /// Who is on call at escalation level 1 of `target` at `at`, reading every page.
    async fn look_up(&self, target: &Target, at: DateTime<Utc>) -> ProviderResult<Option<Shift>> {
        let (key, id) = target.query();
        let since = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let until = (at + Duration::seconds(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut offset = 0u32;
        for _ in 0..MAX_PAGES {
            let query = [
                (key, id.to_string()),
                ("earliest", "true".into()),
                ("since", since.clone()),
                ("until", until.clone()),
                ("offset", offset.to_string()),
                ("limit", PAGE_LIMIT.to_string()),
            ];
            let body = self
                .http
                .send_ok("looking up who is on call", || {
                    self.rest(reqwest::Method::GET, "/oncalls").query(&query)
                })
                .await?;
            let entries = body["oncalls"].as_array().cloned().unwrap_or_default();
            if let Some(e) = entries
                .iter()
                .find(|e| e["escalation_level"].as_i64() == Some(1))
            {
                let email = self.email_of(&e["user"]).await?;
                let time = |k: &str| {
                    e[k].as_str()
                        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                        .map(|t| t.with_timezone(&Utc))
                };
                return Ok(Some(Shift {
                    email,
                    starts_at: time("start").unwrap_or(at),
                    // No end: on call until someone changes the policy.
                    ends_at: time("end").unwrap_or(at + Duration::days(365)),
                    overridden: false,
                }));
            }
            if !body["more"].as_bool().unwrap_or(false) || entries.is_empty() {
                return Ok(None);
            }
            offset += entries.len() as u32;
        }
        Ok(None)
    }

    fn routing_key(&self, page: &PageRequest) -> ProviderResult<&str> {
        let by = |k: &str| self.settings.routing_keys.get(k).map(String::as_str);
        page.service
            .as_ref()
            .and_then(|s| by(&s.name).or_else(|| s.external_id.as_deref().and_then(by)))
            .or(self.settings.routing_key.as_deref())
            .ok_or_else(|| {
                self.http.error(format!(
                    "no Events API routing key for {}: set DISPATCH_PAGERDUTY_ROUTING_KEYS (service=key) or DISPATCH_PAGERDUTY_ROUTING_KEY",
                    page.service.as_ref().map_or("pages without a service".to_string(), |s| format!("service {:?}", s.name))
                ))
            })
    }

    async fn enqueue(&self, what: &str, event: Value) -> ProviderResult<Value> {
        let url = format!(
            "{}/v2/enqueue",
            self.settings.events_url.trim_end_matches('/')
        );
        let a = self
            .http
            .send(what, || self.http.client().post(&url).json(&event))
            .await?;
        if (200..300).contains(&a.status) {
            Ok(a.body)
        } else {
            Err(self.http.failed(what, &a))
        }
    }
}

#[async_trait]
impl OnCallProvider for PagerDuty {
    fn slug(&self) -> &'static str {
        SLUG
    }

    /// A cheap authenticated call: `GET /abilities`.
    async fn check(&self) -> ProviderResult<Option<String>> {
        let body = self
            .http
            .send_ok("checking the API token", || {
                self.rest(reqwest::Method::GET, "/abilities")
            })
            .await?;
        let n = body["abilities"].as_array().map(Vec::len).unwrap_or(0);
        Ok(Some(format!("the API token works ({n} abilities)")))
    }

    async fn on_call(
        &self,
        service: &OnCallService,
        at: DateTime<Utc>,
    ) -> ProviderResult<Option<Shift>> {
        let Some(target) = service.external_id.as_deref().and_then(Target::parse) else {
            return Ok(None);
        };
        // Only "now" is cached: other times are rare (the on-call views) and differ.
        let recent = (Utc::now() - at).num_seconds().abs() < 5;
        let key = format!("{target:?}");
        if recent {
            let cache = self.on_call.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((asked, shift)) = cache.get(&key) {
                if asked.elapsed() < self.settings.cache_for {
                    return Ok(shift.clone());
                }
            }
        }
        let shift = self.look_up(&target, at).await?;
        if recent {
            self.on_call
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, (Instant::now(), shift.clone()));
        }
        Ok(shift)
    }

    async fn next(
        &self,
        service: &OnCallService,
        at: DateTime<Utc>,
    ) -> ProviderResult<Option<Shift>> {
        let Some(target) = service.external_id.as_deref().and_then(Target::parse) else {
            return Ok(None);
        };
        match self.look_up(&target, at).await? {
            Some(now) if now.ends_at > at && now.ends_at < at + Duration::days(365) => {
                self.look_up(&target, now.ends_at).await
            }
            _ => Ok(None),
        }
    }

    async fn page(&self, page: &PageRequest) -> ProviderResult<Option<String>> {
        let routing_key = self.routing_key(page)?.to_string();
        let summary: String = format!("{}: {} — {}", page.incident, page.title, page.reason)
            .chars()
            .take(1024)
            .collect();
        let event = json!({
            "routing_key": routing_key,
            "event_action": "trigger",
            "dedup_key": page.incident,
            "payload": {
                "summary": summary,
                "source": "Dispatch",
                "severity": "critical",
                "component": page.service.as_ref().map(|s| s.name.clone()),
                "custom_details": {
                    "incident": page.incident,
                    "paged": page.email,
                    "reason": page.reason,
                },
            },
            "client": "Dispatch",
            "client_url": page.link,
            "links": [{"href": page.link, "text": format!("{} in Dispatch", page.incident)}],
        });
        let body = self.enqueue("triggering the page", event).await?;
        Ok(Some(
            body["dedup_key"]
                .as_str()
                .unwrap_or(&page.incident)
                .to_string(),
        ))
    }

    async fn resolve(&self, page: &PageRequest) -> ProviderResult<()> {
        let routing_key = self.routing_key(page)?.to_string();
        let event = json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": page.incident,
        });
        self.enqueue("resolving the page", event).await?;
        Ok(())
    }
}

/// Checks a v3 webhook's `X-PagerDuty-Signature` (`v1=<hex HMAC-SHA256 of the body>`, several
/// separated by commas while a secret is rotated) against the subscription's secret.
pub fn verify_signature(secret: &str, header: Option<&str>, body: &[u8]) -> Result<(), String> {
    let header = header.ok_or("the request has no X-PagerDuty-Signature")?;
    for candidate in header.split(',').map(str::trim) {
        let Some(hex_sig) = candidate.strip_prefix("v1=") else {
            continue;
        };
        let Ok(sig) = hex::decode(hex_sig) else {
            continue;
        };
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).map_err(|e| e.to_string())?;
        mac.update(body);
        if mac.verify_slice(&sig).is_ok() {
            return Ok(());
        }
    }
    Err("the X-PagerDuty-Signature does not match the webhook secret".into())
}

/// The signature PagerDuty would send for `body` (for tests and emulators).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The incident a v3 webhook event acknowledges: its `incident_key` (the `dedup_key` Dispatch
/// triggered with, i.e. the Dispatch incident's name), for `incident.acknowledged` events;
/// `None` for any other event.
pub fn acknowledged_incident(event: &Value) -> Option<String> {
    let e = &event["event"];
    (e["event_type"] == "incident.acknowledged")
        .then(|| e["data"]["incident_key"].as_str().map(str::to_string))
        .flatten()
        .filter(|k| !k.is_empty())
}

/// Errors of this provider (for callers outside it).
pub fn error(message: impl Into<String>) -> ProviderError {
    ProviderError::new(SLUG, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ids_name_a_policy_or_a_schedule() {
        assert_eq!(
            Target::parse("PABC123"),
            Some(Target::EscalationPolicy("PABC123".into()))
        );
        assert_eq!(
            Target::parse("schedule:PDEF456"),
            Some(Target::Schedule("PDEF456".into()))
        );
        assert_eq!(Target::parse(" "), None);
    }

    #[test]
    fn routing_keys_are_name_key_pairs() {
        let k = parse_routing_keys("payments = abc, db=def,").unwrap();
        assert_eq!(k["payments"], "abc");
        assert_eq!(k["db"], "def");
        assert!(parse_routing_keys("payments")
            .unwrap_err()
            .contains("\"payments\""));
    }

    #[test]
    fn a_signature_verifies_with_its_secret_only() {
        let body = br#"{"event":{"event_type":"incident.acknowledged"}}"#;
        let sig = sign("s3cret", body);
        assert!(verify_signature("s3cret", Some(&sig), body).is_ok());
        assert!(verify_signature("s3cret", Some(&format!("v1=00, {sig}")), body).is_ok());
        assert!(verify_signature("other", Some(&sig), body).is_err());
        assert!(verify_signature("s3cret", None, body).is_err());
        assert!(verify_signature("s3cret", Some(&sig), b"{}").is_err());
    }

    #[test]
    fn only_acknowledgements_name_an_incident() {
        let ack = json!({"event": {"event_type": "incident.acknowledged", "data": {"incident_key": "INC-7"}}});
        assert_eq!(acknowledged_incident(&ack), Some("INC-7".into()));
        let other = json!({"event": {"event_type": "incident.resolved", "data": {"incident_key": "INC-7"}}});
        assert_eq!(acknowledged_incident(&other), None);
    }
}
