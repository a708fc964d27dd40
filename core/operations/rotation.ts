/**
 * Key rotation: EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus,
 * RotateKeyOnDemand, ListKeyRotations, and the rotation itself, shared with the
 * automatic rotation scheduler (core/rotation_scheduler.ts).
 *
 * A rotation makes a new version of a key's material (fresh random bytes, as
 * CreateKey makes them) and moves the key's current version to it; older
 * versions stay, so every ciphertext (whose blob names its version) still
 * decrypts, and new ciphertexts, ReEncrypt included, use the newest. The new
 * version, the move, the schedule and the audit record commit in one
 * transaction, conditionally (storage/sqlite_rotation_store.ts): a rotation that
 * lost a race to another rotation or change writes nothing.
 *
 * Which keys rotate is AWS's table: symmetric encryption keys (SYMMETRIC_DEFAULT)
 * with Origin AWS_KMS, automatically and on demand. Asymmetric and HMAC keys:
 * UnsupportedOperationException (GetKeyRotationStatus answers false). Keys with
 * imported material (Origin EXTERNAL): no automatic rotation; on demand only
 * to new material imported for it (ImportType NEW_KEY_MATERIAL, state
 * PENDING_ROTATION: `rotateExternalKeyOnDemand`), which becomes the next version.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html
 * @module
 */
import { cutPage, decodeMarker, encodeMarker } from "./paging.ts";
import { forgetRotatedReplicas, refuseReplicaRotation, rotationHome } from "./multi_region.ts";
import type { AuditEntry } from "../audit/entry.ts";
import {
  ConflictException,
  KMSInvalidStateException,
  LimitExceededException,
  NotFoundException,
  UnsupportedOperationException,
  ValidationException,
} from "../errors.ts";
import { generateKeyMaterial } from "../key_material.ts";
import { assertKeyStateAllows } from "../key_state.ts";
import type { KeyPairSource, LoadedKey } from "../operation_ports.ts";
import type { MultiRegionPorts } from "./multi_region.ts";
import type {
  KeyRotation,
  MaterialVersionInfo,
  RotationStore,
  RotationType,
} from "../rotation_store.ts";
import type { ImportStore, PendingKeyMaterial } from "../ports.ts";
import type { Caller, KeyMaterial, KeyRecord } from "../types.ts";
import { newKeyMaterialId } from "./keys.ts";
import { pendingExpired } from "./import.ts";

/** What rotation operations use of the KMS. */
export type RotationPorts = MultiRegionPorts & {
  readonly keyPairs: KeyPairSource;
  readonly store:
    & RotationStore
    & Pick<ImportStore, "getPendingKeyMaterial" | "listImportedMaterial">;
};

/** RotationPeriodInDays: AWS's range and default. */
export const MIN_ROTATION_PERIOD_DAYS = 90;
export const MAX_ROTATION_PERIOD_DAYS = 2560;
export const DEFAULT_ROTATION_PERIOD_DAYS = 365;

/** AWS's quota of on-demand rotations per key (not adjustable). */
export const MAX_ON_DEMAND_ROTATIONS = 25;

/** RotateKeyOnDemand is refused while an automatic rotation is due this soon (ConflictException). */
export const AUTOMATIC_ROTATION_CONFLICT_MS = 20 * 60 * 1000;

/** Milliseconds in a day. */
export const DAY_MS = 24 * 60 * 60 * 1000;

/** Tries of a rotation that lost races to other rotations before giving up (ConflictException). */
const ROTATION_ATTEMPTS = 5;

/** How a key may rotate. */
type RotationSupport = "symmetric" | "external" | UnsupportedOperationException;

/** AWS's table: symmetric encryption keys of Origin AWS_KMS rotate; EXTERNAL ones only on demand. */
export function rotationSupport(key: LoadedKey): RotationSupport {
  const { keySpec, keyUsage, origin } = key.record;
  if (keySpec !== "SYMMETRIC_DEFAULT" || keyUsage !== "ENCRYPT_DECRYPT") {
    return new UnsupportedOperationException(
      `${key.arn} KeySpec ${keySpec} is not valid for this operation.`,
    );
  }
  if (origin === "AWS_KMS") return "symmetric";
  if (origin === "EXTERNAL") return "external";
  return new UnsupportedOperationException(
    `${key.arn} origin is ${origin} which is not valid for this operation.`,
  );
}

