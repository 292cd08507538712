//! Working a case from chat: its room in the built-in provider (what people typed there, and
//! Dispatch's answers), and the `/dispatch-case-…` commands — typed in a room or a channel, or
//! sent by a Slack button — run through the case use cases under the same rule as REST.

use crate::access::CaseAccess;
use crate::admin::Authenticated;
use crate::command::CommandError;
use crate::{Error, Result};
use dispatch_core::chat::{self, CaseOp, ChatCommand};
use dispatch_core::message::RichMessage;
use dispatch_core::permission::Action;
use dispatch_core::signal::CaseStatus;
use dispatch_core::values::LongText;
use dispatch_core::{CaseId, Transport};
use dispatch_store::model::{case_message, case_thread};
use dispatch_store::repo;

/// A case's own room (the built-in provider's): its message, the replies, what people typed.
#[derive(Debug, Clone)]
pub struct CaseRoom {
    /// The case's thread, once posted.
    pub thread: Option<case_thread::Model>,
    /// Messages, oldest first (the latest `limit`).
    pub messages: Vec<case_message::Model>,
}

impl crate::Cases<'_> {
    /// The latest case whose message a provider posted in `channel` (for a command typed
    /// there that names no case).
    pub async fn in_channel(self, provider: &str, channel: &str) -> Result<Option<CaseId>> {
        Ok(
            repo::case_thread::in_channel(self.db().conn(), provider, channel, None)
                .await?
                .map(|t| CaseId(t.case_id)),
        )
    }

    /// A case's thread and its built-in room's latest messages.
    pub async fn room(self, id: CaseId, limit: u64) -> Result<CaseRoom> {
        let conn = self.db().conn();
        repo::signal::case(conn, id.0).await?;
        Ok(CaseRoom {
            thread: repo::case_thread::get(conn, id.0).await?,
            messages: repo::case_thread::messages(conn, id.0, limit).await?,
        })
    }

    /// Posts a person's message in a case's room; a message starting with `/` also runs as a
    /// chat command in the case (as that person) and the answer — or the usage or refusal — is
    /// posted by Dispatch. Returns the message and the answer.
    pub async fn post_in_room(
        self,
        caller: &Authenticated,
        id: CaseId,
        text: LongText,
    ) -> Result<(case_message::Model, Option<case_message::Model>)> {
        let c = repo::signal::case(self.db().conn(), id.0).await?;
        let channel = repo::case_thread::get(self.db().conn(), id.0)
            .await?
            .map(|t| t.channel)
            .unwrap_or_default();
        let line = text.as_str().to_string();
        let posted = self
            .write_message(
                c.id,
                &channel,
                Some(caller.actor.email.to_string()),
                &RichMessage::plain(line.clone()),
            )
            .await?;
        if !chat::is_command(&line) {
            return Ok((posted, None));
        }
        let mut in_room = caller.clone();
        in_room.actor.transport = Transport::Room;
        let answer = match self.chat().run_in_case(&in_room, Some(id), &line).await {
            Ok(m) => m,
            Err(e) => RichMessage::plain(crate::room::command_error_text(&e)),
        };
        let reply = self.write_message(c.id, &channel, None, &answer).await?;
        Ok((posted, Some(reply)))
    }

    async fn write_message(
        &self,
        case_id: i64,
        channel: &str,
        author: Option<String>,
        m: &RichMessage,
    ) -> Result<case_message::Model> {
        let now = dispatch_core::now();
        let txn = self.db().write().await?;
        let row = repo::case_thread::insert_message(
            &*txn,
            case_message::Model {
                case_id,
                channel: channel.to_string(),
                author,
                text: m.text.clone(),
                blocks: serde_json::to_string(&m.blocks).unwrap_or_else(|_| "[]".into()),
                created_at: now,
                updated_at: now,
                ..Default::default()
            },
        )
        .await?;
        if let Some(who) = row.author.as_deref() {
            // A person who writes in the case's room takes part in it.
            super::case_people::join(&*txn, &[(case_id, who, "message")], now).await?;
        }
        txn.commit().await?;
        Ok(row)
    }
}

