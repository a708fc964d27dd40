/**
 * Cryptographically secure random bytes from the platform's CSPRNG.
 *
 * Small draws (nonces, IVs, data keys: up to 256 bytes) come from a pooled buffer that one
 * `crypto.getRandomValues` call fills 16 KiB at a time, instead of one call per draw. Each draw
 * is copied out and its bytes in the pool are zeroed at once, so no byte is handed out twice
 * and the pool never holds a secret that was already given away; when the rest of the pool is too
 * short for a draw, it is refilled whole. Larger draws go straight to `crypto.getRandomValues`.
 * Every isolate (the main thread, each crypto worker) has its own pool.
 *
 * @module
 */

/** `crypto.getRandomValues` fills at most this many bytes per call. */
const MAX_CHUNK = 65536;
/** Bytes the pool holds after each refill. */
const POOL_BYTES = 16384;
/** Draws up to this size come from the pool. */
const MAX_POOLED_DRAW = 256;

/** A buffer of CSPRNG output handed out front to back, each byte once, zeroed as it goes. */
export class RandomPool {
  readonly #pool: Uint8Array;
  /** Bytes before this offset were handed out (and zeroed). */
  #next: number;

  /** `buffer` is filled from the CSPRNG before its first draw. */
  constructor(buffer: Uint8Array = new Uint8Array(POOL_BYTES)) {
    if (buffer.length === 0 || buffer.length > MAX_CHUNK) {
      throw new RangeError("RandomPool: the buffer must hold 1 to 65536 bytes");
    }
    this.#pool = buffer;
    this.#next = buffer.length;
  }

  /** Bytes not yet handed out. */
  get remaining(): number {
    return this.#pool.length - this.#next;
  }

  /**
   * `n` random bytes (a fresh array), never bytes handed out before.
   * @throws {RangeError} when `n` is not an integer from 0 to the pool's size.
   */
  draw(n: number): Uint8Array<ArrayBuffer> {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.#pool.length) {
      throw new RangeError("RandomPool: a draw must be 0 to the pool's size");
    }
    if (n > this.remaining) this.#refill();
    const out = new Uint8Array(n);
    const pool = this.#pool;
    const start = this.#next;
    for (let i = 0; i < n; i++) {
      out[i] = pool[start + i]!;
      pool[start + i] = 0;
    }
    this.#next = start + n;
    return out;
  }

  #refill(): void {
    crypto.getRandomValues(this.#pool);
    this.#next = 0;
  }
}

const shared = new RandomPool();

/**
 * Returns `n` fresh random bytes: from this isolate's pool up to 256 bytes, else from
 * `crypto.getRandomValues` directly, chunked past 65536 bytes.
 * @throws {RangeError} when `n` is not a non-negative safe integer.
 */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError("randomBytes: n must be a non-negative integer");
  }
  if (n <= MAX_POOLED_DRAW) return shared.draw(n);
  const out = new Uint8Array(n);
  for (let offset = 0; offset < n; offset += MAX_CHUNK) {
    crypto.getRandomValues(out.subarray(offset, Math.min(n, offset + MAX_CHUNK)));
  }
  return out;
}
