//! Configuration: defaults < `dispatch.toml` < `DISPATCH_*` environment variables < flags, merged
//! by figment and read into [`Config`].

use anyhow::Context;
use dispatch_providers::smtp::{SmtpSettings, SmtpTls};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The server's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite://PATH` (embedded default) or `postgres://USER:PASSWORD@HOST/DB`.
    pub database_url: String,
    /// Address to listen on.
    pub listen: String,
    /// `pretty` or `json`.
    pub log_format: String,
    /// A tracing filter, e.g. `info` or `dispatch=debug,info`.
    pub log_level: String,
    /// E-mail of the admin whose token is printed on the first start.
    pub admin_email: String,
    /// The URL people use to reach this server (links in rooms and documents); derived from
    /// `listen` when empty.
    pub public_url: String,
    /// Link template of the built-in conference provider; `{{slug}}` is a per-incident room.
    pub conference_template: String,
    /// Longest a job may run; a job claimed longer than twice this by a worker that stopped
    /// answering is taken over by another.
    pub job_timeout_seconds: u64,
    /// Jobs one process runs at once (each waits mostly on the database and on providers).
    pub job_concurrency: u64,
    /// Periodic work: schedule name → cron expression (blank = off).
    pub schedules: std::collections::BTreeMap<String, String>,
    /// The SMTP server mail goes to; with no host, mail stays in the outbox.
    pub smtp: SmtpConfig,
    /// The Slack app: tokens and where the Web API is.
    pub slack: SlackConfig,
    /// Microsoft Teams: the bot and the team (see [`crate::teams_config`]).
    pub teams: crate::teams_config::TeamsConfig,
    /// The Matrix bot: its homeserver and sign-in (see [`crate::matrix_config`]).
    pub matrix: crate::matrix_config::MatrixConfig,
    /// The default provider per capability (`conversation = "dispatch-room"`, …); projects may
    /// choose others. A capability left out uses its built-in provider (SMTP for e-mail when a
    /// host is set).
    pub providers: std::collections::BTreeMap<String, String>,
    /// Sign-in: sessions, trusted header, OIDC.
    pub auth: crate::auth_config::AuthConfig,
    /// Secrets at rest: the key they are sealed with.
    pub security: SecurityConfig,
    /// PagerDuty: on-call look-ups and pages (see [`crate::oncall_config`]).
    pub pagerduty: crate::oncall_config::PagerDutyConfig,
    /// Opsgenie: on-call look-ups and alerts.
    pub opsgenie: crate::oncall_config::OpsgenieConfig,
    /// Jira: tickets (see [`crate::vendor_config`]).
    pub jira: crate::vendor_config::JiraConfig,
    /// Zoom: conference bridges.
    pub zoom: crate::vendor_config::ZoomConfig,
    /// Confluence: documents (see [`crate::confluence_config`]).
    pub confluence: crate::confluence_config::ConfluenceConfig,
    /// Google Workspace: storage, documents and groups (see [`crate::google_config`]).
    pub google: crate::google_config::GoogleConfig,
    /// The signal endpoints (`/api/v1/signals/…`).
    pub signals: SignalsConfig,
}

/// The `[signals]` table. The signing secrets are hidden from `Debug` and `config show`.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SignalsConfig {
    /// Requests per second each sender may make to each signal endpoint; 0: no limit.
    pub rate_limit_per_second: f64,
    /// Requests at once above that rate.
    pub rate_limit_burst: u32,
    /// Signing secrets by source (`alertmanager`) or project and source (`security/generic`):
    /// that source's requests must be signed (docs/signals.md).
    pub signing_secrets: std::collections::BTreeMap<String, String>,
}

impl std::fmt::Debug for SignalsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalsConfig")
            .field("rate_limit_per_second", &self.rate_limit_per_second)
            .field("rate_limit_burst", &self.rate_limit_burst)
            .field(
                "signing_secrets",
                &self.signing_secrets.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl SignalsConfig {
    /// The web layer's rate, when one is set.
    pub fn rate(&self) -> Option<dispatch_web::api::signal_limit::SignalRate> {
        (self.rate_limit_per_second > 0.0).then_some(dispatch_web::api::signal_limit::SignalRate {
            per_second: self.rate_limit_per_second,
            burst: self.rate_limit_burst.max(1),
        })
    }
}

/// The `[security]` table. The key is hidden from `Debug` and `config show`.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// The key secrets in the database are sealed with: 32 bytes in base64
    /// (`openssl rand -base64 32`). Empty: read from (or, on the first start, generated into)
    /// `secret_key_file`.
    pub secret_key: String,
    /// Where the key is kept when `secret_key` is empty; empty: `dispatch.secret.key` beside
    /// the SQLite database file (in the working directory for PostgreSQL).
    pub secret_key_file: String,
}

impl std::fmt::Debug for SecurityConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecurityConfig")
            .field("secret_key", &redact_secret(&self.secret_key))
            .field("secret_key_file", &self.secret_key_file)
            .finish()
    }
}

/// The `[slack]` table. Tokens and the signing secret are hidden from `Debug` and `config show`.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct SlackConfig {
    /// The bot token, `xoxb-…`.
    pub bot_token: String,
    /// The signing secret requests from Slack are verified with.
    pub signing_secret: String,
    /// The app-level token, `xapp-…`, for Socket Mode.
    pub app_token: String,
    /// The Web API's base URL.
    pub api_url: String,
    /// The reaction (its name, without colons) that puts a message on the timeline.
    pub reaction: String,
}

impl Default for SlackConfig {
    fn default() -> Self {
        Self {
            bot_token: String::new(),
            signing_secret: String::new(),
            app_token: String::new(),
            api_url: dispatch_slack::api::DEFAULT_API_URL.into(),
            reaction: "stopwatch".into(),
        }
    }
}

impl std::fmt::Debug for SlackConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackConfig")
            .field("bot_token", &redact_secret(&self.bot_token))
            .field("signing_secret", &redact_secret(&self.signing_secret))
            .field("app_token", &redact_secret(&self.app_token))
            .field("api_url", &self.api_url)
            .field("reaction", &self.reaction)
            .finish()
    }
}

