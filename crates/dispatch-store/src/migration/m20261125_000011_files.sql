-- Files attached to incidents by the built-in storage provider, kept in the database.
CREATE TABLE files (
  id {id},
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  name {text} NOT NULL,
  content_type {text} NOT NULL,
  size BIGINT NOT NULL,
  data {blob} NOT NULL,
  uploaded_by {text},
  created_at {ts} NOT NULL
);
CREATE INDEX files_incident ON files (incident_id);
