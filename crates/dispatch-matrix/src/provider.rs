//! Matrix as the incident conversation: a room per incident (invite-only for restricted ones),
//! its name and topic, power levels that make the incident commander a moderator, members
//! invited by the Matrix ID on their profile, bookmarks as one pinned message kept current,
//! messages as HTML notices, archived on close (renamed `[closed] …` and read-only) and opened
//! again on re-open. Every call is safe to repeat: a create finds the room a lost answer made by
//! its alias, messages go with transaction ids and are remembered by key, invites skip members.

use crate::{html, MatrixApi, MatrixError};
use async_trait::async_trait;
use dispatch_core::message::{Block, RichMessage};
use dispatch_core::provider::{
    ChatMemory, ConversationProvider, Created, IncidentContext, ProviderError, ProviderResult,
    ThreadRef,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The provider's slug, as recorded on an incident's conversation resource.
pub const SLUG: &str = "matrix";
/// What a closed incident's room name starts with.
pub const CLOSED_PREFIX: &str = "[closed] ";
/// The room state event that keeps the bookmarks and the id of their pinned message.
pub const BOOKMARKS_EVENT: &str = "org.dispatch.bookmarks";
/// The power level only the bot (and the room's creator) has: what a closed room asks to write.
const BOT_POWER: i64 = 100;
/// The power level of the incident commander: moderator (kick, ban, redact, change state).
pub const COMMANDER_POWER: i64 = 50;
/// Rooms cut names at no fixed length; clients show about this much.
const NAME_MAX: usize = 80;

fn err(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(SLUG, e.to_string())
}

fn matrix_err(e: MatrixError) -> ProviderError {
    err(e)
}

/// A transaction id for `seed`: the same seed gives the same id, so a resent request makes
/// one event.
pub fn txn(seed: &str) -> String {
    let hash = hex::encode(Sha256::digest(seed.as_bytes()));
    format!("dispatch-{}", &hash[..32])
}

/// A transaction id used once (for messages without an idempotency key).
fn fresh_txn() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    txn(&format!(
        "{}:{}:{n}",
        std::process::id(),
        dispatch_core::now()
            .timestamp_nanos_opt()
            .unwrap_or_default()
    ))
}

/// The Matrix conversation provider.
pub struct MatrixConversation {
    /// The client-server API client (the bot).
    pub api: MatrixApi,
    /// Matrix IDs by e-mail (people's profiles) and the posted-message keys.
    pub memory: Arc<dyn ChatMemory>,
}

/// The room name of an incident: its key and title.
pub fn room_name(ctx: &IncidentContext) -> String {
    let name = format!("{}: {}", ctx.name, ctx.title);
    name.chars().take(NAME_MAX).collect()
}

impl MatrixConversation {
    /// The Matrix ID on the profile of the person with this address, if they set one.
    pub async fn matrix_id(&self, email: &str) -> ProviderResult<Option<String>> {
        self.memory.user_id(&email.to_lowercase()).await
    }

    /// The alias local part a create with `key` uses: the same key (on the same Dispatch
    /// server) finds the same room, so a create whose answer was lost does not make a second.
    fn alias_local(key: &str, ctx: &IncidentContext) -> String {
        let hash = hex::encode(Sha256::digest(format!("{}\n{key}", ctx.base_url)));
        format!(
            "dispatch-{}-{}",
            ctx.name
                .to_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
            &hash[..12]
        )
    }

    /// The room's power levels with `change` applied.
    async fn change_power(
        &self,
        room: &str,
        change: impl FnOnce(&mut Value),
    ) -> ProviderResult<()> {
        let mut levels = self
            .api
            .state(room, "m.room.power_levels", "")
            .await
            .map_err(matrix_err)?
            .unwrap_or_else(|| json!({}));
        let before = levels.clone();
        change(&mut levels);
        if levels == before {
            return Ok(());
        }
        self.api
            .set_state(room, "m.room.power_levels", "", &levels)
            .await
            .map_err(matrix_err)
    }

