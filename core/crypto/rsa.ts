/**
 * RSA signatures for AWS KMS: RSASSA-PSS (MGF1 with the message hash, salt as
 * long as the hash) and RSASSA-PKCS1-v1_5, each with SHA-256/384/512, over a
 * message or over a digest the caller computed (RFC 8017 §8.1, §8.2, §9).
 *
 * Engines, all `node:crypto` with a `KeyObject` made once at import:
 * - message: `sign` / `verify`, which hash, pad and exponentiate.
 * - digest, PKCS#1 v1.5: `privateEncrypt` with `RSA_PKCS1_PADDING` over the
 *   DigestInfo, which is exactly RSASSA-PKCS1-v1_5 without its hashing step.
 * - digest, PSS: WebCrypto and `node:crypto` `sign` always hash their input and
 *   Deno's `privateEncrypt` has no `RSA_NO_PADDING`, but `privateDecrypt` with
 *   `RSA_NO_PADDING` is the raw private operation RSASP1 (m^d mod n). So EMSA-PSS
 *   (hashing and MGF1 over public bytes and a random salt) is computed here and
 *   the exponentiation stays in Deno's native RSA, the same code that serves
 *   `sign`: no BigInt arithmetic in JavaScript touches the private key.
 * - digest, verify: `publicEncrypt` with `RSA_NO_PADDING` is RSAVP1 (s^e mod n);
 *   the encoded message is then checked as RFC 8017 §8.1.2 / §8.2.2 say (PKCS#1
 *   v1.5 by comparing the whole encoding). Deno checks neither the length nor
 *   s < n there, so both are checked here first.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/asymmetric-key-specs.html#key-spec-rsa-sign
 * @module
 */
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  privateDecrypt,
  privateEncrypt,
  publicEncrypt,
  sign,
  verify,
} from "node:crypto";
import { randomBytes } from "./random.ts";

/** The RSA signing algorithms of AWS `SigningAlgorithmSpec`. */
export type RsaSigningAlgorithm =
  | "RSASSA_PSS_SHA_256"
  | "RSASSA_PSS_SHA_384"
  | "RSASSA_PSS_SHA_512"
  | "RSASSA_PKCS1_V1_5_SHA_256"
  | "RSASSA_PKCS1_V1_5_SHA_384"
  | "RSASSA_PKCS1_V1_5_SHA_512";

interface Scheme {
  readonly pss: boolean;
  readonly hash: "sha256" | "sha384" | "sha512";
  readonly hashBytes: number;
  /** DER of DigestInfo up to the digest itself (RFC 8017 §9.2, note 1). */
  readonly digestInfoPrefix: Uint8Array;
}

const SHA256_PREFIX = Uint8Array.fromHex("3031300d060960864801650304020105000420");
const SHA384_PREFIX = Uint8Array.fromHex("3041300d060960864801650304020205000430");
const SHA512_PREFIX = Uint8Array.fromHex("3051300d060960864801650304020305000440");

const SCHEMES: Readonly<Record<RsaSigningAlgorithm, Scheme>> = {
  RSASSA_PSS_SHA_256: { pss: true, hash: "sha256", hashBytes: 32, digestInfoPrefix: SHA256_PREFIX },
  RSASSA_PSS_SHA_384: { pss: true, hash: "sha384", hashBytes: 48, digestInfoPrefix: SHA384_PREFIX },
  RSASSA_PSS_SHA_512: { pss: true, hash: "sha512", hashBytes: 64, digestInfoPrefix: SHA512_PREFIX },
  RSASSA_PKCS1_V1_5_SHA_256: {
    pss: false,
    hash: "sha256",
    hashBytes: 32,
    digestInfoPrefix: SHA256_PREFIX,
  },
  RSASSA_PKCS1_V1_5_SHA_384: {
    pss: false,
    hash: "sha384",
    hashBytes: 48,
    digestInfoPrefix: SHA384_PREFIX,
  },
  RSASSA_PKCS1_V1_5_SHA_512: {
    pss: false,
    hash: "sha512",
    hashBytes: 64,
    digestInfoPrefix: SHA512_PREFIX,
  },
};

/** Digest length in bytes that `algorithm` expects for a pre-hashed message. */
export function rsaDigestBytes(algorithm: RsaSigningAlgorithm): number {
  return SCHEMES[algorithm].hashBytes;
}

/** An RSA private key ready to sign. */
export class RsaSigningKey {
  readonly #key: KeyObject;
  readonly #modulusBits: number;

  private constructor(key: KeyObject, modulusBits: number) {
    this.#key = key;
    this.#modulusBits = modulusBits;
  }

