/**
 * Signing and verification for AWS KMS `Sign` and `Verify`: which signing
 * algorithms and message types each key spec takes, the request checks AWS
 * makes before any cryptography, and one imported key object per key that the
 * caller caches. The per-family engines live in `rsa.ts`, `ecdsa.ts`,
 * `ed25519.ts`, `ml_dsa.ts` and `sm2.ts`.
 *
 * SM2DSA (SM2 keys, China Regions in AWS) signs e = SM3(Z_A || M) with AWS's
 * default distinguishing ID `1234567812345678` in Z_A. With `MessageType: RAW`
 * the message is M and e is computed here; with DIGEST the message is the
 * caller's 32-byte e itself, as AWS's "Offline verification with SM2 key pairs"
 * prescribes. Signatures are DER `SEQUENCE { r, s }`, as OpenSSL 3 writes them.
 *
 * Checks, in this order and before the key is used (the texts of the first and
 * of the DIGEST length are AWS's; the others follow their pattern):
 * 1. the algorithm belongs to the key spec, else `InvalidKeyUsageException`
 *    "Algorithm X is incompatible with key spec Y.";
 * 2. the message type suits the algorithm (ED25519_SHA_512 takes RAW only,
 *    ED25519_PH_SHA_512 DIGEST only, ML_DSA_SHAKE_256 RAW or EXTERNAL_MU, the
 *    rest RAW or DIGEST), else `ValidationException`;
 * 3. a DIGEST is exactly as long as the algorithm's hash and an EXTERNAL_MU
 *    is 64 bytes, else `ValidationException`.
 * The 0..4096-byte bound on Message is the request schema's.
 *
 * `verify` answers false for a signature that does not verify, including
 * malformed signature bytes; the operation maps false to
 * `KMSInvalidSignatureException`.
 *
 * Every operation but Ed25519's (`OFFLOADED`) runs in the process-wide worker
 * pool of `crypto_workers.ts`, whose module doc has the measurements (a round
 * trip costs the main thread less than the cheapest of them, RSA_2048 verify;
 * Ed25519 costs less than the round trip); the checks above still run here first, and the key is
 * imported in the worker (an invalid key rejects the import all the same).
 * With a pool of size 0, or one whose workers cannot start, everything runs
 * in-process.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_Verify.html
 * @module
 */
import { InvalidKeyUsageException, ValidationException } from "../errors.ts";
import { KEY_SPECS } from "../key_spec.ts";
import type { SecretBytes } from "../secret.ts";
import {
  type CryptoWorkerPool,
  cryptoWorkers,
  type KeyHandle,
  type KeyKind,
} from "./crypto_workers.ts";
import { type EcdsaCurve, EcdsaSigningKey, EcdsaVerifyingKey } from "./ecdsa.ts";
import { parseSpki } from "./key_encoding.ts";
import { Ed25519SigningKey, Ed25519VerifyingKey } from "./ed25519.ts";
import {
  ML_DSA_MU_BYTES,
  type MlDsaParameterSet,
  MlDsaSigningKey,
  MlDsaVerifyingKey,
} from "./ml_dsa.ts";
import { type RsaSigningAlgorithm, RsaSigningKey, RsaVerifyingKey } from "./rsa.ts";
import { sm2Digest, sm2KeyOfPkcs8, sm2SignDigest, sm2Verify, sm2VerifyDigest } from "./sm2.ts";
import type { MessageType, SigningAlgorithmSpec, SigningKeySpec } from "./signing_specs.ts";

export type { MessageType, SigningAlgorithmSpec, SigningKeySpec } from "./signing_specs.ts";

/**
 * The signing algorithms of each key spec, in DescribeKey's `SigningAlgorithms` order: the
 * SIGN_VERIFY row of the key-spec table (core/key_spec.ts), the one home of that rule.
 */
export const SIGNING_ALGORITHMS: Readonly<Record<SigningKeySpec, readonly SigningAlgorithmSpec[]>> =
  Object.freeze(
    Object.fromEntries(
      Object.entries(KEY_SPECS).flatMap(([spec, info]) => {
        const algorithms = info.usages.SIGN_VERIFY?.signingAlgorithms;
        return algorithms === undefined ? [] : [[spec, algorithms as SigningAlgorithmSpec[]]];
      }),
    ) as unknown as Record<SigningKeySpec, readonly SigningAlgorithmSpec[]>,
  );

/** Message types an algorithm takes, and the exact length of a non-RAW message. */
interface MessageRule {
  readonly types: readonly MessageType[];
  readonly fixedBytes?: number;
}

const RAW_OR_DIGEST = (bytes: number): MessageRule => ({
  types: ["RAW", "DIGEST"],
  fixedBytes: bytes,
});

