//! Signals and cases: the closed sets of the pipeline (sources, case statuses, filter actions
//! and modes, resolution reasons), the label matcher a definition or filter selects alerts with,
//! and (in [`payload`]) the alert bodies of the tools that send them, read into one [`Alert`].

pub mod entity;
pub mod matcher;
pub mod payload;
pub mod signature;

pub use entity::{Entity, EntityType, Extractor};
pub use matcher::{LabelMatcher, Matchers, Op};
pub use payload::{Alert, AlertStatus, FieldMap};

use crate::enums::{string_enum, UnknownVariant};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

string_enum!(
    /// The tool a signal comes from: each has its own endpoint under `/api/v1/signals/`.
    SignalSource {
        /// Prometheus Alertmanager's webhook (version 4).
        Alertmanager => "alertmanager",
        /// Grafana Alerting's webhook contact point.
        Grafana => "grafana",
        /// A PagerDuty Events API v2 body.
        Pagerduty => "pagerduty",
        /// Any JSON, read through the definition's field paths.
        Generic => "generic",
    }
);

string_enum!(
    /// Where a case is in its life cycle.
    CaseStatus {
        /// Opened by a signal; nobody looked yet.
        New => "new",
        /// Someone is looking.
        Triage => "triage",
        /// Became an incident.
        Escalated => "escalated",
        /// The impact is contained.
        Stable => "stable",
        /// Done, with a resolution.
        Closed => "closed",
    }
);

string_enum!(
    /// Where a signal instance stands, as its source last said.
    InstanceStatus {
        /// Firing (or triggered).
        Firing => "firing",
        /// Acknowledged at the source.
        Acknowledged => "acknowledged",
        /// Over.
        Resolved => "resolved",
    }
);

string_enum!(
    /// What a filter did to a signal instance.
    FilterAction {
        /// Nothing: the instance stands on its own (and opened a case if its definition does).
        None => "none",
        /// The same alert (same fingerprint) arrived within the window: it joins the first one's case.
        Deduplicate => "deduplicate",
        /// A snooze filter matched: the instance is kept, no case is opened.
        Snooze => "snooze",
    }
);

string_enum!(
    /// Whether a filter acts.
    FilterMode {
        /// It acts.
        Active => "active",
        /// It only records what it would have done.
        Monitor => "monitor",
        /// It is off.
        Inactive => "inactive",
        /// Its expiry passed.
        Expired => "expired",
    }
);

string_enum!(
    /// What kind of filter.
    FilterKind {
        /// Drops alerts matching its expression into no case until it expires.
        Snooze => "snooze",
        /// Deduplicates alerts matching its expression within its own window.
        Deduplicate => "deduplicate",
    }
);

string_enum!(
    /// Why a case was closed (the original Dispatch's list).
    ResolutionReason {
        /// Nothing was wrong.
        Benign => "benign",
        /// The threat was contained.
        Contained => "contained",
        /// It became an incident.
        Escalated => "escalated",
        /// The signal was wrong.
        FalsePositive => "false_positive",
        /// Looked into for information only.
        InformationGathered => "information_gathered",
        /// Not enough to go on.
        InsufficientInformation => "insufficient_information",
        /// The impact was mitigated.
        Mitigated => "mitigated",
        /// An operational mistake.
        OperationalError => "operational_error",
        /// A policy was broken.
        PolicyViolation => "policy_violation",
        /// The user acknowledged it.
        UserAcknowledged => "user_acknowledged",
    }
);

impl CaseStatus {
    /// Whether a case may move from this status to `to`: new → triage; new or triage →
    /// escalated; escalated → stable; anything open → closed.
    pub fn may_become(self, to: CaseStatus) -> bool {
        use CaseStatus::*;
        matches!(
            (self, to),
            (New, Triage)
                | (New | Triage, Escalated)
                | (Escalated, Stable)
                | (New | Triage | Escalated | Stable, Closed)
        )
    }
}

