-- Where imported rows came from (`dispatch import netflix-dispatch`): one row per source system,
-- entity kind and source id, naming the row the import wrote, so a second import updates what the
-- first created instead of duplicating it.
CREATE TABLE import_sources (
  source {text} NOT NULL,
  kind {text} NOT NULL,
  source_id {text} NOT NULL,
  target_id BIGINT NOT NULL,
  imported_at {ts} NOT NULL,
  PRIMARY KEY (source, kind, source_id)
);
