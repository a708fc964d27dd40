/**
 * Sign, Verify and GetPublicKey with the key pairs of asymmetric KMS keys
 * (RSA, NIST and SECG ECC, SM2, Ed25519, ML-DSA). Served from memory: the
 * imported signing key, the imported verifying key and the public key's DER
 * SPKI are built once per key and material version through `kms.prepared`.
 *
 * Order of checks, each before any cryptography and before DryRun answers:
 * key found, key state (core/key_state.ts), key usage (SIGN_VERIFY, else
 * `InvalidKeyUsageException`), algorithm and message rules of
 * `checkRequest` (`InvalidKeyUsageException` / `ValidationException`).
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_Verify.html
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_GetPublicKey.html
 * @module
 */
import {
  checkRequest,
  importSigningKey,
  importVerifyingKey,
  type MessageType,
  SIGNING_ALGORITHMS,
  type SigningAlgorithmSpec,
  type SigningKey,
  type SigningKeySpec,
  type VerifyingKey,
} from "../crypto/signatures.ts";
import {
  InvalidKeyUsageException,
  KMSInvalidSignatureException,
  UnsupportedOperationException,
} from "../errors.ts";
import { publicKeyOfMaterial } from "../key_material.ts";
import { algorithmLists } from "../key_metadata.ts";
import { KEY_SPECS } from "../key_spec.ts";
import { assertKeyStateAllows } from "../key_state.ts";
import type { KeyMaterials, KeyResolver, LoadedKey } from "../operation_ports.ts";
import type { SecretBytes } from "../secret.ts";
import type { Caller, KeySpec, KeyUsage } from "../types.ts";
import { dryRunSucceeded } from "./data_plane.ts";

/** What this family of operations uses of the KMS. */
export type SigningPorts = KeyResolver & KeyMaterials;

/** Sign's input after schema validation. */
export interface SignInput {
  KeyId: string;
  Message: SecretBytes;
  MessageType?: MessageType | undefined;
  SigningAlgorithm: SigningAlgorithmSpec;
  GrantTokens?: string[] | undefined;
  DryRun?: boolean | undefined;
}

/** Verify's input after schema validation. */
export interface VerifyInput extends SignInput {
  Signature: Uint8Array;
}

/** GetPublicKey's input after schema validation. */
export interface GetPublicKeyInput {
  KeyId: string;
  GrantTokens?: string[] | undefined;
}

/** Sign's answer. */
export interface SignOutput {
  KeyId: string;
  Signature: Uint8Array;
  SigningAlgorithm: SigningAlgorithmSpec;
}

/** Verify's answer; a signature that does not verify is an exception, not `false`. */
export interface VerifyOutput {
  KeyId: string;
  SignatureValid: true;
  SigningAlgorithm: SigningAlgorithmSpec;
}

/** GetPublicKey's answer; only the algorithm list of the key's usage is present. */
export interface GetPublicKeyOutput {
  KeyId: string;
  PublicKey: Uint8Array;
  CustomerMasterKeySpec: KeySpec;
  KeySpec: KeySpec;
  KeyUsage: KeyUsage;
  EncryptionAlgorithms?: string[];
  SigningAlgorithms?: string[];
  KeyAgreementAlgorithms?: string[];
}

/** What `kms.prepared` keeps per key and material version. */
const PREPARED = {
  signingKey: "signing-key",
  verifyingKey: "verifying-key",
  publicKey: "public-key-spki",
} as const;

/**
 * Sign: a signature of `Message` (or of the digest it is) with the key's private key.
 * @throws {NotFoundException} @throws {DisabledException} @throws {KMSInvalidStateException}
 * @throws {InvalidKeyUsageException} @throws {ValidationException} @throws {DryRunOperationException}
 */
export async function sign(
  kms: SigningPorts,
  caller: Caller,
  input: SignInput,
): Promise<SignOutput> {
  const { key, spec, messageType } = await checkedSigningRequest(kms, caller, input, "Sign");
  if (input.DryRun === true) dryRunSucceeded();
  const signingKey = await kms.prepared<SigningKey>(
    key.record.keyId,
    key.record.currentMaterialVersion,
    PREPARED.signingKey,
    (material) => importSigningKey(spec, material.material),
  );
  const signature = await signingKey.sign(
    input.SigningAlgorithm,
    input.Message.expose(),
    messageType,
  );
  return { KeyId: key.arn, Signature: signature, SigningAlgorithm: input.SigningAlgorithm };
}

