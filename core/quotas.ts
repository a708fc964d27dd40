/**
 * AWS KMS request quotas, on request (`KMS_QUOTAS=aws`): the one table of AWS's documented
 * per-second request quotas and the token buckets that enforce them per account and Region.
 *
 * AWS's rules reproduced here:
 * - cryptographic operations share one quota per key type (symmetric, which HMAC keys and
 *   GenerateRandom also count against; RSA; ECC with SM2), per account and Region;
 * - GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext share one quota per data key
 *   pair spec, separate from the cryptographic quotas;
 * - every other operation has its own quota, calculated independently of all others;
 * - cross-account requests count against the calling account.
 * Past a quota AWS answers `ThrottlingException` (HTTP 400) with the message below.
 *
 * Each bucket holds one second's worth of its rate (at least one request) and refills
 * continuously, so a steady caller gets the quota's rate and a burst at most one second of it.
 * Rates are multiplied by `scale` (`KMS_QUOTA_SCALE`, e.g. 0.01 for tests).
 *
 * Sources (read 2026-12-07): the AWS KMS Developer Guide, "Request quotas",
 * https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html (current
 * rendering as stored by the docs search: shared RSA and ECC/SM2 quotas of 1,000, the symmetric
 * quota applying to GenerateMac/VerifyMac/GenerateRandom, DescribeKey 2,000), and its archived
 * Markdown source, github.com/awsdocs/aws-kms-developer-guide
 * doc_source/requests-per-second.md at 7881062c808baa454ae02995d99ea5d4532ce1de (per-operation
 * rows and the GenerateDataKeyPair per-spec rows). Operations the sources list no quota for
 * (and key specs without one: ML-DSA, Ed25519 data key pairs) are not throttled.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/throttling.html
 * @module
 */
import { type OperationName, operationsSharingQuota } from "./catalogue.ts";
import { ThrottlingException } from "./errors.ts";
import { LruMap } from "./lru.ts";
import type { KeySpec } from "./types.ts";

/** AWS's message of a throttled request. */
export const THROTTLING_MESSAGE =
  "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.";

/**
 * The key types whose cryptographic operations share a quota; `unlisted` for key specs AWS
 * documents no quota for (ML-DSA), which are not throttled.
 */
export type CryptoKeyType = "symmetric" | "rsa" | "ecc" | "unlisted";

/** Operations that count against the shared cryptographic quota of their key's type. */
export const CRYPTOGRAPHIC_OPERATIONS: ReadonlySet<string> = new Set(
  operationsSharingQuota("cryptographic"),
);

/** Operations that count against the per-spec GenerateDataKeyPair quota. */
export const DATA_KEY_PAIR_OPERATIONS: ReadonlySet<string> = new Set(
  operationsSharingQuota("dataKeyPair"),
);

/** Requests per second of the AWS quotas, by quota. */
export const AWS_REQUEST_QUOTAS = Object.freeze({
  /** Cryptographic operations (symmetric): 5,500 by default, more in the Regions listed. */
  symmetric: Object.freeze({
    default: 5_500,
    byRegion: Object.freeze<Record<string, number>>({
      "us-east-2": 10_000,
      "ap-southeast-1": 10_000,
      "ap-southeast-2": 10_000,
      "ap-northeast-1": 10_000,
      "eu-central-1": 10_000,
      "eu-west-2": 10_000,
      "us-east-1": 100_000,
      "us-west-2": 100_000,
      "eu-west-1": 100_000,
    }),
  }),
  /** Cryptographic operations (RSA). */
  rsa: 1_000,
  /** Cryptographic operations (ECC), SM2 included. */
  ecc: 1_000,
  /** GenerateDataKeyPair (<spec>): shared by both GenerateDataKeyPair operations. */
  dataKeyPair: Object.freeze<Record<string, number>>({
    RSA_2048: 1,
    RSA_3072: 0.5,
    RSA_4096: 0.1,
    ECC_NIST_P256: 25,
    ECC_NIST_P384: 10,
    ECC_NIST_P521: 5,
    ECC_SECG_P256K1: 25,
  }),
  /** One quota per operation. */
  operations: Object.freeze<Partial<Record<OperationName, number>>>({
    CancelKeyDeletion: 5,
    CreateAlias: 5,
    CreateGrant: 50,
    CreateKey: 5,
    DeleteAlias: 15,
    DeleteImportedKeyMaterial: 15,
    DescribeKey: 2_000,
    DisableKey: 5,
    DisableKeyRotation: 5,
    EnableKey: 5,
    EnableKeyRotation: 5,
    GetKeyPolicy: 1_000,
    GetKeyRotationStatus: 1_000,
    GetParametersForImport: 0.25,
    GetPublicKey: 2_000,
    ImportKeyMaterial: 5,
    ListAliases: 500,
    ListGrants: 100,
    ListKeyPolicies: 100,
    ListKeys: 500,
    ListResourceTags: 2_000,
    ListRetirableGrants: 100,
    PutKeyPolicy: 15,
    ReplicateKey: 5,
    RetireGrant: 30,
    RevokeGrant: 30,
    ScheduleKeyDeletion: 15,
    TagResource: 10,
    UntagResource: 5,
    UpdateAlias: 5,
    UpdateKeyDescription: 5,
  }),
});

