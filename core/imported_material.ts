/**
 * The cryptography of importing key material (BYOK), pure of storage:
 * import tokens, unwrapping the material under a GetParametersForImport
 * wrapping key, checking the material against the key spec, and the
 * KeyMaterialId of imported material.
 *
 * - Wrapping algorithms (AWS `AlgorithmSpec`): RSAES_OAEP_SHA_1/SHA_256 are
 *   RSA-OAEP of the material itself (OAEP hash = MGF1 hash, empty label);
 *   RSA_AES_KEY_WRAP_SHA_1/SHA_256 are RSA-OAEP of an ephemeral AES key
 *   followed by the material wrapped under that key with AES key wrap with
 *   padding (RFC 5649), the two concatenated; SM2PKE (China Regions only) is
 *   SM2 public-key encryption of the material. RSAES_PKCS1_V1_5 is no longer
 *   accepted (AWS stopped on 10 October 2023).
 * - Material, as AWS requires it: SYMMETRIC_DEFAULT 32 bytes (16, SM4, in China
 *   Regions: core/region_profile.ts); HMAC_224 28..64,
 *   HMAC_256 32..64, HMAC_384 48..128, HMAC_512 64..128 bytes; asymmetric keys
 *   a DER PKCS#8 private key of the spec's type and size. Asymmetric material is
 *   checked for consistency (an EC key's embedded public point must be its own,
 *   an RSA key must sign what its public key verifies) and stored re-encoded in
 *   the layout generated keys have (core/crypto/key_encoding.ts), so Sign,
 *   Decrypt, GetPublicKey and DeriveSharedSecret treat it like any other key.
 * - KeyMaterialId: AWS derives it from the key id and the material. Here:
 *   symmetric and HMAC material, HMAC-SHA-256 keyed by the material over
 *   "KeyMaterialId" || 0 || key id (a commitment that reveals nothing of the
 *   material); asymmetric material, SHA-256 of that label, 0 and the public key
 *   (SPKI). Re-importing the same material gives the same id; the id is what a
 *   re-import is compared with after the material itself was deleted.
 * - Import token: 0x01 || token id (16 bytes) || ParametersValidTo (uint64 ms,
 *   big-endian) || 32 random bytes. It names stored parameters; the store keeps
 *   only its SHA-256. The validity in it only tells an expired token whose
 *   parameters were already purged from an unknown one.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys.html
 * @module
 */
import { createDecipheriv, timingSafeEqual } from "node:crypto";
import {
  decodePkcs8,
  EC_POINTS,
  type EcCurve,
  encodeEcPkcs8,
  encodeEcSpki,
} from "./crypto/key_encoding.ts";
import { encodeEd25519Pkcs8, publicKeyFromPkcs8 } from "./crypto/key_encoding.ts";
import { type MlDsaParameterSet, mlDsaPublicKeyFromPkcs8 } from "./crypto/ml_dsa.ts";
import { randomBytes } from "./crypto/random.ts";
import { RsaOaepKey } from "./crypto/rsa_oaep.ts";
import { sm2Decrypt } from "./crypto/sm2.ts";
import { IncorrectKeyMaterialException, InvalidCiphertextException } from "./errors.ts";
import { symmetricKeyBytes } from "./region_profile.ts";
import { SecretBytes } from "./secret.ts";
import type { KeySpec } from "./types.ts";

/** AWS `AlgorithmSpec` (wrapping algorithms of GetParametersForImport). */
export type WrappingAlgorithm =
  | "RSAES_PKCS1_V1_5"
  | "RSAES_OAEP_SHA_1"
  | "RSAES_OAEP_SHA_256"
  | "RSA_AES_KEY_WRAP_SHA_1"
  | "RSA_AES_KEY_WRAP_SHA_256"
  | "SM2PKE";

/** AWS `WrappingKeySpec`. */
export type WrappingKeySpec = "RSA_2048" | "RSA_3072" | "RSA_4096" | "SM2";

