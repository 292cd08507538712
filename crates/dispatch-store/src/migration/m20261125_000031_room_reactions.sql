-- Reacting to a room message with the project's timeline emoji puts the message on the timeline.
ALTER TABLE projects ADD COLUMN timeline_emoji {text} NOT NULL DEFAULT '⏱';
CREATE TABLE room_reactions (
  id {id},
  message_id {fk_id} NOT NULL REFERENCES room_messages(id) ON DELETE CASCADE,
  email {text} NOT NULL,
  emoji {text} NOT NULL,
  created_at {ts} NOT NULL,
  UNIQUE (message_id, email, emoji)
);
