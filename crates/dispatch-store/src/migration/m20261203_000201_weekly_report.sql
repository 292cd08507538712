-- A project may have its weekly report sent to its notification rules' targets (off by default).
ALTER TABLE projects ADD COLUMN weekly_report BOOLEAN NOT NULL DEFAULT FALSE;
