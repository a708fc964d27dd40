/**
 * Grants as AWS defines them: which operations a grant may list for a key,
 * when a grant's encryption-context constraint is met, when a grant created
 * through another grant is no wider than its parent, and the grant token.
 *
 * Constraint matching follows the model's note: "in a grant constraint, the
 * key in each key-value pair is not case sensitive, but the value is case
 * sensitive". Contexts are read with own-property lookups only, so keys such as
 * `__proto__` or `constructor` match exactly what was written and nothing else.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/grants.html
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_GrantConstraints.html
 * @module
 */
import { GRANT_OPERATIONS, type GrantOperation } from "../catalogue.ts";
import { InvalidGrantTokenException } from "../errors.ts";
import type { KeyRecord } from "../types.ts";

/** AWS's GrantOperation enum (the catalogue's grantable actions), in the enum's order. */
export { GRANT_OPERATIONS, type GrantOperation };

/** An encryption context as a plain record of strings. */
export type Context = Readonly<Record<string, string>>;

/** GrantConstraints as stored and answered. */
export interface GrantConstraints {
  EncryptionContextEquals?: Context;
  EncryptionContextSubset?: Context;
  SourceArn?: string;
}

/** A grant as stored. Times are epoch milliseconds. */
export interface GrantRecord {
  /** 64 hex characters. */
  grantId: string;
  keyId: string;
  name: string | null;
  /** IAM principal ARN, or null for a service-principal grant. */
  granteePrincipal: string | null;
  granteeServicePrincipal: string | null;
  retiringPrincipal: string | null;
  retiringServicePrincipal: string | null;
  /** `arn:aws:iam::<account>:root` of the account that created the grant. */
  issuingAccount: string;
  operations: readonly GrantOperation[];
  constraints: GrantConstraints | null;
  createdAt: number;
}

const MANAGEMENT: readonly GrantOperation[] = ["CreateGrant", "RetireGrant", "DescribeKey"];

/**
 * The operations a grant on `key` may list, by key usage and spec (AWS refuses the others
 * with ValidationException).
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/grants.html#terms-grant-operations
 */
export function grantOperationsFor(key: Pick<KeyRecord, "keySpec" | "keyUsage">): GrantOperation[] {
  switch (key.keyUsage) {
    case "ENCRYPT_DECRYPT":
      return key.keySpec === "SYMMETRIC_DEFAULT"
        ? [
          "Decrypt",
          "Encrypt",
          "GenerateDataKey",
          "GenerateDataKeyWithoutPlaintext",
          "GenerateDataKeyPair",
          "GenerateDataKeyPairWithoutPlaintext",
          "ReEncryptFrom",
          "ReEncryptTo",
          ...MANAGEMENT,
        ]
        : ["Decrypt", "Encrypt", "ReEncryptFrom", "ReEncryptTo", "GetPublicKey", ...MANAGEMENT];
    case "SIGN_VERIFY":
      return ["Sign", "Verify", "GetPublicKey", ...MANAGEMENT];
    case "GENERATE_VERIFY_MAC":
      return ["GenerateMac", "VerifyMac", ...MANAGEMENT];
    case "KEY_AGREEMENT":
      return ["DeriveSharedSecret", "GetPublicKey", ...MANAGEMENT];
  }
}

/** Operations an encryption-context constraint never applies to (the model: DescribeKey, RetireGrant). */
const UNCONSTRAINED: ReadonlySet<string> = new Set(["DescribeKey", "RetireGrant", "CreateGrant"]);

function lowerKeyed(context: Context): Map<string, string> {
  const map = new Map<string, string>();
  for (const key of Object.keys(context)) map.set(key.toLowerCase(), context[key] as string);
  return map;
}

/** Whether every pair of `required` is in `context` (keys case-insensitive, values exact). */
export function contextIncludes(context: Context, required: Context): boolean {
  const have = lowerKeyed(context);
  for (const key of Object.keys(required)) {
    if (have.get(key.toLowerCase()) !== required[key]) return false;
  }
  return true;
}

/** Whether two contexts hold the same pairs (keys case-insensitive, values exact). */
export function contextEquals(a: Context, b: Context): boolean {
  const left = lowerKeyed(a);
  const right = lowerKeyed(b);
  if (left.size !== right.size) return false;
  for (const [key, value] of left) if (right.get(key) !== value) return false;
  return true;
}

