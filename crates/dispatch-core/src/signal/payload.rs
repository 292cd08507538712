//! The alert bodies Dispatch accepts, read into one shape: an [`Alert`] with its status,
//! fingerprint, title, severity, labels and the raw JSON it came in. Each tool's body is typed
//! here (unknown fields are kept in the raw JSON and otherwise ignored, as each tool adds
//! fields over time); the web layer reads a body into these types, naming the field that does
//! not fit.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Whether an alert is firing or over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertStatus {
    /// Firing (or triggered).
    Firing,
    /// Acknowledged at the source (PagerDuty's `acknowledge`): noted on the case.
    Acknowledged,
    /// Over: its firing instances are resolved.
    Resolved,
}

/// One alert, whatever tool sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Firing, acknowledged or resolved.
    pub status: AlertStatus,
    /// What identifies the same alert across sends (Alertmanager's fingerprint, PagerDuty's
    /// `dedup_key`, a configured path); a hash of the labels when the tool gives none.
    pub fingerprint: String,
    /// What is wrong, in a line.
    pub title: String,
    /// The severity the tool gave, if any.
    pub severity: Option<String>,
    /// The alert's labels (the definition's matcher reads these).
    pub labels: BTreeMap<String, String>,
    /// The alert's annotations.
    pub annotations: BTreeMap<String, String>,
    /// A link back to the source.
    pub link: Option<String>,
    /// When it started, if the tool says.
    pub started_at: Option<DateTime<Utc>>,
    /// The alert as sent.
    pub raw: Value,
}

/// A fingerprint from labels: the first 16 hex digits of SHA-256 over the sorted `k=v` lines.
pub fn labels_fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    for (k, v) in labels {
        h.update(k.as_bytes());
        h.update(b"=");
        h.update(v.as_bytes());
        h.update(b"\n");
    }
    hex::encode(&h.finalize()[..8])
}

/// A title from the usual annotations, else the alert's name.
fn title_of(annotations: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> String {
    ["summary", "title", "description"]
        .iter()
        .find_map(|k| annotations.get(*k).filter(|v| !v.trim().is_empty()))
        .or_else(|| labels.get("alertname"))
        .cloned()
        .unwrap_or_else(|| "Alert".to_string())
}

/// `0001-01-01T00:00:00Z` (Alertmanager's "unset") and unreadable times read as none.
fn time(raw: &Option<String>) -> Option<DateTime<Utc>> {
    raw.as_deref()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .filter(|t| t.timestamp() > 0)
}

/// The Alertmanager webhook body (version 4); also Grafana's, which extends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerBody {
    /// `"4"`.
    #[serde(default)]
    pub version: Option<String>,
    /// The group's key.
    #[serde(default)]
    pub group_key: Option<String>,
    /// `firing` or `resolved` (the group's).
    #[serde(default)]
    pub status: Option<String>,
    /// The receiver's name.
    #[serde(default)]
    pub receiver: Option<String>,
    /// Alertmanager's (or Grafana's) URL.
    #[serde(default, rename = "externalURL")]
    pub external_url: Option<String>,
    /// The alerts of the group.
    pub alerts: Vec<AlertmanagerAlert>,
}

/// One alert of an Alertmanager (or Grafana) notification.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerAlert {
    /// `firing` or `resolved`.
    pub status: String,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// When it started.
    #[serde(default)]
    pub starts_at: Option<String>,
    /// When it ended (or the zero time).
    #[serde(default)]
    pub ends_at: Option<String>,
    /// The rule's link.
    #[serde(default, rename = "generatorURL")]
    pub generator_url: Option<String>,
    /// Alertmanager's fingerprint of the labels.
    #[serde(default)]
    pub fingerprint: Option<String>,
}

impl AlertmanagerAlert {
    /// The alert, with `raw` as it was sent; `Err` names a bad status.
    pub fn to_alert(&self, raw: Value) -> Result<Alert, String> {
        let status = match self.status.as_str() {
            "firing" => AlertStatus::Firing,
            "resolved" => AlertStatus::Resolved,
            other => return Err(format!("must be firing or resolved, not {other:?}")),
        };
        Ok(Alert {
            status,
            fingerprint: self
                .fingerprint
                .clone()
                .filter(|f| !f.trim().is_empty())
                .unwrap_or_else(|| labels_fingerprint(&self.labels)),
            title: title_of(&self.annotations, &self.labels),
            severity: self.labels.get("severity").cloned(),
            link: self.generator_url.clone().filter(|u| !u.is_empty()),
            started_at: time(&self.starts_at),
            labels: self.labels.clone(),
            annotations: self.annotations.clone(),
            raw,
        })
    }
}

