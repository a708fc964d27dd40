-- 0003_audit: the audit log. One row per request. Rows form hash chains
-- (core/audit/chain.ts), each row linked to the one before it in its chain:
--   hash = SHA-256(prev_hash || chain_seq as 8 bytes big-endian || event)
-- Chain 0 holds the records committed in the same transaction as the state
-- change they describe; chain 1 the records written through the audit
-- buffer (by a worker thread with its own connection, so that its commits
-- never block the request thread). seq is the commit order over both.
--
-- `event` is the canonical JSON of the CloudTrail-shaped event and the only
-- source of truth: the filter columns are generated from it, so they can
-- never disagree with what the hash covers. event_time is the request's
-- arrival in epoch milliseconds (the event's eventTime is the same instant to
-- the second; SqliteAuditStore.verify checks that they agree).
--
-- audit_key_usage is derived from the log (verify recomputes it): for each
-- KMS key, the record of its last successful KeyLastUsageTrackingOperation,
-- so GetKeyLastUsage is two primary-key lookups. The time this migration was
-- applied (schema_migrations.applied_at) is when tracking began.

CREATE TABLE audit_log (
  seq INTEGER NOT NULL PRIMARY KEY,
  chain INTEGER NOT NULL,
  chain_seq INTEGER NOT NULL,
  event_time INTEGER NOT NULL,
  request_id TEXT GENERATED ALWAYS AS (event ->> '$.requestID') VIRTUAL,
  event_name TEXT GENERATED ALWAYS AS (event ->> '$.eventName') VIRTUAL,
  principal_arn TEXT GENERATED ALWAYS AS (event ->> '$.userIdentity.arn') VIRTUAL,
  account_id TEXT GENERATED ALWAYS AS (event ->> '$.userIdentity.accountId') VIRTUAL,
  decision TEXT GENERATED ALWAYS AS (event ->> '$.decision') VIRTUAL,
  error_code TEXT GENERATED ALWAYS AS (event ->> '$.errorCode') VIRTUAL,
  event TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL,
  UNIQUE (chain, chain_seq)
) STRICT;

CREATE INDEX audit_log_by_time ON audit_log (event_time);

CREATE INDEX audit_log_by_principal ON audit_log (principal_arn, seq);

CREATE TABLE audit_key_usage (
  key_arn TEXT NOT NULL PRIMARY KEY,
  chain INTEGER NOT NULL,
  chain_seq INTEGER NOT NULL
) STRICT;
