/**
 * What the stores wrap under the root key: the RootWrapper they wrap and
 * unwrap with (the RootKeyring, storage/root_keyring.ts; or a single legacy
 * key, storage/legacy_root_key.ts), and the AAD each kind of wrapped value is
 * bound to, so a value copied to another row does not unwrap there.
 *
 * @module
 */

const encoder = new TextEncoder();

/** What the store wraps and unwraps with: a RootKeyring (storage/root_keyring.ts) or a RootKey (storage/legacy_root_key.ts). */
export interface RootWrapper {
  wrap(plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array<ArrayBuffer>>;
  unwrap(wrapped: Uint8Array, aad: Uint8Array): Promise<Uint8Array<ArrayBuffer>>;
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
