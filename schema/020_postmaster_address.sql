-- =============================================================================
-- postgate schema migration 020: a server's postmaster address (Postal's)
-- =============================================================================
--
-- servers.postmaster_address: the From address of the delivery reports (RFC 3464) the
-- server sends after an endpoint refused an incoming message for good. NULL: the
-- report comes from MAILER-DAEMON at the route's domain, as before. The address must
-- be at a verified domain of the server or of its organization (checked when set), so
-- no tenant writes reports from another's domain.
--
-- Re-runnable: the column is added only if missing.

ALTER TABLE servers ADD COLUMN IF NOT EXISTS postmaster_address VARCHAR(320) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL
  AFTER allow_sender;
