/**
 * Data plane: Encrypt, Decrypt and ReEncrypt (GenerateDataKey* and GenerateRandom are in
 * data_keys.ts). Served from memory: no SQL statement and no durable write per request once a
 * key is cached.
 *
 * Encrypt, Decrypt and ReEncrypt also take asymmetric ENCRYPT_DECRYPT keys:
 * RSA_2048/3072/4096 with RSAES_OAEP_SHA_1 / RSAES_OAEP_SHA_256 and SM2 with
 * SM2PKE. Their ciphertexts are the bare RSA-OAEP block / SM2 DER, with no key id
 * inside, so what AWS does and this module copies is:
 * - The requested EncryptionAlgorithm picks the path. Omitted or
 *   SYMMETRIC_DEFAULT, the ciphertext is read as a symmetric blob first, so a raw
 *   RSA ciphertext (with or without an RSA KeyId) is `InvalidCiphertextException`,
 *   as is a ciphertext without KeyId, from which no key can be learnt.
 * - Encrypting with an asymmetric key and SYMMETRIC_DEFAULT (the default) or
 *   another spec's algorithm: `InvalidKeyUsageException` "Algorithm X is
 *   incompatible with key spec Y.".
 * - An encryption context with an asymmetric key: `ValidationException`
 *   "EncryptionContext is not supported when encrypting/decrypting with
 *   asymmetric CMKs.".
 * - A plaintext over the algorithm's limit (RSA: k - 2·hLen - 2; SM2PKE: 1024):
 *   `ValidationException` "Algorithm X and key spec Y cannot encrypt data larger
 *   than N bytes.".
 * - Any decryption failure (wrong key, wrong algorithm, changed byte) is the
 *   same `InvalidCiphertextException` as a symmetric one.
 * - No KeyMaterialId in answers about asymmetric keys (the model: "present only
 *   when the operation uses a symmetric encryption KMS key").
 * Imported keys are cached per key, material version and algorithm in
 * `kms.prepared`.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/asymmetric-key-specs.html
 * @module
 */
import { decodeCiphertextBlob } from "../ciphertext_blob.ts";
import { decryptWithKeyMaterial } from "../crypto/symmetric.ts";
import { canonicalEncryptionContext, type EncryptionContext } from "../encryption_context.ts";
import {
  IncorrectKeyException,
  InvalidCiphertextException,
  InvalidKeyUsageException,
  ValidationException,
} from "../errors.ts";
import { algorithmsOf } from "../key_spec.ts";
import type { KmsAction } from "../catalogue.ts";
import { assertKeyStateAllows, type KeyOperation } from "../key_state.ts";
import type { RequestConditions } from "../access/request_context.ts";
import type { KeyMaterials, KeyResolver, LoadedKey, Recipients } from "../operation_ports.ts";
import type { AttestedEnclave } from "../recipient/attestation.ts";
import { SecretBytes } from "../secret.ts";
import type { Caller } from "../types.ts";
import { assertNoEncryptionContext, asymmetricCipher, cipherFor } from "./asymmetric_ciphers.ts";
import { assertSymmetricUse, type CommonInput, dryRunSucceeded, sealUnder } from "./data_plane.ts";
import { attestRecipient, type RecipientField, sealForRecipient } from "./recipient.ts";

/** What this family of operations uses of the KMS. */
export type CryptoPorts = KeyResolver & KeyMaterials & Recipients;

/** Whether a key is an asymmetric ENCRYPT_DECRYPT key (RSA or SM2). */
function isAsymmetricEncryptionKey(key: LoadedKey): boolean {
  return key.record.keyUsage === "ENCRYPT_DECRYPT" && key.record.keySpec !== "SYMMETRIC_DEFAULT";
}

/** Whether a requested algorithm asks for asymmetric decryption (no ciphertext blob to read). */
function isAsymmetricAlgorithm(algorithm: string | undefined): boolean {
  return algorithm !== undefined && algorithm !== "SYMMETRIC_DEFAULT";
}

/**
 * Checks a key can encrypt or decrypt with `algorithm` (SYMMETRIC_DEFAULT when omitted) for
 * `operation` in its current state, and returns the algorithm.
 * @throws {DisabledException} @throws {KMSInvalidStateException} @throws {InvalidKeyUsageException}
 */
