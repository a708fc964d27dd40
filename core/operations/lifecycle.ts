/**
 * The operations' rules the KMS applies on its own while it finds and deletes keys: expiring
 * imported material found past its date, and starting a multi-Region primary's deletion once its
 * last replica is gone. Given to `new Kms({ lifecycle })`, so core/kms.ts imports no operation.
 *
 * @module
 */
import type { KeyLifecycle } from "../kms.ts";
import { expireImportedMaterial, importedMaterialExpired } from "./import.ts";
import { startPrimaryDeletionAfterLastReplica } from "./multi_region.ts";

/** The key lifecycle every served Kms uses. */
export const keyLifecycle: KeyLifecycle = {
  materialExpired: importedMaterialExpired,
  expireMaterial: expireImportedMaterial,
  afterDeletion: startPrimaryDeletionAfterLastReplica,
};
