-- Provider credentials kept in the database, sealed with the server's secret key (a setting's
-- environment variable name → its sealed value). Configuration and environment come first.
CREATE TABLE provider_secrets (
  name {text} PRIMARY KEY,
  sealed {text} NOT NULL,
  updated_at {ts} NOT NULL
);
