/**
 * Symmetric data plane: Encrypt, Decrypt, ReEncrypt, GenerateDataKey,
 * GenerateDataKeyWithoutPlaintext, GenerateRandom. Served from memory: no SQL
 * statement and no durable write per request once a key is cached.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html
 * @module
 */
import { decodeCiphertextBlob } from "../ciphertext_blob.ts";
import { randomBytes } from "../crypto/random.ts";
import { decryptWithKeyMaterial, encryptWithKeyMaterial } from "../crypto/symmetric.ts";
import { canonicalEncryptionContext, type EncryptionContext } from "../encryption_context.ts";
import {
  CustomKeyStoreNotFoundException,
  DryRunOperationException,
  IncorrectKeyException,
  InvalidCiphertextException,
  InvalidKeyUsageException,
  ValidationException,
} from "../errors.ts";
import { assertKeyStateAllows, type KeyOperation } from "../key_state.ts";
import type { Kms, LoadedKey } from "../kms.ts";
import type { AttestedEnclave } from "../recipient/attestation.ts";
import { SecretBytes } from "../secret.ts";
import type { Caller, KeyMaterial } from "../types.ts";
import { attestRecipient, type RecipientField } from "./recipient.ts";

/** Fields every data-plane request may carry. */
interface CommonInput {
  GrantTokens?: string[] | undefined;
  DryRun?: boolean | undefined;
}

const DRY_RUN_MESSAGE = "The request would have succeeded, but the DryRun option is set.";

/** Ends a dry run that would have succeeded. @throws {DryRunOperationException} always. */
export function dryRunSucceeded(): never {
  throw new DryRunOperationException(DRY_RUN_MESSAGE);
}

/**
 * Checks a key can do symmetric encryption with `algorithm` for `operation` in its current state.
 * @throws {DisabledException} @throws {KMSInvalidStateException} @throws {InvalidKeyUsageException}
 */
export function assertSymmetricUse(
  key: LoadedKey,
  operation: KeyOperation,
  algorithm: string | undefined,
): void {
  assertKeyStateAllows(operation, { arn: key.arn, state: key.record.state });
  if (key.record.keyUsage !== "ENCRYPT_DECRYPT" || key.record.keySpec !== "SYMMETRIC_DEFAULT") {
    throw new InvalidKeyUsageException(
      `${key.arn} key usage is ${key.record.keyUsage} which is not valid for ${operation}.`,
    );
  }
  if (algorithm !== undefined && algorithm !== "SYMMETRIC_DEFAULT") {
    throw new InvalidKeyUsageException(
      `The encryption algorithm ${algorithm} is not valid for ${key.arn}.`,
    );
  }
}

async function currentMaterial(kms: Kms, key: LoadedKey): Promise<KeyMaterial> {
  const material = await kms.material(key.record.keyId, key.record.currentMaterialVersion);
  if (material === null) {
    throw new Error(`material ${key.record.currentMaterialVersion} of ${key.record.keyId} missing`);
  }
  return material;
}

/** Encrypts `plaintext` under the key's current material with `context` as AAD. */
export async function sealUnder(
  kms: Kms,
  key: LoadedKey,
  plaintext: Uint8Array,
  context: EncryptionContext | undefined,
): Promise<{ blob: Uint8Array; material: KeyMaterial }> {
  const material = await currentMaterial(kms, key);
  const blob = await encryptWithKeyMaterial({
    keyId: key.record.keyId,
    materialVersion: material.version,
    material: material.material,
    plaintext,
    context: canonicalEncryptionContext(context),
  });
  return { blob, material };
}

/**
 * Encrypt: up to 4096 bytes under a symmetric key.
 * @throws {NotFoundException} @throws {DisabledException} @throws {KMSInvalidStateException}
 * @throws {InvalidKeyUsageException} @throws {DryRunOperationException}
 */
export async function encrypt(
  kms: Kms,
  caller: Caller,
  input: CommonInput & {
    KeyId: string;
    Plaintext: SecretBytes;
    EncryptionContext?: EncryptionContext | undefined;
    EncryptionAlgorithm?: string | undefined;
  },
): Promise<
  { CiphertextBlob: Uint8Array; KeyId: string; EncryptionAlgorithm: "SYMMETRIC_DEFAULT" }
> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: true,
    action: "kms:Encrypt",
  });
  assertSymmetricUse(key, "Encrypt", input.EncryptionAlgorithm);
  if (input.DryRun === true) dryRunSucceeded();
  const { blob } = await sealUnder(kms, key, input.Plaintext.expose(), input.EncryptionContext);
  return { CiphertextBlob: blob, KeyId: key.arn, EncryptionAlgorithm: "SYMMETRIC_DEFAULT" };
}

interface Opened {
  key: LoadedKey;
  plaintext: SecretBytes;
  material: KeyMaterial;
}

