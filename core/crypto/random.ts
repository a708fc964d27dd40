/**
 * Cryptographically secure random bytes from the platform's CSPRNG.
 *
 * @module
 */

/** `crypto.getRandomValues` fills at most this many bytes per call. */
const MAX_CHUNK = 65536;

/**
 * Returns `n` fresh random bytes from `crypto.getRandomValues`, chunked past 65536 bytes.
 * @throws {RangeError} when `n` is not a non-negative safe integer.
 */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError("randomBytes: n must be a non-negative integer");
  }
  const out = new Uint8Array(n);
  for (let offset = 0; offset < n; offset += MAX_CHUNK) {
    crypto.getRandomValues(out.subarray(offset, Math.min(n, offset + MAX_CHUNK)));
  }
  return out;
}
