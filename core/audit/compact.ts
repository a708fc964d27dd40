/**
 * The compact stored form of an audit event (pure): what audit_log.event holds for the buffered
 * chain since migration 0010. A CloudTrail event of a GenerateDataKey is ~1.1 KB of JSON, most of
 * it the same for every request of a caller: constants (`eventSource`, `eventVersion`, ...),
 * members derived from others (`eventTime` from the row's time, `readOnly` from the operation,
 * `recipientAccountId` from the key or the caller), and the caller's context (region, source IP,
 * user agent, userIdentity), which is stored once in a dictionary (audit_dict) and named by a
 * reference. The compact form is still a JSON object, so that the columns SQLite generates from
 * the event (request_id, event_name, decision, error_code) keep working:
 *
 *     {"v":1,"decision":"Allow","eventName":"GenerateDataKey","requestID":"…","e":"<eventID>",
 *      "c":"<ref of [awsRegion, sourceIPAddress, userAgent, userIdentity]>",
 *      "r":["<ref of a key ARN>"],"k":"<ref of requestParameters.keyId>",
 *      "q":["<ref of [\"keySpec\"]>","AES_256"]}
 *
 * Members:
 * - `v`: the format (1). An object without it is a full event (rows of chain 0, and rows from
 *   before the migration).
 * - any CloudTrail member not named below is copied as is (`decision`, `eventName`, `requestID`,
 *   `errorCode`, `errorMessage`, `additionalEventData`, ...);
 * - `e`: `eventID`, a lower-case UUID, as 22 characters of base64url (else `eventID` is copied);
 * - `c`: a reference to the canonical JSON of `[awsRegion, sourceIPAddress, userAgent,
 *   userIdentity]` (when all four are present);
 * - `r`: `resources` as references to their key ARNs (when each is the standard
 *   `{ARN, accountId, type: "AWS::KMS::Key"}`);
 * - `k`, `q`: `requestParameters` with a string `keyId` as the reference `k` and the other
 *   members as `q`: `[reference of their names, ...their values]`;
 * - `a`: the names of derivable members the event lacks (they are then not derived);
 * - the derivable members (constants, `eventTime`, `readOnly`, `recipientAccountId`,
 *   `responseElements: null`) are left out when they equal what is derived, else copied.
 *
 * A reference is 8 characters of base64url: the first 48 bits of SHA-256 of the value, so that a
 * writer names a value without asking the database (any writer, any process, names it alike).
 * In format 1 (`v: 1`, what `compactEvent` writes) the hash chain covers the canonical JSON of the
 * full event (core/audit/chain.ts), not this form: a changed dictionary entry or compact member
 * changes the expanded event and breaks the chain. In format 2 (`v: 2`, what the audit worker
 * writes from an entry's line, core/audit/prepared.ts) it covers this form as stored, the row's
 * time and the full SHA-256 of every value referenced (`compactHashInput`), which breaks alike
 * without building the event. `compactEvent` answers null for an event it cannot store exactly (one using a member
 * name of the compact form); the caller then stores the full event. That every other event
 * expands back to the same canonical JSON is what core/audit/compact_test.ts checks (with
 * generated events too); `audit verify` would show any record where it did not as broken.
 *
 * @module
 */
import { hash } from "node:crypto";
import { canonicalJson } from "./chain.ts";
import { accountOfKeyArn, cloudTrailTime } from "./entry.ts";
import {
  type AuditEvent,
  type JsonObject,
  type JsonValue,
  STATE_CHANGING_OPERATIONS,
} from "./record.ts";

/** The format number in `v` of a form whose hash covers the expanded event's canonical JSON. */
export const COMPACT_FORMAT = 1;

/**
 * The format number in `v` of a form whose hash covers the stored text itself and the SHA-256 of
 * every value it references (`compactHashInput`), written by the audit worker from an entry's line
 * (core/audit/prepared.ts) without building the CloudTrail event. Altering a row changes its text;
 * altering a dictionary entry changes its SHA-256: either breaks the chain.
 */
export const HASHED_COMPACT_FORMAT = 2;

/** The members of the compact form that are not CloudTrail's. */
const SPECIAL = new Set(["v", "e", "c", "r", "k", "q", "a"]);

