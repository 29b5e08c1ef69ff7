-- =============================================================================
-- postgate schema migration 009: two-factor sign-in with time-based codes
-- =============================================================================
--
-- A user may add a second factor to their password: a TOTP secret (RFC 6238,
-- 30-second steps, six digits) held in user_totp, sealed with the installation
-- key (util/seal.h, context "totp:<user id>", so a sealed secret cannot be
-- moved to another user's row), never in clear. confirmed_at is NULL while an
-- enrolment waits for its first code; last_step is the time step of the last
-- code accepted, and a code of that step or an earlier one is refused (a code
-- works once). Ten single-use recovery codes per user are kept as keyed
-- hashes (HMAC-SHA256 under a key derived from the installation key), each
-- with the time it was used.
--
-- users.totp_required (set by an administrator) and
-- organizations.require_two_factor (every member) make a second factor
-- mandatory: after the password such a user without one can reach nothing but
-- the enrolment. user_sessions.second_factor is where a sign-in stands:
--   complete  the password, and the code when one was needed, were given
--   code      the password was right, the code is still to come
--   enrol     the password was right, a second factor is required and missing
--
-- Re-runnable: tables and columns are created only if missing.

CREATE TABLE IF NOT EXISTS user_totp (
  user_id        BIGINT UNSIGNED NOT NULL,
  secret_sealed  VARBINARY(255) NOT NULL,
  confirmed_at   DATETIME(6) NULL,
  last_step      BIGINT UNSIGNED NULL,
  created_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (user_id),
  CONSTRAINT fk_user_totp_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS user_recovery_codes (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  user_id     BIGINT UNSIGNED NOT NULL,
  code_hash   CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  used_at     DATETIME(6) NULL,
  created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_user_recovery_codes (user_id, code_hash),
  CONSTRAINT fk_user_recovery_codes_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE users ADD COLUMN IF NOT EXISTS totp_required TINYINT(1) NOT NULL DEFAULT 0 AFTER admin;

ALTER TABLE organizations
  ADD COLUMN IF NOT EXISTS require_two_factor TINYINT(1) NOT NULL DEFAULT 0 AFTER time_zone;

ALTER TABLE user_sessions
  ADD COLUMN IF NOT EXISTS second_factor ENUM('complete','code','enrol') NOT NULL DEFAULT 'complete'
    AFTER csrf_token_hash;
