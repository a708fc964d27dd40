/**
 * Key material per key spec: what CreateKey generates and stores wrapped under
 * the root key, and the public key an asymmetric key's material yields.
 *
 * - SYMMETRIC_DEFAULT: 32 random bytes (AES-256, used through HKDF per message); 16 (SM4) in China
 *   Regions (core/region_profile.ts).
 * - HMAC_224/256/384/512: 28/32/48/64 random bytes.
 * - RSA, ECC, SM2, Ed25519: the private key as DER PKCS#8 (the same generator as
 *   GenerateDataKeyPair, RSA from the pool when it has pairs ready).
 * - ML_DSA_44/65/87: PKCS#8 holding the 32-byte seed (RFC 9881).
 *
 * @module
 */
import { HMAC_KEY_BYTES, type HmacKeySpec } from "./crypto/hmac.ts";
import { DATA_KEY_PAIR_SPECS, type DataKeyPairSpec } from "./crypto/key_pairs.ts";
import { publicKeyFromPkcs8 } from "./crypto/key_encoding.ts";
import {
  generateMlDsaKeyPair,
  type MlDsaParameterSet,
  mlDsaPublicKeyFromPkcs8,
} from "./crypto/ml_dsa.ts";
import { randomBytes } from "./crypto/random.ts";
import { symmetricKeyBytes } from "./region_profile.ts";
import type { KeyPairSource } from "./operation_ports.ts";
import { SecretBytes } from "./secret.ts";
import type { KeySpec } from "./types.ts";

const ML_DSA: Readonly<Partial<Record<KeySpec, MlDsaParameterSet>>> = {
  ML_DSA_44: "ML-DSA-44",
  ML_DSA_65: "ML-DSA-65",
  ML_DSA_87: "ML-DSA-87",
};

function isKeyPairSpec(spec: KeySpec): spec is DataKeyPairSpec {
  return (DATA_KEY_PAIR_SPECS as readonly string[]).includes(spec);
}

/** Fresh material for a new key of `spec` in `region` (default: a Region outside China). */
export async function generateKeyMaterial(
  spec: KeySpec,
  keyPairs: KeyPairSource,
  region = "",
): Promise<SecretBytes> {
  if (spec === "SYMMETRIC_DEFAULT") return new SecretBytes(randomBytes(symmetricKeyBytes(region)));
  if (spec in HMAC_KEY_BYTES) {
    return new SecretBytes(randomBytes(HMAC_KEY_BYTES[spec as HmacKeySpec]));
  }
  const mlDsa = ML_DSA[spec];
  if (mlDsa !== undefined) return generateMlDsaKeyPair(mlDsa).privateKey;
  if (isKeyPairSpec(spec)) return (await keyPairs.generate(spec)).privateKey;
  throw new Error(`no key material generator for ${spec}`);
}

/**
 * The DER SubjectPublicKeyInfo of an asymmetric key's material (PKCS#8).
 * @throws {Error} for a spec without a public key.
 */
export function publicKeyOfMaterial(spec: KeySpec, material: SecretBytes): Uint8Array {
  const mlDsa = ML_DSA[spec];
  if (mlDsa !== undefined) return mlDsaPublicKeyFromPkcs8(mlDsa, material.expose());
  if (isKeyPairSpec(spec)) return publicKeyFromPkcs8(material.expose());
  throw new Error(`${spec} keys have no public key`);
}
