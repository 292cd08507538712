//! A small client of the Slack Web API: one `call` that posts form-encoded arguments with the
//! bot token and turns Slack's answers into results — `ok: false` becomes [`SlackError::Api`]
//! with Slack's error code, HTTP 429 becomes [`SlackError::RateLimited`] with its `Retry-After`,
//! so the job queue can record the code and wait as long as Slack asks. The methods Dispatch
//! uses are thin wrappers that also make repeated calls harmless (a name already taken, a user
//! already in the channel, a channel already archived all count as done).

use serde_json::Value;
use std::time::Duration;

/// Where the real Slack Web API lives.
pub const DEFAULT_API_URL: &str = "https://slack.com/api";

/// How many 429s one call waits out before giving up.
const RATE_LIMIT_WAITS: u32 = 3;
/// The longest `Retry-After` a call waits out in place; longer ones go back to the job queue.
const MAX_RETRY_AFTER: u64 = 30;

/// A failed Web API call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackError {
    /// Slack answered `ok: false` with this error code.
    #[error("{method}: {code}")]
    Api {
        /// The method called.
        method: String,
        /// Slack's error code, e.g. `channel_not_found`.
        code: String,
    },
    /// Slack answered 429; try again after this many seconds.
    #[error("{method}: rate limited, retry after {retry_after}s")]
    RateLimited {
        /// The method called.
        method: String,
        /// Seconds to wait.
        retry_after: u64,
    },
    /// No usable answer: connection refused, timeout, not JSON.
    #[error("{method}: {message}")]
    Transport {
        /// The method called.
        method: String,
        /// What went wrong.
        message: String,
    },
}

impl SlackError {
    /// Slack's error code, when Slack gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            SlackError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A Web API client for one bot token.
#[derive(Debug, Clone)]
pub struct SlackApi {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl SlackApi {
    /// A client of the API at `base` (e.g. [`DEFAULT_API_URL`]) acting with `token` (`xoxb-…`).
    pub fn new(base: &str, token: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client with a timeout builds");
        Self {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http,
        }
    }

    /// Calls `method` with form-encoded `args` (structured arguments such as `blocks` go as JSON
    /// text, which Slack accepts); the answer's JSON when `ok` is true. A 429 is waited out as
    /// Slack's `Retry-After` asks, a few times, before it is returned as an error (and the job
    /// queue tries again later).
    pub async fn call(&self, method: &str, args: &[(&str, &str)]) -> Result<Value, SlackError> {
        let mut waited = 0;
        loop {
            match self.call_once(method, args).await {
                Err(SlackError::RateLimited { retry_after, .. })
                    if waited < RATE_LIMIT_WAITS && retry_after <= MAX_RETRY_AFTER =>
                {
                    waited += 1;
                    tokio::time::sleep(Duration::from_secs(retry_after)).await;
                }
                other => return other,
            }
        }
    }

    /// One call, with no waiting on a 429.
    pub async fn call_once(
        &self,
        method: &str,
        args: &[(&str, &str)],
    ) -> Result<Value, SlackError> {
        let transport = |message: String| SlackError::Transport {
            method: method.to_string(),
            message,
        };
        let response = self
            .http
            .post(format!("{}/{method}", self.base))
            .bearer_auth(&self.token)
            .form(args)
            .send()
            .await
            .map_err(|e| transport(e.to_string()))?;
        if response.status().as_u16() == 429 {
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(30);
            return Err(SlackError::RateLimited {
                method: method.to_string(),
                retry_after,
            });
        }
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|e| transport(format!("HTTP {status}: {e}")))?;
        if body["ok"].as_bool() == Some(true) {
            Ok(body)
        } else {
            Err(SlackError::Api {
                method: method.to_string(),
                code: body["error"]
                    .as_str()
                    .unwrap_or("unknown_error")
                    .to_string(),
            })
        }
    }

