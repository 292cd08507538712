-- The initial schema. Written once for both databases: `{id}`, `{ts}`, `{text}` and `{fk_id}` are
-- replaced per backend by migration/mod.rs. Append-only: later changes go in new migrations.

CREATE TABLE projects (
  id {id},
  slug {text} NOT NULL UNIQUE,
  name {text} NOT NULL,
  key_prefix {text} NOT NULL UNIQUE,
  description {text} NOT NULL DEFAULT '',
  incident_seq BIGINT NOT NULL DEFAULT 0,
  allow_self_join BOOLEAN NOT NULL DEFAULT TRUE,
  is_default BOOLEAN NOT NULL DEFAULT FALSE,
  created_at {ts} NOT NULL
);

CREATE TABLE incident_types (
  id {id},
  project_id {fk_id} NOT NULL REFERENCES projects(id),
  slug {text} NOT NULL,
  name {text} NOT NULL,
  description {text} NOT NULL DEFAULT '',
  default_visibility {text} NOT NULL DEFAULT 'open',
  is_default BOOLEAN NOT NULL DEFAULT FALSE,
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  exclude_from_metrics BOOLEAN NOT NULL DEFAULT FALSE,
  exclude_from_reminders BOOLEAN NOT NULL DEFAULT FALSE,
  exclude_from_review BOOLEAN NOT NULL DEFAULT FALSE,
  view_order INTEGER NOT NULL DEFAULT 0,
  created_at {ts} NOT NULL,
  UNIQUE (project_id, slug)
);

CREATE TABLE incident_priorities (
  id {id},
  project_id {fk_id} NOT NULL REFERENCES projects(id),
  slug {text} NOT NULL,
  name {text} NOT NULL,
  description {text} NOT NULL DEFAULT '',
  color {text},
  is_default BOOLEAN NOT NULL DEFAULT FALSE,
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  page_commander BOOLEAN NOT NULL DEFAULT FALSE,
  tactical_report_reminder_hours INTEGER,
  executive_report_reminder_hours INTEGER,
  view_order INTEGER NOT NULL DEFAULT 0,
  created_at {ts} NOT NULL,
  UNIQUE (project_id, slug)
);

CREATE TABLE incident_severities (
  id {id},
  project_id {fk_id} NOT NULL REFERENCES projects(id),
  slug {text} NOT NULL,
  name {text} NOT NULL,
  description {text} NOT NULL DEFAULT '',
  color {text},
  is_default BOOLEAN NOT NULL DEFAULT FALSE,
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  allowed_for_stable BOOLEAN NOT NULL DEFAULT TRUE,
  view_order INTEGER NOT NULL DEFAULT 0,
  created_at {ts} NOT NULL,
  UNIQUE (project_id, slug)
);

CREATE TABLE individuals (
  id {id},
  email {text} NOT NULL UNIQUE,
  name {text} NOT NULL DEFAULT '',
  title {text},
  weblink {text},
  created_at {ts} NOT NULL
);

