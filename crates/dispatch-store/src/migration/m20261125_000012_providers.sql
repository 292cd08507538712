-- Providers chosen per project, the built-in participant groups, and direct messages kept by the
-- built-in conversation provider.

-- capability -> provider slug, as a JSON object; capabilities not named use the server's default.
ALTER TABLE projects ADD COLUMN providers {text} NOT NULL DEFAULT '{}';

CREATE TABLE participant_groups (
  id {id},
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  idempotency_key {text} NOT NULL UNIQUE,
  name {text} NOT NULL,
  email {text} NOT NULL,
  created_at {ts} NOT NULL
);
CREATE INDEX participant_groups_incident ON participant_groups (incident_id);

CREATE TABLE participant_group_members (
  group_id {fk_id} NOT NULL REFERENCES participant_groups(id) ON DELETE CASCADE,
  email {text} NOT NULL,
  added_at {ts} NOT NULL,
  PRIMARY KEY (group_id, email)
);

CREATE TABLE direct_messages (
  id {id},
  email {text} NOT NULL,
  text {text} NOT NULL,
  blocks {text} NOT NULL,
  idempotency_key {text} UNIQUE,
  created_at {ts} NOT NULL
);
CREATE INDEX direct_messages_email ON direct_messages (email, id);
