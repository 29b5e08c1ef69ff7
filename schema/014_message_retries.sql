-- =============================================================================
-- postgate schema migration 014: retrying failed and held messages, paced
-- =============================================================================
--
-- A retry asked for many messages at once (POST …/messages/retry) marks each row with
-- retry_requested_at; postgate-worker's `retries` job takes the oldest marks, a bounded
-- number per round and paced within it (worker.retry_batch, worker.retry_rate), so a bulk
-- retry never floods Postfix's queue. ix_messages_retry reads only marked rows.
--
-- Re-runnable: the column and key are added only if missing.

ALTER TABLE messages
  ADD COLUMN IF NOT EXISTS retry_requested_at DATETIME(6) NULL AFTER hold_expires_at,
  ADD KEY IF NOT EXISTS ix_messages_retry (retry_requested_at);