/// A PagerDuty Events API v2 event (`POST https://events.pagerduty.com/v2/enqueue`).
#[derive(Debug, Clone, Deserialize)]
pub struct PagerDutyEvent {
    /// The integration key; not kept (it is a credential).
    #[serde(default)]
    pub routing_key: Option<String>,
    /// `trigger`, `acknowledge` or `resolve`.
    pub event_action: String,
    /// Identifies the alert across its events; required to acknowledge or resolve.
    #[serde(default)]
    pub dedup_key: Option<String>,
    /// What is wrong; required to trigger.
    #[serde(default)]
    pub payload: Option<PagerDutyPayload>,
    /// The monitoring client's name.
    #[serde(default)]
    pub client: Option<String>,
    /// The monitoring client's URL.
    #[serde(default)]
    pub client_url: Option<String>,
    /// Links: `{"href", "text"}`.
    #[serde(default)]
    pub links: Vec<PagerDutyLink>,
}

/// The `payload` of a PagerDuty trigger event.
#[derive(Debug, Clone, Deserialize)]
pub struct PagerDutyPayload {
    /// A summary (at most 1024 characters).
    pub summary: String,
    /// Where it happened (a host, a service).
    pub source: String,
    /// `critical`, `error`, `warning` or `info`.
    pub severity: String,
    /// When it was detected (ISO 8601).
    #[serde(default)]
    pub timestamp: Option<String>,
    /// The component responsible.
    #[serde(default)]
    pub component: Option<String>,
    /// A logical grouping of components.
    #[serde(default)]
    pub group: Option<String>,
    /// The class or type of the event.
    #[serde(default)]
    pub class: Option<String>,
    /// Free-form details; its text, number and boolean fields become labels.
    #[serde(default)]
    pub custom_details: Option<Value>,
}

/// A link of a PagerDuty event.
#[derive(Debug, Clone, Deserialize)]
pub struct PagerDutyLink {
    /// The URL.
    pub href: String,
    /// Its text.
    #[serde(default)]
    pub text: Option<String>,
}

/// PagerDuty's severities.
pub const PAGERDUTY_SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];

impl PagerDutyEvent {
    /// The alert; `Err` names the field PagerDuty would refuse (`event_action`,
    /// `payload.severity`, `dedup_key`, …). `raw` is the event as sent (its `routing_key` is
    /// dropped before it is kept).
    pub fn to_alert(&self, mut raw: Value) -> Result<Alert, crate::ValidationError> {
        use crate::ValidationError as V;
        if let Some(o) = raw.as_object_mut() {
            o.remove("routing_key");
        }
        let status = match self.event_action.as_str() {
            "trigger" => AlertStatus::Firing,
            "acknowledge" => AlertStatus::Acknowledged,
            "resolve" => AlertStatus::Resolved,
            other => {
                return Err(V::field(
                    "event_action",
                    format!("must be trigger, acknowledge or resolve, not {other:?}"),
                ))
            }
        };
        let dedup = self.dedup_key.clone().filter(|k| !k.trim().is_empty());
        if dedup.as_ref().is_some_and(|k| k.len() > 255) {
            return Err(V::field("dedup_key", "must be at most 255 characters"));
        }
        let mut labels = BTreeMap::new();
        let mut title = String::new();
        let mut severity = None;
        let mut started_at = None;
        match (&self.payload, status) {
            (Some(p), _) => {
                if !PAGERDUTY_SEVERITIES.contains(&p.severity.as_str()) {
                    return Err(V::field(
                        "payload.severity",
                        format!("must be one of {}", PAGERDUTY_SEVERITIES.join(", ")),
                    ));
                }
                if p.summary.trim().is_empty() || p.summary.chars().count() > 1024 {
                    return Err(V::field("payload.summary", "must be 1-1024 characters"));
                }
                if let Some(Value::Object(details)) = &p.custom_details {
                    for (k, v) in details {
                        if let Some(s) = scalar(v) {
                            labels.insert(k.clone(), s);
                        }
                    }
                }
                for (k, v) in [
                    ("summary", Some(&p.summary)),
                    ("source", Some(&p.source)),
                    ("severity", Some(&p.severity)),
                    ("component", p.component.as_ref()),
                    ("group", p.group.as_ref()),
                    ("class", p.class.as_ref()),
                ] {
                    if let Some(v) = v {
                        labels.insert(k.to_string(), v.clone());
                    }
                }
                title = p.summary.clone();
                severity = Some(p.severity.clone());
                started_at = time(&p.timestamp);
            }
            (None, AlertStatus::Firing) => {
                return Err(V::field("payload", "is required to trigger"));
            }
            (None, _) if dedup.is_none() => {
                return Err(V::field(
                    "dedup_key",
                    "is required to acknowledge or resolve",
                ));
            }
            (None, _) => {}
        }
        let fingerprint = dedup.unwrap_or_else(|| labels_fingerprint(&labels));
        if title.is_empty() {
            title = fingerprint.clone();
        }
        Ok(Alert {
            status,
            fingerprint,
            title,
            severity,
            link: self
                .links
                .first()
                .map(|l| l.href.clone())
                .or_else(|| self.client_url.clone()),
            started_at,
            labels,
            annotations: BTreeMap::new(),
            raw,
        })
    }
}

