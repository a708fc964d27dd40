/**
 * GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext: a fresh
 * asymmetric key pair whose private key leaves encrypted under a symmetric
 * KMS key (and, for GenerateDataKeyPair, in plaintext or sealed to an attested
 * enclave). RSA, secp256k1, SM2 and Ed25519 pairs come from the in-memory pools
 * (`core/crypto/key_pair_pool.ts`) when they have one ready.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyPair.html
 * @module
 */
import { assertSpecAvailable } from "../region_profile.ts";
import type { DataKeyPairSpec, GeneratedKeyPair } from "../crypto/key_pairs.ts";
import type { EncryptionContext } from "../encryption_context.ts";
import type { KeyMaterials, KeyPairSource, KeyResolver, Recipients } from "../operation_ports.ts";
import type { SecretBytes } from "../secret.ts";
import type { Caller } from "../types.ts";
import { assertSymmetricUse, dryRunSucceeded, sealUnder } from "./data_plane.ts";
import { attestRecipient, type RecipientField, sealForRecipient } from "./recipient.ts";
import type { AttestedEnclave } from "../recipient/attestation.ts";

/** What this family of operations uses of the KMS. */
export type DataKeyPairPorts = KeyResolver & KeyMaterials & Recipients & {
  readonly keyPairs: KeyPairSource;
};

/** GenerateDataKeyPairWithoutPlaintext's input after schema validation. */
export interface GenerateDataKeyPairWithoutPlaintextInput {
  KeyId: string;
  KeyPairSpec: string;
  EncryptionContext?: EncryptionContext | undefined;
  GrantTokens?: string[] | undefined;
  DryRun?: boolean | undefined;
}

/** GenerateDataKeyPair's input after schema validation. */
export interface GenerateDataKeyPairInput extends GenerateDataKeyPairWithoutPlaintextInput {
  Recipient?: RecipientField | undefined;
}

/** What both operations return. */
export interface DataKeyPairWithoutPlaintext {
  PrivateKeyCiphertextBlob: Uint8Array;
  PublicKey: Uint8Array;
  KeyId: string;
  KeyPairSpec: DataKeyPairSpec;
  KeyMaterialId: string;
}

/** GenerateDataKeyPair's answer: the private key in plaintext, or sealed for a recipient. */
export interface DataKeyPair extends DataKeyPairWithoutPlaintext {
  PrivateKeyPlaintext?: SecretBytes;
  CiphertextForRecipient?: Uint8Array;
}

type Operation = "GenerateDataKeyPair" | "GenerateDataKeyPairWithoutPlaintext";

/**
 * Resolves and checks the key, then generates the pair and encrypts its private key.
 * The caller owns (and must wipe) the returned pair's private key.
 */
async function generatePairUnderKey(
  kms: DataKeyPairPorts,
  caller: Caller,
  input: GenerateDataKeyPairInput,
  operation: Operation,
): Promise<
  {
    result: DataKeyPairWithoutPlaintext;
    pair: GeneratedKeyPair;
    enclave: AttestedEnclave | undefined;
  }
> {
  assertSpecAvailable(kms.region, input.KeyPairSpec, "KeyPairSpec", kms);
  const enclave = await attestRecipient(kms, input.Recipient);
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: true,
    action: `kms:${operation}`,
    conditions: {
      encryptionContext: input.EncryptionContext,
      dataKeyPairSpec: input.KeyPairSpec,
      recipient: enclave,
    },
  });
  assertSymmetricUse(key, operation, undefined);
  if (input.DryRun === true) dryRunSucceeded();
  const spec = input.KeyPairSpec as DataKeyPairSpec;
  const pair = await kms.keyPairs.generate(spec);
  try {
    const { blob, material } = await sealUnder(
      kms,
      key,
      pair.privateKey.expose(),
      input.EncryptionContext,
    );
    const result: DataKeyPairWithoutPlaintext = {
      PrivateKeyCiphertextBlob: blob,
      PublicKey: pair.publicKey,
      KeyId: key.arn,
      KeyPairSpec: spec,
      KeyMaterialId: material.keyMaterialId,
    };
    return { result, pair, enclave };
  } catch (error) {
    pair.privateKey.wipe();
    throw error;
  }
}

/**
 * GenerateDataKeyPair: the public key, the private key encrypted under `KeyId`, and the private
 * key in plaintext — or, with `Recipient`, sealed to the attested enclave's public key instead.
 * @throws {NotFoundException} @throws {DisabledException} @throws {KMSInvalidStateException}
 * @throws {InvalidKeyUsageException} @throws {ValidationException} @throws {DryRunOperationException}
 */
export async function generateDataKeyPair(
  kms: DataKeyPairPorts,
  caller: Caller,
  input: GenerateDataKeyPairInput,
): Promise<DataKeyPair> {
  const { result, pair, enclave } = await generatePairUnderKey(
    kms,
    caller,
    input,
    "GenerateDataKeyPair",
  );
  if (enclave !== undefined) {
    return {
      ...result,
      CiphertextForRecipient: await sealForRecipient(kms, enclave, pair.privateKey),
    };
  }
  return { ...result, PrivateKeyPlaintext: pair.privateKey };
}

/**
 * GenerateDataKeyPairWithoutPlaintext: as GenerateDataKeyPair, but the private key leaves only
 * encrypted under `KeyId`.
 * @throws {NotFoundException} @throws {DisabledException} @throws {KMSInvalidStateException}
 * @throws {InvalidKeyUsageException} @throws {DryRunOperationException}
 */
export async function generateDataKeyPairWithoutPlaintext(
  kms: DataKeyPairPorts,
  caller: Caller,
  input: GenerateDataKeyPairWithoutPlaintextInput,
): Promise<DataKeyPairWithoutPlaintext> {
  const { result, pair } = await generatePairUnderKey(
    kms,
    caller,
    input,
    "GenerateDataKeyPairWithoutPlaintext",
  );
  pair.privateKey.wipe();
  return result;
}
