-- The names incidents had before they were renamed (e.g. to their Jira issue's key, when the
-- project says so): links and commands that use an old name still find the incident.
CREATE TABLE incident_aliases (
  name {text} PRIMARY KEY,
  incident_id {fk_id} NOT NULL REFERENCES incidents(id) ON DELETE CASCADE
);
CREATE INDEX incident_aliases_incident ON incident_aliases (incident_id);
