-- Per-project membership: who belongs to a project and as what (`admin` runs the project's
-- configuration, `member` takes part). A members-only project's incidents are visible to, and
-- declared by, its members, its incidents' participants and organization admins only.
CREATE TABLE project_members (
  id {id},
  project_id {fk_id} NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  user_id {fk_id} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role {text} NOT NULL DEFAULT 'member',
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  UNIQUE (project_id, user_id)
);
CREATE INDEX project_members_user ON project_members (user_id);

ALTER TABLE projects ADD COLUMN members_only BOOLEAN NOT NULL DEFAULT FALSE;