export function assertEncryptionUse(
  key: LoadedKey,
  operation: KeyOperation,
  algorithm: string | undefined,
): string {
  if (!isAsymmetricEncryptionKey(key)) {
    assertSymmetricUse(key, operation, algorithm);
    return "SYMMETRIC_DEFAULT";
  }
  assertKeyStateAllows(operation, { arn: key.arn, state: key.record.state });
  const chosen = algorithm ?? "SYMMETRIC_DEFAULT";
  const allowed = algorithmsOf(key.record.keySpec, "ENCRYPT_DECRYPT")?.encryptionAlgorithms ?? [];
  if (!allowed.includes(chosen)) {
    throw new InvalidKeyUsageException(
      `Algorithm ${chosen} is incompatible with key spec ${key.record.keySpec}.`,
    );
  }
  return chosen;
}

/**
 * Encrypt with an asymmetric ENCRYPT_DECRYPT key: the bare RSA-OAEP block or SM2 DER.
 * @throws {InvalidKeyUsageException} @throws {ValidationException} @throws {DryRunOperationException}
 */
async function encryptAsymmetric(
  kms: CryptoPorts,
  key: LoadedKey,
  input: EncryptInput,
): Promise<EncryptResult> {
  const algorithm = assertEncryptionUse(key, "Encrypt", input.EncryptionAlgorithm);
  assertNoEncryptionContext(input.EncryptionContext);
  const plaintext = input.Plaintext.expose();
  const cipher = await cipherFor(kms, key, { algorithm, plaintextBytes: plaintext.length });
  if (input.DryRun === true) dryRunSucceeded();
  const ciphertext = await cipher.encrypt(plaintext);
  return { CiphertextBlob: ciphertext, KeyId: key.arn, EncryptionAlgorithm: algorithm };
}

/** Encrypt's input after schema validation. */
export interface EncryptInput extends CommonInput {
  KeyId: string;
  Plaintext: SecretBytes;
  EncryptionContext?: EncryptionContext | undefined;
  EncryptionAlgorithm?: string | undefined;
}

/** Encrypt's answer. */
export interface EncryptResult {
  CiphertextBlob: Uint8Array;
  KeyId: string;
  EncryptionAlgorithm: string;
}

/**
 * Encrypt: up to 4096 bytes under a symmetric key, or up to the algorithm's limit under an
 * asymmetric ENCRYPT_DECRYPT key.
 * @throws {NotFoundException} @throws {DisabledException} @throws {KMSInvalidStateException}
 * @throws {InvalidKeyUsageException} @throws {ValidationException} @throws {DryRunOperationException}
 */
export async function encrypt(
  kms: CryptoPorts,
  caller: Caller,
  input: EncryptInput,
): Promise<EncryptResult> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: true,
    action: "kms:Encrypt",
    conditions: {
      encryptionContext: input.EncryptionContext,
      encryptionAlgorithm: input.EncryptionAlgorithm ?? "SYMMETRIC_DEFAULT",
    },
  });
  if (isAsymmetricEncryptionKey(key)) return await encryptAsymmetric(kms, key, input);
  assertSymmetricUse(key, "Encrypt", input.EncryptionAlgorithm);
  if (input.DryRun === true) dryRunSucceeded();
  const { blob } = await sealUnder(kms, key, input.Plaintext.expose(), input.EncryptionContext);
  return { CiphertextBlob: blob, KeyId: key.arn, EncryptionAlgorithm: "SYMMETRIC_DEFAULT" };
}

/** A decrypted ciphertext and where it came from. */
interface Opened {
  key: LoadedKey;
  plaintext: SecretBytes;
  algorithm: string;
  /** The id of the symmetric material that opened it; undefined for asymmetric keys. */
  keyMaterialId: string | undefined;
}

/** What `open` and `openAsymmetric` need. */
interface OpenInput {
  ciphertext: Uint8Array;
  keyId: string | undefined;
  context: EncryptionContext | undefined;
  algorithm: string | undefined;
  operation: KeyOperation;
  action: KmsAction;
  /** The Recipient's attested enclave (`kms:RecipientAttestation:*`). */
  enclave?: AttestedEnclave | undefined;
  /** More condition values (ReEncrypt's `kms:ReEncryptOnSameKey`). */
  conditions?: RequestConditions | undefined;
}

/** The condition values of opening a ciphertext. */
function openConditions(input: Omit<OpenInput, "ciphertext">): RequestConditions {
  return {
    encryptionContext: input.context,
    encryptionAlgorithm: input.algorithm ?? "SYMMETRIC_DEFAULT",
    recipient: input.enclave,
    ...input.conditions,
  };
}

