/**
 * The GrantStore port (core/ports.ts) on libSQL: the `grants` table. A named
 * CreateGrant is idempotent: its canonical parameters are stored with it
 * (`params`), and a UNIQUE index on key, name and parameters makes the first
 * insert win. A part of SqliteStore (storage/sqlite_store.ts).
 *
 * @module
 */
import type { Row } from "@libsql/client";
import {
  canonicalJson,
  type GrantConstraints,
  type GrantOperation,
  type GrantRecord,
} from "../core/access/grants.ts";
import type { AuditRecord } from "../core/audit/record.ts";
import type { GrantStore, Page } from "../core/ports.ts";
import { auditRows, type SqliteParts } from "./sqlite_parts.ts";
import { int, text, textOrNull } from "./rows.ts";

const GRANT_COLUMNS = "grant_id, key_id, name, grantee_principal, grantee_service_principal, " +
  "retiring_principal, retiring_service_principal, issuing_account, operations, constraints, " +
  "created_at";

/** Grants on libSQL. */
export class SqliteGrantStore implements GrantStore {
  readonly #parts: SqliteParts;

  constructor(parts: SqliteParts) {
    this.#parts = parts;
  }

  /** Inserts a grant unless one with the same key, Name and parameters exists; resolves the grant in effect. */
  async createGrant(grant: GrantRecord, audit?: AuditRecord): Promise<GrantRecord> {
    const params = grantParams(grant);
    await this.#parts.writes.submit([{
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
    const result = await this.#parts.reads.execute({
      sql: `SELECT ${GRANT_COLUMNS} FROM grants WHERE key_id = ? AND name = ? AND params = ?`,
      args: [grant.keyId, grant.name, params],
    });
    const row = result.rows[0];
    if (row === undefined) throw new Error("grant missing after insert");
    return grantFromRow(row);
  }

  /** A grant by id, or null. */
  async getGrant(grantId: string): Promise<GrantRecord | null> {
    const result = await this.#parts.reads.execute({
      sql: `SELECT ${GRANT_COLUMNS} FROM grants WHERE grant_id = ?`,
      args: [grantId],
    });
    const row = result.rows[0];
    return row === undefined ? null : grantFromRow(row);
  }

  /** Grants of a key ordered by grant id. */
  async listGrantsOfKey(keyId: string): Promise<GrantRecord[]> {
    const result = await this.#parts.reads.execute({
      sql: `SELECT ${GRANT_COLUMNS} FROM grants WHERE key_id = ? ORDER BY grant_id`,
      args: [keyId],
    });
    return result.rows.map(grantFromRow);
  }

  /** Grants a principal may retire, ordered by grant id. */
  async listRetirableGrants(principal: string, page: Page): Promise<GrantRecord[]> {
    const result = await this.#parts.reads.execute({
      sql: `SELECT ${GRANT_COLUMNS} FROM grants WHERE retiring_principal = ? AND grant_id > ? ` +
        "ORDER BY grant_id LIMIT ?",
      args: [principal, page.after ?? "", page.limit],
    });
    return result.rows.map(grantFromRow);
  }

  /** Deletes a grant; resolves whether it existed. */
  async deleteGrant(grantId: string, audit?: AuditRecord): Promise<boolean> {
    const [result] = await this.#parts.writes.submit([{
      sql: "DELETE FROM grants WHERE grant_id = ?",
      args: [grantId],
    }], auditRows(audit));
    return result !== undefined && result.rowsAffected === 1;
  }
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
