-- The full-text index also covers the resolution (similar incidents rank past ones by what fixed
-- them too; the incidents list's `q` finds words of a resolution).
DROP TRIGGER incidents_fts_insert;
DROP TRIGGER incidents_fts_delete;
DROP TRIGGER incidents_fts_update;
DROP TABLE incidents_fts;
CREATE VIRTUAL TABLE incidents_fts USING fts5(title, description, resolution, content='incidents', content_rowid='id', tokenize='unicode61');
CREATE TRIGGER incidents_fts_insert AFTER INSERT ON incidents BEGIN
  INSERT INTO incidents_fts(rowid, title, description, resolution) VALUES (new.id, new.title, new.description, new.resolution);
END;
CREATE TRIGGER incidents_fts_delete AFTER DELETE ON incidents BEGIN
  INSERT INTO incidents_fts(incidents_fts, rowid, title, description, resolution) VALUES ('delete', old.id, old.title, old.description, old.resolution);
END;
CREATE TRIGGER incidents_fts_update AFTER UPDATE OF title, description, resolution ON incidents BEGIN
  INSERT INTO incidents_fts(incidents_fts, rowid, title, description, resolution) VALUES ('delete', old.id, old.title, old.description, old.resolution);
  INSERT INTO incidents_fts(rowid, title, description, resolution) VALUES (new.id, new.title, new.description, new.resolution);
END;
INSERT INTO incidents_fts(incidents_fts) VALUES ('rebuild');
