/**
 * What of a request and of its answer goes into the audit record: a
 * whitelist, field by field, in CloudTrail's camelCase. A field is copied only
 * when it is named here AND has the expected JSON shape, so a plaintext, a
 * ciphertext, a message, a MAC, a public key, a grant token, a recipient's
 * attestation document or any secret can never reach the log: they are not
 * named, and bytes (`Uint8Array`, `SecretBytes`) are not strings, maps or lists
 * of strings, so they are skipped even under a whitelisted name.
 *
 * The encryption context is logged, as AWS does (it is not secret).
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/ct-generatedatakey.html
 * @module
 */
import type { JsonObject, JsonValue } from "./record.ts";

/** Longest string field copied; longer ones are left out (policies have their own bound). */
const MAX_STRING = 8192;
/** AWS's PolicyType bound. */
const MAX_POLICY = 131_072;
/** Most entries of a list or map copied; longer ones are left out. */
const MAX_ENTRIES = 1000;

type Shape =
  | "string"
  | "policy"
  | "integer"
  | "boolean"
  | "stringMap"
  | "stringList"
  | "tags"
  | "constraints";

/** Request members that may be logged, with their CloudTrail name and shape. */
const REQUEST_FIELDS: ReadonlyMap<string, readonly [string, Shape]> = new Map([
  ["AliasName", ["aliasName", "string"]],
  ["BypassPolicyLockoutSafetyCheck", ["bypassPolicyLockoutSafetyCheck", "boolean"]],
  ["Constraints", ["constraints", "constraints"]],
  ["CustomKeyStoreId", ["customKeyStoreId", "string"]],
  ["CustomKeyStoreName", ["customKeyStoreName", "string"]],
  ["CustomerMasterKeySpec", ["customerMasterKeySpec", "string"]],
  ["Description", ["description", "string"]],
  ["DestinationEncryptionAlgorithm", ["destinationEncryptionAlgorithm", "string"]],
  ["DestinationEncryptionContext", ["destinationEncryptionContext", "stringMap"]],
  ["DestinationKeyId", ["destinationKeyId", "string"]],
  ["DryRun", ["dryRun", "boolean"]],
  ["DryRunModifiers", ["dryRunModifiers", "stringList"]],
  ["EncryptionAlgorithm", ["encryptionAlgorithm", "string"]],
  ["EncryptionContext", ["encryptionContext", "stringMap"]],
  ["ExpirationModel", ["expirationModel", "string"]],
  ["GrantId", ["grantId", "string"]],
  ["GranteePrincipal", ["granteePrincipal", "string"]],
  ["ImportType", ["importType", "string"]],
  ["IncludeKeyMaterial", ["includeKeyMaterial", "string"]],
  ["KeyAgreementAlgorithm", ["keyAgreementAlgorithm", "string"]],
  ["KeyId", ["keyId", "string"]],
  ["KeyMaterialDescription", ["keyMaterialDescription", "string"]],
  ["KeyMaterialId", ["keyMaterialId", "string"]],
  ["KeyPairSpec", ["keyPairSpec", "string"]],
  ["KeySpec", ["keySpec", "string"]],
  ["KeyUsage", ["keyUsage", "string"]],
  ["Limit", ["limit", "integer"]],
  ["MacAlgorithm", ["macAlgorithm", "string"]],
  ["Marker", ["marker", "string"]],
  ["MessageType", ["messageType", "string"]],
  ["MultiRegion", ["multiRegion", "boolean"]],
  ["Name", ["name", "string"]],
  ["NumberOfBytes", ["numberOfBytes", "integer"]],
  ["Operations", ["operations", "stringList"]],
  ["Origin", ["origin", "string"]],
  ["PendingWindowInDays", ["pendingWindowInDays", "integer"]],
  ["Policy", ["policy", "policy"]],
  ["PolicyName", ["policyName", "string"]],
  ["PrimaryRegion", ["primaryRegion", "string"]],
  ["ReplicaRegion", ["replicaRegion", "string"]],
  ["RetiringPrincipal", ["retiringPrincipal", "string"]],
  ["RotationPeriodInDays", ["rotationPeriodInDays", "integer"]],
  ["SigningAlgorithm", ["signingAlgorithm", "string"]],
  ["SourceEncryptionAlgorithm", ["sourceEncryptionAlgorithm", "string"]],
  ["SourceEncryptionContext", ["sourceEncryptionContext", "stringMap"]],
  ["SourceKeyId", ["sourceKeyId", "string"]],
  ["TagKeys", ["tagKeys", "stringList"]],
  ["Tags", ["tags", "tags"]],
  ["TargetKeyId", ["targetKeyId", "string"]],
  ["WrappingAlgorithm", ["wrappingAlgorithm", "string"]],
  ["WrappingKeySpec", ["wrappingKeySpec", "string"]],
  ["XksKeyId", ["xksKeyId", "string"]],
]);

