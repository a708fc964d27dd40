/**
 * The SQL of imported key material (migrations/0007_import.sql): statements
 * and row readers that SqliteStore's ImportStore methods run through its write
 * queue (so each change commits with its audit record) and its root key.
 *
 * @module
 */
import type { InStatement, Row, Value } from "@libsql/client";
import type { ImportedMaterialRecord, ImportParameters } from "../core/ports.ts";
import type { ExpirationModel, KeyRecord } from "../core/types.ts";
import { blob, column, int, text } from "./rows.ts";

/** The columns 0007 added to `keys`, read with every key. */
export const IMPORTED_KEY_COLUMNS = "expiration_model, valid_to";

const PARAMETER_COLUMNS = "token_id, key_id, wrapping_algorithm, wrapping_key_spec, token_hash, " +
  "wrapped_private_key, created_at, valid_to";

/**
 * A key's ExpirationModel and ValidTo from a row that selected IMPORTED_KEY_COLUMNS; absent
 * (not null) when the key has none, so a record reads back as it was written.
 */
export function importedKeyFields(
  row: Row,
): { expirationModel?: ExpirationModel; validTo?: number } {
  const model = row["expiration_model"];
  const validTo = row["valid_to"];
  return {
    ...(typeof model === "string" ? { expirationModel: model as ExpirationModel } : {}),
    ...(typeof validTo === "number" ? { validTo } : {}),
  };
}

/** Inserts a GetParametersForImport answer; the private key arrives wrapped. */
export function insertImportParameters(
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
export function selectImportParameters(tokenId: string): InStatement {
  return {
    sql: "SELECT p.token_id, p.key_id, p.wrapping_algorithm, p.wrapping_key_spec, p.token_hash, " +
      "p.wrapped_private_key, p.created_at, p.valid_to, k.region, k.account_id " +
      "FROM import_parameters p JOIN keys k ON k.key_id = p.key_id WHERE p.token_id = ?",
    args: [tokenId],
  };
}

/** The parts of a parameters row; the private key still wrapped. */
export function importParametersFromRow(row: Row): {
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
export function selectImportedMaterial(keyId: string): InStatement {
  return {
    sql: "SELECT key_material_id, description, imported_at FROM imported_material " +
      "WHERE key_id = ? ORDER BY imported_at, key_material_id",
    args: [keyId],
  };
}

/** One imported_material row. */
export function importedMaterialFromRow(row: Row): ImportedMaterialRecord {
  const description = column(row, "description");
  return {
    keyMaterialId: text(row, "key_material_id"),
    description: typeof description === "string" ? description : null,
    importedAt: int(row, "imported_at"),
  };
}

/**
 * The statements of an import after the material row: record the material (a re-import keeps
 * the first import time and, without a new one, the description) and set state and expiration.
 */
export function importStatements(
  key: KeyRecord,
  imported: ImportedMaterialRecord,
): InStatement[] {
  return [
    {
      sql: "INSERT INTO imported_material (key_id, key_material_id, description, imported_at) " +
        "VALUES (?, ?, ?, ?) ON CONFLICT (key_id, key_material_id) DO UPDATE SET " +
        "description = coalesce(excluded.description, imported_material.description)",
      args: [key.keyId, imported.keyMaterialId, imported.description, imported.importedAt],
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
export function deleteMaterialStatements(
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
export function selectKeysWithExpiredMaterial(now: number): InStatement {
  return {
    sql: "SELECT key_id FROM keys WHERE valid_to IS NOT NULL AND valid_to <= ? " +
      "ORDER BY valid_to, key_id",
    args: [now],
  };
}

/** Deletes import parameters whose validity ended before `now`. */
export function deleteExpiredImportParameters(now: number): InStatement {
  return { sql: "DELETE FROM import_parameters WHERE valid_to < ?", args: [now] };
}

/** What deleting a key deletes of its import rows (before the key row itself). */
export function deleteKeyImportStatements(keyId: string): InStatement[] {
  return [
    { sql: "DELETE FROM import_parameters WHERE key_id = ?", args: [keyId] },
    { sql: "DELETE FROM imported_material WHERE key_id = ?", args: [keyId] },
  ];
}