/** Members with a constant value in every event this KMS writes. */
const CONSTANTS: Readonly<Record<string, JsonValue>> = {
  eventCategory: "Management",
  eventSource: "kms.amazonaws.com",
  eventType: "AwsApiCall",
  eventVersion: "1.08",
  managementEvent: true,
  responseElements: null,
};

/** The members derived from the row's time and the other members. */
const DERIVED = ["eventTime", "readOnly", "recipientAccountId"] as const;

/** The context members stored as one reference, in this order. */
const CONTEXT = ["awsRegion", "sourceIPAddress", "userAgent", "userIdentity"] as const;

const RESOURCE_TYPE = "AWS::KMS::Key";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Looks up the value a reference names; undefined when the dictionary lacks it. */
export type Dictionary = (ref: string) => string | undefined;

/** The compact form's members (the CloudTrail members copied as they are, plus the special ones). */
export type CompactEvent = { readonly [key: string]: JsonValue | undefined };

/** Whether a parsed stored event is in the compact form. */
export function isCompact(stored: unknown): stored is CompactEvent {
  if (typeof stored !== "object" || stored === null) return false;
  const format = (stored as Record<string, unknown>)["v"];
  return format === COMPACT_FORMAT || format === HASHED_COMPACT_FORMAT;
}

/**
 * What the chain hash of a stored compact form covers: for format 2, the stored text, a newline,
 * the row's time (epoch ms, from which eventTime is derived), a newline and the base64url SHA-256
 * of each value it references (in the order `c`, `r`, `k`, `q`'s names); null when the dictionary
 * lacks one. Format 1 (and full events) hash the expanded event's canonical JSON instead: null for
 * them too.
 */
export function compactHashInput(
  stored: string,
  eventTime: number,
  compact: CompactEvent,
  dictionary: Dictionary,
): string | null {
  if (compact["v"] !== HASHED_COMPACT_FORMAT) return null;
  let input = hashInputHead(stored, eventTime);
  for (const ref of referencesOf(compact)) {
    if (typeof ref !== "string") return null;
    const value = dictionary(ref);
    if (value === undefined) return null;
    input += valueDigest(value);
  }
  return input;
}

/** The start of a format 2 hash input, before the digests. */
export function hashInputHead(stored: string, eventTime: number): string {
  return stored + "\n" + eventTime + "\n";
}

/** The references a compact form names, in the order its hash input takes their digests. */
function referencesOf(compact: CompactEvent): unknown[] {
  const refs: unknown[] = [];
  if (compact["c"] !== undefined) refs.push(compact["c"]);
  const r = compact["r"];
  if (Array.isArray(r)) refs.push(...r);
  else if (r !== undefined) refs.push(r);
  if (compact["k"] !== undefined) refs.push(compact["k"]);
  const q = compact["q"];
  if (Array.isArray(q)) refs.push(q[0]);
  else if (q !== undefined) refs.push(q);
  return refs;
}

/** The base64url SHA-256 of a dictionary value (43 characters), cached per value. */
export function valueDigest(value: string): string {
  let digest = digestCache.get(value);
  if (digest === undefined) {
    digest = hash("sha256", value, "base64url");
    if (digestCache.size >= REF_CACHE_SIZE) digestCache.clear();
    digestCache.set(value, digest);
  }
  return digest;
}

const digestCache = new Map<string, string>();

/**
 * The compact form of `event` (whose row holds `eventTime`, epoch ms) as JSON text, adding the
 * dictionary entries it references to `refs` (reference → value); null when the event has no
 * exact compact form.
 */
