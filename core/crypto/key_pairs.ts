/**
 * Fresh asymmetric key pairs for every AWS `DataKeyPairSpec`, as DER: the
 * public key a SubjectPublicKeyInfo, the private key a PKCS#8 PrivateKeyInfo,
 * both in the layout OpenSSL 3 writes (see `key_encoding.ts`). Serves
 * GenerateDataKeyPair(WithoutPlaintext) and CreateKey for asymmetric keys.
 *
 * Engines, one per spec (a table, not a switch), all drawing on the CSPRNG:
 * - RSA_2048/3072/4096: WebCrypto, e = 65537; its PKCS#8 and SPKI exports
 *   already have OpenSSL's layout. Generation runs on a blocking thread and
 *   takes 0.1-3 s here, so the data plane takes RSA pairs from `rsa_pool.ts`.
 * - ECC_NIST_P256/P384/P521: WebCrypto ECDSA. Deno recomputes the public point
 *   on every EC export (SPKI or raw), which cost more than the generation; the
 *   PKCS#8 export already carries the public point, so only the PKCS#8 is
 *   exported and the SPKI is built from its point.
 * - ECC_SECG_P256K1: `node:crypto` (WebCrypto has no secp256k1), whose
 *   PKCS#8 DER already has OpenSSL's layout and carries the public point
 *   (checked on each call; @noble/curves otherwise): 220-260 µs of CPU a pair
 *   against 290-390 for @noble/curves here (loaded machine, alternated).
 *   It, SM2 and Ed25519 run on the calling thread, so the data plane takes
 *   their pairs from `key_pair_pool.ts`, filled by the crypto workers.
 * - SM2: @noble/curves over `sm2_curve.ts`, private key in [1, n-2] (GB/T 32918.1 §6.1).
 * - ECC_NIST_EDWARDS25519: `node:crypto`. WebCrypto generates Ed25519 keys at
 *   47k/s but each export costs ~60 µs, so generate + export both runs at
 *   8.5k/s; `node:crypto`'s synchronous generation with DER output runs at
 *   43k/s and gives OpenSSL's layout byte for byte (checked on each call).
 *
 * Rates in ops/s, one call at a time, in-process (Deno 2.9.6, 2 shared
 * vCPUs; `tests/bench/raw_key_pairs.ts`): raw = the library's own generate +
 * export (`rawGenerateAndExport` in tests/bench/key_pair_baseline.ts), ours = `generateKeyPair`.
 *
 * | spec                  |    raw |   ours |
 * | --------------------- | -----: | -----: |
 * | ECC_NIST_P256         |  3,400 | 13,800 |
 * | ECC_NIST_P384         |    620 |  4,300 |
 * | ECC_NIST_P521         |    390 |    940 |
 * | ECC_SECG_P256K1 ¹     |  5,800 |  5,800 |
 * | SM2                   |  5,200 |  5,000 |
 * | ECC_NIST_EDWARDS25519 | 39,500 | 40,300 |
 * | RSA_2048              |     ~8 |     ~8 |
 * | RSA_3072              |   ~2.4 |   ~2.4 |
 * | RSA_4096              |   ~0.6 |   ~0.6 |
 *
 * ¹ measured with @noble/curves; `node:crypto` took ~25% less CPU a pair in an
 *   alternated measurement on a loaded machine (not yet re-measured quiet).
 *
 * @module
 */
import { generateKeyPairSync } from "node:crypto";
import { mapHashToField } from "@noble/curves/abstract/modular.js";
import type { WeierstrassPointCons } from "@noble/curves/abstract/weierstrass.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { SecretBytes } from "../secret.ts";
import {
  decodePkcs8,
  type EcCurve,
  ecPointOfCanonicalPkcs8,
  encodeEcPkcs8,
  encodeEcSpki,
  encodeEd25519Pkcs8,
  encodeEd25519Spki,
  isCanonicalEd25519Pkcs8,
  isCanonicalEd25519Spki,
  parseSpki,
} from "./key_encoding.ts";
import { randomBytes } from "./random.ts";
import { Sm2Point } from "./sm2_curve.ts";
import type { SigningKeySpec } from "./signing_specs.ts";

/** AWS `DataKeyPairSpec`: the asymmetric `KeySpec`s that are not ML-DSA (nor HMAC). */
export type DataKeyPairSpec = Exclude<SigningKeySpec, `ML_DSA_${string}`>;

