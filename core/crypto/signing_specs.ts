/**
 * The names AWS gives signing key specs, signing algorithms and message types: plain data shared
 * by the signature engines (signatures.ts) and the crypto worker pool (crypto_workers.ts).
 *
 * @module
 */
import type { RsaSigningAlgorithm } from "./rsa.ts";

/** AWS `SigningAlgorithmSpec`. */
export type SigningAlgorithmSpec =
  | RsaSigningAlgorithm
  | "ECDSA_SHA_256"
  | "ECDSA_SHA_384"
  | "ECDSA_SHA_512"
  | "SM2DSA"
  | "ML_DSA_SHAKE_256"
  | "ED25519_SHA_512"
  | "ED25519_PH_SHA_512";

/** AWS `MessageType`. */
export type MessageType = "RAW" | "DIGEST" | "EXTERNAL_MU";

/** Key specs with a signing key usage. */
export type SigningKeySpec =
  | "RSA_2048"
  | "RSA_3072"
  | "RSA_4096"
  | "ECC_NIST_P256"
  | "ECC_NIST_P384"
  | "ECC_NIST_P521"
  | "ECC_SECG_P256K1"
  | "ECC_NIST_EDWARDS25519"
  | "SM2"
  | "ML_DSA_44"
  | "ML_DSA_65"
  | "ML_DSA_87";
