/**
 * The encryption context as AAD: a canonical, length-prefixed byte string.
 *
 * Layout: `count` (uint32 BE), then for each pair `keyLen` (uint32 BE) ||
 * key UTF-8 || `valueLen` (uint32 BE) || value UTF-8, pairs sorted by the
 * UTF-8 bytes of the key (which is Unicode code-point order, not JavaScript's
 * UTF-16 code-unit order). No Unicode normalisation: NFC and NFD forms are
 * different contexts, as in AWS KMS. Length prefixes keep `{"ab":"c"}` and
 * `{"a":"bc"}` apart. Only own enumerable properties are read, so keys such as
 * `__proto__` and `constructor` are ordinary keys.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/encrypt_context.html
 * @module
 */
import { ValidationException } from "./errors.ts";

/** An encryption context: string keys to string values (callers pass null-prototype objects). */
export type EncryptionContext = Readonly<Record<string, string>>;

const utf8 = new TextEncoder();

interface EncodedPair {
  key: Uint8Array;
  value: Uint8Array;
}

/**
 * The canonical bytes of an encryption context; `undefined` and `{}` both give the zero-pair encoding.
 * @throws {ValidationException} when a value is not a string or a key or value is not well-formed UTF-16 (a lone surrogate would otherwise collide with U+FFFD).
 */
export function canonicalEncryptionContext(ctx: EncryptionContext | undefined): Uint8Array {
  const entries = ctx === undefined ? [] : Object.entries(ctx);
  if (entries.length === 0) return new Uint8Array(4);
  return asciiContext(entries) ?? unicodeContext(entries);
}

/**
 * The encoding of a context whose keys and values are all ASCII strings, written character by
 * character (an ASCII string's UTF-8 bytes are its code units, and byte order is string order);
 * null for any other context.
 */
function asciiContext(entries: [string, unknown][]): Uint8Array | null {
  let total = 4;
  for (const [key, value] of entries) {
    if (typeof value !== "string" || !isAscii(key) || !isAscii(value)) return null;
    total += 8 + key.length + value.length;
  }
  if (entries.length > 1) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, entries.length);
  let offset = 4;
  for (const [key, value] of entries as [string, string][]) {
    offset = writeAscii(out, view, offset, key);
    offset = writeAscii(out, view, offset, value);
  }
  return out;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Writes `text`'s length (uint32 BE) and its ASCII bytes at `offset`; the next offset. */
function writeAscii(out: Uint8Array, view: DataView, offset: number, text: string): number {
  view.setUint32(offset, text.length);
  offset += 4;
  for (let i = 0; i < text.length; i++) out[offset + i] = text.charCodeAt(i);
  return offset + text.length;
}

/** The general encoding: any well-formed Unicode, pairs sorted by their keys' UTF-8 bytes. */
function unicodeContext(entries: [string, unknown][]): Uint8Array {
  const pairs: EncodedPair[] = [];
  let total = 4;
  for (const [key, value] of entries) {
    if (typeof value !== "string") {
      throw new ValidationException("Encryption context values must be strings.");
    }
    if (!key.isWellFormed() || !value.isWellFormed()) {
      throw new ValidationException("Encryption context keys and values must be valid Unicode.");
    }
    const pair = { key: utf8.encode(key), value: utf8.encode(value) };
    total += 8 + pair.key.length + pair.value.length;
    pairs.push(pair);
  }
  pairs.sort((a, b) => compareBytes(a.key, b.key));
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, pairs.length);
  let offset = 4;
  for (const { key, value } of pairs) {
    view.setUint32(offset, key.length);
    out.set(key, offset + 4);
    offset += 4 + key.length;
    view.setUint32(offset, value.length);
    out.set(value, offset + 4);
    offset += 4 + value.length;
  }
  return out;
}

/** Lexicographic order of two byte strings (a shorter prefix sorts first). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
