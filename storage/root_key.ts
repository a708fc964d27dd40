/**
 * The root key: a 256-bit AES-GCM key that wraps key material and credential
 * secrets before they reach the database. Its bytes live only inside a
 * non-extractable CryptoKey; nothing here can print them.
 *
 * Wrapped format: 1-byte format version || 96-bit IV || ciphertext with tag.
 *
 * @module
 */
import { dirname } from "node:path";
import { StartupError } from "../core/config.ts";

const FORMAT_VERSION = 1;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const encoder = new TextEncoder();

/** What the store wraps and unwraps with: a RootKey, or a RootKeyring (storage/root_keyring.ts). */
export interface RootWrapper {
  wrap(plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array<ArrayBuffer>>;
  unwrap(wrapped: Uint8Array, aad: Uint8Array): Promise<Uint8Array<ArrayBuffer>>;
}

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

/** AAD of wrapped key material: binds the purpose, key ARN and material version. */
export function materialAad(keyArn: string, version: number): Uint8Array<ArrayBuffer> {
  return lengthPrefixed(["key-material", keyArn, String(version)]);
}

/** AAD of a wrapped credential secret: binds the purpose and access key id. */
export function credentialAad(accessKeyId: string): Uint8Array<ArrayBuffer> {
  return lengthPrefixed(["credential-secret", accessKeyId]);
}

/** AAD of a wrapped import wrapping key (GetParametersForImport): binds the purpose, token id and key ARN. */
export function importParametersAad(tokenId: string, keyArn: string): Uint8Array<ArrayBuffer> {
  return lengthPrefixed(["import-wrapping-key", tokenId, keyArn]);
}

/** WebCrypto takes ArrayBuffer-backed views only; nothing here lives in shared memory. */
function arrayBacked(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}

function lengthPrefixed(fields: readonly string[]): Uint8Array<ArrayBuffer> {
  const parts = fields.map((field) => encoder.encode(field));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + 4 + part.length, 0));
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const part of parts) {
    view.setUint32(offset, part.length);
    out.set(part, offset + 4);
    offset += 4 + part.length;
  }
  return out;
}

/** How to make a valid root key, for error messages. */
const NEW_KEY_HINT = "a root key is the base64 of 32 random bytes (`openssl rand -base64 32`)";

/**
 * 32 key bytes from base64; errors name `origin`, never the value.
 * @throws {StartupError} for text that is not base64 of 32 bytes.
 */
export function decodeRootKey(base64: string, origin: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.fromBase64(base64.trim());
  } catch {
    throw new StartupError(`${origin} is not valid base64: ${NEW_KEY_HINT}`);
  }
  if (bytes.length !== KEY_BYTES) {
    const length = bytes.length;
    bytes.fill(0);
    throw new StartupError(
      `${origin} must be base64 of ${KEY_BYTES} bytes, got ${length} bytes: ${NEW_KEY_HINT}`,
    );
  }
  return bytes;
}

/**
 * The text of the root key file at `path`, or null when there is none; never creates it.
 * @throws {StartupError} for a path that is a directory or cannot be read, naming the fix.
 */
export async function readKeyFile(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    if (e instanceof Deno.errors.IsADirectory || (e as { code?: string }).code === "EISDIR") {
      throw new StartupError(
        `KMS_ROOT_KEY_FILE ${path} is a directory: point it at the root keyring file`,
      );
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new StartupError(
        `KMS_ROOT_KEY_FILE ${path} is not readable (permission denied): give the KMS's user ` +
          "read access (chmod 600, owned by that user)",
      );
    }
    if (e instanceof TypeError || e instanceof Deno.errors.InvalidData) {
      throw new StartupError(
        `KMS_ROOT_KEY_FILE ${path} is not text (invalid UTF-8): it must hold base64 root keys, one per line`,
      );
    }
    throw new StartupError(
      `KMS_ROOT_KEY_FILE ${path} cannot be read (${
        e instanceof Error ? e.message : e
      }): fix the file`,
    );
  }
}

/**
 * Creates the root key file `path` (mode 0600) with one fresh key and returns its text; the
 * text of the file another process created first when there is one. Its directory must exist.
 */
export async function createKeyFile(path: string): Promise<string> {
  const raw = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
  const text = raw.toBase64() + "\n";
  raw.fill(0);
  try {
    await Deno.writeTextFile(path, text, { mode: 0o600, createNew: true });
    return text;
  } catch (e) {
    // Another process created it first: use theirs.
    if (e instanceof Deno.errors.AlreadyExists) return await Deno.readTextFile(path);
    throw e;
  }
}

/** The text of a root key file; creates it (mode 0600) with one fresh key when missing. */
export async function readOrCreateKeyFile(path: string): Promise<string> {
  const text = await readKeyFile(path);
  if (text !== null) return text;
  await Deno.mkdir(dirname(path), { recursive: true });
  return await createKeyFile(path);
}
