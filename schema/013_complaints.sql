-- =============================================================================
-- postgate schema migration 013: spam complaints (RFC 5965 feedback reports)
-- =============================================================================
--
-- A feedback report about an outgoing message that reaches one of the server's return
-- paths is stored like any mail to a return path and linked to the message it is about
-- (messages.complaint_for_id, as a bounce is by bounce_for_id); the recipient goes on the
-- suppression list (source 'complaint', kept until removed) and MessageComplained is
-- queued in the same transaction. One complaint per message raises one event: a second
-- report about the same message (or the same report delivered twice) is linked only.
--
-- Re-runnable: columns and keys are added only if missing; the ENUMs are redefined
-- with the new value last, which MariaDB does in place.

ALTER TABLE messages
  ADD COLUMN IF NOT EXISTS complaint_for_id BIGINT UNSIGNED NULL AFTER bounce_for_id,
  ADD KEY IF NOT EXISTS ix_messages_complaint_for (complaint_for_id);

ALTER TABLE suppressions
  MODIFY source ENUM('hard_fail','soft_fail','bounce','manual','api','import','complaint') NOT NULL;

ALTER TABLE webhook_events
  MODIFY event ENUM('MessageSent','MessageDelayed','MessageDeliveryFailed','MessageHeld',
                    'MessageBounced','MessageLinkClicked','MessageLoaded','DomainDNSError',
                    'SendLimitApproaching','SendLimitExceeded','MessageComplained') NOT NULL;
ALTER TABLE webhook_outbox
  MODIFY event ENUM('MessageSent','MessageDelayed','MessageDeliveryFailed','MessageHeld',
                    'MessageBounced','MessageLinkClicked','MessageLoaded','DomainDNSError',
                    'SendLimitApproaching','SendLimitExceeded','MessageComplained') NOT NULL;
ALTER TABLE webhook_requests
  MODIFY event ENUM('MessageSent','MessageDelayed','MessageDeliveryFailed','MessageHeld',
                    'MessageBounced','MessageLinkClicked','MessageLoaded','DomainDNSError',
                    'SendLimitApproaching','SendLimitExceeded','MessageComplained') NOT NULL;