/// The refusal of a case command the caller may not run: the same rule and words as the REST
/// route's.
fn check(access: &CaseAccess, action: Action, name: &str) -> Result<()> {
    access.require(action).map_err(|e| match e {
        Error::Forbidden(why) => Error::Forbidden(format!("/{name}: {why}")),
        other => other,
    })
}

impl crate::Chat<'_> {
    /// Parses and runs one command line in a case (the thread's `case`, unless the line names
    /// one); any other command runs as [`crate::Chat::run`] runs it, without an incident.
    pub async fn run_in_case(
        self,
        caller: &Authenticated,
        case: Option<CaseId>,
        text: &str,
    ) -> Result<RichMessage, CommandError> {
        let cmd = chat::parse(text, dispatch_core::now()).map_err(CommandError::Usage)?;
        match cmd {
            ChatCommand::Case { case: named, op } => {
                self.case_command_in(caller, named.map(CaseId).or(case), op)
                    .await
            }
            _ => self.run(caller, None, text).await,
        }
    }

    /// Runs a case command in the case named or given by where it was typed; without one, the
    /// answer asks for it.
    pub(crate) async fn case_command_in(
        &self,
        caller: &Authenticated,
        case: Option<CaseId>,
        op: CaseOp,
    ) -> Result<RichMessage, CommandError> {
        let Some(id) = case else {
            return Err(CommandError::Failed(
                dispatch_core::ValidationError::field(
                    "text",
                    "name the case (#ID), or run it in the case's thread",
                )
                .into(),
            ));
        };
        Ok(self.case_command(caller, id, op).await?)
    }

    /// Runs a case command through the case use cases, under the case rule.
    pub(crate) async fn case_command(
        &self,
        caller: &Authenticated,
        id: CaseId,
        op: CaseOp,
    ) -> Result<RichMessage> {
        let access = self.access().case(caller, id).await?;
        let actor = &caller.actor;
        let name = ChatCommand::Case {
            case: Some(id.0),
            op: op.clone(),
        }
        .name();
        let spec_action = chat::spec(name).and_then(|s| s.action);
        if let Some(action) = spec_action {
            check(&access, action, name)?;
        }
        let text = match op {
            CaseOp::Triage => {
                self.cases()
                    .transition(actor, id, CaseStatus::Triage, None)
                    .await?;
                format!("Case {id} is in triage ({} acknowledged it).", actor.email)
            }
            CaseOp::Snooze(length) => {
                let f = self.cases().snooze(actor, id, length).await?;
                format!(
                    "Snoozed case {id}'s signal until {} (filter {}: {}).",
                    f.expires_at
                        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                        .unwrap_or_default(),
                    f.id,
                    f.expression
                )
            }
            CaseOp::Escalate => {
                let (inc, _) = self.cases().escalate(actor, id, Default::default()).await?;
                self.wake_workers();
                format!(
                    "Case {id} is escalated to {}: {}/incidents/{}",
                    inc.row.name,
                    self.base_url(),
                    inc.row.name
                )
            }
            CaseOp::Resolve { reason, text } => {
                self.cases()
                    .transition(
                        actor,
                        id,
                        CaseStatus::Closed,
                        Some((reason, text.map(|t| t.to_string()))),
                    )
                    .await?;
                format!("Case {id} is closed ({}).", reason.as_str())
            }
            CaseOp::Assign(who) => {
                let c = self
                    .cases()
                    .edit(
                        actor,
                        id,
                        super::case_edit::CaseEdit {
                            assignee: Some(who),
                            ..Default::default()
                        },
                    )
                    .await?;
                match c.assignee {
                    Some(a) => format!("Case {id} is assigned to {a}."),
                    None => format!("Case {id} is assigned to no one."),
                }
            }
        };
        self.wake_workers();
        Ok(RichMessage::plain(text))
    }
}
