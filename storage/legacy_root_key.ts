/**
 * A single root key writing the legacy format 1 (what databases were written
 * with before root keys had ids; the RootKeyring, storage/root_keyring.ts,
 * still reads it): a 256-bit AES-GCM key held only inside a non-extractable
 * CryptoKey; nothing here can print it. Tests build stores on it.
 *
 * Wrapped format: 1-byte format version || 96-bit IV || ciphertext with tag.
 *
 * @module
 */
import { decodeRootKey, readOrCreateKeyFile } from "./root_key_file.ts";
import type { RootWrapper } from "./root_wrapping.ts";

const FORMAT_VERSION = 1;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The root key as a non-extractable AES-256-GCM CryptoKey (format 1; see root_keyring.ts). */
export class RootKey implements RootWrapper {
  #key: CryptoKey;

  private constructor(key: CryptoKey) {
    this.#key = key;
  }

  /** Imports 32 raw bytes and zeroes them afterwards. */
  static async fromBytes(bytes: Uint8Array): Promise<RootKey> {
    if (bytes.length !== KEY_BYTES) {
      throw new Error(`root key must be ${KEY_BYTES} bytes, got ${bytes.length}`);
    }
    try {
      const key = await crypto.subtle.importKey("raw", arrayBacked(bytes), "AES-GCM", false, [
        "encrypt",
        "decrypt",
      ]);
      return new RootKey(key);
    } finally {
      bytes.fill(0);
    }
  }

  /** Encrypts `plaintext` bound to `aad`; returns version || iv || ciphertext+tag. */
  async wrap(plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: arrayBacked(aad) },
      this.#key,
      arrayBacked(plaintext),
    );
    const out = new Uint8Array(1 + IV_BYTES + sealed.byteLength);
    out[0] = FORMAT_VERSION;
    out.set(iv, 1);
    out.set(new Uint8Array(sealed), 1 + IV_BYTES);
    return out;
  }

  /**
   * Decrypts what `wrap` produced with the same `aad`.
   * @throws {Error} when the format is unknown, or the root key or AAD differ.
   */
  async unwrap(wrapped: Uint8Array, aad: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    if (wrapped.length < 1 + IV_BYTES + TAG_BYTES || wrapped[0] !== FORMAT_VERSION) {
      throw new Error("wrapped value has an unknown format");
    }
    const bytes = arrayBacked(wrapped);
    const iv = bytes.subarray(1, 1 + IV_BYTES);
    try {
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv, additionalData: arrayBacked(aad) },
        this.#key,
        bytes.subarray(1 + IV_BYTES),
      );
      return new Uint8Array(plain);
    } catch {
      throw new Error("wrapped value does not unwrap: wrong root key or not bound to this record");
    }
  }

  /** Never shows anything of the key. */
  toString(): string {
    return "[RootKey]";
  }

  /** Never shows anything of the key. */
  [Symbol.for("Deno.customInspect")](): string {
    return "[RootKey]";
  }
}

/** Where the root key comes from: `KMS_ROOT_KEY` (base64) or `KMS_ROOT_KEY_FILE`. */
export interface RootKeySource {
  rootKey?: string | undefined;
  rootKeyFile: string;
}

/**
 * Loads the root key from `rootKey`, else from `rootKeyFile`, else creates that
 * file (mode 0600) with 32 random bytes.
 * @throws {Error} for a value that is not base64 of 32 bytes; the message never contains it.
 */
export async function loadOrCreateRootKey(opts: RootKeySource): Promise<RootKey> {
  if (opts.rootKey !== undefined) {
    return await RootKey.fromBytes(decodeRootKey(opts.rootKey, "KMS_ROOT_KEY"));
  }
  const text = await readOrCreateKeyFile(opts.rootKeyFile);
  return await RootKey.fromBytes(decodeRootKey(text, `root key file ${opts.rootKeyFile}`));
}

/** WebCrypto takes ArrayBuffer-backed views only; nothing here lives in shared memory. */
function arrayBacked(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}
