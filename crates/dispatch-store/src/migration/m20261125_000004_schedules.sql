-- The scheduler's memory: when each periodic schedule last fired, so a restart neither skips
-- nor repeats a period.
CREATE TABLE schedules (
  name {text} PRIMARY KEY,
  last_fire_at {ts} NOT NULL
);
