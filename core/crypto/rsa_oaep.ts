/**
 * RSAES-OAEP (RFC 8017 §7.1) for AWS KMS's `RSAES_OAEP_SHA_1` and
 * `RSAES_OAEP_SHA_256` encryption algorithms on RSA_2048/3072/4096
 * ENCRYPT_DECRYPT keys, through WebCrypto `RSA-OAEP`.
 *
 * - Hashes: the OAEP hash and the MGF1 hash are the same (SHA-1 with SHA-1,
 *   SHA-256 with SHA-256), as AWS KMS and WebCrypto both define them; OpenSSL
 *   needs `rsa_oaep_md` and `rsa_mgf1_md` set to match.
 * - Label: always empty (KMS has no label field).
 * - Ciphertext: the raw k-byte integer, k the modulus length in bytes, with no
 *   header; any other length, or a block whose padding does not check, is an
 *   `InvalidCiphertextException` without detail, so the answer reveals nothing
 *   about why (RFC 8017 §7.1.2 note: one error for all decryption failures).
 * - Plaintext limit: k - 2·hLen - 2 bytes (RFC 8017 §7.1.1), which gives AWS's
 *   published figures (RSA_2048: 214 / 190, RSA_3072: 342 / 318, RSA_4096:
 *   470 / 446 for SHA-1 / SHA-256).
 *
 * WebCrypto binds the hash to the imported key, so an `RsaOaepKey` is one key
 * pair with one algorithm; callers cache one per key and algorithm. The private
 * key is imported non-extractable. WebCrypto's RSA is Deno's native code; this
 * module adds no arithmetic of its own.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/asymmetric-key-specs.html#key-spec-rsa-encryption
 * @module
 */
import { InvalidCiphertextException } from "../errors.ts";
import { SecretBytes } from "../secret.ts";
import { publicKeyFromPkcs8 } from "./key_encoding.ts";

/** The RSA encryption algorithms of AWS `EncryptionAlgorithmSpec`. */
export type RsaOaepAlgorithm = "RSAES_OAEP_SHA_1" | "RSAES_OAEP_SHA_256";

const HASHES: Readonly<Record<RsaOaepAlgorithm, { name: "SHA-1" | "SHA-256"; bytes: number }>> = {
  RSAES_OAEP_SHA_1: { name: "SHA-1", bytes: 20 },
  RSAES_OAEP_SHA_256: { name: "SHA-256", bytes: 32 },
};

/** Whether `name` is one of the RSA-OAEP encryption algorithms. */
export function isRsaOaepAlgorithm(name: string): name is RsaOaepAlgorithm {
  return Object.hasOwn(HASHES, name);
}

/** The longest plaintext RSAES-OAEP takes with this modulus and hash: k - 2·hLen - 2 (RFC 8017 §7.1.1). */
export function rsaOaepMaxPlaintextBytes(modulusBits: number, algorithm: RsaOaepAlgorithm): number {
  return Math.ceil(modulusBits / 8) - 2 * HASHES[algorithm].bytes - 2;
}

/** An RSA key pair imported for RSAES-OAEP with one hash. */
export class RsaOaepKey {
  readonly #privateKey: CryptoKey;
  readonly #publicKey: CryptoKey;
  /** k, the modulus length in bytes: the length of every ciphertext. */
  readonly modulusBytes: number;
  /** The longest plaintext `encrypt` takes. */
  readonly maxPlaintextBytes: number;

  private constructor(
    keys: { privateKey: CryptoKey; publicKey: CryptoKey },
    modulusBits: number,
    algorithm: RsaOaepAlgorithm,
  ) {
    this.#privateKey = keys.privateKey;
    this.#publicKey = keys.publicKey;
    this.modulusBytes = Math.ceil(modulusBits / 8);
    this.maxPlaintextBytes = rsaOaepMaxPlaintextBytes(modulusBits, algorithm);
  }

  /**
   * Imports a DER PKCS#8 RSA private key (and its public half) for `algorithm`.
   * @throws {KeyEncodingError} @throws {DOMException} when the DER is not an RSA private key.
   */
  static async fromPkcs8(pkcs8: Uint8Array, algorithm: RsaOaepAlgorithm): Promise<RsaOaepKey> {
    const params = { name: "RSA-OAEP", hash: HASHES[algorithm].name };
    const spki = publicKeyFromPkcs8(pkcs8);
    const der = Uint8Array.from(pkcs8);
    try {
      const [privateKey, publicKey] = await Promise.all([
        crypto.subtle.importKey("pkcs8", der, params, false, ["decrypt"]),
        crypto.subtle.importKey("spki", spki, params, true, ["encrypt"]),
      ]);
      const { modulusLength } = publicKey.algorithm as RsaHashedKeyAlgorithm;
      return new RsaOaepKey({ privateKey, publicKey }, modulusLength, algorithm);
    } finally {
      der.fill(0);
    }
  }

  /**
   * RSAES-OAEP-ENCRYPT with a fresh random seed; the result is `modulusBytes` long.
   * @throws {RangeError} when the plaintext is longer than `maxPlaintextBytes`.
   */
  async encrypt(plaintext: Uint8Array): Promise<Uint8Array> {
    if (plaintext.length > this.maxPlaintextBytes) {
      throw new RangeError(`RSA-OAEP plaintext must be at most ${this.maxPlaintextBytes} bytes`);
    }
    const params = { name: "RSA-OAEP" };
    const data = Uint8Array.from(plaintext);
    try {
      return new Uint8Array(await crypto.subtle.encrypt(params, this.#publicKey, data));
    } finally {
      data.fill(0);
    }
  }

  /**
   * RSAES-OAEP-DECRYPT.
   * @throws {InvalidCiphertextException} (no detail) for a wrong length or a failed padding check.
   */
  async decrypt(ciphertext: Uint8Array): Promise<SecretBytes> {
    if (ciphertext.length !== this.modulusBytes) throw new InvalidCiphertextException();
    try {
      const params = { name: "RSA-OAEP" };
      const data = Uint8Array.from(ciphertext);
      return new SecretBytes(
        new Uint8Array(await crypto.subtle.decrypt(params, this.#privateKey, data)),
      );
    } catch {
      throw new InvalidCiphertextException();
    }
  }
}
