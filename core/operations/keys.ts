/**
 * Key lifecycle: CreateKey, DescribeKey, ListKeys, UpdateKeyDescription,
 * EnableKey, DisableKey, ScheduleKeyDeletion, CancelKeyDeletion.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html
 * @module
 */
import { cutPage, decodeMarker, encodeMarker } from "./paging.ts";
import { hasReplicas, multiRegionMetadata, newMultiRegionKeyId } from "./multi_region.ts";
import {
  CustomKeyStoreNotFoundException,
  UnsupportedOperationException,
  ValidationException,
} from "../errors.ts";
import { isKeyId, keyArn } from "../identifiers.ts";
import { type KeyMetadata, keyMetadata } from "../key_metadata.ts";
import { generateKeyMaterial } from "../key_material.ts";
import { assertSpecAvailable } from "../region_profile.ts";
import { algorithmsOf } from "../key_spec.ts";
import { assertKeyStateAllows } from "../key_state.ts";
import { checkKeyPolicy } from "../key_policy.ts";
import { firstKeyMaterial, newKeyRecord } from "../new_key.ts";
import type { KeyMaterials, KeyPairSource, LoadedKey } from "../operation_ports.ts";
import type { KeyStore } from "../ports.ts";
import type { MultiRegionPorts } from "./multi_region.ts";
import type { Caller, KeySpec, KeyUsage, Origin, Tag } from "../types.ts";
import { validateTags } from "./tags.ts";

/** What key operations use of the KMS. */
export type KeyPorts = MultiRegionPorts & KeyMaterials & {
  readonly keyPairs: KeyPairSource;
  readonly store: Pick<KeyStore, "createKey" | "listKeys">;
  /** Deletes every key whose deletion date has passed. */
  purgeDueKeys(): Promise<number>;
};

/** CreateKey's input after schema validation. */
export interface CreateKeyInput {
  Policy?: string | undefined;
  Description?: string | undefined;
  KeyUsage?: KeyUsage | undefined;
  CustomerMasterKeySpec?: KeySpec | undefined;
  KeySpec?: KeySpec | undefined;
  Origin?: Origin | undefined;
  CustomKeyStoreId?: string | undefined;
  BypassPolicyLockoutSafetyCheck?: boolean | undefined;
  Tags?: Tag[] | undefined;
  MultiRegion?: boolean | undefined;
  XksKeyId?: string | undefined;
}

export { newKeyMaterialId } from "../new_key.ts";

/**
 * Creates a key of any spec with fresh material, stored durably before it returns.
 * @throws {ValidationException} conflicting specs or a usage the spec does not allow.
 * @throws {UnsupportedOperationException} origins or multi-Region keys not implemented yet.
 * @throws {MalformedPolicyDocumentException} a policy that is not a JSON policy document.
 * @throws {TagException} @throws {LimitExceededException}
 */
