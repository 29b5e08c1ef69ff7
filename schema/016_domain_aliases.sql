-- =============================================================================
-- postgate schema migration 016: domain aliases of hosted domains
-- =============================================================================
--
-- domains.alias_of makes a hosted domain an alias of another hosted domain of
-- the same owner (server or organization): mail for local@alias goes where
-- local@target goes, mailboxes, aliases and catch-all alike, and the target's
-- mailboxes may send as local@alias. The code keeps the rules: both verified
-- and hosting, one owner, the alias holds no mailboxes or aliases of its own,
-- and no chains (a target is never an alias itself); every lookup checks them
-- again, so an alias whose target loses its verification steers nothing.
-- Deleting the target leaves the alias a hosted domain with nothing in it.
--
-- Re-runnable: the column, key and constraint are added only if missing.

ALTER TABLE domains ADD COLUMN IF NOT EXISTS alias_of BIGINT UNSIGNED NULL AFTER hosting;
ALTER TABLE domains ADD KEY IF NOT EXISTS ix_domains_alias_of (alias_of);
ALTER TABLE domains ADD CONSTRAINT fk_domains_alias_of FOREIGN KEY IF NOT EXISTS (alias_of)
  REFERENCES domains (id) ON DELETE SET NULL;
