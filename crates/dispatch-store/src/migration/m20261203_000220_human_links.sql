-- The links people click open pages of the web UI, which sit at the API resource's path without
-- the `/api/v1` prefix: links written by the built-in providers before are rewritten in place.
UPDATE resources SET link = replace(link, '/api/v1/', '/')
  WHERE link LIKE '%/api/v1/%' AND provider LIKE 'dispatch-%';
UPDATE room_bookmarks SET link = replace(link, '/api/v1/', '/') WHERE link LIKE '%/api/v1/%';
