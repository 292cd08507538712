//! The per-source rate limit of the signal endpoints: a token bucket per sender (the caller's
//! account) and endpoint. A request over the limit is refused with 429 and `Retry-After` before
//! anything is read or stored, so the sender (Alertmanager, Grafana, a PagerDuty client) sends
//! it again later: an alert is either stored or refused, never dropped.

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
