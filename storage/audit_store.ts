/**
 * The audit log in SQL (migrations/0003_audit.sql): the hash-chained INSERTs
 * a WriteQueue adds to a group commit (`auditStatements`), and
 * SqliteAuditStore, which reads, filters and verifies the log and answers
 * GetKeyLastUsage.
 *
 * Two chains share the table: chain 0 holds the records committed with the
 * state change they describe, chain 1 the buffered ones (see
 * core/audit/record.ts). `seq` is the commit order over both; each chain
 * links its records by `chain_seq`.
 *
 * @module
 */
import type { Client, InStatement, InValue, Row } from "@libsql/client";
import {
  canonicalJson,
  type ChainBreakReason,
  type ChainHead,
  ChainVerifier,
  EMPTY_CHAIN,
  equalBytes,
  HASH_LENGTH,
  link,
  toHex,
} from "../core/audit/chain.ts";
import type { KeyUsage, KeyUsageLog } from "../core/audit/ports.ts";
import {
  type AuditChain,
  type AuditDecision,
  type AuditEvent,
  type AuditRecord,
  isKeyUsage,
  recordFromEvent,
} from "../core/audit/record.ts";
import { column, int, text, textOrNull } from "./rows.ts";

/** The migration that created the log; its `applied_at` is when tracking began. */
export const AUDIT_MIGRATION_VERSION = 3;

/** Most rows in one INSERT (6 parameters each, far below SQLite's 32766). */
const ROWS_PER_INSERT = 512;

/** A chain's head: its last record (seq = chain_seq), or the empty chain. */
export async function loadChainHead(
  db: Pick<Client, "batch">,
  chain: AuditChain,
): Promise<ChainHead> {
  const [result] = await db.batch([{
    sql: "SELECT chain_seq, hash FROM audit_log WHERE chain = ? ORDER BY chain_seq DESC LIMIT 1",
    args: [chain],
  }], "read");
  const row = result?.rows[0];
  return row === undefined
    ? EMPTY_CHAIN
    : { seq: int(row, "chain_seq"), hash: hashBlob(row, "hash") };
}

/**
 * The statements that append `records` to `chain` after its `head`, in
 * order, and the chain's new head: hash-chained INSERTs plus the last-usage
 * upsert of their keys. Pure apart from hashing; nothing is written until the
 * statements commit.
 */
export function auditStatements(
  chain: AuditChain,
  head: ChainHead,
  records: readonly AuditRecord[],
): { statements: InStatement[]; head: ChainHead } {
  const statements: InStatement[] = [];
  const usage = new Map<string, number>();
  let current = head;
  for (let start = 0; start < records.length; start += ROWS_PER_INSERT) {
    const chunk = records.slice(start, start + ROWS_PER_INSERT);
    const args: InValue[] = [];
    for (const record of chunk) {
      const eventJson = canonicalJson(record.event);
      const row = link(current, eventJson);
      args.push(chain, row.seq, record.eventTime, eventJson, row.prevHash, row.hash);
      if (isKeyUsage(record)) { for (const arn of record.keyArns) usage.set(arn, row.seq); }
      current = { seq: row.seq, hash: row.hash };
    }
    statements.push({ sql: insertSql(chunk.length), args });
  }
  if (usage.size > 0) {
    const args: InValue[] = [];
    for (const [arn, chainSeq] of usage) args.push(arn, chain, chainSeq);
    statements.push({
      // The record committed last wins: same chain, later seq; or another chain (committed now).
      sql: "INSERT INTO audit_key_usage (key_arn, chain, chain_seq) VALUES " +
        Array(usage.size).fill("(?, ?, ?)").join(", ") +
        " ON CONFLICT (key_arn) DO UPDATE SET chain = excluded.chain, " +
        "chain_seq = excluded.chain_seq WHERE excluded.chain != audit_key_usage.chain " +
        "OR excluded.chain_seq > audit_key_usage.chain_seq",
      args,
    });
  }
  return { statements, head: current };
}

const insertSqlCache = new Map<number, string>();

function insertSql(rows: number): string {
  let sql = insertSqlCache.get(rows);
  if (sql === undefined) {
    sql = "INSERT INTO audit_log (chain, chain_seq, event_time, event, prev_hash, hash) VALUES " +
      Array(rows).fill("(?, ?, ?, ?, ?, ?)").join(", ");
    insertSqlCache.set(rows, sql);
  }
  return sql;
}

