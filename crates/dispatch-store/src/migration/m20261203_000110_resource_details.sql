-- What else people need to use a resource besides its link (JSON: name → text), e.g. a
-- conference's passcode.
ALTER TABLE resources ADD COLUMN details {text} NOT NULL DEFAULT '{}';
