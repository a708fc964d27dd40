/**
 * ECDH for AWS KMS `DeriveSharedSecret` (`KeyAgreementAlgorithm: ECDH`) on the
 * key specs ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521 and SM2.
 *
 * The result is what AWS calls the raw shared secret: the x-coordinate of
 * [d]Q as a big-endian field element of the curve's full byte length (32, 48,
 * 66 and 32 bytes), with no KDF applied (the Elliptic Curve Cryptography
 * Cofactor Diffie-Hellman primitive of NIST SP 800-56A r3 section 5.7.1.2;
 * every curve here has cofactor 1, so it equals plain ECDH). This is what
 * `openssl pkeyutl -derive` gives, the tool AWS's "Deriving shared secrets
 * offline" walkthrough uses.
 *
 * The NIST curves run on WebCrypto (`importKey("pkcs8")`, the validated peer
 * point as `importKey("raw")`, `deriveBits`).
 * WebCrypto has no SM2, so SM2 multiplies with @noble/curves on `Sm2Point`.
 * SM2 here is ECDH over the SM2 curve, not the SM2 key exchange protocol of
 * GB/T 32918.3.
 *
 * The peer's public key is untrusted input and is checked here, each failure a
 * `ValidationException` with a message saying which rule it broke:
 * - it must be strict DER `SubjectPublicKeyInfo` (RFC 5280): re-encoding the
 *   parsed structure must give back the same bytes, so BER variants, trailing
 *   bytes and non-zero unused bits are refused;
 * - its algorithm must be id-ecPublicKey with the named-curve OID of the KMS
 *   key's own curve (RFC 5480 section 2.1.1); explicit curve parameters are
 *   refused, as RFC 5480 forbids them in PKIX;
 * - the point must decode as SEC1 (section 2.3.4) and lie on the curve; the
 *   point at infinity is refused. Compressed points (02/03 prefix) are
 *   accepted and decompressed: RFC 5480 allows them, SEC1 defines them, and
 *   decompression itself proves the point is on the curve. Uncompressed is
 *   what `GetPublicKey` and OpenSSL produce.
 *
 * The private key is the KMS's own PKCS#8 (RFC 5958); if it is not a key on
 * the expected curve that is a bug, and a `RangeError` says so.
 *
 * @module
 */
import { AsnConvert } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import { PrivateKeyInfo } from "@peculiar/asn1-pkcs8";
import { ECParameters, ECPrivateKey, id_ecPublicKey } from "@peculiar/asn1-ecc";
import type { WeierstrassPointCons } from "@noble/curves/abstract/weierstrass.js";
import { p256, p384, p521 } from "@noble/curves/nist.js";
import { bytesToNumberBE, equalBytes } from "@noble/curves/utils.js";
import { ValidationException } from "../errors.ts";
import { SecretBytes } from "../secret.ts";
import { Sm2Point } from "./sm2_curve.ts";

/** The AWS key specs that support `KEY_AGREEMENT`. */
export type EcdhCurve = "ECC_NIST_P256" | "ECC_NIST_P384" | "ECC_NIST_P521" | "SM2";

type CurveSpec = {
  /** Named-curve OID (RFC 5480 section 2.1.1.1; GM/T 0006 for SM2). */
  readonly oid: string;
  /** The DER of that OID: the only accepted AlgorithmIdentifier parameters. */
  readonly parametersDer: Uint8Array;
  /** The DER SPKI bytes before an uncompressed point: the fast path's exact match. */
  readonly uncompressedSpkiPrefix: Uint8Array;
  /** WebCrypto curve name, or undefined where WebCrypto lacks the curve. */
  readonly webCrypto: "P-256" | "P-384" | "P-521" | undefined;
  /** Field element length in bytes: the length of the shared secret. */
  readonly fieldBytes: number;
  readonly Point: WeierstrassPointCons<bigint>;
};

