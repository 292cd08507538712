-- Response cost: the classic model's rates per project, cost models (response time per
-- activity kind) chosen per incident type, editable cost types, and each incident's costs.
ALTER TABLE projects ADD COLUMN annual_employee_cost BIGINT NOT NULL DEFAULT 50000;
ALTER TABLE projects ADD COLUMN business_year_hours BIGINT NOT NULL DEFAULT 2080;
CREATE TABLE cost_models (
  id {id},
  project_id {fk_id} NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name {text} NOT NULL,
  description {text} NOT NULL DEFAULT '',
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  activities {text} NOT NULL DEFAULT '{}',
  created_at {ts} NOT NULL,
  UNIQUE (project_id, name)
);
ALTER TABLE incident_types ADD COLUMN cost_model_id BIGINT REFERENCES cost_models(id);
CREATE TABLE cost_types (
  id {id},
  project_id {fk_id} NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name {text} NOT NULL,
  category {text} NOT NULL DEFAULT '',
  details {text} NOT NULL DEFAULT '',
  is_default BOOLEAN NOT NULL DEFAULT FALSE,
  created_at {ts} NOT NULL,
  UNIQUE (project_id, name)
);
CREATE TABLE incident_costs (
  id {id},
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  cost_type_id {fk_id} NOT NULL REFERENCES cost_types(id) ON DELETE CASCADE,
  amount_cents BIGINT NOT NULL,
  model {text} NOT NULL,
  details {text} NOT NULL DEFAULT '{}',
  computed_at {ts} NOT NULL,
  UNIQUE (incident_id, cost_type_id)
);