/** How long a public key and import token stay valid: 24 hours. */
export const IMPORT_PARAMETERS_VALIDITY_MS = 24 * 60 * 60 * 1000;
/** The latest ValidTo ImportKeyMaterial accepts: 365 days after the request. */
export const MAX_VALID_TO_MS = 365 * 24 * 60 * 60 * 1000;

const TOKEN_VERSION = 1;
const TOKEN_ID_BYTES = 16;
const TOKEN_SECRET_BYTES = 32;
const TOKEN_BYTES = 1 + TOKEN_ID_BYTES + 8 + TOKEN_SECRET_BYTES;

/** HMAC key material lengths AWS accepts on import (bytes, inclusive). */
export const HMAC_IMPORT_BYTES: Readonly<Partial<Record<KeySpec, readonly [number, number]>>> = {
  HMAC_224: [28, 64],
  HMAC_256: [32, 64],
  HMAC_384: [48, 128],
  HMAC_512: [64, 128],
};

const EC_CURVE_OF: Readonly<Partial<Record<KeySpec, EcCurve>>> = {
  ECC_NIST_P256: "P-256",
  ECC_NIST_P384: "P-384",
  ECC_NIST_P521: "P-521",
  ECC_SECG_P256K1: "secp256k1",
  SM2: "SM2",
};

const RSA_BITS: Readonly<Partial<Record<KeySpec, number>>> = {
  RSA_2048: 2048,
  RSA_3072: 3072,
  RSA_4096: 4096,
};

const ML_DSA_OF: Readonly<Partial<Record<KeySpec, MlDsaParameterSet>>> = {
  ML_DSA_44: "ML-DSA-44",
  ML_DSA_65: "ML-DSA-65",
  ML_DSA_87: "ML-DSA-87",
};

const encoder = new TextEncoder();

// --- import tokens -------------------------------------------------------------------

/** A fresh import token and the id that names its stored parameters. */
export function newImportToken(validTo: number): { token: Uint8Array; tokenId: string } {
  const token = new Uint8Array(TOKEN_BYTES);
  token[0] = TOKEN_VERSION;
  const id = randomBytes(TOKEN_ID_BYTES);
  token.set(id, 1);
  new DataView(token.buffer).setBigUint64(1 + TOKEN_ID_BYTES, BigInt(validTo));
  token.set(randomBytes(TOKEN_SECRET_BYTES), 1 + TOKEN_ID_BYTES + 8);
  return { token, tokenId: id.toHex() };
}

/** The token id and validity an import token carries, or null for bytes that are no token. */
export function parseImportToken(token: Uint8Array): { tokenId: string; validTo: number } | null {
  if (token.length !== TOKEN_BYTES || token[0] !== TOKEN_VERSION) return null;
  const view = new DataView(token.buffer, token.byteOffset, token.byteLength);
  const validTo = Number(view.getBigUint64(1 + TOKEN_ID_BYTES));
  return { tokenId: token.subarray(1, 1 + TOKEN_ID_BYTES).toHex(), validTo };
}

/** SHA-256 of an import token (what the store keeps). */
export async function importTokenHash(token: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", Uint8Array.from(token)));
}

/** Whether two hashes are equal, in constant time. */
export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

// --- unwrapping --------------------------------------------------------------------

/**
 * The material `wrapped` carries, unwrapped with the wrapping private key (PKCS#8) under the
 * wrapping algorithm the parameters were made for.
 * @throws {InvalidCiphertextException} when it does not unwrap (no detail of why).
 */