export function compactEvent(
  event: AuditEvent,
  eventTime: number,
  refs: Map<string, string>,
): string | null {
  const source = event as JsonObject;
  for (const key in source) if (SPECIAL.has(key)) return null;
  const own = new Map<string, string>();
  const out: Record<string, JsonValue> = { v: COMPACT_FORMAT };
  const absent: string[] = [];
  const taken = new Set<string>();

  const eventId = source["eventID"];
  if (typeof eventId === "string" && UUID.test(eventId)) {
    out["e"] = uuidToBase64Url(eventId);
    taken.add("eventID");
  }
  if (CONTEXT.every((key) => source[key] !== undefined)) {
    out["c"] = reference(canonicalJson(CONTEXT.map((key) => source[key])), own);
    for (const key of CONTEXT) taken.add(key);
  }
  const resources = source["resources"];
  if (Array.isArray(resources) && resources.every(isStandardResource)) {
    out["r"] = resources.map((r: JsonObject) => reference(r["ARN"] as string, own));
    taken.add("resources");
  }
  const parameters = source["requestParameters"];
  if (isPlainObject(parameters) && typeof parameters["keyId"] === "string") {
    const { keyId, ...rest } = parameters;
    out["k"] = reference(keyId as string, own);
    out["q"] = shaped(rest as JsonObject, own);
    taken.add("requestParameters");
  }
  for (const key in source) {
    const value = source[key];
    if (value === undefined || taken.has(key) || key in CONSTANTS) continue;
    if ((DERIVED as readonly string[]).includes(key)) continue;
    out[key] = value;
  }
  // What expandEvent derives, from the members it restores exactly (resources, userIdentity).
  const name = source["eventName"];
  const derived: Record<string, JsonValue | undefined> = {
    ...CONSTANTS,
    eventTime: cloudTrailTime(eventTime),
    readOnly: !(typeof name === "string" && STATE_CHANGING_OPERATIONS.has(name)),
    recipientAccountId: recipientAccount(source),
  };
  for (const key in derived) {
    const value = source[key];
    if (value === undefined) {
      if (derived[key] !== undefined) absent.push(key);
    } else if (value !== derived[key]) {
      // Constants and derived members are strings, booleans or null: equal only if identical.
      out[key] = value;
    }
  }
  if (absent.length > 0) out["a"] = absent;
  for (const [ref, value] of own) refs.set(ref, value);
  return JSON.stringify(out);
}

/**
 * The full event of a compact form (inverse of `compactEvent`); null when the form is not valid
 * or references a value the dictionary lacks.
 */
export function expandEvent(
  compact: CompactEvent,
  eventTime: number,
  dictionary: Dictionary,
): AuditEvent | null {
  const absent = compact["a"];
  if (absent !== undefined && !isStringArray(absent)) return null;
  return expand(compact, eventTime, dictionary, new Set(absent ?? [])) as AuditEvent | null;
}

/** The `e` member a compact form stores for this eventID, or null when it keeps `eventID` as is. */
export function compactEventId(eventId: string): string | null {
  return UUID.test(eventId) ? uuidToBase64Url(eventId) : null;
}

/** The reference naming `value` (48 bits of its SHA-256 as base64url), remembered in `refs`. */
export function reference(value: string, refs: Map<string, string>): string {
  let ref = refCache.get(value);
  if (ref === undefined) {
    ref = hash("sha256", value, "base64url").slice(0, 8);
    if (refCache.size >= REF_CACHE_SIZE) refCache.clear();
    refCache.set(value, ref);
  }
  refs.set(ref, value);
  return ref;
}

const REF_CACHE_SIZE = 4096;
const refCache = new Map<string, string>();

function expand(
  compact: CompactEvent,
  eventTime: number,
  dictionary: Dictionary,
  absent: ReadonlySet<string>,
): Record<string, JsonValue> | null {
  if (!isCompact(compact)) return null;
  const event: Record<string, JsonValue> = {};
  for (const key in compact) {
    const value = compact[key];
    if (value !== undefined && !SPECIAL.has(key)) event[key] = value;
  }
  const e = compact["e"];
  if (e !== undefined) {
    const eventId = typeof e === "string" && e.length === 22 ? base64UrlToUuid(e) : null;
    if (eventId === null) return null;
    event["eventID"] = eventId;
  }
  const c = compact["c"];
  if (c !== undefined) {
    const context = typeof c === "string" ? parseJson(dictionary(c)) : undefined;
    if (!Array.isArray(context) || context.length !== CONTEXT.length) return null;
    CONTEXT.forEach((key, i) => event[key] = context[i] as JsonValue);
  }
  const r = compact["r"];
  if (r !== undefined) {
    if (!isStringArray(r)) return null;
    const resources: JsonObject[] = [];
    for (const ref of r) {
      const arn = dictionary(ref);
      if (arn === undefined) return null;
      resources.push({ ARN: arn, accountId: accountOfKeyArn(arn) ?? "", type: RESOURCE_TYPE });
    }
    event["resources"] = resources;
  }
  const k = compact["k"];
  if (k !== undefined) {
    const keyId = typeof k === "string" ? dictionary(k) : undefined;
    const q = unshaped(compact["q"], dictionary);
    if (keyId === undefined || q === null) return null;
    event["requestParameters"] = { ...q, keyId };
  }
  for (const key in CONSTANTS) {
    if (!(key in event) && !absent.has(key)) event[key] = CONSTANTS[key] as JsonValue;
  }
  if (!("eventTime" in event) && !absent.has("eventTime")) {
    event["eventTime"] = cloudTrailTime(eventTime);
  }
  if (!("readOnly" in event) && !absent.has("readOnly")) {
    const name = event["eventName"];
    event["readOnly"] = !(typeof name === "string" && STATE_CHANGING_OPERATIONS.has(name));
  }
  if (!("recipientAccountId" in event) && !absent.has("recipientAccountId")) {
    const recipient = recipientAccount(event);
    if (recipient !== undefined) event["recipientAccountId"] = recipient;
  }
  return event;
}

