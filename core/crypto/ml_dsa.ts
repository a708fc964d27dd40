/**
 * ML-DSA-44/65/87 for AWS KMS (FIPS 204) on `@noble/post-quantum`: pure
 * ML-DSA with an empty context over a message (MessageType RAW, Algorithm 2),
 * and over a caller-computed 64-byte message representative μ (EXTERNAL_MU,
 * FIPS 204 §6.2: μ = SHAKE256(SHAKE256(pk, 64) || 0x00 || 0x00 || M, 64)).
 * Both produce the same signatures for the same message; this is not
 * HashML-DSA (§5.4). Signing is hedged (fresh randomness), as FIPS 204
 * recommends; a given rnd exists for known-answer tests.
 *
 * Key encodings (draft-ietf-lamps-dilithium-certificates / RFC 9881): SPKI
 * with `id-ml-dsa-*` and no parameters around the raw public key; PKCS#8 whose
 * privateKey is the CHOICE `seed [0] IMPLICIT OCTET STRING (32)`,
 * `expandedKey OCTET STRING` or `both SEQUENCE { seed, expandedKey }`. A
 * `both` key must expand from its seed to its expandedKey.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/mldsa.html
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { ml_dsa44, ml_dsa65, ml_dsa87 } from "@noble/post-quantum/ml-dsa.js";
import {
  AsnConvert,
  AsnProp,
  AsnPropTypes,
  AsnType,
  AsnTypeTypes,
  OctetString,
} from "@peculiar/asn1-schema";
import { PrivateKeyInfo } from "@peculiar/asn1-pkcs8";
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import { SecretBytes } from "../secret.ts";

/** The ML-DSA parameter sets of FIPS 204 §4, Table 1. */
export type MlDsaParameterSet = "ML-DSA-44" | "ML-DSA-65" | "ML-DSA-87";

/** Length of the message representative μ (FIPS 204 §6.2). */
export const ML_DSA_MU_BYTES = 64;

const SEED_BYTES = 32;

interface ParameterProfile {
  /** `id-ml-dsa-*` (NIST CSOR, 2.16.840.1.101.3.4.3.17-19). */
  readonly oid: string;
  readonly dsa: typeof ml_dsa44;
}

const PROFILES: Readonly<Record<MlDsaParameterSet, ParameterProfile>> = {
  "ML-DSA-44": { oid: "2.16.840.1.101.3.4.3.17", dsa: ml_dsa44 },
  "ML-DSA-65": { oid: "2.16.840.1.101.3.4.3.18", dsa: ml_dsa65 },
  "ML-DSA-87": { oid: "2.16.840.1.101.3.4.3.19", dsa: ml_dsa87 },
};

/** Options of a signing call. */
export interface MlDsaSignOptions {
  /**
   * The 32-byte `rnd` of FIPS 204 Algorithm 2, for known-answer tests (all zero is the
   * deterministic variant); by default it is fresh randomness (hedged signing).
   */
  readonly rnd?: Uint8Array;
}

/** An ML-DSA private key ready to sign. */
export class MlDsaSigningKey {
  readonly #dsa: typeof ml_dsa44;
  readonly #secretKey: Uint8Array;

  private constructor(dsa: typeof ml_dsa44, secretKey: Uint8Array) {
    this.#dsa = dsa;
    this.#secretKey = secretKey;
  }

  /**
   * Imports a PKCS#8 ML-DSA private key of `parameterSet` (seed, expanded key or both).
   * @throws {TypeError} when the DER is not such a key.
   */
  static fromPkcs8(parameterSet: MlDsaParameterSet, pkcs8: Uint8Array): MlDsaSigningKey {
    const profile = PROFILES[parameterSet];
    const info = parseStrict(pkcs8, PrivateKeyInfo, "PrivateKeyInfo");
    checkAlgorithm(profile, info.privateKeyAlgorithm);
    const choice = parseStrict(new Uint8Array(info.privateKey.buffer), MlDsaPrivateKey, "key");
    return new MlDsaSigningKey(profile.dsa, expandedKeyOf(profile, choice));
  }

  /** Pure ML-DSA signature of `message` with an empty context (FIPS 204 Algorithm 2). */
  sign(message: Uint8Array, options: MlDsaSignOptions = {}): Uint8Array {
    return this.#dsa.sign(message, this.#secretKey, entropy(options));
  }

