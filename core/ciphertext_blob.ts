/**
 * The symmetric ciphertext envelope: a CBOR array (RFC 8949) encoded with
 * cbor-x,
 *
 * `[formatVersion = 1, keyId, materialVersion, nonce (16 bytes), iv (12 bytes), ciphertextWithTag]`
 *
 * where `keyId` is a text string (UUID or `mrk-` + 32 hex), `materialVersion`
 * an unsigned integer below 2^32 and the rest byte strings; the tag is
 * AES-GCM's 16 bytes. The first item also names the cipher: 1 is AES-256-GCM,
 * 2 (`SM4_GCM_FORMAT_VERSION`) the same envelope sealed with SM4-GCM under a
 * China Region's SM4 key (core/region_profile.ts), with SM4-GCM's 12-byte IV
 * and 16-byte tag. It is part of the header, hence of the AAD. Only the shortest (canonical) encoding is accepted: the
 * decoded fields are re-encoded and must give the input bytes back, which
 * rejects CBOR tags, indefinite lengths, non-minimal integers, floats and
 * trailing bytes alike.
 *
 * Overhead over the plaintext: 89 bytes for 8 to 239 bytes of plaintext, 90
 * bytes up to 4096 (a 4096-byte plaintext gives a 4186-byte blob, against
 * AWS's 6144-byte limit), plus 1 to 4 bytes once the material version
 * reaches 24.
 *
 * @module
 */
import { Decoder, Encoder } from "cbor-x";
import { InvalidCiphertextException } from "./errors.ts";
import { isKeyId } from "./identifiers.ts";

/** A decoded symmetric ciphertext blob. */
export interface CiphertextBlob {
  keyId: string;
  materialVersion: number;
  /** 16 random bytes; the one-time AES key is derived from the key material with it. */
  nonce: Uint8Array;
  /** 12-byte AES-GCM IV. */
  iv: Uint8Array;
  /** AES-GCM ciphertext followed by its 16-byte tag. */
  ciphertext: Uint8Array;
  /** Absent: AES-256-GCM (format version 1); `SM4_GCM`: SM4-GCM (format version 2). */
  cipher?: "SM4_GCM";
}

/** The envelope format of AES-256-GCM blobs. */
export const CIPHERTEXT_FORMAT_VERSION = 1;
/** The same envelope sealed with SM4-GCM (China Regions). */
export const SM4_GCM_FORMAT_VERSION = 2;
/** Length of the key-derivation nonce in bytes. */
export const NONCE_BYTES = 16;
/** Length of the AES-GCM IV in bytes. */
export const IV_BYTES = 12;
/** Length of the AES-GCM tag in bytes; the shortest possible ciphertext. */
export const TAG_BYTES = 16;

const MAX_MATERIAL_VERSION = 0xffff_ffff;
/** CBOR initial bytes of the envelope: array of 6 items, then unsigned integer 1. */
const ARRAY_OF_6 = 0x86;
/** CBOR initial byte of the header: array of 5 items. */
const ARRAY_OF_5 = 0x85;

// Byte strings as plain major type 2 (no typed-array tag), no record extension.
const encoder = new Encoder({ useRecords: false, tagUint8Array: false });
// A separate decoder without shared structures: hostile input leaves no state behind.
const decoder = new Decoder({ useRecords: false });

/**
 * Encodes a blob as its canonical CBOR envelope; `header` may pass `headerBytes(blob)` already computed.
 * @throws {TypeError} when a field has the wrong type or length (a caller bug, not a client error).
 */
export function encodeCiphertextBlob(
  blob: CiphertextBlob,
  header: Uint8Array = headerBytes(blob),
): Uint8Array {
  if (!(blob.ciphertext instanceof Uint8Array) || blob.ciphertext.length < TAG_BYTES) {
    throw new TypeError("ciphertext must hold at least a 16-byte tag");
  }
  const head = byteStringHead(blob.ciphertext.length);
  // The header's 5 items, the array head made 6, then the ciphertext byte string: exactly what
  // cbor-x gives for the whole 6-item array, without copying the ciphertext through its buffer.
  const out = new Uint8Array(header.length + head.length + blob.ciphertext.length);
  out.set(header, 0);
  out[0] = ARRAY_OF_6;
  out.set(head, header.length);
  out.set(blob.ciphertext, header.length + head.length);
  return out;
}

/**
 * Decodes and strictly validates a blob before any decryption is attempted; the fields are fresh copies.
 * @throws {InvalidCiphertextException} for any defect: not CBOR, wrong shape, types or lengths, unknown version, bad key id, trailing bytes, non-canonical encoding.
 */