function _curve(
  oid: string,
  webCrypto: CurveSpec["webCrypto"],
  fieldBytes: number,
  Point: WeierstrassPointCons<bigint>,
): CurveSpec {
  const parametersDer = new Uint8Array(AsnConvert.serialize(new ECParameters({ namedCurve: oid })));
  const pointBytes = 1 + 2 * fieldBytes;
  const spki = new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({
      algorithm: id_ecPublicKey,
      parameters: parametersDer.slice().buffer,
    }),
    subjectPublicKey: new ArrayBuffer(pointBytes),
  });
  const uncompressedSpkiPrefix = new Uint8Array(AsnConvert.serialize(spki)).slice(0, -pointBytes);
  return Object.freeze({
    oid,
    parametersDer,
    uncompressedSpkiPrefix,
    webCrypto,
    fieldBytes,
    Point,
  });
}

const CURVES: Readonly<Record<EcdhCurve, CurveSpec>> = Object.freeze({
  ECC_NIST_P256: _curve("1.2.840.10045.3.1.7", "P-256", 32, p256.Point),
  ECC_NIST_P384: _curve("1.3.132.0.34", "P-384", 48, p384.Point),
  ECC_NIST_P521: _curve("1.3.132.0.35", "P-521", 66, p521.Point),
  SM2: _curve("1.2.156.10197.1.301", undefined, 32, Sm2Point),
});

/**
 * The raw ECDH shared secret (x-coordinate of [d]Q, field-length bytes) of our
 * PKCS#8 private key and the peer's DER SPKI public key on the same curve.
 * @throws {ValidationException} when the peer key is not strict DER SPKI, not id-ecPublicKey,
 *   not on `curve`, or not a valid finite point.
 * @throws {RangeError} when the private key is not a PKCS#8 EC key on `curve`.
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_DeriveSharedSecret.html
 */
export async function deriveSharedSecret(
  curve: EcdhCurve,
  privateKeyPkcs8: SecretBytes,
  peerPublicKeySpki: Uint8Array,
): Promise<SecretBytes> {
  const spec = CURVES[curve];
  const peerPoint = _parsePeerPublicKey(curve, spec, peerPublicKeySpki);
  return spec.webCrypto === undefined
    ? _deriveWithNoble(curve, spec, privateKeyPkcs8, peerPoint)
    : await _deriveWithWebCrypto(curve, spec.webCrypto, privateKeyPkcs8, peerPoint);
}

/** Validates the peer SPKI; returns its point as uncompressed SEC1 bytes. */
function _parsePeerPublicKey(curve: EcdhCurve, spec: CurveSpec, spki: Uint8Array): Uint8Array {
  const pointBytes = _isUncompressedSpki(spec, spki)
    ? spki.subarray(spec.uncompressedSpkiPrefix.length)
    : _pointBytesFromSpki(curve, spec, spki);
  try {
    // fromBytes checks the encoding, the curve equation and that the point is not infinity.
    return spec.Point.fromBytes(pointBytes).toBytes(false);
  } catch {
    throw new ValidationException(`PublicKey is not a valid point on the ${curve} curve`);
  }
}

/**
 * Fast path: the whole SPKI is the one DER encoding of an uncompressed point on this curve
 * (what GetPublicKey and OpenSSL emit), so the ASN.1 parser can be skipped (it costs ~60 µs).
 */
function _isUncompressedSpki(spec: CurveSpec, spki: Uint8Array): boolean {
  const prefix = spec.uncompressedSpkiPrefix;
  return spki.length === prefix.length + 1 + 2 * spec.fieldBytes &&
    equalBytes(spki.subarray(0, prefix.length), prefix);
}

/** Slow path: parse the SPKI and check algorithm and curve; returns the SEC1 point bytes. */
function _pointBytesFromSpki(curve: EcdhCurve, spec: CurveSpec, spki: Uint8Array): Uint8Array {
  const info = _parseStrictSpki(spki);
  if (info.algorithm.algorithm !== id_ecPublicKey) {
    throw new ValidationException(
      "PublicKey must be an elliptic curve public key (algorithm id-ecPublicKey)",
    );
  }
  const parameters = info.algorithm.parameters;
  if (!parameters || !equalBytes(new Uint8Array(parameters), spec.parametersDer)) {
    throw new ValidationException(_curveMismatchMessage(curve, spec, parameters));
  }
  return new Uint8Array(info.subjectPublicKey);
}