const MESSAGE_RULES: Readonly<Record<SigningAlgorithmSpec, MessageRule>> = {
  RSASSA_PSS_SHA_256: RAW_OR_DIGEST(32),
  RSASSA_PSS_SHA_384: RAW_OR_DIGEST(48),
  RSASSA_PSS_SHA_512: RAW_OR_DIGEST(64),
  RSASSA_PKCS1_V1_5_SHA_256: RAW_OR_DIGEST(32),
  RSASSA_PKCS1_V1_5_SHA_384: RAW_OR_DIGEST(48),
  RSASSA_PKCS1_V1_5_SHA_512: RAW_OR_DIGEST(64),
  ECDSA_SHA_256: RAW_OR_DIGEST(32),
  ECDSA_SHA_384: RAW_OR_DIGEST(48),
  ECDSA_SHA_512: RAW_OR_DIGEST(64),
  SM2DSA: RAW_OR_DIGEST(32),
  ED25519_SHA_512: { types: ["RAW"] },
  ED25519_PH_SHA_512: { types: ["DIGEST"], fixedBytes: 64 },
  ML_DSA_SHAKE_256: { types: ["RAW", "EXTERNAL_MU"], fixedBytes: ML_DSA_MU_BYTES },
};

/** An imported private key; cache it per key material version. */
export interface SigningKey {
  readonly keySpec: SigningKeySpec;
  /**
   * Signs `message` as AWS `Sign` does: ECDSA signatures are DER, the others raw.
   * @throws {InvalidKeyUsageException} when the algorithm does not belong to the key spec.
   * @throws {ValidationException} when the message type or the digest length does not suit it.
   */
  sign(
    algorithm: SigningAlgorithmSpec,
    message: Uint8Array,
    messageType: MessageType,
  ): Promise<Uint8Array>;
}

/** An imported public key; cache it per key material version. */
export interface VerifyingKey {
  readonly keySpec: SigningKeySpec;
  /**
   * Whether `signature` signs `message` as AWS `Verify` decides; false, never a throw, for
   * a wrong or malformed signature.
   * @throws {InvalidKeyUsageException} when the algorithm does not belong to the key spec.
   * @throws {ValidationException} when the message type or the digest length does not suit it.
   */
  verify(
    algorithm: SigningAlgorithmSpec,
    message: Uint8Array,
    messageType: MessageType,
    signature: Uint8Array,
  ): Promise<boolean>;
}

/** How one key signs after the checks: `prehashed` is true for DIGEST and EXTERNAL_MU. */
export type SignEngine = (
  algorithm: SigningAlgorithmSpec,
  message: Uint8Array,
  prehashed: boolean,
) => Uint8Array;
/** How one key verifies after the checks; false for a wrong or malformed signature. */
export type VerifyEngine = (
  algorithm: SigningAlgorithmSpec,
  message: Uint8Array,
  prehashed: boolean,
  signature: Uint8Array,
) => boolean;

/** Which operations of a key spec run in the crypto worker pool (measurements: `crypto_workers.ts`). */
export const OFFLOADED: Readonly<Record<SigningKeySpec, { sign: boolean; verify: boolean }>> =
  Object.freeze({
    RSA_2048: { sign: true, verify: true },
    RSA_3072: { sign: true, verify: true },
    RSA_4096: { sign: true, verify: true },
    ECC_NIST_P256: { sign: true, verify: true },
    ECC_NIST_P384: { sign: true, verify: true },
    ECC_NIST_P521: { sign: true, verify: true },
    ECC_SECG_P256K1: { sign: true, verify: true },
    ECC_NIST_EDWARDS25519: { sign: false, verify: false },
    SM2: { sign: true, verify: true },
    ML_DSA_44: { sign: true, verify: true },
    ML_DSA_65: { sign: true, verify: true },
    ML_DSA_87: { sign: true, verify: true },
  });

/**
 * Imports a DER PKCS#8 private key of `keySpec`; the bytes are read, not kept (a worker pool
 * that signs for the key keeps its own copy until the key object is garbage collected).
 * @throws {TypeError} when the DER is not a key of that spec.
 */
export async function importSigningKey(
  keySpec: SigningKeySpec,
  pkcs8: SecretBytes,
): Promise<SigningKey> {
  const pool = cryptoWorkers();
  if (OFFLOADED[keySpec].sign && pool.available) {
    const handle = await registerOrFallBack(pool, "signing", keySpec, pkcs8.expose());
    if (handle !== undefined) {
      return signingKey(
        keySpec,
        (algorithm, message, prehashed) => pool.sign(handle, { algorithm, message, prehashed }),
      );
    }
  }
  const engine = importSigningEngine(keySpec, pkcs8.expose());
  return signingKey(
    keySpec,
    (algorithm, message, prehashed) => settle(() => engine(algorithm, message, prehashed)),
  );
}