/** The answer to automatic rotation of a key with imported material: AWS does not rotate those. */
function externalAutomaticRotation(key: LoadedKey): UnsupportedOperationException {
  return new UnsupportedOperationException(
    `${key.arn} origin is EXTERNAL which is not valid for this operation.`,
  );
}

/**
 * RotateKeyOnDemand of a key with imported material (Origin EXTERNAL): the key's material
 * imported for the rotation (ImportType NEW_KEY_MATERIAL, state PENDING_ROTATION) becomes its
 * next version and current material, and the key takes that material's expiration, in one
 * transaction; older versions stay for decryption. Counts against the 25 on-demand rotations.
 * @throws {KMSInvalidStateException} no new key material (unexpired) was imported for it.
 * @throws {LimitExceededException} @throws {ConflictException} another rotation came first.
 */
function rotateExternalKeyOnDemand(
  kms: RotationPorts,
  caller: Caller,
  key: LoadedKey,
): Promise<{ KeyId: string }> {
  assertKeyStateAllows("RotateKeyOnDemand", { arn: key.arn, state: key.record.state });
  const result = { KeyId: key.record.keyId };
  return oneAtATime(kms, key.record.keyId, async () => {
    const fresh = await kms.findKey(key.record.keyId, { fresh: true }) ?? key;
    assertKeyStateAllows("RotateKeyOnDemand", { arn: fresh.arn, state: fresh.record.state });
    const now = kms.clock.now();
    const pending = await kms.store.getPendingKeyMaterial(fresh.record.keyId);
    try {
      if (pending === null || pendingExpired(pending, now)) {
        throw new KMSInvalidStateException(
          `${fresh.arn} has no key material in PENDING_ROTATION state. Import new key material ` +
            "before you rotate a key with imported key material on demand.",
        );
      }
      const schedule = await kms.store.getRotationSchedule(fresh.record.keyId);
      if ((schedule?.onDemandRotations ?? 0) >= MAX_ON_DEMAND_ROTATIONS) {
        throw new LimitExceededException(
          `${fresh.arn} has reached the limit of ${MAX_ON_DEMAND_ROTATIONS} on-demand rotations.`,
        );
      }
      caller.audit?.succeeded(result);
      const committed = await kms.store.rotateKeyMaterial({
        key: fresh.record,
        material: {
          keyId: fresh.record.keyId,
          version: fresh.record.currentMaterialVersion + 1,
          keyMaterialId: pending.keyMaterialId,
          material: pending.material,
          createdAt: now,
        },
        type: "ON_DEMAND",
        rotatedAt: now,
        maxOnDemandRotations: MAX_ON_DEMAND_ROTATIONS,
        imported: { expirationModel: pending.expirationModel, validTo: pending.validTo },
      }, caller.audit?.record());
      if (!committed) {
        throw new ConflictException(`${fresh.arn} is being rotated by another request. Try again.`);
      }
      caller.audit?.markWritten();
    } finally {
      pending?.material.wipe();
    }
    await kms.findKey(fresh.record.keyId, { fresh: true });
    return result;
  });
}

/**
 * The members AWS adds to a ListKeyRotations entry of a symmetric key with imported material:
 * its description, import state and expiration (the key's, for its current material).
 */
function externalEntryFields(
  key: LoadedKey,
  row: MaterialVersionInfo,
  descriptions: ReadonlyMap<string, string | null>,
): Partial<RotationsListEntry> {
  const description = descriptions.get(row.keyMaterialId);
  const current = row.version === key.record.currentMaterialVersion;
  const { expirationModel, validTo } = key.record;
  return {
    ...(description ? { KeyMaterialDescription: description } : {}),
    ImportState: "IMPORTED",
    ...(current && expirationModel ? { ExpirationModel: expirationModel } : {}),
    ...(current && expirationModel === "KEY_MATERIAL_EXPIRES" && typeof validTo === "number"
      ? { ValidTo: new Date(validTo) }
      : {}),
  };
}

/** The ListKeyRotations entry of material waiting for an on-demand rotation. */
function pendingEntry(
  key: LoadedKey,
  pending: PendingKeyMaterial,
  description: string | null | undefined,
): RotationsListEntry {
  return {
    KeyId: key.record.keyId,
    KeyMaterialId: pending.keyMaterialId,
    ...(description ? { KeyMaterialDescription: description } : {}),
    ImportState: "IMPORTED",
    KeyMaterialState: "PENDING_ROTATION",
    ExpirationModel: pending.expirationModel,
    ...(pending.validTo !== null ? { ValidTo: new Date(pending.validTo) } : {}),
  };
}

