/**
 * The narrow ports core/ needs from the outside world. storage/ implements
 * them with SQL; tests may implement them in memory. Every method that
 * changes state is durable (committed) before its promise resolves.
 *
 * @module
 */
import type { GrantRecord } from "./access/grants.ts";
import type { AuditSink } from "./audit/ports.ts";
import type { AuditRecord } from "./audit/record.ts";
import type { MultiRegionStore } from "./multi_region_store.ts";
import type { RotationSchedule, RotationStore } from "./rotation_store.ts";
import type { SecretBytes } from "./secret.ts";
import type {
  AliasRecord,
  Credential,
  ExpirationModel,
  KeyMaterial,
  KeyRecord,
  Tag,
} from "./types.ts";

/** Paging request: at most `limit` rows strictly after `after` (exclusive), in stable order. */
export interface Page {
  limit: number;
  after?: string | undefined;
}

/** Keys, their versioned material and their tags. */
export interface KeyStore {
  /**
   * Inserts key, first material version and tags in one transaction (with the request's audit
   * record); `material` null for a key of Origin EXTERNAL, which gets its material by import.
   */
  createKey(
    key: KeyRecord,
    material: KeyMaterial | null,
    tags: readonly Tag[],
    audit?: AuditRecord,
  ): Promise<void>;
  /**
   * Inserts an AWS managed key (core/aws_managed_keys.ts) with its first material, its predefined
   * alias and its yearly rotation schedule in one transaction. Resolves false, having written
   * nothing, when the alias or the account's key of that service already exists (another first
   * reference came first).
   */
  createAwsManagedKey(
    key: KeyRecord,
    material: KeyMaterial,
    alias: AliasRecord,
    rotation: RotationSchedule,
  ): Promise<boolean>;
  getKey(keyId: string): Promise<KeyRecord | null>;
  /** Keys of an account in a region ordered by keyId. */
  listKeys(accountId: string, region: string, page: Page): Promise<KeyRecord[]>;
  /** Writes the mutable fields of `key` (description, state, deletion date, window, policy, current version). */
  updateKey(key: KeyRecord, audit?: AuditRecord): Promise<void>;
  getMaterial(keyId: string, version: number): Promise<KeyMaterial | null>;
  /** Deletes a key with its material, aliases and tags in one transaction. */
  deleteKey(keyId: string): Promise<void>;
  /** Ids of PendingDeletion keys whose deletion date is at or before `now` (epoch ms). */
  listKeysDueForDeletion(now: number): Promise<string[]>;
}

/** Tags of keys. */
export interface TagStore {
  /** Adds or overwrites tags of a key in one transaction. */
  putTags(keyId: string, tags: readonly Tag[], audit?: AuditRecord): Promise<void>;
  removeTags(keyId: string, tagKeys: readonly string[], audit?: AuditRecord): Promise<void>;
  /** Tags ordered by TagKey. */
  listTags(keyId: string): Promise<Tag[]>;
}

/** Aliases, unique per account and region. */
export interface AliasStore {
  /** Inserts an alias; resolves false when the name is already taken. */
  createAlias(alias: AliasRecord, audit?: AuditRecord): Promise<boolean>;
  getAlias(accountId: string, region: string, name: string): Promise<AliasRecord | null>;
  updateAlias(alias: AliasRecord, audit?: AuditRecord): Promise<void>;
  deleteAlias(accountId: string, region: string, name: string, audit?: AuditRecord): Promise<void>;
  /** Aliases of an account and region ordered by name, optionally of one key. */
  listAliases(
    accountId: string,
    region: string,
    options: Page & { targetKeyId?: string | undefined },
  ): Promise<AliasRecord[]>;
}

/** Access keys of principals. */
export interface CredentialStore {
  getCredential(accessKeyId: string): Promise<Credential | null>;
  /** Inserts a credential, or does nothing when the access key id exists. */
  putCredential(credential: Credential): Promise<void>;
  /** Inserts a credential or replaces secret, account, principal and state of an existing one. */
  upsertCredential(credential: Credential): Promise<void>;
  setCredentialEnabled(accessKeyId: string, enabled: boolean): Promise<void>;
  /** Number of stored credentials (zero on a first start). */
  countCredentials(): Promise<number>;
}