    /// Sends `message` to `room`, once per `key`; its event id.
    async fn post_once(
        &self,
        room: &str,
        key: Option<&str>,
        content: &Value,
    ) -> ProviderResult<String> {
        if let Some(key) = key {
            if let Some(id) = self.memory.posted(key).await? {
                return Ok(id);
            }
        }
        let txn_id = key
            .map(|k| txn(&format!("{room}\n{k}")))
            .unwrap_or_else(fresh_txn);
        let id = self
            .api
            .send(room, "m.room.message", &txn_id, content)
            .await
            .map_err(matrix_err)?;
        if let Some(key) = key {
            self.memory.remember_post(key, room, &id).await?;
        }
        Ok(id)
    }

    /// Pins an event (pinning twice pins once).
    async fn pin(&self, room: &str, event_id: &str) -> ProviderResult<()> {
        let pinned = self
            .api
            .state(room, "m.room.pinned_events", "")
            .await
            .map_err(matrix_err)?;
        let mut ids: Vec<Value> = pinned
            .as_ref()
            .and_then(|p| p["pinned"].as_array().cloned())
            .unwrap_or_default();
        if ids.iter().any(|i| i == event_id) {
            return Ok(());
        }
        ids.push(json!(event_id));
        self.api
            .set_state(room, "m.room.pinned_events", "", &json!({ "pinned": ids }))
            .await
            .map_err(matrix_err)
    }

    /// Replaces an earlier message of the bot's with `message` (an `m.replace` edit).
    async fn edit(&self, room: &str, event_id: &str, message: &RichMessage) -> ProviderResult<()> {
        let new = html::content(message);
        let mut content = new.clone();
        content["body"] = json!(format!("* {}", new["body"].as_str().unwrap_or_default()));
        content["m.new_content"] = new;
        content["m.relates_to"] = json!({"rel_type": "m.replace", "event_id": event_id});
        let seed = format!("{room}\n{event_id}\n{}", content["m.new_content"]);
        self.api
            .send(room, "m.room.message", &txn(&seed), &content)
            .await
            .map(drop)
            .map_err(matrix_err)
    }

    /// The room a conversation target names: a room id (`!…`), or an alias (`#…`) resolved.
    async fn room_named(&self, channel: &str) -> ProviderResult<String> {
        let name = channel.trim();
        if !name.starts_with('#') {
            return Ok(name.to_string());
        }
        self.api
            .resolve_alias(name)
            .await
            .map_err(matrix_err)?
            .ok_or_else(|| err(format!("no Matrix room has the alias {name}")))
    }
}

/// The bookmarks message: a header and the links.
fn bookmarks_message(links: &[(String, String)]) -> RichMessage {
    RichMessage::new(vec![
        Block::Header {
            text: "Bookmarks".into(),
        },
        Block::Links {
            links: links.to_vec(),
        },
    ])
}