/** Throws unless the key may rotate automatically. */
function assertAutomaticRotation(key: LoadedKey): void {
  const support = rotationSupport(key);
  if (support instanceof UnsupportedOperationException) throw support;
  if (support === "external") throw externalAutomaticRotation(key);
}

/** @throws {ValidationException} a period outside 90..2560 (the schema checks it first). */
function rotationPeriod(days: number | undefined): number {
  const period = days ?? DEFAULT_ROTATION_PERIOD_DAYS;
  if (
    !Number.isInteger(period) || period < MIN_ROTATION_PERIOD_DAYS ||
    period > MAX_ROTATION_PERIOD_DAYS
  ) {
    throw new ValidationException(
      `1 validation error detected: Value '${period}' at 'rotationPeriodInDays' failed to satisfy constraint: Member must have value between ${MIN_ROTATION_PERIOD_DAYS} and ${MAX_ROTATION_PERIOD_DAYS}`,
    );
  }
  return period;
}

/**
 * EnableKeyRotation: automatic rotation every RotationPeriodInDays (default 365), the first one
 * that many days from now. On a key whose rotation is enabled it changes the period: the next
 * rotation is then the new period after the last one (or after the enable date), and at once
 * when that date has passed.
 * @throws {UnsupportedOperationException} a key that cannot rotate automatically.
 * @throws {DisabledException} @throws {KMSInvalidStateException} @throws {NotFoundException}
 */
export async function enableKeyRotation(
  kms: RotationPorts,
  caller: Caller,
  input: { KeyId: string; RotationPeriodInDays?: number | undefined },
): Promise<Record<string, never>> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:EnableKeyRotation",
    conditions: { rotationPeriodInDays: input.RotationPeriodInDays },
  });
  await refuseReplicaRotation(kms, key.record);
  const period = rotationPeriod(input.RotationPeriodInDays);
  assertAutomaticRotation(key);
  assertKeyStateAllows("EnableKeyRotation", { arn: key.arn, state: key.record.state });
  const now = kms.clock.now();
  const schedule = await kms.store.getRotationSchedule(key.record.keyId);
  if (schedule?.enabled === true && schedule.periodDays === period) return {};
  let next = now + period * DAY_MS;
  if (schedule?.enabled === true && schedule.nextRotationDate !== null) {
    const anchor = schedule.nextRotationDate - schedule.periodDays * DAY_MS;
    next = Math.max(anchor + period * DAY_MS, now);
  }
  await kms.commit(caller, (audit) =>
    kms.store.putRotationSchedule({
      keyId: key.record.keyId,
      enabled: true,
      periodDays: period,
      nextRotationDate: next,
      onDemandRotations: schedule?.onDemandRotations ?? 0,
    }, audit));
  return {};
}

/**
 * DisableKeyRotation: no more automatic rotations (on-demand ones stay possible).
 * @throws {UnsupportedOperationException} a key that cannot rotate automatically.
 * @throws {DisabledException} @throws {KMSInvalidStateException} @throws {NotFoundException}
 */
export async function disableKeyRotation(
  kms: RotationPorts,
  caller: Caller,
  input: { KeyId: string },
): Promise<Record<string, never>> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:DisableKeyRotation",
  });
  await refuseReplicaRotation(kms, key.record);
  assertAutomaticRotation(key);
  assertKeyStateAllows("DisableKeyRotation", { arn: key.arn, state: key.record.state });
  const schedule = await kms.store.getRotationSchedule(key.record.keyId);
  if (schedule === null || !schedule.enabled) return {};
  await kms.commit(
    caller,
    (audit) =>
      kms.store.putRotationSchedule({ ...schedule, enabled: false, nextRotationDate: null }, audit),
  );
  return {};
}

/** GetKeyRotationStatus's answer. */
export interface KeyRotationStatus {
  KeyRotationEnabled: boolean;
  KeyId: string;
  RotationPeriodInDays?: number;
  NextRotationDate?: Date;
}

