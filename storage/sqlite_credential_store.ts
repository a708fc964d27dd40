/**
 * The CredentialStore port (core/ports.ts) on libSQL: the `credentials` table,
 * each secret access key wrapped under the root key (bound to its access key
 * id) before it reaches SQL. A part of SqliteStore (storage/sqlite_store.ts).
 *
 * @module
 */
import type { InStatement } from "@libsql/client";
import type { CredentialStore } from "../core/ports.ts";
import { SecretBytes } from "../core/secret.ts";
import type { Credential } from "../core/types.ts";
import { credentialAad } from "./root_wrapping.ts";
import type { SqliteParts } from "./sqlite_parts.ts";
import { blob, int, text } from "./rows.ts";

/** Access keys on libSQL. */
export class SqliteCredentialStore implements CredentialStore {
  readonly #parts: SqliteParts;

  constructor(parts: SqliteParts) {
    this.#parts = parts;
  }

  /** The credential with its secret unwrapped, or null. */
  async getCredential(accessKeyId: string): Promise<Credential | null> {
    const result = await this.#parts.reads.execute({
      sql: "SELECT wrapped_secret, account_id, principal_arn, enabled, created_at " +
        "FROM credentials WHERE access_key_id = ?",
      args: [accessKeyId],
    });
    const row = result.rows[0];
    if (row === undefined) return null;
    const secret = await this.#parts.rootKey.unwrap(
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
    await this.#parts.writes.submit([await this.#insertCredential(credential, "OR IGNORE", "")]);
  }

  /** Inserts a credential or replaces the secret, account, principal and state of an existing one. */
  async upsertCredential(credential: Credential): Promise<void> {
    const onConflict =
      " ON CONFLICT (access_key_id) DO UPDATE SET wrapped_secret = excluded.wrapped_secret, " +
      "account_id = excluded.account_id, principal_arn = excluded.principal_arn, enabled = excluded.enabled";
    await this.#parts.writes.submit([await this.#insertCredential(credential, "", onConflict)]);
  }

  async #insertCredential(
    credential: Credential,
    orIgnore: string,
    onConflict: string,
  ): Promise<InStatement> {
    const wrapped = await this.#parts.rootKey.wrap(
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
    const result = await this.#parts.reads.execute(
      "SELECT access_key_id, wrapped_secret FROM credentials LIMIT 1",
    );
    const row = result.rows[0];
    if (row === undefined) return true;
    try {
      await this.#parts.rootKey.unwrap(
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
    await this.#parts.writes.submit([{
      sql: "UPDATE credentials SET enabled = ? WHERE access_key_id = ?",
      args: [enabled ? 1 : 0, accessKeyId],
    }]);
  }

  /** Number of stored credentials (zero on a first start). */
  async countCredentials(): Promise<number> {
    const result = await this.#parts.reads.execute("SELECT count(*) AS n FROM credentials");
    const row = result.rows[0];
    return row === undefined ? 0 : int(row, "n");
  }
}
