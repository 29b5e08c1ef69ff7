-- =============================================================================
-- postgate schema migration 002: spread send_volume over shards
-- =============================================================================
--
-- Every outgoing message adds to its server's send_volume row for the current
-- minute inside the transaction that records it.  With one row per (server, minute)
-- concurrent messages of one server queue on that row's lock until each commit
-- (and its log flush) is done.  A shard number (0-15, chosen per connection) gives
-- each minute up to 16 rows, so concurrent transactions rarely meet; readers sum
-- over the shards as they already sum over the minutes of the rolling hour.
--
-- Re-runnable: the column is added only if missing; the key change is one ALTER
-- (atomic), and repeating it leaves the same key.

ALTER TABLE send_volume ADD COLUMN IF NOT EXISTS shard TINYINT UNSIGNED NOT NULL DEFAULT 0 AFTER minute;

ALTER TABLE send_volume DROP PRIMARY KEY, ADD PRIMARY KEY (server_id, scope, minute, shard);
