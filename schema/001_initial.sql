-- =============================================================================
-- postgate schema migration 001: the initial data model of the whole product
-- =============================================================================
--
-- What this is
--   Every table postgate uses: installation keys, users and organizations,
--   mail servers, domains and DKIM keys, mail hosting (mailboxes, aliases),
--   credentials, routes and endpoints, tracking, webhooks, IP pools, the
--   per-recipient message log with deliveries, links, clicks and loads,
--   suppressions, statistics and the helpers of the periodic jobs.
--   doc/schema.md describes the model in prose.  Target: MariaDB 10.11.
--
-- How it is applied
--   The C migration runner (lib/, driven by postgatectl) applies the files in
--   schema/ in numeric order and records each one in its own
--   schema_migrations table.  That table is the runner's and is not created
--   here.  Every statement is CREATE TABLE IF NOT EXISTS and the file holds
--   no data, so a run interrupted half way can simply be run again.  MariaDB
--   DDL is atomic (10.6 and later): a table is either fully created or absent.
--   Tables appear parents first, so every foreign key resolves on creation.
--   Every statement ends with a semicolon at the end of a line, and no
--   semicolon appears inside a comment or a literal, so a runner may split
--   the file on that boundary.  There are no DELIMITER blocks, routines or
--   triggers.
--
-- Naming
--   Tables: plural snake_case.  Columns: snake_case, a reference is
--   <thing>_id, a point in time is <event>_at, a hashed secret is *_hash,
--   an encrypted secret is *_encrypted.  Keys: PRIMARY, uq_<table>_<what>
--   (unique), ix_<table>_<what> (plain), fk_<table>_<column>,
--   ck_<table>_<what>.  Enum values Postal shows to API and webhook clients
--   keep Postal's spelling (Live, HardFail, BodyAsJSON, MessageSent), enum
--   values of our own are lower case (incoming, pending, owner).
--
-- Ids
--   Every entity has id BIGINT UNSIGNED AUTO_INCREMENT, used for joins and
--   as Postal's numeric message "id".  Pure association tables use a
--   composite primary key.  Objects exposed by the management API also have
--   a uuid (native UUID type, 16 bytes, random version 4 made by the code).
--   Mail-facing identifiers are random tokens (ascii_bin, case-sensitive):
--   message and link tokens 16 alphanumerics, route tokens 8, server tokens
--   short lower case.
--
-- Time
--   DATETIME(6), always UTC: every postgate connection sets
--   time_zone = '+00:00', so CURRENT_TIMESTAMP(6) defaults and
--   UNIX_TIMESTAMP() (Postal's float "timestamp") are UTC.  Statistics
--   buckets are DATETIME (whole hours or days).
--
-- Text and collations
--   Default utf8mb4 / utf8mb4_unicode_ci for human text (names, subjects).
--   Domain names and hostnames: ascii (IDNs as A-labels), domain names
--   ascii_general_ci because DNS names are case-insensitive.
--   Addresses and local parts that are lookup keys (users.email,
--   mailboxes, aliases, suppressions): utf8mb4_bin, stored lower-cased by
--   the code, which also lower-cases lookup keys (Postfix folds case of
--   table lookups the same way).  Byte comparison avoids the unicode_ci
--   equivalences (such as ss and the sharp s) that would make two different
--   mailboxes collide.
--   Addresses in the message log (rcpt_to, mail_from) are stored as
--   received, with the default case-insensitive collation, so that a search
--   for Bob@Example.com finds bob@example.com.
--   Tokens, hashes, permalinks, selectors and PEM text: ascii_bin.
--
-- Secrets
--   *_hash (tokens, API keys, credentials): lower-case hex SHA-256 of a
--   random secret of at least 128 bits, so a fast hash is enough and lookup
--   is an indexed equality.  password_hash: an argon2id encoded string
--   ($argon2id$v=19$m=...), which Dovecot can also verify (scheme ARGON2ID).
--   *_encrypted: sealed with the installation's master key, which lives in
--   the configuration and never in the database (AES-256-GCM, the layout
--   starts with a version byte and is owned by lib/).  A database dump alone
--   reveals no private key and no reusable secret.
--
-- Foreign keys
--   Configuration tables reference their owner with ON DELETE CASCADE.  The
--   message log is referenced by its children with CASCADE (deliveries,
--   links, queued_messages), but messages reference servers with RESTRICT:
--   a server's history is removed in small batches by the purge job before
--   the server row may go, so one DELETE can never cascade into millions of
--   rows.  Other references from the log (credential, route, endpoint, raw
--   message, bounce) carry no foreign key: the log records history, may
--   outlive what it points to, and must not take locks on hot parent rows
--   (credentials.last_used_at) on the SMTP path.
--
-- Retention plan (doc/schema.md has the details)
--   The four largest append-only tables, raw_messages, webhook_requests,
--   clicks and loads, are RANGE COLUMNS partitioned by created_day (the UTC
--   date of insertion), one partition per day named pYYYYMMDD plus a
--   catch-all pmax.  This file creates only pmax.  postgate-worker's
--   retention job (the same routine runs once after postgatectl migrates)
--   keeps seven future daily partitions split off pmax, so pmax stays empty
--   and a split copies no rows, and drops the partitions older than the
--   longest retention any live server asks for (DROP PARTITION: no scan, no
--   undo, space returned at once).  Servers with a shorter retention, and
--   the raw-message size cap, are enforced by indexed range deletes on
--   (server_id, created_day).  InnoDB allows no foreign keys on partitioned
--   tables and requires the partition column in every unique key, hence
--   PRIMARY KEY (id, created_day) and no foreign keys on those four tables.
--   The message log itself (messages and its children) is not partitioned:
--   it needs unique tokens and foreign keys.  Its retention is a per-server
--   batched DELETE on ix_messages_server_created, never a table scan.
-- =============================================================================


-- -----------------------------------------------------------------------------
-- Installation
-- -----------------------------------------------------------------------------

-- Signing keys for webhook and HTTP endpoint requests (X-Postal-Signature,
-- X-Postal-Signature-256, X-Postal-Signature-KID), published as JWKS at
-- /.well-known/jwks.json.  The signing key is the newest row that is not
-- retired.  Retired keys stay for a while so consumers can verify old
-- requests, then the admin removes them.
CREATE TABLE IF NOT EXISTS installation_keys (
  id                     BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  kid                    VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  algorithm              ENUM('RSA') NOT NULL DEFAULT 'RSA',
  key_bits               SMALLINT UNSIGNED NOT NULL DEFAULT 2048,
  private_key_encrypted  BLOB NOT NULL,
  public_key_pem         TEXT CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at             DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  retired_at             DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_installation_keys_kid (kid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Cluster-wide mutual exclusion and bookkeeping for periodic jobs (retention,
-- partition maintenance, DNS checks, hold expiry, statistics, purge).  A
-- worker takes a job with
--   INSERT IGNORE INTO jobs (name) VALUES (?)
--   UPDATE jobs SET locked_by = ?, locked_until = ? WHERE name = ?
--     AND (locked_until IS NULL OR locked_until < NOW(6))
-- and owns it when one row changed.  GET_LOCK() is not used because Galera
-- does not replicate it.  state holds a job's small resumable cursor.
CREATE TABLE IF NOT EXISTS jobs (
  name              VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  locked_by         VARCHAR(255) NULL,
  locked_until      DATETIME(6) NULL,
  last_started_at   DATETIME(6) NULL,
  last_finished_at  DATETIME(6) NULL,
  last_error        TEXT NULL,
  state             JSON NULL,
  updated_at        DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Where each host's postgate-worker has read its Postfix log up to.  The
-- byte_offset is the byte after the last complete line processed.  A changed
-- inode means the file was rotated: the reader finishes the old file first.
CREATE TABLE IF NOT EXISTS postfix_log_positions (
  host        VARCHAR(255) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  file_path   VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  inode       BIGINT UNSIGNED NOT NULL,
  byte_offset BIGINT UNSIGNED NOT NULL DEFAULT 0,
  updated_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (host, file_path)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;


-- -----------------------------------------------------------------------------
-- Users and organizations
-- -----------------------------------------------------------------------------

-- People who use the web admin and management API.  password_hash is NULL
-- for users who sign in only through OpenID Connect or have not yet set one.
-- The first OIDC login matches by email, later ones by (oidc_issuer, oidc_uid).
CREATE TABLE IF NOT EXISTS users (
  id                          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  uuid                        UUID NOT NULL,
  email                       VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  first_name                  VARCHAR(255) NOT NULL DEFAULT '',
  last_name                   VARCHAR(255) NOT NULL DEFAULT '',
  password_hash               VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
  admin                       TINYINT(1) NOT NULL DEFAULT 0,
  time_zone                   VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'UTC',
  oidc_issuer                 VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
  oidc_uid                    VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
  password_reset_token_hash   CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  password_reset_expires_at   DATETIME(6) NULL,
  last_login_at               DATETIME(6) NULL,
  created_at                  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at                  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_users_uuid (uuid),
  UNIQUE KEY uq_users_email (email),
  UNIQUE KEY uq_users_oidc (oidc_issuer, oidc_uid),
  UNIQUE KEY uq_users_password_reset (password_reset_token_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Web admin login sessions.  The cookie carries the session token, the
-- browser sends the CSRF token in a header, both are stored hashed.
CREATE TABLE IF NOT EXISTS user_sessions (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  user_id          BIGINT UNSIGNED NOT NULL,
  token_hash       CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  csrf_token_hash  CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ip               VARCHAR(45) CHARACTER SET ascii COLLATE ascii_bin NULL,
  user_agent       VARCHAR(512) NULL,
  created_at       DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  last_seen_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  expires_at       DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_user_sessions_token (token_hash),
  KEY ix_user_sessions_user (user_id),
  KEY ix_user_sessions_expires (expires_at),
  CONSTRAINT fk_user_sessions_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Personal Bearer tokens for the management API.  token_prefix is shown in
-- the UI so a user can tell tokens apart.  The token itself is shown once.
CREATE TABLE IF NOT EXISTS user_api_tokens (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  uuid          UUID NOT NULL,
  user_id       BIGINT UNSIGNED NOT NULL,
  name          VARCHAR(255) NOT NULL,
  token_hash    CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  token_prefix  VARCHAR(12) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  last_used_at  DATETIME(6) NULL,
  expires_at    DATETIME(6) NULL,
  created_at    DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_user_api_tokens_uuid (uuid),
  UNIQUE KEY uq_user_api_tokens_token (token_hash),
  KEY ix_user_api_tokens_user (user_id),
  CONSTRAINT fk_user_api_tokens_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- IP pools come before organizations and servers, which reference them.
CREATE TABLE IF NOT EXISTS ip_pools (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  uuid        UUID NOT NULL,
  name        VARCHAR(255) NOT NULL,
  is_default  TINYINT(1) NOT NULL DEFAULT 0,
  created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_ip_pools_uuid (uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Sending addresses.  hostname is used for HELO and must match the PTR.
-- Higher priority is chosen more often (weighted choice within the pool).
CREATE TABLE IF NOT EXISTS ip_addresses (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  ip_pool_id  BIGINT UNSIGNED NOT NULL,
  ipv4        VARCHAR(15) CHARACTER SET ascii COLLATE ascii_bin NULL,
  ipv6        VARCHAR(45) CHARACTER SET ascii COLLATE ascii_bin NULL,
  hostname    VARCHAR(253) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  priority    TINYINT UNSIGNED NOT NULL DEFAULT 100,
  created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  KEY ix_ip_addresses_pool (ip_pool_id),
  CONSTRAINT ck_ip_addresses_priority CHECK (priority <= 100),
  CONSTRAINT ck_ip_addresses_address CHECK (ipv4 IS NOT NULL OR ipv6 IS NOT NULL),
  CONSTRAINT fk_ip_addresses_ip_pool_id FOREIGN KEY (ip_pool_id) REFERENCES ip_pools (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Organizations.  Soft-deleted (deleted_at) first, purged later by the
-- worker.  live_permalink is the permalink while the organization is not
-- deleted, so a deleted organization's permalink can be reused at once.
-- The owner cannot be deleted while they own an organization (RESTRICT).
CREATE TABLE IF NOT EXISTS organizations (
  id                 BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  uuid               UUID NOT NULL,
  name               VARCHAR(255) NOT NULL,
  permalink          VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  time_zone          VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'UTC',
  owner_id           BIGINT UNSIGNED NULL,
  suspended_at       DATETIME(6) NULL,
  suspension_reason  VARCHAR(1000) NULL,
  deleted_at         DATETIME(6) NULL,
  live_permalink     VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin
                     AS (IF(deleted_at IS NULL, permalink, NULL)) PERSISTENT,
  created_at         DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at         DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_organizations_uuid (uuid),
  UNIQUE KEY uq_organizations_live_permalink (live_permalink),
  KEY ix_organizations_owner (owner_id),
  KEY ix_organizations_deleted (deleted_at),
  CONSTRAINT ck_organizations_permalink CHECK (permalink REGEXP '^[a-z0-9-]+$'),
  CONSTRAINT fk_organizations_owner_id FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS organization_users (
  organization_id  BIGINT UNSIGNED NOT NULL,
  user_id          BIGINT UNSIGNED NOT NULL,
  role             ENUM('owner','admin','member','readonly') NOT NULL DEFAULT 'member',
  created_at       DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at       DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (organization_id, user_id),
  KEY ix_organization_users_user (user_id),
  CONSTRAINT fk_organization_users_organization_id FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE,
  CONSTRAINT fk_organization_users_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One open invitation per (organization, address).  Accepting it creates
-- the organization_users row (and the user if needed) and deletes this row.
CREATE TABLE IF NOT EXISTS user_invites (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  uuid             UUID NOT NULL,
  organization_id  BIGINT UNSIGNED NOT NULL,
  email            VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  role             ENUM('owner','admin','member','readonly') NOT NULL DEFAULT 'member',
  token_hash       CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  invited_by_id    BIGINT UNSIGNED NULL,
  expires_at       DATETIME(6) NOT NULL,
  created_at       DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_user_invites_uuid (uuid),
  UNIQUE KEY uq_user_invites_token (token_hash),
  UNIQUE KEY uq_user_invites_organization_email (organization_id, email),
  KEY ix_user_invites_expires (expires_at),
  CONSTRAINT fk_user_invites_organization_id FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE,
  CONSTRAINT fk_user_invites_invited_by_id FOREIGN KEY (invited_by_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Which IP pools an organization's servers may use.
CREATE TABLE IF NOT EXISTS organization_ip_pools (
  organization_id  BIGINT UNSIGNED NOT NULL,
  ip_pool_id       BIGINT UNSIGNED NOT NULL,
  created_at       DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (organization_id, ip_pool_id),
  KEY ix_organization_ip_pools_pool (ip_pool_id),
  CONSTRAINT fk_organization_ip_pools_organization_id FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE,
  CONSTRAINT fk_organization_ip_pools_ip_pool_id FOREIGN KEY (ip_pool_id) REFERENCES ip_pools (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;


-- -----------------------------------------------------------------------------
-- Mail servers
-- -----------------------------------------------------------------------------

-- A "mail server" of an organization: the unit that owns credentials,
-- routes, webhooks and the message log.  send_limit is messages per rolling
-- hour (NULL: no limit).  send_limit_approaching_at / _exceeded_at record
-- when the matching webhook event last fired (at most once an hour).
-- Retention: raw messages raw_message_retention_days and at most
-- raw_message_retention_size MB, message metadata message_retention_days.
CREATE TABLE IF NOT EXISTS servers (
  id                          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  uuid                        UUID NOT NULL,
  organization_id             BIGINT UNSIGNED NOT NULL,
  name                        VARCHAR(255) NOT NULL,
  permalink                   VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  mode                        ENUM('Live','Development') NOT NULL DEFAULT 'Live',
  token                       VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  send_limit                  INT UNSIGNED NULL,
  send_limit_approaching_at   DATETIME(6) NULL,
  send_limit_exceeded_at      DATETIME(6) NULL,
  raw_message_retention_days  SMALLINT UNSIGNED NOT NULL DEFAULT 30,
  raw_message_retention_size  INT UNSIGNED NOT NULL DEFAULT 2048,
  message_retention_days      SMALLINT UNSIGNED NOT NULL DEFAULT 60,
  allow_sender                TINYINT(1) NOT NULL DEFAULT 0,
  spam_threshold              DECIMAL(6,2) NOT NULL DEFAULT 5.00,
  spam_failure_threshold      DECIMAL(6,2) NOT NULL DEFAULT 20.00,
  outbound_spam_threshold     DECIMAL(6,2) NULL,
  postmaster_address          VARCHAR(320) NULL,
  privacy_mode                TINYINT(1) NOT NULL DEFAULT 0,
  log_smtp_data               TINYINT(1) NOT NULL DEFAULT 0,
  ip_pool_id                  BIGINT UNSIGNED NULL,
  suspended_at                DATETIME(6) NULL,
  suspension_reason           VARCHAR(1000) NULL,
  deleted_at                  DATETIME(6) NULL,
  live_permalink              VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin
                              AS (IF(deleted_at IS NULL, permalink, NULL)) PERSISTENT,
  created_at                  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at                  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_servers_uuid (uuid),
  UNIQUE KEY uq_servers_token (token),
  UNIQUE KEY uq_servers_organization_live_permalink (organization_id, live_permalink),
  KEY ix_servers_ip_pool (ip_pool_id),
  KEY ix_servers_deleted (deleted_at),
  CONSTRAINT ck_servers_permalink CHECK (permalink REGEXP '^[a-z0-9-]+$'),
  CONSTRAINT ck_servers_token CHECK (token REGEXP '^[a-z0-9]+$'),
  CONSTRAINT ck_servers_thresholds CHECK (spam_threshold <= spam_failure_threshold),
  CONSTRAINT fk_servers_organization_id FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE,
  CONSTRAINT fk_servers_ip_pool_id FOREIGN KEY (ip_pool_id) REFERENCES ip_pools (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Rules that pick an IP pool by sender/recipient text: a server's rules
-- first, then its organization's, then the server's default pool.  Exactly
-- one owner is set.  from_text / to_text hold one pattern per line.
CREATE TABLE IF NOT EXISTS ip_pool_rules (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  uuid             UUID NOT NULL,
  organization_id  BIGINT UNSIGNED NULL,
  server_id        BIGINT UNSIGNED NULL,
  ip_pool_id       BIGINT UNSIGNED NOT NULL,
  from_text        TEXT NULL,
  to_text          TEXT NULL,
  created_at       DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at       DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_ip_pool_rules_uuid (uuid),
  KEY ix_ip_pool_rules_organization (organization_id),
  KEY ix_ip_pool_rules_server (server_id),
  KEY ix_ip_pool_rules_pool (ip_pool_id),
  CONSTRAINT ck_ip_pool_rules_owner CHECK ((organization_id IS NULL) <> (server_id IS NULL)),
  CONSTRAINT fk_ip_pool_rules_organization_id FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE,
  CONSTRAINT fk_ip_pool_rules_server_id FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE,
  CONSTRAINT fk_ip_pool_rules_ip_pool_id FOREIGN KEY (ip_pool_id) REFERENCES ip_pools (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;


-- -----------------------------------------------------------------------------
-- Domains and DKIM
-- -----------------------------------------------------------------------------

-- A domain is owned by an organization (usable by all its servers) or by
-- one server: exactly one of organization_id / server_id is set, and both
-- are real foreign keys so deleting the owner deletes the domain.
-- verification_token is the value of the TXT record (method DNS) or the
-- code mailed to verification_email (method Email).
-- Check results: NULL until the first check, then OK / Missing / Invalid
-- with the error text.  incoming: accepts mail (routes, mailboxes).
-- outgoing: may be used in From.  use_for_any: any From under it is allowed.
CREATE TABLE IF NOT EXISTS domains (
  id                   BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  uuid                 UUID NOT NULL,
  organization_id      BIGINT UNSIGNED NULL,
  server_id            BIGINT UNSIGNED NULL,
  name                 VARCHAR(253) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  verification_method  ENUM('DNS','Email') NOT NULL DEFAULT 'DNS',
  verification_token   VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  verification_email   VARCHAR(320) NULL,
  verified_at          DATETIME(6) NULL,
  outgoing             TINYINT(1) NOT NULL DEFAULT 1,
  incoming             TINYINT(1) NOT NULL DEFAULT 1,
  use_for_any          TINYINT(1) NOT NULL DEFAULT 0,
  spf_status           ENUM('OK','Missing','Invalid') NULL,
  spf_error            VARCHAR(1000) NULL,
  dkim_status          ENUM('OK','Missing','Invalid') NULL,
  dkim_error           VARCHAR(1000) NULL,
  mx_status            ENUM('OK','Missing','Invalid') NULL,
  mx_error             VARCHAR(1000) NULL,
  return_path_status   ENUM('OK','Missing','Invalid') NULL,
  return_path_error    VARCHAR(1000) NULL,
  dns_checked_at       DATETIME(6) NULL,
  created_at           DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at           DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_domains_uuid (uuid),
  UNIQUE KEY uq_domains_organization_name (organization_id, name),
  UNIQUE KEY uq_domains_server_name (server_id, name),
  KEY ix_domains_name (name),
  KEY ix_domains_dns_checked (dns_checked_at),
  CONSTRAINT ck_domains_owner CHECK ((organization_id IS NULL) <> (server_id IS NULL)),
  CONSTRAINT fk_domains_organization_id FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE,
  CONSTRAINT fk_domains_server_id FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- DKIM keys, several per domain so keys can rotate without downtime:
--   pending   made and published in DNS, not yet used for signing
--   active    used for signing (at most one per algorithm and domain)
--   retiring  no longer signs, its DNS record stays until mail in flight
--             and in queues has been verified
--   retired   may be removed from DNS, the row is kept for the record
-- active_algorithm enforces "one active key per algorithm": the milter signs
-- with the active RSA key and, when present, the active Ed25519 key.  To
-- rotate, set the old key to retiring first, then the new one to active,
-- in one transaction.  public_key is the base64 value of the DNS p= tag.
CREATE TABLE IF NOT EXISTS domain_dkim_keys (
  id                     BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  domain_id              BIGINT UNSIGNED NOT NULL,
  selector               VARCHAR(63) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  algorithm              ENUM('rsa-sha256','ed25519-sha256') NOT NULL DEFAULT 'rsa-sha256',
  key_bits               SMALLINT UNSIGNED NULL,
  private_key_encrypted  BLOB NOT NULL,
  public_key             TEXT CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  state                  ENUM('pending','active','retiring','retired') NOT NULL DEFAULT 'pending',
  active_algorithm       VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin
                         AS (IF(state = 'active', algorithm, NULL)) PERSISTENT,
  created_at             DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  activated_at           DATETIME(6) NULL,
  retiring_at            DATETIME(6) NULL,
  retired_at             DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_domain_dkim_keys_selector (domain_id, selector),
  UNIQUE KEY uq_domain_dkim_keys_active (domain_id, active_algorithm),
  KEY ix_domain_dkim_keys_state (domain_id, state),
  CONSTRAINT ck_domain_dkim_keys_selector CHECK (selector REGEXP '^[a-z0-9][a-z0-9-]*$'),
  CONSTRAINT fk_domain_dkim_keys_domain_id FOREIGN KEY (domain_id) REFERENCES domains (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Click and open tracking host: <name>.<domain>, a CNAME to the tracker.
-- excluded_click_domains: one domain per line whose links are not rewritten.
CREATE TABLE IF NOT EXISTS track_domains (
  id                      BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  uuid                    UUID NOT NULL,
  server_id               BIGINT UNSIGNED NOT NULL,
  domain_id               BIGINT UNSIGNED NOT NULL,
  name                    VARCHAR(63) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  ssl_enabled             TINYINT(1) NOT NULL DEFAULT 1,
  track_clicks            TINYINT(1) NOT NULL DEFAULT 1,
  track_loads             TINYINT(1) NOT NULL DEFAULT 1,
  excluded_click_domains  TEXT NULL,
  dns_status              ENUM('OK','Missing','Invalid') NULL,
  dns_error               VARCHAR(1000) NULL,
  dns_checked_at          DATETIME(6) NULL,
  created_at              DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at              DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_track_domains_uuid (uuid),
  UNIQUE KEY uq_track_domains_domain_name (domain_id, name),
  KEY ix_track_domains_server (server_id),
  CONSTRAINT ck_track_domains_name CHECK (name REGEXP '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$'),
  CONSTRAINT fk_track_domains_server_id FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE,
  CONSTRAINT fk_track_domains_domain_id FOREIGN KEY (domain_id) REFERENCES domains (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;


-- -----------------------------------------------------------------------------
-- Mail hosting (mailboxes and aliases, the poste.io part)
-- -----------------------------------------------------------------------------

-- A mailbox <local_part>@<domain>.  Mail for it goes to the mail store
-- (Dovecot LMTP).  password_hash is argon2id and can be checked by
-- postgate-policyd (SMTP AUTH) and by a Dovecot SQL passdb alike.
-- quota_bytes NULL means unlimited.  used_bytes is the last usage the mail
-- store reported (quota dict or periodic update), for display and warnings.
CREATE TABLE IF NOT EXISTS mailboxes (
  id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  uuid           UUID NOT NULL,
  domain_id      BIGINT UNSIGNED NOT NULL,
  local_part     VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  name           VARCHAR(255) NOT NULL DEFAULT '',
  password_hash  VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  quota_bytes    BIGINT UNSIGNED NULL,
  used_bytes     BIGINT UNSIGNED NOT NULL DEFAULT 0,
  used_messages  INT UNSIGNED NOT NULL DEFAULT 0,
  enabled        TINYINT(1) NOT NULL DEFAULT 1,
  last_login_at  DATETIME(6) NULL,
  created_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_mailboxes_uuid (uuid),
  UNIQUE KEY uq_mailboxes_address (domain_id, local_part),
  CONSTRAINT fk_mailboxes_domain_id FOREIGN KEY (domain_id) REFERENCES domains (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- An alias <local_part>@<domain> forwarding to one or more addresses
-- (alias_destinations).  local_part '*' is the domain's catch-all.
CREATE TABLE IF NOT EXISTS aliases (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  uuid        UUID NOT NULL,
  domain_id   BIGINT UNSIGNED NOT NULL,
  local_part  VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  enabled     TINYINT(1) NOT NULL DEFAULT 1,
  created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_aliases_uuid (uuid),
  UNIQUE KEY uq_aliases_address (domain_id, local_part),
  CONSTRAINT fk_aliases_domain_id FOREIGN KEY (domain_id) REFERENCES domains (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS alias_destinations (
  alias_id    BIGINT UNSIGNED NOT NULL,
  address     VARCHAR(320) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (alias_id, address),
  CONSTRAINT fk_alias_destinations_alias_id FOREIGN KEY (alias_id) REFERENCES aliases (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;


-- -----------------------------------------------------------------------------
-- Credentials
-- -----------------------------------------------------------------------------

-- API and SMTP credentials hold a 24-character random key: key_hash (hex
-- SHA-256) finds it, key_prefix tells keys apart in the UI, key_encrypted
-- is kept only for SMTP keys because CRAM-MD5 needs the shared secret.
-- SMTP-IP credentials hold a network instead of a key: ip_start / ip_end
-- are the first and last address as 16 bytes (IPv4 as ::ffff:a.b.c.d) and
-- prefix_len counts in IPv6 bits (an IPv4 /24 is 120).  The most specific
-- network wins:
--   SELECT ... WHERE type = 'SMTP-IP' AND ip_start <= ? AND ip_end >= ?
--   ORDER BY prefix_len DESC LIMIT 1
-- a range on uq_credentials_network_prefix, which also stops two
-- credentials from claiming the same network.
-- last_used_at is written at most once a minute per credential, so the row
-- is not a hot spot on the SMTP path.
CREATE TABLE IF NOT EXISTS credentials (
  id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  uuid           UUID NOT NULL,
  server_id      BIGINT UNSIGNED NOT NULL,
  type           ENUM('API','SMTP','SMTP-IP') NOT NULL,
  name           VARCHAR(255) NOT NULL,
  key_hash       CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  key_encrypted  VARBINARY(255) NULL,
  key_prefix     VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NULL,
  ip_start       BINARY(16) NULL,
  ip_end         BINARY(16) NULL,
  prefix_len     TINYINT UNSIGNED NULL,
  hold           TINYINT(1) NOT NULL DEFAULT 0,
  last_used_at   DATETIME(6) NULL,
  created_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_credentials_uuid (uuid),
  UNIQUE KEY uq_credentials_key_hash (key_hash),
  UNIQUE KEY uq_credentials_network_prefix (ip_start, prefix_len),
  KEY ix_credentials_server_type (server_id, type),
  CONSTRAINT ck_credentials_kind CHECK (
    (type =  'SMTP-IP' AND key_hash IS NULL AND ip_start IS NOT NULL AND ip_end IS NOT NULL
                       AND prefix_len IS NOT NULL AND prefix_len <= 128 AND ip_start <= ip_end)
    OR
    (type <> 'SMTP-IP' AND key_hash IS NOT NULL AND ip_start IS NULL AND ip_end IS NULL
                       AND prefix_len IS NULL)),
  CONSTRAINT fk_credentials_server_id FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;


-- -----------------------------------------------------------------------------
-- Endpoints and routes
-- -----------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS http_endpoints (
  id                   BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  uuid                 UUID NOT NULL,
  server_id            BIGINT UNSIGNED NOT NULL,
  name                 VARCHAR(255) NOT NULL,
  url                  VARCHAR(2048) NOT NULL,
  encoding             ENUM('BodyAsJSON','FormData') NOT NULL DEFAULT 'BodyAsJSON',
  format               ENUM('Hash','RawMessage') NOT NULL DEFAULT 'Hash',
  strip_replies        TINYINT(1) NOT NULL DEFAULT 0,
  include_attachments  TINYINT(1) NOT NULL DEFAULT 1,
  timeout              TINYINT UNSIGNED NOT NULL DEFAULT 5,
  last_used_at         DATETIME(6) NULL,
  created_at           DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at           DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_http_endpoints_uuid (uuid),
  KEY ix_http_endpoints_server (server_id),
  CONSTRAINT ck_http_endpoints_timeout CHECK (timeout BETWEEN 5 AND 60),
  CONSTRAINT fk_http_endpoints_server_id FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- SMTP endpoints may authenticate: username plus password_encrypted.
CREATE TABLE IF NOT EXISTS smtp_endpoints (
  id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  uuid                UUID NOT NULL,
  server_id           BIGINT UNSIGNED NOT NULL,
  name                VARCHAR(255) NOT NULL,
  hostname            VARCHAR(253) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  port                SMALLINT UNSIGNED NOT NULL DEFAULT 25,
  ssl_mode            ENUM('None','Auto','STARTTLS','TLS') NOT NULL DEFAULT 'Auto',
  username            VARCHAR(255) NULL,
  password_encrypted  VARBINARY(1024) NULL,
  last_used_at        DATETIME(6) NULL,
  created_at          DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at          DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_smtp_endpoints_uuid (uuid),
  KEY ix_smtp_endpoints_server (server_id),
  CONSTRAINT ck_smtp_endpoints_port CHECK (port > 0),
  CONSTRAINT fk_smtp_endpoints_server_id FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS address_endpoints (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  uuid          UUID NOT NULL,
  server_id     BIGINT UNSIGNED NOT NULL,
  address       VARCHAR(320) NOT NULL,
  last_used_at  DATETIME(6) NULL,
  created_at    DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at    DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_address_endpoints_uuid (uuid),
  KEY ix_address_endpoints_server (server_id),
  CONSTRAINT fk_address_endpoints_server_id FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Incoming routes: <name>@<domain>, where name is [a-z0-9.-]*, '*' (any
-- local part) or '__returnpath__'.  name+tag@domain reaches route name.
-- token gives the route its own address <token>@<route domain>.
-- The endpoint is one of three real foreign keys rather than a type/id
-- pair, so a route can never point at a missing endpoint.  At most one is
-- set: the code keeps that rule, because MariaDB refuses a CHECK on columns
-- that an ON DELETE SET NULL action changes.  Deleting an endpoint that a
-- route uses sets the column NULL: the admin API refuses such deletes, and
-- a route in Endpoint mode without an endpoint holds its mail, so nothing
-- is lost.
CREATE TABLE IF NOT EXISTS routes (
  id                   BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  uuid                 UUID NOT NULL,
  server_id            BIGINT UNSIGNED NOT NULL,
  domain_id            BIGINT UNSIGNED NOT NULL,
  name                 VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  token                CHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  mode                 ENUM('Endpoint','Accept','Hold','Bounce','Reject') NOT NULL DEFAULT 'Endpoint',
  spam_mode            ENUM('Mark','Quarantine','Fail') NOT NULL DEFAULT 'Mark',
  http_endpoint_id     BIGINT UNSIGNED NULL,
  smtp_endpoint_id     BIGINT UNSIGNED NULL,
  address_endpoint_id  BIGINT UNSIGNED NULL,
  created_at           DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at           DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_routes_uuid (uuid),
  UNIQUE KEY uq_routes_token (token),
  UNIQUE KEY uq_routes_domain_name (domain_id, name),
  KEY ix_routes_server (server_id),
  KEY ix_routes_http_endpoint (http_endpoint_id),
  KEY ix_routes_smtp_endpoint (smtp_endpoint_id),
  KEY ix_routes_address_endpoint (address_endpoint_id),
  CONSTRAINT ck_routes_name CHECK (name REGEXP '^[a-z0-9.-]*$' OR name = '*' OR name = '__returnpath__'),
  CONSTRAINT ck_routes_token CHECK (token REGEXP '^[a-zA-Z0-9]{8}$'),
  CONSTRAINT fk_routes_server_id FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE,
  CONSTRAINT fk_routes_domain_id FOREIGN KEY (domain_id) REFERENCES domains (id) ON DELETE CASCADE,
  CONSTRAINT fk_routes_http_endpoint_id FOREIGN KEY (http_endpoint_id) REFERENCES http_endpoints (id) ON DELETE SET NULL,
  CONSTRAINT fk_routes_smtp_endpoint_id FOREIGN KEY (smtp_endpoint_id) REFERENCES smtp_endpoints (id) ON DELETE SET NULL,
  CONSTRAINT fk_routes_address_endpoint_id FOREIGN KEY (address_endpoint_id) REFERENCES address_endpoints (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Further endpoints a route also delivers to, exactly one set per row.
CREATE TABLE IF NOT EXISTS additional_route_endpoints (
  id                   BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  route_id             BIGINT UNSIGNED NOT NULL,
  http_endpoint_id     BIGINT UNSIGNED NULL,
  smtp_endpoint_id     BIGINT UNSIGNED NULL,
  address_endpoint_id  BIGINT UNSIGNED NULL,
  created_at           DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_additional_route_endpoints_http (route_id, http_endpoint_id),
  UNIQUE KEY uq_additional_route_endpoints_smtp (route_id, smtp_endpoint_id),
  UNIQUE KEY uq_additional_route_endpoints_address (route_id, address_endpoint_id),
  KEY ix_additional_route_endpoints_http (http_endpoint_id),
  KEY ix_additional_route_endpoints_smtp (smtp_endpoint_id),
  KEY ix_additional_route_endpoints_address (address_endpoint_id),
  CONSTRAINT ck_additional_route_endpoints_one CHECK ((http_endpoint_id IS NOT NULL) + (smtp_endpoint_id IS NOT NULL)
                                                      + (address_endpoint_id IS NOT NULL) = 1),
  CONSTRAINT fk_additional_route_endpoints_route_id FOREIGN KEY (route_id) REFERENCES routes (id) ON DELETE CASCADE,
  CONSTRAINT fk_additional_route_endpoints_http_endpoint_id FOREIGN KEY (http_endpoint_id) REFERENCES http_endpoints (id) ON DELETE CASCADE,
  CONSTRAINT fk_additional_route_endpoints_smtp_endpoint_id FOREIGN KEY (smtp_endpoint_id) REFERENCES smtp_endpoints (id) ON DELETE CASCADE,
  CONSTRAINT fk_additional_route_endpoints_address_endpoint_id FOREIGN KEY (address_endpoint_id) REFERENCES address_endpoints (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;


-- -----------------------------------------------------------------------------
-- Webhooks
-- -----------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS webhooks (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  uuid          UUID NOT NULL,
  server_id     BIGINT UNSIGNED NOT NULL,
  name          VARCHAR(255) NOT NULL,
  url           VARCHAR(2048) NOT NULL,
  all_events    TINYINT(1) NOT NULL DEFAULT 1,
  enabled       TINYINT(1) NOT NULL DEFAULT 1,
  sign          TINYINT(1) NOT NULL DEFAULT 1,
  last_used_at  DATETIME(6) NULL,
  created_at    DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at    DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_webhooks_uuid (uuid),
  KEY ix_webhooks_server (server_id),
  CONSTRAINT fk_webhooks_server_id FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The events a webhook wants when all_events is 0.  The same event list
-- appears in webhook_outbox and webhook_requests: a new event is one
-- ALTER TABLE ... MODIFY on each of the three.
CREATE TABLE IF NOT EXISTS webhook_events (
  webhook_id  BIGINT UNSIGNED NOT NULL,
  event       ENUM('MessageSent','MessageDelayed','MessageDeliveryFailed','MessageHeld',
                   'MessageBounced','MessageLinkClicked','MessageLoaded','DomainDNSError',
                   'SendLimitApproaching','SendLimitExceeded') NOT NULL,
  created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (webhook_id, event),
  CONSTRAINT fk_webhook_events_webhook_id FOREIGN KEY (webhook_id) REFERENCES webhooks (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The event queue.  One row per (event, interested webhook), written in the
-- same transaction as the change that caused the event.  uuid and
-- created_at are the body's "uuid" and "timestamp", payload its "payload".
-- Workers on any host claim due rows with
--   SELECT id FROM webhook_outbox WHERE status = 'pending'
--     AND next_attempt_at <= NOW(6) ORDER BY next_attempt_at LIMIT n
--     FOR UPDATE SKIP LOCKED
-- then set locked_by / locked_until and commit.  A row whose lease expired
-- (worker died) is due again because claiming also moves next_attempt_at to
-- locked_until.  After each attempt: delivered, or pending with the next
-- retry time, or failed after the last retry.  Finished rows stay for the
-- request log's retention and are then deleted via ix_webhook_outbox_finished.
CREATE TABLE IF NOT EXISTS webhook_outbox (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  uuid             UUID NOT NULL,
  server_id        BIGINT UNSIGNED NOT NULL,
  webhook_id       BIGINT UNSIGNED NOT NULL,
  event            ENUM('MessageSent','MessageDelayed','MessageDeliveryFailed','MessageHeld',
                        'MessageBounced','MessageLinkClicked','MessageLoaded','DomainDNSError',
                        'SendLimitApproaching','SendLimitExceeded') NOT NULL,
  payload          JSON NOT NULL,
  status           ENUM('pending','delivered','failed') NOT NULL DEFAULT 'pending',
  attempts         TINYINT UNSIGNED NOT NULL DEFAULT 0,
  next_attempt_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  locked_by        VARCHAR(255) NULL,
  locked_until     DATETIME(6) NULL,
  last_error       VARCHAR(1000) NULL,
  finished_at      DATETIME(6) NULL,
  created_at       DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at       DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_webhook_outbox_uuid (uuid),
  KEY ix_webhook_outbox_due (status, next_attempt_at),
  KEY ix_webhook_outbox_finished (status, finished_at),
  KEY ix_webhook_outbox_server_created (server_id, created_at),
  KEY ix_webhook_outbox_webhook (webhook_id),
  CONSTRAINT fk_webhook_outbox_server_id FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE,
  CONSTRAINT fk_webhook_outbox_webhook_id FOREIGN KEY (webhook_id) REFERENCES webhooks (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The request log: every webhook attempt (Postal keeps 7 days, postgate
-- keeps webhook_request_retention_days, at least 7).  Partitioned by day, so
-- expiry is DROP PARTITION.  No foreign keys (partitioned table): the ids
-- are references for display.  uuid is the event's uuid (webhook_outbox).
-- body is the start of the response body (at most 4 KB).
CREATE TABLE IF NOT EXISTS webhook_requests (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  created_day  DATE NOT NULL,
  server_id    BIGINT UNSIGNED NOT NULL,
  webhook_id   BIGINT UNSIGNED NULL,
  outbox_id    BIGINT UNSIGNED NULL,
  uuid         UUID NOT NULL,
  event        ENUM('MessageSent','MessageDelayed','MessageDeliveryFailed','MessageHeld',
                    'MessageBounced','MessageLinkClicked','MessageLoaded','DomainDNSError',
                    'SendLimitApproaching','SendLimitExceeded') NOT NULL,
  url          VARCHAR(2048) NOT NULL,
  attempt      TINYINT UNSIGNED NOT NULL,
  status_code  SMALLINT UNSIGNED NULL,
  body         TEXT NULL,
  error        VARCHAR(1000) NULL,
  will_retry   TINYINT(1) NOT NULL DEFAULT 0,
  duration_ms  INT UNSIGNED NULL,
  created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id, created_day),
  KEY ix_webhook_requests_server_created (server_id, created_at),
  KEY ix_webhook_requests_webhook_created (webhook_id, created_at),
  KEY ix_webhook_requests_uuid (uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  PARTITION BY RANGE COLUMNS (created_day) (
    PARTITION pmax VALUES LESS THAN (MAXVALUE)
  );


-- -----------------------------------------------------------------------------
-- Messages
-- -----------------------------------------------------------------------------

-- The raw message, stored once per submission and server and shared by
-- that submission's recipient rows in messages (an LMTP transaction whose
-- recipients belong to two servers stores one copy each, so retention and
-- privacy stay per server).  headers and body are split so the API can
-- return headers without reading the body.  Partitioned by day: messages
-- find their copy by (raw_message_id, raw_message_day), which reads one
-- partition.  When the copy has expired the message row remains and the API
-- says the raw message is no longer available, as Postal does.
-- ix_raw_messages_server_day covers (server_id, created_day, id, size_bytes):
-- shorter per-server retention deletes by day, and the size cap sums
-- size_bytes newest first from the index alone.
CREATE TABLE IF NOT EXISTS raw_messages (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  created_day  DATE NOT NULL,
  server_id    BIGINT UNSIGNED NOT NULL,
  size_bytes   INT UNSIGNED NOT NULL,
  headers      LONGBLOB NOT NULL,
  body         LONGBLOB NOT NULL,
  created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id, created_day),
  KEY ix_raw_messages_server_day (server_id, created_day, id, size_bytes)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  PARTITION BY RANGE COLUMNS (created_day) (
    PARTITION pmax VALUES LESS THAN (MAXVALUE)
  );

-- One row per recipient.  id and token are Postal's message id and token.
-- credential_id, route_id, endpoint_*, raw_message_*, bounce_for_id are
-- historical references without foreign keys (see the header).
-- postfix_queue_id is Postfix's (long) queue id: the log reader finds the
-- rows of a log line by (postfix_queue_id, rcpt_to).  hold_expires_at is
-- set while status is Held and cleared on release or expiry.  spam_checks
-- is the list of spamd rules that matched, [{"code": ..., "score": ...}].
CREATE TABLE IF NOT EXISTS messages (
  id                 BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  server_id          BIGINT UNSIGNED NOT NULL,
  token              CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  scope              ENUM('incoming','outgoing') NOT NULL,
  rcpt_to            VARCHAR(320) NOT NULL,
  mail_from          VARCHAR(320) NOT NULL DEFAULT '',
  subject            VARCHAR(998) NOT NULL DEFAULT '',
  message_id         VARCHAR(998) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  size               INT UNSIGNED NOT NULL DEFAULT 0,
  tag                VARCHAR(255) NULL,
  credential_id      BIGINT UNSIGNED NULL,
  route_id           BIGINT UNSIGNED NULL,
  endpoint_type      ENUM('HTTPEndpoint','SMTPEndpoint','AddressEndpoint') NULL,
  endpoint_id        BIGINT UNSIGNED NULL,
  postfix_queue_id   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  raw_message_id     BIGINT UNSIGNED NULL,
  raw_message_day    DATE NULL,
  status             ENUM('Pending','Sent','SoftFail','HardFail','Held','Bounced','Processed',
                          'HoldCancelled','Error') NOT NULL DEFAULT 'Pending',
  hold_reason        VARCHAR(1000) NULL,
  hold_expires_at    DATETIME(6) NULL,
  spam_status        ENUM('NotChecked','NotSpam','Spam') NOT NULL DEFAULT 'NotChecked',
  spam_score         DECIMAL(6,2) NOT NULL DEFAULT 0.00,
  spam_checks        JSON NULL,
  threat             TINYINT(1) NOT NULL DEFAULT 0,
  threat_details     VARCHAR(255) NULL,
  inspected          TINYINT(1) NOT NULL DEFAULT 0,
  bounce             TINYINT(1) NOT NULL DEFAULT 0,
  bounce_for_id      BIGINT UNSIGNED NULL,
  received_with_ssl  TINYINT(1) NULL,
  loaded_at          DATETIME(6) NULL,
  clicked_at         DATETIME(6) NULL,
  created_at         DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at         DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_messages_token (token),
  KEY ix_messages_server_created (server_id, created_at),
  KEY ix_messages_server_status_created (server_id, status, created_at),
  KEY ix_messages_server_scope_created (server_id, scope, created_at),
  KEY ix_messages_server_rcpt_to (server_id, rcpt_to, created_at),
  KEY ix_messages_server_mail_from (server_id, mail_from, created_at),
  KEY ix_messages_server_message_id (server_id, message_id(255)),
  KEY ix_messages_server_tag (server_id, tag, created_at),
  KEY ix_messages_postfix_queue_id (postfix_queue_id),
  KEY ix_messages_bounce_for (bounce_for_id),
  KEY ix_messages_hold_expires (hold_expires_at),
  CONSTRAINT ck_messages_token CHECK (token REGEXP '^[a-zA-Z0-9]{16}$'),
  CONSTRAINT fk_messages_server_id FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Delivery attempts and results of a message, Postal's "deliveries":
-- outgoing from the Postfix log (dsn, relay, the remote reply in output),
-- incoming from the worker's endpoint deliveries.  time is the attempt's
-- duration in seconds.
CREATE TABLE IF NOT EXISTS deliveries (
  id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  message_id     BIGINT UNSIGNED NOT NULL,
  status         ENUM('Pending','Sent','SoftFail','HardFail','Held','Bounced','Processed',
                      'HoldCancelled','Error') NOT NULL,
  details        TEXT NULL,
  output         TEXT NULL,
  sent_with_ssl  TINYINT(1) NOT NULL DEFAULT 0,
  log_id         VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  time           DECIMAL(10,3) NULL,
  dsn            VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NULL,
  relay          VARCHAR(320) NULL,
  created_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  KEY ix_deliveries_message (message_id, id),
  CONSTRAINT fk_deliveries_message_id FOREIGN KEY (message_id) REFERENCES messages (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Incoming messages waiting for the worker to deliver them to an endpoint
-- (one row per message and endpoint, so additional endpoints retry on their
-- own).  Claimed like webhook_outbox.  Retries: up to 18 attempts, waiting
-- about 1.3^attempts x 5 minutes.  The endpoint is a type/id pair without a
-- foreign key: if it was deleted meanwhile, the message becomes Error.
CREATE TABLE IF NOT EXISTS queued_messages (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  message_id       BIGINT UNSIGNED NOT NULL,
  server_id        BIGINT UNSIGNED NOT NULL,
  endpoint_type    ENUM('HTTPEndpoint','SMTPEndpoint','AddressEndpoint') NOT NULL,
  endpoint_id      BIGINT UNSIGNED NOT NULL,
  attempts         TINYINT UNSIGNED NOT NULL DEFAULT 0,
  next_attempt_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  locked_by        VARCHAR(255) NULL,
  locked_until     DATETIME(6) NULL,
  created_at       DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at       DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_queued_messages_target (message_id, endpoint_type, endpoint_id),
  KEY ix_queued_messages_due (next_attempt_at),
  KEY ix_queued_messages_server (server_id, next_attempt_at),
  CONSTRAINT fk_queued_messages_message_id FOREIGN KEY (message_id) REFERENCES messages (id) ON DELETE CASCADE,
  CONSTRAINT fk_queued_messages_server_id FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Rewritten links of outgoing messages.  The same URL twice in a message
-- is one link: (message_id, url_hash) finds it, url_hash being the hex
-- SHA-256 of url.  url is the exact target, entities already decoded.
CREATE TABLE IF NOT EXISTS links (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  message_id  BIGINT UNSIGNED NOT NULL,
  token       CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  url         TEXT NOT NULL,
  url_hash    CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_links_token (token),
  KEY ix_links_message_hash (message_id, url_hash),
  CONSTRAINT fk_links_message_id FOREIGN KEY (message_id) REFERENCES messages (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Clicks and opens recorded by postgate-tracker (written in batches).
-- Partitioned by day, no foreign keys.  Kept as long as the messages they
-- belong to (servers.message_retention_days).
CREATE TABLE IF NOT EXISTS clicks (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  created_day  DATE NOT NULL,
  server_id    BIGINT UNSIGNED NOT NULL,
  message_id   BIGINT UNSIGNED NOT NULL,
  link_id      BIGINT UNSIGNED NOT NULL,
  ip           VARCHAR(45) CHARACTER SET ascii COLLATE ascii_bin NULL,
  user_agent   VARCHAR(512) NULL,
  country      CHAR(2) CHARACTER SET ascii COLLATE ascii_bin NULL,
  city         VARCHAR(255) NULL,
  created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id, created_day),
  KEY ix_clicks_message (message_id),
  KEY ix_clicks_link (link_id),
  KEY ix_clicks_server_day (server_id, created_day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  PARTITION BY RANGE COLUMNS (created_day) (
    PARTITION pmax VALUES LESS THAN (MAXVALUE)
  );

CREATE TABLE IF NOT EXISTS loads (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  created_day  DATE NOT NULL,
  server_id    BIGINT UNSIGNED NOT NULL,
  message_id   BIGINT UNSIGNED NOT NULL,
  ip           VARCHAR(45) CHARACTER SET ascii COLLATE ascii_bin NULL,
  user_agent   VARCHAR(512) NULL,
  country      CHAR(2) CHARACTER SET ascii COLLATE ascii_bin NULL,
  city         VARCHAR(255) NULL,
  created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id, created_day),
  KEY ix_loads_message (message_id),
  KEY ix_loads_server_day (server_id, created_day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  PARTITION BY RANGE COLUMNS (created_day) (
    PARTITION pmax VALUES LESS THAN (MAXVALUE)
  );


-- -----------------------------------------------------------------------------
-- Suppressions, send volume, statistics
-- -----------------------------------------------------------------------------

-- Recipients a server does not send to.  address is lower-cased.
-- keep_until NULL keeps the entry until it is removed by hand.  A successful
-- send removes the entry.  message_id points at the message that caused it.
CREATE TABLE IF NOT EXISTS suppressions (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  server_id   BIGINT UNSIGNED NOT NULL,
  address     VARCHAR(320) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  reason      VARCHAR(1000) NOT NULL DEFAULT '',
  source      ENUM('hard_fail','soft_fail','bounce','manual','api','import') NOT NULL,
  message_id  BIGINT UNSIGNED NULL,
  keep_until  DATETIME(6) NULL,
  created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_suppressions_server_address (server_id, address),
  KEY ix_suppressions_keep_until (keep_until),
  CONSTRAINT fk_suppressions_server_id FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Messages per server and minute, for the rolling-hour send limit and the
-- "messages per minute" figures.  postgate-milter adds to the current
-- minute with INSERT ... ON DUPLICATE KEY UPDATE count = count + n in its
-- own short autocommit statement.  The limit check sums at most 60 rows of
-- the primary key.  Rows older than two hours are deleted by the worker.
CREATE TABLE IF NOT EXISTS send_volume (
  server_id  BIGINT UNSIGNED NOT NULL,
  scope      ENUM('incoming','outgoing') NOT NULL,
  minute     DATETIME NOT NULL,
  count      INT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (server_id, scope, minute),
  KEY ix_send_volume_minute (minute),
  CONSTRAINT fk_send_volume_server_id FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Counters per server and UTC hour or UTC day, upserted with
-- INSERT ... ON DUPLICATE KEY UPDATE x = x + VALUES(x).  Writers add up
-- counts in memory and flush every few seconds, never one upsert per
-- message (it would serialize all mail of a server on one row).  The UI
-- builds local-time days from hourly rows.
CREATE TABLE IF NOT EXISTS statistics (
  server_id     BIGINT UNSIGNED NOT NULL,
  period        ENUM('hour','day') NOT NULL,
  period_start  DATETIME NOT NULL,
  incoming      INT UNSIGNED NOT NULL DEFAULT 0,
  outgoing      INT UNSIGNED NOT NULL DEFAULT 0,
  spam          INT UNSIGNED NOT NULL DEFAULT 0,
  threats       INT UNSIGNED NOT NULL DEFAULT 0,
  sent          INT UNSIGNED NOT NULL DEFAULT 0,
  soft_fails    INT UNSIGNED NOT NULL DEFAULT 0,
  hard_fails    INT UNSIGNED NOT NULL DEFAULT 0,
  bounces       INT UNSIGNED NOT NULL DEFAULT 0,
  held          INT UNSIGNED NOT NULL DEFAULT 0,
  clicks        INT UNSIGNED NOT NULL DEFAULT 0,
  loads         INT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (server_id, period, period_start),
  KEY ix_statistics_period_start (period, period_start),
  CONSTRAINT fk_statistics_server_id FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