export async function createKey(
  kms: KeyPorts,
  caller: Caller,
  input: CreateKeyInput,
): Promise<{ KeyMetadata: KeyMetadata }> {
  const keySpec = chooseKeySpec(input);
  const keyUsage = input.KeyUsage ?? "ENCRYPT_DECRYPT";
  kms.authorizeAccount(caller, "kms:CreateKey", {
    keySpec,
    keyUsage,
    keyOrigin: input.Origin ?? "AWS_KMS",
    multiRegion: input.MultiRegion ?? false,
    bypassPolicyLockoutSafetyCheck: input.BypassPolicyLockoutSafetyCheck ?? false,
    requestTags: input.Tags,
    tagKeys: input.Tags?.map((tag) => tag.TagKey),
  });
  if (algorithmsOf(keySpec, keyUsage) === undefined) {
    throw new ValidationException(`KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}`);
  }
  assertSpecAvailable(kms.region, keySpec, "KeySpec", kms);
  if (input.CustomKeyStoreId !== undefined) {
    throw new CustomKeyStoreNotFoundException(
      `Custom key store ${input.CustomKeyStoreId} does not exist.`,
    );
  }
  if (input.XksKeyId !== undefined) {
    throw new ValidationException("XksKeyId is only valid with Origin EXTERNAL_KEY_STORE.");
  }
  const origin = input.Origin ?? "AWS_KMS";
  if (origin !== "AWS_KMS" && origin !== "EXTERNAL") {
    throw new UnsupportedOperationException(
      `Origin ${input.Origin} is not supported by this KMS yet.`,
    );
  }
  const tags = input.Tags ?? [];
  validateTags(tags);
  const now = kms.clock.now();
  const record = newKeyRecord({
    keyId: input.MultiRegion === true ? newMultiRegionKeyId() : crypto.randomUUID(),
    accountId: caller.accountId,
    region: kms.region,
    now,
    description: input.Description,
    keySpec,
    keyUsage,
    origin,
    policy: input.Policy,
  });
  if (input.Policy !== undefined) {
    await checkKeyPolicy(kms, caller, record, input.BypassPolicyLockoutSafetyCheck === true);
  }
  // Origin EXTERNAL: no material until ImportKeyMaterial (core/operations/import.ts).
  const material = origin === "EXTERNAL"
    ? null
    : firstKeyMaterial(record, await generateKeyMaterial(keySpec, kms.keyPairs, record.region));
  const arn = keyArn(record.region, record.accountId, record.keyId);
  const result = { KeyMetadata: keyMetadata(record, arn, material?.keyMaterialId ?? null) };
  caller.audit?.addResource(arn);
  caller.audit?.succeeded(result);
  await kms.commit(caller, (audit) => kms.store.createKey(record, material, tags, audit));
  kms.rememberKey(record);
  return result;
}

function chooseKeySpec(input: CreateKeyInput): KeySpec {
  if (input.KeySpec !== undefined && input.CustomerMasterKeySpec !== undefined) {
    throw new ValidationException(
      "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec parameter is deprecated. Use KeySpec parameter instead.",
    );
  }
  return input.KeySpec ?? input.CustomerMasterKeySpec ?? "SYMMETRIC_DEFAULT";
}

async function metadataOf(kms: KeyPorts, key: LoadedKey): Promise<KeyMetadata> {
  const material = await kms.material(key.record.keyId, key.record.currentMaterialVersion);
  const metadata = keyMetadata(key.record, key.arn, material?.keyMaterialId ?? null);
  return Object.assign(metadata, await multiRegionMetadata(kms, key.record));
}

/**
 * DescribeKey: full KeyMetadata; accepts key id, key ARN, alias name or alias ARN.
 * @throws {NotFoundException} @throws {AccessDeniedException}
 */
export async function describeKey(
  kms: KeyPorts,
  caller: Caller,
  input: { KeyId: string },
): Promise<{ KeyMetadata: KeyMetadata }> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: true,
    action: "kms:DescribeKey",
  });
  return { KeyMetadata: await metadataOf(kms, key) };
}

/** ListKeys' answer. */
export interface ListKeysResult {
  Keys: { KeyId: string; KeyArn: string }[];
  NextMarker?: string;
  Truncated: boolean;
}

/**
 * ListKeys: the caller's keys by key id, Limit 1..1000 (default 100), opaque Marker.
 * @throws {InvalidMarkerException} a marker this KMS did not hand out.
 */
export async function listKeys(
  kms: KeyPorts,
  caller: Caller,
  input: { Limit?: number | undefined; Marker?: string | undefined },
): Promise<ListKeysResult> {
  kms.authorizeAccount(caller, "kms:ListKeys");
  const limit = input.Limit ?? 100;
  const after = input.Marker === undefined ? undefined : decodeKeyMarker(input.Marker);
  await kms.purgeDueKeys();
  const rows = await kms.store.listKeys(caller.accountId, kms.region, { limit: limit + 1, after });
  const { shown, end } = cutPage(rows, limit, (last) => encodeMarker("key", last.keyId));
  const keys = shown.map((r) => {
    const loaded = kms.rememberKey(r);
    return { KeyId: r.keyId, KeyArn: loaded.arn };
  });
  return { Keys: keys, ...end };
}

function decodeKeyMarker(marker: string): string {
  return decodeMarker(marker, "key", (keyId) => isKeyId(keyId) ? keyId : undefined);
}

/**
 * UpdateKeyDescription.
 * @throws {NotFoundException} @throws {KMSInvalidStateException}
 */
