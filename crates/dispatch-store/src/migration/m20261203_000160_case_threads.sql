-- A case's thread: where its message was posted (the conversation provider, the channel and
-- the message's id there) and how far its timeline has been told in the thread. The built-in
-- provider keeps the case's own room: the case's message, its replies and what responders type.

CREATE TABLE case_threads (
  case_id {fk_id} PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
  provider {text} NOT NULL,
  -- The provider's channel id (Slack's C…), or the target's name for the built-in room.
  channel {text} NOT NULL,
  -- The case message's id in the channel (Slack's ts, the built-in message id).
  message_ts {text} NOT NULL,
  -- The last case timeline entry told in the thread.
  last_event_id BIGINT NOT NULL DEFAULT 0,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL
);

CREATE TABLE case_messages (
  id {id},
  case_id {fk_id} NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  -- The conversation target's name.
  channel {text} NOT NULL,
  -- The case's own message has none; replies name it.
  parent_id {fk_id},
  -- A person's address; none for Dispatch.
  author {text},
  text {text} NOT NULL,
  blocks {text} NOT NULL DEFAULT '[]',
  idempotency_key {text} UNIQUE,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL
);
CREATE INDEX case_messages_case ON case_messages (case_id, id);
