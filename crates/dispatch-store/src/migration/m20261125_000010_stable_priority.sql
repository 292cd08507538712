-- A project's "stable priority": the priority an incident takes when it becomes stable.
ALTER TABLE projects ADD COLUMN stable_priority_id {fk_id} REFERENCES incident_priorities(id);
