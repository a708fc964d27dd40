/**
 * Symmetric data-plane operations: schema -> core function.
 *
 * @module
 */
import { decrypt, encrypt, reEncrypt } from "../core/operations/crypto.ts";
import {
  generateDataKey,
  generateDataKeyWithoutPlaintext,
  generateRandom,
} from "../core/operations/data_keys.ts";
import { type FamilyTable, operation } from "./operation_entry.ts";
import {
  DecryptRequest,
  EncryptRequest,
  GenerateDataKeyRequest,
  GenerateDataKeyWithoutPlaintextRequest,
  GenerateRandomRequest,
  ReEncryptRequest,
} from "./schemas/crypto.ts";

/** The symmetric crypto family of the operation table. */
export const CRYPTO_OPERATIONS: FamilyTable<"crypto"> = {
  Encrypt: operation(EncryptRequest, encrypt),
  Decrypt: operation(DecryptRequest, decrypt),
  ReEncrypt: operation(ReEncryptRequest, reEncrypt),
  GenerateDataKey: operation(GenerateDataKeyRequest, generateDataKey),
  GenerateDataKeyWithoutPlaintext: operation(
    GenerateDataKeyWithoutPlaintextRequest,
    generateDataKeyWithoutPlaintext,
  ),
  GenerateRandom: operation(GenerateRandomRequest, generateRandom),
};
