/**
 * The root keys a database uses: the `root_keys` table (migrations/0008_root_keys.sql), the
 * check a process runs before it serves anything with a keyring, and which root key wraps how
 * many stored values. Root-key rotation is in storage/root_key_rotation.ts.
 *
 * Every column that holds a value wrapped under the root key is listed in WRAPPED_COLUMNS,
 * with how to rebuild the value's AAD: a new wrapped column must be added there, or rotation
 * would never move it and its old root key would never retire (the final count of a rotation
 * counts only what is listed: storage/root_key_table_test.ts checks the list against the schema).
 *
 * @module
 */
import type { Client, Row } from "@libsql/client";
import { StartupError } from "../core/config.ts";
import { keyArn } from "../core/identifiers.ts";
import { type KeyringSource, loadOrCreateKeyring } from "./root_key_file.ts";
import type { RootKeyring } from "./root_keyring.ts";
import { credentialAad, importParametersAad, materialAad } from "./root_wrapping.ts";

/** A column of wrapped values and how to read, re-bind and update them. */
export interface WrappedColumn {
  /** What it holds, for progress reports. */
  readonly label: string;
  readonly table: string;
  readonly column: string;
  /** Primary-key columns, in order (the cursor of a pass). */
  readonly keyColumns: readonly string[];
  /** A cursor value before every row. */
  readonly start: readonly (string | number)[];
  /** `SELECT <key columns>, <value> AS wrapped, <what aad needs> FROM ...`, without WHERE. */
  readonly selectFrom: string;
  /** The wrapped value and the primary key as `selectFrom` names them. */
  readonly value: string;
  readonly key: readonly string[];
  /** The AAD the value is bound to. */
  aad(row: Row): Uint8Array;
}

/** Every column wrapped under the root key. */
export const WRAPPED_COLUMNS: readonly WrappedColumn[] = [
  {
    label: "key material",
    table: "key_material",
    column: "wrapped_material",
    keyColumns: ["key_id", "version"],
    start: ["", -1],
    selectFrom: "SELECT m.key_id, m.version, m.wrapped_material AS wrapped, k.region, " +
      "k.account_id FROM key_material m JOIN keys k ON k.key_id = m.key_id",
    value: "m.wrapped_material",
    key: ["m.key_id", "m.version"],
    aad: (row) =>
      materialAad(
        keyArn(String(row["region"]), String(row["account_id"]), String(row["key_id"])),
        Number(row["version"]),
      ),
  },
  {
    label: "pending key material",
    table: "pending_key_material",
    column: "wrapped_material",
    keyColumns: ["key_id"],
    start: [""],
    selectFrom: "SELECT p.key_id, p.wrapped_material AS wrapped, k.region, k.account_id " +
      "FROM pending_key_material p JOIN keys k ON k.key_id = p.key_id",
    value: "p.wrapped_material",
    key: ["p.key_id"],
    // Version 0: pending material has no version of the key yet (storage/sqlite_import_store.ts).
    aad: (row) =>
      materialAad(
        keyArn(String(row["region"]), String(row["account_id"]), String(row["key_id"])),
        0,
      ),
  },
  {
    label: "credential secrets",
    table: "credentials",
    column: "wrapped_secret",
    keyColumns: ["access_key_id"],
    start: [""],
    selectFrom: "SELECT access_key_id, wrapped_secret AS wrapped FROM credentials",
    value: "wrapped_secret",
    key: ["access_key_id"],
    aad: (row) => credentialAad(String(row["access_key_id"])),
  },
  {
    label: "import wrapping keys",
    table: "import_parameters",
    column: "wrapped_private_key",
    keyColumns: ["token_id"],
    start: [""],
    selectFrom: "SELECT p.token_id, p.key_id, p.wrapped_private_key AS wrapped, k.region, " +
      "k.account_id FROM import_parameters p JOIN keys k ON k.key_id = p.key_id",
    value: "p.wrapped_private_key",
    key: ["p.token_id"],
    aad: (row) =>
      importParametersAad(
        String(row["token_id"]),
        keyArn(String(row["region"]), String(row["account_id"]), String(row["key_id"])),
      ),
  },
];

/** A row of `root_keys`. */
export interface RootKeyRow {
  keyId: string;
  state: "active" | "retiring" | "retired";
  checkValue: Uint8Array;
  createdAt: number;
  retiredAt: number | null;
}

/** Wrapped values per root-key id; "legacy" counts format-1 values (they name no key). */
export type Usage = Map<string, number>;

/** The rows of `root_keys`, oldest first. */
export async function listRootKeys(db: Pick<Client, "execute">): Promise<RootKeyRow[]> {
  const result = await db.execute(
    "SELECT key_id, state, check_value, created_at, retired_at FROM root_keys " +
      "ORDER BY created_at, key_id",
  );
  return result.rows.map((row) => ({
    keyId: String(row["key_id"]),
    state: String(row["state"]) as RootKeyRow["state"],
    checkValue: new Uint8Array(row["check_value"] as ArrayBuffer),
    createdAt: Number(row["created_at"]),
    retiredAt: row["retired_at"] === null ? null : Number(row["retired_at"]),
  }));
}

/** How many stored values each root key wraps, over every wrapped column. */
export async function rootKeyUsage(db: Pick<Client, "execute">): Promise<Usage> {
  const usage: Usage = new Map();
  for (const c of WRAPPED_COLUMNS) {
    const result = await db.execute(
      `SELECT CASE substr(${c.column}, 1, 1) WHEN X'02' THEN lower(hex(substr(${c.column}, 2, 8))) ` +
        `WHEN X'01' THEN 'legacy' ELSE 'unknown' END AS id, count(*) AS n FROM ${c.table} ` +
        "GROUP BY id",
    );
    for (const row of result.rows) {
      const id = String(row["id"]);
      usage.set(id, (usage.get(id) ?? 0) + Number(row["n"]));
    }
  }
  return usage;
}

