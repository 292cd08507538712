//! The timeline's hash chain: each event's hash covers its content and the previous event's hash,
//! so any edit, deletion or reordering of stored events is detected by re-computing the chain.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

/// The hash recorded as "previous" by the first event of an incident.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of a timeline event that the chain protects.
#[derive(Debug, Clone, Copy)]
pub struct ChainedEvent<'a> {
    /// The incident's key (e.g. `SEC-42`).
    pub incident_name: &'a str,
    /// Position in the incident's chain, from 1.
    pub seq: i64,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Event type (e.g. `incident_declared`).
    pub kind: &'a str,
    /// `dispatch` or `custom`.
    pub source: &'a str,
    /// Who did it (e-mail), if a person.
    pub actor: Option<&'a str>,
    /// How the command arrived.
    pub transport: &'a str,
    /// The human-readable description.
    pub description: &'a str,
    /// The details JSON text exactly as stored.
    pub details: &'a str,
    /// The previous event's hash, or [`GENESIS`].
    pub prev_hash: &'a str,
}

impl ChainedEvent<'_> {
    /// The hex SHA-256 of the event's canonical form. Each field is length-prefixed so that no
    /// two different events share a canonical form.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        let at = self
            .occurred_at
            .to_rfc3339_opts(SecondsFormat::Micros, true);
        let fields: [&str; 9] = [
            self.incident_name,
            &self.seq.to_string(),
            &at,
            self.kind,
            self.source,
            self.actor.unwrap_or(""),
            self.transport,
            self.description,
            self.details,
        ];
        for f in fields {
            h.update((f.len() as u64).to_be_bytes());
            h.update(f.as_bytes());
        }
        h.update(self.prev_hash.as_bytes());
        hex::encode(h.finalize())
    }
}

/// Truncates a time to whole microseconds, the precision both databases store, so that the hash
/// computed before writing equals the one computed after reading back.
pub fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event<'a>(description: &'a str, prev: &'static str) -> ChainedEvent<'a> {
        ChainedEvent {
            incident_name: "SEC-1",
            seq: 1,
            occurred_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            kind: "incident_declared",
            source: "dispatch",
            actor: Some("a@example.com"),
            transport: "api",
            description,
            details: "{}",
            prev_hash: prev,
        }
    }

    #[test]
    fn changing_any_content_changes_the_hash() {
        let a = event("declared", GENESIS).hash();
        assert_eq!(a, event("declared", GENESIS).hash());
        assert_ne!(a, event("declared!", GENESIS).hash());
        let other_prev = "1111111111111111111111111111111111111111111111111111111111111111";
        assert_ne!(a, event("declared", other_prev).hash());
    }
}
