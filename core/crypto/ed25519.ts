/**
 * Ed25519 for AWS KMS (RFC 8032 §5.1, FIPS 186-5 §7): pure Ed25519 over a
 * message (ED25519_SHA_512) and Ed25519ph (ED25519_PH_SHA_512, empty context).
 *
 * AWS runs Ed25519ph with MessageType DIGEST on a 64-byte SHA-512 digest D and
 * "still performs the SHA-512 prehash" of FIPS 186-5 §7.8.1 step 1: the
 * signature is Ed25519ph with D as its message, PH(D) = SHA-512(D), so the
 * caller's data is hashed twice. `signPrehashed` and `verifyPrehashed` are
 * therefore plain RFC 8032 Ed25519ph of whatever message they are given.
 *
 * Engines: pure Ed25519 on `node:crypto` (68k signatures/s against 15k for
 * WebCrypto here); Ed25519ph on `@noble/curves`, since neither platform API
 * offers it. Both verifiers are strict RFC 8032 (noble with `zip215: false`);
 * both pass every Wycheproof Ed25519 case.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html
 * @module
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { ed25519ph } from "@noble/curves/ed25519.js";
import { decodePkcs8, parseSpki } from "./key_encoding.ts";

/** An Ed25519 private key ready to sign. */
export class Ed25519SigningKey {
  readonly #native: KeyObject;
  readonly #seed: Uint8Array;

  private constructor(native: KeyObject, seed: Uint8Array) {
    this.#native = native;
    this.#seed = seed;
  }

  /**
   * Imports a PKCS#8 Ed25519 private key (RFC 8410).
   * @throws {TypeError} when the DER is not an Ed25519 private key.
   */
  static fromPkcs8(pkcs8: Uint8Array): Ed25519SigningKey {
    const key = decodePkcs8(pkcs8);
    if (key.type !== "ED25519") throw new TypeError("not an Ed25519 key");
    const seed = key.seed.expose().slice();
    key.seed.wipe();
    const native = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
    return new Ed25519SigningKey(native, seed);
  }

  /** Pure Ed25519 signature of `message` (RFC 8032 §5.1.6). */
  sign(message: Uint8Array): Uint8Array {
    const signature = sign(null, message, this.#native);
    return new Uint8Array(signature.buffer, signature.byteOffset, signature.byteLength);
  }

  /** Ed25519ph signature of `message`, which the algorithm hashes with SHA-512 first. */
  signPrehashed(message: Uint8Array): Uint8Array {
    return ed25519ph.sign(message, this.#seed);
  }
}

/** An Ed25519 public key ready to verify. */
export class Ed25519VerifyingKey {
  readonly #native: KeyObject;
  readonly #publicKey: Uint8Array;

  private constructor(native: KeyObject, publicKey: Uint8Array) {
    this.#native = native;
    this.#publicKey = publicKey;
  }

  /**
   * Imports an Ed25519 SubjectPublicKeyInfo (RFC 8410).
   * @throws {TypeError} when the DER is not an Ed25519 public key.
   */
  static fromSpki(spki: Uint8Array): Ed25519VerifyingKey {
    const key = parseSpki(spki);
    if (key.type !== "ED25519") throw new TypeError("not an Ed25519 key");
    const native = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    return new Ed25519VerifyingKey(native, key.publicKey);
  }

  /** Whether `signature` is a pure Ed25519 signature of `message`; malformed ones give false. */
  verify(message: Uint8Array, signature: Uint8Array): boolean {
    try {
      return verify(null, message, this.#native, signature);
    } catch {
      return false;
    }
  }

  /** Whether `signature` is an Ed25519ph signature of `message`; malformed ones give false. */
  verifyPrehashed(message: Uint8Array, signature: Uint8Array): boolean {
    try {
      return ed25519ph.verify(signature, message, this.#publicKey, { zip215: false });
    } catch {
      return false;
    }
  }
}
