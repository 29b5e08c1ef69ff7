-- =============================================================================
-- postgate schema migration 005: forwarded mail is outgoing mail; sender checks
-- =============================================================================
--
-- An Address endpoint forwards an incoming message as an outgoing message of
-- the server that owns the route (own token and return path, DKIM-signed for
-- the return-path domain, counted against the send limit).  forwarded_from_id
-- links that outgoing row to the incoming row it forwards, so the admin can
-- go from one to the other (a historical reference like bounce_for_id: no
-- foreign key).
--
-- spf_result and dkim_result record how the envelope sender of an incoming
-- message was authenticated on arrival (postgate-milter, SPF of the MAIL FROM
-- domain and the DKIM signatures): a report after a failed endpoint delivery
-- goes only to a sender that passed SPF, or whose domain a valid DKIM
-- signature's d= aligns with.  NULL: not checked (mail stored before this
-- migration, or a bounce).  dkim_domain is the d= of the signature the result
-- is about (the aligned one when there is one).
--
-- Re-runnable: every column and key is added only if missing.

ALTER TABLE messages
  ADD COLUMN IF NOT EXISTS forwarded_from_id BIGINT UNSIGNED NULL AFTER bounce_for_id,
  ADD COLUMN IF NOT EXISTS spf_result ENUM('none','neutral','pass','fail','softfail','temperror','permerror') NULL
    AFTER received_with_ssl,
  ADD COLUMN IF NOT EXISTS dkim_result ENUM('none','pass','fail','temperror','permerror') NULL AFTER spf_result,
  ADD COLUMN IF NOT EXISTS dkim_domain VARCHAR(253) CHARACTER SET ascii COLLATE ascii_general_ci NULL AFTER dkim_result,
  ADD KEY IF NOT EXISTS ix_messages_forwarded_from (forwarded_from_id);
