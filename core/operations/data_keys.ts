/**
 * GenerateDataKey, GenerateDataKeyWithoutPlaintext and GenerateRandom: random bytes, given in
 * plaintext (or sealed for an attested `Recipient`) and, for data keys, encrypted under a
 * symmetric KMS key. Served from memory like the rest of the data plane (crypto.ts).
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html
 * @module
 */
import { randomBytes } from "../crypto/random.ts";
import type { EncryptionContext } from "../encryption_context.ts";
import { CustomKeyStoreNotFoundException, ValidationException } from "../errors.ts";
import type { KeyMaterials, KeyResolver, LoadedKey, Recipients } from "../operation_ports.ts";
import type { AttestedEnclave } from "../recipient/attestation.ts";
import { SecretBytes } from "../secret.ts";
import type { Caller, KeyMaterial } from "../types.ts";
import { assertSymmetricUse, type CommonInput, dryRunSucceeded, sealUnder } from "./data_plane.ts";
import { attestRecipient, type RecipientField, sealForRecipient } from "./recipient.ts";

/** What the data key operations use of the KMS. */
export type DataKeyPorts = KeyResolver & KeyMaterials & Recipients;

/** GenerateDataKey's input after schema validation. */
export interface GenerateDataKeyInput extends CommonInput {
  KeyId: string;
  EncryptionContext?: EncryptionContext | undefined;
  NumberOfBytes?: number | undefined;
  KeySpec?: "AES_256" | "AES_128" | undefined;
  Recipient?: RecipientField | undefined;
}

/**
 * The data key length: exactly one of KeySpec (AES_128 16, AES_256 32) or NumberOfBytes.
 * @throws {ValidationException} neither or both.
 */
function dataKeyLength(input: GenerateDataKeyInput): number {
  if (input.KeySpec !== undefined && input.NumberOfBytes !== undefined) {
    throw new ValidationException("Please specify either number of bytes or key spec, not both.");
  }
  if (input.KeySpec !== undefined) return input.KeySpec === "AES_128" ? 16 : 32;
  if (input.NumberOfBytes !== undefined) return input.NumberOfBytes;
  throw new ValidationException("Please specify either number of bytes or key spec.");
}

async function generateDataKeyCommon(
  kms: DataKeyPorts,
  caller: Caller,
  input: GenerateDataKeyInput,
  operation: "GenerateDataKey" | "GenerateDataKeyWithoutPlaintext",
): Promise<
  {
    blob: Uint8Array;
    plaintext: SecretBytes;
    key: LoadedKey;
    material: KeyMaterial;
    enclave: AttestedEnclave | undefined;
  }
> {
  const length = dataKeyLength(input);
  const enclave = await attestRecipient(kms, input.Recipient);
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: true,
    action: `kms:${operation}`,
    conditions: { encryptionContext: input.EncryptionContext, recipient: enclave },
  });
  assertSymmetricUse(key, operation, undefined);
  if (input.DryRun === true) dryRunSucceeded();
  const plaintext = new SecretBytes(randomBytes(length));
  const { blob, material } = await sealUnder(kms, key, plaintext.expose(), input.EncryptionContext);
  return { blob, plaintext, key, material, enclave };
}

/**
 * GenerateDataKey: a random data key in plaintext and encrypted under a symmetric key.
 * @throws {ValidationException} @throws {NotFoundException} @throws {DisabledException}
 * @throws {KMSInvalidStateException} @throws {InvalidKeyUsageException} @throws {DryRunOperationException}
 */
export async function generateDataKey(
  kms: DataKeyPorts,
  caller: Caller,
  input: GenerateDataKeyInput,
): Promise<
  {
    CiphertextBlob: Uint8Array;
    Plaintext?: SecretBytes;
    CiphertextForRecipient?: Uint8Array;
    KeyId: string;
    KeyMaterialId?: string;
  }
> {
  const r = await generateDataKeyCommon(kms, caller, input, "GenerateDataKey");
  if (r.enclave !== undefined) {
    // The model: KeyMaterialId "is omitted if the request includes the Recipient parameter".
    return {
      CiphertextBlob: r.blob,
      CiphertextForRecipient: await sealForRecipient(kms, r.enclave, r.plaintext),
      KeyId: r.key.arn,
    };
  }
  return {
    CiphertextBlob: r.blob,
    Plaintext: r.plaintext,
    KeyId: r.key.arn,
    KeyMaterialId: r.material.keyMaterialId,
  };
}

/**
 * GenerateDataKeyWithoutPlaintext: as GenerateDataKey, but only the encrypted copy leaves.
 * @throws {ValidationException} @throws {NotFoundException} @throws {DisabledException}
 * @throws {KMSInvalidStateException} @throws {InvalidKeyUsageException} @throws {DryRunOperationException}
 */
export async function generateDataKeyWithoutPlaintext(
  kms: DataKeyPorts,
  caller: Caller,
  input: GenerateDataKeyInput,
): Promise<{ CiphertextBlob: Uint8Array; KeyId: string; KeyMaterialId: string }> {
  const r = await generateDataKeyCommon(kms, caller, input, "GenerateDataKeyWithoutPlaintext");
  r.plaintext.wipe();
  return { CiphertextBlob: r.blob, KeyId: r.key.arn, KeyMaterialId: r.material.keyMaterialId };
}

/**
 * GenerateRandom: 1..1024 random bytes.
 * @throws {ValidationException} no NumberOfBytes. @throws {CustomKeyStoreNotFoundException}
 */
export async function generateRandom(
  kms: DataKeyPorts,
  caller: Caller,
  input: {
    NumberOfBytes?: number | undefined;
    CustomKeyStoreId?: string | undefined;
    Recipient?: RecipientField | undefined;
  },
): Promise<{ Plaintext?: SecretBytes; CiphertextForRecipient?: Uint8Array }> {
  if (input.CustomKeyStoreId !== undefined) {
    throw new CustomKeyStoreNotFoundException(
      `Custom key store ${input.CustomKeyStoreId} does not exist.`,
    );
  }
  if (input.NumberOfBytes === undefined) {
    throw new ValidationException("Please specify the number of bytes.");
  }
  const enclave = await attestRecipient(kms, input.Recipient);
  kms.authorizeAccount(caller, "kms:GenerateRandom", { recipient: enclave });
  const plaintext = new SecretBytes(randomBytes(input.NumberOfBytes));
  if (enclave === undefined) return { Plaintext: plaintext };
  return { CiphertextForRecipient: await sealForRecipient(kms, enclave, plaintext) };
}
