/**
 * What an operation may use of the KMS, in small interfaces: resolving and authorising the key a
 * request names, a key's material, committing a change with the request's audit record, and the
 * few services some families need. Each family of core/operations/ names the ones it uses (and the
 * store ports it reads), so an operation sees only those; `Kms` (core/kms.ts) implements them all.
 *
 * @module
 */
import type { KmsAction } from "./catalogue.ts";
import type { Allowance } from "./access/access_control.ts";
import type { RequestConditions } from "./access/request_context.ts";
import type { AuditRecord } from "./audit/record.ts";
import type { DataKeyPairSpec, GeneratedKeyPair } from "./crypto/key_pairs.ts";
import type { Clock } from "./ports.ts";
import type { RecipientSealer } from "./recipient/recipient.ts";
import type { Caller, KeyMaterial, KeyRecord } from "./types.ts";

/** A key as the operations see it: its record plus its ARN. */
export interface LoadedKey {
  readonly record: KeyRecord;
  readonly arn: string;
}

/** What a request asks to do with a key, for authorisation. */
export interface Authorization {
  /** The `kms:` action. */
  action: KmsAction;
  /** Condition values of the request (encryption context, algorithm, ...). */
  conditions?: RequestConditions | undefined;
}

/** How a KeyId field may be given for an operation, and what the request asks to do. */
export interface ResolveOptions extends Authorization {
  /** Whether alias names and alias ARNs are accepted (AWS accepts them for crypto and DescribeKey). */
  allowAlias: boolean;
}

/** Finding the key a request names and authorising the request, in one served Region. */
export interface KeyResolver {
  /** The Region this KMS serves. */
  readonly region: string;
  /** SM2 offered outside China Regions too (`KMS_SM2_ALL_REGIONS`; core/region_profile.ts). */
  readonly sm2AllRegions: boolean;
  readonly clock: Clock;
  /**
   * The key a KeyId field names, authorised for `caller`.
   * @throws {NotFoundException} @throws {AccessDeniedException}
   */
  resolveKey(caller: Caller, keyIdInput: string, options: ResolveOptions): Promise<LoadedKey>;
  /** `resolveKey`, also answering how the request was allowed (by policy or by which grants). */
  resolveAndAuthorize(
    caller: Caller,
    keyIdInput: string,
    options: ResolveOptions,
  ): Promise<{ key: LoadedKey; allowance: Allowance }>;
  /** The key a KeyId field names, not yet authorised. */
  findNamedKey(
    caller: Caller,
    keyIdInput: string,
    options: { allowAlias: boolean; action: KmsAction },
  ): Promise<LoadedKey>;
  /** A key by id (`fresh`: read from the store), or null. */
  findKey(keyId: string, options?: { fresh?: boolean }): Promise<LoadedKey | null>;
  /** Authorises a request on a key found by other means. */
  authorize(caller: Caller, key: LoadedKey, request: Authorization): Promise<Allowance>;
  /** Authorises an account-level action. */
  authorizeAccount(
    caller: Caller,
    action: KmsAction,
    conditions?: RequestConditions,
    resource?: string,
  ): void;
}

/** A key's material and what is built from it, cached beside the key. */
export interface KeyMaterials {
  /** A version of a key's material, or null. */
  material(keyId: string, version: number): Promise<KeyMaterial | null>;
  /** A version of a key's material that must exist. @throws {Error} when it is missing. */
  requiredMaterial(keyId: string, version: number): Promise<KeyMaterial>;
  /** An object built once from a version of a key's material (`kind` names what is built). */
  prepared<T>(
    keyId: string,
    version: number,
    kind: string,
    build: (material: KeyMaterial) => Promise<T>,
  ): Promise<T>;
}

/** Committing a change durably with the request's audit record, then updating memory. */
export interface KeyCommits {
  /** Runs a state-changing write with the request's audit record, in one transaction. */
  commit<T>(caller: Caller, write: (audit: AuditRecord | undefined) => Promise<T>): Promise<T>;
  /** Writes a changed key record, then remembers it. */
  saveKey(caller: Caller, record: KeyRecord): Promise<LoadedKey>;
  /** Remembers a key record the store committed. */
  rememberKey(record: KeyRecord): LoadedKey;
}

/** Where data key pairs come from: the RSA pool when there is one, else fresh generation. */
export interface KeyPairSource {
  generate(spec: DataKeyPairSpec): Promise<GeneratedKeyPair>;
}

/** The `Recipient` service: attestation and sealing to an enclave. */
export interface Recipients {
  readonly recipients: RecipientSealer;
}
