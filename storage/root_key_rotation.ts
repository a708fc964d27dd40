/**
 * Root-key rotation: re-wrapping every stored value (every column of WRAPPED_COLUMNS,
 * storage/root_key_table.ts) under the keyring's current key in short batches while servers
 * keep serving, then retiring the other root keys in `root_keys`.
 *
 * Crash safety: a batch is one transaction of conditional UPDATEs
 * (`... WHERE <primary key> AND <column> = <the value read>`), so a batch commits whole or
 * not at all, and a value a server changed meanwhile is left alone (a later pass counts it
 * again). Until the final count finds nothing under the old keys they stay in every keyring,
 * so each stored value, old or re-wrapped, unwraps at every moment.
 *
 * @module
 */
import type { Client, InStatement } from "@libsql/client";
import { WRAPPED_COLUMNS, type WrappedColumn } from "./root_key_table.ts";
import { HEADER_BYTES, keyedHeader, type RootKeyring } from "./root_keyring.ts";

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

/** Rows after a cursor whose value is not under the key of a header: cursor..., header, limit. */
function batchSql(c: WrappedColumn): string {
  const key = c.key.length === 1 ? c.key[0]! : `(${c.key.join(", ")})`;
  const cursor = c.key.length === 1 ? "?" : `(${c.key.map(() => "?").join(", ")})`;
  return `${c.selectFrom} WHERE ${key} > ${cursor} AND substr(${c.value}, 1, ${HEADER_BYTES}) != ? ` +
    `ORDER BY ${c.key.join(", ")} LIMIT ?`;
}
