-- The database announces what other replicas must react to, whatever wrote it:
-- * every insert into `jobs` wakes the job runners of every replica (channel `dispatch_jobs`;
--   one notification per statement, sent when the transaction commits);
-- * a change to what a bearer token authenticates as (the token revoked, expired, re-scoped; its
--   owner disabled, re-roled, renamed; a row deleted) clears every replica's cache of recently
--   seen tokens (channel `dispatch_credentials`). `last_used_at` is bookkeeping and announces nothing.
CREATE FUNCTION dispatch_jobs_enqueued() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('dispatch_jobs', ''); RETURN NULL; END $$;
CREATE TRIGGER jobs_enqueued AFTER INSERT ON jobs FOR EACH STATEMENT EXECUTE FUNCTION dispatch_jobs_enqueued();
CREATE FUNCTION dispatch_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('dispatch_credentials', ''); RETURN NULL; END $$;
CREATE TRIGGER api_tokens_changed AFTER UPDATE OF individual_id, token_hash, scope, expires_at, revoked_at OR DELETE ON api_tokens FOR EACH STATEMENT EXECUTE FUNCTION dispatch_credentials_changed();
CREATE TRIGGER users_changed AFTER UPDATE OF individual_id, role, disabled_at OR DELETE ON users FOR EACH STATEMENT EXECUTE FUNCTION dispatch_credentials_changed();
CREATE TRIGGER individuals_changed AFTER UPDATE OF email, name OR DELETE ON individuals FOR EACH STATEMENT EXECUTE FUNCTION dispatch_credentials_changed();