/** Whether a request's encryption context meets a grant's constraints. */
export function constraintsMet(
  constraints: GrantConstraints | null,
  operation: string,
  context: Context | undefined,
): boolean {
  if (constraints === null) return true;
  if (constraints.SourceArn !== undefined && operation !== "RetireGrant") return false;
  if (UNCONSTRAINED.has(operation)) return true;
  const given = context ?? {};
  if (constraints.EncryptionContextEquals !== undefined) {
    if (!contextEquals(given, constraints.EncryptionContextEquals)) return false;
  }
  if (constraints.EncryptionContextSubset !== undefined) {
    if (!contextIncludes(given, constraints.EncryptionContextSubset)) return false;
  }
  return true;
}

/** The request a grant is checked against. */
export interface GrantRequest {
  principalArn: string;
  operation: string;
  encryptionContext?: Context | undefined;
}

/** Whether `grant` lets `request` through. */
export function grantPermits(grant: GrantRecord, request: GrantRequest): boolean {
  return grant.granteePrincipal === request.principalArn &&
    (grant.operations as readonly string[]).includes(request.operation) &&
    constraintsMet(grant.constraints, request.operation, request.encryptionContext);
}

/**
 * Whether a grant `child` created through `parent` (a grant with CreateGrant) is no wider:
 * its operations are a subset and its constraint is equally strict or stricter.
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/grants.html (CreateGrant in a grant)
 */
export function isNoWiderThan(
  child: { operations: readonly string[]; constraints: GrantConstraints | null },
  parent: GrantRecord,
): boolean {
  if (!child.operations.every((op) => (parent.operations as readonly string[]).includes(op))) {
    return false;
  }
  const p = parent.constraints;
  if (p === null) return true;
  const c = child.constraints ?? {};
  if (p.SourceArn !== undefined && c.SourceArn !== p.SourceArn) return false;
  if (p.EncryptionContextEquals !== undefined) {
    return c.EncryptionContextEquals !== undefined &&
      contextEquals(c.EncryptionContextEquals, p.EncryptionContextEquals);
  }
  if (p.EncryptionContextSubset !== undefined) {
    const strictest = c.EncryptionContextEquals ?? c.EncryptionContextSubset;
    return strictest !== undefined && contextIncludes(strictest, p.EncryptionContextSubset);
  }
  return true;
}

/** JSON with object keys sorted, for comparing parameters. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      Object.defineProperty(sorted, k, {
        value: (v as Record<string, unknown>)[k],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return sorted;
  });
}

/** A new grant id: 64 lowercase hex characters, as AWS's. */
export function newGrantId(): string {
  return crypto.getRandomValues(new Uint8Array(32)).toHex();
}

const TOKEN_VERSION = 1;
const TOKEN_BYTES = 1 + 32 + 16 + 16;

/**
 * A grant token: version, grant id, key id and 16 random bytes, base64url. Every token of a
 * grant names it; tokens carry no authority of their own (the grant is looked up and its
 * grantee must be the caller), so they need no MAC. Each CreateGrant answer gets a new one.
 */
export function newGrantToken(grantId: string, keyId: string): string {
  const bytes = new Uint8Array(TOKEN_BYTES);
  bytes[0] = TOKEN_VERSION;
  bytes.set(Uint8Array.fromHex(grantId), 1);
  bytes.set(Uint8Array.fromHex(keyHexOf(keyId)), 33);
  bytes.set(crypto.getRandomValues(new Uint8Array(16)), 49);
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/** What a grant token names. */
export interface GrantTokenClaims {
  grantId: string;
  /** The key id's 32 hex digits (without dashes or `mrk-`). */
  keyHex: string;
}

/**
 * Reads a grant token.
 * @throws {InvalidGrantTokenException} when it is not a token this KMS issued the form of.
 */
export function readGrantToken(token: string): GrantTokenClaims {
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.fromBase64(token, { alphabet: "base64url" });
  } catch {
    throw invalidToken();
  }
  if (bytes.length !== TOKEN_BYTES || bytes[0] !== TOKEN_VERSION) throw invalidToken();
  return { grantId: bytes.subarray(1, 33).toHex(), keyHex: bytes.subarray(33, 49).toHex() };
}

/** The 32 hex digits of a key id as a grant token carries them. */
export function keyHexOf(keyId: string): string {
  return keyId.replaceAll("-", "").replace(/^mrk/, "").slice(0, 32);
}

function invalidToken(): InvalidGrantTokenException {
  return new InvalidGrantTokenException("The grant token is not valid.");
}

/** A copy of an encryption context holding only own string pairs, `__proto__` included as a plain key. */
export function copyContext(context: Context): Record<string, string> {
  const copy: Record<string, string> = Object.create(null);
  for (const key of Object.keys(context)) {
    Object.defineProperty(copy, key, {
      value: context[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}
