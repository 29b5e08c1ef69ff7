-- =============================================================================
-- postgate schema migration 010: mail hosting (mailboxes and aliases served)
-- =============================================================================
--
-- domains.hosting switches a domain to mail hosting: its mail goes to the
-- mailboxes and aliases of migration 001's tables (delivered by Dovecot's
-- LMTP), not to routes. Only a verified domain may be switched on (the code
-- checks it; the one verified claimant of a name is migration 003's key), and
-- every lookup also requires verified_name, so a domain that loses its
-- verification stops steering mail at once.
--
-- mailboxes.quota_messages: the most messages a mailbox may hold (NULL:
-- unlimited), beside quota_bytes. The mailbox's uuid is its storage key: its
-- mail lives in <dovecot.mail_directory>/<uuid>, so renaming the address (or
-- moving it between domains of one owner) keeps the mail.
--
-- dovecot_mailboxes is what Dovecot's SQL passdb/userdb read (`postgatectl
-- dovecot enable`): one row per mailbox of a verified, hosting-enabled domain
-- of a live owner, the address lower-cased, the argon2id hash with Dovecot's
-- {ARGON2ID} scheme prefix (Dovecot verifies it itself: the hash is kept once,
-- here). Dovecot asks by local_part and domain (both indexed through the
-- view). A read-only MariaDB user for Dovecot needs SELECT on this view alone.
--
-- Re-runnable: columns are added only if missing, the view is replaced.

ALTER TABLE domains ADD COLUMN IF NOT EXISTS hosting TINYINT(1) NOT NULL DEFAULT 0 AFTER use_for_any;

ALTER TABLE mailboxes ADD COLUMN IF NOT EXISTS quota_messages INT UNSIGNED NULL AFTER quota_bytes;

CREATE OR REPLACE SQL SECURITY DEFINER VIEW dovecot_mailboxes AS
SELECT CONCAT(m.local_part, '@', LOWER(d.name)) AS user,
       m.local_part AS local_part,
       d.name AS domain,
       CONCAT('{ARGON2ID}', m.password_hash) AS password,
       m.uuid AS storage_key,
       m.enabled AS enabled,
       m.quota_bytes AS quota_bytes,
       m.quota_messages AS quota_messages
  FROM mailboxes m
  JOIN domains d ON d.id = m.domain_id AND d.verified_name IS NOT NULL AND d.hosting = 1
  LEFT JOIN servers s ON s.id = d.server_id
  JOIN organizations o ON o.id = COALESCE(d.organization_id, s.organization_id) AND o.deleted_at IS NULL
 WHERE s.id IS NULL OR s.deleted_at IS NULL;