  /**
   * Signature of a 64-byte message representative μ (FIPS 204 Algorithm 7 from step 7).
   * @throws {RangeError} when μ is not 64 bytes.
   */
  signMu(mu: Uint8Array, options: MlDsaSignOptions = {}): Uint8Array {
    checkMuLength(mu);
    return this.#dsa.internal.sign(mu, this.#secretKey, { externalMu: true, ...entropy(options) });
  }
}

/** An ML-DSA public key ready to verify. */
export class MlDsaVerifyingKey {
  readonly #dsa: typeof ml_dsa44;
  readonly #publicKey: Uint8Array;

  private constructor(dsa: typeof ml_dsa44, publicKey: Uint8Array) {
    this.#dsa = dsa;
    this.#publicKey = publicKey;
  }

  /**
   * Imports an ML-DSA SubjectPublicKeyInfo of `parameterSet`.
   * @throws {TypeError} when the DER is not such a key.
   */
  static fromSpki(parameterSet: MlDsaParameterSet, spki: Uint8Array): MlDsaVerifyingKey {
    const profile = PROFILES[parameterSet];
    const info = parseStrict(spki, SubjectPublicKeyInfo, "SubjectPublicKeyInfo");
    checkAlgorithm(profile, info.algorithm);
    const publicKey = new Uint8Array(info.subjectPublicKey);
    if (publicKey.length !== profile.dsa.lengths.publicKey) {
      throw new TypeError(`${parameterSet} public key has the wrong length`);
    }
    return new MlDsaVerifyingKey(profile.dsa, publicKey);
  }

  /** Whether `signature` is a pure ML-DSA signature of `message`, empty context. */
  verify(message: Uint8Array, signature: Uint8Array): boolean {
    try {
      return this.#dsa.verify(signature, message, this.#publicKey);
    } catch {
      return false;
    }
  }

  /**
   * Whether `signature` signs the message representative μ.
   * @throws {RangeError} when μ is not 64 bytes.
   */
  verifyMu(mu: Uint8Array, signature: Uint8Array): boolean {
    checkMuLength(mu);
    try {
      return this.#dsa.internal.verify(signature, mu, this.#publicKey, { externalMu: true });
    } catch {
      return false;
    }
  }
}

/**
 * A fresh key pair of `parameterSet`: the SPKI and a PKCS#8 holding only the 32-byte seed
 * (`seed [0] IMPLICIT`, the form RFC 9881 recommends), from which everything else derives.
 */
export function generateMlDsaKeyPair(
  parameterSet: MlDsaParameterSet,
): { publicKey: Uint8Array; privateKey: SecretBytes } {
  const profile = PROFILES[parameterSet];
  const seed = crypto.getRandomValues(new Uint8Array(SEED_BYTES));
  const { publicKey, secretKey } = profile.dsa.keygen(seed);
  secretKey.fill(0);
  const choice = new MlDsaPrivateKey();
  choice.seed = seed.slice().buffer;
  const info = new PrivateKeyInfo({
    privateKeyAlgorithm: new AlgorithmIdentifier({ algorithm: profile.oid }),
    privateKey: new OctetString(AsnConvert.serialize(choice)),
  });
  const pkcs8 = new Uint8Array(AsnConvert.serialize(info));
  seed.fill(0);
  return { publicKey: encodeSpki(profile, publicKey), privateKey: new SecretBytes(pkcs8) };
}

/**
 * The SPKI of the public key that belongs to a PKCS#8 ML-DSA private key.
 * @throws {TypeError} when the DER is not such a key or has no seed.
 */
export function mlDsaPublicKeyFromPkcs8(
  parameterSet: MlDsaParameterSet,
  pkcs8: Uint8Array,
): Uint8Array {
  const profile = PROFILES[parameterSet];
  const info = parseStrict(pkcs8, PrivateKeyInfo, "PrivateKeyInfo");
  checkAlgorithm(profile, info.privateKeyAlgorithm);
  const choice = parseStrict(new Uint8Array(info.privateKey.buffer), MlDsaPrivateKey, "key");
  const seed = choice.seed ?? choice.both?.seed.buffer;
  if (seed === undefined) throw new TypeError("the ML-DSA private key carries no seed");
  const { publicKey, secretKey } = profile.dsa.keygen(new Uint8Array(seed));
  secretKey.fill(0);
  return encodeSpki(profile, publicKey);
}