CREATE TABLE teams (
  id {id},
  project_id {fk_id} NOT NULL REFERENCES projects(id),
  name {text} NOT NULL,
  email {text},
  description {text} NOT NULL DEFAULT '',
  created_at {ts} NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE services (
  id {id},
  project_id {fk_id} NOT NULL REFERENCES projects(id),
  name {text} NOT NULL,
  provider {text} NOT NULL DEFAULT 'dispatch',
  external_id {text},
  description {text} NOT NULL DEFAULT '',
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at {ts} NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE tag_types (
  id {id},
  project_id {fk_id} NOT NULL REFERENCES projects(id),
  name {text} NOT NULL,
  description {text} NOT NULL DEFAULT '',
  exclusive BOOLEAN NOT NULL DEFAULT FALSE,
  required BOOLEAN NOT NULL DEFAULT FALSE,
  created_at {ts} NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE tags (
  id {id},
  project_id {fk_id} NOT NULL REFERENCES projects(id),
  tag_type_id {fk_id} REFERENCES tag_types(id),
  name {text} NOT NULL,
  description {text} NOT NULL DEFAULT '',
  created_at {ts} NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE incidents (
  id {id},
  project_id {fk_id} NOT NULL REFERENCES projects(id),
  number BIGINT NOT NULL,
  name {text} NOT NULL UNIQUE,
  title {text} NOT NULL,
  description {text} NOT NULL,
  resolution {text},
  status {text} NOT NULL,
  visibility {text} NOT NULL,
  type_id {fk_id} NOT NULL REFERENCES incident_types(id),
  priority_id {fk_id} NOT NULL REFERENCES incident_priorities(id),
  severity_id {fk_id} NOT NULL REFERENCES incident_severities(id),
  commander_id {fk_id} NOT NULL REFERENCES individuals(id),
  reporter_id {fk_id} NOT NULL REFERENCES individuals(id),
  reported_at {ts} NOT NULL,
  stable_at {ts},
  closed_at {ts},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  event_seq BIGINT NOT NULL DEFAULT 0,
  last_event_hash {text} NOT NULL,
  UNIQUE (project_id, number)
);
CREATE INDEX incidents_status_reported ON incidents (status, reported_at);
CREATE INDEX incidents_reported ON incidents (reported_at);
CREATE INDEX incidents_project_reported ON incidents (project_id, reported_at);
CREATE INDEX incidents_priority ON incidents (priority_id);
CREATE INDEX incidents_severity ON incidents (severity_id);
CREATE INDEX incidents_type ON incidents (type_id);
CREATE INDEX incidents_commander ON incidents (commander_id);

CREATE TABLE incident_tags (
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  tag_id {fk_id} NOT NULL REFERENCES tags(id),
  PRIMARY KEY (incident_id, tag_id)
);
CREATE INDEX incident_tags_tag ON incident_tags (tag_id);

CREATE TABLE participants (
  id {id},
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  individual_id {fk_id} NOT NULL REFERENCES individuals(id),
  team_id {fk_id} REFERENCES teams(id),
  added_reason {text},
  created_at {ts} NOT NULL,
  UNIQUE (incident_id, individual_id)
);
CREATE INDEX participants_individual ON participants (individual_id);

CREATE TABLE participant_roles (
  id {id},
  participant_id {fk_id} NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  role {text} NOT NULL,
  assumed_at {ts} NOT NULL,
  renounced_at {ts}
);
CREATE INDEX participant_roles_incident ON participant_roles (incident_id);

CREATE TABLE tasks (
  id {id},
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  description {text} NOT NULL,
  status {text} NOT NULL DEFAULT 'open',
  priority {text} NOT NULL DEFAULT 'medium',
  creator_id {fk_id} REFERENCES individuals(id),
  owner_id {fk_id} REFERENCES individuals(id),
  resolve_by {ts},
  resolved_at {ts},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL
);
CREATE INDEX tasks_incident ON tasks (incident_id);
CREATE INDEX tasks_status ON tasks (status);

CREATE TABLE task_assignees (
  task_id {fk_id} NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  individual_id {fk_id} NOT NULL REFERENCES individuals(id),
  PRIMARY KEY (task_id, individual_id)
);
CREATE INDEX task_assignees_individual ON task_assignees (individual_id);

CREATE TABLE reports (
  id {id},
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  kind {text} NOT NULL,
  author_id {fk_id} REFERENCES individuals(id),
  details {text} NOT NULL,
  created_at {ts} NOT NULL
);
CREATE INDEX reports_incident ON reports (incident_id, created_at);

CREATE TABLE resources (
  id {id},
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  kind {text} NOT NULL,
  provider {text} NOT NULL,
  external_id {text},
  link {text},
  status {text} NOT NULL DEFAULT 'pending',
  last_error {text},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  UNIQUE (incident_id, kind)
);

CREATE TABLE events (
  id {id},
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  seq BIGINT NOT NULL,
  occurred_at {ts} NOT NULL,
  recorded_at {ts} NOT NULL,
  kind {text} NOT NULL,
  source {text} NOT NULL,
  actor {text},
  transport {text} NOT NULL,
  description {text} NOT NULL,
  details {text} NOT NULL,
  pinned BOOLEAN NOT NULL DEFAULT FALSE,
  prev_hash {text} NOT NULL,
  hash {text} NOT NULL,
  UNIQUE (incident_id, seq)
);

CREATE TABLE api_tokens (
  id {id},
  individual_id {fk_id} NOT NULL REFERENCES individuals(id),
  name {text} NOT NULL DEFAULT '',
  prefix {text} NOT NULL,
  token_hash {text} NOT NULL UNIQUE,
  role {text} NOT NULL DEFAULT 'member',
  created_at {ts} NOT NULL,
  expires_at {ts},
  revoked_at {ts},
  last_used_at {ts}
);

CREATE TABLE jobs (
  id {id},
  kind {text} NOT NULL,
  payload {text} NOT NULL,
  state {text} NOT NULL DEFAULT 'queued',
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 8,
  run_at {ts} NOT NULL,
  locked_at {ts},
  locked_by {text},
  last_error {text},
  idempotency_key {text} UNIQUE,
  incident_id {fk_id} REFERENCES incidents(id) ON DELETE SET NULL,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL
);
CREATE INDEX jobs_claim ON jobs (state, run_at);