/**
 * GetKeyRotationStatus: whether automatic rotation is enabled, its period and next date. False
 * for keys that cannot rotate automatically and for keys pending deletion (the status returns
 * when the deletion is canceled). On-demand rotations complete within the request, so no
 * OnDemandRotationStartDate is ever in progress.
 * @throws {NotFoundException} @throws {AccessDeniedException}
 */
export async function getKeyRotationStatus(
  kms: RotationPorts,
  caller: Caller,
  input: { KeyId: string },
): Promise<KeyRotationStatus> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:GetKeyRotationStatus",
  });
  assertKeyStateAllows("GetKeyRotationStatus", { arn: key.arn, state: key.record.state });
  const disabled = { KeyRotationEnabled: false, KeyId: key.arn };
  if (rotationSupport(key) !== "symmetric" || key.record.state === "PendingDeletion") {
    return disabled;
  }
  // A multi-Region replica reports its primary's schedule.
  const home = await rotationHome(kms, key.record);
  const schedule = await home.store.getRotationSchedule(key.record.keyId);
  if (schedule === null || !schedule.enabled || schedule.nextRotationDate === null) return disabled;
  return {
    KeyRotationEnabled: true,
    KeyId: key.arn,
    RotationPeriodInDays: schedule.periodDays,
    NextRotationDate: new Date(schedule.nextRotationDate),
  };
}

/**
 * RotateKeyOnDemand: rotates now, whether or not automatic rotation is enabled, without
 * changing the automatic schedule; at most 25 times per key.
 * @throws {UnsupportedOperationException} an asymmetric or HMAC key.
 * @throws {LimitExceededException} the key was rotated on demand 25 times.
 * @throws {ConflictException} an automatic rotation is due within 20 minutes.
 * @throws {DisabledException} @throws {KMSInvalidStateException} @throws {NotFoundException}
 */
export async function rotateKeyOnDemand(
  kms: RotationPorts,
  caller: Caller,
  input: { KeyId: string },
): Promise<{ KeyId: string }> {
  let key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:RotateKeyOnDemand",
  });
  await refuseReplicaRotation(kms, key.record);
  const support = rotationSupport(key);
  if (support instanceof UnsupportedOperationException) throw support;
  if (support === "external") return await rotateExternalKeyOnDemand(kms, caller, key);
  const result = { KeyId: key.record.keyId };
  return await oneAtATime(kms, key.record.keyId, async () => {
    // Read again under the lock: a rotation of this instance may have finished meanwhile.
    key = await kms.findKey(key.record.keyId, { fresh: true }) ?? key;
    for (let attempt = 1;; attempt++) {
      assertKeyStateAllows("RotateKeyOnDemand", { arn: key.arn, state: key.record.state });
      const schedule = await kms.store.getRotationSchedule(key.record.keyId);
      if ((schedule?.onDemandRotations ?? 0) >= MAX_ON_DEMAND_ROTATIONS) {
        throw new LimitExceededException(
          `${key.arn} has reached the limit of ${MAX_ON_DEMAND_ROTATIONS} on-demand rotations.`,
        );
      }
      const now = kms.clock.now();
      if (
        schedule?.enabled === true && schedule.nextRotationDate !== null &&
        schedule.nextRotationDate - now <= AUTOMATIC_ROTATION_CONFLICT_MS
      ) {
        throw new ConflictException(
          `An automatic rotation of ${key.arn} is in progress or scheduled to begin within the next 20 minutes.`,
        );
      }
      caller.audit?.succeeded(result);
      const rotated = await rotateKey(kms, key.record, "ON_DEMAND", { audit: caller.audit });
      if (rotated !== null) return result;
      if (attempt >= ROTATION_ATTEMPTS) {
        throw new ConflictException(`${key.arn} is being rotated by another request. Try again.`);
      }
      const fresh = await kms.findKey(key.record.keyId, { fresh: true });
      if (fresh === null) throw new NotFoundException(`Key '${key.arn}' does not exist`);
      key = fresh;
    }
  });
}

/** Rotations in progress in this process, per Kms and key id: one at a time per key. */
const rotationsInProgress = new WeakMap<object, Map<string, Promise<unknown>>>();

/**
 * Runs `work` after every rotation of the key this process started before it (rotations of one
 * key in one process never race each other; other processes' are settled by the store).
 */