/// The `[smtp]` table. The password is hidden from `Debug` and `config show`.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    /// Server name or address; empty keeps mail in the outbox (`GET /api/v1/outbox`).
    pub host: String,
    /// Server port.
    pub port: u16,
    /// `starttls` (upgrade required), `tls` (SMTPS) or `none` (trusted local relays only).
    pub tls: String,
    /// Login name; empty sends without logging in.
    pub username: String,
    /// Login password.
    pub password: String,
    /// The sender, `dispatch@example.com` or `Dispatch <dispatch@example.com>`.
    pub from: String,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            tls: "starttls".into(),
            username: String::new(),
            password: String::new(),
            from: "dispatch@localhost".into(),
        }
    }
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &redact_secret(&self.password))
            .field("from", &self.from)
            .finish()
    }
}

/// `***` for a secret that is set, empty for one that is not.
fn redact_secret(secret: &str) -> &'static str {
    if secret.is_empty() {
        ""
    } else {
        "***"
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://dispatch.db".into(),
            listen: "127.0.0.1:8080".into(),
            log_format: "pretty".into(),
            log_level: "info".into(),
            admin_email: "admin@dispatch.local".into(),
            public_url: String::new(),
            conference_template: "https://meet.jit.si/{{slug}}".into(),
            job_timeout_seconds: 60,
            job_concurrency: 8,
            schedules: [
                ("cleanup_jobs", "0 3 * * *"),
                ("task_reminders", "0 * * * *"),
                ("report_reminders", "*/10 * * * *"),
                ("close_reminders", "0 18 * * *"),
                ("daily_digest", "0 18 * * *"),
                ("weekly_report", "0 8 * * 1"),
                ("calculate_costs", "0 * * * *"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            smtp: SmtpConfig::default(),
            slack: SlackConfig::default(),
            teams: Default::default(),
            matrix: Default::default(),
            providers: Default::default(),
            auth: Default::default(),
            security: Default::default(),
            pagerduty: Default::default(),
            opsgenie: Default::default(),
            jira: Default::default(),
            zoom: Default::default(),
            confluence: Default::default(),
            google: Default::default(),
            signals: Default::default(),
        }
    }
}

/// Values given as flags; each overrides the file and the environment.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--listen`.
    pub listen: Option<String>,
    /// `--log-format`.
    pub log_format: Option<String>,
}

/// The `DISPATCH_*` variables that carry one setting each, and the setting's key. Empty ones
/// count as unset. (Providers and schedules are per name, below.)
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "DISPATCH_SIGNALS_RATE_LIMIT_PER_SECOND",
        "signals.rate_limit_per_second",
    ),
    (
        "DISPATCH_SIGNALS_RATE_LIMIT_BURST",
        "signals.rate_limit_burst",
    ),
    ("DISPATCH_DATABASE_URL", "database_url"),
    ("DISPATCH_LISTEN", "listen"),
    ("DISPATCH_LOG_FORMAT", "log_format"),
    ("DISPATCH_LOG", "log_level"),
    ("DISPATCH_ADMIN_EMAIL", "admin_email"),
    ("DISPATCH_PUBLIC_URL", "public_url"),
    ("DISPATCH_CONFERENCE_TEMPLATE", "conference_template"),
    ("DISPATCH_JOB_TIMEOUT_SECONDS", "job_timeout_seconds"),
    ("DISPATCH_JOB_CONCURRENCY", "job_concurrency"),
    ("DISPATCH_SMTP_HOST", "smtp.host"),
    ("DISPATCH_SMTP_PORT", "smtp.port"),
    ("DISPATCH_SMTP_TLS", "smtp.tls"),
    ("DISPATCH_SMTP_USERNAME", "smtp.username"),
    ("DISPATCH_SMTP_PASSWORD", "smtp.password"),
    ("DISPATCH_SMTP_FROM", "smtp.from"),
    ("DISPATCH_SLACK_BOT_TOKEN", "slack.bot_token"),
    ("DISPATCH_SLACK_SIGNING_SECRET", "slack.signing_secret"),
    ("DISPATCH_SLACK_APP_TOKEN", "slack.app_token"),
    ("DISPATCH_SLACK_API_URL", "slack.api_url"),
    ("DISPATCH_SLACK_REACTION", "slack.reaction"),
    ("DISPATCH_SECRET_KEY", "security.secret_key"),
    ("DISPATCH_SECRET_KEY_FILE", "security.secret_key_file"),
    ("DISPATCH_SESSION_IDLE_MINUTES", "auth.session_idle_minutes"),
    (
        "DISPATCH_SESSION_LIFETIME_HOURS",
        "auth.session_lifetime_hours",
    ),
    ("DISPATCH_TRUSTED_HEADER", "auth.trusted_header"),
    ("DISPATCH_TRUSTED_PROXIES", "auth.trusted_proxies"),
    ("DISPATCH_OIDC_ISSUER", "auth.oidc.issuer"),
    ("DISPATCH_OIDC_CLIENT_ID", "auth.oidc.client_id"),
    ("DISPATCH_OIDC_CLIENT_SECRET", "auth.oidc.client_secret"),
    ("DISPATCH_OIDC_SCOPES", "auth.oidc.scopes"),
    ("DISPATCH_OIDC_EMAIL_CLAIM", "auth.oidc.email_claim"),
];

/// The settings that are provider credentials, by variable name. Each may also be kept in the
/// database sealed with the server's secret key (`dispatch providers secret set NAME`); a value
/// from the file or the environment comes first.
pub const CREDENTIALS: &[&str] = &[
    "DISPATCH_JIRA_API_TOKEN",
    "DISPATCH_JIRA_PAT",
    "DISPATCH_ZOOM_CLIENT_SECRET",
    "DISPATCH_CONFLUENCE_API_TOKEN",
    "DISPATCH_GOOGLE_SERVICE_ACCOUNT_KEY",
    "DISPATCH_PAGERDUTY_API_TOKEN",
    "DISPATCH_PAGERDUTY_ROUTING_KEY",
    "DISPATCH_PAGERDUTY_WEBHOOK_SECRET",
    "DISPATCH_OPSGENIE_API_KEY",
    "DISPATCH_SLACK_BOT_TOKEN",
    "DISPATCH_SLACK_SIGNING_SECRET",
    "DISPATCH_SLACK_APP_TOKEN",
    "DISPATCH_TEAMS_APP_PASSWORD",
    "DISPATCH_MATRIX_ACCESS_TOKEN",
    "DISPATCH_MATRIX_PASSWORD",
    "DISPATCH_SMTP_PASSWORD",
    "DISPATCH_OIDC_CLIENT_SECRET",
];