/**
 * Finds the key a ciphertext names, checks it against an optional KeyId and its state.
 * @throws {InvalidCiphertextException} @throws {IncorrectKeyException} @throws {AccessDeniedException}
 */
async function keyOfCiphertext(
  kms: Kms,
  caller: Caller,
  options: { keyId: string | undefined; keyIdFromBlob: string; action: string },
): Promise<LoadedKey> {
  const named = options.keyId === undefined
    ? undefined
    : await kms.resolveKey(caller, options.keyId, { allowAlias: true, action: options.action });
  if (named !== undefined && named.record.keyId !== options.keyIdFromBlob) {
    throw new IncorrectKeyException(
      "The key ID in the request does not identify a CMK that can perform this operation.",
    );
  }
  const key = named ?? await kms.findKey(options.keyIdFromBlob);
  if (key === null) throw invalidCiphertext();
  kms.assertOwnedBy(caller, key, options.action);
  return key;
}

function invalidCiphertext(): InvalidCiphertextException {
  return new InvalidCiphertextException("The ciphertext is invalid.");
}

async function open(
  kms: Kms,
  caller: Caller,
  input: {
    ciphertext: Uint8Array;
    keyId: string | undefined;
    context: EncryptionContext | undefined;
    algorithm: string | undefined;
    operation: KeyOperation;
    action: string;
  },
): Promise<Opened> {
  const blob = decodeCiphertextBlob(input.ciphertext);
  const key = await keyOfCiphertext(kms, caller, {
    keyId: input.keyId,
    keyIdFromBlob: blob.keyId,
    action: input.action,
  });
  assertSymmetricUse(key, input.operation, input.algorithm);
  const material = await kms.material(key.record.keyId, blob.materialVersion);
  if (material === null) throw invalidCiphertext();
  const plaintext = await decryptWithKeyMaterial(blob, {
    material: material.material,
    context: canonicalEncryptionContext(input.context),
  });
  return { key, plaintext: new SecretBytes(plaintext), material };
}

/**
 * Checks a dry run that ignores the ciphertext: KeyId is then the key to check.
 * @throws {ValidationException} no KeyId to check.
 */
async function dryRunIgnoringCiphertext(
  kms: Kms,
  caller: Caller,
  input: {
    keyId: string | undefined;
    algorithm: string | undefined;
    operation: KeyOperation;
    action: string;
  },
): Promise<never> {
  if (input.keyId === undefined) {
    throw new ValidationException(
      "KeyId is required when DryRunModifiers includes IGNORE_CIPHERTEXT.",
    );
  }
  const key = await kms.resolveKey(caller, input.keyId, { allowAlias: true, action: input.action });
  assertSymmetricUse(key, input.operation, input.algorithm);
  dryRunSucceeded();
}

/** Decrypt's input after schema validation. */
export interface DecryptInput extends CommonInput {
  CiphertextBlob: Uint8Array;
  KeyId?: string | undefined;
  EncryptionContext?: EncryptionContext | undefined;
  EncryptionAlgorithm?: string | undefined;
  Recipient?: RecipientField | undefined;
  DryRunModifiers?: string[] | undefined;
}

/**
 * Decrypt: KeyId optional for symmetric ciphertexts; a different KeyId gives IncorrectKeyException.
 * @throws {InvalidCiphertextException} @throws {IncorrectKeyException} @throws {DisabledException}
 * @throws {KMSInvalidStateException} @throws {NotFoundException} @throws {DryRunOperationException}
 */
export async function decrypt(
  kms: Kms,
  caller: Caller,
  input: DecryptInput,
): Promise<
  {
    KeyId: string;
    Plaintext?: SecretBytes;
    CiphertextForRecipient?: Uint8Array;
    EncryptionAlgorithm: "SYMMETRIC_DEFAULT";
    KeyMaterialId: string;
  }
> {
  const enclave = await attestRecipient(kms, input.Recipient);
  const ignoreCiphertext = input.DryRunModifiers?.includes("IGNORE_CIPHERTEXT") === true;
  if (input.DryRun === true && ignoreCiphertext) {
    return await dryRunIgnoringCiphertext(kms, caller, {
      keyId: input.KeyId,
      algorithm: input.EncryptionAlgorithm,
      operation: "Decrypt",
      action: "kms:Decrypt",
    });
  }
  const opened = await open(kms, caller, {
    ciphertext: input.CiphertextBlob,
    keyId: input.KeyId,
    context: input.EncryptionContext,
    algorithm: input.EncryptionAlgorithm,
    operation: "Decrypt",
    action: "kms:Decrypt",
  });
  if (input.DryRun === true) {
    opened.plaintext.wipe();
    dryRunSucceeded();
  }
  if (enclave !== undefined) {
    try {
      return {
        KeyId: opened.key.arn,
        CiphertextForRecipient: await kms.recipients.seal(enclave, opened.plaintext.expose()),
        EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
        KeyMaterialId: opened.material.keyMaterialId,
      };
    } finally {
      opened.plaintext.wipe();
    }
  }
  return {
    KeyId: opened.key.arn,
    Plaintext: opened.plaintext,
    EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
    KeyMaterialId: opened.material.keyMaterialId,
  };
}

