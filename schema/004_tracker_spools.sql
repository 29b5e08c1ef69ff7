-- =============================================================================
-- postgate schema migration 004: what postgate-tracker's spools have written
-- =============================================================================
--
-- postgate-tracker appends every click and load to a local spool file before it
-- answers, and replays what it finds there when it starts, so a crash loses none
-- a browser got its answer for.  Each run of the tracker numbers its records
-- (spool_key, a random name per run, and a sequence number); the transaction that
-- writes a batch of clicks and loads also raises written_seq to the batch's last
-- number.  Batches are written in order, so every record of spool_key up to
-- written_seq is in the database: a replay after a crash between the COMMIT and
-- the removal of the spool file, or a retry after a COMMIT whose answer was lost,
-- skips them instead of recording them twice.  A row is deleted once no spool
-- file of its run is left.
--
-- Re-runnable: the table is created only if missing.

CREATE TABLE IF NOT EXISTS tracker_spools (
  spool_key    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  written_seq  BIGINT UNSIGNED NOT NULL,
  updated_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (spool_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
