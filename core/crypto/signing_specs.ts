/**
 * The names AWS gives signing key specs, signing algorithms and message types: plain data shared
 * by the signature engines (signatures.ts) and the crypto worker pool (crypto_workers.ts).
 *
 * @module
 */
import type { KeySpec } from "../types.ts";
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

/** Key specs with a signing key usage: every asymmetric KeySpec (all but symmetric and HMAC). */
export type SigningKeySpec = Exclude<KeySpec, "SYMMETRIC_DEFAULT" | `HMAC_${string}`>;
