-- Engagement and notification rules, what they matched, subscribers, and the project settings
-- joining and observer promotion follow. Filters are stored in the filter language's JSON form.

CREATE TABLE engagement_rules (
  id {id},
  project_id {fk_id} NOT NULL REFERENCES projects(id),
  name {text} NOT NULL,
  description {text} NOT NULL DEFAULT '',
  filter {text} NOT NULL,
  -- JSON arrays: e-mails, team ids, service ids, and documents ({"title", "link"}).
  individuals {text} NOT NULL DEFAULT '[]',
  teams {text} NOT NULL DEFAULT '[]',
  services {text} NOT NULL DEFAULT '[]',
  documents {text} NOT NULL DEFAULT '[]',
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  UNIQUE (project_id, name)
);

-- Each match of an engagement rule on an incident, once per (kind, target): the person who
-- joined, the service whose on-call joined (at most one per service), the team engaged, or the
-- document suggested as a runbook.
CREATE TABLE engagements (
  id {id},
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  rule_id {fk_id} REFERENCES engagement_rules(id) ON DELETE SET NULL,
  rule_name {text} NOT NULL,
  kind {text} NOT NULL,
  target {text} NOT NULL,
  email {text},
  title {text},
  link {text},
  created_at {ts} NOT NULL,
  UNIQUE (incident_id, kind, target)
);

CREATE TABLE notification_rules (
  id {id},
  project_id {fk_id} NOT NULL REFERENCES projects(id),
  name {text} NOT NULL,
  description {text} NOT NULL DEFAULT '',
  filter {text} NOT NULL,
  -- conversation | email | webhook
  target_kind {text} NOT NULL,
  target {text} NOT NULL,
  -- Only targets marked so ever hear of restricted incidents.
  restricted_safe BOOLEAN NOT NULL DEFAULT FALSE,
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  UNIQUE (project_id, name)
);

-- People who follow an incident by e-mail only.
CREATE TABLE subscribers (
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  email {text} NOT NULL,
  created_at {ts} NOT NULL,
  PRIMARY KEY (incident_id, email)
);

-- An observer who posts this many messages in the room becomes a participant.
ALTER TABLE projects ADD COLUMN observer_promotion_messages INTEGER NOT NULL DEFAULT 3;
