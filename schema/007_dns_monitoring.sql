-- =============================================================================
-- postgate schema migration 007: periodic DNS checks of every domain
-- =============================================================================
--
-- postgate-worker's dns_checks job checks every verified domain's records once per
-- worker.dns_check_interval (oldest dns_checked_at first, ix_domains_dns_checked)
-- and queues DomainDNSError when a domain that was OK fails: once per transition,
-- not at every check. dns_monitor_state is what the job saw last:
--   unknown  never checked by the job (a new domain that fails raises nothing:
--            its records are probably not published yet)
--   ok       passing (Postal's rule: SPF and DKIM OK, MX and return path OK or Missing)
--   alerted  failing, DomainDNSError queued; back to ok once it passes again
-- A check someone runs by hand updates the statuses but not this state, so a
-- transition it shows is still announced by the next periodic check.
--
-- The checks now include DMARC (dmarc_status, dmarc_error: one v=DMARC1 record with a
-- p= policy at _dmarc.<name>); it is recorded and shown, not part of Postal's pass rule.
--
-- Re-runnable: the columns and the key are added only if missing.

ALTER TABLE domains
  ADD COLUMN IF NOT EXISTS dns_monitor_state ENUM('unknown','ok','alerted') NOT NULL DEFAULT 'unknown'
    AFTER dns_checked_at,
  ADD COLUMN IF NOT EXISTS dmarc_status ENUM('OK','Missing','Invalid') NULL AFTER return_path_error,
  ADD COLUMN IF NOT EXISTS dmarc_error VARCHAR(1000) NULL AFTER dmarc_status;

-- Track domains are checked by the same job (their CNAME); their oldest check first.
ALTER TABLE track_domains ADD KEY IF NOT EXISTS ix_track_domains_dns_checked (dns_checked_at);
