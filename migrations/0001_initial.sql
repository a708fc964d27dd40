-- 0001_initial: keys, their versioned wrapped material, aliases, tags and
-- credentials. Times are INTEGER epoch milliseconds. Key material and
-- credential secrets are stored only wrapped under the root key (see
-- storage/root_key.ts); the key policy is a column of keys for now.

CREATE TABLE keys (
  key_id TEXT NOT NULL PRIMARY KEY,
  account_id TEXT NOT NULL,
  region TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  description TEXT NOT NULL,
  key_spec TEXT NOT NULL,
  key_usage TEXT NOT NULL,
  origin TEXT NOT NULL,
  state TEXT NOT NULL,
  deletion_date INTEGER,
  pending_window_in_days INTEGER,
  policy TEXT NOT NULL,
  current_material_version INTEGER NOT NULL
) STRICT;

CREATE INDEX keys_by_account ON keys (account_id, key_id);

CREATE INDEX keys_pending_deletion ON keys (deletion_date)
  WHERE state = 'PendingDeletion';

CREATE TABLE key_material (
  key_id TEXT NOT NULL REFERENCES keys (key_id),
  version INTEGER NOT NULL,
  key_material_id TEXT NOT NULL,
  wrapped_material BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (key_id, version)
) STRICT;

CREATE TABLE aliases (
  account_id TEXT NOT NULL,
  region TEXT NOT NULL,
  name TEXT NOT NULL,
  target_key_id TEXT NOT NULL REFERENCES keys (key_id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, region, name)
) STRICT;

CREATE INDEX aliases_by_target_key ON aliases (target_key_id);

CREATE TABLE tags (
  key_id TEXT NOT NULL REFERENCES keys (key_id),
  tag_key TEXT NOT NULL,
  tag_value TEXT NOT NULL,
  PRIMARY KEY (key_id, tag_key)
) STRICT;

CREATE TABLE credentials (
  access_key_id TEXT NOT NULL PRIMARY KEY,
  wrapped_secret BLOB NOT NULL,
  account_id TEXT NOT NULL,
  principal_arn TEXT NOT NULL,
  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  created_at INTEGER NOT NULL
) STRICT;
