/**
 * What a new key is, as CreateKey (core/operations/keys.ts) and the seed file
 * (core/seed.ts) make one: its record (state by origin, no deletion date,
 * material version 1, the default key policy unless one is given) and its
 * first material version.
 *
 * @module
 */
import { randomBytes } from "./crypto/random.ts";
import { defaultKeyPolicy } from "./key_policy.ts";
import type { SecretBytes } from "./secret.ts";
import type { KeyMaterial, KeyRecord, KeySpec, KeyUsage, Origin } from "./types.ts";

/** The facts of a key to create. */
export interface NewKey {
  keyId: string;
  accountId: string;
  region: string;
  /** The creation date (epoch ms). */
  now: number;
  keySpec: KeySpec;
  keyUsage: KeyUsage;
  origin: Origin;
  /** Default "". */
  description?: string | undefined;
  /** Default AWS's default key policy for the account. */
  policy?: string | undefined;
  /** False: created Disabled (the seed file's `enabled: false`). Default true. */
  enabled?: boolean | undefined;
}

/**
 * A new key's record. Origin EXTERNAL keys wait in PendingImport for ImportKeyMaterial
 * (core/operations/import.ts); the others are Enabled (or Disabled when asked).
 */
export function newKeyRecord(key: NewKey): KeyRecord {
  return {
    keyId: key.keyId,
    accountId: key.accountId,
    region: key.region,
    createdAt: key.now,
    description: key.description ?? "",
    keySpec: key.keySpec,
    keyUsage: key.keyUsage,
    origin: key.origin,
    state: key.origin === "EXTERNAL"
      ? "PendingImport"
      : key.enabled === false
      ? "Disabled"
      : "Enabled",
    deletionDate: null,
    pendingWindowInDays: null,
    policy: key.policy ?? defaultKeyPolicy(key.accountId),
    currentMaterialVersion: 1,
  };
}

/** A 64-hex KeyMaterialId, random per material version. */
export function newKeyMaterialId(): string {
  return randomBytes(32).toHex();
}

/** Version 1 of a new key's material, created with the key. */
export function firstKeyMaterial(record: KeyRecord, material: SecretBytes): KeyMaterial {
  return {
    keyId: record.keyId,
    version: 1,
    keyMaterialId: newKeyMaterialId(),
    material,
    createdAt: record.createdAt,
  };
}
