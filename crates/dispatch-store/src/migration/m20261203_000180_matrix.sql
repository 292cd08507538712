-- Matrix: a person's Matrix ID (`@alice:example.org`), by which the Matrix transport knows who
-- typed a command and whom to invite to an incident's room (one person per ID); and the
-- position of a chat transport's event stream (Matrix's /sync `next_batch`), so a restarted
-- server resumes where it stopped and handles no message twice.

ALTER TABLE individuals ADD COLUMN matrix_id {text};
CREATE UNIQUE INDEX individuals_matrix_id ON individuals (matrix_id);

CREATE TABLE transport_cursors (
  name {text} PRIMARY KEY,
  position {text} NOT NULL,
  updated_at {ts} NOT NULL
);
