-- =============================================================================
-- postgate schema migration 021: one turn at a time at a server's send limit
-- =============================================================================
--
-- A server with a send limit decides "held or not" inside the transaction that records
-- the message, after writing its row here (seq + 1). Two transactions of one server then
-- take turns: on one node the row lock orders them, and on a Galera cluster, where locks
-- are not replicated, the two write-sets name the same row, so certification lets one
-- commit and aborts the other (error 1213), which runs again and sees the first one's
-- volume. Without the row, two hosts could both pass the last message under the limit.
-- Only servers with a limit write here; send_volume stays sharded (migration 002).
--
-- Re-runnable: the table is created only if missing.

CREATE TABLE IF NOT EXISTS send_limit_turns (
  server_id  BIGINT UNSIGNED NOT NULL,
  seq        BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (server_id),
  CONSTRAINT fk_send_limit_turns_server FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
