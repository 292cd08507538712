-- Failed sign-ins per key (a hashed e-mail or address) and fixed time window, shared by every
-- server on the database, so the limit holds across replicas and restarts.
CREATE TABLE login_throttle (
  key_hash {text} NOT NULL,
  window_start {ts} NOT NULL,
  failures INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (key_hash, window_start)
);
CREATE INDEX login_throttle_window ON login_throttle (window_start);
