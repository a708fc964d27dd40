/**
 * ECDSA for AWS KMS on P-256/SHA-256, P-384/SHA-384, P-521/SHA-512 and
 * secp256k1/SHA-256 (FIPS 186-5 §6, SEC 1 §4.1), over a message or over a
 * digest the caller computed. Signatures are DER `SEQUENCE { r, s }` (RFC 3279
 * §2.2.3), as AWS returns them, and `verify` accepts DER only.
 *
 * Engines:
 * - signing: `@noble/curves` with `prehash: false` (RFC 6979 nonces hedged
 *   with fresh randomness), a message being hashed first. Neither WebCrypto
 *   nor `node:crypto` signs a given digest, and since any caller allowed to
 *   sign may choose DIGEST, a native engine for messages would not narrow
 *   the timing surface; noble is also faster here (P-256: 4050 against 2050
 *   signatures/s for `node:crypto`, P-521: 1500 against 700).
 * - verification of messages on the NIST curves: `node:crypto` `verify` with
 *   `dsaEncoding: "der"` (P-256: 2240 against 1390 verifications/s for noble).
 * - verification of digests, and all of secp256k1: noble, whose DER parser is
 *   strict; Deno's `node:crypto` secp256k1 rejects high-S signatures, which
 *   AWS accepts. Every Wycheproof case passes on both verification paths.
 *
 * Low S: AWS neither produces nor requires low-S signatures, so signing does
 * not normalise `s` (`lowS: false`: about half the signatures have a high s)
 * and `verify` accepts both halves.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/asymmetric-key-specs.html#key-spec-ecc
 * @module
 */
import { createHash, createPublicKey, type KeyObject, verify } from "node:crypto";
import { p256, p384, p521 } from "@noble/curves/nist.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { decodePkcs8, EC_CURVES, type EcCurve, parseSpki } from "./key_encoding.ts";

/** The curves AWS signs with ECDSA. */
export type EcdsaCurve = Exclude<EcCurve, "SM2">;

interface CurveProfile {
  /** The one hash AWS pairs with the curve. */
  readonly hash: "sha256" | "sha384" | "sha512";
  readonly hashBytes: number;
  readonly noble: typeof p256;
  /** Whether messages are verified by `node:crypto`. */
  readonly nativeVerify: boolean;
}

const PROFILES: Readonly<Record<EcdsaCurve, CurveProfile>> = {
  "P-256": { hash: "sha256", hashBytes: 32, noble: p256, nativeVerify: true },
  "P-384": { hash: "sha384", hashBytes: 48, noble: p384, nativeVerify: true },
  "P-521": { hash: "sha512", hashBytes: 64, noble: p521, nativeVerify: true },
  "secp256k1": { hash: "sha256", hashBytes: 32, noble: secp256k1, nativeVerify: false },
};

const NOBLE_SIGN = { prehash: false, lowS: false, format: "der", extraEntropy: true } as const;
const NOBLE_VERIFY = { prehash: false, lowS: false, format: "der" } as const;

/** Digest length in bytes that ECDSA on `curve` expects for a pre-hashed message. */
export function ecdsaDigestBytes(curve: EcdsaCurve): number {
  return PROFILES[curve].hashBytes;
}

/** An ECDSA private key ready to sign. */
export class EcdsaSigningKey {
  readonly #profile: CurveProfile;
  readonly #scalar: Uint8Array;

  private constructor(profile: CurveProfile, scalar: Uint8Array) {
    this.#profile = profile;
    this.#scalar = scalar;
  }

  /**
   * Imports a PKCS#8 EC private key on `curve`.
   * @throws {TypeError} when the DER is not a private key on that curve.
   */
  static fromPkcs8(curve: EcdsaCurve, pkcs8: Uint8Array): EcdsaSigningKey {
    const key = decodePkcs8(pkcs8);
    if (key.type !== "EC" || key.curve !== curve) throw new TypeError(`not a ${curve} key`);
    const scalar = leftPad(key.scalar.expose(), EC_CURVES[curve].scalarBytes);
    key.scalar.wipe();
    const profile = PROFILES[curve];
    if (!profile.noble.utils.isValidSecretKey(scalar)) throw new TypeError(`not a ${curve} key`);
    return new EcdsaSigningKey(profile, scalar);
  }

  /** DER signature of `message`, hashed with the curve's hash. */
  signMessage(message: Uint8Array): Uint8Array {
    return this.signDigest(digestOf(this.#profile, message));
  }

  /**
   * DER signature of a digest computed with the curve's hash.
   * @throws {RangeError} when the digest length is not the hash length.
   */
  signDigest(digest: Uint8Array): Uint8Array {
    checkDigestLength(this.#profile, digest);
    return this.#profile.noble.sign(digest, this.#scalar, NOBLE_SIGN);
  }
}

/** An ECDSA public key ready to verify. */
export class EcdsaVerifyingKey {
  readonly #profile: CurveProfile;
  readonly #point: Uint8Array;
  readonly #native: KeyObject | undefined;

  private constructor(profile: CurveProfile, point: Uint8Array, native: KeyObject | undefined) {
    this.#profile = profile;
    this.#point = point;
    this.#native = native;
  }

  /**
   * Imports an EC SubjectPublicKeyInfo on `curve`.
   * @throws {TypeError} when the DER is not a public key on that curve.
   */
  static fromSpki(curve: EcdsaCurve, spki: Uint8Array): EcdsaVerifyingKey {
    const key = parseSpki(spki);
    if (key.type !== "EC" || key.curve !== curve) throw new TypeError(`not a ${curve} key`);
    const profile = PROFILES[curve];
    profile.noble.Point.fromBytes(key.point).assertValidity();
    const native = profile.nativeVerify
      ? createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" })
      : undefined;
    return new EcdsaVerifyingKey(profile, key.point, native);
  }

  /** Whether the DER `signature` signs `message`; malformed signatures give false. */
  verifyMessage(message: Uint8Array, signature: Uint8Array): boolean {
    if (this.#native === undefined) {
      return this.verifyDigest(digestOf(this.#profile, message), signature);
    }
    try {
      return verify(
        this.#profile.hash,
        message,
        { key: this.#native, dsaEncoding: "der" },
        signature,
      );
    } catch {
      return false;
    }
  }

  /**
   * Whether the DER `signature` signs `digest`; malformed signatures give false.
   * @throws {RangeError} when the digest length is not the hash length.
   */
  verifyDigest(digest: Uint8Array, signature: Uint8Array): boolean {
    checkDigestLength(this.#profile, digest);
    try {
      return this.#profile.noble.verify(signature, digest, this.#point, NOBLE_VERIFY);
    } catch {
      return false;
    }
  }
}

function digestOf(profile: CurveProfile, message: Uint8Array): Uint8Array {
  return toBytes(createHash(profile.hash).update(message).digest());
}

function checkDigestLength(profile: CurveProfile, digest: Uint8Array): void {
  if (digest.length !== profile.hashBytes) {
    throw new RangeError(`digest must be ${profile.hashBytes} bytes`);
  }
}

function leftPad(bytes: Uint8Array, length: number): Uint8Array {
  const padded = new Uint8Array(length);
  padded.set(bytes, length - bytes.length);
  return padded;
}

function toBytes(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
