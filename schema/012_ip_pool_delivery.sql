-- =============================================================================
-- postgate schema migration 012: IP pools in Postfix's delivery path
-- =============================================================================
--
-- `postgatectl postfix enable` / `postfix pools` write one Postfix smtp
-- transport per pool address (pgpool-<ip_addresses.id>) and postgate-policyd
-- answers sender_dependent_default_transport_maps with one of them.
--
-- ip_pools.destination_concurrency_limit / destination_rate_delay (seconds):
-- Postfix's <transport>_destination_concurrency_limit and
-- <transport>_destination_rate_delay for each address of the pool (NULL:
-- Postfix's defaults).
--
-- ip_addresses.transport_ready: set by `postgatectl postfix pools` once the
-- address's transport is in master.cf; policyd chooses only such addresses, so
-- an address added through the API never sends mail to a transport Postfix
-- does not have yet.
ALTER TABLE ip_pools
  ADD COLUMN IF NOT EXISTS destination_concurrency_limit SMALLINT UNSIGNED NULL,
  ADD COLUMN IF NOT EXISTS destination_rate_delay SMALLINT UNSIGNED NULL;

ALTER TABLE ip_addresses
  ADD COLUMN IF NOT EXISTS transport_ready TINYINT(1) NOT NULL DEFAULT 0;
