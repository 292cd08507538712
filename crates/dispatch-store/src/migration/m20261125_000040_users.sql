-- People who can sign in, with their organization role (member, admin, manager, owner). Service
-- accounts are users of kind 'service' that only hold API tokens. Every person who already had an
-- API token becomes a user with the highest role among their tokens.
CREATE TABLE users (
  id {id},
  individual_id {fk_id} NOT NULL UNIQUE REFERENCES individuals(id),
  role {text} NOT NULL DEFAULT 'member',
  kind {text} NOT NULL DEFAULT 'person',
  password_hash {text},
  setup_token_hash {text} UNIQUE,
  setup_expires_at {ts},
  disabled_at {ts},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL
);

INSERT INTO users (individual_id, role, kind, created_at, updated_at)
SELECT individual_id,
       CASE MAX(CASE role WHEN 'owner' THEN 3 WHEN 'manager' THEN 2 WHEN 'admin' THEN 1 ELSE 0 END)
         WHEN 3 THEN 'owner' WHEN 2 THEN 'manager' WHEN 1 THEN 'admin' ELSE 'member' END,
       'person', MIN(created_at), MIN(created_at)
FROM api_tokens GROUP BY individual_id;

-- What a token may do (read, write, admin); tokens minted before scopes existed keep full power.
ALTER TABLE api_tokens ADD COLUMN scope {text} NOT NULL DEFAULT 'admin';
