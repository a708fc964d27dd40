/**
 * Schemas of GenerateMac and VerifyMac, field by field as AWS's model has them.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateMac.html
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_VerifyMac.html
 * @module
 */
import { z } from "zod";
import type { GenerateMacInput, VerifyMacInput } from "../../core/operations/mac.ts";
import { blob, GrantTokens, KeyIdType, NullableBoolean, requestOf, secretBlob } from "./shared.ts";

/** MacAlgorithmSpec. */
export const MacAlgorithmSpec = z.enum([
  "HMAC_SHA_224",
  "HMAC_SHA_256",
  "HMAC_SHA_384",
  "HMAC_SHA_512",
]);

/** GenerateMac: Message (PlaintextType, secret) 1..4096 bytes. */
export const GenerateMacRequest = requestOf<GenerateMacInput>()(z.object({
  Message: secretBlob(1, 4096),
  KeyId: KeyIdType,
  MacAlgorithm: MacAlgorithmSpec,
  GrantTokens: GrantTokens.optional(),
  DryRun: NullableBoolean.optional(),
}));

/** GenerateMac's parsed input. */
/** VerifyMac: as GenerateMac plus Mac (CiphertextType) 1..6144 bytes. */
export const VerifyMacRequest = requestOf<VerifyMacInput>()(
  GenerateMacRequest.extend({ Mac: blob(1, 6144) }),
);

/** VerifyMac's parsed input. */
