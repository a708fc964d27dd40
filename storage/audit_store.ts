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
import {
  compactEvent,
  compactHashInput,
  type Dictionary,
  expandEvent,
  isCompact,
} from "../core/audit/compact.ts";
import { PreparedRecord } from "../core/audit/prepared.ts";
import type { KeyUsage, KeyUsageLog } from "../core/audit/ports.ts";
import {
  type AuditChain,
  type AuditDecision,
  type AuditEvent,
  type AuditRecord,
  BUFFER_CHAIN,
  isKeyUsage,
  recordFromEvent,
} from "../core/audit/record.ts";
import { column, int, intOrNull, text, textOrNull } from "./rows.ts";

/** The migration that created the log; its `applied_at` is when tracking began. */
export const AUDIT_MIGRATION_VERSION = 3;

/** Most rows in one INSERT (6 parameters each, far below SQLite's 32766). */
const ROWS_PER_INSERT = 512;

/**
 * A chain's head: its last record (seq = chain_seq); when retention removed every record, the
 * last one removed (its checkpoint); else the empty chain.
 */
export async function loadChainHead(
  db: Pick<Client, "batch">,
  chain: AuditChain,
): Promise<ChainHead> {
  const [result, checkpoint] = await db.batch([{
    sql: "SELECT chain_seq, hash FROM audit_log WHERE chain = ? ORDER BY chain_seq DESC LIMIT 1",
    args: [chain],
  }, {
    sql: "SELECT last_seq, last_hash FROM audit_checkpoint WHERE chain = ? " +
      "ORDER BY last_seq DESC LIMIT 1",
    args: [chain],
  }], "read");
  const row = result?.rows[0];
  if (row !== undefined) return { seq: int(row, "chain_seq"), hash: hashBlob(row, "hash") };
  const removed = checkpoint?.rows[0];
  return removed === undefined
    ? EMPTY_CHAIN
    : { seq: int(removed, "last_seq"), hash: hashBlob(removed, "last_hash") };
}

/**
 * The statements that append `records` to `chain` after its `head`, in
 * order, and the chain's new head: hash-chained INSERTs plus the last-usage
 * upsert of their keys. Records of the buffer chain are stored in their
 * compact form (core/audit/compact.ts), preceded by the dictionary entries
 * they reference; each hash covers the canonical JSON of the full event.
 * Pure apart from hashing; nothing is written until the statements commit.
 */
export function auditStatements(
  chain: AuditChain,
  head: ChainHead,
  records: readonly AuditRecord[],
): { statements: InStatement[]; head: ChainHead } {
  const statements: InStatement[] = [];
  const usage = new Map<string, [number, AuditRecord]>();
  const refs = new Map<string, string>();
  const compact = chain === BUFFER_CHAIN;
  let current = head;
  for (let start = 0; start < records.length; start += ROWS_PER_INSERT) {
    const chunk = records.slice(start, start + ROWS_PER_INSERT);
    const args: InValue[] = [];
    for (const record of chunk) {
      if (compact && record instanceof PreparedRecord) {
        // Built by the audit worker from an entry's line: its hash covers the compact form.
        const row = link(current, record.hashInput);
        args.push(chain, row.seq, record.eventTime, record.stored, NO_PREV_HASH, row.hash);
        const named = record.refs;
        for (let i = 0; i < named.length; i += 2) refs.set(named[i]!, named[i + 1]!);
        if (isKeyUsage(record)) {
          for (const arn of record.keyArns) usage.set(arn, [row.seq, record]);
        }
        current = { seq: row.seq, hash: row.hash };
        continue;
      }
      const eventJson = canonicalJson(record.event);
      const row = link(current, eventJson);
      const stored = compact ? compactEvent(record.event, record.eventTime, refs) : null;
      if (stored === null) {
        args.push(chain, row.seq, record.eventTime, eventJson, row.prevHash, row.hash);
      } else {
        args.push(chain, row.seq, record.eventTime, stored, NO_PREV_HASH, row.hash);
      }
      if (isKeyUsage(record)) {
        for (const arn of record.keyArns) usage.set(arn, [row.seq, record]);
      }
      current = { seq: row.seq, hash: row.hash };
    }
    statements.push({ sql: insertSql(chunk.length), args });
  }
  if (refs.size > 0) statements.unshift(dictionaryStatement(refs));
  if (usage.size > 0) {
    const args: InValue[] = [];
    for (const [arn, [chainSeq, record]] of usage) {
      args.push(arn, chain, chainSeq, record.eventName, record.eventTime, record.eventId);
      args.push(record.requestId);
    }
    statements.push({
      // The record committed last wins: same chain, later seq; or another chain (committed now).
      sql: "INSERT INTO audit_key_usage (key_arn, chain, chain_seq, operation, event_time, " +
        "event_id, request_id) VALUES " +
        Array(usage.size).fill("(?, ?, ?, ?, ?, ?, ?)").join(", ") +
        " ON CONFLICT (key_arn) DO UPDATE SET chain = excluded.chain, " +
        "chain_seq = excluded.chain_seq, operation = excluded.operation, " +
        "event_time = excluded.event_time, event_id = excluded.event_id, " +
        "request_id = excluded.request_id WHERE excluded.chain != audit_key_usage.chain " +
        "OR excluded.chain_seq > audit_key_usage.chain_seq",
      args,
    });
  }
  return { statements, head: current };
}

