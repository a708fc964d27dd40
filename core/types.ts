/**
 * Domain types shared by core/, storage/ and routes/.
 *
 * @module
 */
import type { PolicyDocument } from "./access/policy.ts";
import type { AuditEntry } from "./audit/entry.ts";
import type { SecretBytes } from "./secret.ts";

/** AWS key states. @see https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html */
export type KeyState =
  | "Creating"
  | "Enabled"
  | "Disabled"
  | "PendingDeletion"
  | "PendingImport"
  | "PendingReplicaDeletion"
  | "Unavailable"
  | "Updating";

/** AWS KeySpec values. */
export type KeySpec =
  | "SYMMETRIC_DEFAULT"
  | "RSA_2048"
  | "RSA_3072"
  | "RSA_4096"
  | "ECC_NIST_P256"
  | "ECC_NIST_P384"
  | "ECC_NIST_P521"
  | "ECC_SECG_P256K1"
  | "ECC_NIST_EDWARDS25519"
  | "HMAC_224"
  | "HMAC_256"
  | "HMAC_384"
  | "HMAC_512"
  | "SM2"
  | "ML_DSA_44"
  | "ML_DSA_65"
  | "ML_DSA_87";

/** AWS KeyUsage values. */
export type KeyUsage = "ENCRYPT_DECRYPT" | "SIGN_VERIFY" | "GENERATE_VERIFY_MAC" | "KEY_AGREEMENT";

/** AWS OriginType values. */
export type Origin = "AWS_KMS" | "EXTERNAL" | "AWS_CLOUDHSM" | "EXTERNAL_KEY_STORE";

/** A tag as AWS shapes it. */
export interface Tag {
  TagKey: string;
  TagValue: string;
}

/** A KMS key as stored (everything but its material). Times are epoch milliseconds. */
export interface KeyRecord {
  keyId: string;
  accountId: string;
  region: string;
  createdAt: number;
  description: string;
  keySpec: KeySpec;
  keyUsage: KeyUsage;
  origin: Origin;
  state: KeyState;
  /** When a PendingDeletion key is deleted (epoch ms), else null. */
  deletionDate: number | null;
  pendingWindowInDays: number | null;
  policy: string;
  /** Version of the material new ciphertexts use. */
  currentMaterialVersion: number;
  /** Origin EXTERNAL: how the imported material expires; null/absent while the key has none. */
  expirationModel?: ExpirationModel | null;
  /** Origin EXTERNAL with KEY_MATERIAL_EXPIRES: when the material expires (epoch ms). */
  validTo?: number | null;
  /**
   * An AWS managed key's service (`s3` for `alias/aws/s3`, core/aws_managed_keys.ts); absent for
   * customer managed keys.
   */
  awsService?: string | undefined;
}

/** AWS ExpirationModelType of imported key material. */
export type ExpirationModel = "KEY_MATERIAL_EXPIRES" | "KEY_MATERIAL_DOES_NOT_EXPIRE";

/** One version of a key's material, unwrapped. */
export interface KeyMaterial {
  keyId: string;
  version: number;
  /** 64 hex characters, as AWS's KeyMaterialId. */
  keyMaterialId: string;
  material: SecretBytes;
  createdAt: number;
}

/** An alias as stored; `name` includes the `alias/` prefix. */
export interface AliasRecord {
  accountId: string;
  region: string;
  name: string;
  targetKeyId: string;
  createdAt: number;
  updatedAt: number;
}

/** An access key of a principal; the secret is unwrapped in memory only. */
export interface Credential {
  accessKeyId: string;
  secretAccessKey: SecretBytes;
  accountId: string;
  /** Principal ARN, e.g. `arn:aws:iam::111122223333:root`. */
  principalArn: string;
  enabled: boolean;
  createdAt: number;
}

/** Who signed a request, as SigV4 verification established it: read-only. */
export interface SigV4Identity {
  readonly accessKeyId: string;
  readonly accountId: string;
  readonly principalArn: string;
  /** Region of the request's credential scope. */
  readonly region: string;
}

/**
 * The request as core sees it, built once by routes: the SigV4 identity plus the request facts
 * policies and the audit log read. Read-only: operations never change who is calling.
 */
export interface Caller extends SigV4Identity {
  /** The caller's identity (IAM) policies; none for a principal without any. */
  readonly identityPolicies?: readonly PolicyDocument[];
  /** Source address of the request (`aws:SourceIp`). */
  readonly sourceIp?: string | undefined;
  /** Whether the request came over TLS (`aws:SecureTransport`). */
  readonly secureTransport?: boolean;
  readonly userAgent?: string | undefined;
  /** The request's GrantTokens. */
  readonly grantTokens?: readonly string[];
  /** The audit record of this request, filled in as it is decided. */
  readonly audit?: AuditEntry;
}
