/**
 * The root keys a database uses: the `root_keys` table (migrations/0008_root_keys.sql), the
 * check a process runs before it serves anything with a keyring, which root key wraps how
 * many stored values, and root-key rotation: re-wrapping every stored value under the
 * keyring's current key in short batches while servers keep serving.
 *
 * Every column that holds a value wrapped under the root key is listed in WRAPPED_COLUMNS,
 * with how to rebuild the value's AAD: a new wrapped column must be added there, or rotation
 * would never move it and its old root key would never retire (the final count in `rotate`
 * counts only what is listed: storage/root_keys_test.ts checks the list against the schema).
 *
 * Crash safety of rotation: a batch is one transaction of conditional UPDATEs
 * (`... WHERE <primary key> AND <column> = <the value read>`), so a batch commits whole or
 * not at all, and a value a server changed meanwhile is left alone (a later pass counts it
 * again). Until the final count finds nothing under the old keys they stay in every keyring,
 * so each stored value, old or re-wrapped, unwraps at every moment.
 *
 * @module
 */
import type { Client, InStatement, Row } from "@libsql/client";
import { StartupError } from "../core/config.ts";
import { keyArn } from "../core/identifiers.ts";
import { credentialAad, importParametersAad, materialAad } from "./root_key.ts";
import {
  HEADER_BYTES,
  keyedHeader,
  type KeyringSource,
  loadOrCreateKeyring,
  type RootKeyring,
} from "./root_keyring.ts";

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

/** Rows after a cursor whose value is not under the key of a header: cursor..., header, limit. */
function batchSql(c: WrappedColumn): string {
  const key = c.key.length === 1 ? c.key[0]! : `(${c.key.join(", ")})`;
  const cursor = c.key.length === 1 ? "?" : `(${c.key.map(() => "?").join(", ")})`;
  return `${c.selectFrom} WHERE ${key} > ${cursor} AND substr(${c.value}, 1, ${HEADER_BYTES}) != ? ` +
    `ORDER BY ${c.key.join(", ")} LIMIT ?`;
}

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

/** Progress of a rotation, after each batch. */
export interface RotationProgress {
  /** Values moved to the current key so far (this run). */
  rewrapped: number;
  /** Values found under other keys when the run started. */
  total: number;
  /** Per column label: values moved. */
  byColumn: Record<string, number>;
}

/** What a rotation run did. */
export interface RotationResult {
  rewrapped: number;
  /** Values still under other keys after the last pass (0 when the old keys were retired). */
  remaining: number;
  /** Ids marked retired by this run. */
  retired: string[];
  /** Values that did not unwrap (they stay as they are; their keys are not retired). */
  failures: string[];
}

/** Options of `rotateRootKey`. */
export interface RotationOptions {
  /** Values per transaction (default 100). */
  batchSize?: number;
  /** Pause between batches, in ms, leaving the write lock to servers (default 0). */
  pauseMs?: number;
  now?: () => number;
  onProgress?: (progress: RotationProgress) => void;
}

/**
 * Moves every stored value onto `keyring`'s current key, batch by batch, then retires the
 * other root keys when a final count finds nothing under them. Resumable: a run after a crash
 * continues with what is left.
 */
export async function rotateRootKey(
  db: Client,
  keyring: RootKeyring,
  options: RotationOptions = {},
): Promise<RotationResult> {
  const batchSize = options.batchSize ?? 100;
  const now = options.now ?? Date.now;
  const current = keyring.currentId;
  const header = keyedHeader(current);
  // The current key writes; every other key not yet retired is on its way out.
  await db.batch([
    {
      sql: "INSERT INTO root_keys (key_id, state, check_value, created_at) " +
        "VALUES (?, 'active', ?, ?) " +
        "ON CONFLICT (key_id) DO UPDATE SET state = 'active', retired_at = NULL",
      args: [current, await keyring.checkValue(current), now()],
    },
    {
      sql: "UPDATE root_keys SET state = 'retiring' WHERE key_id != ? AND state = 'active'",
      args: [current],
    },
  ], "write");
  const total = await countNotUnder(db, header);
  const progress: RotationProgress = { rewrapped: 0, total, byColumn: {} };
  const failures = new Map<string, string>();
  for (let pass = 0;; pass++) {
    const before = progress.rewrapped;
    for (const c of WRAPPED_COLUMNS) {
      const sql = batchSql(c);
      let cursor = [...c.start];
      for (;;) {
        const result = await db.execute({ sql, args: [...cursor, header, batchSize] });
        if (result.rows.length === 0) break;
        const updates: InStatement[] = [];
        for (const row of result.rows) {
          const old = new Uint8Array(row["wrapped"] as ArrayBuffer);
          const pk = c.keyColumns.map((name) => row[name] as string | number);
          const aad = c.aad(row);
          let plain: Uint8Array;
          try {
            plain = await keyring.unwrap(old, aad);
          } catch (e) {
            failures.set(`${c.table} ${pk.join("/")}`, e instanceof Error ? e.message : String(e));
            continue;
          }
          const wrapped = await keyring.wrap(plain, aad);
          plain.fill(0);
          updates.push({
            sql: `UPDATE ${c.table} SET ${c.column} = ? WHERE ` +
              c.keyColumns.map((name) => `${name} = ?`).join(" AND ") + ` AND ${c.column} = ?`,
            args: [wrapped, ...pk, old],
          });
        }
        if (updates.length > 0) {
          const results = await db.batch(updates, "write");
          const moved = results.reduce((sum, r) => sum + r.rowsAffected, 0);
          progress.rewrapped += moved;
          progress.byColumn[c.label] = (progress.byColumn[c.label] ?? 0) + moved;
          options.onProgress?.({ ...progress, byColumn: { ...progress.byColumn } });
          if ((options.pauseMs ?? 0) > 0) await sleep(options.pauseMs!);
        }
        const last = result.rows.at(-1)!;
        cursor = c.keyColumns.map((name) => last[name] as string | number);
        if (result.rows.length < batchSize) break;
      }
    }
    const remaining = await countNotUnder(db, header);
    // Another pass only when this one moved something (values a server rewrote meanwhile).
    if (remaining === 0 || progress.rewrapped === before || pass >= 10) {
      let retired: string[] = [];
      if (remaining === 0) {
        const result = await db.execute({
          sql: "UPDATE root_keys SET state = 'retired', retired_at = ? " +
            "WHERE key_id != ? AND state != 'retired' RETURNING key_id",
          args: [now(), current],
        });
        retired = result.rows.map((row) => String(row["key_id"]));
      }
      return {
        rewrapped: progress.rewrapped,
        remaining,
        retired,
        failures: [...failures].map(([where, why]) => `${where}: ${why}`),
      };
    }
  }
}

/** Values of every wrapped column not under the key of `header`. */
async function countNotUnder(db: Pick<Client, "execute">, header: Uint8Array): Promise<number> {
  let count = 0;
  for (const c of WRAPPED_COLUMNS) {
    const result = await db.execute({
      sql:
        `SELECT count(*) AS n FROM ${c.table} WHERE substr(${c.column}, 1, ${HEADER_BYTES}) != ?`,
      args: [header],
    });
    count += Number(result.rows[0]?.["n"] ?? 0);
  }
  return count;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
