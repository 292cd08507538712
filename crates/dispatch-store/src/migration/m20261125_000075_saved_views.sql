-- Saved views of the incidents list: a person's named filters (the list's query string), one
-- name per person.
CREATE TABLE saved_views (
  id {id},
  user_id {fk_id} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name {text} NOT NULL,
  query {text} NOT NULL,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  UNIQUE (user_id, name)
);
