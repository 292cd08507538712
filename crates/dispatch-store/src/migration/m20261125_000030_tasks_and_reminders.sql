-- Where a task came from: 'incident' (during the response) or 'review' (a follow-up of the
-- post-incident review, due a week out by default).
ALTER TABLE tasks ADD COLUMN source {text} NOT NULL DEFAULT 'incident';
CREATE INDEX tasks_status_due ON tasks (status, resolve_by);

-- Reminders sent, one row per idempotency key (a period: a day, a report cadence, a week), so a
-- reminder goes out once per period however often the scheduler runs.
CREATE TABLE reminders (
  id {id},
  key {text} NOT NULL UNIQUE,
  kind {text} NOT NULL,
  incident_id {fk_id} REFERENCES incidents(id) ON DELETE CASCADE,
  recipient {text} NOT NULL,
  sent_at {ts} NOT NULL
);

-- "Remind me in N hours": no report reminder of that kind before `snoozed_until`.
CREATE TABLE reminder_snoozes (
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  kind {text} NOT NULL,
  snoozed_until {ts} NOT NULL,
  set_by {text} NOT NULL,
  PRIMARY KEY (incident_id, kind)
);