export function oneAtATime<T>(
  kms: RotationPorts,
  keyId: string,
  work: () => Promise<T>,
): Promise<T> {
  let byKey = rotationsInProgress.get(kms);
  if (byKey === undefined) {
    byKey = new Map();
    rotationsInProgress.set(kms, byKey);
  }
  const previous = byKey.get(keyId) ?? Promise.resolve();
  const mine = previous.catch(() => {}).then(work);
  const settled = mine.catch(() => {});
  byKey.set(keyId, settled);
  void settled.then(() => {
    if (byKey.get(keyId) === settled) byKey.delete(keyId);
  });
  return mine;
}

/** How a rotation is committed. */
export interface RotateOptions {
  /** The audit entry committed with the rotation (marked written when it is). */
  audit?: AuditEntry | undefined;
  /** AUTOMATIC: the scheduler's claim on the due rotation. */
  claim?: KeyRotation["claim"];
}

/**
 * Rotates `record`'s key to fresh material (version current + 1), in one transaction with the
 * audit entry's record, and updates this instance's cache. Resolves the key as rotated, or
 * null when another rotation or change came first (then nothing was written).
 */
export async function rotateKey(
  kms: RotationPorts,
  record: KeyRecord,
  type: RotationType,
  options: RotateOptions = {},
): Promise<LoadedKey | null> {
  const now = kms.clock.now();
  const material: KeyMaterial = {
    keyId: record.keyId,
    version: record.currentMaterialVersion + 1,
    keyMaterialId: newKeyMaterialId(),
    material: await generateKeyMaterial(record.keySpec, kms.keyPairs, record.region),
    createdAt: now,
  };
  try {
    const committed = await kms.store.rotateKeyMaterial({
      key: record,
      material,
      type,
      rotatedAt: now,
      claim: options.claim,
      maxOnDemandRotations: type === "ON_DEMAND" ? MAX_ON_DEMAND_ROTATIONS : undefined,
    }, options.audit?.record());
    if (!committed) return null;
    options.audit?.markWritten();
  } finally {
    material.material.wipe();
  }
  await forgetRotatedReplicas(kms, record);
  // The key as committed (fresh: another instance may have changed other fields), now cached.
  return await kms.findKey(record.keyId, { fresh: true });
}

/** One entry of ListKeyRotations. */
export interface RotationsListEntry {
  KeyId: string;
  KeyMaterialId: string;
  KeyMaterialDescription?: string;
  KeyMaterialState: "CURRENT" | "NON_CURRENT" | "PENDING_ROTATION";
  RotationDate?: Date;
  RotationType?: RotationType;
  ImportState?: "IMPORTED" | "PENDING_IMPORT";
  ExpirationModel?: string;
  ValidTo?: Date;
}

/** ListKeyRotations' answer. */
export interface ListKeyRotationsResult {
  Rotations: RotationsListEntry[];
  NextMarker?: string;
  Truncated: boolean;
}

/**
 * ListKeyRotations: the key's completed rotations, oldest first (ALL_KEY_MATERIAL: its first
 * material too), Limit 1..1000 (default 100), opaque Marker.
 * @throws {UnsupportedOperationException} a key that cannot rotate.
 * @throws {InvalidMarkerException} a marker this KMS did not hand out.
 * @throws {NotFoundException} @throws {AccessDeniedException}
 */
export async function listKeyRotations(
  kms: RotationPorts,
  caller: Caller,
  input: {
    KeyId: string;
    IncludeKeyMaterial?: "ALL_KEY_MATERIAL" | "ROTATIONS_ONLY" | undefined;
    Limit?: number | undefined;
    Marker?: string | undefined;
  },
): Promise<ListKeyRotationsResult> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:ListKeyRotations",
  });
  const support = rotationSupport(key);
  if (support instanceof UnsupportedOperationException) throw support;
  assertKeyStateAllows("ListKeyRotations", { arn: key.arn, state: key.record.state });
  const limit = input.Limit ?? 100;
  const after = input.Marker === undefined ? undefined : decodeRotationMarker(input.Marker);
  if (support === "external") {
    const stored = await kms.findKey(key.record.keyId, { fresh: true }) ?? key;
    return await externalRotations(kms, stored, input.IncludeKeyMaterial, after, limit);
  }
  const rows = await kms.store.listMaterialVersions(key.record.keyId, {
    limit: limit + 1,
    after,
    rotationsOnly: (input.IncludeKeyMaterial ?? "ROTATIONS_ONLY") === "ROTATIONS_ONLY",
  });
  // The current version as stored (a cached record may predate another instance's rotation).
  const current = await kms.findKey(key.record.keyId, { fresh: true }) ?? key;
  const { shown, end } = cutPage(rows, limit, (last) => encodeMarker("rotation", last.version));
  return { Rotations: shown.map((row) => rotationEntry(current, row, {})), ...end };
}

