//! The per-source rate limit of the signal endpoints: a token bucket per sender (the caller's
//! account) and endpoint. A request over the limit is refused with 429 and `Retry-After` before
//! anything is read or stored, so the sender (Alertmanager, Grafana, a PagerDuty client) sends
//! it again later: an alert is either stored or refused, never dropped. The check is a layer
//! between the bearer token's (which names the sender; a request without one is refused there
//! and counts against no one) and the signature's and the body's, which read the body.

use crate::auth::Auth;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dispatch_core::signal::SignalSource;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// How many requests a sender may make to one signal endpoint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignalRate {
    /// Requests per second, sustained.
    pub per_second: f64,
    /// Requests at once above that.
    pub burst: u32,
}

/// The buckets, by sender and endpoint. Without a rate every request passes.
#[derive(Debug, Default)]
pub struct SignalLimiter {
    rate: Option<SignalRate>,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Senders kept before idle buckets are swept.
const SWEEP_AT: usize = 10_000;

impl SignalLimiter {
    /// A limiter with this rate (`None` or a rate of 0: no limit).
    pub fn new(rate: Option<SignalRate>) -> Self {
        Self {
            rate: rate.filter(|r| r.per_second > 0.0),
            buckets: Mutex::default(),
        }
    }

    /// Takes a request of `key` from its bucket; `Err(seconds)` when it must wait that long.
    pub fn take(&self, key: &str) -> Result<(), u64> {
        let Some(rate) = self.rate else {
            return Ok(());
        };
        let capacity = f64::from(rate.burst.max(1));
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > SWEEP_AT {
            buckets.retain(|_, (_, at)| {
                now.duration_since(*at).as_secs_f64() * rate.per_second < capacity
            });
        }
        let (tokens, at) = buckets.entry(key.to_string()).or_insert((capacity, now));
        let refilled =
            (*tokens + now.duration_since(*at).as_secs_f64() * rate.per_second).min(capacity);
        *at = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            Ok(())
        } else {
            *tokens = refilled;
            Err(((1.0 - refilled) / rate.per_second).ceil().max(1.0) as u64)
        }
    }
}

/// The layer of the signal routes: refuses (429 with `Retry-After`) a sender over its rate for
/// the endpoint, before the body is read.
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let source = req.uri().path().rsplit('/').next().unwrap_or_default();
    let (Ok(source), Some(auth)) = (
        source.parse::<SignalSource>(),
        req.extensions().get::<Auth>(),
    ) else {
        // Not a signal endpoint, or no caller (the handler refuses it): nothing to count.
        return next.run(req).await;
    };
    let key = format!("{source}:{}", auth.actor().email);
    match state.signal_limiter.take(&key) {
        Ok(()) => next.run(req).await,
        Err(wait) => ApiError::TooManyRequests(wait).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sender_over_its_burst_waits_and_others_do_not() {
        let l = SignalLimiter::new(Some(SignalRate {
            per_second: 0.5,
            burst: 2,
        }));
        assert_eq!(l.take("a"), Ok(()));
        assert_eq!(l.take("a"), Ok(()));
        assert_eq!(l.take("a"), Err(2));
        assert_eq!(l.take("b"), Ok(()));
        let off = SignalLimiter::new(Some(SignalRate {
            per_second: 0.0,
            burst: 0,
        }));
        assert!((0..100).all(|_| off.take("a").is_ok()));
    }
}
