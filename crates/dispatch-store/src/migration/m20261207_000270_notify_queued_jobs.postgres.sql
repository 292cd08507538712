-- Only jobs inserted to wait in the queue wake the job runners of every replica: a flow's next
-- step inserted already claimed by the runner that will run it (see `repo::job::enqueue_claimed`)
-- wakes nobody, so its commit takes no part in PostgreSQL's serialization of notifying commits.
DROP TRIGGER jobs_enqueued ON jobs;
CREATE OR REPLACE FUNCTION dispatch_jobs_enqueued() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF EXISTS (SELECT 1 FROM inserted WHERE state = 'queued') THEN PERFORM pg_notify('dispatch_jobs', ''); END IF; RETURN NULL; END $$;
CREATE TRIGGER jobs_enqueued AFTER INSERT ON jobs REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION dispatch_jobs_enqueued();