/**
 * Verify: checks `Signature` over `Message` with the key's public key.
 * @throws {KMSInvalidSignatureException} when the signature does not verify.
 * @throws {NotFoundException} @throws {DisabledException} @throws {KMSInvalidStateException}
 * @throws {InvalidKeyUsageException} @throws {ValidationException} @throws {DryRunOperationException}
 */
export async function verify(
  kms: SigningPorts,
  caller: Caller,
  input: VerifyInput,
): Promise<VerifyOutput> {
  const { key, spec, messageType } = await checkedSigningRequest(kms, caller, input, "Verify");
  if (input.DryRun === true) dryRunSucceeded();
  const verifyingKey = await kms.prepared<VerifyingKey>(
    key.record.keyId,
    key.record.currentMaterialVersion,
    PREPARED.verifyingKey,
    async () => importVerifyingKey(spec, await publicKeyOf(kms, key)),
  );
  const valid = await verifyingKey.verify(
    input.SigningAlgorithm,
    input.Message.expose(),
    messageType,
    input.Signature,
  );
  if (!valid) throw new KMSInvalidSignatureException();
  return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: input.SigningAlgorithm };
}

/**
 * GetPublicKey: the DER SubjectPublicKeyInfo of an asymmetric key with its spec, usage and the
 * algorithm list of that usage.
 * @throws {UnsupportedOperationException} for a symmetric encryption or HMAC key.
 * @throws {NotFoundException} @throws {DisabledException} @throws {KMSInvalidStateException}
 */
export async function getPublicKey(
  kms: SigningPorts,
  caller: Caller,
  input: GetPublicKeyInput,
): Promise<GetPublicKeyOutput> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: true,
    action: "kms:GetPublicKey",
  });
  assertKeyStateAllows("GetPublicKey", { arn: key.arn, state: key.record.state });
  const { keySpec, keyUsage } = key.record;
  if (!KEY_SPECS[keySpec].asymmetric) {
    throw new UnsupportedOperationException(
      `${key.arn} key spec is ${keySpec} which is not valid for GetPublicKey.`,
    );
  }
  const { EncryptionAlgorithms, SigningAlgorithms, KeyAgreementAlgorithms } = algorithmLists(
    key.record,
  );
  return {
    KeyId: key.arn,
    PublicKey: await publicKeyOf(kms, key),
    CustomerMasterKeySpec: keySpec,
    KeySpec: keySpec,
    KeyUsage: keyUsage,
    ...(EncryptionAlgorithms ? { EncryptionAlgorithms } : {}),
    ...(SigningAlgorithms ? { SigningAlgorithms } : {}),
    ...(KeyAgreementAlgorithms ? { KeyAgreementAlgorithms } : {}),
  };
}

/** The DER SPKI of an asymmetric key's current material, built once per version. */
function publicKeyOf(kms: SigningPorts, key: LoadedKey): Promise<Uint8Array> {
  return kms.prepared(
    key.record.keyId,
    key.record.currentMaterialVersion,
    PREPARED.publicKey,
    (material) => Promise.resolve(publicKeyOfMaterial(key.record.keySpec, material.material)),
  );
}

/**
 * Resolves the key of a Sign or Verify request and makes every check that needs no cryptography.
 * @throws {NotFoundException} @throws {DisabledException} @throws {KMSInvalidStateException}
 * @throws {InvalidKeyUsageException} @throws {ValidationException}
 */
async function checkedSigningRequest(
  kms: SigningPorts,
  caller: Caller,
  input: SignInput,
  operation: "Sign" | "Verify",
): Promise<{ key: LoadedKey; spec: SigningKeySpec; messageType: MessageType }> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: true,
    action: `kms:${operation}`,
    conditions: {
      signingAlgorithm: input.SigningAlgorithm,
      messageType: input.MessageType ?? "RAW",
    },
  });
  assertKeyStateAllows(operation, { arn: key.arn, state: key.record.state });
  const spec = key.record.keySpec;
  if (key.record.keyUsage !== "SIGN_VERIFY" || !isSigningKeySpec(spec)) {
    throw new InvalidKeyUsageException(
      `${key.arn} key usage is ${key.record.keyUsage} which is not valid for ${operation}.`,
    );
  }
  const messageType = input.MessageType ?? "RAW";
  checkRequest(spec, input.SigningAlgorithm, input.Message.expose(), messageType);
  return { key, spec, messageType };
}

function isSigningKeySpec(spec: KeySpec): spec is SigningKeySpec {
  return Object.hasOwn(SIGNING_ALGORITHMS, spec);
}
