/**
 * AWS's request quotas in the request pipeline (`KMS_QUOTAS=aws`): after SigV4 named the
 * account and Region and the schema accepted the input, and before the operation runs, the
 * request is counted against its quota (core/quotas.ts); past it, the request is answered
 * `ThrottlingException` and changes nothing.
 *
 * A cryptographic operation counts against the quota of its key's type, found without
 * authorising (the operation authorises): the named key (`DestinationKeyId` for ReEncrypt),
 * else the key a symmetric ciphertext names; a key that cannot be found counts as symmetric
 * and the operation then answers as it would.
 *
 * A throttled reply carries `x-amz-retry-after` (milliseconds until the quota has room), which
 * the AWS SDKs' standard retry mode waits at least; other clients ignore it.
 *
 * @module
 */
import { decodeCiphertextBlob } from "../core/ciphertext_blob.ts";
import type { Kms } from "../core/kms.ts";
import {
  CRYPTOGRAPHIC_OPERATIONS,
  type CryptoKeyType,
  cryptoKeyTypeOf,
  type RequestQuotas,
  Throttled,
} from "../core/quotas.ts";
import type { Caller } from "../core/types.ts";
import { actionOf, type KmsAction } from "../core/catalogue.ts";

/**
 * Counts one authenticated, well-formed request against its quota.
 * @throws {Throttled} (AWS's ThrottlingException) past the quota.
 */
export async function chargeQuota(
  quotas: RequestQuotas,
  request: { kms: Kms; caller: Caller; operation: string; input: unknown },
): Promise<void> {
  const { kms, caller, operation, input } = request;
  const fields = (input ?? {}) as Record<string, unknown>;
  const keyType = CRYPTOGRAPHIC_OPERATIONS.has(operation)
    ? await keyTypeOf(kms, caller, operation, fields)
    : undefined;
  const keyPairSpec = typeof fields.KeyPairSpec === "string" ? fields.KeyPairSpec : undefined;
  quotas.charge(caller.accountId, { operation, region: kms.region, keyType, keyPairSpec });
}

/** Adds `x-amz-retry-after` to the reply of a throttled request. */
export function withRetryAfter(error: unknown, response: Response): Response {
  if (error instanceof Throttled) {
    response.headers.set("x-amz-retry-after", String(error.retryAfterMs));
  }
  return response;
}

async function keyTypeOf(
  kms: Kms,
  caller: Caller,
  operation: string,
  fields: Record<string, unknown>,
): Promise<CryptoKeyType> {
  const named = operation === "ReEncrypt" ? fields.DestinationKeyId : fields.KeyId;
  try {
    if (typeof named === "string") {
      const action = operation === "ReEncrypt" ? "kms:ReEncryptTo" : `kms:${operation}`;
      if (actionOf(action) === undefined) throw new Error(`${action} is not a catalogued action`);
      const key = await kms.findNamedKey(caller, named, {
        allowAlias: true,
        action: action as KmsAction,
      });
      return cryptoKeyTypeOf(key.record.keySpec);
    }
    const blob = fields.CiphertextBlob;
    if (blob instanceof Uint8Array) {
      const key = await kms.findKey(decodeCiphertextBlob(blob).keyId);
      if (key !== null) return cryptoKeyTypeOf(key.record.keySpec);
    }
  } catch {
    // Not found, not allowed or not a ciphertext of ours: the operation answers that itself.
  }
  return "symmetric";
}
