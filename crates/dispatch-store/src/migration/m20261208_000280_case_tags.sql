-- A case's tags: the project's tags (the table incidents' tags come from). A case opened from a
-- definition starts with the definition's; escalating the case gives them to the incident.

CREATE TABLE case_tags (
  case_id {fk_id} NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  tag_id {fk_id} NOT NULL REFERENCES tags(id),
  PRIMARY KEY (case_id, tag_id)
);
CREATE INDEX case_tags_tag ON case_tags (tag_id);
