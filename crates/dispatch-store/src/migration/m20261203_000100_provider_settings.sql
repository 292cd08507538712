-- A project's settings for the providers that take some (JSON: provider slug → settings), e.g.
-- the Jira project key, issue type and transition names per project and incident type.
ALTER TABLE projects ADD COLUMN provider_settings {text} NOT NULL DEFAULT '{}';
