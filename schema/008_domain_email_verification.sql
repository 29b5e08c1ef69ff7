-- =============================================================================
-- postgate schema migration 008: domain verification by e-mail code
-- =============================================================================
--
-- Besides the DNS TXT record (verification_token, unchanged), a domain can be verified
-- by a six-digit code mailed to one of Postal's addresses at the domain or a parent
-- (webmaster@, postmaster@, admin@, administrator@, hostmaster@). verification_email is
-- where the last code went; the code itself is kept only as SHA-256 of
-- "<domain uuid>:<code>" (verification_code_hash). A code is good for an hour after
-- verification_code_sent_at and for five tries (verification_code_attempts counts
-- them); a new code replaces the old one, at most one a minute. verification_method
-- says how the domain was verified.
--
-- Re-runnable: the columns are added only if missing.

ALTER TABLE domains
  ADD COLUMN IF NOT EXISTS verification_code_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL
    AFTER verification_email,
  ADD COLUMN IF NOT EXISTS verification_code_sent_at DATETIME(6) NULL AFTER verification_code_hash,
  ADD COLUMN IF NOT EXISTS verification_code_attempts TINYINT UNSIGNED NOT NULL DEFAULT 0
    AFTER verification_code_sent_at;