const WRONG =
  "The root key (KMS_ROOT_KEY / KMS_ROOT_KEY_FILE) is not the one this database was written with:";

/** Thrown when a keyring cannot serve this database; the message names key ids, never keys. */
export class RootKeyringMismatch extends StartupError {
  override readonly name = "RootKeyringMismatch";
}

/**
 * Checks that `keyring` can unwrap everything stored and that its current key may write, then
 * records the current key in `root_keys` (state active, with its check value). Run before a
 * process serves anything, and again before a reloaded keyring replaces the one in use.
 * `options.rotating`: the caller is `root-key rotate`, which may make a retiring or retired key
 * current again (moving back).
 * @throws {RootKeyringMismatch} naming the missing or mismatching root-key ids.
 */
export async function checkRootKeyring(
  db: Client,
  keyring: RootKeyring,
  now: number,
  options: { rotating?: boolean } = {},
): Promise<void> {
  const current = await verifyRootKeyring(db, keyring, options);
  if (current === undefined) {
    await db.execute({
      sql: "INSERT OR IGNORE INTO root_keys (key_id, state, check_value, created_at) " +
        "VALUES (?, 'active', ?, ?)",
      args: [keyring.currentId, await keyring.checkValue(keyring.currentId), now],
    });
  }
}

/**
 * The checks of `checkRootKeyring` without its write: reads only, so a start can run it before
 * it changes anything. Resolves to the `root_keys` row of the keyring's current key, if any.
 * @throws {RootKeyringMismatch} naming the missing or mismatching root-key ids.
 */
export async function verifyRootKeyring(
  db: Pick<Client, "execute">,
  keyring: RootKeyring,
  options: { rotating?: boolean } = {},
): Promise<RootKeyRow | undefined> {
  const rows = await listRootKeys(db);
  const hint = "Start with the root keyring (KMS_ROOT_KEY + KMS_ROOT_KEYS_PREVIOUS, or the " +
    "lines of KMS_ROOT_KEY_FILE) that holds it.";
  for (const row of rows) {
    if (!keyring.has(row.keyId)) {
      if (row.state === "retired") continue;
      throw new RootKeyringMismatch(
        `${WRONG} it lacks root key ${row.keyId} (${row.state}), which this database still ` +
          `uses; it holds ${keyring.ids.join(", ")}. ${hint}`,
      );
    }
    if (!await keyring.verifyCheckValue(row.checkValue)) {
      throw new RootKeyringMismatch(
        `Root key ${row.keyId} of the keyring does not open the check value this database ` +
          "stores for it: the root_keys table was altered.",
      );
    }
  }
  const usage = await rootKeyUsage(db);
  for (const [id, count] of usage) {
    if (id === "legacy" || id === "unknown" || keyring.has(id)) continue;
    throw new RootKeyringMismatch(
      `${WRONG} ${count} stored values are wrapped under root key ${id}, which it lacks; it ` +
        `holds ${keyring.ids.join(", ")}. ${hint}`,
    );
  }
  if ((usage.get("legacy") ?? 0) > 0) await checkLegacy(db, keyring);
  const current = rows.find((row) => row.keyId === keyring.currentId);
  // A rotation (`root-key rotate`) may make any key current again; a server may not write
  // under a key a rotation moved away from (a stale keyring).
  if (current !== undefined && current.state !== "active" && options.rotating !== true) {
    const active = rows.filter((row) => row.state === "active").map((row) => row.keyId);
    throw new RootKeyringMismatch(
      `The keyring's current root key ${current.keyId} is ${current.state}: a root-key rotation ` +
        `moved this database to ${active.join(", ") || "another key"}. Put that key first in ` +
        "the keyring (or run `deno task admin root-key rotate` with this key first to move back).",
    );
  }
  return current;
}

/**
 * Reads the keyring from `source` again (never creating a key file) and, when it passes
 * `checkRootKeyring`, makes `keyring` use its keys; otherwise `keyring` stays as it was.
 * Resolves to the ids of the keys now in use, the current one first.
 * @throws {Error} an unreadable keyring, or RootKeyringMismatch.
 */
export async function reloadRootKeyring(
  db: Client,
  keyring: RootKeyring,
  source: KeyringSource,
  now: number,
): Promise<string[]> {
  const fresh = await loadOrCreateKeyring({ ...source, create: false });
  await checkRootKeyring(db, fresh, now);
  keyring.replace(fresh);
  return keyring.ids;
}

/** Format-1 values name no key: one of each column must open with some key of the ring. */
async function checkLegacy(db: Pick<Client, "execute">, keyring: RootKeyring): Promise<void> {
  for (const c of WRAPPED_COLUMNS) {
    const result = await db.execute(
      `${c.selectFrom} WHERE substr(${c.value}, 1, 1) = X'01' LIMIT 1`,
    );
    const row = result.rows[0];
    if (row === undefined) continue;
    try {
      (await keyring.unwrap(new Uint8Array(row["wrapped"] as ArrayBuffer), c.aad(row))).fill(0);
    } catch {
      throw new RootKeyringMismatch(
        `${WRONG} stored ${c.label} in the legacy format (written before root keys had ids) ` +
          `unwrap with none of its keys (${keyring.ids.join(", ")}).`,
      );
    }
  }
}