export async function unwrapKeyMaterial(
  algorithm: string,
  privateKey: SecretBytes,
  wrapped: Uint8Array,
): Promise<SecretBytes> {
  switch (algorithm) {
    case "RSAES_OAEP_SHA_1":
    case "RSAES_OAEP_SHA_256": {
      const key = await RsaOaepKey.fromPkcs8(privateKey.expose(), algorithm);
      return await key.decrypt(wrapped);
    }
    case "RSA_AES_KEY_WRAP_SHA_1":
    case "RSA_AES_KEY_WRAP_SHA_256": {
      const oaep = algorithm === "RSA_AES_KEY_WRAP_SHA_1"
        ? "RSAES_OAEP_SHA_1"
        : "RSAES_OAEP_SHA_256";
      const key = await RsaOaepKey.fromPkcs8(privateKey.expose(), oaep);
      if (wrapped.length <= key.modulusBytes) throw new InvalidCiphertextException();
      const aesKey = await key.decrypt(wrapped.subarray(0, key.modulusBytes));
      try {
        return aesKeyUnwrapWithPadding(aesKey, wrapped.subarray(key.modulusBytes));
      } finally {
        aesKey.wipe();
      }
    }
    case "SM2PKE": {
      const decoded = decodePkcs8(privateKey.expose());
      if (decoded.type !== "EC" || decoded.curve !== "SM2") throw new InvalidCiphertextException();
      try {
        return sm2Decrypt(decoded.scalar.expose(), wrapped);
      } finally {
        decoded.scalar.wipe();
      }
    }
    default:
      throw new InvalidCiphertextException();
  }
}

/** RFC 5649 IV (alternative initial value) as OpenSSL's `-iv A65959A6` gives it. */
const KWP_IV = Uint8Array.fromHex("a65959a6");

/**
 * AES key wrap with padding (RFC 5649) unwrap, through OpenSSL's `id-aes<n>-wrap-pad` in
 * node:crypto (WebCrypto's AES-KW is RFC 3394 only).
 * @throws {InvalidCiphertextException} for a wrong key length or an integrity check that fails.
 */
function aesKeyUnwrapWithPadding(key: SecretBytes, wrapped: Uint8Array): SecretBytes {
  const cipher = { 16: "id-aes128-wrap-pad", 24: "id-aes192-wrap-pad", 32: "id-aes256-wrap-pad" }[
    key.length
  ];
  if (cipher === undefined || wrapped.length < 16 || wrapped.length % 8 !== 0) {
    throw new InvalidCiphertextException();
  }
  try {
    const decipher = createDecipheriv(cipher, key.expose(), KWP_IV);
    const head = decipher.update(wrapped);
    const tail = decipher.final();
    const out = new Uint8Array(head.length + tail.length);
    out.set(head);
    out.set(tail, head.length);
    head.fill(0);
    tail.fill(0);
    return new SecretBytes(out);
  } catch {
    throw new InvalidCiphertextException();
  }
}

// --- what material a key spec accepts ---------------------------------------------------

/** Imported material as stored, with the public key of asymmetric material. */
export interface ImportableMaterial {
  readonly material: SecretBytes;
  readonly publicKey: Uint8Array | null;
}

/**
 * Checks unwrapped material against the key spec as AWS does (symmetric material by the key's
 * `region`: 16 bytes in China Regions, else 32) and returns it in the form
 * generated material of that spec has (the input is wiped when it is re-encoded).
 * @throws {IncorrectKeyMaterialException} material of the wrong length, type, curve or size,
 *   malformed or inconsistent.
 */
export async function importableMaterial(
  spec: KeySpec,
  material: SecretBytes,
  region = "",
): Promise<ImportableMaterial> {
  if (spec === "SYMMETRIC_DEFAULT") {
    const bytes = symmetricKeyBytes(region);
    if (material.length !== bytes) {
      throw incorrect(`Key material for ${spec} keys must be ${bytes} bytes.`);
    }
    return { material, publicKey: null };
  }
  const hmac = HMAC_IMPORT_BYTES[spec];
  if (hmac !== undefined) {
    if (material.length < hmac[0] || material.length > hmac[1]) {
      throw incorrect(`Key material for ${spec} keys must be ${hmac[0]} to ${hmac[1]} bytes.`);
    }
    return { material, publicKey: null };
  }
  try {
    const curve = EC_CURVE_OF[spec];
    if (curve !== undefined) return importEc(curve, material);
    if (spec === "ECC_NIST_EDWARDS25519") return importEd25519(material);
    const bits = RSA_BITS[spec];
    if (bits !== undefined) return await importRsa(bits, material);
    const mlDsa = ML_DSA_OF[spec];
    if (mlDsa !== undefined) {
      const publicKey = mlDsaPublicKeyFromPkcs8(mlDsa, material.expose());
      return { material, publicKey };
    }
  } catch (error) {
    if (error instanceof IncorrectKeyMaterialException) throw error;
    throw incorrect(`Key material is not a DER PKCS#8 private key of a ${spec} key.`);
  }
  throw incorrect(`Key material cannot be imported into ${spec} keys.`);
}

