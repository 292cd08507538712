//! The `[teams]` table: the Microsoft Teams bot and the team incidents' channels are made in
//! (`DISPATCH_TEAMS_*`). The app password is hidden from `Debug` and `config show`. Every URL
//! is Microsoft's unless overridden (the tests point them at an emulator).

use crate::oncall_config::hidden;
use dispatch_teams::auth::{BotAuth, OPENID_URL};
use dispatch_teams::connector::{Connector, DEFAULT_SERVICE_URL};
use dispatch_teams::graph::{Graph, DEFAULT_GRAPH_URL};
use dispatch_teams::token::{self, TokenSource};
use serde::{Deserialize, Serialize};

/// The `DISPATCH_*` variables of this table and their settings' keys.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("DISPATCH_TEAMS_APP_ID", "teams.app_id"),
    ("DISPATCH_TEAMS_APP_PASSWORD", "teams.app_password"),
    ("DISPATCH_TEAMS_TENANT_ID", "teams.tenant_id"),
    ("DISPATCH_TEAMS_TEAM_ID", "teams.team_id"),
    ("DISPATCH_TEAMS_SERVICE_URL", "teams.service_url"),
    ("DISPATCH_TEAMS_OPENID_URL", "teams.openid_url"),
    ("DISPATCH_TEAMS_BOT_TOKEN_URL", "teams.bot_token_url"),
    ("DISPATCH_TEAMS_LOGIN_URL", "teams.login_url"),
    ("DISPATCH_TEAMS_GRAPH_URL", "teams.graph_url"),
];

/// The `[teams]` table.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct TeamsConfig {
    /// The bot's Microsoft App ID (the Azure Bot resource's); empty: no Teams.
    pub app_id: String,
    /// The app's client secret.
    pub app_password: String,
    /// The Microsoft Entra tenant (directory) id the team is in.
    pub tenant_id: String,
    /// The team incidents' channels are made in (its group id).
    pub team_id: String,
    /// Where the bot's messages go until an activity names its service URL.
    pub service_url: String,
    /// The Bot Framework's OpenID metadata (its signing keys).
    pub openid_url: String,
    /// The Bot Framework's token endpoint (the connector's tokens).
    pub bot_token_url: String,
    /// The identity platform, `{login_url}/{tenant}/oauth2/v2.0/token` (Graph's tokens).
    pub login_url: String,
    /// Microsoft Graph.
    pub graph_url: String,
}

impl Default for TeamsConfig {
    fn default() -> Self {
        Self {
            app_id: String::new(),
            app_password: String::new(),
            tenant_id: String::new(),
            team_id: String::new(),
            service_url: DEFAULT_SERVICE_URL.into(),
            openid_url: OPENID_URL.into(),
            bot_token_url: token::BOT_TOKEN_URL.into(),
            login_url: "https://login.microsoftonline.com".into(),
            graph_url: DEFAULT_GRAPH_URL.into(),
        }
    }
}

impl std::fmt::Debug for TeamsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamsConfig")
            .field("app_id", &self.app_id)
            .field("app_password", &hidden(&self.app_password))
            .field("tenant_id", &self.tenant_id)
            .field("team_id", &self.team_id)
            .field("service_url", &self.service_url)
            .field("openid_url", &self.openid_url)
            .field("bot_token_url", &self.bot_token_url)
            .field("login_url", &self.login_url)
            .field("graph_url", &self.graph_url)
            .finish()
    }
}

/// The Teams clients a configuration makes.
pub struct TeamsClients {
    /// The Bot Connector.
    pub connector: Connector,
    /// Graph, for the team.
    pub graph: Graph,
    /// The token checks of the messaging endpoint.
    pub auth: BotAuth,
}

impl TeamsConfig {
    /// Hides the password.
    pub fn redact(&mut self) {
        self.app_password = hidden(&self.app_password);
    }

    /// Whether Teams is configured (an app id is set).
    pub fn enabled(&self) -> bool {
        !self.app_id.trim().is_empty()
    }

    /// The clients, when Teams is configured; an incomplete configuration is an error naming
    /// what is missing.
    pub fn clients(&self) -> anyhow::Result<Option<TeamsClients>> {
        if !self.enabled() {
            return Ok(None);
        }
        for (value, name) in [
            (&self.app_password, "DISPATCH_TEAMS_APP_PASSWORD"),
            (&self.tenant_id, "DISPATCH_TEAMS_TENANT_ID"),
            (&self.team_id, "DISPATCH_TEAMS_TEAM_ID"),
        ] {
            if value.trim().is_empty() {
                anyhow::bail!("[teams]: {name} is required when DISPATCH_TEAMS_APP_ID is set");
            }
        }
        let bot_tokens = TokenSource::new(
            &self.bot_token_url,
            &self.app_id,
            &self.app_password,
            token::BOT_SCOPE,
        );
        let graph_tokens = TokenSource::new(
            &token::tenant_token_url(&self.login_url, &self.tenant_id),
            &self.app_id,
            &self.app_password,
            token::GRAPH_SCOPE,
        );
        Ok(Some(TeamsClients {
            connector: Connector::new(&self.app_id, &self.tenant_id, &self.service_url, bot_tokens),
            graph: Graph::new(&self.graph_url, &self.team_id, graph_tokens),
            auth: BotAuth::new(&self.app_id, &self.openid_url),
        }))
    }
}
