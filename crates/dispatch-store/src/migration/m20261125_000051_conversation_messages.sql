-- Messages a participant wrote in the incident's external conversation (a Slack channel), for
-- the observer → participant promotion. The built-in room counts its own messages.
ALTER TABLE participants ADD COLUMN conversation_messages INTEGER NOT NULL DEFAULT 0;
