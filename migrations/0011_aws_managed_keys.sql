-- 0011_aws_managed_keys: AWS managed keys and rotation of imported material.
--
-- AWS managed keys (core/aws_managed_keys.ts), made for
-- an account and Region the first time a request names a predefined alias
-- `alias/aws/<service>`.
--
-- keys.aws_service: the service of an AWS managed key (`s3` for alias/aws/s3);
-- NULL for customer managed keys. DescribeKey answers KeyManager AWS when it is
-- set. The key, its first material, its alias and its yearly rotation schedule
-- are inserted in one transaction; the unique index below (and the alias's
-- primary key) make two first references at once create exactly one key: the
-- second insert fails as a whole and the caller reads the winner's alias.

ALTER TABLE keys ADD COLUMN aws_service TEXT;

CREATE UNIQUE INDEX keys_aws_managed ON keys (account_id, region, aws_service)
  WHERE aws_service IS NOT NULL;

-- Rotation of imported key material (core/operations/import.ts, rotation.ts).
--
-- pending_key_material: new key material imported into a symmetric key of
-- Origin EXTERNAL with ImportType NEW_KEY_MATERIAL (AWS's KeyMaterialState
-- PENDING_ROTATION), at most one per key, wrapped under the root key with
-- materialAad(key ARN, 0) (version 0: no version yet). RotateKeyOnDemand moves
-- it into key_material as the next version and deletes this row, in the
-- rotation's transaction; the key then takes its expiration.
--
-- imported_material.version: the key_material version an imported material is
-- (NULL while it is pending, and for rows imported before this migration: the
-- key's current version), so a re-import after DeleteImportedKeyMaterial puts
-- each material back at its own version.

CREATE TABLE pending_key_material (
  key_id TEXT NOT NULL PRIMARY KEY REFERENCES keys (key_id),
  key_material_id TEXT NOT NULL,
  wrapped_material BLOB NOT NULL,
  expiration_model TEXT NOT NULL,
  valid_to INTEGER,
  imported_at INTEGER NOT NULL
) STRICT;

CREATE TRIGGER pending_key_material_of_deleted_key BEFORE DELETE ON keys
BEGIN
  DELETE FROM pending_key_material WHERE key_id = OLD.key_id;
END;

ALTER TABLE imported_material ADD COLUMN version INTEGER;