export function decodeCiphertextBlob(bytes: Uint8Array): CiphertextBlob {
  if (
    !(bytes instanceof Uint8Array) || bytes[0] !== ARRAY_OF_6 || !isFormatVersion(bytes[1])
  ) {
    throw invalidCiphertext();
  }
  let decoded: unknown;
  try {
    // A fresh view: cbor-x caches a DataView as a property on its input.
    decoded = decoder.decode(bytes.subarray(0));
  } catch {
    throw invalidCiphertext();
  }
  if (!Array.isArray(decoded) || decoded.length !== 6) throw invalidCiphertext();
  const [version, keyId, materialVersion, nonce, iv, ciphertext] = decoded as unknown[];
  if (
    !isFormatVersion(version) ||
    typeof keyId !== "string" || !isKeyId(keyId) ||
    !isMaterialVersion(materialVersion) ||
    !(nonce instanceof Uint8Array) || nonce.length !== NONCE_BYTES ||
    !(iv instanceof Uint8Array) || iv.length !== IV_BYTES ||
    !(ciphertext instanceof Uint8Array) || ciphertext.length < TAG_BYTES
  ) {
    throw invalidCiphertext();
  }
  // Canonical form: the input must be byte for byte what encodeCiphertextBlob would write for
  // these fields. Re-encoding the header and the ciphertext's length head is enough: with the
  // total length fixed, what remains is the ciphertext, taken straight from the input.
  const blob = {
    keyId,
    materialVersion,
    nonce: copyBytes(nonce),
    iv: copyBytes(iv),
    ...cipherField(version),
  };
  const header = headerBytes(blob);
  const head = byteStringHead(ciphertext.length);
  const start = header.length + head.length;
  if (
    bytes.length !== start + ciphertext.length ||
    !bytesEqual(bytes.subarray(1, header.length), header.subarray(1)) ||
    !bytesEqual(bytes.subarray(header.length, start), head)
  ) {
    throw invalidCiphertext();
  }
  return { ...blob, ciphertext: copyBytes(bytes.subarray(start)) };
}

/**
 * The canonical CBOR encoding of the header fields `[1, keyId, materialVersion, nonce, iv]`, bound into the AAD.
 * @throws {TypeError} when a header field has the wrong type or length.
 */
export function headerBytes(blob: Omit<CiphertextBlob, "ciphertext">): Uint8Array {
  checkHeader(blob);
  const header = encoder.encode([
    formatVersionOf(blob),
    blob.keyId,
    blob.materialVersion,
    blob.nonce,
    blob.iv,
  ]);
  if (header[0] !== ARRAY_OF_5) throw new TypeError("unexpected CBOR header encoding");
  return copyBytes(header);
}

function checkHeader(blob: Omit<CiphertextBlob, "ciphertext">): void {
  if (typeof blob.keyId !== "string" || !isKeyId(blob.keyId)) {
    throw new TypeError("keyId must be a key id (UUID or mrk- + 32 hex)");
  }
  if (!isMaterialVersion(blob.materialVersion)) {
    throw new TypeError("materialVersion must be an integer in 0..2^32-1");
  }
  if (!(blob.nonce instanceof Uint8Array) || blob.nonce.length !== NONCE_BYTES) {
    throw new TypeError("nonce must be 16 bytes");
  }
  if (!(blob.iv instanceof Uint8Array) || blob.iv.length !== IV_BYTES) {
    throw new TypeError("iv must be 12 bytes");
  }
}

// --- the cipher a blob names (format version 1: AES-256-GCM, 2: SM4-GCM) ---

function isFormatVersion(value: unknown): value is 1 | 2 {
  return value === CIPHERTEXT_FORMAT_VERSION || value === SM4_GCM_FORMAT_VERSION;
}

function formatVersionOf(blob: { cipher?: "SM4_GCM" }): number {
  return blob.cipher === "SM4_GCM" ? SM4_GCM_FORMAT_VERSION : CIPHERTEXT_FORMAT_VERSION;
}

function cipherField(version: 1 | 2): { cipher?: "SM4_GCM" } {
  return version === SM4_GCM_FORMAT_VERSION ? { cipher: "SM4_GCM" } : {};
}

function isMaterialVersion(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 &&
    value <= MAX_MATERIAL_VERSION;
}

/** The shortest CBOR head of a byte string of `length` bytes (RFC 8949 section 4.2.1). */
function byteStringHead(length: number): Uint8Array {
  if (length < 24) return Uint8Array.of(0x40 | length);
  if (length < 0x100) return Uint8Array.of(0x58, length);
  if (length < 0x1_0000) return Uint8Array.of(0x59, length >>> 8, length & 0xff);
  if (length <= 0xffff_ffff) {
    const head = Uint8Array.of(0x5a, 0, 0, 0, 0);
    new DataView(head.buffer).setUint32(1, length);
    return head;
  }
  throw new TypeError("ciphertext too long");
}

/** A plain, exactly sized copy (also of cbor-x output, which views a shared buffer); `set` is a memcpy. */
function copyBytes(source: Uint8Array): Uint8Array {
  const out = new Uint8Array(source.length);
  out.set(source);
  return out;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function invalidCiphertext(): InvalidCiphertextException {
  return new InvalidCiphertextException("The ciphertext is invalid.");
}
