//! The `[pagerduty]` and `[opsgenie]` tables: the external on-call providers' settings
//! (`DISPATCH_PAGERDUTY_*`, `DISPATCH_OPSGENIE_*`). Keys, tokens and secrets are hidden from
//! `Debug` and `config show`.

use dispatch_providers::opsgenie::OpsgenieSettings;
use dispatch_providers::pagerduty::{parse_routing_keys, PagerDutySettings};
use serde::{Deserialize, Serialize};

/// The `DISPATCH_*` variables of these tables and their settings' keys.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("DISPATCH_PAGERDUTY_API_TOKEN", "pagerduty.api_token"),
    ("DISPATCH_PAGERDUTY_FROM", "pagerduty.from"),
    ("DISPATCH_PAGERDUTY_ROUTING_KEY", "pagerduty.routing_key"),
    ("DISPATCH_PAGERDUTY_ROUTING_KEYS", "pagerduty.routing_keys"),
    ("DISPATCH_PAGERDUTY_API_URL", "pagerduty.api_url"),
    ("DISPATCH_PAGERDUTY_EVENTS_URL", "pagerduty.events_url"),
    (
        "DISPATCH_PAGERDUTY_WEBHOOK_SECRET",
        "pagerduty.webhook_secret",
    ),
    ("DISPATCH_OPSGENIE_API_KEY", "opsgenie.api_key"),
    ("DISPATCH_OPSGENIE_REGION", "opsgenie.region"),
    ("DISPATCH_OPSGENIE_API_URL", "opsgenie.api_url"),
];

/// `***` for a secret that is set, empty for one that is not.
pub(crate) fn hidden(secret: &str) -> String {
    if secret.is_empty() {
        String::new()
    } else {
        "***".into()
    }
}

/// The `[pagerduty]` table.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct PagerDutyConfig {
    /// A REST API key (who is on call).
    pub api_token: String,
    /// The `From` e-mail of a PagerDuty user, sent with REST calls.
    pub from: String,
    /// The Events API v2 routing key (integration key) for services without their own.
    pub routing_key: String,
    /// Routing keys per Dispatch service (by name or external id): `payments=KEY, db=KEY`.
    pub routing_keys: String,
    /// The REST API; empty: `https://api.pagerduty.com`.
    pub api_url: String,
    /// The Events API; empty: `https://events.pagerduty.com`.
    pub events_url: String,
    /// The v3 webhook subscription's signing secret (acknowledgements).
    pub webhook_secret: String,
}

impl std::fmt::Debug for PagerDutyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PagerDutyConfig")
            .field("api_token", &hidden(&self.api_token))
            .field("from", &self.from)
            .field("routing_key", &hidden(&self.routing_key))
            .field("routing_keys", &hidden(&self.routing_keys))
            .field("api_url", &self.api_url)
            .field("events_url", &self.events_url)
            .field("webhook_secret", &hidden(&self.webhook_secret))
            .finish()
    }
}

impl PagerDutyConfig {
    /// The provider's settings, or `None` when neither an API token nor a routing key is set;
    /// bad routing keys are an error naming the setting.
    pub fn settings(&self, base_url: &str) -> anyhow::Result<Option<PagerDutySettings>> {
        if self.api_token.trim().is_empty()
            && self.routing_key.trim().is_empty()
            && self.routing_keys.trim().is_empty()
        {
            return Ok(None);
        }
        let mut s = PagerDutySettings::new(self.api_token.trim(), self.from.trim());
        if !self.api_url.trim().is_empty() {
            s.api_url = self.api_url.trim().into();
        }
        if !self.events_url.trim().is_empty() {
            s.events_url = self.events_url.trim().into();
        }
        s.routing_key = Some(self.routing_key.trim().to_string()).filter(|k| !k.is_empty());
        s.routing_keys = parse_routing_keys(&self.routing_keys).map_err(|e| {
            anyhow::anyhow!("pagerduty.routing_keys (DISPATCH_PAGERDUTY_ROUTING_KEYS): {e}")
        })?;
        s.base_url = base_url.into();
        Ok(Some(s))
    }

    /// The webhook's settings, when a signing secret is set.
    pub fn webhook(&self) -> Option<dispatch_web::api::pagerduty::PagerDutyWebhook> {
        (!self.webhook_secret.is_empty()).then(|| dispatch_web::api::pagerduty::PagerDutyWebhook {
            secret: self.webhook_secret.clone(),
        })
    }

    /// Hides the secrets (for `config show`).
    pub fn redact(&mut self) {
        for s in [
            &mut self.api_token,
            &mut self.routing_key,
            &mut self.routing_keys,
            &mut self.webhook_secret,
        ] {
            *s = hidden(s);
        }
    }
}

/// The `[opsgenie]` table.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct OpsgenieConfig {
    /// An API integration's key (`GenieKey`).
    pub api_key: String,
    /// `us` (default) or `eu`.
    pub region: String,
    /// The API's base URL; overrides the region's (e.g. a test emulator).
    pub api_url: String,
}

impl std::fmt::Debug for OpsgenieConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsgenieConfig")
            .field("api_key", &hidden(&self.api_key))
            .field("region", &self.region)
            .field("api_url", &self.api_url)
            .finish()
    }
}

impl OpsgenieConfig {
    /// The provider's settings, or `None` when no API key is set; an unknown region is an
    /// error naming the setting.
    pub fn settings(&self) -> anyhow::Result<Option<OpsgenieSettings>> {
        if self.api_key.trim().is_empty() {
            return Ok(None);
        }
        let mut s = OpsgenieSettings::for_region(self.api_key.trim(), &self.region)
            .map_err(|e| anyhow::anyhow!("opsgenie.region (DISPATCH_OPSGENIE_REGION): {e}"))?;
        if !self.api_url.trim().is_empty() {
            s.api_url = self.api_url.trim().into();
        }
        Ok(Some(s))
    }

    /// Hides the key (for `config show`).
    pub fn redact(&mut self) {
        self.api_key = hidden(&self.api_key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_set_means_no_provider_and_bad_values_name_their_setting() {
        assert!(PagerDutyConfig::default()
            .settings("http://x")
            .unwrap()
            .is_none());
        assert!(OpsgenieConfig::default().settings().unwrap().is_none());
        let pd = PagerDutyConfig {
            api_token: "t".into(),
            routing_keys: "payments".into(),
            ..Default::default()
        };
        let e = pd.settings("http://x").unwrap_err().to_string();
        assert!(e.contains("DISPATCH_PAGERDUTY_ROUTING_KEYS"), "{e}");
        let og = OpsgenieConfig {
            api_key: "k".into(),
            region: "mars".into(),
            ..Default::default()
        };
        let e = og.settings().unwrap_err().to_string();
        assert!(e.contains("DISPATCH_OPSGENIE_REGION"), "{e}");
    }

    #[test]
    fn secrets_are_hidden() {
        let mut pd = PagerDutyConfig {
            api_token: "u+token-value".into(),
            routing_key: "routing-value".into(),
            webhook_secret: "secret-value".into(),
            from: "ops@example.com".into(),
            ..Default::default()
        };
        let shown = format!("{pd:?}");
        assert!(
            !shown.contains("-value") && shown.contains("ops@example.com"),
            "{shown}"
        );
        pd.redact();
        assert_eq!(
            (pd.api_token.as_str(), pd.routing_keys.as_str()),
            ("***", "")
        );
        let mut og = OpsgenieConfig {
            api_key: "key".into(),
            ..Default::default()
        };
        og.redact();
        assert_eq!(og.api_key, "***");
    }
}
