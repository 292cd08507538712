-- The audit log: sign-ins, writes made with API tokens, permission and configuration changes.
-- Append-only; who (individual and e-mail at the time), when, from where, with which credential.
CREATE TABLE audit_events (
  id {id},
  at {ts} NOT NULL,
  actor_id {fk_id},
  actor {text},
  action {text} NOT NULL,
  target {text},
  outcome {text} NOT NULL DEFAULT 'ok',
  source_addr {text},
  credential {text},
  details {text} NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_action ON audit_events (action);
