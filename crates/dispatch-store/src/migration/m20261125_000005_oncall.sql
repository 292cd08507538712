-- Built-in on-call: rotations per service with overrides, pages, and the role policies that
-- pick an incident's commander, scribe and liaison.

CREATE TABLE oncall_schedules (
  id {id},
  service_id {fk_id} NOT NULL UNIQUE REFERENCES services(id) ON DELETE CASCADE,
  time_zone {text} NOT NULL,
  handoff_time {text} NOT NULL,
  shift_hours INTEGER NOT NULL,
  start_date {text} NOT NULL,
  members {text} NOT NULL,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL
);

CREATE TABLE oncall_overrides (
  id {id},
  schedule_id {fk_id} NOT NULL REFERENCES oncall_schedules(id) ON DELETE CASCADE,
  email {text} NOT NULL,
  starts_at {ts} NOT NULL,
  ends_at {ts} NOT NULL,
  created_at {ts} NOT NULL
);
CREATE INDEX oncall_overrides_schedule ON oncall_overrides (schedule_id, starts_at);

CREATE TABLE pages (
  id {id},
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  service_id {fk_id} REFERENCES services(id) ON DELETE SET NULL,
  email {text} NOT NULL,
  reason {text} NOT NULL,
  status {text} NOT NULL DEFAULT 'triggered',
  created_at {ts} NOT NULL,
  acknowledged_at {ts}
);
CREATE INDEX pages_status ON pages (status, created_at);

CREATE TABLE role_policies (
  id {id},
  project_id {fk_id} NOT NULL REFERENCES projects(id),
  role {text} NOT NULL,
  type_id {fk_id} REFERENCES incident_types(id),
  priority_id {fk_id} REFERENCES incident_priorities(id),
  tag_id {fk_id} REFERENCES tags(id),
  service_id {fk_id} REFERENCES services(id) ON DELETE CASCADE,
  email {text},
  view_order INTEGER NOT NULL DEFAULT 0,
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  created_at {ts} NOT NULL
);
CREATE INDEX role_policies_project ON role_policies (project_id, role);
