//! Zoom as a conference provider, through a Server-to-Server OAuth app: an access token comes
//! from the account credentials grant
//! (`POST {oauth}/oauth/token?grant_type=account_credentials&account_id=…`, basic auth with the
//! app's client id and secret) and is kept until shortly before it expires. Each incident gets
//! one scheduled meeting (`POST /users/me/meetings`, topic = the incident's name and title); a
//! retried job first looks for it among the account's scheduled meetings
//! (`GET /users/me/meetings`, following `next_page_token`), so there is never a second one.
//! The conference resource links to the meeting's join URL and shows its passcode (for those who
//! dial in or type the meeting id); the topic follows the incident's title
//! (`GET`/`PATCH /meetings/{id}`); the meeting is deleted (`DELETE /meetings/{id}`) when the
//! incident closes.

use crate::vendor_http::VendorHttp;
use async_trait::async_trait;
use dispatch_core::provider::{Created, IncidentContext, ProviderResult, ResourceProvider};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The provider's slug.
pub const SLUG: &str = "zoom";

/// Zoom's REST API.
pub const API_URL: &str = "https://api.zoom.us/v2";

/// Zoom's OAuth server.
pub const OAUTH_URL: &str = "https://zoom.us";

/// The most pages of meetings read when looking for an incident's meeting.
const MAX_PAGES: usize = 10;

/// A token is renewed this long before Zoom says it expires.
const EARLY: Duration = Duration::from_secs(60);

/// Zoom's settings.
#[derive(Clone)]
pub struct ZoomSettings {
    /// The Zoom account's id.
    pub account_id: String,
    /// The Server-to-Server OAuth app's client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: String,
    /// The REST API, [`API_URL`] (or an emulator's).
    pub api_url: String,
    /// The OAuth server, [`OAUTH_URL`] (or an emulator's).
    pub oauth_url: String,
    /// How long one request may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for ZoomSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZoomSettings")
            .field("account_id", &self.account_id)
            .field("api_url", &self.api_url)
            .field("oauth_url", &self.oauth_url)
            .finish_non_exhaustive()
    }
}

impl ZoomSettings {
    /// Settings with Zoom's own URLs.
    pub fn new(account_id: &str, client_id: &str, client_secret: &str) -> Self {
        Self {
            account_id: account_id.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            api_url: API_URL.into(),
            oauth_url: OAUTH_URL.into(),
            timeout: crate::vendor_http::REQUEST_TIMEOUT,
        }
    }
}

/// Zoom, conference bridges.
pub struct Zoom {
    settings: ZoomSettings,
    http: VendorHttp,
    token: Mutex<Option<(String, Instant)>>,
}

/// The meeting's topic: the incident's name and title (Zoom takes up to 200 characters).
fn topic(ctx: &IncidentContext) -> String {
    format!("{}: {}", ctx.name, ctx.title)
        .chars()
        .take(200)
        .collect()
}

impl Zoom {
    /// The provider with these settings.
    pub fn new(settings: ZoomSettings) -> Self {
        let http = VendorHttp::with_timeout(
            SLUG,
            "Zoom",
            "DISPATCH_ZOOM_ACCOUNT_ID, DISPATCH_ZOOM_CLIENT_ID and DISPATCH_ZOOM_CLIENT_SECRET",
            settings.timeout,
        );
        Self {
            settings,
            http,
            token: Mutex::new(None),
        }
    }