/** The prev_hash of a compact row: the hash of the row before it in its chain (verify uses that). */
const NO_PREV_HASH = new Uint8Array(0);

/** Adds the dictionary entries (reference -> value) the records name; known ones are kept. */
function dictionaryStatement(refs: ReadonlyMap<string, string>): InStatement {
  const args: InValue[] = [];
  for (const [ref, value] of refs) args.push(ref, value);
  return {
    sql: "INSERT INTO audit_dict (ref, value) VALUES " +
      Array(refs.size).fill("(?, ?)").join(", ") + " ON CONFLICT (ref) DO NOTHING",
    args,
  };
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
  /** `removed`: records retention removed before the checkpoints (absent when none was). */
  | { ok: true; count: number; heads: ChainHeadHex[]; removed?: number }
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

const EVENT_COLUMNS = "seq, chain, chain_seq, event_time, event, hash";

/** The latest checkpoint of a chain: the last record retention removed from it. */
export interface AuditCheckpoint {
  chain: AuditChain;
  /** chain_seq of the last record removed. */
  seq: number;
  hash: Uint8Array;
  /** Records removed from the chain so far (over all its checkpoints). */
  removed: number;
}

/** Reads, filters and verifies the audit log; answers GetKeyLastUsage's questions. */
export class SqliteAuditStore {
  readonly #db: Client;
  /** audit_dict as last read (entries are never removed, so a cached entry stays true). */
  readonly #dictionary = new Map<string, string>();

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
    if (filter.since !== undefined) add("event_time >= ?", filter.since);
    if (filter.until !== undefined) add("event_time < ?", filter.until);
    if (filter.operation !== undefined) add("event_name = ?", filter.operation);
    if (filter.decision !== undefined) add("decision = ?", filter.decision);
    if (filter.errorCode === "*") add("error_code IS NOT NULL");
    else if (filter.errorCode !== undefined) add("error_code = ?", filter.errorCode);
    // A compact row names its principal and keys by reference: those filters are applied to the
    // expanded event (below); SQL only skips full rows that cannot match.
    if (filter.principalArn !== undefined) {
      add("(principal_arn = ? OR event ->> '$.v' IS NOT NULL)", filter.principalArn);
    }
    if (filter.keyArn !== undefined) {
      add(
        "(event ->> '$.v' IS NOT NULL OR (instr(event, ?) > 0 AND EXISTS (SELECT 1 FROM " +
          "json_each(event, '$.resources') r WHERE r.value ->> '$.ARN' = ?)))",
        JSON.stringify(filter.keyArn),
        filter.keyArn,
      );
    }
    const limit = filter.limit ?? 1000;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError("limit must be positive");
    const matches = (event: StoredAuditEvent) =>
      (filter.principalArn === undefined || event.principalArn === filter.principalArn) &&
      (filter.keyArn === undefined || event.keyArns.includes(filter.keyArn));
    const found: StoredAuditEvent[] = [];
    let afterSeq = filter.afterSeq ?? null;
    const pageSize = Math.max(limit, 256);
    for (;;) {
      const page = await this.#db.execute({
        sql: `SELECT ${EVENT_COLUMNS} FROM audit_log WHERE ` +
          [afterSeq === null ? "1" : "seq > ?", ...where].join(" AND ") + " ORDER BY seq LIMIT ?",
        args: [...(afterSeq === null ? [] : [afterSeq]), ...args, pageSize],
      });
      for (const event of await this.#events(page.rows)) {
        if (!matches(event)) continue;
        found.push(event);
        if (found.length === limit) return found;
      }
      const last = page.rows.at(-1);
      if (last === undefined || page.rows.length < pageSize) return found;
      afterSeq = int(last, "seq");
    }
  }

  /** Each chain's head (seq 0 for an empty chain): remember them to detect truncation later. */
  async heads(): Promise<Map<AuditChain, ChainHead>> {
    const heads = new Map<AuditChain, ChainHead>();
    for (const chain of await this.#chains()) {
      heads.set(chain, await loadChainHead(this.#db, chain));
    }
    return heads;
  }

  /** Each chain's latest checkpoint (chains retention never truncated have none). */
  async checkpoints(): Promise<Map<AuditChain, AuditCheckpoint>> {
    const result = await this.#db.execute(
      "SELECT chain, last_seq, last_hash, (SELECT sum(removed) FROM audit_checkpoint s " +
        "WHERE s.chain = c.chain) AS total FROM audit_checkpoint c WHERE last_seq = " +
        "(SELECT max(last_seq) FROM audit_checkpoint m WHERE m.chain = c.chain)",
    );
    const checkpoints = new Map<AuditChain, AuditCheckpoint>();
    for (const row of result.rows) {
      const chain = int(row, "chain") as AuditChain;
      checkpoints.set(chain, {
        chain,
        seq: int(row, "last_seq"),
        hash: anyBlob(row, "last_hash"),
        removed: int(row, "total"),
      });
    }
    return checkpoints;
  }

  /**
   * Verifies the whole log: every chain from its seq 1 (or from its latest checkpoint, when
   * retention removed its oldest records), each event_time against its event, audit_key_usage
   * against the log, and, when given, heads remembered from an earlier run (which reveal records
   * cut off the end).
   */
  async verify(
    options: { expectedHeads?: ReadonlyMap<AuditChain, ChainHead>; pageSize?: number } = {},
  ): Promise<AuditVerification> {
    const pageSize = options.pageSize ?? 1000;
    let count = 0;
    const heads: ChainHeadHex[] = [];
    /** Per key, the last usage by commit order: [seq, chain, chain_seq]. */
    const usage = new Map<string, [number, AuditChain, number]>();
    await this.#loadDictionary();
    const dictionary: Dictionary = (ref) => this.#dictionary.get(ref);
    const checkpoints = await this.checkpoints();
    for (const chain of await this.#chains()) {
      const checkpoint = checkpoints.get(chain);
      const verifier = new ChainVerifier(checkpoint ?? EMPTY_CHAIN);
      const start = verifier.head.seq;
      let lastSeq = 0;
      for (;;) {
        const page = await this.#db.execute({
          sql: "SELECT seq, chain_seq, event_time, event, prev_hash, hash FROM audit_log " +
            "WHERE chain = ? AND chain_seq > ? ORDER BY chain_seq LIMIT ?",
          args: [chain, verifier.head.seq, pageSize],
        });
        for (const row of page.rows) {
          const chainSeq = int(row, "chain_seq");
          const eventTime = int(row, "event_time");
          const failure = (seq: number, reason: AuditBreakReason): AuditVerification => ({
            ok: false,
            chain,
            seq,
            reason,
            count: count + verifier.count,
          });
          const stored = storedEvent(text(row, "event"), eventTime, dictionary, true);
          if (stored === null) return failure(chainSeq, "event");
          const prevHash = anyBlob(row, "prev_hash");
          const broken = verifier.next({
            seq: chainSeq,
            prevHash: prevHash.length === 0 ? verifier.head.hash : prevHash,
            hash: anyBlob(row, "hash"),
            eventJson: stored.hashInput ?? stored.json,
          });
          if (broken !== null) return failure(broken.seq, broken.reason);
          const seq = int(row, "seq");
          if (seq <= lastSeq) return failure(chainSeq, "order");
          lastSeq = seq;
          const event = stored.event;
          if (event === null) return failure(chainSeq, "event");
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
      // A remembered head retention removed since is checked against the checkpoint, if it is one.
      if (expected !== undefined && expected.seq > start) {
        const found = await this.#db.execute({
          sql: "SELECT hash FROM audit_log WHERE chain = ? AND chain_seq = ?",
          args: [chain, expected.seq],
        });
        const row = found.rows[0];
        if (row === undefined || !equalBytes(anyBlob(row, "hash"), expected.hash)) {
          return { ok: false, chain, seq: expected.seq, reason: "head", count };
        }
      } else if (expected !== undefined && expected.seq > 0 && expected.seq === start) {
        if (!equalBytes(checkpoint?.hash ?? new Uint8Array(0), expected.hash)) {
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
      usage.delete(arn);
      if (expected === undefined && chainSeq <= (checkpoints.get(chain)?.seq ?? 0)) continue;
      if (expected === undefined || expected[1] !== chain || expected[2] !== chainSeq) {
        return { ok: false, chain, seq: chainSeq, reason: "usage", count };
      }
    }
    const [missing] = usage.values();
    if (missing !== undefined) {
      return { ok: false, chain: missing[1], seq: missing[2], reason: "usage", count };
    }
    if (checkpoints.size === 0) return { ok: true, count, heads };
    const removed = [...checkpoints.values()].reduce((sum, c) => sum + c.removed, 0);
    return { ok: true, count, heads, removed };
  }

  async #chains(): Promise<AuditChain[]> {
    const result = await this.#db.execute(
      "SELECT DISTINCT chain FROM audit_log UNION SELECT DISTINCT chain FROM audit_checkpoint",
    );
    const found = result.rows.map((row) => int(row, "chain") as AuditChain);
    return [...new Set([...KNOWN_CHAINS, ...found])].sort((a, b) => a - b);
  }

  /** Reads audit_dict whole (it holds one entry per distinct caller context and key). */
  async #loadDictionary(): Promise<void> {
    const result = await this.#db.execute("SELECT ref, value FROM audit_dict");
    for (const row of result.rows) this.#dictionary.set(text(row, "ref"), text(row, "value"));
  }

  /** The stored events of rows (EVENT_COLUMNS), expanded. */
  async #events(rows: readonly Row[]): Promise<StoredAuditEvent[]> {
    let reloaded = false;
    const events: StoredAuditEvent[] = [];
    for (const row of rows) {
      const eventTime = int(row, "event_time");
      const text_ = text(row, "event");
      let stored = storedEvent(text_, eventTime, (ref) => this.#dictionary.get(ref));
      if ((stored === null || stored.event === null) && !reloaded) {
        reloaded = true;
        await this.#loadDictionary();
        stored = storedEvent(text_, eventTime, (ref) => this.#dictionary.get(ref));
      }
      if (stored === null || stored.event === null) {
        throw new Error(`audit record ${int(row, "seq")} cannot be read (run audit verify)`);
      }
      events.push(eventFromRow(row, stored.event, stored.json));
    }
    return events;
  }

  /** The last successful KeyLastUsageTrackingOperation on the key with this ARN, or null. */
  async lastUsage(keyArn: string): Promise<KeyUsage | null> {
    const result = await this.#db.execute({
      sql: "SELECT u.operation, u.event_time, u.event_id, u.request_id, l.event_time AS l_time, " +
        "l.event_name AS l_operation, l.request_id AS l_request_id, " +
        "l.event ->> '$.eventID' AS l_event_id FROM audit_key_usage u LEFT JOIN audit_log l " +
        "ON u.operation IS NULL AND l.chain = u.chain AND l.chain_seq = u.chain_seq " +
        "WHERE u.key_arn = ?",
      args: [keyArn],
    });
    const row = result.rows[0];
    if (row === undefined) return null;
    if (textOrNull(row, "operation") !== null) {
      return {
        operation: text(row, "operation"),
        time: int(row, "event_time"),
        eventId: text(row, "event_id"),
        requestId: text(row, "request_id"),
      };
    }
    // A usage recorded before migration 0010 is read from its record (unless retention removed it).
    if (intOrNull(row, "l_time") === null) return null;
    return {
      operation: text(row, "l_operation"),
      time: int(row, "l_time"),
      eventId: text(row, "l_event_id"),
      requestId: text(row, "l_request_id"),
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

/**
 * A stored event column read back: the event's canonical JSON, the event (null when that JSON is
 * not an audit event) and, when asked for, what its hash covers if not that JSON (`hashInput` of
 * a compact form of format 2). Null when a compact form cannot be expanded.
 */
export function storedEvent(
  stored: string,
  eventTime: number,
  dictionary: Dictionary,
  withHashInput = false,
): { json: string; event: AuditEvent | null; hashInput?: string | undefined } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return { json: stored, event: null };
  }
  if (!isCompact(parsed)) return { json: stored, event: asEvent(parsed) };
  const event = expandEvent(parsed, eventTime, dictionary);
  if (event === null) return null;
  let hashInput: string | undefined;
  if (withHashInput) {
    hashInput = compactHashInput(stored, eventTime, parsed, dictionary) ?? undefined;
  }
  try {
    return { json: canonicalJson(event), event: asEvent(event), hashInput };
  } catch {
    return null;
  }
}

function asEvent(value: unknown): AuditEvent | null {
  const event = value as AuditEvent;
  if (typeof event !== "object" || event === null || !Array.isArray(event.resources)) return null;
  if (typeof event.eventName !== "string") return null;
  return event;
}

function sameSecond(epochMs: number, iso: unknown): boolean {
  return typeof iso === "string" && Math.floor(epochMs / 1000) * 1000 === Date.parse(iso);
}

function eventFromRow(row: Row, event: AuditEvent, json: string): StoredAuditEvent {
  const record = recordFromEvent(event, int(row, "event_time"));
  return {
    seq: int(row, "seq"),
    chain: int(row, "chain") as AuditChain,
    chainSeq: int(row, "chain_seq"),
    eventTime: record.eventTime,
    requestId: record.requestId,
    eventName: record.eventName,
    principalArn: record.principalArn,
    accountId: record.accountId,
    keyArns: [...record.keyArns],
    decision: record.decision,
    errorCode: record.errorCode,
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
