-- A person's edit of a built-in document: once someone edited it by hand, the engine stops
-- re-rendering it from its template (it would otherwise overwrite the edit).
ALTER TABLE documents ADD COLUMN edited_by {text};
ALTER TABLE documents ADD COLUMN edited_at {ts};
