/**
 * The SQL of a key row and of a material version that several parts of
 * SqliteStore write or read (keys, import, multi-Region): the key's
 * INSERT and SELECT, the row back to a KeyRecord (with the columns import
 * added: storage/sqlite_import_store.ts), and the INSERT of a material version
 * wrapped under the root key, bound to the key's ARN and the version.
 *
 * @module
 */
import type { InStatement, Row } from "@libsql/client";
import { keyArn } from "../core/identifiers.ts";
import type {
  ExpirationModel,
  KeyMaterial,
  KeyRecord,
  KeySpec,
  KeyState,
  KeyUsage,
  Origin,
} from "../core/types.ts";
import { materialAad, type RootWrapper } from "./root_wrapping.ts";
import { int, intOrNull, text } from "./rows.ts";

const KEY_COLUMNS = "key_id, account_id, region, created_at, description, key_spec, key_usage, " +
  "origin, state, deletion_date, pending_window_in_days, policy, current_material_version";

/** The columns migrations/0007_import.sql added to `keys`, read with every key. */
const IMPORTED_KEY_COLUMNS = "expiration_model, valid_to";

/**
 * The column migrations/0011_aws_managed_keys.sql added to `keys`: an AWS managed key's
 * service.
 */
const AWS_SERVICE_COLUMN = "aws_service";

/** `SELECT <every key column> FROM keys`, for a WHERE to follow. */
export const SELECT_KEYS =
  `SELECT ${KEY_COLUMNS}, ${IMPORTED_KEY_COLUMNS}, ${AWS_SERVICE_COLUMN} FROM keys`;

/** Selects the key of this id (read it with `keyFromRow`). */
export function selectKey(keyId: string): InStatement {
  return { sql: `${SELECT_KEYS} WHERE key_id = ?`, args: [keyId] };
}

/** The INSERT of a key row. */
export function insertKey(key: KeyRecord): InStatement {
  return {
    sql: `INSERT INTO keys (${KEY_COLUMNS}, ${AWS_SERVICE_COLUMN}) ` +
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
      key.awsService ?? null,
    ],
  };
}

/** The INSERT of a material version, wrapped under the root key. */
export async function insertMaterial(
  rootKey: RootWrapper,
  key: KeyRecord,
  material: KeyMaterial,
  orReplace: "" | "OR REPLACE",
): Promise<InStatement> {
  if (material.keyId !== key.keyId) throw new Error("material belongs to another key");
  const wrapped = await rootKey.wrap(
    material.material.expose(),
    materialAad(keyArn(key.region, key.accountId, key.keyId), material.version),
  );
  return {
    sql: `INSERT ${orReplace} INTO key_material (key_id, version, key_material_id, ` +
      "wrapped_material, created_at) VALUES (?, ?, ?, ?, ?)",
    args: [key.keyId, material.version, material.keyMaterialId, wrapped, material.createdAt],
  };
}

/** A KeyRecord from a row of `SELECT_KEYS`. */
export function keyFromRow(row: Row): KeyRecord {
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
    ...(typeof row[AWS_SERVICE_COLUMN] === "string" ? { awsService: row[AWS_SERVICE_COLUMN] } : {}),
  };
}

/**
 * A key's ExpirationModel and ValidTo from a row that selected IMPORTED_KEY_COLUMNS; absent
 * (not null) when the key has none, so a record reads back as it was written.
 */
function importedKeyFields(row: Row): { expirationModel?: ExpirationModel; validTo?: number } {
  const model = row["expiration_model"];
  const validTo = row["valid_to"];
  return {
    ...(typeof model === "string" ? { expirationModel: model as ExpirationModel } : {}),
    ...(typeof validTo === "number" ? { validTo } : {}),
  };
}
