-- The people of a case, once each: its reporter and assignee, and everyone who acted on it
-- (triaged, snoozed, edited, escalated, closed it, or wrote in its room), with what first
-- brought them in and when. Escalating the case adds them to the incident.

CREATE TABLE case_participants (
  id {id},
  case_id {fk_id} NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  email {text} NOT NULL,
  -- reporter | assignee | snoozed | edited | message, or the status they moved it to
  -- (triage | escalated | stable | closed)
  added_reason {text} NOT NULL,
  created_at {ts} NOT NULL,
  UNIQUE (case_id, email)
);
