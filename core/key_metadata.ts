/**
 * AWS's KeyMetadata built from a stored key (pure).
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_KeyMetadata.html
 * @module
 */
import { KEY_SPECS } from "./key_spec.ts";
import type { KeyRecord } from "./types.ts";

/** KeyMetadata as AWS returns it; dates are Date objects, serialised as epoch seconds by routes/. */
export interface KeyMetadata {
  AWSAccountId: string;
  KeyId: string;
  Arn: string;
  CreationDate: Date;
  Enabled: boolean;
  Description: string;
  KeyUsage: string;
  KeyState: string;
  DeletionDate?: Date;
  Origin: string;
  KeyManager: "CUSTOMER" | "AWS";
  CustomerMasterKeySpec: string;
  KeySpec: string;
  EncryptionAlgorithms?: string[];
  MultiRegion: boolean;
  PendingDeletionWindowInDays?: number;
  CurrentKeyMaterialId?: string;
}

/** Builds KeyMetadata for `key`, whose ARN is `arn`, current material id `keyMaterialId`. */
export function keyMetadata(
  key: KeyRecord,
  arn: string,
  keyMaterialId: string | null,
): KeyMetadata {
  const spec = KEY_SPECS[key.keySpec];
  const metadata: KeyMetadata = {
    AWSAccountId: key.accountId,
    KeyId: key.keyId,
    Arn: arn,
    CreationDate: new Date(key.createdAt),
    Enabled: key.state === "Enabled",
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: key.state,
    Origin: key.origin,
    KeyManager: "CUSTOMER",
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    MultiRegion: false,
  };
  if (key.keyUsage === "ENCRYPT_DECRYPT") {
    metadata.EncryptionAlgorithms = [...spec.encryptionAlgorithms];
  }
  if (key.deletionDate !== null) metadata.DeletionDate = new Date(key.deletionDate);
  if (key.pendingWindowInDays !== null) {
    metadata.PendingDeletionWindowInDays = key.pendingWindowInDays;
  }
  if (keyMaterialId !== null) metadata.CurrentKeyMaterialId = keyMaterialId;
  return metadata;
}
