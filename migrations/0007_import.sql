-- 0007_import: imported key material (keys of Origin EXTERNAL), see
-- core/operations/import.ts and storage/import_store.ts.
--
-- keys.expiration_model / keys.valid_to: the expiration of the key's imported
-- material (AWS's ExpirationModel and ValidTo, epoch ms). Both NULL while the
-- key has no imported material (PendingImport, or material deleted or
-- expired) and for keys of any other origin. The material itself is a row of
-- key_material like any other key's; deleting imported material deletes that
-- row (and lists the key in key_deletions so that other instances wipe the
-- copy they hold in memory).
--
-- imported_material: what survives a deletion: the KeyMaterialId of each
-- material ever imported into a key. For symmetric and HMAC keys it is an
-- HMAC-SHA-256 keyed by the material itself over the key id (a commitment that
-- reveals nothing of the material); for asymmetric keys a SHA-256 over the key
-- id and the public key. A re-import must give the same id.
--
-- import_parameters: the answers of GetParametersForImport, valid 24 hours.
-- An import token is 0x01 || token id (16 bytes) || 32 random bytes; only its
-- SHA-256 is stored. The RSA wrapping private key (PKCS#8) is stored wrapped
-- under the root key with importParametersAad(token id, key ARN)
-- (storage/root_key.ts); root-key rotation must re-wrap this column too.

ALTER TABLE keys ADD COLUMN expiration_model TEXT;
ALTER TABLE keys ADD COLUMN valid_to INTEGER;

CREATE INDEX keys_material_expiry ON keys (valid_to) WHERE valid_to IS NOT NULL;

CREATE TABLE imported_material (
  key_id TEXT NOT NULL REFERENCES keys (key_id),
  key_material_id TEXT NOT NULL,
  description TEXT,
  imported_at INTEGER NOT NULL,
  PRIMARY KEY (key_id, key_material_id)
) STRICT;

CREATE TABLE import_parameters (
  token_id TEXT NOT NULL PRIMARY KEY,
  key_id TEXT NOT NULL REFERENCES keys (key_id),
  wrapping_algorithm TEXT NOT NULL,
  wrapping_key_spec TEXT NOT NULL,
  token_hash BLOB NOT NULL,
  wrapped_private_key BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  valid_to INTEGER NOT NULL
) STRICT;

CREATE INDEX import_parameters_by_key ON import_parameters (key_id);
CREATE INDEX import_parameters_by_valid_to ON import_parameters (valid_to);
