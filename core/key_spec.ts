/**
 * Key specs as data: which key usages each spec allows and which algorithms
 * each usage offers. Every "is X allowed for Y" check, and the algorithm
 * lists of DescribeKey and GetPublicKey, read this table.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/symm-asymm-choose-key-spec.html
 * @module
 */
import type { KeySpec, KeyUsage } from "./types.ts";

/** Every KeyUsageType, in the order of AWS's model. */
export const KEY_USAGES = [
  "SIGN_VERIFY",
  "ENCRYPT_DECRYPT",
  "GENERATE_VERIFY_MAC",
  "KEY_AGREEMENT",
] as const satisfies readonly KeyUsage[];

/** The algorithm lists of one key usage of a spec. */
export interface UsageAlgorithms {
  readonly encryptionAlgorithms?: readonly string[];
  readonly signingAlgorithms?: readonly string[];
  readonly macAlgorithms?: readonly string[];
  readonly keyAgreementAlgorithms?: readonly string[];
}

/** What a key spec allows: its usages, each with its algorithms. */
export interface KeySpecInfo {
  readonly usages: Readonly<Partial<Record<KeyUsage, UsageAlgorithms>>>;
  /** Whether the spec is an asymmetric key pair (GetPublicKey works, the material is PKCS#8). */
  readonly asymmetric: boolean;
}

const RSA: KeySpecInfo = {
  asymmetric: true,
  usages: {
    ENCRYPT_DECRYPT: { encryptionAlgorithms: ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"] },
    SIGN_VERIFY: {
      signingAlgorithms: [
        "RSASSA_PKCS1_V1_5_SHA_256",
        "RSASSA_PKCS1_V1_5_SHA_384",
        "RSASSA_PKCS1_V1_5_SHA_512",
        "RSASSA_PSS_SHA_256",
        "RSASSA_PSS_SHA_384",
        "RSASSA_PSS_SHA_512",
      ],
    },
  },
};

function nistCurve(signing: string): KeySpecInfo {
  return {
    asymmetric: true,
    usages: {
      SIGN_VERIFY: { signingAlgorithms: [signing] },
      KEY_AGREEMENT: { keyAgreementAlgorithms: ["ECDH"] },
    },
  };
}

function hmac(algorithm: string): KeySpecInfo {
  return { asymmetric: false, usages: { GENERATE_VERIFY_MAC: { macAlgorithms: [algorithm] } } };
}

const ML_DSA: KeySpecInfo = {
  asymmetric: true,
  usages: { SIGN_VERIFY: { signingAlgorithms: ["ML_DSA_SHAKE_256"] } },
};

/** The table. */
export const KEY_SPECS: Readonly<Record<KeySpec, KeySpecInfo>> = {
  SYMMETRIC_DEFAULT: {
    asymmetric: false,
    usages: { ENCRYPT_DECRYPT: { encryptionAlgorithms: ["SYMMETRIC_DEFAULT"] } },
  },
  RSA_2048: RSA,
  RSA_3072: RSA,
  RSA_4096: RSA,
  ECC_NIST_P256: nistCurve("ECDSA_SHA_256"),
  ECC_NIST_P384: nistCurve("ECDSA_SHA_384"),
  ECC_NIST_P521: nistCurve("ECDSA_SHA_512"),
  ECC_SECG_P256K1: {
    asymmetric: true,
    usages: { SIGN_VERIFY: { signingAlgorithms: ["ECDSA_SHA_256"] } },
  },
  ECC_NIST_EDWARDS25519: {
    asymmetric: true,
    usages: { SIGN_VERIFY: { signingAlgorithms: ["ED25519_SHA_512", "ED25519_PH_SHA_512"] } },
  },
  SM2: {
    asymmetric: true,
    usages: {
      ENCRYPT_DECRYPT: { encryptionAlgorithms: ["SM2PKE"] },
      SIGN_VERIFY: { signingAlgorithms: ["SM2DSA"] },
      KEY_AGREEMENT: { keyAgreementAlgorithms: ["ECDH"] },
    },
  },
  HMAC_224: hmac("HMAC_SHA_224"),
  HMAC_256: hmac("HMAC_SHA_256"),
  HMAC_384: hmac("HMAC_SHA_384"),
  HMAC_512: hmac("HMAC_SHA_512"),
  ML_DSA_44: ML_DSA,
  ML_DSA_65: ML_DSA,
  ML_DSA_87: ML_DSA,
};

/** The algorithms `spec` offers for `usage`, or undefined when the spec does not allow the usage. */
export function algorithmsOf(spec: KeySpec, usage: KeyUsage): UsageAlgorithms | undefined {
  return KEY_SPECS[spec].usages[usage];
}

/**
 * Length in bytes of SYMMETRIC_DEFAULT key material outside China Regions (AES-256); in China
 * Regions 16 (SM4): core/region_profile.ts `symmetricKeyBytes` decides per Region.
 */
export const SYMMETRIC_KEY_BYTES = 32;
