/**
 * The symmetric ciphertext envelope: a CBOR array (RFC 8949),
 *
 * `[formatVersion (1 or 2), keyId, materialVersion, nonce (16 bytes), iv (12 bytes), ciphertextWithTag]`
 *
 * where `keyId` is a text string (UUID or `mrk-` + 32 hex), `materialVersion`
 * an unsigned integer below 2^32 and the rest byte strings; the tag is
 * AES-GCM's 16 bytes. The first item also names the cipher: 1 is AES-256-GCM,
 * 2 (`SM4_GCM_FORMAT_VERSION`) the same envelope sealed with SM4-GCM under a
 * China Region's SM4 key (core/region_profile.ts), with SM4-GCM's 12-byte IV
 * and 16-byte tag. It is part of the header, hence of the AAD. Only the
 * shortest (canonical) encoding is accepted, which
 * rejects CBOR tags, indefinite lengths, non-minimal integers, floats and
 * trailing bytes alike.
 *
 * The envelope has one fixed shape, so it is written and read here directly,
 * item by item, without a general CBOR encoder: the bytes are exactly those
 * cbor-x wrote before (core/testdata/ciphertext_blobs_v1.json holds blobs it
 * wrote; core/ciphertext_blob_fixtures_test.ts decodes and decrypts them).
 *
 * Overhead over the plaintext: 89 bytes for 8 to 239 bytes of plaintext, 90
 * bytes up to 4096 (a 4096-byte plaintext gives a 4186-byte blob, against
 * AWS's 6144-byte limit), plus 1 to 4 bytes once the material version
 * reaches 24.
 *
 * @module
 */
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
/** CBOR initial byte of the envelope: array of 6 items. */
const ARRAY_OF_6 = 0x86;
/** CBOR initial byte of the header: array of 5 items. */
const ARRAY_OF_5 = 0x85;
/** CBOR major types used here (RFC 8949 section 3.1). */
const UNSIGNED = 0;
const BYTES = 2;
const TEXT = 3;
const ARRAY = 4;

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
  if (!(bytes instanceof Uint8Array)) throw invalidCiphertext();
  const reader = new CanonicalReader(bytes);
  if (reader.head(ARRAY) !== 6) throw invalidCiphertext();
  const version = reader.head(UNSIGNED);
  if (!isFormatVersion(version)) throw invalidCiphertext();
  const keyId = reader.asciiText();
  const materialVersion = reader.head(UNSIGNED);
  if (keyId === null || !isKeyId(keyId) || !isMaterialVersion(materialVersion)) {
    throw invalidCiphertext();
  }
  const nonce = reader.byteString();
  const iv = reader.byteString();
  const ciphertext = reader.byteString();
  if (
    nonce.length !== NONCE_BYTES || iv.length !== IV_BYTES || ciphertext.length < TAG_BYTES ||
    !reader.atEnd()
  ) {
    throw invalidCiphertext();
  }
  return { keyId, materialVersion, nonce, iv, ciphertext, ...cipherField(version) };
}

/**
 * Reads CBOR items of the shortest encoding only, front to back; anything else (another major
 * type, a longer head than needed, an indefinite length, bytes past the end) is an invalid
 * ciphertext. Byte strings come out as fresh copies.
 */
class CanonicalReader {
  readonly #bytes: Uint8Array;
  #offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** The argument of the next head, which must be of `major` type and shortest. */
  head(major: number): number {
    const initial = this.#take(1);
    if (initial >>> 5 !== major) throw invalidCiphertext();
    const info = initial & 0x1f;
    if (info < 24) return info;
    if (info === 24) return this.#shortest(this.#take(1), 24);
    if (info === 25) return this.#shortest(this.#take(2), 0x100);
    if (info === 26) return this.#shortest(this.#take(4), 0x1_0000);
    throw invalidCiphertext();
  }

  /** The next byte string, copied. */
  byteString(): Uint8Array {
    const length = this.head(BYTES);
    const start = this.#offset;
    this.#skip(length);
    return this.#bytes.slice(start, start + length);
  }