    /// An access token: the kept one while it lasts, else a new one.
    async fn access_token(&self) -> ProviderResult<String> {
        if let Some((t, until)) = self.token.lock().unwrap().as_ref() {
            if Instant::now() < *until {
                return Ok(t.clone());
            }
        }
        let url = format!(
            "{}/oauth/token",
            self.settings.oauth_url.trim_end_matches('/')
        );
        let query = [
            ("grant_type", "account_credentials"),
            ("account_id", self.settings.account_id.as_str()),
        ];
        let body = self
            .http
            .send_ok("getting an access token", || {
                self.http
                    .client()
                    .post(&url)
                    .query(&query)
                    .basic_auth(&self.settings.client_id, Some(&self.settings.client_secret))
            })
            .await?;
        let token = body["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                self.http
                    .error("getting an access token: Zoom gave no access_token")
            })?
            .to_string();
        let lasts = Duration::from_secs(body["expires_in"].as_u64().unwrap_or(3600));
        let until = Instant::now() + lasts.saturating_sub(EARLY);
        *self.token.lock().unwrap() = Some((token.clone(), until));
        Ok(token)
    }

    /// Sends an API request; a 401 drops the kept token, so the next try gets a new one.
    async fn call(
        &self,
        what: &str,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> ProviderResult<crate::vendor_http::Answer> {
        let token = self.access_token().await?;
        let url = format!("{}{path}", self.settings.api_url.trim_end_matches('/'));
        let a = self
            .http
            .send(what, || {
                let b = self
                    .http
                    .client()
                    .request(method.clone(), &url)
                    .query(query)
                    .bearer_auth(&token);
                match body {
                    Some(v) => b.json(v),
                    None => b,
                }
            })
            .await?;
        if a.status == 401 {
            *self.token.lock().unwrap() = None;
        }
        Ok(a)
    }

    async fn call_ok(
        &self,
        what: &str,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> ProviderResult<Value> {
        let a = self.call(what, method, path, query, body).await?;
        if (200..300).contains(&a.status) {
            Ok(a.body)
        } else {
            Err(self.http.failed(what, &a))
        }
    }

    /// The incident's meeting, if one was made: its id.
    async fn find(&self, ctx: &IncidentContext) -> ProviderResult<Option<String>> {
        let prefix = format!("{}: ", ctx.name);
        let mut page_token = String::new();
        for _ in 0..MAX_PAGES {
            let mut query = vec![("type", "scheduled"), ("page_size", "300")];
            if !page_token.is_empty() {
                query.push(("next_page_token", page_token.as_str()));
            }
            let body = self
                .call_ok(
                    "looking for the incident's meeting",
                    Method::GET,
                    "/users/me/meetings",
                    &query,
                    None,
                )
                .await?;
            let found = body["meetings"].as_array().and_then(|list| {
                list.iter()
                    .find(|m| m["topic"].as_str().is_some_and(|t| t.starts_with(&prefix)))
            });
            if let Some(m) = found {
                let id = match &m["id"] {
                    Value::Number(n) => n.to_string(),
                    Value::String(s) => s.clone(),
                    _ => continue,
                };
                return Ok(Some(id));
            }
            match body["next_page_token"].as_str() {
                Some(t) if !t.is_empty() => page_token = t.to_string(),
                _ => break,
            }
        }
        Ok(None)
    }
}

/// The conference resource of a meeting as Zoom shows it: its join link and passcode.
fn created(id: String, m: &Value) -> Created {
    let mut details = std::collections::BTreeMap::new();
    if let Some(p) = m["password"].as_str().filter(|p| !p.is_empty()) {
        details.insert("passcode".to_string(), p.to_string());
    }
    details.insert("meeting_id".to_string(), id.clone());
    Created {
        link: m["join_url"]
            .as_str()
            .filter(|l| !l.is_empty())
            .map(str::to_string),
        external_id: id,
        details,
        ..Default::default()
    }
}

impl Zoom {
    /// The meeting with this id (`None` when Zoom has none).
    async fn meeting(&self, id: &str) -> ProviderResult<Option<Value>> {
        let a = self
            .call(
                "reading the meeting",
                Method::GET,
                &format!("/meetings/{id}"),
                &[],
                None,
            )
            .await?;
        match a.status {
            200..=299 => Ok(Some(a.body)),
            404 => Ok(None),
            _ => Err(self.http.failed("reading the meeting", &a)),
        }
    }
}

#[async_trait]
impl ResourceProvider for Zoom {
    fn slug(&self) -> &'static str {
        SLUG
    }

    /// A cheap authenticated call (after the token): `GET /users/me`.
    async fn check(&self) -> ProviderResult<Option<String>> {
        let me = self
            .call_ok(
                "checking the credentials",
                Method::GET,
                "/users/me",
                &[],
                None,
            )
            .await?;
        Ok(Some(format!(
            "the app's credentials work (meetings are made as {:?})",
            me["email"].as_str().unwrap_or_default()
        )))
    }

    async fn create(&self, _key: &str, ctx: &IncidentContext) -> ProviderResult<Created> {
        if let Some(id) = self.find(ctx).await? {
            // The list leaves the passcode out: the meeting itself has it.
            let m = self
                .meeting(&id)
                .await?
                .ok_or_else(|| self.http.error("reading the meeting: it is gone"))?;
            return Ok(created(id, &m));
        }
        let start = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let meeting = json!({
            "topic": topic(ctx),
            "type": 2,
            "start_time": start,
            "timezone": "UTC",
            "duration": 60,
            "agenda": format!("{}/incidents/{}", ctx.base_url, ctx.name),
            "settings": {"join_before_host": true, "waiting_room": false, "host_video": false},
        });
        let body = self
            .call_ok(
                "creating the meeting",
                Method::POST,
                "/users/me/meetings",
                &[],
                Some(&meeting),
            )
            .await?;
        let id = match &body["id"] {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => {
                return Err(self
                    .http
                    .error("creating the meeting: Zoom gave no meeting id"))
            }
        };
        Ok(created(id, &body))
    }

    /// Keeps the topic on the incident's name and title.
    async fn update(&self, external_id: &str, ctx: &IncidentContext) -> ProviderResult<()> {
        let Some(m) = self.meeting(external_id).await? else {
            return Ok(());
        };
        let want = topic(ctx);
        if m["topic"].as_str() == Some(want.as_str()) {
            return Ok(());
        }
        let change = json!({ "topic": want });
        let a = self
            .call(
                "renaming the meeting",
                Method::PATCH,
                &format!("/meetings/{external_id}"),
                &[],
                Some(&change),
            )
            .await?;
        match a.status {
            200..=299 | 404 => Ok(()),
            _ => Err(self.http.failed("renaming the meeting", &a)),
        }
    }

    async fn archive(&self, external_id: &str, archive: bool) -> ProviderResult<()> {
        if !archive {
            return Ok(());
        }
        let a = self
            .call(
                "deleting the meeting",
                Method::DELETE,
                &format!("/meetings/{external_id}"),
                &[],
                None,
            )
            .await?;
        match a.status {
            // Deleted, or gone already.
            200..=299 | 404 => Ok(()),
            _ => Err(self.http.failed("deleting the meeting", &a)),
        }
    }
}
