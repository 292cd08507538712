//! Outgoing webhooks over HTTP: one POST per attempt with the Standard Webhooks headers, a
//! 10-second timeout, and no redirects followed (a 3xx is a failed attempt, as the spec advises).

use async_trait::async_trait;
use dispatch_core::provider::{
    ProviderError, ProviderResult, WebhookProvider, WebhookRequest, WebhookResponse,
};
use std::time::Duration;

const SLUG: &str = "http-webhook";

/// How long one attempt may take, connection included.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of a receiver's answer is kept for the delivery's last error.
const BODY_EXCERPT_BYTES: usize = 512;

/// Sends webhooks with a shared HTTP client.
pub struct HttpWebhooks {
    client: reqwest::Client,
}

impl HttpWebhooks {
    /// A sender whose attempts time out after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Dispatch-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            // Building fails only when the TLS backend cannot start: nothing would work then.
            .expect("the HTTP client for webhooks builds");
        Self { client }
    }
}

impl Default for HttpWebhooks {
    fn default() -> Self {
        Self::new(DELIVERY_TIMEOUT)
    }
}

#[async_trait]
impl WebhookProvider for HttpWebhooks {
    fn slug(&self) -> &'static str {
        SLUG
    }

    async fn send(&self, r: &WebhookRequest<'_>) -> ProviderResult<WebhookResponse> {
        let mut res = self
            .client
            .post(r.url)
            .header("webhook-id", r.id)
            .header("webhook-timestamp", r.timestamp.to_string())
            .header("webhook-signature", r.signature)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(r.body.to_string())
            .send()
            .await
            .map_err(error)?;
        let status = res.status().as_u16();
        // Read only the start of the answer: a receiver cannot make us buffer a huge body.
        let mut body = Vec::new();
        while body.len() < BODY_EXCERPT_BYTES {
            match res.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        body.truncate(BODY_EXCERPT_BYTES);
        Ok(WebhookResponse {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// The error without its URL: webhook URLs often carry a token, and errors are logged and shown.
fn error(e: reqwest::Error) -> ProviderError {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let e = e.without_url();
    let detail = std::error::Error::source(&e)
        .map(|s| format!(": {s}"))
        .unwrap_or_default();
    ProviderError::new(SLUG, format!("{kind}{detail}"))
}
