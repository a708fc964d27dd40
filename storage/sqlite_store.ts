/**
 * The Store port (core/ports.ts) on libSQL, composed of one part per port:
 *
 * | port             | part                                  | tables                          |
 * | ---------------- | ------------------------------------- | ------------------------------- |
 * | KeyStore         | storage/sqlite_key_store.ts           | keys, key_material              |
 * | TagStore         | storage/sqlite_tag_store.ts           | tags                            |
 * | AliasStore       | storage/sqlite_alias_store.ts         | aliases                         |
 * | CredentialStore  | storage/sqlite_credential_store.ts    | credentials                     |
 * | GrantStore       | storage/sqlite_grant_store.ts         | grants                          |
 * | ImportStore      | storage/sqlite_import_store.ts        | import_parameters, imported_material |
 * | RotationStore    | storage/sqlite_rotation_store.ts      | key_rotation, key_material      |
 * | MultiRegionStore | storage/sqlite_multi_region_store.ts  | multi_region_keys, keys         |
 *
 * Key material and credential secrets are wrapped under the root key before
 * they reach SQL and unwrapped on the way out. Every state change is one
 * transaction, group-committed by one WriteQueue that every part shares (on a
 * local file, through a database worker thread with its own connection, so no
 * commit blocks the request thread: storage/db_worker_client.ts); reads are
 * plain statements on the client. Every call has a deadline and its storage
 * faults are remembered for readiness (storage/deadline.ts,
 * storage/sqlite_readiness.ts).
 *
 * @module
 */
import type { Client } from "@libsql/client";
import type { GrantRecord } from "../core/access/grants.ts";
import type { AuditRecord } from "../core/audit/record.ts";
import type { MultiRegionFamily } from "../core/multi_region_store.ts";
import type {
  ImportedMaterialRecord,
  ImportParameters,
  Page,
  PendingKeyMaterial,
  Store,
} from "../core/ports.ts";
import type {
  DueRotation,
  KeyRotation,
  MaterialVersionInfo,
  MaterialVersionPage,
  RotationSchedule,
} from "../core/rotation_store.ts";
import type { AliasRecord, Credential, KeyMaterial, KeyRecord, Tag } from "../core/types.ts";
import { BUMP_CHANGE_COUNTER } from "./change_counter.ts";
import { isLocalClient } from "./client.ts";
import {
  deadlineReads,
  DEFAULT_STORE_TIMEOUT_MS,
  LOCK_WAIT_SLICE_MS,
  type StoreFault,
  StoreFaults,
} from "./deadline.ts";
import type { RootWrapper } from "./root_wrapping.ts";
import { SqliteAliasStore } from "./sqlite_alias_store.ts";
import { SqliteCredentialStore } from "./sqlite_credential_store.ts";
import { SqliteGrantStore } from "./sqlite_grant_store.ts";
import { SqliteImportStore } from "./sqlite_import_store.ts";
import { SqliteKeyStore } from "./sqlite_key_store.ts";
import { SqliteMultiRegionStore } from "./sqlite_multi_region_store.ts";
import type { SqliteParts } from "./sqlite_parts.ts";
import { type ProbeClient, SqliteReadiness } from "./sqlite_readiness.ts";
import { SqliteRotationStore } from "./sqlite_rotation_store.ts";
import { SqliteTagStore } from "./sqlite_tag_store.ts";
import { WriteQueue, type WriteQueueOptions } from "./write_queue.ts";

/** A connection of its own that commits the store's writes (storage/db_worker_client.ts). */
export type StoreWriter = ProbeClient & { close(): Promise<void> };

/** Options of a SqliteStore: its WriteQueue's, and the connection it commits through. */
export interface SqliteStoreOptions extends WriteQueueOptions {
  /** Commits the writes (a database worker); absent: `db` itself. Closed by `close`. */
  writer?: StoreWriter | undefined;
}