/**
 * An object as `[reference of its member names (JSON array), ...their values]`: the names of
 * request parameters repeat for every call of an operation, so they are stored once.
 */
function shaped(object: JsonObject, refs: Map<string, string>): JsonValue[] {
  const names = Object.keys(object).filter((name) => object[name] !== undefined);
  return [
    reference(JSON.stringify(names), refs),
    ...names.map((name) => object[name] as JsonValue),
  ];
}

/** The object of `shaped` (null when not valid). */
function unshaped(value: JsonValue | undefined, dictionary: Dictionary): JsonObject | null {
  if (!Array.isArray(value) || typeof value[0] !== "string") return null;
  const names = parseJson(dictionary(value[0]));
  if (!isStringArray(names) || names.length !== value.length - 1) return null;
  const object: Record<string, JsonValue> = {};
  names.forEach((name, i) => {
    Object.defineProperty(object, name, {
      value: value[i + 1],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  });
  return object;
}

/** What AuditEntry writes as recipientAccountId: the first key's account, else the caller's. */
function recipientAccount(event: JsonObject): string | undefined {
  const resources = event["resources"];
  const first = Array.isArray(resources) ? resources[0] : undefined;
  const arn = isPlainObject(first) ? first["ARN"] : undefined;
  const keyAccount = typeof arn === "string" ? accountOfKeyArn(arn) : null;
  if (keyAccount !== null) return keyAccount;
  const identity = event["userIdentity"];
  const account = isPlainObject(identity) ? identity["accountId"] : undefined;
  return typeof account === "string" ? account : undefined;
}

function isStandardResource(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  const arn = value["ARN"];
  return typeof arn === "string" && Object.keys(value).length === 3 &&
    value["type"] === RESOURCE_TYPE && value["accountId"] === (accountOfKeyArn(arn) ?? "");
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The 16 bytes of a lower-case UUID (checked by `UUID`) as unpadded base64url, read from its hex
 * digits without allocating the bytes: every 3 digits (12 bits) are 2 characters, the last 2
 * digits (8 bits) are 2 more (the second padded with zero bits), as `toBase64` writes them.
 */
function uuidToBase64Url(uuid: string): string {
  let out = "";
  let bits = 0;
  let count = 0;
  for (let i = 0; i < uuid.length; i++) {
    const code = uuid.charCodeAt(i);
    if (code === 45) continue; // "-"
    bits = (bits << 4) | (code <= 57 ? code - 48 : code - 87);
    if (++count === 3) {
      out += BASE64URL[bits >> 6]! + BASE64URL[bits & 63]!;
      bits = 0;
      count = 0;
    }
  }
  // 32 digits: 10 groups of 3, then 2 digits left in `bits`.
  return out + BASE64URL[bits >> 2]! + BASE64URL[(bits & 3) << 4]!;
}

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function base64UrlToUuid(text: string): string | null {
  let hex: string;
  try {
    hex = Uint8Array.fromBase64(text, { alphabet: "base64url" }).toHex();
  } catch {
    return null;
  }
  if (hex.length !== 32) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}
