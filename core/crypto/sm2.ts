/**
 * SM2 signatures (SM2DSA, GB/T 32918.2-2016) and SM2 public-key encryption
 * (SM2PKE, GB/T 32918.4-2016) on the SM2 recommended curve, with SM3 as the
 * hash: the primitives behind AWS KMS's `SM2DSA` signing algorithm and `SM2PKE`
 * encryption algorithm (China Regions only).
 *
 * WebCrypto has no SM2, so the arithmetic is @noble/curves on the curve from
 * `sm2_curve.ts`; noble's bigint arithmetic is not constant-time, the same
 * caveat as noble's own ECDSA. Encodings follow OpenSSL 3, which AWS names as
 * its interoperability reference:
 *
 * - Signatures are DER `SEQUENCE { INTEGER r, INTEGER s }`.
 * - The signed value is e = SM3(Z_A || M) with
 *   Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA) and AWS's fixed
 *   distinguishing ID `1234567812345678` (GM/T 0009-2012). With
 *   `MessageType: DIGEST`, AWS expects the caller to send e itself, already
 *   computed from Z_A and M ("Offline verification with SM2 key pairs",
 *   https://docs.aws.amazon.com/kms/latest/developerguide/offline-operations.html#key-spec-sm-offline-verification);
 *   `sm2SignDigest` / `sm2VerifyDigest` take that 32-byte e.
 * - Ciphertexts are the ASN.1 form of GM/T 0009-2012 section 7.2, C1C3C2 order:
 *   `SEQUENCE { INTEGER x1, INTEGER y1, OCTET STRING C3, OCTET STRING C2 }`,
 *   where (x1, y1) = C1 = [k]G, C3 = SM3(x2 || M || y2) and C2 = M xor KDF(x2 || y2).
 *   The KDF is GB/T 32918.4 section 5.4.3 with SM3 (a 32-bit counter from 1).
 *
 * The nonce k of signing and encryption is fresh CSPRNG output, 384 bits
 * reduced into [1, n-1] (FIPS 186-5 A.2.1 via noble's `mapHashToField`), drawn
 * again whenever the standard says to retry. It is not derived from the key and
 * message (no RFC 6979): SM2 signatures are randomised like OpenSSL's.
 *
 * Private keys are 32-byte big-endian scalars d with 1 <= d <= n-2 (GB/T
 * 32918.1 section 6.1; 1 + d must be invertible). Public keys are SEC1 points
 * (uncompressed `04 || x || y`, as inside an SPKI). Both come from the KMS's own
 * key store, so a malformed one is a bug and throws `RangeError`.
 *
 * @module
 */
import { DER } from "@noble/curves/abstract/weierstrass.js";
import { invertCt, mapHashToField, mod } from "@noble/curves/abstract/modular.js";
import { bytesToNumberBE, equalBytes, numberToBytesBE } from "@noble/curves/utils.js";
import { InvalidCiphertextException } from "../errors.ts";
import { SecretBytes } from "../secret.ts";
import { decodePkcs8 } from "./key_encoding.ts";
import { randomBytes } from "./random.ts";
import { SM2_CURVE, SM2_SCALAR_BYTES, Sm2Point } from "./sm2_curve.ts";
import { sm3 } from "./sm3.ts";

/** AWS's fixed SM2 distinguishing ID (GM/T 0009-2012 section 10), used for `MessageType: RAW`. */
export const SM2_DEFAULT_ID = "1234567812345678";
/** Length of e = SM3(Z_A || M), the value a DIGEST-type SM2DSA message must have. */
export const SM2_DIGEST_BYTES = 32;

type Point = InstanceType<typeof Sm2Point>;
type Signature = { r: bigint; s: bigint };

const N = SM2_CURVE.n;
/** a, b, xG, yG as the fixed 128-byte middle of the Z_A preimage. */
const CURVE_PARAMS_BYTES = Uint8Array.from([
  ...numberToBytesBE(SM2_CURVE.a, SM2_SCALAR_BYTES),
  ...numberToBytesBE(SM2_CURVE.b, SM2_SCALAR_BYTES),
  ...numberToBytesBE(SM2_CURVE.Gx, SM2_SCALAR_BYTES),
  ...numberToBytesBE(SM2_CURVE.Gy, SM2_SCALAR_BYTES),
]);
/** ENTL is 16 bits, so an ID is at most 8191 bytes. */
const MAX_ID_BYTES = 8191;
/** Random bytes per nonce: 1.5 x the 32-byte order length (noble's getMinHashLength). */
const NONCE_SEED_BYTES = 48;

