/**
 * Schemas of GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyPair.html
 * @module
 */
import { z } from "zod";
import type {
  GenerateDataKeyPairInput,
  GenerateDataKeyPairWithoutPlaintextInput,
} from "../../core/operations/data_key_pairs.ts";
import { DATA_KEY_PAIR_SPECS } from "../../core/crypto/key_pairs.ts";
import {
  EncryptionContext,
  GrantTokens,
  KeyIdType,
  NullableBoolean,
  RecipientInfo,
  requestOf,
} from "./shared.ts";

/** DataKeyPairSpec: the nine specs of AWS's current model. */
export const DataKeyPairSpec = z.enum(
  DATA_KEY_PAIR_SPECS as unknown as readonly [string, ...string[]],
);

/** GenerateDataKeyPair. */
export const GenerateDataKeyPairRequest = requestOf<GenerateDataKeyPairInput>()(z.object({
  EncryptionContext: EncryptionContext.optional(),
  KeyId: KeyIdType,
  KeyPairSpec: DataKeyPairSpec,
  GrantTokens: GrantTokens.optional(),
  Recipient: RecipientInfo.optional(),
  DryRun: NullableBoolean.optional(),
}));

/** GenerateDataKeyPairWithoutPlaintext: no Recipient (nothing leaves in plaintext anyway). */
export const GenerateDataKeyPairWithoutPlaintextRequest = requestOf<
  GenerateDataKeyPairWithoutPlaintextInput
>()(GenerateDataKeyPairRequest.omit({
  Recipient: true,
}));
