/**
 * Secret bytes (key material, plaintext data keys, credential secrets) as a
 * type that never prints: `toString`, `toJSON` and Deno's inspector all give
 * `[redacted]`. The bytes come out only through the greppable `expose()`.
 *
 * @module
 */

const REDACTED = "[redacted]";

/** Bytes that must never reach a log, an error message or the database unwrapped. */
export class SecretBytes {
  #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** Number of secret bytes. */
  get length(): number {
    return this.#bytes.length;
  }

  /** The raw bytes; every call site is a place where the secret is used on purpose. */
  expose(): Uint8Array {
    return this.#bytes;
  }

  /** Zeroes the bytes once they are no longer needed. */
  wipe(): void {
    this.#bytes.fill(0);
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.for("Deno.customInspect")](): string {
    return REDACTED;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return REDACTED;
  }
}