/**
 * Finds the key a ciphertext names, checks it against an optional KeyId and its state.
 * @throws {InvalidCiphertextException} @throws {IncorrectKeyException} @throws {AccessDeniedException}
 */
async function keyOfCiphertext(
  kms: CryptoPorts,
  caller: Caller,
  options: {
    keyId: string | undefined;
    keyIdFromBlob: string;
    action: KmsAction;
    conditions: RequestConditions;
  },
): Promise<LoadedKey> {
  const named = options.keyId === undefined ? undefined : await kms.resolveKey(
    caller,
    options.keyId,
    { allowAlias: true, action: options.action, conditions: options.conditions },
  );
  if (named !== undefined && named.record.keyId !== options.keyIdFromBlob) {
    throw new IncorrectKeyException(
      "The key ID in the request does not identify a CMK that can perform this operation.",
    );
  }
  const key = named ?? await kms.findKey(options.keyIdFromBlob);
  if (key === null) throw invalidCiphertext();
  if (named === undefined) {
    await kms.authorize(caller, key, { action: options.action, conditions: options.conditions });
  }
  return key;
}

function invalidCiphertext(): InvalidCiphertextException {
  return new InvalidCiphertextException("The ciphertext is invalid.");
}

async function open(kms: CryptoPorts, caller: Caller, input: OpenInput): Promise<Opened> {
  const blob = decodeCiphertextBlob(input.ciphertext);
  const key = await keyOfCiphertext(kms, caller, {
    keyId: input.keyId,
    keyIdFromBlob: blob.keyId,
    action: input.action,
    conditions: openConditions(input),
  });
  assertSymmetricUse(key, input.operation, input.algorithm);
  const material = await kms.material(key.record.keyId, blob.materialVersion);
  if (material === null) throw invalidCiphertext();
  const plaintext = await decryptWithKeyMaterial(blob, {
    material: material.material,
    context: canonicalEncryptionContext(input.context),
  });
  return {
    key,
    plaintext: new SecretBytes(plaintext),
    algorithm: "SYMMETRIC_DEFAULT",
    keyMaterialId: material.keyMaterialId,
  };
}

/**
 * Decrypts a bare asymmetric ciphertext with the key KeyId names; without KeyId there is no key
 * to learn from the ciphertext.
 * @throws {InvalidCiphertextException} @throws {InvalidKeyUsageException} @throws {ValidationException}
 */
async function openAsymmetric(kms: CryptoPorts, caller: Caller, input: OpenInput): Promise<Opened> {
  if (input.keyId === undefined) throw invalidCiphertext();
  const key = await kms.resolveKey(caller, input.keyId, {
    allowAlias: true,
    action: input.action,
    conditions: openConditions(input),
  });
  const algorithm = assertEncryptionUse(key, input.operation, input.algorithm);
  assertNoEncryptionContext(input.context);
  const cipher = await asymmetricCipher(kms, key, algorithm);
  try {
    const plaintext = await cipher.decrypt(input.ciphertext);
    return { key, plaintext, algorithm, keyMaterialId: undefined };
  } catch (error) {
    if (error instanceof InvalidCiphertextException) throw invalidCiphertext();
    throw error;
  }
}

/** Opens a ciphertext on the path its requested algorithm names (symmetric by default). */
function openCiphertext(kms: CryptoPorts, caller: Caller, input: OpenInput): Promise<Opened> {
  return isAsymmetricAlgorithm(input.algorithm)
    ? openAsymmetric(kms, caller, input)
    : open(kms, caller, input);
}

/**
 * Checks a dry run that ignores the ciphertext: KeyId is then the key to check.
 * @throws {ValidationException} no KeyId to check.
 */
async function dryRunIgnoringCiphertext(
  kms: CryptoPorts,
  caller: Caller,
  input: Omit<OpenInput, "ciphertext">,
): Promise<never> {
  if (input.keyId === undefined) {
    throw new ValidationException(
      "KeyId is required when DryRunModifiers includes IGNORE_CIPHERTEXT.",
    );
  }
  const key = await kms.resolveKey(caller, input.keyId, {
    allowAlias: true,
    action: input.action,
    conditions: openConditions(input),
  });
  assertEncryptionUse(key, input.operation, input.algorithm);
  if (isAsymmetricEncryptionKey(key)) assertNoEncryptionContext(input.context);
  dryRunSucceeded();
}

