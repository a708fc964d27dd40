/**
 * The Store port on libSQL. Key material and credential secrets are wrapped
 * under the root key before they reach SQL and unwrapped on the way out.
 * Every state change is one transaction, group-committed by a WriteQueue;
 * reads are plain statements. Every call has a deadline and its storage
 * faults are remembered for readiness (storage/deadline.ts).
 *
 * @module
 */
import type { Client, InStatement, Row } from "@libsql/client";
import { statfs } from "node:fs/promises";
import { dirname } from "node:path";
import {
  canonicalJson,
  type GrantConstraints,
  type GrantOperation,
  type GrantRecord,
} from "../core/access/grants.ts";
import type { AuditRecord } from "../core/audit/record.ts";
import { keyArn } from "../core/identifiers.ts";
import type { ImportedMaterialRecord, ImportParameters, Page, Store } from "../core/ports.ts";
import { SecretBytes } from "../core/secret.ts";
import type {
  AliasRecord,
  Credential,
  KeyMaterial,
  KeyRecord,
  KeySpec,
  KeyState,
  KeyUsage,
  Origin,
  Tag,
} from "../core/types.ts";
import { BUMP_CHANGE_COUNTER } from "./change_counter.ts";
import { credentialAad, importParametersAad, materialAad, type RootWrapper } from "./root_key.ts";
import {
  deleteExpiredImportParameters,
  deleteKeyImportStatements,
  deleteMaterialStatements,
  IMPORTED_KEY_COLUMNS,
  importedKeyFields,
  importedMaterialFromRow,
  importParametersFromRow,
  importStatements,
  insertImportParameters,
  selectImportedMaterial,
  selectImportParameters,
  selectKeysWithExpiredMaterial,
} from "./import_store.ts";
import { WriteQueue, type WriteQueueOptions } from "./write_queue.ts";
import {
  deadlineReads,
  DEFAULT_STORE_TIMEOUT_MS,
  LOCK_WAIT_SLICE_MS,
  type ReadClient,
  restoreBusyTimeoutSql,
  type StoreFault,
  StoreFaults,
  withDeadline,
} from "./deadline.ts";
import type { MultiRegionFamily } from "../core/multi_region_store.ts";
import { publicKeyId, storageKeyId } from "../core/regional_store.ts";
import { SqliteRotationStore } from "./rotation_store.ts";
import type {
  DueRotation,
  KeyRotation,
  MaterialVersionInfo,
  MaterialVersionPage,
  RotationSchedule,
} from "../core/rotation_store.ts";
import { blob, int, intOrNull, text, textOrNull } from "./rows.ts";

const KEY_COLUMNS = "key_id, account_id, region, created_at, description, key_spec, key_usage, " +
  "origin, state, deletion_date, pending_window_in_days, policy, current_material_version";
const GRANT_COLUMNS = "grant_id, key_id, name, grantee_principal, grantee_service_principal, " +
  "retiring_principal, retiring_service_principal, issuing_account, operations, constraints, " +
  "created_at";
const ALIAS_COLUMNS = "account_id, region, name, target_key_id, created_at, updated_at";

/** Store backed by a libSQL client; closing the store closes the client. */
export class SqliteStore implements Store {
  /** The client itself: closed by `close`, and what the writability probe runs on. */
  #client: Client;
  /** Reads, each with the deadline. */
  #db: ReadClient;
  #rootKey: RootWrapper;
  #writes: WriteQueue;
  #timeoutMs: number;
  #faults = new StoreFaults();
  /** The main database file (PRAGMA database_list), once read; "" in memory. */
  #file: string | undefined;
  /** Rotation schedules and history (storage/rotation_store.ts), through this store's writes. */
  #rotation: SqliteRotationStore;

