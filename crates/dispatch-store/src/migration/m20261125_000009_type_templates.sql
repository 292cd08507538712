-- Per-type document templates (markdown with {{placeholders}}); NULL uses the built-in template.
ALTER TABLE incident_types ADD COLUMN incident_template {text};
ALTER TABLE incident_types ADD COLUMN review_template {text};
ALTER TABLE incident_types ADD COLUMN executive_template {text};
