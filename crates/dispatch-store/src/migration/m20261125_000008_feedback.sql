-- Participants' feedback on how an incident was run, asked for when it closes.
CREATE TABLE feedback (
  id {id},
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  email {text} NOT NULL,
  rating INTEGER NOT NULL,
  comment {text} NOT NULL DEFAULT '',
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  UNIQUE (incident_id, email)
);