/**
 * The ciphertext to open, or undefined for a dry run with IGNORE_CIPHERTEXT (which never reads
 * it, even when given). CiphertextBlob is optional in the model only for that dry run.
 * @throws {ValidationException} no CiphertextBlob outside such a dry run.
 */
function ciphertextUnlessIgnored(
  input: Pick<DecryptInput, "CiphertextBlob" | "DryRun" | "DryRunModifiers">,
): Uint8Array | undefined {
  const ignored = input.DryRun === true &&
    input.DryRunModifiers?.includes("IGNORE_CIPHERTEXT") === true;
  if (ignored) return undefined;
  if (input.CiphertextBlob === undefined) {
    throw new ValidationException(
      "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: " +
        "Member must not be null",
    );
  }
  return input.CiphertextBlob;
}

/** Decrypt's input after schema validation. */
export interface DecryptInput extends CommonInput {
  /** Absent only in a dry run with IGNORE_CIPHERTEXT (the model). */
  CiphertextBlob?: Uint8Array | undefined;
  KeyId?: string | undefined;
  EncryptionContext?: EncryptionContext | undefined;
  EncryptionAlgorithm?: string | undefined;
  Recipient?: RecipientField | undefined;
  DryRunModifiers?: string[] | undefined;
}

/** Decrypt's answer; KeyMaterialId only for symmetric keys and never with a Recipient (the model). */
export interface DecryptResult {
  KeyId: string;
  Plaintext?: SecretBytes;
  CiphertextForRecipient?: Uint8Array;
  EncryptionAlgorithm: string;
  KeyMaterialId?: string | undefined;
}

/**
 * Decrypt: KeyId optional for symmetric ciphertexts (a different KeyId gives
 * IncorrectKeyException); KeyId and EncryptionAlgorithm required for asymmetric ones.
 * @throws {InvalidCiphertextException} @throws {IncorrectKeyException} @throws {DisabledException}
 * @throws {KMSInvalidStateException} @throws {NotFoundException} @throws {InvalidKeyUsageException}
 * @throws {ValidationException} @throws {DryRunOperationException}
 */
export async function decrypt(
  kms: CryptoPorts,
  caller: Caller,
  input: DecryptInput,
): Promise<DecryptResult> {
  const ciphertext = ciphertextUnlessIgnored(input);
  const enclave = await attestRecipient(kms, input.Recipient);
  if (ciphertext === undefined) {
    return await dryRunIgnoringCiphertext(kms, caller, {
      keyId: input.KeyId,
      context: input.EncryptionContext,
      algorithm: input.EncryptionAlgorithm,
      operation: "Decrypt",
      action: "kms:Decrypt",
      enclave,
    });
  }
  const opened = await openCiphertext(kms, caller, {
    ciphertext,
    keyId: input.KeyId,
    context: input.EncryptionContext,
    algorithm: input.EncryptionAlgorithm,
    operation: "Decrypt",
    action: "kms:Decrypt",
    enclave,
  });
  if (input.DryRun === true) {
    opened.plaintext.wipe();
    dryRunSucceeded();
  }
  if (enclave !== undefined) {
    return {
      KeyId: opened.key.arn,
      CiphertextForRecipient: await sealForRecipient(kms, enclave, opened.plaintext),
      EncryptionAlgorithm: opened.algorithm,
    };
  }
  return {
    KeyId: opened.key.arn,
    Plaintext: opened.plaintext,
    EncryptionAlgorithm: opened.algorithm,
    KeyMaterialId: opened.keyMaterialId,
  };
}

/** ReEncrypt's input after schema validation. */
export interface ReEncryptInput extends CommonInput {
  /** Absent only in a dry run with IGNORE_CIPHERTEXT (the model). */
  CiphertextBlob?: Uint8Array | undefined;
  SourceEncryptionContext?: EncryptionContext | undefined;
  SourceKeyId?: string | undefined;
  DestinationKeyId: string;
  DestinationEncryptionContext?: EncryptionContext | undefined;
  SourceEncryptionAlgorithm?: string | undefined;
  DestinationEncryptionAlgorithm?: string | undefined;
  DryRunModifiers?: string[] | undefined;
}

/** `kms:ReEncryptOnSameKey`: whether the ciphertext's key is the destination key. */
function sameKeyAs(destination: LoadedKey, ciphertext: Uint8Array): boolean {
  try {
    return decodeCiphertextBlob(ciphertext).keyId === destination.record.keyId;
  } catch {
    return false;
  }
}

