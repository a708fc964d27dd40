/**
 * The PrincipalStore port on libSQL: users and roles (`principals`), their
 * inline identity policies (`identity_policies`) and, read-only and without
 * secrets, the access keys in `credentials`. Account roots have no row; they
 * are synthesized. Each change is one statement or one atomic batch, so the
 * admin tool can use it from its own process.
 *
 * @module
 */
import type { Client, Row } from "@libsql/client";
import {
  type AccessKeyInfo,
  type IdentityPolicy,
  parsePrincipalArn,
  type PrincipalRecord,
  type PrincipalStore,
  rootPrincipal,
} from "../core/principals.ts";
import { int, text } from "./rows.ts";

const PRINCIPAL_COLUMNS = "arn, account_id, kind, path, name, enabled, created_at";
const ACCESS_KEY_COLUMNS = "access_key_id, principal_arn, account_id, enabled, created_at";

/** PrincipalStore on a libSQL client (the caller closes the client). */
export class SqlitePrincipalStore implements PrincipalStore {
  #db: Client;

  constructor(db: Client) {
    this.#db = db;
  }

  /** The user or role of `arn`, a synthesized record for an account root, or null. */
  async getPrincipal(arn: string): Promise<PrincipalRecord | null> {
    const parsed = parsePrincipalArn(arn);
    if (parsed === null) return null;
    if (parsed.kind === "root") return rootPrincipal(parsed.accountId);
    const result = await this.#db.execute({
      sql: `SELECT ${PRINCIPAL_COLUMNS} FROM principals WHERE arn = ?`,
      args: [arn],
    });
    const row = result.rows[0];
    return row === undefined ? null : principalFromRow(row);
  }

  /** Inserts a user or role, or updates the enabled state of the one with that ARN. */
  async upsertPrincipal(p: PrincipalRecord): Promise<void> {
    if (p.kind === "root") throw new Error("account roots are not stored");
    await this.#db.execute({
      sql: `INSERT INTO principals (${PRINCIPAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) ` +
        "ON CONFLICT (arn) DO UPDATE SET enabled = excluded.enabled",
      args: [p.arn, p.accountId, p.kind, p.path, p.name, p.enabled ? 1 : 0, p.createdAt],
    });
  }

  /** Users and roles ordered by ARN, optionally of one account. */
  async listPrincipals(accountId?: string): Promise<PrincipalRecord[]> {
    const result = await this.#db.execute(
      accountId === undefined ? `SELECT ${PRINCIPAL_COLUMNS} FROM principals ORDER BY arn` : {
        sql: `SELECT ${PRINCIPAL_COLUMNS} FROM principals WHERE account_id = ? ORDER BY arn`,
        args: [accountId],
      },
    );
    return result.rows.map(principalFromRow);
  }

  /** Resolves false when there is no such user or role. */
  async setPrincipalEnabled(arn: string, enabled: boolean): Promise<boolean> {
    const result = await this.#db.execute({
      sql: "UPDATE principals SET enabled = ? WHERE arn = ?",
      args: [enabled ? 1 : 0, arn],
    });
    return result.rowsAffected > 0;
  }

  /** Adds or replaces one inline policy of a user or role. */
  async putIdentityPolicy(arn: string, name: string, document: string): Promise<void> {
    await this.#db.execute({
      sql:
        "INSERT INTO identity_policies (principal_arn, policy_name, document) VALUES (?, ?, ?) " +
        "ON CONFLICT (principal_arn, policy_name) DO UPDATE SET document = excluded.document",
      args: [arn, name, document],
    });
  }

  /** The document of one inline policy, or null. */
  async getIdentityPolicy(arn: string, name: string): Promise<string | null> {
    const result = await this.#db.execute({
      sql: "SELECT document FROM identity_policies WHERE principal_arn = ? AND policy_name = ?",
      args: [arn, name],
    });
    const row = result.rows[0];
    return row === undefined ? null : text(row, "document");
  }

  /** Resolves false when there was no such policy. */
  async deleteIdentityPolicy(arn: string, name: string): Promise<boolean> {
    const result = await this.#db.execute({
      sql: "DELETE FROM identity_policies WHERE principal_arn = ? AND policy_name = ?",
      args: [arn, name],
    });
    return result.rowsAffected > 0;
  }

  /** Inline policies of a principal ordered by name. */
  async listIdentityPolicies(arn: string): Promise<IdentityPolicy[]> {
    const result = await this.#db.execute({
      sql: "SELECT policy_name, document FROM identity_policies WHERE principal_arn = ? " +
        "ORDER BY policy_name",
      args: [arn],
    });
    return result.rows.map((row) => ({
      name: text(row, "policy_name"),
      document: text(row, "document"),
    }));
  }

  /** Replaces every inline policy of `arn` with `policies`, in one transaction. */
  async replaceIdentityPolicies(arn: string, policies: readonly IdentityPolicy[]): Promise<void> {
    await this.#db.batch([
      { sql: "DELETE FROM identity_policies WHERE principal_arn = ?", args: [arn] },
      ...policies.map((p) => ({
        sql:
          "INSERT INTO identity_policies (principal_arn, policy_name, document) VALUES (?, ?, ?)",
        args: [arn, p.name, p.document],
      })),
    ], "write");
  }

  /**
   * State and identity policies of a principal, read in one transaction (the
   * shape `CredentialCache`'s `IdentitySource` asks for); an account root is
   * enabled with no policies; null for a user or role that does not exist.
   */
  async identityOf(
    arn: string,
  ): Promise<{ enabled: boolean; policies: IdentityPolicy[] } | null> {
    const parsed = parsePrincipalArn(arn);
    if (parsed === null) return null;
    if (parsed.kind === "root") return { enabled: true, policies: [] };
    const [principal, policies] = await this.#db.batch([
      { sql: "SELECT enabled FROM principals WHERE arn = ?", args: [arn] },
      {
        sql: "SELECT policy_name, document FROM identity_policies WHERE principal_arn = ? " +
          "ORDER BY policy_name",
        args: [arn],
      },
    ], "read");
    const row = principal?.rows[0];
    if (row === undefined) return null;
    return {
      enabled: int(row, "enabled") === 1,
      policies: (policies?.rows ?? []).map((r) => ({
        name: text(r, "policy_name"),
        document: text(r, "document"),
      })),
    };
  }

  /** Access keys (never their secrets) ordered by principal and id, optionally of one principal. */
  async listAccessKeys(principalArn?: string): Promise<AccessKeyInfo[]> {
    const result = await this.#db.execute(
      principalArn === undefined
        ? `SELECT ${ACCESS_KEY_COLUMNS} FROM credentials ORDER BY principal_arn, access_key_id`
        : {
          sql: `SELECT ${ACCESS_KEY_COLUMNS} FROM credentials WHERE principal_arn = ? ` +
            "ORDER BY access_key_id",
          args: [principalArn],
        },
    );
    return result.rows.map((row) => ({
      accessKeyId: text(row, "access_key_id"),
      principalArn: text(row, "principal_arn"),
      accountId: text(row, "account_id"),
      enabled: int(row, "enabled") === 1,
      createdAt: int(row, "created_at"),
    }));
  }
}

function principalFromRow(row: Row): PrincipalRecord {
  const kind = text(row, "kind");
  if (kind !== "user" && kind !== "role") throw new Error(`unknown principal kind ${kind}`);
  return {
    arn: text(row, "arn"),
    accountId: text(row, "account_id"),
    kind,
    path: text(row, "path"),
    name: text(row, "name"),
    enabled: int(row, "enabled") === 1,
    createdAt: int(row, "created_at"),
  };
}
