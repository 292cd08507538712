-- The outbox: every e-mail Dispatch sent, one row per idempotency key. The built-in e-mail
-- provider keeps mail here only; with SMTP configured, each mail the server accepted is recorded
-- here too (provider `smtp`), so the API shows what was sent either way.
CREATE TABLE outbox (
  id {id},
  idempotency_key {text} NOT NULL UNIQUE,
  recipients {text} NOT NULL,
  subject {text} NOT NULL,
  text {text} NOT NULL,
  html {text},
  provider {text} NOT NULL,
  incident_id {fk_id} REFERENCES incidents(id) ON DELETE SET NULL,
  created_at {ts} NOT NULL
);
CREATE INDEX outbox_incident ON outbox (incident_id, id);
