/**
 * The ImportStore port (core/ports.ts) on libSQL, over migrations/0007_import.sql:
 * GetParametersForImport answers (`import_parameters`, the wrapping key pair's
 * private key wrapped under the root key), the record of imported materials
 * (`imported_material`) and the key's expiration columns. A part of SqliteStore
 * (storage/sqlite_store.ts): each change commits through its write queue with
 * the request's audit record.
 *
 * @module
 */
import type { InStatement, Row, Value } from "@libsql/client";
import type { AuditRecord } from "../core/audit/record.ts";
import { keyArn } from "../core/identifiers.ts";
import type {
  ImportedMaterialRecord,
  ImportParameters,
  ImportStore,
  PendingKeyMaterial,
} from "../core/ports.ts";
import { SecretBytes } from "../core/secret.ts";
import type { ExpirationModel, KeyMaterial, KeyRecord } from "../core/types.ts";
import { importParametersAad, materialAad } from "./root_wrapping.ts";
import { insertMaterial, keyFromRow, selectKey } from "./sqlite_key_rows.ts";
import { auditRows, isUniqueViolation, type SqliteParts } from "./sqlite_parts.ts";
import { blob, column, int, intOrNull, text } from "./rows.ts";

/** The version in the root-key AAD of pending material (it has no version of the key yet). */
const PENDING_VERSION = 0;

/** Imported key material and import parameters on libSQL. */
export class SqliteImportStore implements ImportStore {
  readonly #parts: SqliteParts;

  constructor(parts: SqliteParts) {
    this.#parts = parts;
  }

