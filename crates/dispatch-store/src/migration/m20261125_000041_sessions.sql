-- Web sessions: the cookie holds a random secret; only its SHA-256 hash is stored. A session ends
-- when revoked (sign-out, account disabled), after its absolute lifetime, or when idle too long.
CREATE TABLE sessions (
  id {id},
  user_id {fk_id} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash {text} NOT NULL UNIQUE,
  csrf_token {text} NOT NULL,
  created_at {ts} NOT NULL,
  last_seen_at {ts} NOT NULL,
  expires_at {ts} NOT NULL,
  revoked_at {ts},
  source_addr {text},
  user_agent {text}
);
CREATE INDEX sessions_user ON sessions (user_id);
