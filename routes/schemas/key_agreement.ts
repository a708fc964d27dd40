/**
 * Schema of DeriveSharedSecret, field by field as AWS's model has it.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_DeriveSharedSecret.html
 * @module
 */
import { z } from "zod";
import type { DeriveSharedSecretInput } from "../../core/operations/key_agreement.ts";
import {
  blob,
  GrantTokens,
  KeyIdType,
  NullableBoolean,
  RecipientInfo,
  requestOf,
} from "./shared.ts";

/** KeyAgreementAlgorithmSpec: ECDH is the only value. */
export const KeyAgreementAlgorithmSpec = z.enum(["ECDH"]);

/** DeriveSharedSecret: PublicKey (the peer's DER SPKI) 1..8192 bytes. */
export const DeriveSharedSecretRequest = requestOf<DeriveSharedSecretInput>()(z.object({
  KeyId: KeyIdType,
  KeyAgreementAlgorithm: KeyAgreementAlgorithmSpec,
  PublicKey: blob(1, 8192),
  GrantTokens: GrantTokens.optional(),
  DryRun: NullableBoolean.optional(),
  Recipient: RecipientInfo.optional(),
}));

/** DeriveSharedSecret's parsed input. */