    /// Creates a channel, or finds the one of that name (a retried create after a lost answer
    /// finds the channel the first call made). Its id.
    pub async fn create_channel(&self, name: &str, private: bool) -> Result<String, SlackError> {
        let private = if private { "true" } else { "false" };
        match self
            .call(
                "conversations.create",
                &[("name", name), ("is_private", private)],
            )
            .await
        {
            Ok(v) => Ok(v["channel"]["id"].as_str().unwrap_or_default().to_string()),
            Err(e) if e.code() == Some("name_taken") => {
                self.find_channel(name).await?.ok_or(SlackError::Api {
                    method: "conversations.list".into(),
                    code: "channel_not_found".into(),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// The id of the channel named `name` (public or private, archived included).
    pub async fn find_channel(&self, name: &str) -> Result<Option<String>, SlackError> {
        let mut cursor = String::new();
        loop {
            let page = self
                .call(
                    "conversations.list",
                    &[
                        ("types", "public_channel,private_channel"),
                        ("limit", "200"),
                        ("cursor", &cursor),
                    ],
                )
                .await?;
            if let Some(found) = page["channels"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["name"].as_str() == Some(name))
            {
                return Ok(found["id"].as_str().map(String::from));
            }
            cursor = page["response_metadata"]["next_cursor"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if cursor.is_empty() {
                return Ok(None);
            }
        }
    }

    /// Sets a channel's topic.
    pub async fn set_topic(&self, channel: &str, topic: &str) -> Result<(), SlackError> {
        self.call(
            "conversations.setTopic",
            &[("channel", channel), ("topic", topic)],
        )
        .await
        .map(drop)
    }

    /// Adds a link bookmark, or points the bookmark of that title at `link`.
    pub async fn bookmark(&self, channel: &str, title: &str, link: &str) -> Result<(), SlackError> {
        let list = self
            .call("bookmarks.list", &[("channel_id", channel)])
            .await?;
        let existing = list["bookmarks"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| b["title"].as_str() == Some(title));
        match existing {
            Some(b) if b["link"].as_str() == Some(link) => Ok(()),
            Some(b) => {
                let id = b["id"].as_str().unwrap_or_default().to_string();
                self.call(
                    "bookmarks.edit",
                    &[
                        ("channel_id", channel),
                        ("bookmark_id", &id),
                        ("link", link),
                    ],
                )
                .await
                .map(drop)
            }
            None => self
                .call(
                    "bookmarks.add",
                    &[
                        ("channel_id", channel),
                        ("title", title),
                        ("type", "link"),
                        ("link", link),
                    ],
                )
                .await
                .map(drop),
        }
    }

    /// The Slack user id of an e-mail address, or `None` when no user has it.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<String>, SlackError> {
        match self.call("users.lookupByEmail", &[("email", email)]).await {
            Ok(v) => Ok(v["user"]["id"].as_str().map(String::from)),
            Err(e) if e.code() == Some("users_not_found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A user's e-mail address and display name.
    pub async fn user_info(&self, user: &str) -> Result<(Option<String>, String), SlackError> {
        let v = self.call("users.info", &[("user", user)]).await?;
        let profile = &v["user"]["profile"];
        let name = profile["real_name"]
            .as_str()
            .filter(|n| !n.is_empty())
            .or(v["user"]["name"].as_str())
            .unwrap_or(user)
            .to_string();
        Ok((profile["email"].as_str().map(String::from), name))
    }

    /// Invites users (by Slack id) to a channel; those already in it are fine.
    pub async fn invite(&self, channel: &str, users: &[String]) -> Result<(), SlackError> {
        if users.is_empty() {
            return Ok(());
        }
        let users = users.join(",");
        match self
            .call(
                "conversations.invite",
                &[("channel", channel), ("users", &users), ("force", "true")],
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("already_in_channel") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Posts a message with its plain-text fallback and Block Kit blocks; the message's `ts`.
    pub async fn post(
        &self,
        channel: &str,
        text: &str,
        blocks: &[Value],
    ) -> Result<String, SlackError> {
        let blocks = Value::Array(blocks.to_vec()).to_string();
        let v = self
            .call(
                "chat.postMessage",
                &[("channel", channel), ("text", text), ("blocks", &blocks)],
            )
            .await?;
        Ok(v["ts"].as_str().unwrap_or_default().to_string())
    }

    /// Posts a message in `channel` (an id or a name), as a reply in the thread of `thread_ts`
    /// when given; the channel's id and the message's `ts`.
    pub async fn post_in(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        text: &str,
        blocks: &[Value],
    ) -> Result<(String, String), SlackError> {
        let blocks = Value::Array(blocks.to_vec()).to_string();
        let mut args = vec![("channel", channel), ("text", text), ("blocks", &blocks)];
        if let Some(t) = thread_ts {
            args.push(("thread_ts", t));
        }
        let v = self.call("chat.postMessage", &args).await?;
        Ok((
            v["channel"].as_str().unwrap_or(channel).to_string(),
            v["ts"].as_str().unwrap_or_default().to_string(),
        ))
    }

    /// Replaces a message's text and blocks (`chat.update`; the channel must be its id).
    pub async fn update(
        &self,
        channel: &str,
        ts: &str,
        text: &str,
        blocks: &[Value],
    ) -> Result<(), SlackError> {
        let blocks = Value::Array(blocks.to_vec()).to_string();
        self.call(
            "chat.update",
            &[
                ("channel", channel),
                ("ts", ts),
                ("text", text),
                ("blocks", &blocks),
            ],
        )
        .await
        .map(drop)
    }

    /// Archives (true) or un-archives (false) a channel; one already so is fine.
    pub async fn set_archived(&self, channel: &str, archived: bool) -> Result<(), SlackError> {
        let (method, done) = if archived {
            ("conversations.archive", "already_archived")
        } else {
            ("conversations.unarchive", "not_archived")
        };
        match self.call(method, &[("channel", channel)]).await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(done) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Opens (or finds) the direct-message channel with a user; its id.
    pub async fn open_dm(&self, user: &str) -> Result<String, SlackError> {
        let v = self.call("conversations.open", &[("users", user)]).await?;
        Ok(v["channel"]["id"].as_str().unwrap_or_default().to_string())
    }

    /// Opens a modal for the interaction that gave `trigger_id`.
    pub async fn open_view(&self, trigger_id: &str, view: &Value) -> Result<(), SlackError> {
        let view = view.to_string();
        self.call("views.open", &[("trigger_id", trigger_id), ("view", &view)])
            .await
            .map(drop)
    }

    /// Posts a message only `user` sees.
    pub async fn post_ephemeral(
        &self,
        channel: &str,
        user: &str,
        text: &str,
        blocks: &[Value],
    ) -> Result<(), SlackError> {
        let blocks = Value::Array(blocks.to_vec()).to_string();
        self.call(
            "chat.postEphemeral",
            &[
                ("channel", channel),
                ("user", user),
                ("text", text),
                ("blocks", &blocks),
            ],
        )
        .await
        .map(drop)
    }

    /// Pins a message.
    pub async fn pin(&self, channel: &str, ts: &str) -> Result<(), SlackError> {
        match self
            .call("pins.add", &[("channel", channel), ("timestamp", ts)])
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("already_pinned") => Ok(()),
            Err(e) => Err(e),
        }
    }
}