/** Store backed by a libSQL client; closing the store closes the client. */
export class SqliteStore implements Store {
  /** The client itself: closed by `close`, and what the writability probe runs on. */
  readonly #client: Client;
  readonly #writes: WriteQueue;
  readonly #writer: StoreWriter | undefined;
  readonly #timeoutMs: number;
  readonly #faults = new StoreFaults();
  readonly #readiness: SqliteReadiness;
  readonly #keys: SqliteKeyStore;
  readonly #tags: SqliteTagStore;
  readonly #aliases: SqliteAliasStore;
  readonly #credentials: SqliteCredentialStore;
  readonly #grants: SqliteGrantStore;
  readonly #imports: SqliteImportStore;
  readonly #rotation: SqliteRotationStore;
  readonly #multiRegion: SqliteMultiRegionStore;

  /**
   * Each transaction that changes state bumps the change counter (storage/change_counter.ts);
   * `options.observer`, a SqliteChangeCounter, also sees what the bump returned.
   * `options.timeoutMs` is the deadline of every call (default `DEFAULT_STORE_TIMEOUT_MS`).
   * `options.writer` commits the writes instead of `db` (reads stay on `db`).
   */
  constructor(db: Client, rootKey: RootWrapper, options: SqliteStoreOptions = {}) {
    this.#client = db;
    this.#writer = options.writer;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
    this.#writes = new WriteQueue(options.writer ?? db, {
      ...options,
      timeoutMs: this.#timeoutMs,
      faults: this.#faults,
      lockCheck: isLocalClient(db) ? { sliceMs: LOCK_WAIT_SLICE_MS } : undefined,
      observer: options.observer ?? BUMP_CHANGE_COUNTER,
    });
    // The write probe runs on the connection that commits (off the request thread with a writer).
    this.#readiness = new SqliteReadiness(options.writer ?? db, this.#faults, rootKey);
    const parts: SqliteParts = {
      reads: deadlineReads(db, this.#timeoutMs, this.#faults),
      writes: this.#writes,
      rootKey,
    };
    this.#keys = new SqliteKeyStore(parts);
    this.#tags = new SqliteTagStore(parts);
    this.#aliases = new SqliteAliasStore(parts);
    this.#credentials = new SqliteCredentialStore(parts);
    this.#grants = new SqliteGrantStore(parts);
    this.#imports = new SqliteImportStore(parts);
    this.#multiRegion = new SqliteMultiRegionStore(parts);
    // Rotation reads run on the client itself, without the deadline, as they always have.
    this.#rotation = new SqliteRotationStore({ ...parts, reads: db });
  }

  // --- KeyStore (storage/sqlite_key_store.ts) ---------------------------------------------

  createKey(
    key: KeyRecord,
    material: KeyMaterial | null,
    tags: readonly Tag[],
    audit?: AuditRecord,
  ): Promise<void> {
    return this.#keys.createKey(key, material, tags, audit);
  }

  createAwsManagedKey(
    key: KeyRecord,
    material: KeyMaterial,
    alias: AliasRecord,
    rotation: RotationSchedule,
  ): Promise<boolean> {
    return this.#keys.createAwsManagedKey(key, material, alias, rotation);
  }

  getKey(keyId: string): Promise<KeyRecord | null> {
    return this.#keys.getKey(keyId);
  }

  listKeys(accountId: string, region: string, page: Page): Promise<KeyRecord[]> {
    return this.#keys.listKeys(accountId, region, page);
  }

  updateKey(key: KeyRecord, audit?: AuditRecord): Promise<void> {
    return this.#keys.updateKey(key, audit);
  }

  getMaterial(keyId: string, version: number): Promise<KeyMaterial | null> {
    return this.#keys.getMaterial(keyId, version);
  }

  deleteKey(keyId: string): Promise<void> {
    return this.#keys.deleteKey(keyId);
  }

  listKeysDueForDeletion(now: number): Promise<string[]> {
    return this.#keys.listKeysDueForDeletion(now);
  }

  // --- TagStore (storage/sqlite_tag_store.ts) ---------------------------------------------

  putTags(keyId: string, tags: readonly Tag[], audit?: AuditRecord): Promise<void> {
    return this.#tags.putTags(keyId, tags, audit);
  }

  removeTags(keyId: string, tagKeys: readonly string[], audit?: AuditRecord): Promise<void> {
    return this.#tags.removeTags(keyId, tagKeys, audit);
  }

  listTags(keyId: string): Promise<Tag[]> {
    return this.#tags.listTags(keyId);
  }

  // --- AliasStore (storage/sqlite_alias_store.ts) -----------------------------------------

  createAlias(alias: AliasRecord, audit?: AuditRecord): Promise<boolean> {
    return this.#aliases.createAlias(alias, audit);
  }

  getAlias(accountId: string, region: string, name: string): Promise<AliasRecord | null> {
    return this.#aliases.getAlias(accountId, region, name);
  }

  updateAlias(alias: AliasRecord, audit?: AuditRecord): Promise<void> {
    return this.#aliases.updateAlias(alias, audit);
  }

  deleteAlias(accountId: string, region: string, name: string, audit?: AuditRecord): Promise<void> {
    return this.#aliases.deleteAlias(accountId, region, name, audit);
  }

  listAliases(
    accountId: string,
    region: string,
    options: Page & { targetKeyId?: string | undefined },
  ): Promise<AliasRecord[]> {
    return this.#aliases.listAliases(accountId, region, options);
  }

  // --- CredentialStore (storage/sqlite_credential_store.ts) -------------------------------

  getCredential(accessKeyId: string): Promise<Credential | null> {
    return this.#credentials.getCredential(accessKeyId);
  }

  putCredential(credential: Credential): Promise<void> {
    return this.#credentials.putCredential(credential);
  }

  upsertCredential(credential: Credential): Promise<void> {
    return this.#credentials.upsertCredential(credential);
  }

  setCredentialEnabled(accessKeyId: string, enabled: boolean): Promise<void> {
    return this.#credentials.setCredentialEnabled(accessKeyId, enabled);
  }

  countCredentials(): Promise<number> {
    return this.#credentials.countCredentials();
  }

  /** True when the root key unwraps a stored secret (or nothing is stored yet). */
  rootKeyMatches(): Promise<boolean> {
    return this.#credentials.rootKeyMatches();
  }

  // --- GrantStore (storage/sqlite_grant_store.ts) -----------------------------------------

  createGrant(grant: GrantRecord, audit?: AuditRecord): Promise<GrantRecord> {
    return this.#grants.createGrant(grant, audit);
  }

  getGrant(grantId: string): Promise<GrantRecord | null> {
    return this.#grants.getGrant(grantId);
  }

  listGrantsOfKey(keyId: string): Promise<GrantRecord[]> {
    return this.#grants.listGrantsOfKey(keyId);
  }

  listRetirableGrants(principal: string, page: Page): Promise<GrantRecord[]> {
    return this.#grants.listRetirableGrants(principal, page);
  }

  deleteGrant(grantId: string, audit?: AuditRecord): Promise<boolean> {
    return this.#grants.deleteGrant(grantId, audit);
  }

  // --- ImportStore (storage/sqlite_import_store.ts) ---------------------------------------

  putImportParameters(parameters: ImportParameters, audit?: AuditRecord): Promise<void> {
    return this.#imports.putImportParameters(parameters, audit);
  }

  getImportParameters(tokenId: string): Promise<ImportParameters | null> {
    return this.#imports.getImportParameters(tokenId);
  }

  listImportedMaterial(keyId: string): Promise<ImportedMaterialRecord[]> {
    return this.#imports.listImportedMaterial(keyId);
  }

  putPendingKeyMaterial(
    key: KeyRecord,
    pending: PendingKeyMaterial,
    description: string | null,
    audit?: AuditRecord,
  ): Promise<boolean> {
    return this.#imports.putPendingKeyMaterial(key, pending, description, audit);
  }

  getPendingKeyMaterial(keyId: string): Promise<PendingKeyMaterial | null> {
    return this.#imports.getPendingKeyMaterial(keyId);
  }

  deletePendingKeyMaterial(keyId: string, audit?: AuditRecord): Promise<void> {
    return this.#imports.deletePendingKeyMaterial(keyId, audit);
  }

  importKeyMaterial(
    key: KeyRecord,
    material: KeyMaterial,
    imported: ImportedMaterialRecord,
    audit?: AuditRecord,
  ): Promise<void> {
    return this.#imports.importKeyMaterial(key, material, imported, audit);
  }

  deleteImportedKeyMaterial(
    key: KeyRecord,
    options: { onlyIfValidTo?: number; audit?: AuditRecord | undefined } = {},
  ): Promise<boolean> {
    return this.#imports.deleteImportedKeyMaterial(key, options);
  }

  listKeysWithExpiredMaterial(now: number): Promise<string[]> {
    return this.#imports.listKeysWithExpiredMaterial(now);
  }

  deleteExpiredImportParameters(now: number): Promise<void> {
    return this.#imports.deleteExpiredImportParameters(now);
  }

  // --- RotationStore (storage/sqlite_rotation_store.ts) -----------------------------------

  getRotationSchedule(keyId: string): Promise<RotationSchedule | null> {
    return this.#rotation.getRotationSchedule(keyId);
  }

  putRotationSchedule(schedule: RotationSchedule, audit?: AuditRecord): Promise<void> {
    return this.#rotation.putRotationSchedule(schedule, audit);
  }

  rotateKeyMaterial(rotation: KeyRotation, audit?: AuditRecord): Promise<boolean> {
    return this.#rotation.rotateKeyMaterial(rotation, audit);
  }

  listMaterialVersions(keyId: string, page: MaterialVersionPage): Promise<MaterialVersionInfo[]> {
    return this.#rotation.listMaterialVersions(keyId, page);
  }

  listDueRotations(now: number, limit: number): Promise<DueRotation[]> {
    return this.#rotation.listDueRotations(now, limit);
  }

  // --- MultiRegionStore (storage/sqlite_multi_region_store.ts) ----------------------------

  getMultiRegionFamily(keyId: string): Promise<MultiRegionFamily | null> {
    return this.#multiRegion.getMultiRegionFamily(keyId);
  }

  replicateKey(
    sourceRegion: string,
    replica: KeyRecord,
    tags: readonly Tag[],
    audit?: AuditRecord,
  ): Promise<boolean> {
    return this.#multiRegion.replicateKey(sourceRegion, replica, tags, audit);
  }

  setPrimaryRegion(keyId: string, region: string, audit?: AuditRecord): Promise<void> {
    return this.#multiRegion.setPrimaryRegion(keyId, region, audit);
  }

  // --- AuditSink, readiness and lifecycle -------------------------------------------------

  /** Appends audit records (of calls that changed nothing), hash-chained, in one transaction. */
  async appendAudit(records: readonly AuditRecord[]): Promise<void> {
    await this.#writes.appendAudit(records);
  }

  /**
   * The libSQL client itself, for tools and fault-injection tests (a per-connection pragma such
   * as `max_page_count` must run on it). Requests never use it directly.
   */
  get client(): Client {
    return this.#client;
  }

  /**
   * Runs a per-connection `PRAGMA` (fault injection: `max_page_count`) on every connection of the
   * store: the client and the writer's.
   */
  async connectionPragma(pragma: string): Promise<void> {
    await this.#client.execute(pragma);
    await this.#writer?.execute(pragma);
  }

  /** The deadline of every store call, in ms. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** The storage fault a store call met last and that still holds, if any (storage/deadline.ts). */
  storeFault(): StoreFault | null {
    return this.#faults.current();
  }

  /**
   * Proves the database writable now, within `timeoutMs` (default: the store's deadline); see
   * storage/sqlite_readiness.ts. Throws the storage error, a DependencyTimeoutException past the
   * deadline, or an Error naming the full database.
   */
  probeWritable(timeoutMs = this.#timeoutMs): Promise<void> {
    return this.#readiness.probeWritable(timeoutMs);
  }

  /** Whether the root key wraps and unwraps (a one-byte value): it is loaded and usable. */
  rootKeyUsable(): Promise<boolean> {
    return this.#readiness.rootKeyUsable();
  }

  /**
   * Folds the WAL into the database file (`PRAGMA wal_checkpoint(TRUNCATE)`, so after a clean
   * stop the file alone holds everything: README "Backup and restore"), then closes the client;
   * writes still queued fail. A checkpoint that cannot run (a remote database, a busy reader)
   * is skipped: the WAL keeps the data and the next open replays it. With a writer, the writes
   * queued are committed (or fail by their deadline) first, then the writer closes its connection.
   */
  async close(): Promise<void> {
    if (this.#writer !== undefined) {
      await this.#writes.idle();
      await this.#writer.close().catch(() => {});
    }
    await this.#client.execute("PRAGMA wal_checkpoint(TRUNCATE)").catch(() => {});
    this.#client.close();
  }
}