/** The RSA specs, the ones worth pooling. */
export type RsaSpec = "RSA_2048" | "RSA_3072" | "RSA_4096";

/** A freshly generated key pair as DER. */
export interface GeneratedKeyPair {
  /** DER SubjectPublicKeyInfo (RFC 5280). */
  readonly publicKey: Uint8Array<ArrayBuffer>;
  /** DER PKCS#8 PrivateKeyInfo (RFC 5208). */
  readonly privateKey: SecretBytes;
}

/** Generates and encodes a pair. */
type Engine = () => Promise<GeneratedKeyPair>;

const RSA_PUBLIC_EXPONENT = new Uint8Array([0x01, 0x00, 0x01]);
const SECP256K1_DER = {
  namedCurve: "secp256k1",
  publicKeyEncoding: { type: "spki", format: "der" },
  privateKeyEncoding: { type: "pkcs8", format: "der" },
} as const;
const ED25519_DER = {
  publicKeyEncoding: { type: "spki", format: "der" },
  privateKeyEncoding: { type: "pkcs8", format: "der" },
} as const;

const ENGINES: Readonly<Record<DataKeyPairSpec, Engine>> = Object.freeze({
  RSA_2048: _rsaEngine(2048),
  RSA_3072: _rsaEngine(3072),
  RSA_4096: _rsaEngine(4096),
  ECC_NIST_P256: _webCryptoEcEngine("P-256"),
  ECC_NIST_P384: _webCryptoEcEngine("P-384"),
  ECC_NIST_P521: _webCryptoEcEngine("P-521"),
  ECC_SECG_P256K1: _nativeSecp256k1Engine(
    _nobleEcEngine("secp256k1", secp256k1.Point, () => secp256k1.utils.randomSecretKey()),
  ),
  SM2: _nobleEcEngine("SM2", Sm2Point, _randomSm2Scalar),
  ECC_NIST_EDWARDS25519: _generateEd25519,
});

/** Every `DataKeyPairSpec`, in AWS's documentation order. */
export const DATA_KEY_PAIR_SPECS: readonly DataKeyPairSpec[] = Object.freeze(
  Object.keys(ENGINES) as DataKeyPairSpec[],
);

/** Whether the spec is one of the RSA specs. */
export function isRsaSpec(spec: DataKeyPairSpec): spec is RsaSpec {
  return spec === "RSA_2048" || spec === "RSA_3072" || spec === "RSA_4096";
}

/**
 * Generates a fresh key pair (never pooled) and encodes it as SPKI and PKCS#8 DER.
 * @throws {RangeError} when `spec` is not a `DataKeyPairSpec`.
 */
export function generateKeyPair(spec: DataKeyPairSpec): Promise<GeneratedKeyPair> {
  return _engine(spec)();
}

function _engine(spec: DataKeyPairSpec): Engine {
  if (!Object.hasOwn(ENGINES, spec)) throw new RangeError("unknown DataKeyPairSpec");
  return ENGINES[spec];
}

// --- RSA -----------------------------------------------------------------------

function _rsaEngine(modulusLength: number): Engine {
  const algorithm: RsaHashedKeyGenParams = {
    name: "RSASSA-PKCS1-v1_5",
    modulusLength,
    publicExponent: RSA_PUBLIC_EXPONENT,
    hash: "SHA-256",
  };
  const generate = async () => {
    const pair = await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
    const [pkcs8, spki] = await Promise.all([
      crypto.subtle.exportKey("pkcs8", pair.privateKey),
      crypto.subtle.exportKey("spki", pair.publicKey),
    ]);
    return { publicKey: new Uint8Array(spki), privateKey: new SecretBytes(new Uint8Array(pkcs8)) };
  };
  return generate;
}

// --- P-256, P-384, P-521 (WebCrypto) ----------------------------------------------

function _webCryptoEcEngine(curve: EcCurve): Engine {
  const algorithm: EcKeyGenParams = { name: "ECDSA", namedCurve: curve };
  const generate = async () => {
    const pair = await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
    const point = ecPointOfCanonicalPkcs8(curve, pkcs8);
    if (point !== undefined) {
      return { publicKey: encodeEcSpki(curve, point), privateKey: new SecretBytes(pkcs8) };
    }
    return await _reencodeEcPkcs8(curve, pkcs8, pair.publicKey);
  };
  return generate;
}

