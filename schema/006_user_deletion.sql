-- =============================================================================
-- postgate schema migration 006: people delete their own account
-- =============================================================================
--
-- A user who deletes their account is marked (deleted_at) at once: their
-- sessions, API tokens and memberships are removed and their credentials
-- cleared in the same transaction, and no lookup of postgate's sees the row
-- any more.  The row itself stays until an installation administrator purges
-- it (DELETE, which organizations.owner_id still restricts while the user is
-- recorded as the owner of a deleted organization not yet purged).
--
-- live_email is the address while the account is not deleted and NULL
-- afterwards; its unique key replaces uq_users_email, so a deleted account's
-- address can be used again at once by an invitation or a new account, the
-- way organizations free their permalink (live_permalink).  Lookups by
-- address use live_email.
--
-- Re-runnable: columns and keys are added only if missing, the old key is
-- dropped only if present (after the new one exists: every row is live at
-- that point, so the addresses are unique).

ALTER TABLE users
  ADD COLUMN IF NOT EXISTS deleted_at DATETIME(6) NULL AFTER last_login_at,
  ADD COLUMN IF NOT EXISTS live_email VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
    AS (IF(deleted_at IS NULL, email, NULL)) PERSISTENT AFTER deleted_at;

ALTER TABLE users ADD UNIQUE KEY IF NOT EXISTS uq_users_live_email (live_email);

ALTER TABLE users ADD KEY IF NOT EXISTS ix_users_deleted (deleted_at);

ALTER TABLE users DROP KEY IF EXISTS uq_users_email;
