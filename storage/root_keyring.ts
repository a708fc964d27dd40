/**
 * The root keyring: the current root key, which wraps everything written from
 * now on, and previous root keys, which still unwrap what they wrapped until
 * `deno task admin root-key rotate` has re-wrapped it (storage/root_key_rotation.ts).
 *
 * Wrapped formats:
 * - format 1 (legacy, read only): 0x01 || 96-bit IV || ciphertext with tag. It names no key:
 *   unwrap tries each key of the ring (AES-GCM's tag tells the right one).
 * - format 2: 0x02 || 8-byte root-key id || 96-bit IV || ciphertext with tag; the AAD is the
 *   9-byte header followed by the record's AAD (materialAad, credentialAad...).
 *
 * A root-key id is the first 8 bytes of SHA-256("edge-kms root key id v1" || key): it names a
 * key without revealing anything of it, so ids may appear in logs, errors and the database.
 * Key bytes live only inside non-extractable CryptoKeys; nothing here prints them.
 *
 * Where the keys come from: storage/root_key_file.ts.
 *
 * @module
 */
import type { RootWrapper } from "./root_wrapping.ts";

/** Format byte of values that name their root key. */
export const FORMAT_KEYED = 2;
/** Format byte of legacy values (one root key, unnamed). */
export const FORMAT_LEGACY = 1;
/** Bytes of a root-key id. */
export const KEY_ID_BYTES = 8;
/** Bytes of the header of a format-2 value: format byte and key id. */
export const HEADER_BYTES = 1 + KEY_ID_BYTES;

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ID_LABEL = new TextEncoder().encode("edge-kms root key id v1");
const CHECK_AAD = new TextEncoder().encode("edge-kms root key check value");

/** One key of a ring. */
interface Entry {
  /** Hex of the 8-byte id. */
  readonly id: string;
  readonly header: Uint8Array<ArrayBuffer>;
  readonly key: CryptoKey;
}

/**
 * A set of root keys, one of them current. Mutable only through `replace` (a reload): every
 * holder (the store, the admin tool) sees the new keys at once.
 */
export class RootKeyring implements RootWrapper {
  #current: Entry;
  #byId: Map<string, Entry>;

  private constructor(entries: Entry[]) {
    this.#current = entries[0]!;
    this.#byId = new Map(entries.map((e) => [e.id, e]));
  }

  /**
   * Imports raw 32-byte keys, the first one current; zeroes the given arrays.
   * @throws {Error} for no key or a key of the wrong length (the message holds no key byte).
   */
  static async fromBytes(keys: readonly Uint8Array[]): Promise<RootKeyring> {
    try {
      if (keys.length === 0) throw new Error("a root keyring needs at least one key");
      const entries: Entry[] = [];
      for (const bytes of keys) {
        if (bytes.length !== KEY_BYTES) {
          throw new Error(`root key must be ${KEY_BYTES} bytes, got ${bytes.length}`);
        }
        const entry = await importEntry(bytes);
        if (!entries.some((e) => e.id === entry.id)) entries.push(entry);
      }
      return new RootKeyring(entries);
    } finally {
      for (const bytes of keys) bytes.fill(0);
    }
  }

  /** Id (16 hex digits) of the current key: what new values are wrapped under. */
  get currentId(): string {
    return this.#current.id;
  }