function encodeSpki(profile: ParameterProfile, publicKey: Uint8Array): Uint8Array {
  const spki = new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({ algorithm: profile.oid }),
    subjectPublicKey: publicKey.slice().buffer,
  });
  return new Uint8Array(AsnConvert.serialize(spki));
}

/** `SEQUENCE { seed OCTET STRING, expandedKey OCTET STRING }`. */
class SeedAndExpandedKey {
  seed = new OctetString();
  expandedKey = new OctetString();
}
AsnType({ type: AsnTypeTypes.Sequence })(SeedAndExpandedKey);
AsnProp({ type: OctetString })(SeedAndExpandedKey.prototype, "seed");
AsnProp({ type: OctetString })(SeedAndExpandedKey.prototype, "expandedKey");

/** The ML-DSA private key CHOICE inside PKCS#8. */
class MlDsaPrivateKey {
  seed?: ArrayBuffer;
  expandedKey?: OctetString;
  both?: SeedAndExpandedKey;
}
AsnType({ type: AsnTypeTypes.Choice })(MlDsaPrivateKey);
AsnProp({ type: AsnPropTypes.OctetString, context: 0, implicit: true })(
  MlDsaPrivateKey.prototype,
  "seed",
);
AsnProp({ type: OctetString })(MlDsaPrivateKey.prototype, "expandedKey");
AsnProp({ type: SeedAndExpandedKey })(MlDsaPrivateKey.prototype, "both");

function expandedKeyOf(profile: ParameterProfile, choice: MlDsaPrivateKey): Uint8Array {
  if (choice.seed !== undefined) return expandSeed(profile, new Uint8Array(choice.seed));
  if (choice.expandedKey !== undefined) {
    return checkedExpandedKey(profile, new Uint8Array(choice.expandedKey.buffer));
  }
  if (choice.both === undefined) throw new TypeError("ML-DSA private key is empty");
  const fromSeed = expandSeed(profile, new Uint8Array(choice.both.seed.buffer));
  const given = checkedExpandedKey(profile, new Uint8Array(choice.both.expandedKey.buffer));
  if (!timingSafeEqual(fromSeed, given)) {
    throw new TypeError("ML-DSA expandedKey does not match its seed");
  }
  return fromSeed;
}

function expandSeed(profile: ParameterProfile, seed: Uint8Array): Uint8Array {
  if (seed.length !== SEED_BYTES) throw new TypeError("ML-DSA seed must be 32 bytes");
  const { secretKey } = profile.dsa.keygen(seed);
  seed.fill(0);
  return secretKey;
}

function checkedExpandedKey(profile: ParameterProfile, key: Uint8Array): Uint8Array {
  if (key.length !== profile.dsa.lengths.secretKey) {
    throw new TypeError("ML-DSA expandedKey has the wrong length");
  }
  return key;
}

function checkAlgorithm(
  profile: ParameterProfile,
  algorithm: { algorithm: string; parameters?: ArrayBuffer | null },
): void {
  if (algorithm.algorithm !== profile.oid || algorithm.parameters !== undefined) {
    throw new TypeError("not a key of the expected ML-DSA parameter set");
  }
}

function parseStrict<T>(der: Uint8Array, type: new () => T, what: string): T {
  let value: T;
  try {
    value = AsnConvert.parse(der, type);
  } catch {
    throw new TypeError(`malformed ${what}`);
  }
  const again = new Uint8Array(AsnConvert.serialize(value));
  if (again.length !== der.length || !timingSafeEqual(again, der)) {
    throw new TypeError(`${what} is not DER`);
  }
  return value;
}

function checkMuLength(mu: Uint8Array): void {
  if (mu.length !== ML_DSA_MU_BYTES) throw new RangeError("mu must be 64 bytes");
}

/** noble's `extraEntropy` is FIPS 204's rnd; left out, noble draws it from the CSPRNG. */
function entropy(options: MlDsaSignOptions): { extraEntropy?: Uint8Array } {
  return options.rnd === undefined ? {} : { extraEntropy: options.rnd };
}
