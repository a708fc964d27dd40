/**
 * Schemas of GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyPair.html
 * @module
 */
import { z } from "zod";
import { DATA_KEY_PAIR_SPECS } from "../../core/crypto/key_pairs.ts";
import {
  EncryptionContext,
  GrantTokens,
  KeyIdType,
  NullableBoolean,
  RecipientInfo,
} from "./shared.ts";

/** DataKeyPairSpec: the nine specs of AWS's current model. */
export const DataKeyPairSpec = z.enum(
  DATA_KEY_PAIR_SPECS as unknown as readonly [string, ...string[]],
);

/** GenerateDataKeyPair. */
export const GenerateDataKeyPairRequest = z.object({
  EncryptionContext: EncryptionContext.optional(),
  KeyId: KeyIdType,
  KeyPairSpec: DataKeyPairSpec,
  GrantTokens: GrantTokens.optional(),
  Recipient: RecipientInfo.optional(),
  DryRun: NullableBoolean.optional(),
});

/** GenerateDataKeyPairWithoutPlaintext: no Recipient (nothing leaves in plaintext anyway). */
export const GenerateDataKeyPairWithoutPlaintextRequest = GenerateDataKeyPairRequest.omit({
  Recipient: true,
});