/** ReEncrypt's answer; each KeyMaterialId only when that side is a symmetric key. */
export interface ReEncryptResult {
  CiphertextBlob: Uint8Array;
  SourceKeyId: string;
  KeyId: string;
  SourceEncryptionAlgorithm: string;
  DestinationEncryptionAlgorithm: string;
  SourceKeyMaterialId?: string | undefined;
  DestinationKeyMaterialId?: string | undefined;
}

/**
 * Encrypts the re-encrypted plaintext under the destination key, symmetric or asymmetric; a dry
 * run ends after the checks.
 * @throws {ValidationException} a plaintext over the asymmetric algorithm's limit.
 * @throws {DryRunOperationException}
 */
async function sealForDestination(
  kms: CryptoPorts,
  destination: LoadedKey,
  input: {
    plaintext: Uint8Array;
    algorithm: string;
    context: EncryptionContext | undefined;
    dryRun: boolean;
  },
): Promise<{ blob: Uint8Array; keyMaterialId: string | undefined }> {
  if (!isAsymmetricEncryptionKey(destination)) {
    if (input.dryRun) dryRunSucceeded();
    const { blob, material } = await sealUnder(kms, destination, input.plaintext, input.context);
    return { blob, keyMaterialId: material.keyMaterialId };
  }
  const plaintextBytes = input.plaintext.length;
  const cipher = await cipherFor(kms, destination, { algorithm: input.algorithm, plaintextBytes });
  if (input.dryRun) dryRunSucceeded();
  return { blob: await cipher.encrypt(input.plaintext), keyMaterialId: undefined };
}

/**
 * ReEncrypt: decrypts under the source key and encrypts under the destination key, inside the
 * KMS. Either key may be an asymmetric ENCRYPT_DECRYPT key, with its algorithm named.
 * @throws {InvalidCiphertextException} @throws {IncorrectKeyException} @throws {DisabledException}
 * @throws {KMSInvalidStateException} @throws {NotFoundException} @throws {InvalidKeyUsageException}
 * @throws {ValidationException} @throws {DryRunOperationException}
 */
export async function reEncrypt(
  kms: CryptoPorts,
  caller: Caller,
  input: ReEncryptInput,
): Promise<ReEncryptResult> {
  const ciphertext = ciphertextUnlessIgnored(input);
  const destination = await kms.resolveKey(caller, input.DestinationKeyId, {
    allowAlias: true,
    action: "kms:ReEncryptTo",
    conditions: {
      encryptionContext: input.DestinationEncryptionContext,
      encryptionAlgorithm: input.DestinationEncryptionAlgorithm ?? "SYMMETRIC_DEFAULT",
    },
  });
  const destinationAlgorithm = assertEncryptionUse(
    destination,
    "ReEncryptTo",
    input.DestinationEncryptionAlgorithm,
  );
  if (isAsymmetricEncryptionKey(destination)) {
    assertNoEncryptionContext(input.DestinationEncryptionContext);
  }
  if (ciphertext === undefined) {
    return await dryRunIgnoringCiphertext(kms, caller, {
      keyId: input.SourceKeyId,
      context: input.SourceEncryptionContext,
      algorithm: input.SourceEncryptionAlgorithm,
      operation: "ReEncryptFrom",
      action: "kms:ReEncryptFrom",
    });
  }
  const opened = await openCiphertext(kms, caller, {
    ciphertext,
    keyId: input.SourceKeyId,
    context: input.SourceEncryptionContext,
    algorithm: input.SourceEncryptionAlgorithm,
    operation: "ReEncryptFrom",
    action: "kms:ReEncryptFrom",
    conditions: { reEncryptOnSameKey: sameKeyAs(destination, ciphertext) },
  });
  try {
    const sealed = await sealForDestination(kms, destination, {
      plaintext: opened.plaintext.expose(),
      algorithm: destinationAlgorithm,
      context: input.DestinationEncryptionContext,
      dryRun: input.DryRun === true,
    });
    return {
      CiphertextBlob: sealed.blob,
      SourceKeyId: opened.key.arn,
      KeyId: destination.arn,
      SourceEncryptionAlgorithm: opened.algorithm,
      DestinationEncryptionAlgorithm: destinationAlgorithm,
      SourceKeyMaterialId: opened.keyMaterialId,
      DestinationKeyMaterialId: sealed.keyMaterialId,
    };
  } finally {
    opened.plaintext.wipe();
  }
}
