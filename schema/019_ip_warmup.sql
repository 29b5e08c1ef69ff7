-- =============================================================================
-- postgate schema migration 019: IP warm-up of pool addresses
-- =============================================================================
--
-- A new sending address earns its reputation slowly: ip_addresses.warmup_started_on
-- (NULL: warmed, no limit) starts a plan of daily volumes (postfix.warmup_plan: day 1
-- at most the first number, day 2 the second, ...; past the plan the address is warm).
-- Once an address has sent its day's share, the pool's other addresses take the rest
-- of the day's mail (none refused: when every address is at its share, the choice is
-- made among all of them).
--
-- ip_address_volume counts each address's messages per day (UTC); ip_warmup_choices
-- keeps the choice made for a message (its return-path token), so that every recipient
-- and every retry of it leaves from the same address even when the day's count moved
-- on. Both are written only for pools with an address warming up; the worker's
-- retention job removes rows older than a week.
--
-- Re-runnable: column and tables are added only if missing.

ALTER TABLE ip_addresses ADD COLUMN IF NOT EXISTS warmup_started_on DATE NULL AFTER priority;

CREATE TABLE IF NOT EXISTS ip_address_volume (
  ip_address_id  BIGINT UNSIGNED NOT NULL,
  day            DATE NOT NULL,
  count          INT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (ip_address_id, day),
  KEY ix_ip_address_volume_day (day),
  CONSTRAINT fk_ip_address_volume_address FOREIGN KEY (ip_address_id) REFERENCES ip_addresses (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS ip_warmup_choices (
  token          CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ip_address_id  BIGINT UNSIGNED NOT NULL,
  created_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (token),
  KEY ix_ip_warmup_choices_created (created_at),
  CONSTRAINT fk_ip_warmup_choices_address FOREIGN KEY (ip_address_id) REFERENCES ip_addresses (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
