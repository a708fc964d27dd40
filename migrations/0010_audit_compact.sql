-- 0010_audit_compact: a bounded, compact audit log (README "Audit log").
--
-- audit_log.event of a buffered record (chain 1) now holds the compact form
-- of its event (core/audit/compact.ts): a JSON object with "v": 1 whose
-- repeated parts (the caller's context, key ARNs, key ids) are references to
-- audit_dict. Rows already stored keep their full event and stay readable;
-- the hash of every row still covers the canonical JSON of the full event.
-- A compact row stores an empty prev_hash: its previous hash is the hash of
-- the row before it in its chain (the hash covers it all the same).
--
-- audit_dict: reference (48 bits of SHA-256 of the value, base64url) ->
-- value. Entries are added with the records that name them and never removed.
--
-- audit_checkpoint: one row per retention batch that removed the oldest
-- records of a chain (storage/audit_retention.ts): the chain_seq and hash of
-- the last record removed, how many were removed and their time range. A
-- chain verifies from its latest checkpoint. The trigger refuses a record
-- chained at or before a checkpoint (a writer whose remembered head is older
-- than what retention removed), with the message of a chain conflict, so the
-- writer reads the head again and chains after it.
--
-- audit_key_usage no longer needs its record to stay: it keeps the
-- operation, time, eventID and requestID of the last usage itself (NULL for
-- usages recorded before this migration, which are read from audit_log).

CREATE TABLE audit_dict (
  ref TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE audit_checkpoint (
  id INTEGER NOT NULL PRIMARY KEY,
  chain INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  last_hash BLOB NOT NULL,
  removed INTEGER NOT NULL,
  first_time INTEGER NOT NULL,
  last_time INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (chain, last_seq)
) STRICT;

CREATE TRIGGER audit_log_after_checkpoint BEFORE INSERT ON audit_log
WHEN NEW.chain_seq <= (SELECT max(last_seq) FROM audit_checkpoint WHERE chain = NEW.chain)
BEGIN
  SELECT RAISE(ABORT, 'UNIQUE constraint failed: audit_log.chain, audit_log.chain_seq (removed by retention)');
END;

DROP INDEX audit_log_by_principal;

ALTER TABLE audit_key_usage ADD COLUMN operation TEXT;
ALTER TABLE audit_key_usage ADD COLUMN event_time INTEGER;
ALTER TABLE audit_key_usage ADD COLUMN event_id TEXT;
ALTER TABLE audit_key_usage ADD COLUMN request_id TEXT;