#[async_trait]
impl ConversationProvider for MatrixConversation {
    fn slug(&self) -> &'static str {
        SLUG
    }

    async fn create(&self, key: &str, ctx: &IncidentContext) -> ProviderResult<Created> {
        let bot = self.api.user_id().await.map_err(matrix_err)?;
        let alias_local = Self::alias_local(key, ctx);
        let server = bot.split_once(':').map(|(_, s)| s).unwrap_or_default();
        let alias = format!("#{alias_local}:{server}");
        let link = |id: &str| Some(format!("https://matrix.to/#/{id}"));
        if let Some(id) = self.api.resolve_alias(&alias).await.map_err(matrix_err)? {
            return Ok(Created {
                link: link(&alias),
                external_id: id,
                ..Default::default()
            });
        }
        let commander = self
            .matrix_id(&ctx.commander.email)
            .await?
            .filter(|ic| *ic != bot);
        let restricted = ctx.visibility == "restricted";
        let body = json!({
            "name": room_name(ctx),
            "topic": ctx.title,
            "room_alias_name": alias_local,
            "visibility": "private",
            "preset": if restricted { "private_chat" } else { "public_chat" },
            "invite": commander.iter().collect::<Vec<_>>(),
        });
        let id = match self.api.create_room(&body).await {
            Ok(id) => id,
            // Made by an earlier attempt whose answer was lost.
            Err(e) if e.errcode() == Some("M_ROOM_IN_USE") => self
                .api
                .resolve_alias(&alias)
                .await
                .map_err(matrix_err)?
                .ok_or_else(|| err(format!("the alias {alias} is taken but names no room")))?,
            Err(e) => return Err(matrix_err(e)),
        };
        // Set after the create, not in it: the room versions differ on whether the creator may
        // be listed, and a changed level is all this needs.
        self.set_commander(&id, &ctx.commander.email).await?;
        Ok(Created {
            link: link(&alias),
            external_id: id,
            ..Default::default()
        })
    }

    async fn set_topic(&self, external_id: &str, topic: &str) -> ProviderResult<()> {
        let current = self
            .api
            .state(external_id, "m.room.topic", "")
            .await
            .map_err(matrix_err)?;
        if current.is_some_and(|c| c["topic"] == topic) {
            return Ok(());
        }
        self.api
            .set_state(external_id, "m.room.topic", "", &json!({ "topic": topic }))
            .await
            .map_err(matrix_err)
    }

    async fn bookmark(&self, external_id: &str, title: &str, link: &str) -> ProviderResult<()> {
        self.bookmarks(external_id, &[(title.to_string(), link.to_string())])
            .await
    }

    /// The bookmarks live in the room's `org.dispatch.bookmarks` state (title → link) and show
    /// as one pinned message, edited when they change.
    async fn bookmarks(&self, external_id: &str, marks: &[(String, String)]) -> ProviderResult<()> {
        let room = external_id;
        let state = self
            .api
            .state(room, BOOKMARKS_EVENT, "")
            .await
            .map_err(matrix_err)?
            .unwrap_or_else(|| json!({}));
        let mut links: Vec<(String, String)> = state["links"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| Some((l[0].as_str()?.to_string(), l[1].as_str()?.to_string())))
            .collect();
        let before = links.clone();
        for (title, link) in marks {
            match links.iter_mut().find(|(t, _)| t == title) {
                Some(found) => found.1 = link.clone(),
                None => links.push((title.clone(), link.clone())),
            }
        }
        let event_id = state["event_id"].as_str().map(String::from);
        if links == before && event_id.is_some() {
            return Ok(());
        }
        if links.is_empty() {
            return Ok(());
        }
        let message = bookmarks_message(&links);
        let event_id = match event_id {
            Some(id) => {
                self.edit(room, &id, &message).await?;
                id
            }
            None => {
                let id = self
                    .post_once(
                        room,
                        Some(&format!("bookmarks:{room}")),
                        &html::content(&message),
                    )
                    .await?;
                self.pin(room, &id).await?;
                id
            }
        };
        self.api
            .set_state(
                room,
                BOOKMARKS_EVENT,
                "",
                &json!({ "links": links, "event_id": event_id }),
            )
            .await
            .map_err(matrix_err)
    }

    async fn add_members(&self, external_id: &str, emails: &[String]) -> ProviderResult<()> {
        let present = self.api.members(external_id).await.map_err(matrix_err)?;
        for email in emails {
            let Some(id) = self.matrix_id(email).await? else {
                tracing::info!(%email, "no Matrix ID on this person's profile; not invited");
                continue;
            };
            let inside = present
                .iter()
                .any(|(u, m)| *u == id && (m == "join" || m == "invite" || m == "ban"));
            if !inside {
                self.api
                    .invite(external_id, &id)
                    .await
                    .map_err(matrix_err)?;
            }
        }
        Ok(())
    }

    /// The commander is a moderator (power level 50) from the room's creation, and a new
    /// commander becomes one when the role moves; earlier commanders keep their level.
    async fn set_commander(&self, external_id: &str, email: &str) -> ProviderResult<()> {
        let bot = self.api.user_id().await.map_err(matrix_err)?;
        let Some(ic) = self.matrix_id(email).await?.filter(|ic| *ic != bot) else {
            return Ok(());
        };
        self.change_power(external_id, |levels| {
            let now = levels["users"][&ic].as_i64().unwrap_or(0);
            if now < COMMANDER_POWER {
                levels["users"][&ic] = json!(COMMANDER_POWER);
            }
        })
        .await
    }

    async fn post(
        &self,
        external_id: &str,
        key: Option<&str>,
        message: &RichMessage,
    ) -> ProviderResult<()> {
        let id = self
            .post_once(external_id, key, &html::content(message))
            .await?;
        // Pinning is harmless to repeat, so a retry after a failed pin pins the first post.
        if message.pin {
            self.pin(external_id, &id).await?;
        }
        Ok(())
    }

    async fn direct_message(
        &self,
        email: &str,
        key: Option<&str>,
        message: &RichMessage,
    ) -> ProviderResult<()> {
        let Some(user) = self.matrix_id(email).await? else {
            return Err(err(format!(
                "{email} has no Matrix ID on their profile (matrix_id)"
            )));
        };
        let dm_key = format!("dm:{user}");
        let room = match self.memory.posted(&dm_key).await? {
            Some(room) => room,
            None => {
                let room = self
                    .api
                    .create_room(&json!({
                        "is_direct": true,
                        "preset": "trusted_private_chat",
                        "invite": [user],
                    }))
                    .await
                    .map_err(matrix_err)?;
                self.memory.remember_post(&dm_key, &room, &room).await?;
                room
            }
        };
        self.post_once(&room, key, &html::content(message))
            .await
            .map(drop)
    }

    /// Closed: the room is renamed `[closed] …` and only moderators may write; re-opened: the
    /// name and the right to write come back.
    async fn set_archived(&self, external_id: &str, archived: bool) -> ProviderResult<()> {
        let name = self
            .api
            .state(external_id, "m.room.name", "")
            .await
            .map_err(matrix_err)?
            .and_then(|n| n["name"].as_str().map(String::from))
            .unwrap_or_default();
        let bare = name
            .strip_prefix(CLOSED_PREFIX)
            .unwrap_or(&name)
            .to_string();
        let wanted = if archived {
            format!("{CLOSED_PREFIX}{bare}")
        } else {
            bare
        };
        if wanted != name {
            self.api
                .set_state(external_id, "m.room.name", "", &json!({ "name": wanted }))
                .await
                .map_err(matrix_err)?;
        }
        let write = if archived { BOT_POWER } else { 0 };
        self.change_power(external_id, |levels| {
            levels["events_default"] = json!(write);
        })
        .await
    }

    async fn post_case(
        &self,
        _case_id: i64,
        channel: &str,
        key: &str,
        message: &RichMessage,
    ) -> ProviderResult<ThreadRef> {
        let room = self.room_named(channel).await?;
        let id = self
            .post_once(&room, Some(key), &html::content(message))
            .await?;
        Ok(ThreadRef {
            channel: room,
            ts: id,
        })
    }

    async fn update_case(&self, thread: &ThreadRef, message: &RichMessage) -> ProviderResult<()> {
        self.edit(&thread.channel, &thread.ts, message).await
    }

    async fn reply_case(
        &self,
        thread: &ThreadRef,
        key: &str,
        message: &RichMessage,
    ) -> ProviderResult<()> {
        let mut content = html::content(message);
        content["m.relates_to"] = json!({
            "rel_type": "m.thread",
            "event_id": thread.ts,
            "is_falling_back": true,
            "m.in_reply_to": { "event_id": thread.ts },
        });
        self.post_once(&thread.channel, Some(key), &content)
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::txn;

    #[test]
    fn a_transaction_id_is_the_same_for_the_same_seed_only() {
        assert_eq!(txn("a"), txn("a"));
        assert_ne!(txn("a"), txn("b"));
        assert!(txn("a").starts_with("dispatch-"));
    }
}