  /** Stores a GetParametersForImport answer, its private key wrapped under the root key. */
  async putImportParameters(parameters: ImportParameters, audit?: AuditRecord): Promise<void> {
    const keyRow = (await this.#parts.reads.execute(selectKey(parameters.keyId))).rows[0];
    if (keyRow === undefined) throw new Error("import parameters of an unknown key");
    const key = keyFromRow(keyRow);
    const wrapped = await this.#parts.rootKey.wrap(
      parameters.privateKey.expose(),
      importParametersAad(parameters.tokenId, keyArn(key.region, key.accountId, key.keyId)),
    );
    await this.#parts.writes.submit(
      [insertImportParameters(parameters, wrapped)],
      auditRows(audit),
    );
  }

  /** A GetParametersForImport answer with its private key unwrapped, or null. */
  async getImportParameters(tokenId: string): Promise<ImportParameters | null> {
    const row = (await this.#parts.reads.execute(selectImportParameters(tokenId))).rows[0];
    if (row === undefined) return null;
    const stored = importParametersFromRow(row);
    const plain = await this.#parts.rootKey.unwrap(
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
    const result = await this.#parts.reads.execute(selectImportedMaterial(keyId));
    return result.rows.map(importedMaterialFromRow);
  }

  /** Stores imported material and the key's new state and expiration in one transaction. */
  async importKeyMaterial(
    key: KeyRecord,
    material: KeyMaterial,
    imported: ImportedMaterialRecord,
    audit?: AuditRecord,
  ): Promise<void> {
    await this.#parts.writes.submit([
      await insertMaterial(this.#parts.rootKey, key, material, "OR REPLACE"),
      ...importStatements(key, imported),
    ], auditRows(audit));
  }

  /** Deletes a key's imported material and writes its state; resolves whether it deleted. */
  async deleteImportedKeyMaterial(
    key: KeyRecord,
    options: { onlyIfValidTo?: number; audit?: AuditRecord | undefined } = {},
  ): Promise<boolean> {
    const results = await this.#parts.writes.submit(
      deleteMaterialStatements(key, options.onlyIfValidTo),
      auditRows(options.audit),
    );
    return results.at(-1)?.rowsAffected === 1;
  }

  /**
   * Stores pending material (wrapped with version 0 in its AAD) and its record in one
   * transaction; false when the key has pending material already.
   */
  async putPendingKeyMaterial(
    key: KeyRecord,
    pending: PendingKeyMaterial,
    description: string | null,
    audit?: AuditRecord,
  ): Promise<boolean> {
    const wrapped = await this.#parts.rootKey.wrap(
      pending.material.expose(),
      materialAad(keyArn(key.region, key.accountId, key.keyId), PENDING_VERSION),
    );
    try {
      await this.#parts.writes.submit([
        {
          sql: "INSERT INTO pending_key_material (key_id, key_material_id, wrapped_material, " +
            "expiration_model, valid_to, imported_at) VALUES (?, ?, ?, ?, ?, ?)",
          args: [
            key.keyId,
            pending.keyMaterialId,
            wrapped,
            pending.expirationModel,
            pending.validTo,
            pending.importedAt,
          ],
        },
        {
          sql: "INSERT INTO imported_material (key_id, key_material_id, description, " +
            "imported_at, version) VALUES (?, ?, ?, ?, NULL)",
          args: [key.keyId, pending.keyMaterialId, description, pending.importedAt],
        },
      ], auditRows(audit));
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  /** The key's pending material, unwrapped, or null. */
  async getPendingKeyMaterial(keyId: string): Promise<PendingKeyMaterial | null> {
    const result = await this.#parts.reads.execute({
      sql: "SELECT p.key_material_id, p.wrapped_material, p.expiration_model, p.valid_to, " +
        "p.imported_at, k.region, k.account_id FROM pending_key_material p " +
        "JOIN keys k ON k.key_id = p.key_id WHERE p.key_id = ?",
      args: [keyId],
    });
    const row = result.rows[0];
    if (row === undefined) return null;
    const plain = await this.#parts.rootKey.unwrap(
      blob(row, "wrapped_material"),
      materialAad(keyArn(text(row, "region"), text(row, "account_id"), keyId), PENDING_VERSION),
    );
    return {
      keyId,
      keyMaterialId: text(row, "key_material_id"),
      material: new SecretBytes(plain),
      expirationModel: text(row, "expiration_model") as ExpirationModel,
      validTo: intOrNull(row, "valid_to"),
      importedAt: int(row, "imported_at"),
    };
  }

  /** Deletes the key's pending material and its record. */
  async deletePendingKeyMaterial(keyId: string, audit?: AuditRecord): Promise<void> {
    await this.#parts.writes.submit([
      {
        sql: "DELETE FROM imported_material WHERE key_id = ? AND key_material_id = " +
          "(SELECT key_material_id FROM pending_key_material WHERE key_id = ?)",
        args: [keyId, keyId],
      },
      { sql: "DELETE FROM pending_key_material WHERE key_id = ?", args: [keyId] },
    ], auditRows(audit));
  }

  /** Ids of keys whose imported material expired at or before `now`. */
  async listKeysWithExpiredMaterial(now: number): Promise<string[]> {
    const result = await this.#parts.reads.execute(selectKeysWithExpiredMaterial(now));
    return result.rows.map((row) => text(row, "key_id"));
  }

  /** Deletes import parameters whose validity ended before `now`. */
  async deleteExpiredImportParameters(now: number): Promise<void> {
    await this.#parts.writes.submit([deleteExpiredImportParameters(now)]);
  }
}

const PARAMETER_COLUMNS = "token_id, key_id, wrapping_algorithm, wrapping_key_spec, token_hash, " +
  "wrapped_private_key, created_at, valid_to";

