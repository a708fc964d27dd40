/**
 * Multi-Region keys: CreateKey's `mrk-` ids, ReplicateKey, UpdatePrimaryRegion
 * and DescribeKey's MultiRegionConfiguration.
 *
 * A primary key and its replicas share one key id and every material version
 * (ReplicateKey copies them; rotation of the primary adds each new version to
 * every replica), so a ciphertext made in one region decrypts in any other
 * region of the family. Key state, policy, description, tags, aliases and
 * grants are each key's own. Each region is served by its own Kms (`kms.peer`).
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html
 * @module
 */
import { assertSamePartition } from "../region_profile.ts";
import { randomBytes } from "../crypto/random.ts";
import { checkKeyPolicy, defaultKeyPolicy } from "../key_policy.ts";
import {
  AlreadyExistsException,
  NotFoundException,
  UnsupportedOperationException,
  ValidationException,
} from "../errors.ts";
import { keyArn } from "../identifiers.ts";
import { type KeyMetadata, keyMetadata, type MultiRegionConfiguration } from "../key_metadata.ts";
import type { KeyCommits, KeyMaterials, KeyResolver } from "../operation_ports.ts";
import type { ImportStore, KeyStore } from "../ports.ts";
import type { MultiRegionStore } from "../multi_region_store.ts";
import type { RotationStore } from "../rotation_store.ts";
import type { PolicyChecks } from "../key_policy.ts";
import { isMultiRegionKeyId } from "../regional_store.ts";
import type { ImportedMaterialRecord } from "../ports.ts";
import type { Caller, KeyRecord, Tag } from "../types.ts";
import { assertKeyStateAllows } from "../key_state.ts";
import { validateTags } from "./tags.ts";

/** What multi-Region operations use of the KMS of each served Region. */
export interface MultiRegionPorts extends KeyResolver, KeyCommits, KeyMaterials, PolicyChecks {
  readonly store:
    & MultiRegionStore
    & Pick<ImportStore, "listImportedMaterial">
    & Pick<KeyStore, "updateKey">
    & Pick<RotationStore, "getRotationSchedule">;
  /** The KMS serving `region`, when this process serves it. */
  peer(region: string): MultiRegionPorts | undefined;
  /** Forgets a cached key record another Region's KMS changed. */
  forgetKey(keyId: string): void;
}

/** A new multi-Region key id: `mrk-` and 32 random hex digits. */
export function newMultiRegionKeyId(): string {
  return `mrk-${randomBytes(16).toHex()}`;
}

/**
 * DescribeKey's MultiRegionConfiguration of `key` (nothing for a single-Region key): which region
 * holds the primary and which hold replicas.
 */
export async function multiRegionMetadata(
  kms: MultiRegionPorts,
  key: KeyRecord,
): Promise<{ MultiRegionConfiguration?: MultiRegionConfiguration }> {
  if (!isMultiRegionKeyId(key.keyId)) return {};
  const family = await kms.store.getMultiRegionFamily(key.keyId);
  const primaryRegion = family?.primaryRegion ?? key.region;
  const regions = family?.regions ?? [key.region];
  const entry = (region: string) => ({
    Arn: keyArn(region, key.accountId, key.keyId),
    Region: region,
  });
  return {
    MultiRegionConfiguration: {
      MultiRegionKeyType: primaryRegion === key.region ? "PRIMARY" : "REPLICA",
      PrimaryKey: entry(primaryRegion),
      ReplicaKeys: regions.filter((region) => region !== primaryRegion).map(entry),
    },
  };
}

/** ReplicateKey's input after schema validation. */
export interface ReplicateKeyInput {
  KeyId: string;
  ReplicaRegion: string;
  Policy?: string | undefined;
  BypassPolicyLockoutSafetyCheck?: boolean | undefined;
  Description?: string | undefined;
  Tags?: Tag[] | undefined;
}

/** ReplicateKey's answer. */
export interface ReplicateKeyResult {
  ReplicaKeyMetadata: KeyMetadata;
  ReplicaPolicy: string;
  ReplicaTags: Tag[];
}

/**
 * ReplicateKey: a replica of a multi-Region primary key in another served region, with every
 * material version of the primary (none for imported material: the replica waits in
 * PendingImport for the same material to be imported), its own policy (the default key policy
 * unless given), description and tags.
 * @throws {UnsupportedOperationException} a single-Region key, a replica, or a region this
 *   KMS does not serve. @throws {ValidationException} the key's own region.
 * @throws {AlreadyExistsException} the region has the key already.
 * @throws {KMSInvalidStateException} @throws {MalformedPolicyDocumentException}
 * @throws {TagException}
 */
