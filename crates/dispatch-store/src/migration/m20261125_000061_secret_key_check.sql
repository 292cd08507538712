-- A value sealed with the server's secret key on first start: later starts open it to prove
-- they use the same key as the secrets stored in this database.
CREATE TABLE secret_key_check (
  id {id},
  sealed {text} NOT NULL,
  created_at {ts} NOT NULL
);
