-- =============================================================================
-- postgate schema migration 022: indexes for searches that combine filters
-- =============================================================================
--
-- The message search (GET …/messages, lib/mail/message.c) reads one index newest first
-- and checks the other filters on each row it finds. That is quick while matches are
-- dense in the index it reads, but filters that (nearly) exclude each other make it read
-- the index's whole range to fill a page or to find nothing: no incoming message is
-- Sent or carries a tag, and a rare tag is rarely Held. These three keep the pairs the
-- web admin's filter form combines to one index range each, in the page's order
-- (created_at, then the primary key id, which InnoDB appends). bench/search measures
-- them (doc/performance.md).
--
-- Re-runnable: each key is added only if missing.

ALTER TABLE messages
  ADD KEY IF NOT EXISTS ix_messages_server_scope_status (server_id, scope, status, created_at),
  ADD KEY IF NOT EXISTS ix_messages_server_scope_tag (server_id, scope, tag, created_at),
  ADD KEY IF NOT EXISTS ix_messages_server_tag_status (server_id, tag, status, created_at);