export async function replicateKey(
  kms: MultiRegionPorts,
  caller: Caller,
  input: ReplicateKeyInput,
): Promise<ReplicateKeyResult> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:ReplicateKey",
  });
  const primary = await requirePrimary(kms, key.record, "replicated");
  if (input.ReplicaRegion === key.record.region) {
    throw new ValidationException(
      `The replica region ${input.ReplicaRegion} must differ from the primary key's region.`,
    );
  }
  assertSamePartition(key.record.region, input.ReplicaRegion);
  const target = kms.peer(input.ReplicaRegion);
  if (target === undefined) {
    throw new UnsupportedOperationException(
      `Region ${input.ReplicaRegion} is not served by this KMS (KMS_REGIONS).`,
    );
  }
  if (primary.regions.includes(input.ReplicaRegion)) {
    throw alreadyExists(key.record, input.ReplicaRegion);
  }
  assertKeyStateAllows("ReplicateKey", { arn: key.arn, state: key.record.state });
  target.authorizeAccount(caller, "kms:CreateKey", {
    keySpec: key.record.keySpec,
    keyUsage: key.record.keyUsage,
    keyOrigin: key.record.origin,
    multiRegion: true,
  });
  const tags = input.Tags ?? [];
  validateTags(tags);
  if (tags.length > 0) {
    target.authorizeAccount(caller, "kms:TagResource", {
      requestTags: tags,
      tagKeys: tags.map((tag) => tag.TagKey),
    });
  }
  const replica: KeyRecord = {
    ...key.record,
    region: input.ReplicaRegion,
    createdAt: kms.clock.now(),
    description: input.Description ?? "",
    state: key.record.origin === "EXTERNAL" ? "PendingImport" : "Enabled",
    deletionDate: null,
    pendingWindowInDays: null,
    policy: input.Policy ?? defaultKeyPolicy(caller.accountId),
    ...(key.record.origin === "EXTERNAL" ? { expirationModel: null, validTo: null } : {}),
  };
  if (input.Policy !== undefined) {
    await checkKeyPolicy(target, caller, replica, input.BypassPolicyLockoutSafetyCheck === true);
  }
  const replicaArn = keyArn(replica.region, replica.accountId, replica.keyId);
  const created = await kms.commit(
    caller,
    (audit) => target.store.replicateKey(key.record.region, replica, tags, audit),
  );
  if (!created) throw alreadyExists(key.record, input.ReplicaRegion);
  const loaded = target.rememberKey(replica);
  const material = key.record.origin === "EXTERNAL"
    ? null
    : await target.material(replica.keyId, replica.currentMaterialVersion);
  const metadata = keyMetadata(loaded.record, replicaArn, material?.keyMaterialId ?? null);
  const result: ReplicateKeyResult = {
    ReplicaKeyMetadata: Object.assign(metadata, await multiRegionMetadata(target, replica)),
    ReplicaPolicy: replica.policy,
    ReplicaTags: tags,
  };
  caller.audit?.addResource(replicaArn);
  return result;
}

/**
 * UpdatePrimaryRegion: makes the replica in `PrimaryRegion` the primary key and the current
 * primary a replica. Called on the primary key; the caller needs kms:UpdatePrimaryRegion on
 * both keys.
 * @throws {UnsupportedOperationException} a single-Region key or a replica.
 * @throws {NotFoundException} no replica in that region. @throws {KMSInvalidStateException}
 */
export async function updatePrimaryRegion(
  kms: MultiRegionPorts,
  caller: Caller,
  input: { KeyId: string; PrimaryRegion: string },
): Promise<Record<string, never>> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:UpdatePrimaryRegion",
  });
  const primary = await requirePrimary(kms, key.record, "given another primary region");
  assertKeyStateAllows("UpdatePrimaryRegion", { arn: key.arn, state: key.record.state });
  const arn = keyArn(input.PrimaryRegion, key.record.accountId, key.record.keyId);
  const peer = kms.peer(input.PrimaryRegion);
  const replica = primary.regions.includes(input.PrimaryRegion)
    ? await peer?.findKey(key.record.keyId, { fresh: true })
    : null;
  if (peer === undefined || replica === null || replica === undefined) {
    throw new NotFoundException(`Key '${arn}' does not exist`);
  }
  await peer.authorize(caller, replica, { action: "kms:UpdatePrimaryRegion" });
  assertKeyStateAllows("UpdatePrimaryRegion", { arn, state: replica.record.state });
  if (input.PrimaryRegion === key.record.region) return {};
  await kms.commit(
    caller,
    (audit) => kms.store.setPrimaryRegion(key.record.keyId, input.PrimaryRegion, audit),
  );
  return {};
}

/**
 * The family of a multi-Region primary key.
 * @throws {UnsupportedOperationException} a single-Region key, or a replica.
 */
async function requirePrimary(
  kms: MultiRegionPorts,
  key: KeyRecord,
  what: string,
): Promise<{ regions: string[] }> {
  const arn = keyArn(key.region, key.accountId, key.keyId);
  if (!isMultiRegionKeyId(key.keyId)) {
    throw new UnsupportedOperationException(
      `${arn} is not a multi-Region key; only a multi-Region primary key can be ${what}.`,
    );
  }
  const family = await kms.store.getMultiRegionFamily(key.keyId);
  const primaryRegion = family?.primaryRegion ?? key.region;
  if (primaryRegion !== key.region) {
    throw new UnsupportedOperationException(
      `${arn} is a replica key; only the primary key ${
        keyArn(primaryRegion, key.accountId, key.keyId)
      } can be ${what}.`,
    );
  }
  return { regions: family?.regions ?? [key.region] };
}