/** Filters of `query`; all optional, combined with AND. Times are epoch ms. */
export interface AuditFilter {
  /** event_time >= since */
  since?: number | undefined;
  /** event_time < until */
  until?: number | undefined;
  principalArn?: string | undefined;
  /** Records that name this key ARN among their resources. */
  keyArn?: string | undefined;
  /** The operation (eventName). */
  operation?: string | undefined;
  decision?: AuditDecision | undefined;
  /** An exception name; `"*"` for any failed request. */
  errorCode?: string | undefined;
  /** Records committed after the one with this seq (paging). */
  afterSeq?: number | undefined;
  /** At most this many records, oldest first; default 1000. */
  limit?: number | undefined;
}

/** One stored record. */
export interface StoredAuditEvent {
  /** Commit order over all chains. */
  seq: number;
  chain: AuditChain;
  /** Position in its chain (1, 2, ...). */
  chainSeq: number;
  /** Epoch ms. */
  eventTime: number;
  requestId: string;
  eventName: string;
  principalArn: string | null;
  accountId: string | null;
  keyArns: string[];
  decision: AuditDecision | null;
  errorCode: string | null;
  event: AuditEvent;
  /** The event as stored and hashed: one line of JSON. */
  json: string;
  /** Hex. */
  hash: string;
}

/** A chain's head as `verify` reports it. */
export interface ChainHeadHex {
  chain: AuditChain;
  seq: number;
  /** Hex. */
  hash: string;
}

/** What `verify` found. */
export type AuditVerification =
  | { ok: true; count: number; heads: ChainHeadHex[] }
  | { ok: false; chain: AuditChain; seq: number; reason: AuditBreakReason; count: number };

/**
 * Why the log does not verify, at `seq` of `chain`: a chain break (`gap`: a
 * record deleted or moved; `prevHash`/`hash`: a record or link edited),
 * `order` (the commit order, seq, no longer follows the chain), `event` (a
 * hashed event that is not an audit event: the chain was rebuilt),
 * `time` (event_time no longer matches the event), `head` (a remembered head
 * is gone or different: records cut off the end or the chain rebuilt),
 * `usage` (audit_key_usage disagrees with the log; seq is then the one it names).
 */
export type AuditBreakReason =
  | ChainBreakReason
  | "order"
  | "event"
  | "time"
  | "head"
  | "usage";

/** The chains verify walks: both always, plus any other found. */
const KNOWN_CHAINS: readonly AuditChain[] = [0, 1];

const EVENT_COLUMNS = "seq, chain, chain_seq, event_time, request_id, event_name, " +
  "principal_arn, account_id, decision, error_code, event, hash";

/** Reads, filters and verifies the audit log; answers GetKeyLastUsage's questions. */
export class SqliteAuditStore {
  readonly #db: Client;

  constructor(db: Client) {
    this.#db = db;
  }

