/**
 * The symmetric hot path of China Regions: Encrypt, Decrypt and
 * GenerateDataKey* under a KMS key's 128-bit SM4 material, in the same
 * envelope as AES keys (core/ciphertext_blob.ts) with format version 2.
 *
 * As in `symmetric.ts`, each encryption draws a random 128-bit nonce and
 * derives a one-time key, here a 128-bit SM4 key `HKDF-SM3(ikm = material,
 * salt = nonce, info = "edge-kms/v1/sm4-gcm-encrypt" || keyId)` (RFC 5869 with
 * SM3, as RFC 8998's TLS key schedule uses it), then seals with SM4-GCM under a
 * random 96-bit IV and `AAD = headerBytes(blob) || canonical encryption
 * context`. Only ShangMi algorithms touch China Regions' keys and data.
 *
 * `symmetric.ts` hands blobs and material here; a blob whose cipher does not
 * suit the material (a format byte changed, material of the other size) is an
 * invalid ciphertext, never a fault.
 *
 * @module
 */
import { hkdf } from "@noble/hashes/hkdf.js";
import { type CiphertextBlob, encodeCiphertextBlob, headerBytes } from "../ciphertext_blob.ts";
import { InvalidCiphertextException } from "../errors.ts";
import { symmetricCipherOf } from "../region_profile.ts";
import type { SecretBytes } from "../secret.ts";
import { randomBytes } from "./random.ts";
import { sm3 } from "./sm3.ts";
import { SM4_GCM_IV_BYTES, SM4_GCM_KEY_BYTES, sm4GcmDecrypt, sm4GcmEncrypt } from "./sm4_gcm.ts";

const NONCE_BYTES = 16;
const INFO_PREFIX = new TextEncoder().encode("edge-kms/v1/sm4-gcm-encrypt");
const utf8 = new TextEncoder();

/** Whether symmetric material is SM4 material (it seals with SM4-GCM). */
export function isSm4Material(material: SecretBytes): boolean {
  return symmetricCipherOf(material.length) === "SM4_GCM";
}

/**
 * Encrypts `plaintext` under a key's SM4 material and returns the encoded ciphertext blob.
 * @throws {TypeError} when the key id, material version or material (16 bytes) is malformed.
 */
export function sm4EncryptWithKeyMaterial(opts: {
  keyId: string;
  materialVersion: number;
  material: SecretBytes;
  plaintext: Uint8Array;
  context: Uint8Array;
}): Uint8Array {
  if (!isSm4Material(opts.material)) throw new TypeError("SM4 key material must be 16 bytes");
  const random = randomBytes(NONCE_BYTES + SM4_GCM_IV_BYTES);
  const header = {
    keyId: opts.keyId,
    materialVersion: opts.materialVersion,
    nonce: random.subarray(0, NONCE_BYTES),
    iv: random.subarray(NONCE_BYTES),
    cipher: "SM4_GCM" as const,
  };
  const headerAad = headerBytes(header);
  const key = deriveKey(opts.material, header.nonce, opts.keyId);
  try {
    const ciphertext = sm4GcmEncrypt(
      key,
      header.iv,
      opts.plaintext,
      concat(headerAad, opts.context),
    );
    return encodeCiphertextBlob({ ...header, ciphertext }, headerAad);
  } finally {
    key.fill(0);
  }
}

/**
 * Authenticates and decrypts a decoded SM4-GCM blob under the material of the version it names.
 * @throws {InvalidCiphertextException} when the blob is not an SM4-GCM blob, the material not SM4
 *   material, or authentication fails.
 */
export function sm4DecryptWithKeyMaterial(
  blob: CiphertextBlob,
  opts: { material: SecretBytes; context: Uint8Array },
): Uint8Array {
  if (blob.cipher !== "SM4_GCM" || !isSm4Material(opts.material)) {
    throw new InvalidCiphertextException("The ciphertext is invalid.");
  }
  const aad = concat(headerBytes(blob), opts.context);
  const key = deriveKey(opts.material, blob.nonce, blob.keyId);
  try {
    return sm4GcmDecrypt(key, blob.iv, blob.ciphertext, aad);
  } finally {
    key.fill(0);
  }
}

/** The one-time SM4 key for one blob. */
function deriveKey(material: SecretBytes, nonce: Uint8Array, keyId: string): Uint8Array {
  const info = concat(INFO_PREFIX, utf8.encode(keyId));
  return hkdf(sm3, material.expose(), nonce, info, SM4_GCM_KEY_BYTES);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