/**
 * Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA) (GB/T 32918.2 section 5.5).
 * @throws {RangeError} when the public key is not a curve point or the ID exceeds 8191 UTF-8 bytes.
 */
export function sm2Za(publicPoint: Uint8Array, id: string = SM2_DEFAULT_ID): Uint8Array {
  return _za(_parsePublicPoint(publicPoint), id);
}

/**
 * e = SM3(Z_A || M): what SM2DSA signs, and what AWS expects as the message when `MessageType` is DIGEST.
 * @throws {RangeError} when the public key is not a curve point or the ID exceeds 8191 UTF-8 bytes.
 */
export function sm2Digest(
  publicPoint: Uint8Array,
  message: Uint8Array,
  id: string = SM2_DEFAULT_ID,
): Uint8Array {
  return _digest(_parsePublicPoint(publicPoint), message, id);
}

/**
 * SM2DSA signature over `message` (GB/T 32918.2 section 6.1) as DER `SEQUENCE { r, s }`.
 * Recomputing the public key for Z_A doubles the cost; with the public key at hand,
 * `sm2SignDigest(d, sm2Digest(publicPoint, message))` gives the same kind of signature for half.
 * @throws {RangeError} when the private scalar is not 32 bytes in [1, n-2].
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html
 */
export function sm2Sign(
  privateScalar: Uint8Array,
  message: Uint8Array,
  options: { id?: string } = {},
): Uint8Array {
  const d = _parsePrivateScalar(privateScalar);
  const e = _digest(Sm2Point.BASE.multiply(d), message, options.id ?? SM2_DEFAULT_ID);
  return _encodeSignature(_signWithNonces(d, bytesToNumberBE(e), _randomNonce));
}

/**
 * SM2DSA signature over a caller-computed e = SM3(Z_A || M) (AWS `MessageType: DIGEST`).
 * @throws {RangeError} when the digest is not 32 bytes or the private scalar is invalid.
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/offline-operations.html#key-spec-sm-offline-verification
 */
export function sm2SignDigest(privateScalar: Uint8Array, digest: Uint8Array): Uint8Array {
  const d = _parsePrivateScalar(privateScalar);
  return _encodeSignature(_signWithNonces(d, _parseDigest(digest), _randomNonce));
}

/**
 * Verifies a DER SM2DSA signature over `message` (GB/T 32918.2 section 7.1).
 * Returns false for any malformed signature or r, s outside [1, n-1].
 * @throws {RangeError} only when the public key is not a curve point.
 */
export function sm2Verify(
  publicPoint: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  options: { id?: string } = {},
): boolean {
  const point = _parsePublicPoint(publicPoint);
  const e = _digest(point, message, options.id ?? SM2_DEFAULT_ID);
  return _verify(point, bytesToNumberBE(e), signature);
}

/**
 * Verifies a DER SM2DSA signature over a caller-computed e = SM3(Z_A || M).
 * Returns false for any malformed signature.
 * @throws {RangeError} when the digest is not 32 bytes or the public key is not a curve point.
 */
export function sm2VerifyDigest(
  publicPoint: Uint8Array,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  return _verify(_parsePublicPoint(publicPoint), _parseDigest(digest), signature);
}

/**
 * SM2PKE encryption (GB/T 32918.4 section 6.1) in OpenSSL's ASN.1 C1C3C2 form.
 * @throws {RangeError} when the plaintext is empty or the public key is not a curve point.
 */
export function sm2Encrypt(publicPoint: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return _encryptWithNonces(_parsePublicPoint(publicPoint), plaintext, _randomNonce);
}

/**
 * SM2PKE decryption (GB/T 32918.4 section 7.1) of OpenSSL's ASN.1 C1C3C2 form.
 * @throws {InvalidCiphertextException} (no detail) for malformed DER, an invalid C1, an empty C2 or a wrong C3.
 * @throws {RangeError} when the private scalar is invalid.
 */
export function sm2Decrypt(privateScalar: Uint8Array, ciphertext: Uint8Array): SecretBytes {
  const d = _parsePrivateScalar(privateScalar);
  const parts = _decodeCiphertext(ciphertext);
  const shared = _sharedPointBytes(parts.c1, d);
  const mask = _kdf(shared, parts.c2.length);
  const plaintext = parts.c2.map((byte, i) => byte ^ mask[i]!);
  const valid = !_isAllZero(mask) && equalBytes(_c3(shared, plaintext), parts.c3);
  mask.fill(0);
  shared.fill(0);
  if (!valid) {
    plaintext.fill(0);
    throw new InvalidCiphertextException();
  }
  return new SecretBytes(plaintext);
}

