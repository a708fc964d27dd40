/**
 * Audit retention (`KMS_AUDIT_RETENTION`, core/audit/retention.ts): removes the oldest audit
 * records, a bounded batch per transaction, while the oldest is older than the age bound or the
 * database uses more than the size bound. Each batch leaves one checkpoint row per chain it cut
 * (audit_checkpoint: the chain_seq and hash of the last record removed, how many, their time
 * range), from which `SqliteAuditStore.verify` checks the records that remain, so the log still
 * proves nothing was altered and a record deleted from the middle or the front is still caught.
 *
 * With an export directory (`KMS_AUDIT_EXPORT_DIR`), each batch is first written there as a
 * segment of JSON lines, one CloudTrail event per line in commit order
 * (`audit-<first seq>-<last seq>.jsonl`, written to a temporary name, synced, then renamed), and
 * removed only once its segment is on disk.
 *
 * Several runners (isolates, processes) may run at once: a batch is removed in a write
 * transaction only if it is still the front of the log, so no record is removed twice and every
 * checkpoint follows the one before it. The audit worker runs a pass every few seconds
 * (storage/audit_worker.ts); `runRetention` is also what the soak bench calls.
 *
 * @module
 */
import type { Client, InValue, Row } from "@libsql/client";
import type { AuditRetention } from "../core/audit/retention.ts";
import { int, intOrNull } from "./rows.ts";
import { SqliteAuditStore } from "./audit_store.ts";