/** What decides a request's quota. */
export interface QuotaRequest {
  operation: string;
  region: string;
  /** The type of the key a cryptographic operation uses (none for GenerateRandom). */
  keyType?: CryptoKeyType | undefined;
  /** The KeyPairSpec of a GenerateDataKeyPair request. */
  keyPairSpec?: string | undefined;
}

/** One quota: its name (as AWS's Service Quotas names it) and its AWS rate per second. */
export interface Quota {
  name: string;
  perSecond: number;
}

/** The quota a request counts against, or undefined when AWS documents none. */
export function quotaFor(request: QuotaRequest): Quota | undefined {
  const { operation } = request;
  if (CRYPTOGRAPHIC_OPERATIONS.has(operation)) {
    const type = request.keyType ?? "symmetric";
    if (type === "unlisted") return undefined;
    const perSecond = type === "symmetric"
      ? AWS_REQUEST_QUOTAS.symmetric.byRegion[request.region] ??
        AWS_REQUEST_QUOTAS.symmetric.default
      : AWS_REQUEST_QUOTAS[type];
    return { name: `Cryptographic operations (${cryptoLabel(type)})`, perSecond };
  }
  if (DATA_KEY_PAIR_OPERATIONS.has(operation)) {
    const spec = request.keyPairSpec ?? "";
    const perSecond = Object.hasOwn(AWS_REQUEST_QUOTAS.dataKeyPair, spec)
      ? AWS_REQUEST_QUOTAS.dataKeyPair[spec]
      : undefined;
    return perSecond === undefined
      ? undefined
      : { name: `GenerateDataKeyPair (${spec})`, perSecond };
  }
  const perSecond = Object.hasOwn(AWS_REQUEST_QUOTAS.operations, operation)
    ? AWS_REQUEST_QUOTAS.operations[operation as OperationName]
    : undefined;
  return perSecond === undefined ? undefined : { name: operation, perSecond };
}

/** The shared-quota key type of a KMS key spec. */
export function cryptoKeyTypeOf(spec: KeySpec): CryptoKeyType {
  if (spec === "SYMMETRIC_DEFAULT" || spec.startsWith("HMAC_")) return "symmetric";
  if (spec.startsWith("RSA_")) return "rsa";
  if (spec.startsWith("ECC_") || spec === "SM2") return "ecc";
  return "unlisted";
}

function cryptoLabel(type: "symmetric" | "rsa" | "ecc"): string {
  return type === "symmetric" ? "symmetric" : type.toUpperCase();
}

/** Outcome of taking one request from a bucket. */
export type Take = { allowed: true } | { allowed: false; retryAfterMs: number };

/** A token bucket of `perSecond` tokens a second holding at most one second's worth (≥ 1). */
export class TokenBucket {
  readonly #perMs: number;
  readonly #capacity: number;
  #tokens: number;
  #at: number;

  constructor(perSecond: number, nowMs: number) {
    this.#perMs = perSecond / 1000;
    this.#capacity = Math.max(1, perSecond);
    this.#tokens = this.#capacity;
    this.#at = nowMs;
  }

  /** Takes one token if there is one; otherwise says in how many ms there will be. */
  take(nowMs: number): Take {
    const elapsed = Math.max(0, nowMs - this.#at);
    this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed * this.#perMs);
    this.#at = Math.max(this.#at, nowMs);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterMs: Math.ceil((1 - this.#tokens) / this.#perMs) };
  }
}

/** Options of `RequestQuotas`. */
export interface RequestQuotasOptions {
  /** Multiplies every AWS rate (`KMS_QUOTA_SCALE`); must be positive. */
  scale: number;
  /** Milliseconds of a monotonic clock; default `performance.now()`. */
  now?: () => number;
  /** Most buckets kept (least recently used ones are dropped, i.e. start full again). */
  maxBuckets?: number;
}

/** A request turned away: AWS's ThrottlingException, and when a token will be there. */
export class Throttled extends ThrottlingException {
  constructor(readonly retryAfterMs: number, readonly quota: string) {
    super(THROTTLING_MESSAGE);
  }
}

/** The buckets of every (account, Region, quota) seen. */
export class RequestQuotas {
  readonly scale: number;
  readonly #now: () => number;
  readonly #buckets: LruMap<string, TokenBucket>;

  constructor(options: RequestQuotasOptions) {
    if (!(options.scale > 0) || !Number.isFinite(options.scale)) {
      throw new RangeError(`quota scale must be a positive number, got ${options.scale}`);
    }
    this.scale = options.scale;
    this.#now = options.now ?? (() => performance.now());
    this.#buckets = new LruMap(options.maxBuckets ?? 10_000);
  }

  /**
   * Counts one request of `accountId` against its quota.
   * @throws {Throttled} (a `ThrottlingException`) past the quota; nothing else is counted then.
   */
  charge(accountId: string, request: QuotaRequest): void {
    const quota = quotaFor(request);
    if (quota === undefined) return;
    const key = `${accountId}\u0000${request.region}\u0000${quota.name}`;
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = new TokenBucket(quota.perSecond * this.scale, now);
      this.#buckets.set(key, bucket);
    }
    const taken = bucket.take(now);
    if (!taken.allowed) throw new Throttled(taken.retryAfterMs, quota.name);
  }
}