  /**
   * Imports a PKCS#8 RSA private key of exactly `modulusBits` bits.
   * @throws {TypeError} when the DER is not such a key.
   */
  static fromPkcs8(pkcs8: Uint8Array, modulusBits: number): RsaSigningKey {
    const key = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
    checkRsaKey(key, modulusBits);
    return new RsaSigningKey(key, modulusBits);
  }

  /** Signs `message`, hashing it with the algorithm's hash (RFC 8017 §8.1.1, §8.2.1). */
  signMessage(algorithm: RsaSigningAlgorithm, message: Uint8Array): Uint8Array {
    const scheme = SCHEMES[algorithm];
    const signature = sign(scheme.hash, message, this.#signOptions(scheme));
    return toBytes(signature);
  }

  /**
   * Signs a digest the caller computed with the algorithm's hash.
   * @throws {RangeError} when the digest length is not the hash length.
   */
  signDigest(algorithm: RsaSigningAlgorithm, digest: Uint8Array): Uint8Array {
    const scheme = SCHEMES[algorithm];
    checkDigestLength(scheme, digest);
    if (!scheme.pss) {
      const digestInfo = concat(scheme.digestInfoPrefix, digest);
      const options = { key: this.#key, padding: constants.RSA_PKCS1_PADDING };
      return toBytes(privateEncrypt(options, digestInfo));
    }
    const encoded = emsaPssEncode(scheme, digest, this.#modulusBits - 1);
    const block = leftPad(encoded, modulusBytes(this.#modulusBits));
    return toBytes(privateDecrypt({ key: this.#key, padding: constants.RSA_NO_PADDING }, block));
  }

  #signOptions(scheme: Scheme) {
    if (!scheme.pss) return { key: this.#key, padding: constants.RSA_PKCS1_PADDING };
    return {
      key: this.#key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: scheme.hashBytes,
    };
  }
}

/** An RSA public key ready to verify. */
export class RsaVerifyingKey {
  readonly #key: KeyObject;
  readonly #modulusBits: number;
  readonly #modulus: Uint8Array;

  private constructor(key: KeyObject, modulusBits: number, modulus: Uint8Array) {
    this.#key = key;
    this.#modulusBits = modulusBits;
    this.#modulus = modulus;
  }

  /**
   * Imports an RSA SubjectPublicKeyInfo of exactly `modulusBits` bits.
   * @throws {TypeError} when the DER is not such a key.
   */
  static fromSpki(spki: Uint8Array, modulusBits: number): RsaVerifyingKey {
    const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    checkRsaKey(key, modulusBits);
    const { n } = key.export({ format: "jwk" });
    if (typeof n !== "string") throw new TypeError("RSA public key has no modulus");
    const modulus = Uint8Array.fromBase64(n, { alphabet: "base64url" });
    return new RsaVerifyingKey(key, modulusBits, leftPad(modulus, modulusBytes(modulusBits)));
  }

  /** Whether `signature` signs `message`; malformed signatures give false. */
  verifyMessage(algorithm: RsaSigningAlgorithm, message: Uint8Array, signature: Uint8Array) {
    const scheme = SCHEMES[algorithm];
    const options = scheme.pss
      ? { key: this.#key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.hashBytes }
      : { key: this.#key, padding: constants.RSA_PKCS1_PADDING };
    try {
      return verify(scheme.hash, message, options, signature);
    } catch {
      return false;
    }
  }

  /**
   * Whether `signature` signs `digest`, a digest computed with the algorithm's hash.
   * @throws {RangeError} when the digest length is not the hash length.
   */
  verifyDigest(algorithm: RsaSigningAlgorithm, digest: Uint8Array, signature: Uint8Array) {
    const scheme = SCHEMES[algorithm];
    checkDigestLength(scheme, digest);
    const block = this.#rsavp1(signature);
    if (block === undefined) return false;
    if (!scheme.pss) {
      return bytesEqual(block, emsaPkcs1v15Encode(scheme, digest, block.length));
    }
    return emsaPssVerify(scheme, digest, block, this.#modulusBits - 1);
  }

  /** RSAVP1 (RFC 8017 §5.2.2) as a k-byte block, or undefined when s is out of range. */
  #rsavp1(signature: Uint8Array): Uint8Array | undefined {
    const k = this.#modulus.length;
    if (signature.length !== k || compareBytes(signature, this.#modulus) >= 0) return undefined;
    const options = { key: this.#key, padding: constants.RSA_NO_PADDING };
    const block = toBytes(publicEncrypt(options, signature));
    return block.length === k ? block : undefined;
  }
}

function checkRsaKey(key: KeyObject, modulusBits: number): void {
  if (key.asymmetricKeyType !== "rsa") throw new TypeError("not an RSA key");
  if (key.asymmetricKeyDetails?.modulusLength !== modulusBits) {
    throw new TypeError(`RSA key is not ${modulusBits} bits`);
  }
}

function checkDigestLength(scheme: Scheme, digest: Uint8Array): void {
  if (digest.length !== scheme.hashBytes) {
    throw new RangeError(`digest must be ${scheme.hashBytes} bytes`);
  }
}

/** EMSA-PKCS1-v1_5 of a digest: 00 01 FF..FF 00 DigestInfo (RFC 8017 §9.2, steps 2-5). */
function emsaPkcs1v15Encode(scheme: Scheme, digest: Uint8Array, length: number): Uint8Array {
  const digestInfo = concat(scheme.digestInfoPrefix, digest);
  const encoded = new Uint8Array(length).fill(0xff);
  encoded[0] = 0x00;
  encoded[1] = 0x01;
  encoded[length - digestInfo.length - 1] = 0x00;
  encoded.set(digestInfo, length - digestInfo.length);
  return encoded;
}

/** EMSA-PSS-ENCODE with a random salt as long as the hash (RFC 8017 §9.1.1). */
function emsaPssEncode(scheme: Scheme, digest: Uint8Array, emBits: number): Uint8Array {
  const hLen = scheme.hashBytes;
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(hLen);
  const h = pssHash(scheme, digest, salt);
  const db = new Uint8Array(emLen - hLen - 1);
  db[db.length - hLen - 1] = 0x01;
  db.set(salt, db.length - hLen);
  xorInPlace(db, mgf1(scheme, h, db.length));
  db[0] = db[0]! & (0xff >> (8 * emLen - emBits));
  return concat(db, h, Uint8Array.of(0xbc));
}

/** EMSA-PSS-VERIFY with the salt as long as the hash (RFC 8017 §9.1.2), on a k-byte block. */
function emsaPssVerify(scheme: Scheme, digest: Uint8Array, block: Uint8Array, emBits: number) {
  const hLen = scheme.hashBytes;
  const emLen = Math.ceil(emBits / 8);
  const leading = block.subarray(0, block.length - emLen);
  if (leading.some((byte) => byte !== 0)) return false;
  const em = block.subarray(block.length - emLen);
  if (emLen < 2 * hLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const topMask = 0xff << (8 - (8 * emLen - emBits)) & 0xff;
  if ((em[0]! & topMask) !== 0) return false;
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const db = em.slice(0, emLen - hLen - 1);
  xorInPlace(db, mgf1(scheme, h, db.length));
  db[0] = db[0]! & ~topMask;
  const separator = db.length - hLen - 1;
  if (db.subarray(0, separator).some((byte) => byte !== 0) || db[separator] !== 0x01) return false;
  return bytesEqual(pssHash(scheme, digest, db.subarray(separator + 1)), h);
}

/** H = Hash(00 x 8 || mHash || salt) (RFC 8017 §9.1.1 steps 5-6). */
function pssHash(scheme: Scheme, digest: Uint8Array, salt: Uint8Array): Uint8Array {
  const hash = createHash(scheme.hash).update(new Uint8Array(8)).update(digest).update(salt);
  return toBytes(hash.digest());
}

/** MGF1 with the scheme's hash (RFC 8017 §B.2.1). */
function mgf1(scheme: Scheme, seed: Uint8Array, length: number): Uint8Array {
  const mask = new Uint8Array(Math.ceil(length / scheme.hashBytes) * scheme.hashBytes);
  const counter = new Uint8Array(4);
  for (let i = 0; i * scheme.hashBytes < length; i++) {
    new DataView(counter.buffer).setUint32(0, i);
    mask.set(createHash(scheme.hash).update(seed).update(counter).digest(), i * scheme.hashBytes);
  }
  return mask.subarray(0, length);
}

function modulusBytes(modulusBits: number): number {
  return Math.ceil(modulusBits / 8);
}

function xorInPlace(target: Uint8Array, mask: Uint8Array): void {
  for (let i = 0; i < target.length; i++) target[i] = target[i]! ^ mask[i]!;
}

function leftPad(bytes: Uint8Array, length: number): Uint8Array {
  if (bytes.length >= length) return bytes;
  const padded = new Uint8Array(length);
  padded.set(bytes, length - bytes.length);
  return padded;
}

/** Big-endian comparison of two equally long unsigned integers. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return 0;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function toBytes(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
