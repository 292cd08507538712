//! The `[auth]` settings: session lifetimes, trusted-header authentication and OIDC single
//! sign-on. Secrets are hidden from `Debug` and `dispatch config show`.

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The `[auth]` table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// A web session unused this long ends.
    pub session_idle_minutes: i64,
    /// A web session ends this long after sign-in whatever happens.
    pub session_lifetime_hours: i64,
    /// The header an authenticating proxy sets to the signed-in person's e-mail; empty = off.
    pub trusted_header: String,
    /// The proxies' addresses; the trusted header (and `X-Forwarded-For`) counts only from these.
    pub trusted_proxies: Vec<String>,
    /// OIDC single sign-on; off without an issuer.
    pub oidc: OidcConfig,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_idle_minutes: 8 * 60,
            session_lifetime_hours: 7 * 24,
            trusted_header: String::new(),
            trusted_proxies: Vec::new(),
            oidc: OidcConfig::default(),
        }
    }
}

/// The `[auth.oidc]` table.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct OidcConfig {
    /// The issuer URL (discovery at `{issuer}/.well-known/openid-configuration`); empty = off.
    pub issuer: String,
    /// The client id registered with the provider.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// Scopes to ask for.
    pub scopes: String,
    /// The ID-token claim that holds the e-mail address.
    pub email_claim: String,
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self {
            issuer: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            scopes: "openid email profile".into(),
            email_claim: "email".into(),
        }
    }
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &if self.client_secret.is_empty() {
                    ""
                } else {
                    "***"
                },
            )
            .field("scopes", &self.scopes)
            .field("email_claim", &self.email_claim)
            .finish()
    }
}

impl AuthConfig {
    /// The web layer's sign-in settings for a server reached at `base_url`.
    pub fn web(&self, base_url: &str) -> anyhow::Result<dispatch_web::WebAuth> {
        let proxies = self
            .trusted_proxies
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse()
                    .with_context(|| format!("auth.trusted_proxies: {p:?} is not an IP address"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(
            self.trusted_header.is_empty() || !proxies.is_empty(),
            "auth.trusted_header needs auth.trusted_proxies (the addresses it may come from)"
        );
        let o = &self.oidc;
        let oidc = if o.issuer.is_empty() {
            None
        } else {
            anyhow::ensure!(
                !o.client_id.is_empty(),
                "auth.oidc.client_id is required with an issuer"
            );
            Some(dispatch_web::oidc::OidcClient {
                issuer: o.issuer.trim_end_matches('/').to_string(),
                client_id: o.client_id.clone(),
                client_secret: o.client_secret.clone(),
                scopes: o.scopes.clone(),
                email_claim: o.email_claim.clone(),
                redirect_uri: format!("{base_url}/auth/oidc/callback"),
                http: reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(10))
                    .build()?,
            })
        };
        Ok(dispatch_web::WebAuth {
            secure_cookies: base_url.starts_with("https://"),
            trusted: dispatch_web::trusted::TrustedHeader {
                header: (!self.trusted_header.is_empty()).then(|| self.trusted_header.clone()),
                proxies,
            },
            oidc,
            limiter: Default::default(),
        })
    }

    /// How long web sessions last.
    pub fn sessions(&self) -> dispatch_engine::accounts::session::SessionSettings {
        dispatch_engine::accounts::session::SessionSettings {
            idle: chrono::TimeDelta::minutes(self.session_idle_minutes),
            lifetime: chrono::TimeDelta::hours(self.session_lifetime_hours),
        }
    }
}