function alreadyExists(key: KeyRecord, region: string): AlreadyExistsException {
  return new AlreadyExistsException(
    `Key ${keyArn(region, key.accountId, key.keyId)} already exists.`,
  );
}

/**
 * Rotation is configured and done on a multi-Region family's primary key (AWS: "set the property
 * on the primary key").
 * @throws {UnsupportedOperationException} a replica key.
 */
export async function refuseReplicaRotation(kms: MultiRegionPorts, key: KeyRecord): Promise<void> {
  if (!isMultiRegionKeyId(key.keyId)) return;
  const family = await kms.store.getMultiRegionFamily(key.keyId);
  if (family === null || family.primaryRegion === key.region) return;
  const arn = keyArn(key.region, key.accountId, key.keyId);
  throw new UnsupportedOperationException(
    `${arn} is a multi-Region replica key; rotation is managed on its primary key ${
      keyArn(family.primaryRegion, key.accountId, key.keyId)
    }.`,
  );
}

/**
 * The KMS whose store holds a key's rotation schedule: the primary region's for a multi-Region
 * key (replicas share the primary's), else the key's own.
 */
export async function rotationHome(
  kms: MultiRegionPorts,
  key: KeyRecord,
): Promise<MultiRegionPorts> {
  if (!isMultiRegionKeyId(key.keyId)) return kms;
  const family = await kms.store.getMultiRegionFamily(key.keyId);
  return (family === null ? undefined : kms.peer(family.primaryRegion)) ?? kms;
}

/**
 * After a multi-Region primary key rotated (the store gave every replica the new version in the
 * same transaction), the replicas' KMS of this process forget their cached record of it.
 */
export async function forgetRotatedReplicas(kms: MultiRegionPorts, key: KeyRecord): Promise<void> {
  if (!isMultiRegionKeyId(key.keyId)) return;
  const family = await kms.store.getMultiRegionFamily(key.keyId);
  for (const region of family?.regions ?? []) {
    if (region !== key.region) kms.peer(region)?.forgetKey(key.keyId);
  }
}

/**
 * The key materials imported into a key and, for a multi-Region key, into every key of its family
 * (a replica takes only the material imported into its primary), with whether `key` is a replica.
 */
export async function familyImportHistory(
  kms: MultiRegionPorts,
  key: KeyRecord,
): Promise<{ history: ImportedMaterialRecord[]; replica: boolean }> {
  const own = await kms.store.listImportedMaterial(key.keyId);
  if (!isMultiRegionKeyId(key.keyId)) return { history: own, replica: false };
  const family = await kms.store.getMultiRegionFamily(key.keyId);
  const history = [...own];
  for (const region of family?.regions ?? []) {
    const peer = region === key.region ? undefined : kms.peer(region);
    if (peer !== undefined) history.push(...await peer.store.listImportedMaterial(key.keyId));
  }
  return { history, replica: family !== null && family.primaryRegion !== key.region };
}

/**
 * Whether `key` is a multi-Region primary key that still has replicas: ScheduleKeyDeletion then
 * puts it in PendingReplicaDeletion, and its waiting period starts only when the last replica is
 * deleted (`startPrimaryDeletionAfterLastReplica`).
 */
export async function hasReplicas(kms: MultiRegionPorts, key: KeyRecord): Promise<boolean> {
  if (!isMultiRegionKeyId(key.keyId)) return false;
  const family = await kms.store.getMultiRegionFamily(key.keyId);
  return family !== null && family.primaryRegion === key.region && family.regions.length > 1;
}

/**
 * After a key was deleted: when it was the last replica of a primary key in
 * PendingReplicaDeletion, that primary moves to PendingDeletion and its waiting period
 * (PendingWindowInDays) begins now, as AWS does.
 */
export async function startPrimaryDeletionAfterLastReplica(
  kms: MultiRegionPorts,
  keyId: string,
): Promise<void> {
  if (!isMultiRegionKeyId(keyId)) return;
  const family = await kms.store.getMultiRegionFamily(keyId);
  if (family === null || family.regions.length !== 1) return;
  if (family.regions[0] !== family.primaryRegion) return;
  const home = kms.peer(family.primaryRegion);
  const primary = await home?.findKey(keyId, { fresh: true });
  if (home === undefined || primary == null) return;
  if (primary.record.state !== "PendingReplicaDeletion") return;
  const days = primary.record.pendingWindowInDays ?? 30;
  const record: KeyRecord = {
    ...primary.record,
    state: "PendingDeletion",
    deletionDate: kms.clock.now() + days * DAY_MS,
  };
  await home.store.updateKey(record);
  home.forgetKey(keyId);
}

const DAY_MS = 24 * 60 * 60 * 1000;
