/**
 * The China Regions profile: every decision that depends on whether a key
 * lives in a China Region (partition `aws-cn`: cn-north-1 Beijing,
 * cn-northwest-1 Ningxia, and any other `cn-*` name), in one place. The
 * operations ask it; none of them tests a Region's name itself.
 *
 * What AWS documents and this KMS does:
 * - SYMMETRIC_DEFAULT keys in China Regions are SM4 keys: 128-bit material,
 *   ciphertexts under SM4-GCM (RFC 8998). Elsewhere AES-256: 256-bit
 *   material, AES-256-GCM. The cipher of a ciphertext follows from the
 *   material that seals it (`symmetricCipherOf`) and is written into the
 *   ciphertext blob, so a decryption never guesses; a China key created
 *   before this profile existed keeps its 256-bit material and AES-GCM.
 * - GenerateDataKey with KeySpec AES_128 or NumberOfBytes 16 in a China
 *   Region gives "a 128-bit SM4 data key": 16 random bytes, as anywhere else
 *   (a data key is just bytes; SM4 and AES-128 keys have the same length).
 * - Imported SYMMETRIC_DEFAULT material is 128-bit in China Regions, 256-bit
 *   elsewhere.
 * - Import wrapping: SM2PKE with an SM2 wrapping key only in China Regions;
 *   RSA_AES_KEY_WRAP_* not there.
 * - SM2 keys (CreateKey KeySpec SM2) and SM2 data key pairs
 *   (GenerateDataKeyPair* KeyPairSpec SM2) only in China Regions, refused
 *   elsewhere with AWS's `UnsupportedOperationException` "KeySpec SM2 is not
 *   supported in this Region"; `KMS_SM2_ALL_REGIONS=true` offers them in every
 *   Region.
 * - Keys, ciphertexts and multi-Region replicas stay within their partition
 *   (core/identifiers.ts `partitionOf`; ARNs of another partition name nothing).
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/kms-china-regions.html
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys.html
 * @module
 */
import { UnsupportedOperationException } from "./errors.ts";
import { partitionOf } from "./identifiers.ts";

/** Whether `region` is a China Region (partition `aws-cn`). */
export function isChinaRegion(region: string): boolean {
  return partitionOf(region) === "aws-cn";
}

/** The authenticated cipher of a symmetric ciphertext. */
export type SymmetricCipher = "AES_256_GCM" | "SM4_GCM";

/** Bytes of SM4 key material (128 bits). */
export const SM4_KEY_MATERIAL_BYTES = 16;
/** Bytes of AES-256 key material (256 bits). */
export const AES_KEY_MATERIAL_BYTES = 32;

/**
 * Bytes of new SYMMETRIC_DEFAULT key material in `region`, generated or imported: 16 (SM4) in
 * China Regions, 32 (AES-256) elsewhere.
 */
export function symmetricKeyBytes(region: string): number {
  return isChinaRegion(region) ? SM4_KEY_MATERIAL_BYTES : AES_KEY_MATERIAL_BYTES;
}

/**
 * The cipher that seals under symmetric material of `materialBytes` bytes: SM4-GCM for 16 (the
 * China Regions' material), AES-256-GCM for 32; undefined for any other length.
 */
export function symmetricCipherOf(materialBytes: number): SymmetricCipher | undefined {
  if (materialBytes === SM4_KEY_MATERIAL_BYTES) return "SM4_GCM";
  if (materialBytes === AES_KEY_MATERIAL_BYTES) return "AES_256_GCM";
  return undefined;
}

/** Where SM2 is offered: China Regions, or every Region with `KMS_SM2_ALL_REGIONS=true`. */
export interface Sm2Availability {
  /** `KMS_SM2_ALL_REGIONS=true`: SM2 keys and data key pairs in every Region. */
  readonly sm2AllRegions: boolean;
}

/** Whether SM2 keys and SM2 data key pairs are offered in `region`. */
export function sm2Available(region: string, options: Sm2Availability): boolean {
  return options.sm2AllRegions || isChinaRegion(region);
}

/**
 * Refuses an SM2 key spec outside the Regions that offer it, as AWS does:
 * `UnsupportedOperationException` "KeySpec SM2 is not supported in this Region" (CreateKey;
 * `member` KeyPairSpec for GenerateDataKeyPair*, in the same words).
 * @throws {UnsupportedOperationException} SM2 where it is not offered.
 */
export function assertSpecAvailable(
  region: string,
  spec: string,
  member: "KeySpec" | "KeyPairSpec",
  options: Sm2Availability,
): void {
  if (spec === "SM2" && !sm2Available(region, options)) {
    throw new UnsupportedOperationException(`${member} ${spec} is not supported in this Region`);
  }
}

/**
 * Whether an import wrapping algorithm and wrapping key spec are offered in `region`: SM2PKE and
 * SM2 only in China Regions (also with `KMS_SM2_ALL_REGIONS=true`), RSA_AES_KEY_WRAP_* everywhere
 * but there. Undefined when offered, else the reason, worded as AWS's other Region refusals.
 */
export function unavailableWrapping(
  region: string,
  algorithm: string,
  wrappingKeySpec: string,
  options: Sm2Availability,
): string | undefined {
  const china = isChinaRegion(region);
  if (algorithm === "SM2PKE" && !sm2Available(region, options)) {
    return "The SM2PKE wrapping algorithm is supported only in China Regions.";
  }
  if (wrappingKeySpec === "SM2" && !sm2Available(region, options)) {
    return "The SM2 wrapping key spec is supported only in China Regions.";
  }
  if (algorithm.startsWith("RSA_AES_KEY_WRAP") && china) {
    return `The ${algorithm} wrapping algorithm is not supported in China Regions.`;
  }
  return undefined;
}

/**
 * Refuses a multi-Region replica in another partition (AWS: "in a different Region of the same
 * partition"); the Region is as unknown there as one this KMS does not serve.
 * @throws {UnsupportedOperationException} a replica Region of another partition.
 */
export function assertSamePartition(primaryRegion: string, replicaRegion: string): void {
  if (partitionOf(primaryRegion) !== partitionOf(replicaRegion)) {
    throw new UnsupportedOperationException(
      `Region ${replicaRegion} is not in the ${
        partitionOf(primaryRegion)
      } partition of the primary key's Region ${primaryRegion}: multi-Region keys stay within a partition.`,
    );
  }
}
