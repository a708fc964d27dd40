/**
 * Asymmetric ENCRYPT_DECRYPT keys as ciphers: RSA_2048/3072/4096 with
 * RSAES_OAEP_SHA_1 / RSAES_OAEP_SHA_256 and SM2 with SM2PKE, imported once per
 * key, material version and algorithm (`kms.prepared`), with AWS's plaintext
 * limits and its refusal of encryption contexts.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/asymmetric-key-specs.html
 * @module
 */
import { isRsaOaepAlgorithm, RsaOaepKey } from "../crypto/rsa_oaep.ts";
import { sm2Decrypt, sm2Encrypt, sm2KeyOfPkcs8 } from "../crypto/sm2.ts";
import type { EncryptionContext } from "../encryption_context.ts";
import { ValidationException } from "../errors.ts";
import type { KeyMaterials, KeyResolver, LoadedKey } from "../operation_ports.ts";
import type { SecretBytes } from "../secret.ts";

/** What this family of operations uses of the KMS. */
export type AsymmetricCipherPorts = KeyResolver & KeyMaterials;

/**
 * An asymmetric key accepts no encryption context (an empty map counts as none).
 * @throws {ValidationException} with AWS's text.
 */
export function assertNoEncryptionContext(context: EncryptionContext | undefined): void {
  if (context !== undefined && Object.keys(context).length > 0) {
    throw new ValidationException(
      "EncryptionContext is not supported when encrypting/decrypting with asymmetric CMKs.",
    );
  }
}

/** One asymmetric ENCRYPT_DECRYPT key pair with one algorithm. */
export interface AsymmetricCipher {
  readonly maxPlaintextBytes: number;
  encrypt(plaintext: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** @throws {InvalidCiphertextException} */
  decrypt(ciphertext: Uint8Array): SecretBytes | Promise<SecretBytes>;
}

/** AWS's SM2PKE plaintext limit (bytes). */
const SM2PKE_MAX_PLAINTEXT_BYTES = 1024;

/** SM2PKE (GB/T 32918.4, OpenSSL's C1C3C2 DER) with an SM2 PKCS#8 key. */
function sm2PkeCipher(pkcs8: Uint8Array): AsymmetricCipher {
  const { scalar, point } = sm2KeyOfPkcs8(pkcs8);
  return {
    maxPlaintextBytes: SM2PKE_MAX_PLAINTEXT_BYTES,
    encrypt: (plaintext) => sm2Encrypt(point, plaintext),
    decrypt: (ciphertext) => sm2Decrypt(scalar, ciphertext),
  };
}

async function importAsymmetricCipher(
  algorithm: string,
  pkcs8: SecretBytes,
): Promise<AsymmetricCipher> {
  if (isRsaOaepAlgorithm(algorithm)) return await RsaOaepKey.fromPkcs8(pkcs8.expose(), algorithm);
  if (algorithm === "SM2PKE") return sm2PkeCipher(pkcs8.expose());
  throw new Error(`no asymmetric cipher for ${algorithm}`);
}

/** The key's current material imported for `algorithm`, built once per material version. */
export function asymmetricCipher(
  kms: AsymmetricCipherPorts,
  key: LoadedKey,
  algorithm: string,
): Promise<AsymmetricCipher> {
  return kms.prepared(
    key.record.keyId,
    key.record.currentMaterialVersion,
    `encryption/${algorithm}`,
    (material) => importAsymmetricCipher(algorithm, material.material),
  );
}

/**
 * The cipher of an asymmetric key, after checking the plaintext fits the algorithm.
 * @throws {ValidationException} a plaintext over AWS's limit, with AWS's text.
 */
export async function cipherFor(
  kms: AsymmetricCipherPorts,
  key: LoadedKey,
  options: { algorithm: string; plaintextBytes: number },
): Promise<AsymmetricCipher> {
  const cipher = await asymmetricCipher(kms, key, options.algorithm);
  if (options.plaintextBytes > cipher.maxPlaintextBytes) {
    throw new ValidationException(
      `Algorithm ${options.algorithm} and key spec ${key.record.keySpec} cannot encrypt data ` +
        `larger than ${cipher.maxPlaintextBytes} bytes.`,
    );
  }
  return cipher;
}
