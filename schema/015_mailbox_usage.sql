-- =============================================================================
-- postgate schema migration 015: mailbox usage as Dovecot counts it
-- =============================================================================
--
-- Dovecot keeps each mailbox's usage (its quota "count" backend, in its index files) and
-- copies it here through its quota_clone plugin and an SQL dict (`postgatectl dovecot
-- enable`): one row per user name (the address as Dovecot's passdb returns it), replaced at
-- every change of the mailbox (delivery, expunge). postgate only reads it, joining by
-- address; after a rename the new address has its row at the mailbox's next change. The
-- copy is what the admin shows, never what enforces the quota (Dovecot does).
--
-- mailboxes.used_bytes/used_messages, which nothing filled, go: one source of truth.
-- Dovecot's database user needs INSERT and UPDATE on this table (doc/manual.md).
--
-- Re-runnable: the table is created and the columns dropped only if needed.

CREATE TABLE IF NOT EXISTS mailbox_usage (
  username    VARCHAR(320) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  bytes       BIGINT NOT NULL DEFAULT 0,
  messages    BIGINT NOT NULL DEFAULT 0,
  updated_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE mailboxes
  DROP COLUMN IF EXISTS used_bytes,
  DROP COLUMN IF EXISTS used_messages;
