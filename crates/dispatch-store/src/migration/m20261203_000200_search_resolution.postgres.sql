-- The full-text index also covers the resolution (similar incidents rank past ones by what fixed
-- them too; the incidents list's `q` finds words of a resolution). The expression must stay the
-- one `repo::search` queries, or the index is not used.
CREATE INDEX incidents_search_all ON incidents USING gin (to_tsvector('simple', title || ' ' || description || ' ' || coalesce(resolution, '')));
DROP INDEX incidents_search;
