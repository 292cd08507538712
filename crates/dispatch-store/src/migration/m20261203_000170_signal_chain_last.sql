-- The latest arrival of a deduplication chain, kept on its first instance: each batch of repeats
-- updates it once, so taking in an alert never reads the chain's stored repeats.
ALTER TABLE signal_instances ADD COLUMN last_received_at {ts};
UPDATE signal_instances SET last_received_at = (
  SELECT MAX(d.received_at) FROM signal_instances d WHERE d.duplicate_of = signal_instances.id
) WHERE filter_action <> 'deduplicate';
-- The chains' first instances by fingerprint, without their repeats.
CREATE INDEX signal_instances_heads ON signal_instances (project_id, fingerprint, id)
  WHERE filter_action <> 'deduplicate';