/// What happened to one alert.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new instance that opened a new case.
    NewCase,
    /// A new instance (its definition opens no case).
    NewInstance,
    /// The same alert within the window: a new instance on the first one's case.
    Deduplicated,
    /// An active snooze filter held: the instance opens no case.
    Snoozed,
    /// No enabled definition of this source matched; nothing was stored.
    NoDefinitionMatched,
    /// A resolved alert: its firing instances are resolved.
    Resolved,
    /// An acknowledged alert: its firing instances are marked acknowledged.
    Acknowledged,
    /// A resolved (or acknowledged) alert with no firing instance; nothing was stored.
    NothingFiring,
}

impl Outcome {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::NewCase => "new_case",
            Outcome::NewInstance => "new_instance",
            Outcome::Deduplicated => "deduplicated",
            Outcome::Snoozed => "snoozed",
            Outcome::NoDefinitionMatched => "no_definition_matched",
            Outcome::Resolved => "resolved",
            Outcome::Acknowledged => "acknowledged",
            Outcome::NothingFiring => "nothing_firing",
        }
    }
}

/// The answer for one alert.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlertResult {
    /// Its position in the request.
    pub index: usize,
    /// Its fingerprint.
    pub fingerprint: String,
    /// What happened.
    pub outcome: Outcome,
    /// The definition it matched.
    pub definition_id: Option<i64>,
    /// The instance stored for it.
    pub instance_id: Option<i64>,
    /// The first instance of the alert, when deduplicated.
    pub duplicate_of: Option<i64>,
    /// The case it opened or joined.
    pub case_id: Option<i64>,
    /// The filter that acted (deduplicate or snooze).
    pub filter_id: Option<i64>,
    /// A monitor-mode filter that would have acted.
    pub monitored_by: Option<i64>,
    /// The instances a resolved or acknowledged alert changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<i64>,
}

/// The default deduplication window of a definition, in seconds.
pub const DEFAULT_DEDUP_WINDOW: i64 = 3600;

/// How long a case's snooze lasts: a number and a unit (`30m`, `2h`, `1d`; `s`, `m`, `h`, `d`),
/// from one minute to 30 days.
pub fn parse_snooze(field: &str, raw: &str) -> Result<chrono::Duration, crate::ValidationError> {
    let bad = || {
        crate::ValidationError::field(
            field,
            format!("{raw:?} is not a length like 30m, 2h or 1d (one minute to 30 days)"),
        )
    };
    let raw_t = raw.trim();
    let split = raw_t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = raw_t.split_at(split);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let secs = match unit.trim() {
        "s" => Some(n),
        "m" | "min" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        "d" => n.checked_mul(86_400),
        _ => None,
    }
    .ok_or_else(bad)?;
    if !(60..=30 * 86_400).contains(&secs) {
        return Err(bad());
    }
    Ok(chrono::Duration::seconds(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_moves_forward_only_and_closes_from_any_open_status() {
        assert!(CaseStatus::New.may_become(CaseStatus::Triage));
        assert!(CaseStatus::Triage.may_become(CaseStatus::Escalated));
        assert!(CaseStatus::Stable.may_become(CaseStatus::Closed));
        assert!(!CaseStatus::Closed.may_become(CaseStatus::Closed));
        assert!(!CaseStatus::Escalated.may_become(CaseStatus::Triage));
        assert_eq!(
            "false_positive".parse::<ResolutionReason>(),
            Ok(ResolutionReason::FalsePositive)
        );
        assert!("nope".parse::<FilterMode>().is_err());
    }

    #[test]
    fn a_snooze_is_a_number_and_a_unit_within_thirty_days() {
        assert_eq!(parse_snooze("d", "30m").unwrap().num_seconds(), 1800);
        assert_eq!(parse_snooze("d", " 2h").unwrap().num_seconds(), 7200);
        assert_eq!(parse_snooze("d", "30d").unwrap().num_days(), 30);
        for bad in [
            "",
            "h",
            "2",
            "31d",
            "10s",
            "2 weeks",
            "-1h",
            "99999999999999999999d",
        ] {
            assert!(parse_snooze("d", bad).is_err(), "{bad}");
        }
    }
}