/**
 * Imports a DER SubjectPublicKeyInfo of `keySpec`.
 * @throws {TypeError} when the DER is not a key of that spec.
 */
export async function importVerifyingKey(
  keySpec: SigningKeySpec,
  spki: Uint8Array,
): Promise<VerifyingKey> {
  const pool = cryptoWorkers();
  if (OFFLOADED[keySpec].verify && pool.available) {
    const handle = await registerOrFallBack(pool, "verifying", keySpec, spki);
    if (handle !== undefined) {
      return verifyingKey(
        keySpec,
        (algorithm, message, prehashed, signature) =>
          pool.verify(handle, { algorithm, message, prehashed, signature }),
      );
    }
  }
  const engine = importVerifyingEngine(keySpec, spki);
  return verifyingKey(
    keySpec,
    (algorithm, message, prehashed, signature) =>
      settle(() => engine(algorithm, message, prehashed, signature)),
  );
}

/**
 * The key's handle in `pool`, or undefined when the pool turned out unavailable (its workers
 * cannot start), so that the caller imports the key in-process instead.
 * @throws {TypeError} when the DER is not a key of that spec.
 */
async function registerOrFallBack(
  pool: CryptoWorkerPool,
  kind: KeyKind,
  keySpec: SigningKeySpec,
  der: Uint8Array,
): Promise<KeyHandle | undefined> {
  try {
    return await pool.register(kind, keySpec, der);
  } catch (error) {
    if (pool.available) throw error;
    return undefined;
  }
}

/**
 * The synchronous signing engine of a DER PKCS#8 key, as `importSigningKey` and the crypto
 * worker use it; no request checks.
 * @throws {TypeError} when the DER is not a key of that spec.
 */
export function importSigningEngine(keySpec: SigningKeySpec, pkcs8: Uint8Array): SignEngine {
  return FAMILIES[keySpec].signer(pkcs8);
}

/**
 * The synchronous verifying engine of a DER SPKI key; no request checks.
 * @throws {TypeError} when the DER is not a key of that spec.
 */
export function importVerifyingEngine(keySpec: SigningKeySpec, spki: Uint8Array): VerifyEngine {
  return FAMILIES[keySpec].verifier(spki);
}

/** A `SigningKey` that checks each request, then hands it to `sign`. */
function signingKey(
  keySpec: SigningKeySpec,
  sign: (
    algorithm: SigningAlgorithmSpec,
    message: Uint8Array,
    prehashed: boolean,
  ) => Promise<Uint8Array>,
): SigningKey {
  return {
    keySpec,
    sign(algorithm, message, messageType) {
      try {
        checkRequest(keySpec, algorithm, message, messageType);
      } catch (error) {
        return Promise.reject(error);
      }
      return sign(algorithm, message, messageType !== "RAW");
    },
  };
}

/** A `VerifyingKey` that checks each request, then hands it to `verify`. */
function verifyingKey(
  keySpec: SigningKeySpec,
  verify: (
    algorithm: SigningAlgorithmSpec,
    message: Uint8Array,
    prehashed: boolean,
    signature: Uint8Array,
  ) => Promise<boolean>,
): VerifyingKey {
  return {
    keySpec,
    verify(algorithm, message, messageType, signature) {
      try {
        checkRequest(keySpec, algorithm, message, messageType);
      } catch (error) {
        return Promise.reject(error);
      }
      return verify(algorithm, message, messageType !== "RAW", signature);
    },
  };
}

/**
 * AWS's checks of a Sign or Verify request against the key spec, before any cryptography.
 * @throws {InvalidKeyUsageException} when the algorithm does not belong to the key spec.
 * @throws {ValidationException} when the message type or the digest length does not suit it.
 */
export function checkRequest(
  keySpec: SigningKeySpec,
  algorithm: SigningAlgorithmSpec,
  message: Uint8Array,
  messageType: MessageType,
): void {
  const algorithms = SIGNING_ALGORITHMS[keySpec];
  if (!algorithms.includes(algorithm)) {
    throw new InvalidKeyUsageException(
      `Algorithm ${algorithm} is incompatible with key spec ${keySpec}.`,
    );
  }
  const rule = MESSAGE_RULES[algorithm];
  if (!rule.types.includes(messageType)) {
    const specTakesIt = algorithms.some((other) =>
      MESSAGE_RULES[other].types.includes(messageType)
    );
    throw new ValidationException(
      specTakesIt
        ? `Message type ${messageType} is incompatible with algorithm ${algorithm}.`
        : `Message type ${messageType} is incompatible with key spec ${keySpec}.`,
    );
  }
  if (messageType !== "RAW" && message.length !== rule.fixedBytes) {
    throw new ValidationException(
      messageType === "DIGEST"
        ? `Digest is invalid length for algorithm ${algorithm}.`
        : `External Mu is invalid length for algorithm ${algorithm}.`,
    );
  }
}

