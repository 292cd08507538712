-- Storage of the built-in providers: documents, the incident room, and attached files.

CREATE TABLE documents (
  id {id},
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  kind {text} NOT NULL,
  idempotency_key {text} NOT NULL UNIQUE,
  title {text} NOT NULL,
  template {text} NOT NULL,
  body {text} NOT NULL,
  read_only BOOLEAN NOT NULL DEFAULT FALSE,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL
);
CREATE INDEX documents_incident ON documents (incident_id);

CREATE TABLE rooms (
  id {id},
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  idempotency_key {text} NOT NULL UNIQUE,
  name {text} NOT NULL,
  topic {text} NOT NULL DEFAULT '',
  archived BOOLEAN NOT NULL DEFAULT FALSE,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL
);

CREATE TABLE room_members (
  room_id {fk_id} NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  email {text} NOT NULL,
  joined_at {ts} NOT NULL,
  PRIMARY KEY (room_id, email)
);

CREATE TABLE room_bookmarks (
  room_id {fk_id} NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  title {text} NOT NULL,
  link {text} NOT NULL,
  created_at {ts} NOT NULL,
  PRIMARY KEY (room_id, title)
);

CREATE TABLE room_messages (
  id {id},
  room_id {fk_id} NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  author {text},
  text {text} NOT NULL,
  blocks {text} NOT NULL,
  idempotency_key {text} UNIQUE,
  created_at {ts} NOT NULL
);
CREATE INDEX room_messages_room ON room_messages (room_id, id);
