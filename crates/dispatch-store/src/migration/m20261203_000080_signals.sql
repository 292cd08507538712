-- Signals and cases: what alerts a project watches for (definitions), what it drops or merges
-- (filters), every alert received (instances) and the cases they open, with each case's own
-- timeline.

CREATE TABLE signal_definitions (
  id {id},
  project_id {fk_id} NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name {text} NOT NULL,
  description {text} NOT NULL DEFAULT '',
  owner {text} NOT NULL DEFAULT '',
  runbook_url {text},
  -- alertmanager | grafana | pagerduty | generic
  source {text} NOT NULL,
  -- The label matcher in its text form: alertname="X", service=~"pay.*".
  matcher {text} NOT NULL DEFAULT '',
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  create_case BOOLEAN NOT NULL DEFAULT TRUE,
  -- Incident type, priority and severity slugs the case carries (and the escalated incident).
  case_type {text},
  case_priority {text},
  case_severity {text},
  -- The on-call service whose current on-call person is the case's assignee.
  service_id {fk_id} REFERENCES services(id) ON DELETE SET NULL,
  conversation_target {text},
  -- JSON array of tag names.
  tags {text} NOT NULL DEFAULT '[]',
  -- JSON array of {"name", "label"} or {"name", "regex"} entity extractors.
  entity_types {text} NOT NULL DEFAULT '[]',
  -- JSON object of field paths for a generic source.
  fields {text} NOT NULL DEFAULT '{}',
  dedup_window_seconds BIGINT NOT NULL DEFAULT 3600,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE signal_filters (
  id {id},
  project_id {fk_id} NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name {text} NOT NULL,
  description {text} NOT NULL DEFAULT '',
  -- snooze | deduplicate
  kind {text} NOT NULL,
  -- The label (and entity) matcher in its text form.
  expression {text} NOT NULL,
  -- active | monitor | inactive (expired is derived from expires_at)
  mode {text} NOT NULL DEFAULT 'active',
  expires_at {ts},
  -- A deduplicate filter's window.
  window_seconds BIGINT NOT NULL DEFAULT 3600,
  created_by {text},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE cases (
  id {id},
  project_id {fk_id} NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  definition_id {fk_id} REFERENCES signal_definitions(id) ON DELETE SET NULL,
  title {text} NOT NULL,
  description {text} NOT NULL DEFAULT '',
  -- new | triage | escalated | stable | closed
  status {text} NOT NULL DEFAULT 'new',
  case_type {text},
  case_priority {text},
  case_severity {text},
  assignee {text},
  reporter {text} NOT NULL,
  resolution {text},
  resolution_reason {text},
  incident_id {fk_id} REFERENCES incidents(id) ON DELETE SET NULL,
  created_at {ts} NOT NULL,
  triage_at {ts},
  escalated_at {ts},
  stable_at {ts},
  closed_at {ts},
  updated_at {ts} NOT NULL
);
CREATE INDEX cases_project_status ON cases (project_id, status, id);
CREATE INDEX cases_incident ON cases (incident_id);

CREATE TABLE signal_instances (
  id {id},
  project_id {fk_id} NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  definition_id {fk_id} NOT NULL REFERENCES signal_definitions(id) ON DELETE CASCADE,
  source {text} NOT NULL,
  fingerprint {text} NOT NULL,
  -- firing | acknowledged | resolved
  status {text} NOT NULL DEFAULT 'firing',
  title {text} NOT NULL,
  severity {text},
  link {text},
  labels {text} NOT NULL DEFAULT '{}',
  -- JSON array of {"type", "value"}.
  entities {text} NOT NULL DEFAULT '[]',
  -- The alert as received.
  raw {text} NOT NULL,
  -- none | deduplicate | snooze
  filter_action {text} NOT NULL DEFAULT 'none',
  -- The filter that acted (or, with filter_action none, the monitor-mode filter that would have).
  filter_id {fk_id} REFERENCES signal_filters(id) ON DELETE SET NULL,
  -- The first instance of the alert, for a deduplicated one.
  duplicate_of {fk_id},
  case_id {fk_id} REFERENCES cases(id) ON DELETE SET NULL,
  received_at {ts} NOT NULL,
  resolved_at {ts}
);
CREATE INDEX signal_instances_fingerprint ON signal_instances (project_id, fingerprint, received_at);
CREATE INDEX signal_instances_definition ON signal_instances (definition_id, id);
CREATE INDEX signal_instances_case ON signal_instances (case_id);

CREATE TABLE case_events (
  id {id},
  case_id {fk_id} NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  occurred_at {ts} NOT NULL,
  kind {text} NOT NULL,
  actor {text},
  description {text} NOT NULL,
  details {text} NOT NULL DEFAULT '{}'
);
CREATE INDEX case_events_case ON case_events (case_id, id);