/**
 * Tests only: SM2DSA over a digest with a fixed nonce k, to reproduce GB/T 32918.5 Annex A.
 * @internal
 */
export function _sm2SignDigestWithK(
  privateScalar: Uint8Array,
  digest: Uint8Array,
  k: Uint8Array,
): Uint8Array {
  const d = _parsePrivateScalar(privateScalar);
  return _encodeSignature(_signWithNonces(d, _parseDigest(digest), _fixedNonce(k)));
}

/**
 * Tests only: SM2PKE with a fixed nonce k, to reproduce GB/T 32918.5 Annex C.
 * @internal
 */
export function _sm2EncryptWithK(
  publicPoint: Uint8Array,
  plaintext: Uint8Array,
  k: Uint8Array,
): Uint8Array {
  return _encryptWithNonces(_parsePublicPoint(publicPoint), plaintext, _fixedNonce(k));
}

function _za(point: Point, id: string): Uint8Array {
  const idBytes = new TextEncoder().encode(id);
  if (idBytes.length > MAX_ID_BYTES) {
    throw new RangeError(`SM2 distinguishing ID must be at most ${MAX_ID_BYTES} bytes`);
  }
  const entl = idBytes.length * 8;
  return sm3.create()
    .update(Uint8Array.of(entl >>> 8, entl & 0xff))
    .update(idBytes)
    .update(CURVE_PARAMS_BYTES)
    .update(point.toBytes(false).subarray(1))
    .digest();
}

function _digest(point: Point, message: Uint8Array, id: string): Uint8Array {
  return sm3.create().update(_za(point, id)).update(message).digest();
}

/** Signing loop of GB/T 32918.2 section 6.1, steps A3-A6; `nextK` supplies k in [1, n-1]. */
function _signWithNonces(d: bigint, e: bigint, nextK: () => bigint): Signature {
  const inverseOnePlusD = invertCt(d + 1n, N);
  for (;;) {
    const k = nextK();
    const r = mod(e + Sm2Point.BASE.multiply(k).x, N);
    if (r === 0n || r + k === N) continue;
    const s = mod(inverseOnePlusD * (k - r * d), N);
    if (s !== 0n) return { r, s };
  }
}

/** Verification of GB/T 32918.2 section 7.1, steps B1-B7. */
function _verify(point: Point, e: bigint, signature: Uint8Array): boolean {
  const parsed = _decodeSignature(signature);
  if (parsed === undefined) return false;
  const { r, s } = parsed;
  const t = mod(r + s, N);
  if (t === 0n) return false;
  const sum = Sm2Point.BASE.mulAddUnsafe(s, point, t);
  return !sum.is0() && mod(e + sum.x, N) === r;
}

/** Encryption of GB/T 32918.4 section 6.1, steps A1-A8; `nextK` supplies k in [1, n-1]. */
function _encryptWithNonces(point: Point, plaintext: Uint8Array, nextK: () => bigint): Uint8Array {
  if (plaintext.length === 0) throw new RangeError("SM2 encryption needs a non-empty plaintext");
  for (;;) {
    const k = nextK();
    const c1 = Sm2Point.BASE.multiply(k);
    const shared = _sharedPointBytes(point, k);
    const mask = _kdf(shared, plaintext.length);
    if (_isAllZero(mask)) continue;
    const c2 = plaintext.map((byte, i) => byte ^ mask[i]!);
    const c3 = _c3(shared, plaintext);
    mask.fill(0);
    shared.fill(0);
    return _encodeCiphertext(c1, c3, c2);
  }
}

/** x2 || y2 of [scalar]point, 64 bytes. */
function _sharedPointBytes(point: Point, scalar: bigint): Uint8Array {
  return point.multiply(scalar).toBytes(false).subarray(1);
}

/** C3 = SM3(x2 || M || y2). */
function _c3(shared: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return sm3.create()
    .update(shared.subarray(0, SM2_SCALAR_BYTES))
    .update(plaintext)
    .update(shared.subarray(SM2_SCALAR_BYTES))
    .digest();
}

/** KDF(Z, klen) of GB/T 32918.4 section 5.4.3 with SM3 and a 32-bit big-endian counter from 1. */
function _kdf(z: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const counter = new Uint8Array(4);
  const view = new DataView(counter.buffer);
  for (let offset = 0, ct = 1; offset < length; offset += sm3.outputLen, ct++) {
    view.setUint32(0, ct, false);
    const block = sm3.create().update(z).update(counter).digest();
    out.set(block.subarray(0, Math.min(block.length, length - offset)), offset);
  }
  return out;
}