  /** Ids of every key of the ring, the current one first. */
  get ids(): string[] {
    return [this.#current.id, ...[...this.#byId.keys()].filter((id) => id !== this.#current.id)];
  }

  /** Whether the ring holds the key of this id. */
  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /** Takes the keys of `other` (a reloaded keyring): later wraps and unwraps use them. */
  replace(other: RootKeyring): void {
    this.#byId = other.#byId;
    this.#current = other.#current;
  }

  /** Encrypts under the current key, bound to `aad`: 0x02 || id || iv || ciphertext+tag. */
  async wrap(plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    return await sealWith(this.#current, plaintext, aad);
  }

  /**
   * Decrypts a format-2 value under the key it names, or a format-1 value under whichever key
   * of the ring opens it.
   * @throws {Error} naming the missing key's id (never a key) when the ring lacks it, or when
   *   the value is malformed, tampered with or bound to another record.
   */
  async unwrap(wrapped: Uint8Array, aad: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    const format = wrapped[0];
    if (format === FORMAT_KEYED && wrapped.length >= HEADER_BYTES + IV_BYTES + TAG_BYTES) {
      const id = wrappedKeyId(wrapped)!;
      const entry = this.#byId.get(id);
      if (entry === undefined) {
        throw new Error(
          `wrapped value is under root key ${id}, which is not in the root keyring ` +
            `(it holds ${this.ids.join(", ")})`,
        );
      }
      return await openWith(entry, wrapped, aad);
    }
    if (format === FORMAT_LEGACY && wrapped.length >= 1 + IV_BYTES + TAG_BYTES) {
      const iv = wrapped.subarray(1, 1 + IV_BYTES);
      const sealed = wrapped.subarray(1 + IV_BYTES);
      for (const entry of this.#byId.values()) {
        const plain = await decrypt(entry.key, iv, sealed, aad);
        if (plain !== null) return plain;
      }
      throw new Error(
        "wrapped value (legacy format) does not unwrap with any key of the root keyring, " +
          "or is not bound to this record",
      );
    }
    throw new Error("wrapped value has an unknown format");
  }

  /** A value that proves possession of the key `id` (stored in root_keys.check_value). */
  async checkValue(id: string): Promise<Uint8Array<ArrayBuffer>> {
    const entry = this.#byId.get(id);
    if (entry === undefined) throw new Error(`root key ${id} is not in the root keyring`);
    return await sealWith(entry, new Uint8Array(0), CHECK_AAD);
  }

  /** Whether `check` is a check value of the key it names, made by a key of this ring. */
  async verifyCheckValue(check: Uint8Array): Promise<boolean> {
    const id = wrappedKeyId(check);
    const entry = id === null ? undefined : this.#byId.get(id);
    if (entry === undefined) return false;
    try {
      await openWith(entry, check, CHECK_AAD);
      return true;
    } catch {
      return false;
    }
  }

  /** Never shows anything of the keys. */
  toString(): string {
    return `[RootKeyring current=${this.currentId}]`;
  }

  /** Never shows anything of the keys. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }
}

/** The root-key id a format-2 value names, or null for any other value. */
export function wrappedKeyId(wrapped: Uint8Array): string | null {
  if (wrapped[0] !== FORMAT_KEYED || wrapped.length < HEADER_BYTES) return null;
  return wrapped.subarray(1, HEADER_BYTES).toHex();
}

/** The 9-byte header of format-2 values under key `id`, for SQL comparisons. */
export function keyedHeader(id: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(HEADER_BYTES);
  out[0] = FORMAT_KEYED;
  out.set(Uint8Array.fromHex(id), 1);
  return out;
}

async function importEntry(bytes: Uint8Array): Promise<Entry> {
  const material = new Uint8Array(ID_LABEL.length + bytes.length);
  material.set(ID_LABEL);
  material.set(bytes, ID_LABEL.length);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", material));
  material.fill(0);
  const idBytes = digest.subarray(0, KEY_ID_BYTES);
  const header = new Uint8Array(HEADER_BYTES);
  header[0] = FORMAT_KEYED;
  header.set(idBytes, 1);
  const key = await crypto.subtle.importKey(
    "raw",
    bytes as Uint8Array<ArrayBuffer>,
    "AES-GCM",
    false,
    ["encrypt", "decrypt"],
  );
  return { id: idBytes.toHex(), header, key };
}

function headerAad(header: Uint8Array, aad: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(header.length + aad.length);
  out.set(header);
  out.set(aad, header.length);
  return out;
}

async function sealWith(
  entry: Entry,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: headerAad(entry.header, aad) },
    entry.key,
    plaintext as Uint8Array<ArrayBuffer>,
  );
  const out = new Uint8Array(HEADER_BYTES + IV_BYTES + sealed.byteLength);
  out.set(entry.header);
  out.set(iv, HEADER_BYTES);
  out.set(new Uint8Array(sealed), HEADER_BYTES + IV_BYTES);
  return out;
}

async function openWith(
  entry: Entry,
  wrapped: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  const plain = await decrypt(
    entry.key,
    wrapped.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES),
    wrapped.subarray(HEADER_BYTES + IV_BYTES),
    headerAad(entry.header, aad),
  );
  if (plain === null) {
    throw new Error(
      `wrapped value does not unwrap under root key ${entry.id}: tampered with or not bound ` +
        "to this record",
    );
  }
  return plain;
}

async function decrypt(
  key: CryptoKey,
  iv: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array<ArrayBuffer> | null> {
  try {
    const plain = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: iv as Uint8Array<ArrayBuffer>,
        additionalData: aad as Uint8Array<ArrayBuffer>,
      },
      key,
      sealed as Uint8Array<ArrayBuffer>,
    );
    return new Uint8Array(plain);
  } catch {
    return null;
  }
}
