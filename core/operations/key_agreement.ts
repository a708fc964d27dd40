/**
 * DeriveSharedSecret: ECDH between the private key of a KEY_AGREEMENT KMS key
 * (ECC_NIST_P256/P384/P521 or SM2) and a peer's public key, returning the raw
 * shared secret (the x-coordinate, no KDF), or with `Recipient` that secret
 * sealed to an attested enclave in `CiphertextForRecipient` instead.
 *
 * Checks run in this order: the key (NotFound), its state (Disabled /
 * KMSInvalidState), its usage and spec (InvalidKeyUsage), the attestation
 * document (ValidationException), the peer key (ValidationException: not DER
 * SPKI, another curve, or not a point on the curve), and only then a DryRun,
 * so a dry run reports the error the real call would give.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_DeriveSharedSecret.html
 * @module
 */
import { deriveSharedSecret as ecdh, type EcdhCurve } from "../crypto/ecdh.ts";
import { InvalidKeyUsageException } from "../errors.ts";
import { assertKeyStateAllows } from "../key_state.ts";
import type { KeyMaterials, KeyResolver, LoadedKey, Recipients } from "../operation_ports.ts";
import type { SecretBytes } from "../secret.ts";
import type { Caller, Origin } from "../types.ts";
import { dryRunSucceeded } from "./data_plane.ts";
import { attestRecipient, type RecipientField, sealForRecipient } from "./recipient.ts";

/** What this family of operations uses of the KMS. */
export type KeyAgreementPorts = KeyResolver & KeyMaterials & Recipients;

/** DeriveSharedSecret's input after schema validation. */
export interface DeriveSharedSecretInput {
  KeyId: string;
  KeyAgreementAlgorithm: "ECDH";
  /** The peer's public key as DER SubjectPublicKeyInfo. */
  PublicKey: Uint8Array;
  GrantTokens?: string[] | undefined;
  DryRun?: boolean | undefined;
  Recipient?: RecipientField | undefined;
}

/** DeriveSharedSecret's answer: exactly one of SharedSecret and CiphertextForRecipient. */
export interface DeriveSharedSecretResult {
  KeyId: string;
  SharedSecret?: SecretBytes;
  CiphertextForRecipient?: Uint8Array;
  KeyAgreementAlgorithm: "ECDH";
  KeyOrigin: Origin;
}

const ECDH_CURVES: readonly string[] = [
  "ECC_NIST_P256",
  "ECC_NIST_P384",
  "ECC_NIST_P521",
  "SM2",
] satisfies EcdhCurve[];

function isEcdhCurve(spec: string): spec is EcdhCurve {
  return ECDH_CURVES.includes(spec);
}

/**
 * Checks that `key` can derive shared secrets in its current state; returns its curve.
 * @throws {DisabledException} @throws {KMSInvalidStateException}
 * @throws {InvalidKeyUsageException} a key whose usage is not KEY_AGREEMENT.
 */
export function assertKeyAgreementUse(key: LoadedKey): EcdhCurve {
  assertKeyStateAllows("DeriveSharedSecret", { arn: key.arn, state: key.record.state });
  const { keySpec, keyUsage } = key.record;
  if (keyUsage !== "KEY_AGREEMENT" || !isEcdhCurve(keySpec)) {
    throw new InvalidKeyUsageException(
      `${key.arn} key usage is ${keyUsage} which is not valid for DeriveSharedSecret.`,
    );
  }
  return keySpec;
}

/** The private key (PKCS#8) of the key's current material. */
async function currentPrivateKey(kms: KeyAgreementPorts, key: LoadedKey): Promise<SecretBytes> {
  const { keyId, currentMaterialVersion } = key.record;
  return (await kms.requiredMaterial(keyId, currentMaterialVersion)).material;
}

/**
 * DeriveSharedSecret: the raw ECDH secret of the KMS key and the peer's public key.
 * @throws {NotFoundException} @throws {DisabledException} @throws {KMSInvalidStateException}
 * @throws {InvalidKeyUsageException} @throws {DryRunOperationException}
 * @throws {ValidationException} a peer key that is malformed, on another curve or off the curve;
 *   a Recipient whose attestation document does not verify.
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_DeriveSharedSecret.html
 */
export async function deriveSharedSecret(
  kms: KeyAgreementPorts,
  caller: Caller,
  input: DeriveSharedSecretInput,
): Promise<DeriveSharedSecretResult> {
  const enclave = await attestRecipient(kms, input.Recipient);
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: true,
    action: "kms:DeriveSharedSecret",
    conditions: { keyAgreementAlgorithm: input.KeyAgreementAlgorithm, recipient: enclave },
  });
  const curve = assertKeyAgreementUse(key);
  const secret = await ecdh(curve, await currentPrivateKey(kms, key), input.PublicKey);
  const answer = {
    KeyId: key.arn,
    KeyAgreementAlgorithm: input.KeyAgreementAlgorithm,
    KeyOrigin: key.record.origin,
  };
  if (input.DryRun === true) {
    secret.wipe();
    dryRunSucceeded();
  }
  if (enclave === undefined) return { ...answer, SharedSecret: secret };
  return { ...answer, CiphertextForRecipient: await sealForRecipient(kms, enclave, secret) };
}