function _isAllZero(bytes: Uint8Array): boolean {
  return bytes.every((byte) => byte === 0);
}

function _encodeSignature({ r, s }: Signature): Uint8Array {
  return Uint8Array.fromHex(DER.hexFromSig({ r, s }));
}

function _decodeSignature(signature: Uint8Array): Signature | undefined {
  try {
    const { r, s } = DER.toSig(signature, SM2_SCALAR_BYTES + 1);
    return r >= 1n && r < N && s >= 1n && s < N ? { r, s } : undefined;
  } catch {
    return undefined;
  }
}

function _encodeCiphertext(c1: Point, c3: Uint8Array, c2: Uint8Array): Uint8Array {
  const { _tlv: tlv, _int: int } = DER;
  const { x, y } = c1.toAffine();
  const body = tlv.encode(0x02, int.encode(x)) + tlv.encode(0x02, int.encode(y)) +
    tlv.encode(0x04, c3.toHex()) + tlv.encode(0x04, c2.toHex());
  return Uint8Array.fromHex(tlv.encode(0x30, body));
}

/** Strict DER decoding of the C1C3C2 SEQUENCE; any defect is an InvalidCiphertextException. */
function _decodeCiphertext(ciphertext: Uint8Array): { c1: Point; c3: Uint8Array; c2: Uint8Array } {
  const { _tlv: tlv, _int: int } = DER;
  try {
    const sequence = tlv.decode(0x30, ciphertext);
    const xField = tlv.decode(0x02, sequence.v);
    const yField = tlv.decode(0x02, xField.l);
    const c3Field = tlv.decode(0x04, yField.l);
    const c2Field = tlv.decode(0x04, c3Field.l);
    const wellFormed = sequence.l.length === 0 && c2Field.l.length === 0 &&
      xField.v.length <= SM2_SCALAR_BYTES + 1 && yField.v.length <= SM2_SCALAR_BYTES + 1 &&
      c3Field.v.length === sm3.outputLen && c2Field.v.length > 0;
    if (wellFormed) {
      const c1 = Sm2Point.fromAffine({ x: int.decode(xField.v), y: int.decode(yField.v) });
      c1.assertValidity();
      return { c1, c3: c3Field.v, c2: c2Field.v };
    }
  } catch {
    // Every defect below gives the same answer.
  }
  throw new InvalidCiphertextException();
}

function _parsePrivateScalar(privateScalar: Uint8Array): bigint {
  const d = privateScalar.length === SM2_SCALAR_BYTES ? bytesToNumberBE(privateScalar) : 0n;
  if (d < 1n || d > N - 2n) {
    throw new RangeError("SM2 private key must be a 32-byte scalar in [1, n-2]");
  }
  return d;
}

function _parsePublicPoint(publicPoint: Uint8Array): Point {
  try {
    return Sm2Point.fromBytes(publicPoint);
  } catch {
    throw new RangeError("SM2 public key is not a point on the SM2 curve");
  }
}

function _parseDigest(digest: Uint8Array): bigint {
  if (digest.length !== SM2_DIGEST_BYTES) {
    throw new RangeError(`SM2DSA digest must be ${SM2_DIGEST_BYTES} bytes (SM3(Z_A || M))`);
  }
  return bytesToNumberBE(digest);
}

function _randomNonce(): bigint {
  return bytesToNumberBE(mapHashToField(randomBytes(NONCE_SEED_BYTES), N));
}

/** A nonce source that yields `k` once and fails if the algorithm asks for another. */
function _fixedNonce(k: Uint8Array): () => bigint {
  let used = false;
  return () => {
    const value = bytesToNumberBE(k);
    if (used || value < 1n || value >= N) throw new RangeError("fixed nonce rejected");
    used = true;
    return value;
  };
}

/** The 32-byte scalar d in [1, n-2] and the public point of an SM2 PKCS#8 key. */
export function sm2KeyOfPkcs8(pkcs8: Uint8Array): { scalar: Uint8Array; point: Uint8Array } {
  const key = decodePkcs8(pkcs8);
  if (key.type !== "EC" || key.curve !== "SM2") throw new TypeError("not an SM2 key");
  const scalar = new Uint8Array(SM2_SCALAR_BYTES);
  const bytes = key.scalar.expose();
  scalar.set(bytes, SM2_SCALAR_BYTES - bytes.length);
  key.scalar.wipe();
  const d = BigInt(`0x${scalar.toHex()}`);
  if (d < 1n || d > SM2_CURVE.n - 2n) throw new TypeError("not an SM2 key");
  const point = key.point ?? Sm2Point.BASE.multiply(d).toBytes(false);
  return { scalar, point };
}
