/**
 * Where the root keyring comes from (core/config.ts): `KMS_ROOT_KEY` (base64,
 * the current key) with optionally `KMS_ROOT_KEYS_PREVIOUS` (comma-separated
 * base64 keys); or the key file `KMS_ROOT_KEY_FILE`: one base64 key per line,
 * the first the current one, `#` comments and blank lines ignored, created
 * with mode 0600 and one fresh key when missing. Errors name the variable or
 * file and the fix, never a key.
 *
 * @module
 */
import { dirname } from "node:path";
import { StartupError } from "../core/config.ts";
import { RootKeyring } from "./root_keyring.ts";

const KEY_BYTES = 32;

/** Where the keyring comes from (core/config.ts). */
export interface KeyringSource {
  /** `KMS_ROOT_KEY`: the current key, base64. */
  rootKey?: string | undefined;
  /** `KMS_ROOT_KEYS_PREVIOUS`: previous keys, comma-separated base64 (with `rootKey` only). */
  rootKeysPrevious?: string | undefined;
  /** `KMS_ROOT_KEY_FILE`: one base64 key per line, current first; created when missing. */
  rootKeyFile: string;
  /** False: a missing file is an error (a reload must never invent a key). Default true. */
  create?: boolean;
}

/**
 * Loads the keyring from `rootKey` (+ `rootKeysPrevious`), else from `rootKeyFile`, else creates
 * that file (mode 0600) with one fresh key.
 * @throws {Error} for a value that is not base64 of 32 bytes; the message never contains it.
 */
export async function loadOrCreateKeyring(source: KeyringSource): Promise<RootKeyring> {
  const keyring = await readKeyring(source);
  if (keyring !== null) return keyring;
  if (source.create === false) {
    throw new Deno.errors.NotFound(`KMS_ROOT_KEY_FILE ${source.rootKeyFile} does not exist`);
  }
  const text = await readOrCreateKeyFile(source.rootKeyFile);
  return await RootKeyring.fromBytes(parseKeyringFile(text, source.rootKeyFile));
}

/**
 * Reads the keyring from `rootKey` (+ `rootKeysPrevious`), else from `rootKeyFile`; null when
 * neither is there (no `KMS_ROOT_KEY`, no file). Never creates anything.
 * @throws {StartupError} for a value that is not base64 of 32 bytes, a file that cannot be read
 *   or holds no key; the message names the variable or file and never contains a key.
 */
export async function readKeyring(source: KeyringSource): Promise<RootKeyring | null> {
  if (source.rootKey !== undefined) {
    const keys = [decodeRootKey(source.rootKey, "KMS_ROOT_KEY")];
    const previous = (source.rootKeysPrevious ?? "").split(",").map((s) => s.trim());
    try {
      previous.filter((s) => s !== "").forEach((value, i) =>
        keys.push(decodeRootKey(value, `KMS_ROOT_KEYS_PREVIOUS (key ${i + 1})`))
      );
    } catch (e) {
      for (const key of keys) key.fill(0);
      throw e;
    }
    return await RootKeyring.fromBytes(keys);
  }
  if (source.rootKeysPrevious !== undefined && source.rootKeysPrevious.trim() !== "") {
    throw new StartupError(
      "KMS_ROOT_KEYS_PREVIOUS goes with KMS_ROOT_KEY; with KMS_ROOT_KEY_FILE, list the previous " +
        "keys in the file, one per line after the current one",
    );
  }
  const text = await readKeyFile(source.rootKeyFile);
  if (text === null) return null;
  return await RootKeyring.fromBytes(parseKeyringFile(text, source.rootKeyFile));
}

/** Creates the keyring file of `source` (one fresh key, mode 0600; its directory must exist). */
export async function createKeyring(source: KeyringSource): Promise<RootKeyring> {
  const text = await createKeyFile(source.rootKeyFile);
  return await RootKeyring.fromBytes(parseKeyringFile(text, source.rootKeyFile));
}

/** The keys of a keyring file: base64 lines, current first; `#` comments and blank lines skipped. */
export function parseKeyringFile(text: string, path: string): Uint8Array[] {
  const keys: Uint8Array[] = [];
  const lines = text.split("\n");
  try {
    lines.forEach((raw, i) => {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) return;
      keys.push(decodeRootKey(line, `KMS_ROOT_KEY_FILE ${path} (line ${i + 1})`));
    });
  } catch (e) {
    for (const key of keys) key.fill(0);
    throw e;
  }
  if (keys.length === 0) {
    throw new StartupError(
      `KMS_ROOT_KEY_FILE ${path} holds no key: restore the keyring file from its backup ` +
        "(or remove the empty file to have a new key made for a new database)",
    );
  }
  return keys;
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