/**
 * Algorithms CloudTrail always shows for these operations, even when the
 * request left them out (AWS: "always includes the encryptionAlgorithm").
 */
const DEFAULTS: ReadonlyMap<string, readonly (readonly [string, string])[]> = new Map([
  ["Encrypt", [["encryptionAlgorithm", "SYMMETRIC_DEFAULT"]]],
  ["Decrypt", [["encryptionAlgorithm", "SYMMETRIC_DEFAULT"]]],
  ["ReEncrypt", [
    ["destinationEncryptionAlgorithm", "SYMMETRIC_DEFAULT"],
    ["sourceEncryptionAlgorithm", "SYMMETRIC_DEFAULT"],
  ]],
]);

/** Answer members that may be logged (for operations that change state only). */
const RESPONSE_FIELDS: ReadonlyMap<string, string> = new Map([
  ["DeletionDate", "deletionDate"],
  ["GrantId", "grantId"],
  ["KeyId", "keyId"],
  ["KeyMaterialId", "keyMaterialId"],
  ["KeyState", "keyState"],
  ["PendingWindowInDays", "pendingWindowInDays"],
]);

/** KeyMetadata members that may be logged (CloudTrail keeps `AWSAccountId` as is). */
const KEY_METADATA_FIELDS: ReadonlyMap<string, string> = new Map([
  ["AWSAccountId", "AWSAccountId"],
  ["Arn", "arn"],
  ["CreationDate", "creationDate"],
  ["CustomerMasterKeySpec", "customerMasterKeySpec"],
  ["DeletionDate", "deletionDate"],
  ["Description", "description"],
  ["Enabled", "enabled"],
  ["EncryptionAlgorithms", "encryptionAlgorithms"],
  ["KeyAgreementAlgorithms", "keyAgreementAlgorithms"],
  ["KeyId", "keyId"],
  ["KeyManager", "keyManager"],
  ["KeySpec", "keySpec"],
  ["KeyState", "keyState"],
  ["KeyUsage", "keyUsage"],
  ["MacAlgorithms", "macAlgorithms"],
  ["MultiRegion", "multiRegion"],
  ["Origin", "origin"],
  ["PendingDeletionWindowInDays", "pendingDeletionWindowInDays"],
  ["SigningAlgorithms", "signingAlgorithms"],
]);

/**
 * CloudTrail's `requestParameters` for `input` (a parsed request; a raw JSON
 * body is safe too): whitelisted members only, keys sorted; null when none.
 */
export function requestParameters(operation: string, input: unknown): JsonObject | null {
  const out: Record<string, JsonValue> = {};
  let any = false;
  if (isRecord(input)) {
    for (const name of Object.keys(input)) {
      const field = REQUEST_FIELDS.get(name);
      if (field === undefined) continue;
      const value = copyShape(input[name], field[1]);
      if (value === undefined) continue;
      out[field[0]] = value;
      any = true;
    }
  }
  for (const [name, value] of DEFAULTS.get(operation) ?? []) {
    if (out[name] === undefined) {
      out[name] = value;
      any = true;
    }
  }
  return any ? sortKeys(out) : null;
}

/**
 * CloudTrail's `responseElements` for an answer of an operation that changes
 * state: key id, grant id, deletion date and state, and KeyMetadata without
 * anything secret; null when none. (CloudTrail logs null for read-only and
 * cryptographic operations; the caller decides.)
 */