function _parseStrictSpki(spki: Uint8Array): SubjectPublicKeyInfo {
  try {
    const info = AsnConvert.parse(spki, SubjectPublicKeyInfo);
    if (equalBytes(new Uint8Array(AsnConvert.serialize(info)), spki)) return info;
  } catch {
    // Falls through to the one message for every DER defect.
  }
  throw new ValidationException(
    "PublicKey must be a DER-encoded X.509 SubjectPublicKeyInfo (RFC 5280)",
  );
}

/**
 * Why the SPKI's curve parameters are refused. Names a known curve OID, never echoes request
 * text; parameters that only parse leniently (not DER) are reported as malformed.
 */
function _curveMismatchMessage(
  curve: EcdhCurve,
  spec: CurveSpec,
  parameters: ArrayBuffer | null | undefined,
): string {
  let named: string | undefined;
  try {
    named = parameters ? AsnConvert.parse(parameters, ECParameters).namedCurve : undefined;
  } catch {
    named = undefined;
  }
  if (named === undefined) {
    return `PublicKey must name its curve (namedCurve); the KMS key's curve is ${curve}`;
  }
  if (named === spec.oid || !/^[0-9]+(\.[0-9]+)*$/.test(named) || named.length > 64) {
    return "PublicKey is not a DER-encoded SubjectPublicKeyInfo";
  }
  return `PublicKey is on curve ${named}, but the KMS key is ${curve}; both must use the same curve`;
}

async function _deriveWithWebCrypto(
  curve: EcdhCurve,
  namedCurve: "P-256" | "P-384" | "P-521",
  privateKeyPkcs8: SecretBytes,
  peerPoint: Uint8Array,
): Promise<SecretBytes> {
  const algorithm = { name: "ECDH", namedCurve };
  let privateKey: CryptoKey;
  try {
    const pkcs8 = privateKeyPkcs8.expose() as Uint8Array<ArrayBuffer>;
    privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, algorithm, false, ["deriveBits"]);
  } catch {
    throw new RangeError(`private key is not a PKCS#8 ${curve} key`);
  }
  const publicKey = await crypto.subtle.importKey(
    "raw",
    peerPoint as Uint8Array<ArrayBuffer>,
    algorithm,
    false,
    [],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "ECDH", public: publicKey },
    privateKey,
    CURVES[curve].fieldBytes * 8,
  );
  return new SecretBytes(new Uint8Array(bits));
}

function _deriveWithNoble(
  curve: EcdhCurve,
  spec: CurveSpec,
  privateKeyPkcs8: SecretBytes,
  peerPoint: Uint8Array,
): SecretBytes {
  const d = _privateScalarFromPkcs8(curve, spec, privateKeyPkcs8.expose());
  const shared = spec.Point.fromBytes(peerPoint).multiply(d).toBytes(false);
  const x = shared.slice(1, 1 + spec.fieldBytes);
  shared.fill(0);
  return new SecretBytes(x);
}

/** d from a PKCS#8 id-ecPublicKey private key whose parameters name `spec`'s curve. */
function _privateScalarFromPkcs8(curve: EcdhCurve, spec: CurveSpec, pkcs8: Uint8Array): bigint {
  try {
    const info = AsnConvert.parse(pkcs8, PrivateKeyInfo);
    const parameters = info.privateKeyAlgorithm.parameters;
    const onCurve = info.privateKeyAlgorithm.algorithm === id_ecPublicKey && !!parameters &&
      equalBytes(new Uint8Array(parameters), spec.parametersDer);
    const scalar = AsnConvert.parse(info.privateKey.buffer, ECPrivateKey).privateKey.buffer;
    const d = bytesToNumberBE(new Uint8Array(scalar));
    if (onCurve && scalar.byteLength === spec.fieldBytes && spec.Point.Fn.isValidNot0(d)) return d;
  } catch {
    // Falls through to the one error for every defect.
  }
  throw new RangeError(`private key is not a PKCS#8 ${curve} key`);
}
