-- Full-text search over incident titles and descriptions (SQLite: an FTS5 index kept by triggers).
CREATE VIRTUAL TABLE incidents_fts USING fts5(title, description, content='incidents', content_rowid='id', tokenize='unicode61');
CREATE TRIGGER incidents_fts_insert AFTER INSERT ON incidents BEGIN
  INSERT INTO incidents_fts(rowid, title, description) VALUES (new.id, new.title, new.description);
END;
CREATE TRIGGER incidents_fts_delete AFTER DELETE ON incidents BEGIN
  INSERT INTO incidents_fts(incidents_fts, rowid, title, description) VALUES ('delete', old.id, old.title, old.description);
END;
CREATE TRIGGER incidents_fts_update AFTER UPDATE OF title, description ON incidents BEGIN
  INSERT INTO incidents_fts(incidents_fts, rowid, title, description) VALUES ('delete', old.id, old.title, old.description);
  INSERT INTO incidents_fts(rowid, title, description) VALUES (new.id, new.title, new.description);
END;
