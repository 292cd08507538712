//! The alerts the signal bench sends: Alertmanager v4 notifications as Alertmanager really
//! sends them, one group at a time (10–50 alerts by default), each sender keeping its own
//! groups. A notification re-sends alerts the group already holds (they are deduplicated), adds
//! new ones (new fingerprints: new cases) and now and then reports some resolved.

use crate::bench::words::{Rng, COMPONENTS, REGIONS, SYMPTOMS};
use serde_json::{json, Value};
use std::collections::VecDeque;

/// The label every bench alert carries, and the bench definition matches.
pub const BENCH_LABEL: (&str, &str) = ("env", "bench");

/// The mix of a sender's notifications.
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    /// Fewest alerts in one notification.
    pub min_batch: usize,
    /// Most alerts in one notification.
    pub max_batch: usize,
    /// Share of a notification's alerts that are new (a fingerprint never sent before).
    pub new_ratio: f64,
    /// Share of the repeated alerts reported resolved.
    pub resolved_ratio: f64,
}

/// One notification to send.
pub struct Notification {
    /// The JSON body.
    pub body: String,
    /// Alerts in it.
    pub alerts: usize,
    /// Of which firing (each stored as an instance).
    pub firing: usize,
}

/// The firing alerts a sender holds, to repeat or resolve.
const POOL: usize = 2_000;

/// One sender (an Alertmanager receiver with its own groups): fingerprints are the sender's
/// own, so two senders never race on the same alert, as in real life.
pub struct Sender {
    id: usize,
    rng: Rng,
    next: u64,
    pool: VecDeque<u64>,
    mix: Mix,
}

impl Sender {
    /// Sender number `id`.
    pub fn new(id: usize, mix: Mix) -> Self {
        Self {
            id,
            rng: Rng::new(0xA1E7 + id as u64),
            next: 0,
            pool: VecDeque::with_capacity(POOL),
            mix,
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.rng.below(1_000_000) as f64) < p * 1_000_000.0
    }

    /// How many alerts the next notification would carry.
    pub fn size(&mut self) -> usize {
        let span = (self.mix.max_batch.saturating_sub(self.mix.min_batch) + 1) as u64;
        (self.mix.min_batch + self.rng.below(span) as usize).max(1)
    }

    /// A notification of `size` alerts (at least one).
    pub fn build(&mut self, size: usize) -> Notification {
        let size = size.max(1);
        let mut picked: Vec<(u64, bool)> = Vec::with_capacity(size);
        for _ in 0..size {
            let repeat = !self.pool.is_empty() && !self.chance(self.mix.new_ratio);
            let candidate = if repeat {
                let i = self.rng.below(self.pool.len() as u64) as usize;
                Some(self.pool[i])
            } else {
                None
            };
            match candidate {
                // One alert appears once in a notification.
                Some(n) if !picked.iter().any(|(p, _)| *p == n) => {
                    let resolved = self.chance(self.mix.resolved_ratio);
                    if resolved {
                        self.pool.retain(|p| *p != n);
                    }
                    picked.push((n, resolved));
                }
                _ => {
                    let n = self.next;
                    self.next += 1;
                    if self.pool.len() == POOL {
                        self.pool.pop_front();
                    }
                    self.pool.push_back(n);
                    picked.push((n, false));
                }
            }
        }
        let firing = picked.iter().filter(|(_, r)| !r).count();
        let alerts: Vec<Value> = picked.iter().map(|&(n, r)| self.alert(n, r)).collect();
        let group = self.rng.below(8);
        let status = if firing > 0 { "firing" } else { "resolved" };
        let body = json!({
            "version": "4",
            "groupKey": format!("{{}}/{{env=\"bench\"}}:{{service=\"{}\"}}", COMPONENTS[group as usize]),
            "truncatedAlerts": 0,
            "status": status,
            "receiver": format!("dispatch-{}", self.id),
            "groupLabels": {"service": COMPONENTS[group as usize]},
            "commonLabels": {BENCH_LABEL.0: BENCH_LABEL.1},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.example:9093",
            "alerts": alerts,
        });
        Notification {
            body: body.to_string(),
            alerts: picked.len(),
            firing,
        }
    }

    /// Alert number `n` of this sender: always the same labels and fingerprint.
    fn alert(&self, n: u64, resolved: bool) -> Value {
        let mut r = Rng::new((self.id as u64) << 40 | n);
        let service = *r.pick(COMPONENTS);
        let symptom = *r.pick(SYMPTOMS);
        let region = *r.pick(REGIONS);
        let host = format!("{service}-{}.{region}.internal:9100", r.below(64));
        let name: String = symptom
            .split(' ')
            .map(crate::bench::words::capitalise)
            .collect();
        let (status, ends) = if resolved {
            ("resolved", "2026-12-03T07:00:00Z")
        } else {
            ("firing", "0001-01-01T00:00:00Z")
        };
        json!({
            "status": status,
            "labels": {
                "alertname": name, "service": service, "instance": host, "job": "node",
                "severity": if r.below(4) == 0 { "critical" } else { "warning" },
                "region": region, BENCH_LABEL.0: BENCH_LABEL.1,
            },
            "annotations": {
                "summary": format!("{symptom} on {service} in {region}"),
                "description": format!("{host} reports {symptom} for more than 5 minutes."),
                "runbook_url": format!("https://runbooks.example/{service}/{}", name.to_lowercase()),
            },
            "startsAt": "2026-12-03T06:00:00Z",
            "endsAt": ends,
            "generatorURL": format!("http://prometheus.example:9090/graph?g0.expr=up%7Bjob%3D%22{service}%22%7D"),
            "fingerprint": format!("{:04x}{:012x}", self.id, n),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_repeat_alerts_and_keep_fingerprints_unique_within_one() {
        let mix = Mix {
            min_batch: 10,
            max_batch: 50,
            new_ratio: 0.1,
            resolved_ratio: 0.05,
        };
        let mut s = Sender::new(3, mix);
        let mut seen = std::collections::HashSet::new();
        let mut repeats = 0;
        for _ in 0..50 {
            let size = s.size();
            let n = s.build(size);
            assert!((10..=50).contains(&n.alerts));
            let v: Value = serde_json::from_str(&n.body).unwrap();
            let alerts = v["alerts"].as_array().unwrap();
            assert_eq!(alerts.len(), n.alerts);
            let fps: std::collections::HashSet<&str> = alerts
                .iter()
                .map(|a| a["fingerprint"].as_str().unwrap())
                .collect();
            assert_eq!(
                fps.len(),
                n.alerts,
                "a fingerprint twice in one notification"
            );
            let firing = alerts.iter().filter(|a| a["status"] == "firing").count();
            assert_eq!(firing, n.firing);
            for f in fps {
                repeats += usize::from(!seen.insert(f.to_string()));
            }
        }
        assert!(repeats > 0, "no alert was ever repeated");
        assert_eq!(s.build(3).alerts, 3);
    }
}
