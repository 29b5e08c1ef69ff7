-- =============================================================================
-- postgate schema migration 021: turns, for decisions that read rows and write others
-- =============================================================================
--
-- Some transactions decide from rows they read and then write other rows: the send
-- limit (the hour's volume, then the new message's rows), the last administrator or
-- organization owner who may not leave, one pending DKIM key per domain and algorithm.
-- On one MariaDB a SELECT ... FOR UPDATE orders them; on a Galera cluster locks are not
-- replicated, so two hosts on two nodes could both decide from the same state. Such a
-- transaction first takes its turn: it writes the row (scope, id) here (seq + 1). Two
-- of them on one node then queue on the row lock, and on two nodes their write-sets
-- name the same row, so certification lets one commit and aborts the other (error
-- 1213), which runs again and sees the first one's outcome. See lib/mail/turn.h.
--
-- Rows are tiny: one per server with a send limit, domain rotated, organization whose
-- owners changed, complained-of message; a row whose object is gone is harmless.
--
-- Re-runnable: the table is created only if missing.

CREATE TABLE IF NOT EXISTS turns (
  scope  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  id     BIGINT UNSIGNED NOT NULL,
  seq    BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (scope, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