/** Tuning of one retention pass. */
export interface RetentionOptions {
  retention: AuditRetention;
  /** Where removed records are first exported (segment files); none by default. */
  exportDir?: string | undefined;
  /** Records per batch (one transaction, one segment). Default 1000. */
  batchRows?: number;
  /** Most batches in one pass, so a pass stays short. Default 20. */
  maxBatches?: number;
  /** Epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** What one pass did. */
export interface RetentionResult {
  removed: number;
  /** Segment files written. */
  segments: string[];
}

/** Removes the oldest records while the log is over its bounds, at most `maxBatches` batches. */
export async function runRetention(
  db: Client,
  options: RetentionOptions,
): Promise<RetentionResult> {
  const batchRows = options.batchRows ?? 1000;
  const maxBatches = options.maxBatches ?? 20;
  const now = options.now ?? Date.now;
  const result: RetentionResult = { removed: 0, segments: [] };
  for (let batch = 0; batch < maxBatches; batch++) {
    const cutoff = options.retention.maxAgeMs === null ? null : now() - options.retention.maxAgeMs;
    const overSize = options.retention.maxBytes !== null &&
      await usedBytes(db) > options.retention.maxBytes;
    const rows = await frontOfLog(db, batchRows, overSize ? null : cutoff);
    if (rows.length === 0 || (!overSize && cutoff === null)) break;
    const firstSeq = int(rows[0] as Row, "seq");
    const lastSeq = int(rows.at(-1) as Row, "seq");
    if (options.exportDir !== undefined) {
      result.segments.push(await writeSegment(db, options.exportDir, firstSeq, lastSeq));
    }
    const removed = await removeBatch(db, rows, now());
    if (removed === 0) break;
    result.removed += removed;
    // Let appends waiting on this connection's thread run between batches.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return result;
}

/** Bytes of the database's pages in use (page_count - freelist_count, times page_size). */
export async function usedBytes(db: Pick<Client, "execute">): Promise<number> {
  const result = await db.execute(
    "SELECT (SELECT page_count FROM pragma_page_count()) AS pages, " +
      "(SELECT freelist_count FROM pragma_freelist_count()) AS free, " +
      "(SELECT page_size FROM pragma_page_size()) AS size",
  );
  const row = result.rows[0] as Row;
  return (int(row, "pages") - int(row, "free")) * int(row, "size");
}

/** The oldest records by seq, up to `limit`, stopping before the first at or after `cutoff`. */
async function frontOfLog(db: Client, limit: number, cutoff: number | null): Promise<Row[]> {
  const page = await db.execute({
    sql: "SELECT seq, chain, chain_seq, event_time, hash FROM audit_log ORDER BY seq LIMIT ?",
    args: [limit],
  });
  if (cutoff === null) return [...page.rows];
  const young = page.rows.findIndex((row) => int(row, "event_time") >= cutoff);
  return young === -1 ? [...page.rows] : page.rows.slice(0, young);
}

/**
 * Removes `rows` (the front of the log) and writes a checkpoint per chain, in one write
 * transaction, unless another runner changed the front meanwhile. Answers how many were removed.
 */
async function removeBatch(db: Client, rows: readonly Row[], now: number): Promise<number> {
  const firstSeq = int(rows[0] as Row, "seq");
  const lastSeq = int(rows.at(-1) as Row, "seq");
  const perChain = new Map<number, { last: Row; count: number; first: number; latest: number }>();
  for (const row of rows) {
    const chain = int(row, "chain");
    const time = int(row, "event_time");
    const known = perChain.get(chain);
    if (known === undefined) {
      perChain.set(chain, { last: row, count: 1, first: time, latest: time });
    } else {
      known.last = row;
      known.count++;
      known.first = Math.min(known.first, time);
      known.latest = Math.max(known.latest, time);
    }
  }
  const tx = await db.transaction("write");
  try {
    const front = await tx.execute({
      sql: "SELECT min(seq) AS first, count(*) AS n FROM audit_log WHERE seq <= ?",
      args: [lastSeq],
    });
    const row = front.rows[0] as Row;
    if (intOrNull(row, "first") !== firstSeq || int(row, "n") !== rows.length) {
      await tx.rollback();
      return 0;
    }
    const statements: { sql: string; args: InValue[] }[] = [];
    for (const [chain, c] of perChain) {
      const lastChainSeq = int(c.last, "chain_seq");
      statements.push({
        sql: "DELETE FROM audit_log WHERE chain = ? AND chain_seq <= ?",
        args: [chain, lastChainSeq],
      }, {
        sql: "INSERT INTO audit_checkpoint (chain, last_seq, last_hash, removed, first_time, " +
          "last_time, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        args: [chain, lastChainSeq, c.last["hash"] as ArrayBuffer, c.count, c.first, c.latest, now],
      });
    }
    await tx.batch(statements);
    await tx.commit();
    return rows.length;
  } finally {
    tx.close();
  }
}

/** Writes records `firstSeq..lastSeq` to `<dir>/audit-<first>-<last>.jsonl`; answers its path. */
async function writeSegment(
  db: Client,
  dir: string,
  firstSeq: number,
  lastSeq: number,
): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const name = `audit-${String(firstSeq).padStart(12, "0")}-${String(lastSeq).padStart(12, "0")}`;
  const path = `${dir}/${name}.jsonl`;
  const temporary = `${dir}/.${name}.jsonl.tmp`;
  const lines = await exportLines(db, { afterSeq: firstSeq - 1, untilSeq: lastSeq });
  const file = await Deno.open(temporary, { write: true, create: true, truncate: true });
  try {
    const bytes = new TextEncoder().encode(lines.join(""));
    for (let written = 0; written < bytes.length;) {
      written += await file.write(bytes.subarray(written));
    }
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.rename(temporary, path);
  return path;
}

/**
 * The CloudTrail events of the records after `afterSeq` up to `untilSeq` (what `audit export`
 * and the segments hold), as JSON lines (each
 * ending in "\n"), in commit order.
 */
export async function exportLines(
  db: Client,
  range: { afterSeq: number; untilSeq: number },
): Promise<string[]> {
  const store = new SqliteAuditStore(db);
  const lines: string[] = [];
  let afterSeq = range.afterSeq;
  for (;;) {
    const page = await store.query({ afterSeq, limit: 1000 });
    for (const event of page) {
      if (event.seq > range.untilSeq) return lines;
      lines.push(event.json + "\n");
      afterSeq = event.seq;
    }
    if (page.length < 1000) return lines;
  }
}

/** Reads a segment file back: its events (the round trip of what retention exported). */
export async function readSegment(path: string): Promise<unknown[]> {
  const content = await Deno.readTextFile(path);
  return content.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}
