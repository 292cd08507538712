-- The first mail of each e-mail thread per recipient (an incident's stakeholder mail): the
-- thread's root, whose Message-ID the later mails of the thread answer. Claimed by the first
-- mail sent, so two mails sent at once cannot both be the root.
CREATE TABLE mail_threads (
  thread {text} NOT NULL,
  recipient {text} NOT NULL,
  root_key {text} NOT NULL,
  created_at {ts} NOT NULL,
  PRIMARY KEY (thread, recipient)
);