/** The most material versions a key with imported material has: its first and 25 rotations. */
const MAX_IMPORTED_VERSIONS = 1 + MAX_ON_DEMAND_ROTATIONS;

/** A material of a key with imported material, and whether it is imported now. */
interface ListedMaterial {
  row: MaterialVersionInfo;
  imported: boolean;
}

/**
 * ListKeyRotations of a key with imported material, built in memory (at most 26 materials):
 * every version, a deleted one (DeleteImportedKeyMaterial, expiry) with ImportState
 * PENDING_IMPORT until it is imported again; ALL_KEY_MATERIAL adds the first material and, last,
 * the material waiting for an on-demand rotation, as the version it would become.
 */
async function externalRotations(
  kms: RotationPorts,
  key: LoadedKey,
  include: "ALL_KEY_MATERIAL" | "ROTATIONS_ONLY" | undefined,
  after: number | undefined,
  limit: number,
): Promise<ListKeyRotationsResult> {
  const keyId = key.record.keyId;
  const present = await kms.store.listMaterialVersions(keyId, { limit: MAX_IMPORTED_VERSIONS });
  const history = await kms.store.listImportedMaterial(keyId);
  const waiting = await kms.store.getPendingKeyMaterial(keyId);
  waiting?.material.wipe();
  // Pending material past its ValidTo is gone (AWS deletes expired material).
  const pending = waiting !== null && !pendingExpired(waiting, kms.clock.now()) ? waiting : null;
  const materials: ListedMaterial[] = present.map((row) => ({ row, imported: true }));
  const versions = new Set(present.map((row) => row.version));
  for (const entry of history) {
    if (entry.keyMaterialId === waiting?.keyMaterialId) continue;
    const version = entry.version ?? key.record.currentMaterialVersion;
    if (versions.has(version)) continue;
    versions.add(version);
    materials.push({
      row: {
        keyId,
        version,
        keyMaterialId: entry.keyMaterialId,
        createdAt: entry.importedAt,
        rotationType: null,
        rotatedAt: null,
      },
      imported: false,
    });
  }
  const all = include === "ALL_KEY_MATERIAL";
  const listed: (ListedMaterial | "pending")[] = materials
    .filter((m) => (all || m.row.version > 1) && (after === undefined || m.row.version > after))
    .sort((a, b) => a.row.version - b.row.version);
  const pendingVersion = key.record.currentMaterialVersion + 1;
  if (all && pending !== null && (after === undefined || after < pendingVersion)) {
    listed.push("pending");
  }
  const { shown, end } = cutPage(
    listed,
    limit,
    (last) => encodeMarker("rotation", last === "pending" ? pendingVersion : last.row.version),
  );
  const descriptions = new Map(history.map((entry) => [entry.keyMaterialId, entry.description]));
  const entries = shown.map((m) =>
    m === "pending"
      ? pendingEntry(key, pending!, descriptions.get(pending!.keyMaterialId))
      : rotationEntry(key, m.row, {
        ...externalEntryFields(key, m.row, descriptions),
        ...(m.imported ? {} : { ImportState: "PENDING_IMPORT" as const }),
      })
  );
  return { Rotations: entries, ...end };
}

function rotationEntry(
  key: LoadedKey,
  row: MaterialVersionInfo,
  extra: Partial<RotationsListEntry>,
): RotationsListEntry {
  return {
    KeyId: key.record.keyId,
    KeyMaterialId: row.keyMaterialId,
    KeyMaterialState: row.version === key.record.currentMaterialVersion ? "CURRENT" : "NON_CURRENT",
    ...(row.rotationType !== null && row.rotatedAt !== null
      ? { RotationDate: new Date(row.rotatedAt), RotationType: row.rotationType }
      : {}),
    ...extra,
  };
}

function decodeRotationMarker(marker: string): number {
  return decodeMarker(
    marker,
    "rotation",
    (version) => /^[1-9][0-9]{0,9}$/.test(version) ? Number(version) : undefined,
  );
}
