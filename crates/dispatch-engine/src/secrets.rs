//! Secrets at rest. Every secret Dispatch keeps in its database (today: the signing secrets of
//! outgoing webhook subscriptions) is sealed with AES-256-GCM under the server's secret key
//! ([`dispatch_core::secret`]), bound to the column it lives in. Rows written in clear by an
//! older version still work (they are opened as they are) and are sealed at start-up by
//! [`Secrets::seal_stored`]. The database remembers a sealed check value, so a server
//! started with a different key refuses to start ([`Secrets::verify_key`]) instead of
//! failing later, delivery by delivery.

use crate::{Engine, Error, Result};
use dispatch_core::secret::{SecretKey, StoredSecret};
use dispatch_store::model::webhook_subscription;
use dispatch_store::repo;

/// The context webhook signing secrets are sealed with.
const WEBHOOK_SECRET: &str = "webhook_subscriptions.secret";
/// The context provider credentials are sealed with (followed by the setting's name).
const PROVIDER_SECRET: &str = "provider_secrets.sealed";
/// The context (and plain text) of the key check value.
const KEY_CHECK: &str = "secret_key_check";

impl Engine {
    /// Uses `key` to seal and open secrets (before the engine is cloned). Without one, an engine
    /// has a random key of its own that lasts as long as it does (tests; the server always sets
    /// the configured key).
    pub fn with_secret_key(mut self, key: SecretKey) -> Self {
        self.secrets = std::sync::Arc::new(key);
        self
    }

    /// Seals a secret for the column `context`.
    pub(crate) fn seal(&self, plain: &str, context: &str) -> String {
        self.secrets.seal(plain, context).as_stored().to_string()
    }

    /// Opens a stored secret of the column `context`; a value stored in clear (before
    /// secrets were sealed) is returned as it is.
    pub(crate) fn open(&self, stored: &str, context: &str) -> Result<String> {
        let s = StoredSecret::from_stored(stored);
        if !s.is_sealed() {
            return Ok(stored.to_string());
        }
        self.secrets
            .open(&s, context)
            .map_err(|e| Error::Conflict(format!("{context}: {e}")))
    }

    /// A token for a link that carries `plain`, sealed for `context` (see
    /// [`SecretKey::seal_token`]).
    pub(crate) fn seal_token(&self, plain: &str, context: &str) -> String {
        self.secrets.seal_token(plain, context)
    }

    /// What a token [`Engine::seal_token`] made for `context` carries; `None` for a token this
    /// server's key did not make for it (altered, cut short, or for something else).
    pub(crate) fn open_token(&self, token: &str, context: &str) -> Option<String> {
        self.secrets.open_token(token, context).ok()
    }

    /// A new webhook signing secret, sealed for storage.
    pub(crate) fn seal_webhook_secret(&self, plain: &str) -> String {
        self.seal(plain, WEBHOOK_SECRET)
    }
}

impl crate::Secrets<'_> {
    /// A webhook subscription's signing secret (`whsec_…`), opened.
    pub fn webhook_signing_secret(self, sub: &webhook_subscription::Model) -> Result<String> {
        self.open(&sub.secret, WEBHOOK_SECRET)
    }

    /// Stores a provider credential (`name` is its `DISPATCH_*` setting), sealed; replaces the
    /// one stored before. An empty value or a name that is not a `DISPATCH_*` variable is a
    /// field error.
    pub async fn set_provider_secret(self, name: &str, value: &str) -> Result<()> {
        let name = provider_secret_name(name)?;
        let value = value.trim_end_matches(['\r', '\n']);
        if value.trim().is_empty() {
            return Err(dispatch_core::ValidationError::field("value", "must not be empty").into());
        }
        let sealed = self.seal(value, &format!("{PROVIDER_SECRET}:{name}"));
        repo::provider_secret::put(self.db().conn(), &name, &sealed, dispatch_core::now()).await?;
        Ok(())
    }

    /// Removes a stored provider credential; whether there was one.
    pub async fn unset_provider_secret(self, name: &str) -> Result<bool> {
        let name = provider_secret_name(name)?;
        Ok(repo::provider_secret::delete(self.db().conn(), &name).await?)
    }

    /// The names of the stored provider credentials and when each was set (never the values).
    pub async fn provider_secret_names(
        self,
    ) -> Result<Vec<(String, chrono::DateTime<chrono::Utc>)>> {
        Ok(repo::provider_secret::list(self.db().conn())
            .await?
            .into_iter()
            .map(|(n, _, at)| (n, at))
            .collect())
    }

    /// The stored provider credentials, opened: (name, value).
    pub async fn provider_secrets(self) -> Result<Vec<(String, String)>> {
        repo::provider_secret::list(self.db().conn())
            .await?
            .into_iter()
            .map(|(n, sealed, _)| {
                let value = self.open(&sealed, &format!("{PROVIDER_SECRET}:{n}"))?;
                Ok((n, value))
            })
            .collect()
    }

    /// Seals every secret still stored in clear; returns how many it sealed.
    pub async fn seal_stored(self) -> Result<usize> {
        let txn = self.db().write().await?;
        let clear: Vec<webhook_subscription::Model> = repo::webhook::list(&*txn)
            .await?
            .into_iter()
            .filter(|s| !StoredSecret::from_stored(s.secret.as_str()).is_sealed())
            .collect();
        let n = clear.len();
        for s in clear {
            let sealed = self.seal_webhook_secret(&s.secret);
            let mut row = s.clone();
            row.secret = sealed;
            repo::webhook::update(&*txn, &s, row).await?;
        }
        txn.commit().await?;
        if n > 0 {
            tracing::info!(sealed = n, "sealed secrets that were stored in clear");
        }
        Ok(n)
    }

    /// Checks that this server's key is the one the database's secrets are sealed with: the
    /// first start stores a sealed check value; later starts must open it. A different key is
    /// refused with an explanation.
    pub async fn verify_key(self) -> Result<()> {
        let txn = self.db().write().await?;
        match repo::secret_key_check::get(&*txn).await? {
            Some(sealed) => {
                let opened = self
                    .secrets
                    .open(&StoredSecret::from_stored(sealed), KEY_CHECK);
                if opened.as_deref() != Ok(KEY_CHECK) {
                    return Err(Error::Conflict(
                        "the secret key (DISPATCH_SECRET_KEY / [security] secret_key) is not the \
                         one this database's secrets were sealed with; start with the original key"
                            .into(),
                    ));
                }
            }
            None => {
                let sealed = self.seal(KEY_CHECK, KEY_CHECK);
                repo::secret_key_check::insert(&*txn, &sealed, dispatch_core::now()).await?;
            }
        }
        txn.commit().await?;
        Ok(())
    }
}

/// A provider credential's name: a `DISPATCH_*` variable name, upper-cased.
fn provider_secret_name(name: &str) -> Result<String> {
    let name = name.trim().to_ascii_uppercase();
    let ok = name.len() > "DISPATCH_".len()
        && name.starts_with("DISPATCH_")
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(name)
    } else {
        Err(dispatch_core::ValidationError::field(
            "name",
            "a setting's DISPATCH_* variable name, e.g. DISPATCH_JIRA_API_TOKEN",
        )
        .into())
    }
}