/** ReEncrypt's input after schema validation. */
export interface ReEncryptInput extends CommonInput {
  CiphertextBlob: Uint8Array;
  SourceEncryptionContext?: EncryptionContext | undefined;
  SourceKeyId?: string | undefined;
  DestinationKeyId: string;
  DestinationEncryptionContext?: EncryptionContext | undefined;
  SourceEncryptionAlgorithm?: string | undefined;
  DestinationEncryptionAlgorithm?: string | undefined;
  DryRunModifiers?: string[] | undefined;
}

/** ReEncrypt's answer. */
export interface ReEncryptResult {
  CiphertextBlob: Uint8Array;
  SourceKeyId: string;
  KeyId: string;
  SourceEncryptionAlgorithm: "SYMMETRIC_DEFAULT";
  DestinationEncryptionAlgorithm: "SYMMETRIC_DEFAULT";
  SourceKeyMaterialId: string;
  DestinationKeyMaterialId: string;
}

/**
 * ReEncrypt: decrypts under the source key and encrypts under the destination key, inside the KMS.
 * @throws {InvalidCiphertextException} @throws {IncorrectKeyException} @throws {DisabledException}
 * @throws {KMSInvalidStateException} @throws {NotFoundException} @throws {DryRunOperationException}
 */
export async function reEncrypt(
  kms: Kms,
  caller: Caller,
  input: ReEncryptInput,
): Promise<ReEncryptResult> {
  const destination = await kms.resolveKey(caller, input.DestinationKeyId, {
    allowAlias: true,
    action: "kms:ReEncryptTo",
  });
  assertSymmetricUse(destination, "ReEncryptTo", input.DestinationEncryptionAlgorithm);
  if (input.DryRun === true && input.DryRunModifiers?.includes("IGNORE_CIPHERTEXT") === true) {
    return await dryRunIgnoringCiphertext(kms, caller, {
      keyId: input.SourceKeyId,
      algorithm: input.SourceEncryptionAlgorithm,
      operation: "ReEncryptFrom",
      action: "kms:ReEncryptFrom",
    });
  }
  const opened = await open(kms, caller, {
    ciphertext: input.CiphertextBlob,
    keyId: input.SourceKeyId,
    context: input.SourceEncryptionContext,
    algorithm: input.SourceEncryptionAlgorithm,
    operation: "ReEncryptFrom",
    action: "kms:ReEncryptFrom",
  });
  try {
    if (input.DryRun === true) dryRunSucceeded();
    const { blob, material } = await sealUnder(
      kms,
      destination,
      opened.plaintext.expose(),
      input.DestinationEncryptionContext,
    );
    return {
      CiphertextBlob: blob,
      SourceKeyId: opened.key.arn,
      KeyId: destination.arn,
      SourceEncryptionAlgorithm: "SYMMETRIC_DEFAULT",
      DestinationEncryptionAlgorithm: "SYMMETRIC_DEFAULT",
      SourceKeyMaterialId: opened.material.keyMaterialId,
      DestinationKeyMaterialId: material.keyMaterialId,
    };
  } finally {
    opened.plaintext.wipe();
  }
}

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
  kms: Kms,
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
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: true,
    action: `kms:${operation}`,
  });
  assertSymmetricUse(key, operation, undefined);
  const enclave = await attestRecipient(kms, input.Recipient);
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
  kms: Kms,
  caller: Caller,
  input: GenerateDataKeyInput,
): Promise<
  {
    CiphertextBlob: Uint8Array;
    Plaintext?: SecretBytes;
    CiphertextForRecipient?: Uint8Array;
    KeyId: string;
    KeyMaterialId: string;
  }
> {
  const r = await generateDataKeyCommon(kms, caller, input, "GenerateDataKey");
  if (r.enclave !== undefined) {
    try {
      return {
        CiphertextBlob: r.blob,
        CiphertextForRecipient: await kms.recipients.seal(r.enclave, r.plaintext.expose()),
        KeyId: r.key.arn,
        KeyMaterialId: r.material.keyMaterialId,
      };
    } finally {
      r.plaintext.wipe();
    }
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
  kms: Kms,
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
  kms: Kms,
  _caller: Caller,
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
  const plaintext = new SecretBytes(randomBytes(input.NumberOfBytes));
  if (enclave === undefined) return { Plaintext: plaintext };
  try {
    return { CiphertextForRecipient: await kms.recipients.seal(enclave, plaintext.expose()) };
  } finally {
    plaintext.wipe();
  }
}