/// Where a generic source's body keeps each field: dotted paths (`alert.title`,
/// `items[0].id`, a leading `$.` allowed). Absent paths take defaults: the title from
/// `title`, the fingerprint from the labels' hash, no severity or link.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldMap {
    /// The title's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The severity's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// The fingerprint's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The path of an object whose string (or scalar) values are the labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<String>,
    /// The link's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The status's path; a value of `resolved`, `resolve`, `ok` or `closed` resolves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// The value at a dotted path (`a.b[0].c`, `a.b.0.c`, `$.a`), if any.
pub fn at_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let path = path.trim().trim_start_matches('$').trim_start_matches('.');
    let mut cur = v;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            cur = match (cur, name.parse::<usize>()) {
                (Value::Array(a), Ok(i)) => a.get(i)?,
                _ => cur.get(name)?,
            };
        }
        for idx in indexes.split('[').filter(|s| !s.is_empty()) {
            let i: usize = idx.trim_end_matches(']').parse().ok()?;
            cur = cur.get(i)?;
        }
    }
    Some(cur)
}

/// A scalar as text.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl FieldMap {
    /// Checks every path is written sensibly (non-empty); `field` names the map.
    pub fn check(&self, field: &str) -> Result<(), crate::ValidationError> {
        let mut e = crate::ValidationError::default();
        for (name, p) in [
            ("title", &self.title),
            ("severity", &self.severity),
            ("fingerprint", &self.fingerprint),
            ("labels", &self.labels),
            ("link", &self.link),
            ("status", &self.status),
        ] {
            if p.as_deref()
                .is_some_and(|p| p.trim().is_empty() || p.len() > 200)
            {
                e.push(
                    format!("{field}.{name}"),
                    "must be a path like `alert.title` (1-200 characters)",
                );
            }
        }
        e.into_result()
    }

    /// Reads one generic alert from any JSON object with these paths.
    pub fn read(&self, raw: Value) -> Alert {
        let get = |p: &Option<String>, default: &str| {
            at_path(&raw, p.as_deref().unwrap_or(default)).and_then(scalar)
        };
        let mut labels = BTreeMap::new();
        let label_obj = at_path(&raw, self.labels.as_deref().unwrap_or("labels"));
        if let Some(Value::Object(m)) = label_obj {
            for (k, v) in m {
                if let Some(s) = scalar(v) {
                    labels.insert(k.clone(), s);
                }
            }
        }
        let status = match get(&self.status, "status").map(|s| s.to_lowercase()) {
            Some(s) if matches!(s.as_str(), "resolved" | "resolve" | "ok" | "closed") => {
                AlertStatus::Resolved
            }
            Some(s) if matches!(s.as_str(), "acknowledged" | "acknowledge") => {
                AlertStatus::Acknowledged
            }
            _ => AlertStatus::Firing,
        };
        let title = get(&self.title, "title")
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| title_of(&BTreeMap::new(), &labels));
        Alert {
            status,
            fingerprint: get(&self.fingerprint, "fingerprint")
                .filter(|f| !f.trim().is_empty())
                .unwrap_or_else(|| labels_fingerprint(&labels)),
            title,
            severity: get(&self.severity, "severity"),
            link: get(&self.link, "link"),
            started_at: None,
            labels,
            annotations: BTreeMap::new(),
            raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_alertmanager_alert_reads_its_fingerprint_title_and_severity() {
        let raw = json!({"status": "firing", "labels": {"alertname": "HighErrorRate", "severity": "critical"},
            "annotations": {"summary": "5xx above 5%"}, "startsAt": "2026-12-03T06:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://p/graph", "fingerprint": "c0ffee"});
        let a: AlertmanagerAlert = serde_json::from_value(raw.clone()).unwrap();
        let alert = a.to_alert(raw).unwrap();
        assert_eq!(alert.fingerprint, "c0ffee");
        assert_eq!(alert.title, "5xx above 5%");
        assert_eq!(alert.severity.as_deref(), Some("critical"));
        assert_eq!(alert.status, AlertStatus::Firing);
        assert!(alert.started_at.is_some());
    }

    #[test]
    fn without_a_fingerprint_the_labels_give_one() {
        let raw = json!({"status": "resolved", "labels": {"a": "1"}});
        let a: AlertmanagerAlert = serde_json::from_value(raw.clone()).unwrap();
        let one = a.to_alert(raw.clone()).unwrap();
        assert_eq!(one.fingerprint.len(), 16);
        assert_eq!(one.fingerprint, a.to_alert(raw).unwrap().fingerprint);
        assert_eq!(one.status, AlertStatus::Resolved);
    }

    #[test]
    fn a_pagerduty_trigger_reads_its_payload_and_a_resolve_needs_its_dedup_key() {
        let raw = json!({"routing_key": "R0123456789abcdef0123456789abcdef", "event_action": "trigger",
            "dedup_key": "disk-42", "payload": {"summary": "Disk full on db1", "source": "db1",
            "severity": "critical", "custom_details": {"free": "1%", "nested": {"x": 1}}},
            "links": [{"href": "https://example.com/disk", "text": "graph"}]});
        let e: PagerDutyEvent = serde_json::from_value(raw.clone()).unwrap();
        let a = e.to_alert(raw).unwrap();
        assert_eq!(a.fingerprint, "disk-42");
        assert_eq!(a.title, "Disk full on db1");
        assert_eq!(a.labels.get("source").map(String::as_str), Some("db1"));
        assert_eq!(a.labels.get("free").map(String::as_str), Some("1%"));
        assert!(!a.labels.contains_key("nested"));
        assert!(a.raw.get("routing_key").is_none(), "the key is not kept");
        assert_eq!(a.link.as_deref(), Some("https://example.com/disk"));
        let resolve = json!({"routing_key": "R", "event_action": "resolve"});
        let e: PagerDutyEvent = serde_json::from_value(resolve.clone()).unwrap();
        assert_eq!(
            e.to_alert(resolve).unwrap_err().fields[0].field,
            "dedup_key"
        );
        let bad = json!({"event_action": "trigger", "payload": {"summary": "s", "source": "x", "severity": "sev1"}});
        let e: PagerDutyEvent = serde_json::from_value(bad.clone()).unwrap();
        assert_eq!(
            e.to_alert(bad).unwrap_err().fields[0].field,
            "payload.severity"
        );
    }

    #[test]
    fn generic_paths_read_nested_values() {
        let body = json!({"alert": {"name": "Disk full", "id": 42, "tags": {"host": "db1"}},
            "items": [{"url": "http://x"}], "state": "ok"});
        let map = FieldMap {
            title: Some("$.alert.name".into()),
            fingerprint: Some("alert.id".into()),
            labels: Some("alert.tags".into()),
            link: Some("items[0].url".into()),
            status: Some("state".into()),
            ..Default::default()
        };
        let a = map.read(body);
        assert_eq!(a.title, "Disk full");
        assert_eq!(a.fingerprint, "42");
        assert_eq!(a.labels.get("host").map(String::as_str), Some("db1"));
        assert_eq!(a.link.as_deref(), Some("http://x"));
        assert_eq!(a.status, AlertStatus::Resolved);
    }
}