/// The setting key (`jira.api_token`) of a credential's variable name, if it is one.
pub fn credential_key(name: &str) -> Option<&'static str> {
    let name = name.trim().to_ascii_uppercase();
    CREDENTIALS.iter().find(|c| **c == name)?;
    ENVIRONMENT
        .iter()
        .chain(crate::oncall_config::ENVIRONMENT)
        .chain(crate::vendor_config::ENVIRONMENT)
        .chain(crate::confluence_config::ENVIRONMENT)
        .chain(crate::google_config::ENVIRONMENT)
        .chain(crate::teams_config::ENVIRONMENT)
        .chain(crate::matrix_config::ENVIRONMENT)
        .find(|(var, _)| *var == name)
        .map(|(_, key)| *key)
}

/// An environment variable's value as the setting `key` takes it: numbers checked here (so the
/// error names the variable), proxy lists split at commas, everything else a string as it is.
fn environment_value(var: &str, key: &str, v: String) -> anyhow::Result<figment::value::Value> {
    use figment::value::Value;
    let positive = |what: &str| -> anyhow::Result<u64> {
        v.parse()
            .ok()
            .filter(|n| *n > 0)
            .with_context(|| format!("{var} must be {what}, not {v:?}"))
    };
    Ok(match key {
        "job_timeout_seconds" => Value::from(positive("a positive number of seconds")?),
        "job_concurrency" => Value::from(positive("a positive number of jobs")?),
        "smtp.port" => Value::from(
            positive("a port number")
                .ok()
                .and_then(|p| u16::try_from(p).ok())
                .with_context(|| format!("{var} must be a port number, not {v:?}"))?,
        ),
        "auth.session_idle_minutes" | "auth.session_lifetime_hours" => {
            Value::from(positive("a positive number")?)
        }
        "signals.rate_limit_per_second" => Value::from(
            v.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && *n >= 0.0)
                .with_context(|| {
                    format!("{var} must be a number of requests per second, not {v:?}")
                })?,
        ),
        "signals.rate_limit_burst" => Value::from(
            v.parse::<u32>()
                .with_context(|| format!("{var} must be a whole number, not {v:?}"))?,
        ),
        "auth.trusted_proxies" => Value::from(
            v.split(',')
                .map(|s| s.trim().to_string())
                .collect::<Vec<_>>(),
        ),
        _ => Value::from(v),
    })
}

/// A setting figment could not read, told as `key: what is wrong` (every error when several).
fn explain(errors: figment::Error) -> anyhow::Error {
    let told: Vec<String> = errors
        .into_iter()
        .map(|e| match e.path.join(".") {
            key if key.is_empty() => e.kind.to_string(),
            key => format!("{key}: {}", e.kind),
        })
        .collect();
    anyhow::anyhow!("{}", told.join("; "))
}

impl Config {
    /// Loads the layers: defaults, then `path` (or `./dispatch.toml` when present), then the
    /// environment, then flags.
    pub fn load(path: Option<&Path>, flags: &Overrides) -> anyhow::Result<Self> {
        use figment::providers::{Format, Serialized, Toml};
        use figment::Figment;
        let file = match path {
            Some(p) => Some(p),
            None => Some(Path::new("dispatch.toml")).filter(|p| p.exists()),
        };
        let mut layers = Figment::new();
        if let Some(p) = file {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            // Syntax first (toml tells the line and column), then the file alone, so that its
            // mistakes are told as the file's.
            let invalid = || format!("{} is not a valid configuration", p.display());
            text.parse::<toml::Table>().with_context(invalid)?;
            layers = layers.merge(Toml::string(&text));
            layers
                .extract::<Self>()
                .map_err(explain)
                .with_context(invalid)?;
        }
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        for (var, key) in ENVIRONMENT
            .iter()
            .chain(crate::oncall_config::ENVIRONMENT)
            .chain(crate::vendor_config::ENVIRONMENT)
            .chain(crate::confluence_config::ENVIRONMENT)
            .chain(crate::google_config::ENVIRONMENT)
            .chain(crate::teams_config::ENVIRONMENT)
            .chain(crate::matrix_config::ENVIRONMENT)
        {
            if let Some(v) = env(var) {
                let value = environment_value(var, key, v)?;
                layers = layers.merge(Serialized::default(key, value));
            }
        }
        for name in dispatch_core::Capability::NAMES {
            if let Some(v) = env(&format!("DISPATCH_PROVIDERS_{}", name.to_uppercase())) {
                layers = layers.merge(Serialized::default(&format!("providers.{name}"), v));
            }
        }
        for (key, flag) in [
            ("database_url", &flags.database_url),
            ("listen", &flags.listen),
            ("log_format", &flags.log_format),
        ] {
            if let Some(v) = flag {
                layers = layers.merge(Serialized::default(key, v));
            }
        }
        let mut cfg: Self = layers.extract().map_err(explain)?;
        // A schedule set (even blank, which turns it off) joins the others rather than
        // replacing them.
        for (name, _) in dispatch_engine::scheduler::PERIODIC {
            if let Ok(v) = std::env::var(format!("DISPATCH_SCHEDULE_{}", name.to_uppercase())) {
                cfg.schedules.insert(name.to_string(), v);
            }
        }
        cfg.database_url = normalise_database_url(&cfg.database_url);
        anyhow::ensure!(
            cfg.job_timeout_seconds > 0,
            "job_timeout_seconds: must be at least 1"
        );
        anyhow::ensure!(
            cfg.job_concurrency > 0,
            "job_concurrency: must be at least 1"
        );
        cfg.smtp
            .tls
            .parse::<SmtpTls>()
            .map_err(|e| anyhow::anyhow!("smtp.tls: {e}"))?;
        Ok(cfg)
    }

    /// Fills each credential that neither the file nor the environment set from `stored`
    /// (variable name → value, as kept sealed in the database); returns the names it used.
    pub fn use_stored_credentials(
        &mut self,
        stored: &[(String, String)],
    ) -> anyhow::Result<Vec<String>> {
        let mut tree = serde_json::to_value(&*self)?;
        let mut used = Vec::new();
        for (name, value) in stored {
            let Some(key) = credential_key(name) else {
                tracing::warn!(name, "a stored credential no setting takes; ignored");
                continue;
            };
            let slot = key.split('.').try_fold(&mut tree, |v, k| v.get_mut(k));
            if let Some(slot) = slot.filter(|s| s.as_str() == Some("")) {
                *slot = serde_json::Value::from(value.clone());
                used.push(name.clone());
            }
        }
        *self = serde_json::from_value(tree)?;
        Ok(used)
    }