/** Grants on keys. */
export interface GrantStore {
  /**
   * Inserts a grant; with a Name, an existing grant of the key with the same name and
   * parameters wins (atomically, also under concurrent calls). Resolves the grant in effect.
   */
  createGrant(grant: GrantRecord, audit?: AuditRecord): Promise<GrantRecord>;
  getGrant(grantId: string): Promise<GrantRecord | null>;
  /** Grants of a key ordered by grant id. */
  listGrantsOfKey(keyId: string): Promise<GrantRecord[]>;
  /** Grants whose retiring principal is `principal`, ordered by grant id, after `page.after`. */
  listRetirableGrants(principal: string, page: Page): Promise<GrantRecord[]>;
  /** Deletes a grant; resolves whether it existed. */
  deleteGrant(grantId: string, audit?: AuditRecord): Promise<boolean>;
}

/** The answer of one GetParametersForImport, as stored (core/operations/import.ts). */
export interface ImportParameters {
  /** 32 hex characters, named by the import token. */
  tokenId: string;
  keyId: string;
  wrappingAlgorithm: string;
  wrappingKeySpec: string;
  /** SHA-256 of the whole import token. */
  tokenHash: Uint8Array;
  /** The wrapping key pair's private key, DER PKCS#8 (wrapped under the root key when stored). */
  privateKey: SecretBytes;
  createdAt: number;
  validTo: number;
}

/** A key material once imported into a key (kept after the material is deleted). */
export interface ImportedMaterialRecord {
  keyMaterialId: string;
  description: string | null;
  importedAt: number;
  /**
   * The material's version of the key; null while it waits for an on-demand rotation (and for
   * materials recorded before versions were: the key's current version).
   */
  version?: number | null;
}

/**
 * New key material imported into a symmetric key of Origin EXTERNAL for an on-demand rotation
 * (ImportType NEW_KEY_MATERIAL; AWS's KeyMaterialState PENDING_ROTATION), unwrapped.
 */
export interface PendingKeyMaterial {
  keyId: string;
  keyMaterialId: string;
  material: SecretBytes;
  expirationModel: ExpirationModel;
  /** Epoch ms; null when the material does not expire. */
  validTo: number | null;
  importedAt: number;
}

/** Imported key material (Origin EXTERNAL keys) and import parameters. */
export interface ImportStore {
  putImportParameters(parameters: ImportParameters, audit?: AuditRecord): Promise<void>;
  getImportParameters(tokenId: string): Promise<ImportParameters | null>;
  /** Materials ever imported into a key. */
  listImportedMaterial(keyId: string): Promise<ImportedMaterialRecord[]>;
  /**
   * Stores imported `material` (replacing the row of its version), records `imported`, and
   * writes the key's state, expiration model and ValidTo, in one transaction.
   */
  importKeyMaterial(
    key: KeyRecord,
    material: KeyMaterial,
    imported: ImportedMaterialRecord,
    audit?: AuditRecord,
  ): Promise<void>;
  /**
   * Deletes a key's imported material and writes its state (expiration cleared), in one
   * transaction; with `onlyIfValidTo`, only when the key's ValidTo is still that value (an
   * expiry racing a re-import does nothing). Resolves whether it deleted.
   */
  deleteImportedKeyMaterial(
    key: KeyRecord,
    options?: { onlyIfValidTo?: number; audit?: AuditRecord | undefined },
  ): Promise<boolean>;
  /**
   * Stores new material for an on-demand rotation and records it (version null, `description`),
   * in one transaction; resolves false, having written nothing, when the key has such material
   * already.
   */
  putPendingKeyMaterial(
    key: KeyRecord,
    pending: PendingKeyMaterial,
    description: string | null,
    audit?: AuditRecord,
  ): Promise<boolean>;
  /** The key's material waiting for an on-demand rotation, or null. */
  getPendingKeyMaterial(keyId: string): Promise<PendingKeyMaterial | null>;
  /** Deletes the key's pending material and its record (it was never the key's). */
  deletePendingKeyMaterial(keyId: string, audit?: AuditRecord): Promise<void>;
  /** Ids of keys whose imported material expired at or before `now` (epoch ms). */
  listKeysWithExpiredMaterial(now: number): Promise<string[]>;
  /** Deletes import parameters whose validity ended before `now`. */
  deleteExpiredImportParameters(now: number): Promise<void>;
}

/** The whole store; also where the audit buffer writes. */
export interface Store
  extends
    KeyStore,
    TagStore,
    AliasStore,
    CredentialStore,
    GrantStore,
    ImportStore,
    RotationStore,
    MultiRegionStore,
    AuditSink {
  close(): void;
}

/** Time source (epoch milliseconds), injectable for tests. */
export interface Clock {
  now(): number;
}
