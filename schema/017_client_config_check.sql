-- =============================================================================
-- postgate schema migration 017: the DNS check of a hosted domain's client names
-- =============================================================================
--
-- A hosted domain's DNS check (by hand, and postgate-worker's dns_checks job) also
-- looks at the names mail clients find its services by: autoconfig.<domain> and
-- autodiscover.<domain> leading to autoconfig.hostname, and the SRV records of
-- autodiscover, IMAP, POP3 and submission (lib/mail/clientdns.c). Like DMARC it is
-- shown and never decides whether a domain passes; NULL for a domain that hosts no
-- mailboxes (not checked).
--
-- Re-runnable: the columns are added only if missing.

ALTER TABLE domains
  ADD COLUMN IF NOT EXISTS client_config_status ENUM('OK','Missing','Invalid') NULL AFTER dmarc_error,
  ADD COLUMN IF NOT EXISTS client_config_error VARCHAR(1000) NULL AFTER client_config_status;