    /// Where the secret key file is: the configured path, else beside the SQLite database.
    pub fn secret_key_path(&self) -> std::path::PathBuf {
        if !self.security.secret_key_file.is_empty() {
            return self.security.secret_key_file.clone().into();
        }
        let file = self
            .database_url
            .strip_prefix("sqlite://")
            .map(|rest| rest.split('?').next().unwrap_or_default())
            .filter(|p| !p.is_empty() && *p != ":memory:")
            .map(std::path::Path::new)
            .and_then(|p| p.parent())
            .map(|dir| dir.join("dispatch.secret.key"));
        file.unwrap_or_else(|| "dispatch.secret.key".into())
    }

    /// The key secrets are sealed with: `[security] secret_key` / `DISPATCH_SECRET_KEY`, else
    /// the key file, which is created with a new random key (readable by its owner only) when
    /// it does not exist yet.
    pub fn secret_key(&self) -> anyhow::Result<dispatch_core::secret::SecretKey> {
        use dispatch_core::secret::SecretKey;
        if !self.security.secret_key.is_empty() {
            return SecretKey::parse(&self.security.secret_key)
                .map_err(|e| anyhow::anyhow!("security.secret_key (DISPATCH_SECRET_KEY): {e}"));
        }
        let path = self.secret_key_path();
        if !path.exists() {
            let key = SecretKey::generate();
            write_private(&path, &key)
                .with_context(|| format!("cannot create the secret key file {}", path.display()))?;
            tracing::warn!(path = %path.display(), "generated a secret key for secrets at rest; back it up with the database (or set DISPATCH_SECRET_KEY)");
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the secret key file {}", path.display()))?;
        SecretKey::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// The public base URL: `public_url`, or `http://` + `listen`.
    pub fn base_url(&self) -> String {
        if self.public_url.is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.public_url.trim_end_matches('/').to_string()
        }
    }

    /// The configured schedules that are on; an unknown name or a bad expression is an error.
    pub fn schedules(&self) -> anyhow::Result<Vec<dispatch_engine::scheduler::Schedule>> {
        let mut out = Vec::new();
        for (name, expr) in &self.schedules {
            if let Some(s) = dispatch_engine::scheduler::Schedule::parse(name, expr)
                .map_err(anyhow::Error::msg)?
            {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// The configuration as TOML with secrets hidden, for `dispatch config show`.
    pub fn redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database_url = dispatch_store::db::redact(&shown.database_url);
        shown.smtp.password = redact_secret(&shown.smtp.password).into();
        shown.security.secret_key = redact_secret(&shown.security.secret_key).into();
        for secret in [
            &mut shown.slack.bot_token,
            &mut shown.slack.signing_secret,
            &mut shown.slack.app_token,
        ] {
            *secret = redact_secret(secret).into();
        }
        shown.auth.oidc.client_secret = redact_secret(&shown.auth.oidc.client_secret).into();
        for secret in shown.signals.signing_secrets.values_mut() {
            *secret = redact_secret(secret).into();
        }
        shown.pagerduty.redact();
        shown.opsgenie.redact();
        shown.jira.redact();
        shown.zoom.redact();
        shown.confluence.redact();
        shown.matrix.redact();
        shown.google.redact();
        shown.teams.redact();
        toml::to_string(&shown).unwrap_or_default()
    }

    /// The Slack transport's settings, when a signing secret is configured.
    pub fn slack_settings(&self) -> Option<dispatch_slack::transport::SlackSettings> {
        (!self.slack.signing_secret.is_empty()).then(|| dispatch_slack::transport::SlackSettings {
            signing_secret: self.slack.signing_secret.clone(),
        })
    }

    /// Makes the `[providers]` choices the registry's defaults; an unknown capability or
    /// provider is an error naming what is known.
    pub fn apply_provider_defaults(
        &self,
        registry: &mut dispatch_core::provider::ProviderRegistry,
    ) -> anyhow::Result<()> {
        for (capability, slug) in &self.providers {
            let c: dispatch_core::Capability = capability.parse().map_err(|e| {
                anyhow::anyhow!("[providers]: unknown capability {capability:?}: {e}")
            })?;
            registry
                .set_default(c, slug)
                .map_err(|e| anyhow::anyhow!("[providers] {capability}: {e}"))?;
        }
        Ok(())
    }

    /// The SMTP provider's settings, or `None` (mail stays in the outbox) when no host is set.
    pub fn smtp_settings(&self) -> anyhow::Result<Option<SmtpSettings>> {
        let c = &self.smtp;
        if c.host.trim().is_empty() {
            return Ok(None);
        }
        let tls = c.tls.parse::<SmtpTls>().map_err(anyhow::Error::msg)?;
        let mut s = SmtpSettings::new(&c.host, c.port, tls, &c.from)
            .map_err(|e| anyhow::anyhow!("[smtp]: {}", e.message))?;
        if !c.username.is_empty() {
            s = s.with_credentials(&c.username, &c.password);
        }
        Ok(Some(s))
    }
}

/// Writes a new file only its owner can read.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")
}

/// Accepts a bare file path (`dispatch.db`) or `sqlite:PATH` as well as full URLs.
pub fn normalise_database_url(url: &str) -> String {
    if url.contains("://") || url.starts_with("sqlite:") {
        url.to_string()
    } else {
        format!("sqlite://{url}")
    }
}

/// The documented sample printed by `dispatch config example`.
pub const EXAMPLE: &str = r#"# dispatch.toml — Dispatch configuration.
# Precedence: built-in defaults < this file < DISPATCH_* environment variables < command-line flags.
# The file is read from --config PATH, or ./dispatch.toml when it exists.

# Database. The embedded default is a SQLite file next to where you run the server.
# For scale-out, use PostgreSQL: postgres://USER:PASSWORD@HOST:5432/DB
# Env: DISPATCH_DATABASE_URL   Flag: --database-url
database_url = "sqlite://dispatch.db"

# Address the HTTP server listens on.
# Env: DISPATCH_LISTEN   Flag: --listen
listen = "127.0.0.1:8080"

# Log output: "pretty" for a terminal, "json" for log collectors.
# Env: DISPATCH_LOG_FORMAT   Flag: --log-format
log_format = "pretty"

# Log filter (tracing syntax), e.g. "info" or "dispatch=debug,info".
# Env: DISPATCH_LOG
log_level = "info"

# The person whose admin API token is printed on the very first start.
# Env: DISPATCH_ADMIN_EMAIL
admin_email = "admin@dispatch.local"

# The URL people use to reach this server, for links in rooms and documents.
# Empty: http:// + listen.   Env: DISPATCH_PUBLIC_URL
public_url = ""

# Built-in conference provider: the meeting link; {{slug}} becomes a per-incident room name.
# Env: DISPATCH_CONFERENCE_TEMPLATE
conference_template = "https://meet.jit.si/{{slug}}"

# Longest a job (one provider call step) may run; a worker that died is replaced after twice this.
# Env: DISPATCH_JOB_TIMEOUT_SECONDS
job_timeout_seconds = 60

# Jobs one process runs at once: they wait mostly on the database's commits and on providers.
# Env: DISPATCH_JOB_CONCURRENCY
job_concurrency = 8

# Periodic work, as cron expressions in UTC (five fields, or six with seconds); "" turns one off.
# It runs on one replica at a time and fires once for periods missed while no replica ran.
# Env: DISPATCH_SCHEDULE_<NAME>, e.g. DISPATCH_SCHEDULE_CLEANUP_JOBS
[schedules]
# Delete succeeded jobs older than seven days.
cleanup_jobs = "0 3 * * *"
# Mail each assignee of overdue tasks one digest a day (checked hourly).
task_reminders = "0 * * * *"
# Remind commanders of tactical/executive reports at the priority's cadence.
report_reminders = "*/10 * * * *"
# Remind commanders of incidents stable for a week or more, once a week.
close_reminders = "0 18 * * *"
# Each notification rule's daily digest: active incidents, and those that became stable or
# closed in the last day.
daily_digest = "0 18 * * *"
# The weekly report of each project whose `weekly_report` setting is on (Mondays 08:00 UTC):
# the week's incidents and metrics, to the project's notification rules' targets.
weekly_report = "0 8 * * 1"
# The response cost of every incident not closed, hourly (and of each incident when it closes).
calculate_costs = "0 * * * *"

# E-mail. With no host, mail stays in Dispatch's outbox, readable at GET /api/v1/outbox.
# With a host, mail goes to that SMTP server (and is recorded in the outbox too).
[smtp]
# Server name or address; "" keeps mail in the outbox.   Env: DISPATCH_SMTP_HOST
host = ""
# Env: DISPATCH_SMTP_PORT (587 for starttls, 465 for tls, 25 for a local relay)
port = 587
# "starttls" (the server must offer STARTTLS), "tls" (TLS from the start, SMTPS) or "none"
# (plain text: only for a relay on the same host).   Env: DISPATCH_SMTP_TLS
tls = "starttls"
# Login; leave username empty to send without logging in. The password is never logged and
# `dispatch config show` hides it.   Env: DISPATCH_SMTP_USERNAME, DISPATCH_SMTP_PASSWORD
username = ""
password = ""
# The sender: "dispatch@example.com" or "Dispatch <dispatch@example.com>".   Env: DISPATCH_SMTP_FROM
from = "dispatch@localhost"

# Slack (see docs/slack.md): the app's tokens and signing secret. With a signing
# secret, /api/v1/slack/{commands,events,interactions} accept Slack's signed requests.
[slack]
# Bot token, xoxb-….   Env: DISPATCH_SLACK_BOT_TOKEN
bot_token = ""
# Signing secret (Basic Information → App Credentials).   Env: DISPATCH_SLACK_SIGNING_SECRET
signing_secret = ""
# App-level token, xapp-…, for Socket Mode (no public URL needed).   Env: DISPATCH_SLACK_APP_TOKEN
app_token = ""
# The Web API.   Env: DISPATCH_SLACK_API_URL
api_url = "https://slack.com/api"
# Reacting to a channel message with this emoji puts it on the timeline.   Env: DISPATCH_SLACK_REACTION
reaction = "stopwatch"

# Microsoft Teams (see docs/teams.md): the Azure Bot's app id and password, the tenant, and
# the team incidents' channels are made in. With an app id, /api/v1/teams/messages takes the
# Bot Connector's activities. Make it the conversation with [providers] conversation = "teams".
[teams]
# Env: DISPATCH_TEAMS_APP_ID, DISPATCH_TEAMS_APP_PASSWORD, DISPATCH_TEAMS_TENANT_ID, DISPATCH_TEAMS_TEAM_ID
app_id = ""
app_password = ""
tenant_id = ""
team_id = ""
# Microsoft's endpoints (override only to test).   Env: DISPATCH_TEAMS_SERVICE_URL,
# DISPATCH_TEAMS_OPENID_URL, DISPATCH_TEAMS_BOT_TOKEN_URL, DISPATCH_TEAMS_LOGIN_URL, DISPATCH_TEAMS_GRAPH_URL
service_url = "https://smba.trafficmanager.net/teams/"
openid_url = "https://login.botframework.com/v1/.well-known/openidconfiguration"
bot_token_url = "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
login_url = "https://login.microsoftonline.com"
graph_url = "https://graph.microsoft.com/v1.0"

# Matrix (see docs/matrix.md): a bot account on a homeserver. With a homeserver set, Matrix is a
# conversation provider ([providers] conversation = "matrix", or per project) and the server
# reads the bot's rooms for `!dispatch …` commands and the timeline reaction.
[matrix]
# The homeserver's URL.   Env: DISPATCH_MATRIX_HOMESERVER
homeserver = ""
# The bot's access token; or leave it empty and give user and password (password login).
# Env: DISPATCH_MATRIX_ACCESS_TOKEN, DISPATCH_MATRIX_USER, DISPATCH_MATRIX_PASSWORD
access_token = ""
user = ""
password = ""
# Reacting to a room message with this emoji puts it on the timeline.   Env: DISPATCH_MATRIX_REACTION
reaction = "⏱"

# PagerDuty as an on-call provider (see docs/providers.md#pagerduty); on when a token or a
# routing key is set. Make it the default with [providers] oncall = "pagerduty".
[pagerduty]
# REST API key (who is on call).   Env: DISPATCH_PAGERDUTY_API_TOKEN
api_token = ""
# The e-mail of a PagerDuty user, sent as `From`.   Env: DISPATCH_PAGERDUTY_FROM
from = ""
# Events API v2 integration keys: a default, and per Dispatch service (name or external id).
# Env: DISPATCH_PAGERDUTY_ROUTING_KEY, DISPATCH_PAGERDUTY_ROUTING_KEYS ("payments=KEY, db=KEY")
routing_key = ""
routing_keys = ""
# The v3 webhook subscription's signing secret (acknowledgements at
# /api/v1/providers/pagerduty/webhook).   Env: DISPATCH_PAGERDUTY_WEBHOOK_SECRET
webhook_secret = ""
# Empty: PagerDuty's own.   Env: DISPATCH_PAGERDUTY_API_URL, DISPATCH_PAGERDUTY_EVENTS_URL
api_url = ""
events_url = ""

# Opsgenie as an on-call provider (see docs/providers.md#opsgenie); on when a key is set.
[opsgenie]
# An API integration's key.   Env: DISPATCH_OPSGENIE_API_KEY
api_key = ""
# "us" or "eu"; api_url (non-empty) overrides it.   Env: DISPATCH_OPSGENIE_REGION, DISPATCH_OPSGENIE_API_URL
region = "us"
api_url = ""

# Jira as a ticket provider (see docs/providers.md#jira); on when a URL is set. Make it the
# default with [providers] ticket = "jira" (Env: DISPATCH_PROVIDERS_TICKET=jira).
[jira]
# The site, e.g. https://example.atlassian.net.   Env: DISPATCH_JIRA_URL
url = ""
# Jira Cloud: an Atlassian account's e-mail and API token.
# Env: DISPATCH_JIRA_EMAIL, DISPATCH_JIRA_API_TOKEN
email = ""
api_token = ""
# Jira Data Center / Server: a personal access token instead.   Env: DISPATCH_JIRA_PAT
pat = ""
# Where issues go.   Env: DISPATCH_JIRA_PROJECT_KEY, DISPATCH_JIRA_ISSUE_TYPE, DISPATCH_JIRA_LABELS
project_key = ""
issue_type = "Task"
labels = "incident"
# The workflow transitions (by name) per incident status; "" makes none. A stable transition
# the workflow lacks is skipped.   Env: DISPATCH_JIRA_TRANSITION_ACTIVE, …_STABLE, …_CLOSED
transition_active = "In Progress"
transition_stable = "Stable"
transition_closed = "Done"

# Zoom as a conference provider (see docs/providers.md#zoom): a Server-to-Server OAuth app's
# credentials; on when they are set. Make it the default with [providers] conference = "zoom".
# Env: DISPATCH_ZOOM_ACCOUNT_ID, DISPATCH_ZOOM_CLIENT_ID, DISPATCH_ZOOM_CLIENT_SECRET
[zoom]
account_id = ""
client_id = ""
client_secret = ""
# Empty: Zoom's own.   Env: DISPATCH_ZOOM_API_URL, DISPATCH_ZOOM_OAUTH_URL
api_url = ""
oauth_url = ""

# Confluence Cloud as a document and storage provider (see docs/providers.md#confluence); on
# when a URL is set. Make it the default with [providers] document = "confluence" (and
# storage = "confluence": files attached to an incident go to its page as attachments).
[confluence]
# The site, e.g. https://example.atlassian.net.   Env: DISPATCH_CONFLUENCE_URL
url = ""
# An Atlassian account's e-mail and API token; empty: Jira Cloud's.
# Env: DISPATCH_CONFLUENCE_EMAIL, DISPATCH_CONFLUENCE_API_TOKEN
email = ""
api_token = ""
# The space's numeric id, and the page new pages go under (empty: the space's home).
# Env: DISPATCH_CONFLUENCE_SPACE_ID, DISPATCH_CONFLUENCE_PARENT_ID
space_id = ""
parent_id = ""
# Template page ids per document; empty: Dispatch's own template.
# Env: DISPATCH_CONFLUENCE_TEMPLATE_INCIDENT, …_REVIEW, …_EXECUTIVE
template_incident = ""
template_review = ""
template_executive = ""

# Google Workspace as the storage, document and group provider (see
# docs/providers.md#google-workspace): a service account with domain-wide delegation acting as
# `subject`; on when a key is set. Make it the default with [providers] storage = "google",
# document = "google", group = "google" (Env: DISPATCH_PROVIDERS_STORAGE=google, …).
[google]
# The JSON key: a file's path or the JSON itself.   Env: DISPATCH_GOOGLE_SERVICE_ACCOUNT_KEY
service_account_key = ""
# The Workspace user Dispatch acts as (an administrator, for groups).   Env: DISPATCH_GOOGLE_SUBJECT
subject = ""
# Where incident folders go (a folder or shared drive id; "" = the subject's My Drive), per
# incident type ("security=ID, payments=ID") and per tag, which goes first ("pci=ID").
# Env: DISPATCH_GOOGLE_FOLDER_ID, DISPATCH_GOOGLE_TYPE_FOLDERS, DISPATCH_GOOGLE_TAG_FOLDERS
folder_id = ""
type_folders = ""
tag_folders = ""
# On close: "keep", "archive" (moved to archive_folder_id) or "revoke" (people lose access).
# Env: DISPATCH_GOOGLE_FOLDER_ON_CLOSE, DISPATCH_GOOGLE_ARCHIVE_FOLDER_ID
folder_on_close = "keep"
archive_folder_id = ""
# Template documents (Google Docs file ids) copied per incident; documents need at least one.
# Env: DISPATCH_GOOGLE_TEMPLATE_INCIDENT, …_REVIEW, …_EXECUTIVE
template_incident = ""
template_review = ""
template_executive = ""
# Groups: the domain they are made in ("" = no groups), and "keep" or "delete" on close.
# Env: DISPATCH_GOOGLE_GROUP_DOMAIN, DISPATCH_GOOGLE_GROUP_ON_CLOSE
group_domain = ""
group_on_close = "keep"
# Empty: Google's own.   Env: DISPATCH_GOOGLE_TOKEN_URL, …_DRIVE_URL, …_DOCS_URL, …_DIRECTORY_URL
token_url = ""
drive_url = ""
docs_url = ""
directory_url = ""

# The signal endpoints (/api/v1/signals/…, see docs/signals.md): each sender (token) may make
# this many requests per second to each endpoint, and this many at once above it; over it, 429
# with Retry-After (nothing of that request is stored). 0 = no limit.
# Env: DISPATCH_SIGNALS_RATE_LIMIT_PER_SECOND, DISPATCH_SIGNALS_RATE_LIMIT_BURST
[signals]
rate_limit_per_second = 0.0
rate_limit_burst = 0
# A source (or one project's source) with a secret takes only signed requests
# (X-Dispatch-Timestamp, X-Dispatch-Signature; docs/signals.md), e.g.
# [signals.signing_secrets]
# alertmanager = "…"
# "security/generic" = "…"

# The default provider of each capability; a project may choose others
# (PATCH /api/v1/projects/{slug} {"providers": {"email": "dispatch-outbox"}}).
# GET /api/v1/providers lists what this server has. Left out: the built-in provider (and SMTP
# for e-mail when [smtp] has a host). Capabilities: ticket, storage, conference, document,
# conversation, email, webhook, oncall, contact, group.
# Env: DISPATCH_PROVIDERS_<CAPABILITY>, e.g. DISPATCH_PROVIDERS_EMAIL=smtp
[providers]
# conversation = "dispatch-room"
# email = "smtp"

# Signing in. Local passwords always work (people get a one-time set-up link from
# `dispatch user create` or POST /api/v1/users); API tokens too.
[auth]
# A web session ends after this long unused, and this long after sign-in at the latest.
# Env: DISPATCH_SESSION_IDLE_MINUTES, DISPATCH_SESSION_LIFETIME_HOURS
session_idle_minutes = 480
session_lifetime_hours = 168
# Behind an authenticating proxy: the header it sets to the person's e-mail, and the proxy
# addresses it may come from (from any other address the header is ignored). "" = off.
# Env: DISPATCH_TRUSTED_HEADER, DISPATCH_TRUSTED_PROXIES (comma-separated)
trusted_header = ""
trusted_proxies = []

# OIDC single sign-on (authorization code + PKCE); off without an issuer. Register the redirect
# URI {public_url}/auth/oidc/callback with the provider. People are created as members on their
# first sign-in.   Env: DISPATCH_OIDC_ISSUER, …_CLIENT_ID, …_CLIENT_SECRET, …_SCOPES, …_EMAIL_CLAIM
[auth.oidc]
issuer = ""
client_id = ""
client_secret = ""
scopes = "openid email profile"
email_claim = "email"

# Secrets kept in the database (webhook signing secrets) are sealed with AES-256-GCM under this
# key: 32 bytes in base64, e.g. `openssl rand -base64 32`. Empty: the key is read from
# secret_key_file, which the first start creates (mode 0600) — back it up with the database.
# Every server and worker on one database needs the same key; a different key is refused at
# start.   Env: DISPATCH_SECRET_KEY, DISPATCH_SECRET_KEY_FILE
[security]
secret_key = ""
# Empty: dispatch.secret.key beside the SQLite database file (working directory for PostgreSQL).
secret_key_file = ""
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses_to_the_defaults() {
        let parsed: Config = toml::from_str(EXAMPLE).unwrap();
        let d = Config::default();
        assert_eq!(parsed.database_url, d.database_url);
        assert_eq!(parsed.listen, d.listen);
        assert_eq!(parsed.admin_email, d.admin_email);
        assert_eq!(parsed.smtp, d.smtp);
        assert_eq!(parsed.auth, d.auth);
        assert_eq!(parsed.pagerduty, d.pagerduty);
        assert_eq!(parsed.opsgenie.api_key, d.opsgenie.api_key);
        assert_eq!(parsed.jira, d.jira);
        assert_eq!(parsed.zoom, d.zoom);
        assert_eq!(parsed.confluence, d.confluence);
        assert_eq!(parsed.google, d.google);
        assert_eq!(parsed.matrix, d.matrix);
    }

    /// The only test that sets `DISPATCH_*` variables (tests run side by side).
    #[test]
    fn file_environment_and_flags_layer_in_order_and_bad_values_are_named() {
        let dir = std::env::temp_dir().join(format!("dispatch-layers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("dispatch.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:1\"\nlog_format = \"json\"\n[smtp]\nhost = \"mail\"\n\
             [schedules]\ndaily_digest = \"0 9 * * *\"\n",
        )
        .unwrap();
        std::env::set_var("DISPATCH_LISTEN", "0.0.0.0:2");
        std::env::set_var("DISPATCH_LOG", "");
        std::env::set_var("DISPATCH_SMTP_PASSWORD", "123");
        std::env::set_var("DISPATCH_TRUSTED_PROXIES", "10.0.0.5, 10.0.0.6");
        std::env::set_var("DISPATCH_PAGERDUTY_API_TOKEN", "u+pd-token");
        std::env::set_var("DISPATCH_PAGERDUTY_ROUTING_KEYS", "payments=rk1");
        std::env::set_var("DISPATCH_OPSGENIE_REGION", "eu");
        let flags = Overrides {
            log_format: Some("pretty".into()),
            ..Default::default()
        };
        let cfg = Config::load(Some(&file), &flags);
        std::env::set_var("DISPATCH_SMTP_PORT", "x");
        let bad_env = Config::load(Some(&file), &flags).unwrap_err().to_string();
        for k in [
            "DISPATCH_LISTEN",
            "DISPATCH_LOG",
            "DISPATCH_SMTP_PASSWORD",
            "DISPATCH_TRUSTED_PROXIES",
            "DISPATCH_SMTP_PORT",
            "DISPATCH_PAGERDUTY_API_TOKEN",
            "DISPATCH_PAGERDUTY_ROUTING_KEYS",
            "DISPATCH_OPSGENIE_REGION",
        ] {
            std::env::remove_var(k);
        }
        let cfg = cfg.unwrap();
        assert_eq!(cfg.listen, "0.0.0.0:2", "the environment over the file");
        assert_eq!(cfg.log_format, "pretty", "a flag over the file");
        assert_eq!(cfg.log_level, "info", "an empty variable counts as unset");
        assert_eq!((cfg.smtp.host.as_str(), cfg.smtp.port), ("mail", 587));
        assert_eq!(cfg.smtp.password, "123", "a secret stays the string it is");
        assert_eq!(cfg.auth.trusted_proxies, ["10.0.0.5", "10.0.0.6"]);
        assert_eq!(
            (
                cfg.pagerduty.api_token.as_str(),
                cfg.pagerduty.routing_keys.as_str(),
                cfg.opsgenie.region.as_str()
            ),
            ("u+pd-token", "payments=rk1", "eu"),
            "DISPATCH_PAGERDUTY_* and DISPATCH_OPSGENIE_* set their tables"
        );
        let shown = cfg.redacted_toml();
        assert!(
            !shown.contains("u+pd-token") && !shown.contains("rk1"),
            "{shown}"
        );
        assert_eq!(
            cfg.schedules.len(),
            1,
            "a [schedules] table is the whole table"
        );
        assert!(
            bad_env.contains("DISPATCH_SMTP_PORT must be a port number"),
            "{bad_env}"
        );

        std::fs::write(&file, "[smtp]\nport = \"x\"\n").unwrap();
        let e = format!("{:#}", Config::load(Some(&file), &flags).unwrap_err());
        assert!(
            e.contains("not a valid configuration: smtp.port: invalid type"),
            "{e}"
        );
        std::fs::write(&file, "[smtp]\nhots = \"mail\"\n").unwrap();
        let e = format!("{:#}", Config::load(Some(&file), &flags).unwrap_err());
        assert!(e.contains("smtp.hots: unknown field"), "{e}");
        std::fs::write(&file, "listen = \n").unwrap();
        let e = format!("{:#}", Config::load(Some(&file), &flags).unwrap_err());
        assert!(e.contains("line 1"), "{e}");
        std::fs::write(&file, "job_concurrency = 0\n").unwrap();
        let e = format!("{:#}", Config::load(Some(&file), &flags).unwrap_err());
        assert!(e.contains("job_concurrency: must be at least 1"), "{e}");
        std::fs::write(&file, "job_concurrency = 3\n").unwrap();
        assert_eq!(
            Config::load(Some(&file), &flags).unwrap().job_concurrency,
            3
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bare_paths_become_sqlite_urls() {
        assert_eq!(normalise_database_url("x.db"), "sqlite://x.db");
        assert_eq!(
            normalise_database_url("postgres://a@b/c"),
            "postgres://a@b/c"
        );
    }

    #[test]
    fn secrets_are_redacted_in_show() {
        let cfg = Config {
            database_url: "postgres://u:hunter2@h/db".into(),
            ..Config::default()
        };
        assert!(!cfg.redacted_toml().contains("hunter2"));
        let key = dispatch_core::secret::SecretKey::generate();
        let cfg = Config {
            security: SecurityConfig {
                secret_key: key.clone(),
                ..Default::default()
            },
            ..Config::default()
        };
        assert!(!cfg.redacted_toml().contains(&key));
        assert!(!format!("{cfg:?}").contains(&key));
    }

    #[test]
    fn a_missing_secret_key_is_generated_once_into_a_private_file_beside_the_database() {
        let dir = std::env::temp_dir().join(format!("dispatch-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = Config {
            database_url: format!("sqlite://{}/d.db", dir.display()),
            ..Config::default()
        };
        let path = cfg.secret_key_path();
        assert_eq!(path, dir.join("dispatch.secret.key"));
        let _ = std::fs::remove_file(&path);
        let sealed = cfg.secret_key().unwrap().seal("s3cret", "t");
        assert!(path.exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "only its owner may read it: {mode:o}");
        }
        // The next start reads the same key.
        assert_eq!(
            cfg.secret_key().unwrap().open(&sealed, "t").unwrap(),
            "s3cret"
        );
        let bad = Config {
            security: SecurityConfig {
                secret_key: "short".into(),
                ..Default::default()
            },
            ..Config::default()
        };
        assert!(bad
            .secret_key()
            .unwrap_err()
            .to_string()
            .contains("DISPATCH_SECRET_KEY"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn provider_defaults_come_from_the_providers_table() {
        let cfg: Config = toml::from_str("[providers]\nemail = \"dispatch-outbox\"\n").unwrap();
        let settings = dispatch_providers::BuiltinSettings {
            smtp: Some(
                SmtpSettings::new("mail.example.com", 25, SmtpTls::None, "d@example.com").unwrap(),
            ),
            ..Default::default()
        };
        let db_less = |cfg: &Config| {
            let mut r = dispatch_core::provider::ProviderRegistry::default();
            r.email
                .add(std::sync::Arc::new(dispatch_providers::smtp::Smtp::new(
                    settings.smtp.clone().unwrap(),
                )));
            cfg.apply_provider_defaults(&mut r).map(|_| r)
        };
        let e = db_less(&cfg).err().unwrap().to_string();
        assert!(
            e.contains("[providers] email") && e.contains("known: smtp"),
            "{e}"
        );
        let bad: Config = toml::from_str("[providers]\nchat = \"x\"\n").unwrap();
        let e = db_less(&bad).err().unwrap().to_string();
        assert!(e.contains("unknown capability \"chat\""), "{e}");
        let ok: Config = toml::from_str("[providers]\nemail = \"smtp\"\n").unwrap();
        let r = db_less(&ok).unwrap();
        assert_eq!(r.email.default_slug(), Some("smtp"));
    }

    #[test]
    fn the_smtp_password_is_hidden_in_show_and_in_debug_output() {
        let cfg = Config {
            smtp: SmtpConfig {
                host: "mail.example.com".into(),
                username: "dispatch".into(),
                password: "hunter2".into(),
                ..SmtpConfig::default()
            },
            ..Config::default()
        };
        let shown = cfg.redacted_toml();
        assert!(
            !shown.contains("hunter2") && shown.contains("password = \"***\""),
            "{shown}"
        );
        assert!(!format!("{cfg:?}").contains("hunter2"));
        let settings = cfg.smtp_settings().unwrap().expect("a host turns SMTP on");
        assert!(!format!("{settings:?}").contains("hunter2"));
    }

    #[test]
    fn without_an_smtp_host_mail_stays_in_the_outbox() {
        assert!(Config::default().smtp_settings().unwrap().is_none());
    }

    #[test]
    fn a_bad_smtp_sender_or_tls_mode_is_an_error_at_start() {
        let mut cfg = Config::default();
        cfg.smtp.host = "mail.example.com".into();
        cfg.smtp.from = "not an address".into();
        assert!(cfg.smtp_settings().is_err());
        cfg.smtp.from = "dispatch@example.com".into();
        cfg.smtp.tls = "ssl".into();
        let e = cfg.smtp_settings().unwrap_err().to_string();
        assert!(e.contains("starttls, tls or none"), "{e}");
    }
}
