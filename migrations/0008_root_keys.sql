-- 0008_root_keys: the root keys that have wrapped this database's key material
-- and secrets (storage/root_keyring.ts, storage/root_keys.ts). key_id is the
-- key's public 8-byte id in hex (a hash of a fixed label and the key, never
-- the key). check_value is an empty AES-GCM message sealed under the key: a
-- process proves it holds the key by opening it, so a server started with
-- the wrong keyring stops with a message that names ids only.
--
-- state: 'active'   some server has written with the key (it was current);
--        'retiring' `admin root-key rotate` is moving every value off it;
--        'retired'  a final count found nothing under it: it may leave every
--                   keyring.

CREATE TABLE root_keys (
  key_id TEXT NOT NULL PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('active', 'retiring', 'retired')),
  check_value BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  retired_at INTEGER
) STRICT;
