-- =============================================================================
-- postgate schema migration 011: OpenID Connect sign-in
-- =============================================================================
--
-- A sign-in through the OpenID provider (oidc.* in postgate.conf) starts with a
-- pre-login record: the SHA-256 of its random `state`, the `nonce` the ID token
-- must carry back and the PKCE code verifier (RFC 7636, S256) the token request
-- must send. The browser keeps the state in a short-lived cookie as well, so
-- the callback is taken only from the browser that started the sign-in. A
-- record is deleted when the callback takes it (a state works once) and is
-- refused after expires_at (ten minutes); expired records are deleted by the
-- next sign-in that starts.
--
-- users.oidc_issuer and users.oidc_uid (schema 001) link a user to the
-- provider's subject: the first sign-in matches by a verified e-mail address,
-- later ones by (issuer, subject).
--
-- Re-runnable: the table is created only if missing.

CREATE TABLE IF NOT EXISTS oidc_logins (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  state_hash      CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  nonce           VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  code_verifier   VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  expires_at      DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_oidc_logins_state (state_hash),
  KEY ix_oidc_logins_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
