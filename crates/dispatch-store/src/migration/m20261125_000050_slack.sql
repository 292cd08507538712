-- Slack: the user directory cache (Slack user id ↔ e-mail) and the messages already posted (so a
-- retried job does not post twice). Redelivered events are caught by the job queue's
-- idempotency keys.

CREATE TABLE slack_users (
  slack_id {text} PRIMARY KEY,
  email {text} NOT NULL,
  name {text} NOT NULL,
  updated_at {ts} NOT NULL
);
CREATE INDEX slack_users_email ON slack_users (email);

CREATE TABLE slack_messages (
  idempotency_key {text} PRIMARY KEY,
  channel {text} NOT NULL,
  ts {text} NOT NULL,
  created_at {ts} NOT NULL
);
