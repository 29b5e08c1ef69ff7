-- =============================================================================
-- postgate schema migration 003: a domain name is claimed by one owner at a time
-- =============================================================================
--
-- Routes, relay domains, recipient lookups and custom return paths use only
-- verified domains, so whoever has verified a name receives its mail.  Two
-- verified rows of one name (two servers, or an organization and a server)
-- would make that ambiguous and let a second tenant take the first one's mail.
-- verified_name is the name while the row is verified and NULL otherwise;
-- its unique key lets any number of unverified rows share a name but only
-- one of them be verified (the collation of name, ascii_general_ci, makes
-- the comparison case-insensitive, as DNS is).
--
-- Existing duplicates: before the key is added, every verified row of a name
-- but the first verified (earliest verified_at, then lowest id) loses its
-- verification.  Its routes stay but no longer receive mail until the name
-- is verified again by that owner, which now needs the other claim gone.
--
-- Re-runnable: the UPDATE changes nothing once the names are unique, the
-- column and key are added only if missing.

UPDATE domains d
  JOIN (SELECT v.id FROM domains v
          JOIN domains w ON w.name = v.name AND w.verified_at IS NOT NULL
                        AND (w.verified_at < v.verified_at OR (w.verified_at = v.verified_at AND w.id < v.id))
         WHERE v.verified_at IS NOT NULL) dup ON dup.id = d.id
   SET d.verified_at = NULL;

ALTER TABLE domains ADD COLUMN IF NOT EXISTS verified_name VARCHAR(253) CHARACTER SET ascii COLLATE ascii_general_ci
  AS (IF(verified_at IS NOT NULL, name, NULL)) PERSISTENT AFTER verified_at;

ALTER TABLE domains ADD UNIQUE KEY IF NOT EXISTS uq_domains_verified_name (verified_name);