  /**
   * Each transaction that changes state bumps the change counter (storage/change_counter.ts);
   * `options.observer`, a SqliteChangeCounter, also sees what the bump returned.
   * `options.timeoutMs` is the deadline of every call (default `DEFAULT_STORE_TIMEOUT_MS`).
   */
  constructor(db: Client, rootKey: RootWrapper, options: WriteQueueOptions = {}) {
    this.#client = db;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
    this.#db = deadlineReads(db, this.#timeoutMs, this.#faults);
    this.#rootKey = rootKey;
    this.#writes = new WriteQueue(db, {
      ...options,
      timeoutMs: this.#timeoutMs,
      faults: this.#faults,
      lockCheck: isLocal(db) ? { sliceMs: LOCK_WAIT_SLICE_MS } : undefined,
      observer: options.observer ?? BUMP_CHANGE_COUNTER,
    });
    this.#rotation = new SqliteRotationStore(db, this.#writes, {
      wrap: (plaintext, aad) => this.#rootKey.wrap(plaintext, aad),
    });
  }

  /** Inserts key, first material version (none for Origin EXTERNAL) and tags in one transaction. */
  async createKey(
    key: KeyRecord,
    material: KeyMaterial | null,
    tags: readonly Tag[],
    audit?: AuditRecord,
  ): Promise<void> {
    await this.#writes.submit([
      insertKey(key),
      ...(material === null ? [] : [await this.#insertMaterial(key, material, "")]),
      ...tags.map((tag) => upsertTag(key.keyId, tag)),
      ...multiRegionFamilyRow(key),
    ], auditRows(audit));
  }

  /** The INSERT of a material version, wrapped under the root key. */
  async #insertMaterial(
    key: KeyRecord,
    material: KeyMaterial,
    orReplace: "" | "OR REPLACE",
  ): Promise<InStatement> {
    if (material.keyId !== key.keyId) throw new Error("material belongs to another key");
    const wrapped = await this.#rootKey.wrap(
      material.material.expose(),
      materialAad(keyArn(key.region, key.accountId, key.keyId), material.version),
    );
    return {
      sql: `INSERT ${orReplace} INTO key_material (key_id, version, key_material_id, ` +
        "wrapped_material, created_at) VALUES (?, ?, ?, ?, ?)",
      args: [key.keyId, material.version, material.keyMaterialId, wrapped, material.createdAt],
    };
  }

  /** The key with this id, or null. */
  async getKey(keyId: string): Promise<KeyRecord | null> {
    const result = await this.#db.execute({
      sql: `SELECT ${KEY_COLUMNS}, ${IMPORTED_KEY_COLUMNS} FROM keys WHERE key_id = ?`,
      args: [keyId],
    });
    const row = result.rows[0];
    return row === undefined ? null : keyFromRow(row);
  }

  /** Keys of an account ordered by keyId, after `page.after`. */
  async listKeys(accountId: string, region: string, page: Page): Promise<KeyRecord[]> {
    const result = await this.#db.execute({
      sql: `SELECT ${KEY_COLUMNS}, ${IMPORTED_KEY_COLUMNS} FROM keys ` +
        "WHERE account_id = ? AND region = ? AND key_id > ? " +
        "ORDER BY key_id LIMIT ?",
      args: [accountId, region, page.after ?? "", page.limit],
    });
    return result.rows.map(keyFromRow);
  }

  /** Writes the mutable fields of `key`. */
  async updateKey(key: KeyRecord, audit?: AuditRecord): Promise<void> {
    await this.#writes.submit([{
      sql: "UPDATE keys SET description = ?, state = ?, deletion_date = ?, " +
        "pending_window_in_days = ?, policy = ?, current_material_version = ? WHERE key_id = ?",
      args: [
        key.description,
        key.state,
        key.deletionDate,
        key.pendingWindowInDays,
        key.policy,
        key.currentMaterialVersion,
        key.keyId,
      ],
    }], auditRows(audit));
  }

  /** One material version, unwrapped, or null. */
  async getMaterial(keyId: string, version: number): Promise<KeyMaterial | null> {
    const result = await this.#db.execute({
      sql: "SELECT m.key_material_id, m.wrapped_material, m.created_at, k.region, k.account_id " +
        "FROM key_material m JOIN keys k ON k.key_id = m.key_id " +
        "WHERE m.key_id = ? AND m.version = ?",
      args: [keyId, version],
    });
    const row = result.rows[0];
    if (row === undefined) return null;
    const arn = keyArn(text(row, "region"), text(row, "account_id"), keyId);
    const plain = await this.#rootKey.unwrap(
      blob(row, "wrapped_material"),
      materialAad(arn, version),
    );
    return {
      keyId,
      version,
      keyMaterialId: text(row, "key_material_id"),
      material: new SecretBytes(plain),
      createdAt: int(row, "created_at"),
    };
  }

  /** Deletes a key with its material, aliases and tags in one transaction. */
  async deleteKey(keyId: string): Promise<void> {
    await this.#writes.submit([
      { sql: "DELETE FROM aliases WHERE target_key_id = ?", args: [keyId] },
      { sql: "DELETE FROM tags WHERE key_id = ?", args: [keyId] },
      { sql: "DELETE FROM grants WHERE key_id = ?", args: [keyId] },
      { sql: "DELETE FROM key_material WHERE key_id = ?", args: [keyId] },
      ...deleteKeyImportStatements(keyId),
      { sql: "DELETE FROM keys WHERE key_id = ?", args: [keyId] },
    ]);
  }

  /** Ids of PendingDeletion keys whose deletion date is at or before `now`. */
  async listKeysDueForDeletion(now: number): Promise<string[]> {
    const result = await this.#db.execute({
      sql: "SELECT key_id FROM keys WHERE state = 'PendingDeletion' AND deletion_date <= ? " +
        "ORDER BY deletion_date, key_id",
      args: [now],
    });
    return result.rows.map((row) => text(row, "key_id"));
  }

  /** Adds or overwrites tags of a key in one transaction. */
  async putTags(keyId: string, tags: readonly Tag[], audit?: AuditRecord): Promise<void> {
    await this.#writes.submit(tags.map((tag) => upsertTag(keyId, tag)), auditRows(audit));
  }

  /** Removes tags of a key in one transaction; absent ones are ignored. */
  async removeTags(
    keyId: string,
    tagKeys: readonly string[],
    audit?: AuditRecord,
  ): Promise<void> {
    await this.#writes.submit(
      tagKeys.map((tagKey) => ({
        sql: "DELETE FROM tags WHERE key_id = ? AND tag_key = ?",
        args: [keyId, tagKey],
      })),
      auditRows(audit),
    );
  }

  /** Tags of a key ordered by TagKey. */
  async listTags(keyId: string): Promise<Tag[]> {
    const result = await this.#db.execute({
      sql: "SELECT tag_key, tag_value FROM tags WHERE key_id = ? ORDER BY tag_key",
      args: [keyId],
    });
    return result.rows.map((row) => ({
      TagKey: text(row, "tag_key"),
      TagValue: text(row, "tag_value"),
    }));
  }

  /** Inserts an alias; resolves false when the name is already taken. */
  async createAlias(alias: AliasRecord, audit?: AuditRecord): Promise<boolean> {
    // A plain INSERT: a taken name fails the whole write, so its audit record never commits.
    try {
      await this.#writes.submit([{
        sql: `INSERT INTO aliases (${ALIAS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`,
        args: [
          alias.accountId,
          alias.region,
          alias.name,
          alias.targetKeyId,
          alias.createdAt,
          alias.updatedAt,
        ],
      }], auditRows(audit));
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  /** The alias, or null. */
  async getAlias(accountId: string, region: string, name: string): Promise<AliasRecord | null> {
    const result = await this.#db.execute({
      sql: `SELECT ${ALIAS_COLUMNS} FROM aliases WHERE account_id = ? AND region = ? AND name = ?`,
      args: [accountId, region, name],
    });
    const row = result.rows[0];
    return row === undefined ? null : aliasFromRow(row);
  }

  /** Points an alias at `alias.targetKeyId` and sets its update time. */
  async updateAlias(alias: AliasRecord, audit?: AuditRecord): Promise<void> {
    await this.#writes.submit([{
      sql: "UPDATE aliases SET target_key_id = ?, updated_at = ? " +
        "WHERE account_id = ? AND region = ? AND name = ?",
      args: [alias.targetKeyId, alias.updatedAt, alias.accountId, alias.region, alias.name],
    }], auditRows(audit));
  }

  /** Deletes an alias; an absent one is ignored. */
  async deleteAlias(
    accountId: string,
    region: string,
    name: string,
    audit?: AuditRecord,
  ): Promise<void> {
    await this.#writes.submit([{
      sql: "DELETE FROM aliases WHERE account_id = ? AND region = ? AND name = ?",
      args: [accountId, region, name],
    }], auditRows(audit));
  }

  /** Aliases of an account and region ordered by name, optionally of one key. */
  async listAliases(
    accountId: string,
    region: string,
    options: Page & { targetKeyId?: string | undefined },
  ): Promise<AliasRecord[]> {
    const byKey = options.targetKeyId === undefined ? "" : "AND target_key_id = ? ";
    const result = await this.#db.execute({
      sql: `SELECT ${ALIAS_COLUMNS} FROM aliases WHERE account_id = ? AND region = ? ` +
        `AND name > ? ${byKey}ORDER BY name LIMIT ?`,
      args: [
        accountId,
        region,
        options.after ?? "",
        ...(options.targetKeyId === undefined ? [] : [options.targetKeyId]),
        options.limit,
      ],
    });
    return result.rows.map(aliasFromRow);
  }

  /** The credential with its secret unwrapped, or null. */
  async getCredential(accessKeyId: string): Promise<Credential | null> {
    const result = await this.#db.execute({
      sql: "SELECT wrapped_secret, account_id, principal_arn, enabled, created_at " +
        "FROM credentials WHERE access_key_id = ?",
      args: [accessKeyId],
    });
    const row = result.rows[0];
    if (row === undefined) return null;
    const secret = await this.#rootKey.unwrap(
      blob(row, "wrapped_secret"),
      credentialAad(accessKeyId),
    );
    return {
      accessKeyId,
      secretAccessKey: new SecretBytes(secret),
      accountId: text(row, "account_id"),
      principalArn: text(row, "principal_arn"),
      enabled: int(row, "enabled") === 1,
      createdAt: int(row, "created_at"),
    };
  }

  /** Inserts a credential, or does nothing when the access key id exists. */
  async putCredential(credential: Credential): Promise<void> {
    await this.#writes.submit([await this.#insertCredential(credential, "OR IGNORE", "")]);
  }

  /** Inserts a credential or replaces the secret, account, principal and state of an existing one. */
  async upsertCredential(credential: Credential): Promise<void> {
    const onConflict =
      " ON CONFLICT (access_key_id) DO UPDATE SET wrapped_secret = excluded.wrapped_secret, " +
      "account_id = excluded.account_id, principal_arn = excluded.principal_arn, enabled = excluded.enabled";
    await this.#writes.submit([await this.#insertCredential(credential, "", onConflict)]);
  }

  async #insertCredential(
    credential: Credential,
    orIgnore: string,
    onConflict: string,
  ): Promise<InStatement> {
    const wrapped = await this.#rootKey.wrap(
      credential.secretAccessKey.expose(),
      credentialAad(credential.accessKeyId),
    );
    return {
      sql: `INSERT ${orIgnore} INTO credentials (access_key_id, wrapped_secret, account_id, ` +
        `principal_arn, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?)${onConflict}`,
      args: [
        credential.accessKeyId,
        wrapped,
        credential.accountId,
        credential.principalArn,
        credential.enabled ? 1 : 0,
        credential.createdAt,
      ],
    };
  }

  /** True when the root key unwraps a stored secret (or nothing is stored yet). */
  async rootKeyMatches(): Promise<boolean> {
    const result = await this.#db.execute(
      "SELECT access_key_id, wrapped_secret FROM credentials LIMIT 1",
    );
    const row = result.rows[0];
    if (row === undefined) return true;
    try {
      await this.#rootKey.unwrap(
        blob(row, "wrapped_secret"),
        credentialAad(text(row, "access_key_id")),
      );
      return true;
    } catch {
      return false;
    }
  }

  /** Enables or disables an access key. */
  async setCredentialEnabled(accessKeyId: string, enabled: boolean): Promise<void> {
    await this.#writes.submit([{
      sql: "UPDATE credentials SET enabled = ? WHERE access_key_id = ?",
      args: [enabled ? 1 : 0, accessKeyId],
    }]);
  }

  /** Number of stored credentials (zero on a first start). */
  async countCredentials(): Promise<number> {
    const result = await this.#db.execute("SELECT count(*) AS n FROM credentials");
    const row = result.rows[0];
    return row === undefined ? 0 : int(row, "n");
  }

  /** Inserts a grant unless one with the same key, Name and parameters exists; resolves the grant in effect. */
  async createGrant(grant: GrantRecord, audit?: AuditRecord): Promise<GrantRecord> {
    const params = grantParams(grant);
    await this.#writes.submit([{
      sql: `INSERT OR IGNORE INTO grants (${GRANT_COLUMNS}, params) ` +
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      args: [
        grant.grantId,
        grant.keyId,
        grant.name,
        grant.granteePrincipal,
        grant.granteeServicePrincipal,
        grant.retiringPrincipal,
        grant.retiringServicePrincipal,
        grant.issuingAccount,
        JSON.stringify(grant.operations),
        grant.constraints === null ? null : JSON.stringify(grant.constraints),
        grant.createdAt,
        params,
      ],
    }], auditRows(audit));
    if (grant.name === null) return grant;
    const result = await this.#db.execute({
      sql: `SELECT ${GRANT_COLUMNS} FROM grants WHERE key_id = ? AND name = ? AND params = ?`,
      args: [grant.keyId, grant.name, params],
    });
    const row = result.rows[0];
    if (row === undefined) throw new Error("grant missing after insert");
    return grantFromRow(row);
  }

  /** A grant by id, or null. */
  async getGrant(grantId: string): Promise<GrantRecord | null> {
    const result = await this.#db.execute({
      sql: `SELECT ${GRANT_COLUMNS} FROM grants WHERE grant_id = ?`,
      args: [grantId],
    });
    const row = result.rows[0];
    return row === undefined ? null : grantFromRow(row);
  }

  /** Grants of a key ordered by grant id. */
  async listGrantsOfKey(keyId: string): Promise<GrantRecord[]> {
    const result = await this.#db.execute({
      sql: `SELECT ${GRANT_COLUMNS} FROM grants WHERE key_id = ? ORDER BY grant_id`,
      args: [keyId],
    });
    return result.rows.map(grantFromRow);
  }

  /** Grants a principal may retire, ordered by grant id. */
  async listRetirableGrants(principal: string, page: Page): Promise<GrantRecord[]> {
    const result = await this.#db.execute({
      sql: `SELECT ${GRANT_COLUMNS} FROM grants WHERE retiring_principal = ? AND grant_id > ? ` +
        "ORDER BY grant_id LIMIT ?",
      args: [principal, page.after ?? "", page.limit],
    });
    return result.rows.map(grantFromRow);
  }

  /** Deletes a grant; resolves whether it existed. */
  async deleteGrant(grantId: string, audit?: AuditRecord): Promise<boolean> {
    const [result] = await this.#writes.submit([{
      sql: "DELETE FROM grants WHERE grant_id = ?",
      args: [grantId],
    }], auditRows(audit));
    return result !== undefined && result.rowsAffected === 1;
  }

  // --- imported key material (SQL in storage/import_store.ts) ---------------------------

  /** Stores a GetParametersForImport answer, its private key wrapped under the root key. */
  async putImportParameters(parameters: ImportParameters, audit?: AuditRecord): Promise<void> {
    const key = await this.getKey(parameters.keyId);
    if (key === null) throw new Error("import parameters of an unknown key");
    const wrapped = await this.#rootKey.wrap(
      parameters.privateKey.expose(),
      importParametersAad(parameters.tokenId, keyArn(key.region, key.accountId, key.keyId)),
    );
    await this.#writes.submit([insertImportParameters(parameters, wrapped)], auditRows(audit));
  }

  /** A GetParametersForImport answer with its private key unwrapped, or null. */
  async getImportParameters(tokenId: string): Promise<ImportParameters | null> {
    const row = (await this.#db.execute(selectImportParameters(tokenId))).rows[0];
    if (row === undefined) return null;
    const stored = importParametersFromRow(row);
    const plain = await this.#rootKey.unwrap(
      stored.wrappedPrivateKey,
      importParametersAad(
        tokenId,
        keyArn(stored.region, stored.accountId, stored.parameters.keyId),
      ),
    );
    return { ...stored.parameters, privateKey: new SecretBytes(plain) };
  }

  /** Materials ever imported into a key. */
  async listImportedMaterial(keyId: string): Promise<ImportedMaterialRecord[]> {
    const result = await this.#db.execute(selectImportedMaterial(keyId));
    return result.rows.map(importedMaterialFromRow);
  }

  /** Stores imported material and the key's new state and expiration in one transaction. */
  async importKeyMaterial(
    key: KeyRecord,
    material: KeyMaterial,
    imported: ImportedMaterialRecord,
    audit?: AuditRecord,
  ): Promise<void> {
    await this.#writes.submit([
      await this.#insertMaterial(key, material, "OR REPLACE"),
      ...importStatements(key, imported),
    ], auditRows(audit));
  }

  /** Deletes a key's imported material and writes its state; resolves whether it deleted. */
  async deleteImportedKeyMaterial(
    key: KeyRecord,
    options: { onlyIfValidTo?: number; audit?: AuditRecord | undefined } = {},
  ): Promise<boolean> {
    const results = await this.#writes.submit(
      deleteMaterialStatements(key, options.onlyIfValidTo),
      auditRows(options.audit),
    );
    return results.at(-1)?.rowsAffected === 1;
  }

  /** Ids of keys whose imported material expired at or before `now`. */
  async listKeysWithExpiredMaterial(now: number): Promise<string[]> {
    const result = await this.#db.execute(selectKeysWithExpiredMaterial(now));
    return result.rows.map((row) => text(row, "key_id"));
  }

  /** Deletes import parameters whose validity ended before `now`. */
  async deleteExpiredImportParameters(now: number): Promise<void> {
    await this.#writes.submit([deleteExpiredImportParameters(now)]);
  }

  /** The key's rotation schedule, or null (storage/rotation_store.ts). */
  getRotationSchedule(keyId: string): Promise<RotationSchedule | null> {
    return this.#rotation.getRotationSchedule(keyId);
  }

  /** Writes a key's rotation schedule, keeping its on-demand count. */
  putRotationSchedule(schedule: RotationSchedule, audit?: AuditRecord): Promise<void> {
    return this.#rotation.putRotationSchedule(schedule, audit);
  }

  /** Commits a rotation when its conditions still hold; false (nothing written) otherwise. */
  rotateKeyMaterial(rotation: KeyRotation, audit?: AuditRecord): Promise<boolean> {
    return this.#rotation.rotateKeyMaterial(rotation, audit);
  }

  /** Versions of a key's material after `page.after`, ascending. */
  listMaterialVersions(
    keyId: string,
    page: MaterialVersionPage,
  ): Promise<MaterialVersionInfo[]> {
    return this.#rotation.listMaterialVersions(keyId, page);
  }

  /** Keys whose automatic rotation is due at or before `now`. */
  listDueRotations(now: number, limit: number): Promise<DueRotation[]> {
    return this.#rotation.listDueRotations(now, limit);
  }

  // --- multi-Region keys (core/multi_region_store.ts, core/regional_store.ts) --------------

  /** The primary region and the regions of every key of a multi-Region family, or null. */
  async getMultiRegionFamily(keyId: string): Promise<MultiRegionFamily | null> {
    const [primary, regions] = await this.#db.batch([
      { sql: "SELECT primary_region FROM multi_region_keys WHERE key_id = ?", args: [keyId] },
      {
        sql: "SELECT region FROM keys WHERE key_id LIKE ? ORDER BY region",
        args: [`${keyId}@%`],
      },
    ], "read");
    const row = primary?.rows[0];
    if (row === undefined || regions === undefined || regions.rows.length === 0) return null;
    return {
      primaryRegion: text(row, "primary_region"),
      regions: regions.rows.map((r) => text(r, "region")),
    };
  }

  /**
   * Creates a replica with a copy of every material version of the key in `sourceRegion`
   * (re-wrapped under the replica's ARN; every column of each version row copied), and its tags.
   */
  async replicateKey(
    sourceRegion: string,
    replica: KeyRecord,
    tags: readonly Tag[],
    audit?: AuditRecord,
  ): Promise<boolean> {
    const publicId = publicKeyId(replica.keyId);
    const source = await this.getKey(storageKeyId(publicId, sourceRegion));
    if (source === null) throw new Error("the key to replicate is gone");
    const existing = await this.getKey(replica.keyId);
    if (existing !== null) return false;
    const versions = await this.#db.execute({
      sql: "SELECT * FROM key_material WHERE key_id = ? ORDER BY version",
      args: [source.keyId],
    });
    const sourceArn = keyArn(source.region, source.accountId, source.keyId);
    const replicaArn = keyArn(replica.region, replica.accountId, replica.keyId);
    const copies: InStatement[] = [];
    for (const row of versions.rows) {
      const version = int(row, "version");
      const plain = await this.#rootKey.unwrap(
        blob(row, "wrapped_material"),
        materialAad(sourceArn, version),
      );
      const wrapped = await this.#rootKey.wrap(plain, materialAad(replicaArn, version));
      plain.fill(0);
      const columns = versions.columns;
      const args = columns.map((name) =>
        name === "key_id" ? replica.keyId : name === "wrapped_material" ? wrapped : row[name]!
      );
      copies.push({
        sql: `INSERT INTO key_material (${columns.join(", ")}) VALUES (${
          columns.map(() => "?").join(", ")
        })`,
        args,
      });
    }
    try {
      await this.#writes.submit([
        insertKey(replica),
        ...copies,
        ...tags.map((tag) => upsertTag(replica.keyId, tag)),
      ], auditRows(audit));
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
    return true;
  }

  /** Makes `region` the family's primary region. */
  async setPrimaryRegion(keyId: string, region: string, audit?: AuditRecord): Promise<void> {
    await this.#writes.submit([{
      sql: "UPDATE multi_region_keys SET primary_region = ? WHERE key_id = ?",
      args: [region, keyId],
    }], auditRows(audit));
  }

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

  /** The deadline of every store call, in ms. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** The storage fault a store call met last and that still holds, if any (storage/deadline.ts). */
  storeFault(): StoreFault | null {
    return this.#faults.current();
  }

  /**
   * Proves the database writable now, within `timeoutMs` (default: the store's deadline): takes
   * the write lock and commits a write that changes nothing (a row of schema_migrations
   * rewritten as it is, so the commit appends to the log and syncs it), then checks that the
   * file may still grow (`PRAGMA max_page_count`). Throws the storage error, a
   * DependencyTimeoutException past the deadline, or an Error naming the full database.
   */
  async probeWritable(timeoutMs = this.#timeoutMs): Promise<void> {
    const probe = async () => {
      if (isLocal(this.#client)) {
        // One exec: a lock met in it leaves no statement behind (storage/deadline.ts).
        await this.#client.executeMultiple(
          `PRAGMA busy_timeout=${LOCK_WAIT_SLICE_MS}; BEGIN IMMEDIATE; ${PROBE_WRITE}; COMMIT; ` +
            restoreBusyTimeoutSql(),
        ).catch(async (error) => {
          await this.#client.executeMultiple(restoreBusyTimeoutSql()).catch(() => {});
          throw error;
        });
      } else {
        await this.#client.batch([PROBE_WRITE], "write");
      }
      this.#faults.committed();
      await this.#checkRoomToGrow();
    };
    await withDeadline(probe(), timeoutMs, () => storeProbeTimeout(timeoutMs)).catch((error) => {
      throw this.#faults.saw(error);
    });
  }

  /** Whether the root key wraps and unwraps (a one-byte value): it is loaded and usable. */
  async rootKeyUsable(): Promise<boolean> {
    try {
      const wrapped = await this.#rootKey.wrap(new Uint8Array([1]), READINESS_AAD);
      const plain = await this.#rootKey.unwrap(wrapped, READINESS_AAD);
      return plain.length === 1 && plain[0] === 1;
    } catch {
      return false;
    }
  }

  /** Throws SQLITE_FULL when the database reached `max_page_count` with (almost) no free page. */
  async #checkRoomToGrow(): Promise<void> {
    const pragma = async (name: string) =>
      Number((await this.#client.execute(`PRAGMA ${name}`)).rows[0]?.[0] ?? NaN);
    const [count, max, free] = [
      await pragma("page_count"),
      await pragma("max_page_count"),
      await pragma("freelist_count"),
    ];
    await this.#checkDiskSpace();
    const pages = Number.isNaN(count) ? 0 : count;
    const limit = Number.isNaN(max) ? Infinity : max;
    const unused = Number.isNaN(free) ? 0 : free;
    if (limit - pages + unused < MIN_FREE_PAGES) {
      throw Object.assign(
        new Error(`SQLITE_FULL: database or disk is full (${pages} of ${limit} pages)`),
        { code: "SQLITE_FULL" },
      );
    }
  }

  /**
   * Throws SQLITE_FULL when the file system of a local database file has less than
   * {@link MIN_FREE_DISK_BYTES} left: a commit that appends to the log may still fit where the
   * next real write does not.
   */
  async #checkDiskSpace(): Promise<void> {
    if (!isLocal(this.#client)) return;
    this.#file ??= await this.#mainFile();
    if (this.#file === "") return;
    const fs = await statfs(dirname(this.#file));
    const free = Number(fs.bavail) * Number(fs.bsize);
    if (free < MIN_FREE_DISK_BYTES) {
      throw Object.assign(
        new Error(`SQLITE_FULL: the disk holding the database has ${free} bytes free`),
        { code: "SQLITE_FULL" },
      );
    }
  }

  /** The path of the main database file, "" for an in-memory database. */
  async #mainFile(): Promise<string> {
    const rows = (await this.#client.execute("PRAGMA database_list")).rows;
    const main = rows.find((row) => row.name === "main");
    return typeof main?.file === "string" ? main.file : "";
  }

  /**
   * Folds the WAL into the database file (`PRAGMA wal_checkpoint(TRUNCATE)`, so after a clean
   * stop the file alone holds everything: README "Backup and restore"), then closes the client;
   * writes still queued fail. A checkpoint that cannot run (a remote database, a busy reader)
   * is skipped: the WAL keeps the data and the next open replays it.
   */
  async close(): Promise<void> {
    await this.#client.execute("PRAGMA wal_checkpoint(TRUNCATE)").catch(() => {});
    this.#client.close();
  }
}

/** The AAD of the readiness check's root-key round trip (nothing it wraps is stored). */
const READINESS_AAD = new TextEncoder().encode("kms:readiness-probe");

/** The readiness probe's write: a row of schema_migrations rewritten as it is. */
const PROBE_WRITE = "UPDATE schema_migrations SET name = name " +
  "WHERE version = (SELECT max(version) FROM schema_migrations)";

/** Whether `db` is a local connection (the native driver), where locks are met in slices. */
function isLocal(db: Pick<Client, "protocol">): boolean {
  return db.protocol === "file";
}

/** Free bytes the disk of a local database must keep for the store to be called writable. */
const MIN_FREE_DISK_BYTES = 1024 * 1024;

/** Pages the database must still be able to take for a write probe to call it writable. */
const MIN_FREE_PAGES = 8;

function storeProbeTimeout(ms: number): Error {
  return Object.assign(new Error(`the write probe did not finish within ${ms} ms`), {
    code: "TIMEOUT",
  });
}

/** A new multi-Region key names its family's primary region (its own). */
function multiRegionFamilyRow(key: KeyRecord): InStatement[] {
  const publicId = publicKeyId(key.keyId);
  if (publicId === key.keyId) return [];
  return [{
    sql: "INSERT INTO multi_region_keys (key_id, primary_region) VALUES (?, ?) " +
      "ON CONFLICT (key_id) DO NOTHING",
    args: [publicId, key.region],
  }];
}

/** Whether a failed write broke a UNIQUE or PRIMARY KEY constraint. */
function isUniqueViolation(error: unknown): boolean {
  const text = `${(error as { code?: unknown })?.code ?? ""} ${String(error)}`;
  return /SQLITE_CONSTRAINT_(PRIMARYKEY|UNIQUE)|UNIQUE constraint failed/.test(text);
}

/** The audit rows committed with a change: the request's own record, when there is one. */
function auditRows(audit: AuditRecord | undefined): readonly AuditRecord[] | undefined {
  return audit === undefined ? undefined : [audit];
}

function insertKey(key: KeyRecord): InStatement {
  return {
    sql: `INSERT INTO keys (${KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    args: [
      key.keyId,
      key.accountId,
      key.region,
      key.createdAt,
      key.description,
      key.keySpec,
      key.keyUsage,
      key.origin,
      key.state,
      key.deletionDate,
      key.pendingWindowInDays,
      key.policy,
      key.currentMaterialVersion,
    ],
  };
}

function upsertTag(keyId: string, tag: Tag): InStatement {
  return {
    sql: "INSERT INTO tags (key_id, tag_key, tag_value) VALUES (?, ?, ?) " +
      "ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
    args: [keyId, tag.TagKey, tag.TagValue],
  };
}

function keyFromRow(row: Row): KeyRecord {
  return {
    keyId: text(row, "key_id"),
    accountId: text(row, "account_id"),
    region: text(row, "region"),
    createdAt: int(row, "created_at"),
    description: text(row, "description"),
    keySpec: text(row, "key_spec") as KeySpec,
    keyUsage: text(row, "key_usage") as KeyUsage,
    origin: text(row, "origin") as Origin,
    state: text(row, "state") as KeyState,
    deletionDate: intOrNull(row, "deletion_date"),
    pendingWindowInDays: intOrNull(row, "pending_window_in_days"),
    policy: text(row, "policy"),
    currentMaterialVersion: int(row, "current_material_version"),
    ...importedKeyFields(row),
  };
}

/** The parameters that make a named CreateGrant idempotent, canonically. */
function grantParams(grant: GrantRecord): string {
  return canonicalJson({
    granteePrincipal: grant.granteePrincipal,
    granteeServicePrincipal: grant.granteeServicePrincipal,
    retiringPrincipal: grant.retiringPrincipal,
    retiringServicePrincipal: grant.retiringServicePrincipal,
    operations: [...grant.operations].sort(),
    constraints: grant.constraints,
  });
}

function grantFromRow(row: Row): GrantRecord {
  const constraints = textOrNull(row, "constraints");
  return {
    grantId: text(row, "grant_id"),
    keyId: text(row, "key_id"),
    name: textOrNull(row, "name"),
    granteePrincipal: textOrNull(row, "grantee_principal"),
    granteeServicePrincipal: textOrNull(row, "grantee_service_principal"),
    retiringPrincipal: textOrNull(row, "retiring_principal"),
    retiringServicePrincipal: textOrNull(row, "retiring_service_principal"),
    issuingAccount: text(row, "issuing_account"),
    operations: JSON.parse(text(row, "operations")) as GrantOperation[],
    constraints: constraints === null ? null : JSON.parse(constraints) as GrantConstraints,
    createdAt: int(row, "created_at"),
  };
}

function aliasFromRow(row: Row): AliasRecord {
  return {
    accountId: text(row, "account_id"),
    region: text(row, "region"),
    name: text(row, "name"),
    targetKeyId: text(row, "target_key_id"),
    createdAt: int(row, "created_at"),
    updatedAt: int(row, "updated_at"),
  };
}
