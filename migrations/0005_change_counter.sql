-- 0005_change_counter: how an instance learns that another one changed state
-- (storage/change_counter.ts, core/coherence.ts). Several KMS processes may
-- share one database; each keeps key records, aliases, grants and tags in
-- memory. Every transaction of the store that changes state bumps `data` in
-- the one row of change_counter (the write queue adds the UPDATE to it; the
-- audit log's own writes do not). An instance polls the row (one
-- primary-key read) and drops its caches when it moved by more than its own
-- transactions moved it.
--
-- key_deletions lists the keys deleted, so that every instance can wipe the
-- material it holds of exactly those. The trigger keeps the newest 10000
-- rows; an instance that fell further behind drops all material instead.
-- A trigger only here, where it costs nothing (keys are deleted rarely):
-- SQLite compiles a table's triggers into every statement that fires them,
-- and per-row triggers bumping the counter on every state table measured at
-- a third of the write throughput.

CREATE TABLE change_counter (
  id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  data INTEGER NOT NULL
) STRICT;

INSERT INTO change_counter (id, data) VALUES (1, 0);

CREATE TABLE key_deletions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  key_id TEXT NOT NULL
) STRICT;

CREATE TRIGGER keys_deleted AFTER DELETE ON keys
BEGIN
  INSERT INTO key_deletions (key_id) VALUES (OLD.key_id);
  DELETE FROM key_deletions WHERE seq <= (SELECT max(seq) FROM key_deletions) - 10000;
END;