export async function updateKeyDescription(
  kms: KeyPorts,
  caller: Caller,
  input: { KeyId: string; Description: string },
): Promise<Record<string, never>> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:UpdateKeyDescription",
  });
  assertKeyStateAllows("UpdateKeyDescription", { arn: key.arn, state: key.record.state });
  await kms.saveKey(caller, { ...key.record, description: input.Description });
  return {};
}

async function switchKey(
  kms: KeyPorts,
  caller: Caller,
  input: { KeyId: string },
  to: "Enabled" | "Disabled",
): Promise<Record<string, never>> {
  const operation = to === "Enabled" ? "EnableKey" : "DisableKey";
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: `kms:${operation}`,
  });
  assertKeyStateAllows(operation, { arn: key.arn, state: key.record.state });
  if (key.record.state !== to) await kms.saveKey(caller, { ...key.record, state: to });
  return {};
}

/**
 * EnableKey: Disabled (or Enabled) -> Enabled.
 * @throws {NotFoundException} @throws {KMSInvalidStateException}
 */
export function enableKey(
  kms: KeyPorts,
  caller: Caller,
  input: { KeyId: string },
): Promise<Record<string, never>> {
  return switchKey(kms, caller, input, "Enabled");
}

/**
 * DisableKey: Enabled (or Disabled) -> Disabled.
 * @throws {NotFoundException} @throws {KMSInvalidStateException}
 */
export function disableKey(
  kms: KeyPorts,
  caller: Caller,
  input: { KeyId: string },
): Promise<Record<string, never>> {
  return switchKey(kms, caller, input, "Disabled");
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * ScheduleKeyDeletion: PendingWindowInDays 7..30 (default 30); the key is deleted for real after DeletionDate.
 * @throws {ValidationException} a window outside 7..30.
 * @throws {NotFoundException} @throws {KMSInvalidStateException}
 */
export async function scheduleKeyDeletion(
  kms: KeyPorts,
  caller: Caller,
  input: { KeyId: string; PendingWindowInDays?: number | undefined },
): Promise<{
  KeyId: string;
  DeletionDate?: Date;
  KeyState: "PendingDeletion" | "PendingReplicaDeletion";
  PendingWindowInDays: number;
}> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:ScheduleKeyDeletion",
  });
  const days = input.PendingWindowInDays ?? 30;
  if (days < 7 || days > 30) {
    throw new ValidationException(
      `1 validation error detected: Value '${days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value between 7 and 30`,
    );
  }
  assertKeyStateAllows("ScheduleKeyDeletion", { arn: key.arn, state: key.record.state });
  if (await hasReplicas(kms, key.record)) {
    // A multi-Region primary key waits for its replicas; its window starts after the last one.
    await kms.saveKey(caller, {
      ...key.record,
      state: "PendingReplicaDeletion",
      deletionDate: null,
      pendingWindowInDays: days,
    });
    return { KeyId: key.arn, KeyState: "PendingReplicaDeletion", PendingWindowInDays: days };
  }
  const deletionDate = kms.clock.now() + days * DAY_MS;
  await kms.saveKey(caller, {
    ...key.record,
    state: "PendingDeletion",
    deletionDate,
    pendingWindowInDays: days,
  });
  return {
    KeyId: key.arn,
    DeletionDate: new Date(deletionDate),
    KeyState: "PendingDeletion",
    PendingWindowInDays: days,
  };
}

/**
 * CancelKeyDeletion: PendingDeletion -> Disabled, as AWS does.
 * @throws {NotFoundException} @throws {KMSInvalidStateException} a key not pending deletion.
 */
export async function cancelKeyDeletion(
  kms: KeyPorts,
  caller: Caller,
  input: { KeyId: string },
): Promise<{ KeyId: string }> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:CancelKeyDeletion",
  });
  assertKeyStateAllows("CancelKeyDeletion", { arn: key.arn, state: key.record.state });
  await kms.saveKey(caller, {
    ...key.record,
    // A key of Origin EXTERNAL without its imported material waits for it again.
    state: key.record.origin === "EXTERNAL" && !key.record.expirationModel
      ? "PendingImport"
      : "Disabled",
    deletionDate: null,
    pendingWindowInDays: null,
  });
  return { KeyId: key.arn };
}
