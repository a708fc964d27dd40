/**
 * Schemas of the symmetric data plane.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html
 * @module
 */
import { z } from "zod";
import type { DecryptInput, EncryptInput, ReEncryptInput } from "../../core/operations/crypto.ts";
import type {
  GenerateDataKeyInput,
  generateDataKeyWithoutPlaintext,
  generateRandom,
} from "../../core/operations/data_keys.ts";
import {
  blob,
  CustomKeyStoreId,
  DryRunModifiers,
  EncryptionAlgorithmSpec,
  EncryptionContext,
  GrantTokens,
  type InputOf,
  KeyIdType,
  NullableBoolean,
  NumberOfBytes,
  RecipientInfo,
  requestOf,
  secretBlob,
} from "./shared.ts";

/** Encrypt: Plaintext 1..4096 bytes. */
export const EncryptRequest = requestOf<EncryptInput>()(z.object({
  KeyId: KeyIdType,
  Plaintext: secretBlob(1, 4096),
  EncryptionContext: EncryptionContext.optional(),
  GrantTokens: GrantTokens.optional(),
  EncryptionAlgorithm: EncryptionAlgorithmSpec.optional(),
  DryRun: NullableBoolean.optional(),
}));

/**
 * Decrypt: CiphertextBlob 1..6144 bytes, optional in the model (a dry run with IGNORE_CIPHERTEXT
 * needs none; core answers its absence otherwise).
 */
export const DecryptRequest = requestOf<DecryptInput>()(z.object({
  CiphertextBlob: blob(1, 6144).optional(),
  EncryptionContext: EncryptionContext.optional(),
  GrantTokens: GrantTokens.optional(),
  KeyId: KeyIdType.optional(),
  EncryptionAlgorithm: EncryptionAlgorithmSpec.optional(),
  Recipient: RecipientInfo.optional(),
  DryRun: NullableBoolean.optional(),
  DryRunModifiers: DryRunModifiers.optional(),
}));

/** ReEncrypt: CiphertextBlob optional in the model, as for Decrypt. */
export const ReEncryptRequest = requestOf<ReEncryptInput>()(z.object({
  CiphertextBlob: blob(1, 6144).optional(),
  SourceEncryptionContext: EncryptionContext.optional(),
  SourceKeyId: KeyIdType.optional(),
  DestinationKeyId: KeyIdType,
  DestinationEncryptionContext: EncryptionContext.optional(),
  SourceEncryptionAlgorithm: EncryptionAlgorithmSpec.optional(),
  DestinationEncryptionAlgorithm: EncryptionAlgorithmSpec.optional(),
  GrantTokens: GrantTokens.optional(),
  DryRun: NullableBoolean.optional(),
  DryRunModifiers: DryRunModifiers.optional(),
}));

/** GenerateDataKey. */
export const GenerateDataKeyRequest = requestOf<GenerateDataKeyInput>()(z.object({
  KeyId: KeyIdType,
  EncryptionContext: EncryptionContext.optional(),
  NumberOfBytes: NumberOfBytes.optional(),
  KeySpec: z.enum(["AES_256", "AES_128"]).optional(),
  GrantTokens: GrantTokens.optional(),
  Recipient: RecipientInfo.optional(),
  DryRun: NullableBoolean.optional(),
}));

/** GenerateDataKeyWithoutPlaintext. */
export const GenerateDataKeyWithoutPlaintextRequest = requestOf<
  Omit<InputOf<typeof generateDataKeyWithoutPlaintext>, "Recipient">
>()(GenerateDataKeyRequest.omit({
  Recipient: true,
}));

/** GenerateRandom. */
export const GenerateRandomRequest = requestOf<InputOf<typeof generateRandom>>()(z.object({
  NumberOfBytes: NumberOfBytes.optional(),
  CustomKeyStoreId: CustomKeyStoreId.optional(),
  Recipient: RecipientInfo.optional(),
}));
