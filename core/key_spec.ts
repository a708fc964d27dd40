/**
 * Key specs as data: which key usages each spec allows and which algorithms
 * it offers. Every "is X allowed for Y" check reads this table.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/symm-asymm-choose-key-spec.html
 * @module
 */
import type { KeySpec, KeyUsage } from "./types.ts";

/** What a key spec allows. */
export interface KeySpecInfo {
  readonly usages: readonly KeyUsage[];
  readonly encryptionAlgorithms: readonly string[];
  /** True once this KMS implements the spec. */
  readonly implemented: boolean;
}

/** The table. Specs not implemented yet are listed so CreateKey can name them in its error. */
export const KEY_SPECS: Readonly<Record<KeySpec, KeySpecInfo>> = {
  SYMMETRIC_DEFAULT: {
    usages: ["ENCRYPT_DECRYPT"],
    encryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
    implemented: true,
  },
  RSA_2048: pending(["ENCRYPT_DECRYPT", "SIGN_VERIFY"]),
  RSA_3072: pending(["ENCRYPT_DECRYPT", "SIGN_VERIFY"]),
  RSA_4096: pending(["ENCRYPT_DECRYPT", "SIGN_VERIFY"]),
  ECC_NIST_P256: pending(["SIGN_VERIFY", "KEY_AGREEMENT"]),
  ECC_NIST_P384: pending(["SIGN_VERIFY", "KEY_AGREEMENT"]),
  ECC_NIST_P521: pending(["SIGN_VERIFY", "KEY_AGREEMENT"]),
  ECC_SECG_P256K1: pending(["SIGN_VERIFY"]),
  ECC_NIST_EDWARDS25519: pending(["SIGN_VERIFY"]),
  SM2: pending(["ENCRYPT_DECRYPT", "SIGN_VERIFY", "KEY_AGREEMENT"]),
  HMAC_224: pending(["GENERATE_VERIFY_MAC"]),
  HMAC_256: pending(["GENERATE_VERIFY_MAC"]),
  HMAC_384: pending(["GENERATE_VERIFY_MAC"]),
  HMAC_512: pending(["GENERATE_VERIFY_MAC"]),
  ML_DSA_44: pending(["SIGN_VERIFY"]),
  ML_DSA_65: pending(["SIGN_VERIFY"]),
  ML_DSA_87: pending(["SIGN_VERIFY"]),
};

function pending(usages: readonly KeyUsage[]): KeySpecInfo {
  return { usages, encryptionAlgorithms: [], implemented: false };
}

/** Length in bytes of SYMMETRIC_DEFAULT key material (AES-256). */
export const SYMMETRIC_KEY_BYTES = 32;
