-- Full-text search over incident titles and descriptions (PostgreSQL: a GIN expression index).
CREATE INDEX incidents_search ON incidents USING gin (to_tsvector('simple', title || ' ' || description));