  /** Records matching `filter`, by seq. */
  async query(filter: AuditFilter = {}): Promise<StoredAuditEvent[]> {
    const where: string[] = [];
    const args: InValue[] = [];
    const add = (clause: string, ...values: InValue[]) => {
      where.push(clause);
      args.push(...values);
    };
    if (filter.afterSeq !== undefined) add("seq > ?", filter.afterSeq);
    if (filter.since !== undefined) add("event_time >= ?", filter.since);
    if (filter.until !== undefined) add("event_time < ?", filter.until);
    if (filter.principalArn !== undefined) add("principal_arn = ?", filter.principalArn);
    if (filter.operation !== undefined) add("event_name = ?", filter.operation);
    if (filter.decision !== undefined) add("decision = ?", filter.decision);
    if (filter.errorCode === "*") add("error_code IS NOT NULL");
    else if (filter.errorCode !== undefined) add("error_code = ?", filter.errorCode);
    if (filter.keyArn !== undefined) {
      // instr() skips most rows before the JSON is parsed.
      add(
        "instr(event, ?) > 0 AND EXISTS (SELECT 1 FROM json_each(event, '$.resources') r " +
          "WHERE r.value ->> '$.ARN' = ?)",
        JSON.stringify(filter.keyArn),
        filter.keyArn,
      );
    }
    const limit = filter.limit ?? 1000;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError("limit must be positive");
    const result = await this.#db.execute({
      sql: `SELECT ${EVENT_COLUMNS} FROM audit_log` +
        (where.length > 0 ? ` WHERE ${where.join(" AND ")}` : "") + " ORDER BY seq LIMIT ?",
      args: [...args, limit],
    });
    return result.rows.map(eventFromRow);
  }

  /** Each chain's head (seq 0 for an empty chain): remember them to detect truncation later. */
  async heads(): Promise<Map<AuditChain, ChainHead>> {
    const heads = new Map<AuditChain, ChainHead>();
    for (const chain of await this.#chains()) {
      heads.set(chain, await loadChainHead(this.#db, chain));
    }
    return heads;
  }

  /**
   * Verifies the whole log: every chain from its seq 1, each event_time
   * against its event, audit_key_usage against the log, and, when given,
   * heads remembered from an earlier run (which reveal records cut off the end).
   */
  async verify(
    options: { expectedHeads?: ReadonlyMap<AuditChain, ChainHead>; pageSize?: number } = {},
  ): Promise<AuditVerification> {
    const pageSize = options.pageSize ?? 1000;
    let count = 0;
    const heads: ChainHeadHex[] = [];
    /** Per key, the last usage by commit order: [seq, chain, chain_seq]. */
    const usage = new Map<string, [number, AuditChain, number]>();
    for (const chain of await this.#chains()) {
      const verifier = new ChainVerifier();
      let lastSeq = 0;
      for (;;) {
        const page = await this.#db.execute({
          sql: "SELECT seq, chain_seq, event_time, event, prev_hash, hash FROM audit_log " +
            "WHERE chain = ? AND chain_seq > ? ORDER BY chain_seq LIMIT ?",
          args: [chain, verifier.head.seq, pageSize],
        });
        for (const row of page.rows) {
          const chainSeq = int(row, "chain_seq");
          const eventJson = text(row, "event");
          const broken = verifier.next({
            seq: chainSeq,
            prevHash: anyBlob(row, "prev_hash"),
            hash: anyBlob(row, "hash"),
            eventJson,
          });
          const failure = (seq: number, reason: AuditBreakReason): AuditVerification => ({
            ok: false,
            chain,
            seq,
            reason,
            count: count + verifier.count,
          });
          if (broken !== null) return failure(broken.seq, broken.reason);
          const seq = int(row, "seq");
          if (seq <= lastSeq) return failure(chainSeq, "order");
          lastSeq = seq;
          const event = parseEvent(eventJson);
          if (event === null) return failure(chainSeq, "event");
          const eventTime = int(row, "event_time");
          if (!sameSecond(eventTime, event.eventTime)) return failure(chainSeq, "time");
          const record = recordFromEvent(event, eventTime);
          if (isKeyUsage(record)) {
            for (const arn of record.keyArns) {
              const known = usage.get(arn);
              if (known === undefined || known[0] < seq) usage.set(arn, [seq, chain, chainSeq]);
            }
          }
        }
        if (page.rows.length < pageSize) break;
      }
      count += verifier.count;
      const head = verifier.head;
      heads.push({ chain, seq: head.seq, hash: toHex(head.hash) });
      const expected = options.expectedHeads?.get(chain);
      if (expected !== undefined && expected.seq > 0) {
        const found = await this.#db.execute({
          sql: "SELECT hash FROM audit_log WHERE chain = ? AND chain_seq = ?",
          args: [chain, expected.seq],
        });
        const row = found.rows[0];
        if (row === undefined || !equalBytes(anyBlob(row, "hash"), expected.hash)) {
          return { ok: false, chain, seq: expected.seq, reason: "head", count };
        }
      }
    }
    const stored = await this.#db.execute("SELECT key_arn, chain, chain_seq FROM audit_key_usage");
    for (const row of stored.rows) {
      const arn = text(row, "key_arn");
      const chain = int(row, "chain") as AuditChain;
      const chainSeq = int(row, "chain_seq");
      const expected = usage.get(arn);
      if (expected === undefined || expected[1] !== chain || expected[2] !== chainSeq) {
        return { ok: false, chain, seq: chainSeq, reason: "usage", count };
      }
      usage.delete(arn);
    }
    const [missing] = usage.values();
    if (missing !== undefined) {
      return { ok: false, chain: missing[1], seq: missing[2], reason: "usage", count };
    }
    return { ok: true, count, heads };
  }

  async #chains(): Promise<AuditChain[]> {
    const result = await this.#db.execute("SELECT DISTINCT chain FROM audit_log ORDER BY chain");
    const found = result.rows.map((row) => int(row, "chain") as AuditChain);
    return [...new Set([...KNOWN_CHAINS, ...found])].sort((a, b) => a - b);
  }

  /** The last successful KeyLastUsageTrackingOperation on the key with this ARN, or null. */
  async lastUsage(keyArn: string): Promise<KeyUsage | null> {
    const result = await this.#db.execute({
      sql: "SELECT l.event_time, l.event_name, l.request_id, l.event ->> '$.eventID' AS event_id " +
        "FROM audit_key_usage u JOIN audit_log l ON l.chain = u.chain AND l.chain_seq = u.chain_seq " +
        "WHERE u.key_arn = ?",
      args: [keyArn],
    });
    const row = result.rows[0];
    if (row === undefined) return null;
    return {
      operation: text(row, "event_name"),
      time: int(row, "event_time"),
      eventId: text(row, "event_id"),
      requestId: text(row, "request_id"),
    };
  }

  /**
   * When this database began recording calls: the time the audit migration
   * was applied (epoch ms), or null when it was not.
   */
  async trackingStart(): Promise<number | null> {
    const result = await this.#db.execute({
      sql: "SELECT applied_at FROM schema_migrations WHERE version = ?",
      args: [AUDIT_MIGRATION_VERSION],
    });
    const row = result.rows[0];
    return row === undefined ? null : int(row, "applied_at");
  }
}

