/**
 * Keys of every cheap spec and usage, each with something made when it was created (a
 * ciphertext, signature, MAC or shared secret), and a check that the key still works and
 * still accepts what it made: the measure of "no key lost" in the root-key tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  CreateKeyCommand,
  DecryptCommand,
  DeriveSharedSecretCommand,
  EncryptCommand,
  type EncryptionAlgorithmSpec,
  GenerateMacCommand,
  GetPublicKeyCommand,
  type KeySpec,
  type KeyUsageType,
  type KMSClient,
  type MacAlgorithmSpec,
  SignCommand,
  type SigningAlgorithmSpec,
  VerifyCommand,
  VerifyMacCommand,
} from "@aws-sdk/client-kms";

/** A key and what it made at creation. */
export interface KeyFixture {
  keyId: string;
  spec: KeySpec;
  usage: KeyUsageType;
  algorithm: string;
  message: Uint8Array;
  /** Ciphertext, signature, MAC, or the ECDH secret with its own public key. */
  made: Uint8Array;
  publicKey?: Uint8Array;
}

/** Spec, usage and algorithm of each kind made (RSA only at 2048: generation is slow). */
export const KINDS: readonly [KeySpec, KeyUsageType, string][] = [
  ["SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT"],
  ["RSA_2048", "ENCRYPT_DECRYPT", "RSAES_OAEP_SHA_256"],
  ["RSA_2048", "SIGN_VERIFY", "RSASSA_PSS_SHA_256"],
  ["ECC_NIST_P256", "SIGN_VERIFY", "ECDSA_SHA_256"],
  ["ECC_NIST_P384", "SIGN_VERIFY", "ECDSA_SHA_384"],
  ["ECC_NIST_P521", "SIGN_VERIFY", "ECDSA_SHA_512"],
  ["ECC_SECG_P256K1", "SIGN_VERIFY", "ECDSA_SHA_256"],
  ["ECC_NIST_EDWARDS25519" as KeySpec, "SIGN_VERIFY", "ED25519_SHA_512"],
  ["ECC_NIST_P256", "KEY_AGREEMENT", "ECDH"],
  ["SM2", "ENCRYPT_DECRYPT", "SM2PKE"],
  ["SM2", "SIGN_VERIFY", "SM2DSA"],
  ["HMAC_224", "GENERATE_VERIFY_MAC", "HMAC_SHA_224"],
  ["HMAC_256", "GENERATE_VERIFY_MAC", "HMAC_SHA_256"],
  ["HMAC_384", "GENERATE_VERIFY_MAC", "HMAC_SHA_384"],
  ["HMAC_512", "GENERATE_VERIFY_MAC", "HMAC_SHA_512"],
  ["ML_DSA_44" as KeySpec, "SIGN_VERIFY", "ML_DSA_SHAKE_256"],
];

/** Creates a key of `kind` and uses it once. */
export async function makeKey(
  client: KMSClient,
  [spec, usage, algorithm]: readonly [KeySpec, KeyUsageType, string],
): Promise<KeyFixture> {
  const created = await client.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: usage }));
  const keyId = created.KeyMetadata!.KeyId!;
  const message = crypto.getRandomValues(new Uint8Array(32));
  const fixture: KeyFixture = {
    keyId,
    spec,
    usage,
    algorithm,
    message,
    made: new Uint8Array(0),
  };
  fixture.made = await use(client, fixture);
  return fixture;
}

/** Uses the key afresh, and checks what it made at creation. */
export async function checkKey(client: KMSClient, f: KeyFixture): Promise<void> {
  const where = `${f.spec} ${f.usage} ${f.keyId}`;
  const fresh = await use(client, f);
  switch (f.usage) {
    case "ENCRYPT_DECRYPT": {
      const old = await client.send(
        new DecryptCommand({
          KeyId: f.keyId,
          CiphertextBlob: f.made,
          EncryptionAlgorithm: f.algorithm as EncryptionAlgorithmSpec,
        }),
      );
      assert.deepEqual(old.Plaintext, f.message, where);
      return;
    }
    case "SIGN_VERIFY": {
      const old = await client.send(
        new VerifyCommand({
          KeyId: f.keyId,
          Message: f.message,
          MessageType: "RAW",
          Signature: f.made,
          SigningAlgorithm: f.algorithm as SigningAlgorithmSpec,
        }),
      );
      assert.equal(old.SignatureValid, true, where);
      return;
    }
    case "GENERATE_VERIFY_MAC": {
      assert.deepEqual(fresh, f.made, where);
      const old = await client.send(
        new VerifyMacCommand({
          KeyId: f.keyId,
          Message: f.message,
          Mac: f.made,
          MacAlgorithm: f.algorithm as MacAlgorithmSpec,
        }),
      );
      assert.equal(old.MacValid, true, where);
      return;
    }
    case "KEY_AGREEMENT":
      assert.deepEqual(fresh, f.made, where);
      return;
  }
}

async function use(client: KMSClient, f: KeyFixture): Promise<Uint8Array> {
  switch (f.usage) {
    case "ENCRYPT_DECRYPT": {
      const EncryptionAlgorithm = f.algorithm as EncryptionAlgorithmSpec;
      const out = await client.send(
        new EncryptCommand({ KeyId: f.keyId, Plaintext: f.message, EncryptionAlgorithm }),
      );
      const back = await client.send(
        new DecryptCommand({
          KeyId: f.keyId,
          CiphertextBlob: out.CiphertextBlob,
          EncryptionAlgorithm,
        }),
      );
      assert.deepEqual(back.Plaintext, f.message);
      return out.CiphertextBlob!;
    }
    case "SIGN_VERIFY": {
      const out = await client.send(
        new SignCommand({
          KeyId: f.keyId,
          Message: f.message,
          MessageType: "RAW",
          SigningAlgorithm: f.algorithm as SigningAlgorithmSpec,
        }),
      );
      return out.Signature!;
    }
    case "GENERATE_VERIFY_MAC": {
      const out = await client.send(
        new GenerateMacCommand({
          KeyId: f.keyId,
          Message: f.message,
          MacAlgorithm: f.algorithm as MacAlgorithmSpec,
        }),
      );
      return out.Mac!;
    }
    case "KEY_AGREEMENT": {
      f.publicKey ??= (await client.send(new GetPublicKeyCommand({ KeyId: f.keyId }))).PublicKey!;
      const out = await client.send(
        new DeriveSharedSecretCommand({
          KeyId: f.keyId,
          KeyAgreementAlgorithm: "ECDH",
          PublicKey: f.publicKey,
        }),
      );
      return out.SharedSecret!;
    }
    default:
      throw new Error(`no use for ${f.usage}`);
  }
}