  /** The next text string when it is all ASCII, else null. */
  asciiText(): string | null {
    const length = this.head(TEXT);
    const start = this.#offset;
    this.#skip(length);
    let text = "";
    for (let i = start; i < start + length; i++) {
      const byte = this.#bytes[i]!;
      if (byte >= 0x80) return null;
      text += String.fromCharCode(byte);
    }
    return text;
  }

  atEnd(): boolean {
    return this.#offset === this.#bytes.length;
  }

  /** The next `count` bytes as a big-endian unsigned integer. */
  #take(count: number): number {
    const start = this.#offset;
    this.#skip(count);
    let value = 0;
    for (let i = start; i < start + count; i++) value = value * 256 + this.#bytes[i]!;
    return value;
  }

  #skip(count: number): void {
    if (count > this.#bytes.length - this.#offset) throw invalidCiphertext();
    this.#offset += count;
  }

  #shortest(value: number, minimum: number): number {
    if (value < minimum) throw invalidCiphertext();
    return value;
  }
}

/**
 * The canonical CBOR encoding of the header fields `[1, keyId, materialVersion, nonce, iv]`, bound into the AAD.
 * @throws {TypeError} when a header field has the wrong type or length.
 */
export function headerBytes(blob: Omit<CiphertextBlob, "ciphertext">): Uint8Array {
  checkHeader(blob);
  // The key id is ASCII (isKeyId), one byte per character.
  const keyLength = blob.keyId.length;
  const out = new Uint8Array(
    1 + 1 + headLength(keyLength) + keyLength + headLength(blob.materialVersion) +
      1 + NONCE_BYTES + 1 + IV_BYTES,
  );
  out[0] = ARRAY_OF_5;
  out[1] = formatVersionOf(blob);
  let at = writeHead(out, 2, TEXT, keyLength);
  for (let i = 0; i < keyLength; i++) out[at++] = blob.keyId.charCodeAt(i);
  at = writeHead(out, at, UNSIGNED, blob.materialVersion);
  at = writeHead(out, at, BYTES, NONCE_BYTES);
  out.set(blob.nonce, at);
  at = writeHead(out, at + NONCE_BYTES, BYTES, IV_BYTES);
  out.set(blob.iv, at);
  return out;
}

/** Bytes of the shortest CBOR head whose argument is `value` (below 2^32). */
function headLength(value: number): number {
  if (value < 24) return 1;
  if (value < 0x100) return 2;
  if (value < 0x1_0000) return 3;
  return 5;
}

/** Writes the shortest CBOR head of `major` type and argument `value` at `at`; the next offset. */
function writeHead(out: Uint8Array, at: number, major: number, value: number): number {
  const type = major << 5;
  if (value < 24) {
    out[at] = type | value;
    return at + 1;
  }
  if (value < 0x100) {
    out[at] = type | 24;
    out[at + 1] = value;
    return at + 2;
  }
  if (value < 0x1_0000) {
    out[at] = type | 25;
    out[at + 1] = value >>> 8;
    out[at + 2] = value & 0xff;
    return at + 3;
  }
  out[at] = type | 26;
  out[at + 1] = value >>> 24;
  out[at + 2] = (value >>> 16) & 0xff;
  out[at + 3] = (value >>> 8) & 0xff;
  out[at + 4] = value & 0xff;
  return at + 5;
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

function isMaterialVersion(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 &&
    value <= MAX_MATERIAL_VERSION;
}

/** The shortest CBOR head of a byte string of `length` bytes (RFC 8949 section 4.2.1). */
function byteStringHead(length: number): Uint8Array {
  if (length > 0xffff_ffff) throw new TypeError("ciphertext too long");
  const head = new Uint8Array(headLength(length));
  writeHead(head, 0, BYTES, length);
  return head;
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

function invalidCiphertext(): InvalidCiphertextException {
  return new InvalidCiphertextException("The ciphertext is invalid.");
}