/**
 * GetKeyLastUsage's view of the log: `flush` writes what `buffer` holds, the
 * reads go to `store`.
 */
export function keyUsageLog(
  buffer: { flush(): Promise<void> },
  store: SqliteAuditStore,
): KeyUsageLog {
  return {
    flush: () => buffer.flush(),
    lastUsage: (keyArn) => store.lastUsage(keyArn),
    trackingStart: () => store.trackingStart(),
  };
}

function parseEvent(json: string): AuditEvent | null {
  try {
    const event = JSON.parse(json) as AuditEvent;
    if (typeof event !== "object" || event === null || !Array.isArray(event.resources)) return null;
    if (typeof event.eventName !== "string") return null;
    return event;
  } catch {
    return null;
  }
}

function sameSecond(epochMs: number, iso: unknown): boolean {
  return typeof iso === "string" && Math.floor(epochMs / 1000) * 1000 === Date.parse(iso);
}

function eventFromRow(row: Row): StoredAuditEvent {
  const json = text(row, "event");
  const event = JSON.parse(json) as AuditEvent;
  return {
    seq: int(row, "seq"),
    chain: int(row, "chain") as AuditChain,
    chainSeq: int(row, "chain_seq"),
    eventTime: int(row, "event_time"),
    requestId: text(row, "request_id"),
    eventName: text(row, "event_name"),
    principalArn: textOrNull(row, "principal_arn"),
    accountId: textOrNull(row, "account_id"),
    keyArns: event.resources.flatMap((r) => typeof r["ARN"] === "string" ? [r["ARN"]] : []),
    decision: textOrNull(row, "decision") as AuditDecision | null,
    errorCode: textOrNull(row, "error_code"),
    event,
    json,
    hash: toHex(hashBlob(row, "hash")),
  };
}

/** A blob of any length (verify compares it; a wrong length is a mismatch, not a crash). */
function anyBlob(row: Row, name: string): Uint8Array {
  const value = column(row, name);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return typeof value === "string" ? new TextEncoder().encode(value) : new Uint8Array(0);
}

/** A column holding a SHA-256 hash. */
function hashBlob(row: Row, name: string): Uint8Array {
  const value = column(row, name);
  if (!(value instanceof ArrayBuffer)) throw new Error(`column ${name} is not a blob`);
  const bytes = new Uint8Array(value);
  if (bytes.length !== HASH_LENGTH) {
    throw new Error(`column ${name} is not a ${HASH_LENGTH}-byte hash`);
  }
  return bytes;
}