function importEc(curve: EcCurve, material: SecretBytes): ImportableMaterial {
  const decoded = decodePkcs8(material.expose());
  if (decoded.type !== "EC" || decoded.curve !== curve) {
    throw incorrect(`Key material is not a private key on curve ${curve}.`);
  }
  try {
    const scalar = decoded.scalar.expose();
    let d = 0n;
    for (const byte of scalar) d = (d << 8n) | BigInt(byte);
    const point = EC_POINTS[curve].BASE.multiply(d).toBytes(false);
    d = 0n;
    if (decoded.point !== undefined && !sameHash(decoded.point, point)) {
      throw incorrect("The public key in the key material does not belong to its private key.");
    }
    const canonical = encodeEcPkcs8(curve, { scalar, point });
    material.wipe();
    return { material: new SecretBytes(canonical), publicKey: encodeEcSpki(curve, point) };
  } finally {
    decoded.scalar.wipe();
  }
}

function importEd25519(material: SecretBytes): ImportableMaterial {
  const decoded = decodePkcs8(material.expose());
  if (decoded.type !== "ED25519") throw incorrect("Key material is not an Ed25519 private key.");
  try {
    const canonical = encodeEd25519Pkcs8(decoded.seed.expose());
    material.wipe();
    return { material: new SecretBytes(canonical), publicKey: publicKeyFromPkcs8(canonical) };
  } finally {
    decoded.seed.wipe();
  }
}

async function importRsa(bits: number, material: SecretBytes): Promise<ImportableMaterial> {
  const decoded = decodePkcs8(material.expose());
  if (decoded.type !== "RSA") throw incorrect("Key material is not an RSA private key.");
  const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const privateKey = await crypto.subtle.importKey(
    "pkcs8",
    Uint8Array.from(material.expose()),
    algorithm,
    true,
    ["sign"],
  );
  const { modulusLength } = privateKey.algorithm as RsaHashedKeyAlgorithm;
  if (modulusLength !== bits) {
    throw incorrect(`Key material is a ${modulusLength}-bit RSA key, not ${bits}-bit.`);
  }
  const canonical = new Uint8Array(await crypto.subtle.exportKey("pkcs8", privateKey));
  const publicKey = publicKeyFromPkcs8(canonical);
  const verifier = await crypto.subtle.importKey("spki", publicKey, algorithm, false, ["verify"]);
  const probe = randomBytes(32);
  const signature = await crypto.subtle.sign(algorithm, privateKey, probe);
  if (!await crypto.subtle.verify(algorithm, verifier, signature, probe)) {
    canonical.fill(0);
    throw incorrect("The RSA key material is inconsistent.");
  }
  material.wipe();
  return { material: new SecretBytes(canonical), publicKey };
}

function incorrect(message: string): IncorrectKeyMaterialException {
  return new IncorrectKeyMaterialException(message);
}

// --- KeyMaterialId -------------------------------------------------------------------

/** The KeyMaterialId of imported material (64 hex characters), from the key id and material. */
export async function importedKeyMaterialId(
  keyId: string,
  imported: ImportableMaterial,
): Promise<string> {
  const label = encoder.encode(`KeyMaterialId\0${keyId}\0`);
  if (imported.publicKey !== null) {
    const data = new Uint8Array(label.length + imported.publicKey.length);
    data.set(label);
    data.set(imported.publicKey, label.length);
    return new Uint8Array(await crypto.subtle.digest("SHA-256", data)).toHex();
  }
  const key = await crypto.subtle.importKey(
    "raw",
    Uint8Array.from(imported.material.expose()),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, label)).toHex();
}
