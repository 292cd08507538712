//! The web UI as a browser without JavaScript uses it: a signed-in session (cookie and CSRF
//! token) and pages fetched or forms posted with it, redirects not followed.

use super::{urlencode, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The password every test person chooses.
pub const PASSWORD: &str = "violet kettle drumbeat";

/// An answer as a browser sees it.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub html: String,
}

/// A signed-in person: their session cookie and its CSRF token.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// Makes a person with this role and a password, and signs them in.
pub async fn signed_in(app: &TestApp, email: &str, role: &str) -> Session {
    app.person_with_password(email, role, PASSWORD).await;
    let res = app
        .http
        .post(format!("{}/auth/login", app.base))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("dispatch_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let body: Value = res.json().await.unwrap();
    Session {
        cookie,
        csrf: body["csrf_token"].as_str().unwrap().to_string(),
    }
}

impl Session {
    async fn send(&self, app: &TestApp, method: Method, path: &str, form: &[(&str, &str)]) -> Page {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut req = client
            .request(method.clone(), format!("{}{path}", app.base))
            .header("cookie", &self.cookie);
        if method == Method::POST {
            let body: Vec<String> = std::iter::once(("_csrf", self.csrf.as_str()))
                .chain(form.iter().copied())
                .map(|(k, v)| format!("{k}={}", urlencode(v)))
                .collect();
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.join("&"));
        }
        let res = req.send().await.unwrap();
        Page {
            status: res.status(),
            location: res
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(String::from),
            html: res.text().await.unwrap_or_default(),
        }
    }

    /// Fetches a page.
    pub async fn get(&self, app: &TestApp, path: &str) -> Page {
        self.send(app, Method::GET, path, &[]).await
    }

    /// Posts a form (with the CSRF field).
    pub async fn post(&self, app: &TestApp, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(app, Method::POST, path, form).await
    }
}

/// The text of the error shown beside a field (`<p class="error" id="ID-e">…</p>`).
pub fn error_beside(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!(r#"<p class="error" id="{id}-e">"#))?;
    let rest = &html[start..];
    let text = &rest[rest.find('>')? + 1..rest.find("</p>")?];
    Some(text.to_string())
}

/// Reads a stream until `needle` arrived (15 s at most).
pub async fn wait_for(res: &mut reqwest::Response, seen: &mut String, needle: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    while !seen.contains(needle) {
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {needle:?} in the stream: {seen}"))
            .unwrap()
            .expect("stream open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}
