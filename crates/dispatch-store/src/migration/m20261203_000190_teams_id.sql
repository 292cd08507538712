-- Microsoft Teams: a person's Azure AD object id, which Teams activities carry (`from.aadObjectId`)
-- and Graph adds members by. At most one person per id.
ALTER TABLE individuals ADD COLUMN teams_id {text};
CREATE UNIQUE INDEX individuals_teams_id ON individuals (teams_id);
