/**
 * AWS's KeyMetadata built from a stored key (pure).
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_KeyMetadata.html
 * @module
 */
import { algorithmsOf } from "./key_spec.ts";
import { isMultiRegionKeyId } from "./regional_store.ts";
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
  SigningAlgorithms?: string[];
  KeyAgreementAlgorithms?: string[];
  MacAlgorithms?: string[];
  MultiRegion: boolean;
  MultiRegionConfiguration?: MultiRegionConfiguration;
  PendingDeletionWindowInDays?: number;
  CurrentKeyMaterialId?: string;
  /** Origin EXTERNAL keys with imported material. */
  ExpirationModel?: string;
  ValidTo?: Date;
}

/** Where the keys of a multi-Region key are (DescribeKey, CreateKey, ReplicateKey). */
export interface MultiRegionConfiguration {
  MultiRegionKeyType: "PRIMARY" | "REPLICA";
  PrimaryKey: { Arn: string; Region: string };
  ReplicaKeys: { Arn: string; Region: string }[];
}

/** Builds KeyMetadata for `key`, whose ARN is `arn`, current material id `keyMaterialId`. */
export function keyMetadata(
  key: KeyRecord,
  arn: string,
  keyMaterialId: string | null,
): KeyMetadata {
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
    KeyManager: key.awsService === undefined ? "CUSTOMER" : "AWS",
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    MultiRegion: isMultiRegionKeyId(key.keyId),
  };
  Object.assign(metadata, algorithmLists(key));
  if (key.deletionDate !== null) metadata.DeletionDate = new Date(key.deletionDate);
  if (key.pendingWindowInDays !== null) {
    metadata.PendingDeletionWindowInDays = key.pendingWindowInDays;
  }
  if (key.origin === "EXTERNAL" && key.expirationModel) {
    metadata.ExpirationModel = key.expirationModel;
    if (key.validTo !== null && key.validTo !== undefined) metadata.ValidTo = new Date(key.validTo);
  }
  if (keyMaterialId !== null && key.keySpec === "SYMMETRIC_DEFAULT") {
    metadata.CurrentKeyMaterialId = keyMaterialId;
  }
  return metadata;
}

/** The algorithm lists AWS shows for a key's spec and usage (DescribeKey, GetPublicKey). */
export function algorithmLists(
  key: Pick<KeyRecord, "keySpec" | "keyUsage">,
): Pick<
  KeyMetadata,
  "EncryptionAlgorithms" | "SigningAlgorithms" | "KeyAgreementAlgorithms" | "MacAlgorithms"
> {
  const algorithms = algorithmsOf(key.keySpec, key.keyUsage) ?? {};
  const lists: ReturnType<typeof algorithmLists> = {};
  if (algorithms.encryptionAlgorithms) {
    lists.EncryptionAlgorithms = [...algorithms.encryptionAlgorithms];
  }
  if (algorithms.signingAlgorithms) lists.SigningAlgorithms = [...algorithms.signingAlgorithms];
  if (algorithms.keyAgreementAlgorithms) {
    lists.KeyAgreementAlgorithms = [...algorithms.keyAgreementAlgorithms];
  }
  if (algorithms.macAlgorithms) lists.MacAlgorithms = [...algorithms.macAlgorithms];
  return lists;
}
