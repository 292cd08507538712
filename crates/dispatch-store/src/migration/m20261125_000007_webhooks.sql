-- Outgoing webhooks: who subscribes to which incident events, and every delivery with its
-- attempts. The secret is the `whsec_…` value shown to the subscriber; it is stored as is
-- for now (it must be readable to sign with) — encryption at rest comes with a later issue.

CREATE TABLE webhook_subscriptions (
  id {id},
  url {text} NOT NULL,
  secret {text} NOT NULL,
  -- JSON array of event types; an empty array means every type.
  event_types {text} NOT NULL DEFAULT '[]',
  description {text} NOT NULL DEFAULT '',
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  created_at {ts} NOT NULL
);

CREATE TABLE webhook_deliveries (
  id {id},
  subscription_id {fk_id} NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
  -- The `webhook-id` header: the same on every attempt, so receivers can drop repeats.
  message_id {text} NOT NULL,
  event_type {text} NOT NULL,
  -- The JSON body exactly as signed and sent.
  payload {text} NOT NULL,
  status {text} NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  last_status_code INTEGER,
  last_error {text},
  created_at {ts} NOT NULL,
  delivered_at {ts},
  UNIQUE (subscription_id, message_id)
);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);
