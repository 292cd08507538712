//! The `[matrix]` table: the Matrix bot's homeserver and sign-in (`DISPATCH_MATRIX_*`). The
//! access token and the password are hidden from `Debug` and `config show`. With a homeserver
//! set, Matrix is a conversation provider every project may choose, and the server reads the
//! bot's rooms (the /sync loop) for commands and reactions.

use crate::oncall_config::hidden;
use dispatch_matrix::{Credentials, MatrixApi};
use serde::{Deserialize, Serialize};

/// The `DISPATCH_*` variables of this table and their settings' keys.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("DISPATCH_MATRIX_HOMESERVER", "matrix.homeserver"),
    ("DISPATCH_MATRIX_ACCESS_TOKEN", "matrix.access_token"),
    ("DISPATCH_MATRIX_USER", "matrix.user"),
    ("DISPATCH_MATRIX_PASSWORD", "matrix.password"),
    ("DISPATCH_MATRIX_REACTION", "matrix.reaction"),
];

/// The `[matrix]` table.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct MatrixConfig {
    /// The homeserver's client-server API, e.g. `https://matrix.example.org`; empty: no Matrix.
    pub homeserver: String,
    /// The bot's access token (or leave it empty and give `user` and `password`).
    pub access_token: String,
    /// The bot's user (`dispatch` or `@dispatch:example.org`), to log in with `password`.
    pub user: String,
    /// The bot's password.
    pub password: String,
    /// The reaction (an emoji) that puts a room message on the timeline.
    pub reaction: String,
}

impl Default for MatrixConfig {
    fn default() -> Self {
        Self {
            homeserver: String::new(),
            access_token: String::new(),
            user: String::new(),
            password: String::new(),
            reaction: "⏱".into(),
        }
    }
}

impl std::fmt::Debug for MatrixConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatrixConfig")
            .field("homeserver", &self.homeserver)
            .field("access_token", &hidden(&self.access_token))
            .field("user", &self.user)
            .field("password", &hidden(&self.password))
            .field("reaction", &self.reaction)
            .finish()
    }
}

impl MatrixConfig {
    /// The bot's API client, or `None` when no homeserver is set; a homeserver without a way to
    /// sign in, or not a URL, is an error naming the settings.
    pub fn api(&self) -> anyhow::Result<Option<MatrixApi>> {
        let url = self.homeserver.trim().trim_end_matches('/');
        if url.is_empty() {
            return Ok(None);
        }
        if !url.starts_with("http://") && !url.starts_with("https://") {
            anyhow::bail!(
                "matrix.homeserver (DISPATCH_MATRIX_HOMESERVER) must start with https://, not {url:?}"
            );
        }
        let credentials = match (
            self.access_token.trim(),
            self.user.trim(),
            self.password.as_str(),
        ) {
            (token, _, _) if !token.is_empty() => Credentials::Token(token.to_string()),
            (_, user, password) if !user.is_empty() && !password.is_empty() => {
                Credentials::Password {
                    user: user.to_string(),
                    password: password.to_string(),
                }
            }
            _ => anyhow::bail!(
                "matrix.homeserver is set but the bot cannot sign in: set matrix.access_token \
                 (DISPATCH_MATRIX_ACCESS_TOKEN), or matrix.user and matrix.password \
                 (DISPATCH_MATRIX_USER, DISPATCH_MATRIX_PASSWORD)"
            ),
        };
        Ok(Some(MatrixApi::new(url, credentials)))
    }

    /// The reaction key, without colons or spaces.
    pub fn reaction(&self) -> String {
        self.reaction.trim().trim_matches(':').to_string()
    }

    /// Hides the secrets (for `config show`).
    pub fn redact(&mut self) {
        self.access_token = hidden(&self.access_token);
        self.password = hidden(&self.password);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_is_off_without_a_homeserver_and_needs_a_way_to_sign_in_with_one() {
        assert!(MatrixConfig::default().api().unwrap().is_none());
        let mut c = MatrixConfig {
            homeserver: "https://matrix.example.org".into(),
            ..Default::default()
        };
        let e = c.api().unwrap_err().to_string();
        assert!(e.contains("DISPATCH_MATRIX_ACCESS_TOKEN"), "{e}");
        c.user = "dispatch".into();
        c.password = "secret".into();
        assert!(c.api().unwrap().is_some());
        c.homeserver = "matrix.example.org".into();
        assert!(c.api().unwrap_err().to_string().contains("https://"));
        assert!(!format!("{c:?}").contains("secret"));
    }
}
