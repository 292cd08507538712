-- The built-in groups of an incident: the tactical group (its participants, as before) and the
-- notifications group (stakeholders: people and plain addresses, edited by hand). And the
-- addresses that asked for no more stakeholder mail about an incident.
ALTER TABLE participant_groups ADD COLUMN purpose {text} NOT NULL DEFAULT 'tactical';

CREATE TABLE mail_opt_outs (
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  email {text} NOT NULL,
  created_at {ts} NOT NULL,
  PRIMARY KEY (incident_id, email)
);