/** Inserts a GetParametersForImport answer; the private key arrives wrapped. */
function insertImportParameters(
  parameters: ImportParameters,
  wrappedPrivateKey: Uint8Array,
): InStatement {
  return {
    sql: `INSERT INTO import_parameters (${PARAMETER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    args: [
      parameters.tokenId,
      parameters.keyId,
      parameters.wrappingAlgorithm,
      parameters.wrappingKeySpec,
      parameters.tokenHash,
      wrappedPrivateKey,
      parameters.createdAt,
      parameters.validTo,
    ],
  };
}

/** Selects one GetParametersForImport answer with the key's ARN parts (for the unwrap AAD). */
function selectImportParameters(tokenId: string): InStatement {
  return {
    sql: "SELECT p.token_id, p.key_id, p.wrapping_algorithm, p.wrapping_key_spec, p.token_hash, " +
      "p.wrapped_private_key, p.created_at, p.valid_to, k.region, k.account_id " +
      "FROM import_parameters p JOIN keys k ON k.key_id = p.key_id WHERE p.token_id = ?",
    args: [tokenId],
  };
}

/** The parts of a parameters row; the private key still wrapped. */
function importParametersFromRow(row: Row): {
  parameters: Omit<ImportParameters, "privateKey">;
  wrappedPrivateKey: Uint8Array;
  region: string;
  accountId: string;
} {
  return {
    parameters: {
      tokenId: text(row, "token_id"),
      keyId: text(row, "key_id"),
      wrappingAlgorithm: text(row, "wrapping_algorithm"),
      wrappingKeySpec: text(row, "wrapping_key_spec"),
      tokenHash: blob(row, "token_hash"),
      createdAt: int(row, "created_at"),
      validTo: int(row, "valid_to"),
    },
    wrappedPrivateKey: blob(row, "wrapped_private_key"),
    region: text(row, "region"),
    accountId: text(row, "account_id"),
  };
}

/** Materials ever imported into a key, oldest first. */
function selectImportedMaterial(keyId: string): InStatement {
  return {
    sql: "SELECT key_material_id, description, imported_at, version FROM imported_material " +
      "WHERE key_id = ? ORDER BY imported_at, key_material_id",
    args: [keyId],
  };
}

/** One imported_material row. */
function importedMaterialFromRow(row: Row): ImportedMaterialRecord {
  const description = column(row, "description");
  return {
    keyMaterialId: text(row, "key_material_id"),
    description: typeof description === "string" ? description : null,
    importedAt: int(row, "imported_at"),
    version: intOrNull(row, "version"),
  };
}

/**
 * The statements of an import after the material row: record the material (a re-import keeps
 * the first import time and, without a new one, the description) and set state and expiration.
 */
function importStatements(
  key: KeyRecord,
  imported: ImportedMaterialRecord,
): InStatement[] {
  return [
    {
      sql: "INSERT INTO imported_material (key_id, key_material_id, description, imported_at, " +
        "version) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key_id, key_material_id) DO UPDATE SET " +
        "description = coalesce(excluded.description, imported_material.description), " +
        "version = coalesce(excluded.version, imported_material.version)",
      args: [
        key.keyId,
        imported.keyMaterialId,
        imported.description,
        imported.importedAt,
        imported.version ?? null,
      ],
    },
    {
      sql: "UPDATE keys SET state = ?, expiration_model = ?, valid_to = ? WHERE key_id = ?",
      args: [key.state, key.expirationModel ?? null, key.validTo ?? null, key.keyId],
    },
  ];
}

/**
 * Deletes a key's material and writes its state with the expiration cleared; lists the key in
 * key_deletions so every instance wipes the material it holds. With `onlyIfValidTo`, each
 * statement applies only while the key's ValidTo is still that value.
 */
function deleteMaterialStatements(
  key: KeyRecord,
  onlyIfValidTo: number | undefined,
): InStatement[] {
  const guard = onlyIfValidTo === undefined ? { sql: "", args: [] as Value[] } : {
    sql: " AND (SELECT valid_to FROM keys WHERE key_id = ?) = ?",
    args: [key.keyId, onlyIfValidTo],
  };
  return [
    {
      sql: `INSERT INTO key_deletions (key_id) SELECT ? WHERE 1${guard.sql}`,
      args: [key.keyId, ...guard.args],
    },
    {
      sql: `DELETE FROM key_material WHERE key_id = ?${guard.sql}`,
      args: [key.keyId, ...guard.args],
    },
    {
      sql: "UPDATE keys SET state = ?, expiration_model = NULL, valid_to = NULL " +
        `WHERE key_id = ?${guard.sql}`,
      args: [key.state, key.keyId, ...guard.args],
    },
  ];
}

/** Ids of keys whose imported material expired at or before `now`. */
function selectKeysWithExpiredMaterial(now: number): InStatement {
  return {
    sql: "SELECT key_id FROM keys WHERE valid_to IS NOT NULL AND valid_to <= ? " +
      "ORDER BY valid_to, key_id",
    args: [now],
  };
}

/** Deletes import parameters whose validity ended before `now`. */
function deleteExpiredImportParameters(now: number): InStatement {
  return { sql: "DELETE FROM import_parameters WHERE valid_to < ?", args: [now] };
}

/** What deleting a key deletes of its import rows (before the key row itself). */
export function deleteKeyImportStatements(keyId: string): InStatement[] {
  return [
    { sql: "DELETE FROM import_parameters WHERE key_id = ?", args: [keyId] },
    { sql: "DELETE FROM imported_material WHERE key_id = ?", args: [keyId] },
  ];
}