/** Slow path, for a WebCrypto whose PKCS#8 layout differs from OpenSSL's. */
async function _reencodeEcPkcs8(
  curve: EcCurve,
  pkcs8: Uint8Array,
  publicKey: CryptoKey,
): Promise<GeneratedKeyPair> {
  const decoded = decodePkcs8(pkcs8);
  pkcs8.fill(0);
  if (decoded.type !== "EC" || decoded.curve !== curve) throw new Error(`unexpected ${curve} key`);
  const point = decoded.point ??
    new Uint8Array(await crypto.subtle.exportKey("raw", publicKey));
  const privateKey = new SecretBytes(
    encodeEcPkcs8(curve, { scalar: decoded.scalar.expose(), point }),
  );
  decoded.scalar.wipe();
  return { publicKey: encodeEcSpki(curve, point), privateKey };
}

// --- secp256k1 and SM2 (noble) -----------------------------------------------------

function _nobleEcEngine(
  curve: EcCurve,
  Point: WeierstrassPointCons<bigint>,
  randomScalar: () => Uint8Array,
): Engine {
  const publicPoint = (scalar: Uint8Array) =>
    Point.BASE.multiply(Point.Fn.fromBytes(scalar)).toBytes(false);
  const generate = () => {
    const scalar = randomScalar();
    const point = publicPoint(scalar);
    const privateKey = new SecretBytes(encodeEcPkcs8(curve, { scalar, point }));
    scalar.fill(0);
    return Promise.resolve({ publicKey: encodeEcSpki(curve, point), privateKey });
  };
  return generate;
}

/** secp256k1 by `node:crypto`; `fallback` when its PKCS#8 is not in OpenSSL's layout. */
function _nativeSecp256k1Engine(fallback: Engine): Engine {
  const generate = () => {
    const { privateKey } = generateKeyPairSync("ec", SECP256K1_DER);
    const pkcs8 = new Uint8Array(privateKey);
    privateKey.fill(0);
    const point = ecPointOfCanonicalPkcs8("secp256k1", pkcs8);
    if (point === undefined) {
      pkcs8.fill(0);
      return fallback();
    }
    return Promise.resolve({
      publicKey: encodeEcSpki("secp256k1", point),
      privateKey: new SecretBytes(pkcs8),
    });
  };
  return generate;
}

/**
 * A uniformly random SM2 private key d in [1, n-2] (GB/T 32918.1-2016 §6.1): 48 CSPRNG bytes
 * reduced mod (n-2), plus 1 (noble's `mapHashToField` with order n-1; bias below 2^-128).
 */
function _randomSm2Scalar(): Uint8Array {
  const seed = randomBytes(48);
  const scalar = mapHashToField(seed, Sm2Point.Fn.ORDER - 1n);
  seed.fill(0);
  return scalar;
}

// --- Ed25519 (node:crypto) ----------------------------------------------------------

function _generateEd25519(): Promise<GeneratedKeyPair> {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519", ED25519_DER);
  const spki = new Uint8Array(publicKey);
  const pkcs8 = new Uint8Array(privateKey);
  privateKey.fill(0);
  if (isCanonicalEd25519Pkcs8(pkcs8) && isCanonicalEd25519Spki(spki)) {
    return Promise.resolve({ publicKey: spki, privateKey: new SecretBytes(pkcs8) });
  }
  return Promise.resolve(_reencodeEd25519(pkcs8, spki));
}

/** Slow path, for a `node:crypto` whose DER layout differs from OpenSSL's. */
function _reencodeEd25519(pkcs8: Uint8Array, spki: Uint8Array): GeneratedKeyPair {
  const decoded = decodePkcs8(pkcs8);
  const parsedPublic = parseSpki(spki);
  pkcs8.fill(0);
  if (decoded.type !== "ED25519" || parsedPublic.type !== "ED25519") {
    throw new Error("unexpected Ed25519 key");
  }
  const privateKey = new SecretBytes(encodeEd25519Pkcs8(decoded.seed.expose()));
  decoded.seed.wipe();
  return { publicKey: encodeEd25519Spki(parsedPublic.publicKey), privateKey };
}
