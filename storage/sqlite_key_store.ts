/**
 * The KeyStore port (core/ports.ts) on libSQL: the `keys` table and the
 * versioned material in `key_material`, wrapped under the root key (bound to
 * the key's ARN and the version) before it reaches SQL. A part of SqliteStore
 * (storage/sqlite_store.ts); the SQL of a key row that other parts share is in
 * storage/sqlite_key_rows.ts.
 *
 * @module
 */
import type { AuditRecord } from "../core/audit/record.ts";
import { keyArn } from "../core/identifiers.ts";
import type { KeyStore, Page } from "../core/ports.ts";
import { SecretBytes } from "../core/secret.ts";
import type { RotationSchedule } from "../core/rotation_store.ts";
import type { AliasRecord, KeyMaterial, KeyRecord, Tag } from "../core/types.ts";
import { materialAad } from "./root_wrapping.ts";
import { deleteKeyImportStatements } from "./sqlite_import_store.ts";
import {
  insertKey,
  insertMaterial,
  keyFromRow,
  SELECT_KEYS,
  selectKey,
} from "./sqlite_key_rows.ts";
import { multiRegionFamilyRow } from "./sqlite_multi_region_store.ts";
import { insertAlias } from "./sqlite_alias_store.ts";
import { auditRows, isUniqueViolation, type SqliteParts } from "./sqlite_parts.ts";
import { upsertTag } from "./sqlite_tag_store.ts";
import { blob, int, text } from "./rows.ts";

/** Keys and their material on libSQL. */
export class SqliteKeyStore implements KeyStore {
  readonly #parts: SqliteParts;

  constructor(parts: SqliteParts) {
    this.#parts = parts;
  }

  /** Inserts key, first material version (none for Origin EXTERNAL) and tags in one transaction. */
  async createKey(
    key: KeyRecord,
    material: KeyMaterial | null,
    tags: readonly Tag[],
    audit?: AuditRecord,
  ): Promise<void> {
    await this.#parts.writes.submit([
      insertKey(key),
      ...(material === null ? [] : [await insertMaterial(this.#parts.rootKey, key, material, "")]),
      ...tags.map((tag) => upsertTag(key.keyId, tag)),
      ...multiRegionFamilyRow(key),
    ], auditRows(audit));
  }

  /**
   * Inserts an AWS managed key, its first material, its alias and its rotation schedule in one
   * transaction; false when the alias or the account's key of that service exists already.
   */
  async createAwsManagedKey(
    key: KeyRecord,
    material: KeyMaterial,
    alias: AliasRecord,
    rotation: RotationSchedule,
  ): Promise<boolean> {
    try {
      await this.#parts.writes.submit([
        insertKey(key),
        await insertMaterial(this.#parts.rootKey, key, material, ""),
        insertAlias(alias),
        {
          sql: "INSERT INTO key_rotation (key_id, enabled, period_days, next_rotation_date, " +
            "on_demand_rotations) VALUES (?, ?, ?, ?, 0)",
          args: [
            rotation.keyId,
            rotation.enabled ? 1 : 0,
            rotation.periodDays,
            rotation.nextRotationDate,
          ],
        },
      ]);
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  /** The key with this id, or null. */
  async getKey(keyId: string): Promise<KeyRecord | null> {
    const result = await this.#parts.reads.execute(selectKey(keyId));
    const row = result.rows[0];
    return row === undefined ? null : keyFromRow(row);
  }

  /** Keys of an account ordered by keyId, after `page.after`. */
  async listKeys(accountId: string, region: string, page: Page): Promise<KeyRecord[]> {
    const result = await this.#parts.reads.execute({
      sql: `${SELECT_KEYS} WHERE account_id = ? AND region = ? AND key_id > ? ` +
        "ORDER BY key_id LIMIT ?",
      args: [accountId, region, page.after ?? "", page.limit],
    });
    return result.rows.map(keyFromRow);
  }

  /** Writes the mutable fields of `key`. */
  async updateKey(key: KeyRecord, audit?: AuditRecord): Promise<void> {
    await this.#parts.writes.submit([{
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
    const result = await this.#parts.reads.execute({
      sql: "SELECT m.key_material_id, m.wrapped_material, m.created_at, k.region, k.account_id " +
        "FROM key_material m JOIN keys k ON k.key_id = m.key_id " +
        "WHERE m.key_id = ? AND m.version = ?",
      args: [keyId, version],
    });
    const row = result.rows[0];
    if (row === undefined) return null;
    const arn = keyArn(text(row, "region"), text(row, "account_id"), keyId);
    const plain = await this.#parts.rootKey.unwrap(
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
    await this.#parts.writes.submit([
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
    const result = await this.#parts.reads.execute({
      sql: "SELECT key_id FROM keys WHERE state = 'PendingDeletion' AND deletion_date <= ? " +
        "ORDER BY deletion_date, key_id",
      args: [now],
    });
    return result.rows.map((row) => text(row, "key_id"));
  }
}