/** The result of synchronous work as a promise, a throw becoming a rejection. */
function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** How to import one key spec's keys into engines. */
interface Family {
  signer(pkcs8: Uint8Array): SignEngine;
  verifier(spki: Uint8Array): VerifyEngine;
}

function rsaFamily(modulusBits: number): Family {
  return {
    signer(pkcs8) {
      const key = RsaSigningKey.fromPkcs8(pkcs8, modulusBits);
      return (algorithm, message, prehashed) => {
        const rsa = algorithm as RsaSigningAlgorithm;
        return prehashed ? key.signDigest(rsa, message) : key.signMessage(rsa, message);
      };
    },
    verifier(spki) {
      const key = RsaVerifyingKey.fromSpki(spki, modulusBits);
      return (algorithm, message, prehashed, signature) => {
        const rsa = algorithm as RsaSigningAlgorithm;
        return prehashed
          ? key.verifyDigest(rsa, message, signature)
          : key.verifyMessage(rsa, message, signature);
      };
    },
  };
}

function ecdsaFamily(curve: EcdsaCurve): Family {
  return {
    signer(pkcs8) {
      const key = EcdsaSigningKey.fromPkcs8(curve, pkcs8);
      return (_, message, prehashed) =>
        prehashed ? key.signDigest(message) : key.signMessage(message);
    },
    verifier(spki) {
      const key = EcdsaVerifyingKey.fromSpki(curve, spki);
      return (_, message, prehashed, signature) =>
        prehashed ? key.verifyDigest(message, signature) : key.verifyMessage(message, signature);
    },
  };
}

/** Ed25519: the only prehashed algorithm of the spec is ED25519_PH_SHA_512. */
const ED25519_FAMILY: Family = {
  signer(pkcs8) {
    const key = Ed25519SigningKey.fromPkcs8(pkcs8);
    return (_, message, prehashed) => prehashed ? key.signPrehashed(message) : key.sign(message);
  },
  verifier(spki) {
    const key = Ed25519VerifyingKey.fromSpki(spki);
    return (_, message, prehashed, signature) =>
      prehashed ? key.verifyPrehashed(message, signature) : key.verify(message, signature);
  },
};

/** ML-DSA: the only prehashed message type of the spec is EXTERNAL_MU. */
function mlDsaFamily(parameterSet: MlDsaParameterSet): Family {
  return {
    signer(pkcs8) {
      const key = MlDsaSigningKey.fromPkcs8(parameterSet, pkcs8);
      return (_, message, prehashed) => prehashed ? key.signMu(message) : key.sign(message);
    },
    verifier(spki) {
      const key = MlDsaVerifyingKey.fromSpki(parameterSet, spki);
      return (_, message, prehashed, signature) =>
        prehashed ? key.verifyMu(message, signature) : key.verify(message, signature);
    },
  };
}

/**
 * SM2DSA with SM3 and the default distinguishing ID; a DIGEST message is e = SM3(Z_A || M).
 * The public point is kept to compute Z_A once per message instead of deriving it from d.
 */
const SM2_FAMILY: Family = {
  signer(pkcs8) {
    const { scalar, point } = sm2KeyOfPkcs8(pkcs8);
    return (_, message, prehashed) =>
      sm2SignDigest(scalar, prehashed ? message : sm2Digest(point, message));
  },
  verifier(spki) {
    const key = parseSpki(spki);
    if (key.type !== "EC" || key.curve !== "SM2") throw new TypeError("not an SM2 key");
    const point = key.point;
    return (_, message, prehashed, signature) =>
      prehashed ? sm2VerifyDigest(point, message, signature) : sm2Verify(point, message, signature);
  },
};

const FAMILIES: Readonly<Record<SigningKeySpec, Family>> = {
  RSA_2048: rsaFamily(2048),
  RSA_3072: rsaFamily(3072),
  RSA_4096: rsaFamily(4096),
  ECC_NIST_P256: ecdsaFamily("P-256"),
  ECC_NIST_P384: ecdsaFamily("P-384"),
  ECC_NIST_P521: ecdsaFamily("P-521"),
  ECC_SECG_P256K1: ecdsaFamily("secp256k1"),
  ECC_NIST_EDWARDS25519: ED25519_FAMILY,
  SM2: SM2_FAMILY,
  ML_DSA_44: mlDsaFamily("ML-DSA-44"),
  ML_DSA_65: mlDsaFamily("ML-DSA-65"),
  ML_DSA_87: mlDsaFamily("ML-DSA-87"),
};