export function responseElements(result: unknown): JsonObject | null {
  if (!isRecord(result)) return null;
  const out: Record<string, JsonValue> = {};
  let any = false;
  for (const name of Object.keys(result)) {
    const value = result[name];
    if (name === "KeyMetadata") {
      const metadata = keyMetadataElements(value);
      if (metadata !== null) {
        out["keyMetadata"] = metadata;
        any = true;
      }
      continue;
    }
    const target = RESPONSE_FIELDS.get(name);
    if (target === undefined) continue;
    const copied = scalar(value);
    if (copied === undefined) continue;
    out[target] = copied;
    any = true;
  }
  return any ? sortKeys(out) : null;
}

function keyMetadataElements(value: unknown): JsonObject | null {
  if (!isRecord(value)) return null;
  const out: Record<string, JsonValue> = {};
  for (const name of Object.keys(value)) {
    const target = KEY_METADATA_FIELDS.get(name);
    if (target === undefined) continue;
    const field = value[name];
    const copied = Array.isArray(field) ? copyShape(field, "stringList") : scalar(field);
    if (copied !== undefined) out[target] = copied;
  }
  return sortKeys(out);
}

/** A string, finite number, boolean or Date (as ISO 8601); anything else is left out. */
function scalar(value: unknown): JsonValue | undefined {
  if (typeof value === "string") return value.length <= MAX_STRING ? value : undefined;
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "boolean") return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  return undefined;
}

/** `value` copied when it has `shape`, else undefined (bytes never have any shape). */
function copyShape(value: unknown, shape: Shape): JsonValue | undefined {
  switch (shape) {
    case "string":
      return typeof value === "string" && value.length <= MAX_STRING ? value : undefined;
    case "policy":
      return typeof value === "string" && value.length <= MAX_POLICY ? value : undefined;
    case "integer":
      return Number.isSafeInteger(value) ? value as number : undefined;
    case "boolean":
      return typeof value === "boolean" ? value : undefined;
    case "stringMap":
      return stringMap(value);
    case "stringList":
      return stringList(value);
    case "tags":
      return tags(value);
    case "constraints":
      return constraints(value);
  }
}

/** A map of strings, keys sorted, into a null-prototype object (so `__proto__` stays a key). */
function stringMap(value: unknown): JsonObject | undefined {
  if (!isRecord(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length > MAX_ENTRIES) return undefined;
  const out: Record<string, string> = Object.create(null);
  for (const key of keys.sort()) {
    const entry = value[key];
    if (typeof entry !== "string" || entry.length > MAX_STRING || key.length > MAX_STRING) {
      return undefined;
    }
    out[key] = entry;
  }
  return out;
}

function stringList(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_ENTRIES) return undefined;
  for (const entry of value) {
    if (typeof entry !== "string" || entry.length > MAX_STRING) return undefined;
  }
  return [...value] as string[];
}

/** `[{TagKey, TagValue}]` -> `[{tagKey, tagValue}]`. */
function tags(value: unknown): JsonObject[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_ENTRIES) return undefined;
  const out: JsonObject[] = [];
  for (const tag of value) {
    if (!isRecord(tag)) return undefined;
    const key = tag["TagKey"];
    const tagValue = tag["TagValue"];
    if (typeof key !== "string" || typeof tagValue !== "string") return undefined;
    if (key.length > MAX_STRING || tagValue.length > MAX_STRING) return undefined;
    out.push({ tagKey: key, tagValue });
  }
  return out;
}

/** Grant constraints: `{EncryptionContextEquals?, EncryptionContextSubset?}`. */
function constraints(value: unknown): JsonObject | undefined {
  if (!isRecord(value)) return undefined;
  const out: Record<string, JsonValue> = {};
  for (
    const [name, target] of [
      ["EncryptionContextEquals", "encryptionContextEquals"],
      ["EncryptionContextSubset", "encryptionContextSubset"],
    ] as const
  ) {
    if (value[name] === undefined) continue;
    const map = stringMap(value[name]);
    if (map === undefined) return undefined;
    out[target] = map;
  }
  return out;
}

/** A plain object (Object or null prototype); class instances such as SecretBytes are not. */
function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function sortKeys(value: Record<string, JsonValue>): JsonObject {
  const keys = Object.keys(value);
  let sorted = true;
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) {
      sorted = false;
      break;
    }
  }
  if (sorted) return value;
  const out: Record<string, JsonValue> = {};
  for (const key of keys.sort()) out[key] = value[key] as JsonValue;
  return out;
}
