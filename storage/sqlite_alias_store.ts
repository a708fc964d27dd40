/**
 * The AliasStore port (core/ports.ts) on libSQL: the `aliases` table, names
 * unique per account and region. A part of SqliteStore (storage/sqlite_store.ts).
 *
 * @module
 */
import type { InStatement, Row } from "@libsql/client";
import type { AuditRecord } from "../core/audit/record.ts";
import type { AliasStore, Page } from "../core/ports.ts";
import type { AliasRecord } from "../core/types.ts";
import { auditRows, isUniqueViolation, type SqliteParts } from "./sqlite_parts.ts";
import { int, text } from "./rows.ts";

const ALIAS_COLUMNS = "account_id, region, name, target_key_id, created_at, updated_at";

/** The INSERT of an alias (a taken name fails it). */
export function insertAlias(alias: AliasRecord): InStatement {
  return {
    sql: `INSERT INTO aliases (${ALIAS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`,
    args: [
      alias.accountId,
      alias.region,
      alias.name,
      alias.targetKeyId,
      alias.createdAt,
      alias.updatedAt,
    ],
  };
}

/** Aliases on libSQL. */
export class SqliteAliasStore implements AliasStore {
  readonly #parts: SqliteParts;

  constructor(parts: SqliteParts) {
    this.#parts = parts;
  }

  /** Inserts an alias; resolves false when the name is already taken. */
  async createAlias(alias: AliasRecord, audit?: AuditRecord): Promise<boolean> {
    // A plain INSERT: a taken name fails the whole write, so its audit record never commits.
    try {
      await this.#parts.writes.submit([insertAlias(alias)], auditRows(audit));
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  /** The alias, or null. */
  async getAlias(accountId: string, region: string, name: string): Promise<AliasRecord | null> {
    const result = await this.#parts.reads.execute({
      sql: `SELECT ${ALIAS_COLUMNS} FROM aliases WHERE account_id = ? AND region = ? AND name = ?`,
      args: [accountId, region, name],
    });
    const row = result.rows[0];
    return row === undefined ? null : aliasFromRow(row);
  }

  /** Points an alias at `alias.targetKeyId` and sets its update time. */
  async updateAlias(alias: AliasRecord, audit?: AuditRecord): Promise<void> {
    await this.#parts.writes.submit([{
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
    await this.#parts.writes.submit([{
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
    const result = await this.#parts.reads.execute({
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
