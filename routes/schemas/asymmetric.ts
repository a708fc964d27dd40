/**
 * Schemas of Sign, Verify and GetPublicKey, with AWS's constraints: Message
 * (PlaintextType, secret) 1..4096 bytes, Signature (CiphertextType) 1..6144
 * bytes, SigningAlgorithm required.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html
 * @module
 */
import { z } from "zod";
import type {
  GetPublicKeyInput,
  SignInput,
  VerifyInput,
} from "../../core/operations/asymmetric.ts";
import type { MessageType, SigningAlgorithmSpec } from "../../core/crypto/signatures.ts";
import { blob, GrantTokens, KeyIdType, NullableBoolean, requestOf, secretBlob } from "./shared.ts";

const SIGNING_ALGORITHM_SPECS = [
  "RSASSA_PSS_SHA_256",
  "RSASSA_PSS_SHA_384",
  "RSASSA_PSS_SHA_512",
  "RSASSA_PKCS1_V1_5_SHA_256",
  "RSASSA_PKCS1_V1_5_SHA_384",
  "RSASSA_PKCS1_V1_5_SHA_512",
  "ECDSA_SHA_256",
  "ECDSA_SHA_384",
  "ECDSA_SHA_512",
  "SM2DSA",
  "ML_DSA_SHAKE_256",
  "ED25519_SHA_512",
  "ED25519_PH_SHA_512",
] as const satisfies readonly SigningAlgorithmSpec[];

/** SigningAlgorithmSpec: the thirteen values of AWS's current model. */
export const SigningAlgorithmSpecSchema = z.enum(SIGNING_ALGORITHM_SPECS);

/** MessageType: RAW (the default), DIGEST or EXTERNAL_MU. */
export const MessageTypeSchema = z.enum(
  ["RAW", "DIGEST", "EXTERNAL_MU"] as const satisfies readonly MessageType[],
);

/** Sign. */
export const SignRequest = requestOf<SignInput>()(z.object({
  KeyId: KeyIdType,
  Message: secretBlob(1, 4096),
  MessageType: MessageTypeSchema.optional(),
  GrantTokens: GrantTokens.optional(),
  SigningAlgorithm: SigningAlgorithmSpecSchema,
  DryRun: NullableBoolean.optional(),
}));

/** Verify: Sign's fields plus the Signature. */
export const VerifyRequest = requestOf<VerifyInput>()(SignRequest.extend({
  Signature: blob(1, 6144),
}));

/** GetPublicKey. */
export const GetPublicKeyRequest = requestOf<GetPublicKeyInput>()(z.object({
  KeyId: KeyIdType,
  GrantTokens: GrantTokens.optional(),
}));
