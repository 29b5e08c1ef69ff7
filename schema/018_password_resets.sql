-- =============================================================================
-- postgate schema migration 018: password resets of web admin accounts
-- =============================================================================
--
-- "Forgot your password?": POST /api/v2/password-reset mails a link with a token
-- to the account's address (the system mailer); the token is kept only as its
-- SHA-256, lasts an hour and works once; one pending reset per account (a new
-- request replaces it, at most one a minute). Setting the new password ends
-- every session of the account.
--
-- Re-runnable: the table is created only if missing.

CREATE TABLE IF NOT EXISTS user_password_resets (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  user_id     BIGINT UNSIGNED NOT NULL,
  token_hash  CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  expires_at  DATETIME(6) NOT NULL,
  created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_user_password_resets_user (user_id),
  UNIQUE KEY uq_user_password_resets_token (token_hash),
  KEY ix_user_password_resets_expires (expires_at),
  CONSTRAINT fk_user_password_resets_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
