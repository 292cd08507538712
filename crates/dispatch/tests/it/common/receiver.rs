//! A webhook receiver running in the test: records every request and can be told to fail.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`.
    pub timestamp: String,
    /// `webhook-signature`.
    pub signature: String,
    /// `content-type`.
    pub content_type: String,
    /// The raw body.
    pub body: String,
}

impl Received {
    /// The body, parsed.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("the body is JSON")
    }
}

#[derive(Default)]
struct Inbox {
    requests: Mutex<Vec<Received>>,
    /// Answer 500 to this many requests before answering 200.
    fail_next: AtomicUsize,
    /// Hold each request until this many have been in flight at once (at most 2 s); 0: answer
    /// at once.
    hold_until: AtomicUsize,
    in_flight: AtomicUsize,
    /// The most requests that were in flight at once.
    max_in_flight: AtomicUsize,
}

/// A webhook receiver on 127.0.0.1:0.
pub struct Receiver {
    /// Where to deliver: `http://127.0.0.1:PORT/hook`.
    pub url: String,
    inbox: Arc<Inbox>,
    server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Starts it on a free port.
    pub async fn start() -> Self {
        async fn receive(
            State(inbox): State<Arc<Inbox>>,
            headers: HeaderMap,
            body: Bytes,
        ) -> AxumStatus {
            let h = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string()
            };
            let now = inbox.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            inbox.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let hold = inbox.hold_until.load(Ordering::SeqCst);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
            while hold > 0
                && inbox.max_in_flight.load(Ordering::SeqCst) < hold
                && std::time::Instant::now() < deadline
            {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            inbox.in_flight.fetch_sub(1, Ordering::SeqCst);
            inbox.requests.lock().unwrap().push(Received {
                id: h("webhook-id"),
                timestamp: h("webhook-timestamp"),
                signature: h("webhook-signature"),
                content_type: h("content-type"),
                body: String::from_utf8(body.to_vec()).unwrap(),
            });
            let failing = inbox
                .fail_next
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if failing {
                AxumStatus::INTERNAL_SERVER_ERROR
            } else {
                AxumStatus::OK
            }
        }
        let inbox = Arc::new(Inbox::default());
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, inbox, server }
    }

    /// Answers 500 to the next `n` requests.
    pub fn fail_next(&self, n: usize) {
        self.inbox.fail_next.store(n, Ordering::SeqCst);
    }

    /// Holds each request until `n` have been in flight at once (or 2 s passed).
    pub fn hold_until(&self, n: usize) {
        self.inbox.hold_until.store(n, Ordering::SeqCst);
    }

    /// The most requests that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.inbox.max_in_flight.load(Ordering::SeqCst)
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Received> {
        self.inbox.requests.lock().unwrap().clone()
    }

    /// The `type` of every message so far, in order.
    pub fn types(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| r.json()["type"].as_str().unwrap().to_string())
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}
