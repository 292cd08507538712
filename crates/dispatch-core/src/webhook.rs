//! Outgoing webhooks in the Standard Webhooks format (<https://www.standardwebhooks.com>): the
//! event types a subscriber may select, the `whsec_` signing secret, and the `v1` signature
//! (base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`).

use crate::error::ValidationError;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Every webhook event type: each timeline event kind the engine writes, prefixed `incident.`.
/// A subscription selects some of these (none selected means all of them).
pub const EVENT_TYPES: &[&str] = &[
    "incident.incident_declared",
    "incident.incident_updated",
    "incident.status_changed",
    "incident.participant_added",
    "incident.role_assumed",
    "incident.role_renounced",
    "incident.task_created",
    "incident.task_updated",
    "incident.task_status_changed",
    "incident.report_created",
    "incident.resource_created",
    "incident.resource_failed",
    "incident.conversation_ready",
    "incident.conversation_archived",
    "incident.conversation_unarchived",
    "incident.group_members_changed",
    "incident.page_sent",
    "incident.direct_message_sent",
    "incident.custom",
    "incident.participant_updated",
    "incident.imported_message",
    "incident.reminder_sent",
    "incident.reminder_snoozed",
    "incident.oncall_paged",
];

/// The event types of cases and their signals. A subscription selects them like the incident
/// ones (none selected means all of them, these included).
pub const CASE_EVENT_TYPES: &[&str] = &[
    "case.created",
    "case.status_changed",
    "case.updated",
    "case.escalated",
    "case.closed",
    "signal.resolved",
];

/// The webhook event type of a timeline event kind (`status_changed` → `incident.status_changed`).
pub fn event_type(kind: &str) -> String {
    format!("incident.{kind}")
}

/// Checks a subscriber's selection of event types: each must be one of [`EVENT_TYPES`];
/// duplicates are dropped, the order is kept.
pub fn parse_event_types(field: &str, raw: &[String]) -> Result<Vec<String>, ValidationError> {
    let mut out: Vec<String> = Vec::new();
    let mut e = ValidationError::default();
    for t in raw {
        let t = t.trim();
        if !EVENT_TYPES.contains(&t) && !CASE_EVENT_TYPES.contains(&t) {
            e.push(
                field,
                format!(
                    "unknown event type {t:?}; known: {}, {}",
                    EVENT_TYPES.join(", "),
                    CASE_EVENT_TYPES.join(", ")
                ),
            );
        } else if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    e.into_result().map(|()| out)
}

/// How a signing secret is written: this prefix, then the key in standard base64.
pub const SECRET_PREFIX: &str = "whsec_";

/// A subscription's signing key. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

/// A secret that is not `whsec_` followed by base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret must be \"whsec_\" followed by base64")]
pub struct BadSecret;

impl WebhookSecret {
    /// The spec's shortest key, in bytes.
    pub const MIN_BYTES: usize = 24;

    /// A secret over these key bytes (from a random source).
    pub fn from_bytes(key: Vec<u8>) -> Self {
        Self(key)
    }

    /// Reads `whsec_<base64>`.
    pub fn parse(s: &str) -> Result<Self, BadSecret> {
        let b64 = s.strip_prefix(SECRET_PREFIX).ok_or(BadSecret)?;
        let key = BASE64.decode(b64).map_err(|_| BadSecret)?;
        if key.is_empty() {
            return Err(BadSecret);
        }
        Ok(Self(key))
    }

    /// Writes it as `whsec_<base64>`, the form shown to the subscriber.
    pub fn encode(&self) -> String {
        format!("{SECRET_PREFIX}{}", BASE64.encode(&self.0))
    }

    /// The `webhook-signature` header value (`v1,<base64 HMAC-SHA256>`) for a message id,
    /// a Unix timestamp in seconds and the exact body bytes sent.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &str) -> String {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
        mac.update(body.as_bytes());
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of the Standard Webhooks reference libraries
    /// (standard-webhooks/standard-webhooks, `libraries/rust/src/lib.rs`, `test_sign`),
    /// re-computed independently with Python's `hmac`/`base64` before being pasted here.
    const SPEC_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const SPEC_MSG_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const SPEC_TIMESTAMP: i64 = 1649367553;
    const SPEC_BODY: &str = r#"{"email":"test@example.com","username":"test_user"}"#;
    const SPEC_SIGNATURE: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    #[test]
    fn signatures_match_the_standard_webhooks_test_vector() {
        let secret = WebhookSecret::parse(SPEC_SECRET).unwrap();
        assert_eq!(
            secret.sign(SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY),
            SPEC_SIGNATURE
        );
    }

    #[test]
    fn any_change_to_id_timestamp_or_body_changes_the_signature() {
        let secret = WebhookSecret::parse(SPEC_SECRET).unwrap();
        for sig in [
            secret.sign("msg_other", SPEC_TIMESTAMP, SPEC_BODY),
            secret.sign(SPEC_MSG_ID, SPEC_TIMESTAMP + 1, SPEC_BODY),
            secret.sign(SPEC_MSG_ID, SPEC_TIMESTAMP, &format!("{SPEC_BODY} ")),
        ] {
            assert_ne!(sig, SPEC_SIGNATURE);
        }
    }

    #[test]
    fn secrets_round_trip_and_bad_ones_are_refused() {
        let s = WebhookSecret::parse(SPEC_SECRET).unwrap();
        assert_eq!(s.encode(), SPEC_SECRET);
        assert_eq!(format!("{s:?}"), "WebhookSecret(***)");
        for bad in ["C2FVsBQIhrscChlQIMV", "whsec_", "whsec_not base64!"] {
            assert_eq!(WebhookSecret::parse(bad), Err(BadSecret), "{bad}");
        }
    }

    #[test]
    fn event_type_selections_must_be_known_and_lose_duplicates() {
        let ok = parse_event_types(
            "event_types",
            &[
                "incident.status_changed".into(),
                " incident.custom".into(),
                "incident.status_changed".into(),
            ],
        )
        .unwrap();
        assert_eq!(ok, ["incident.status_changed", "incident.custom"]);
        let err = parse_event_types("event_types", &["status_changed".into()]).unwrap_err();
        assert_eq!(err.fields[0].field, "event_types");
        assert!(err.fields[0].message.contains("incident.status_changed"));
    }
}
