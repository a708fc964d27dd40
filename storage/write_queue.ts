/**
 * Group commit. Callers submit the statements of one write; a single writer
 * commits the statements of every write pending at that moment in one
 * transaction (one fsync), then settles each caller with its own results.
 * A caller is acknowledged only after the commit. When a grouped transaction
 * fails, each write of the group is retried in a transaction of its own, so
 * one bad write fails only its caller.
 *
 * A write may carry audit records: at commit time they become hash-chained
 * INSERTs (storage/audit_store.ts) in the same transaction as the write's
 * statements, appended in submission order to the transactional chain (0).
 * `appendAudit` is a write of audit records alone, appended to the buffer
 * chain (1): the AuditBuffer's, when it writes through this queue. A chain's
 * head is read once from the database and then advanced only by commits that
 * succeed; after a failed transaction it is read again.
 *
 * A chain may have several writers: this queue and those of other processes
 * on the same database (several instances), or the audit worker
 * (storage/audit_worker.ts) for chain 1. The UNIQUE (chain, chain_seq) of
 * audit_log refuses a record chained after a head that is no longer the last,
 * so a transaction that raced another writer fails whole; it is then chained
 * again after the head read anew and retried, so neither the write nor the
 * chain is lost.
 *
 * A transaction that found the database locked by another process past the
 * busy timeout is retried after a short pause: until the deadline of its
 * writes when the queue has one, else a few times.
 *
 * Deadlines (`timeoutMs`, storage/deadline.ts): a write that is still waiting
 * when its deadline passes — for its turn in the queue, or for another
 * connection's lock between attempts — is taken out and fails with
 * DependencyTimeoutException; it was never committed and never will be. A
 * write whose transaction is in flight is never reported as failed: if the
 * deadline passes then (a remote database that does not answer), it fails
 * with KMSInternalException saying the outcome is unknown. So does every write
 * of a transaction whose connection reported the outcome unknown
 * (`isOutcomeUnknown`: a database worker that stopped mid-commit,
 * storage/db_worker_client.ts); such a transaction is never retried.
 *
 * The connection may be the request thread's own (a remote client, a
 * `:memory:` database; the local driver then commits synchronously, blocking
 * the thread) or a DbWorkerClient that commits in a worker thread; the queue
 * is the same over both. While a transaction is awaited, another write may
 * pass its deadline: a transaction is built again, without it, whenever one of
 * its writes was answered before it started.
 *
 * An observer (storage/change_counter.ts) may add a statement to each
 * transaction that changes state: the bump of a change counter, so that other
 * instances learn of the change and this one can tell its changes from theirs.
 *
 * @module
 */
import type { Client, InStatement, ResultSet } from "@libsql/client";
import { setImmediate } from "node:timers";
import type { ChainHead } from "../core/audit/chain.ts";
import { DependencyTimeoutException, KMSInternalException } from "../core/errors.ts";
import {
  type AuditChain,
  type AuditRecord,
  BUFFER_CHAIN,
  TRANSACTIONAL_CHAIN,
} from "../core/audit/record.ts";
import { auditStatements, loadChainHead } from "./audit_store.ts";
import { lockCheckSql, restoreBusyTimeoutSql, type StoreFaults } from "./deadline.ts";

/** What the queue needs of a client: an atomic batch (and SQLite's exec, for the lock check). */
export type BatchClient = Pick<Client, "batch"> & Partial<Pick<Client, "executeMultiple">>;

/** Loads an audit chain's head (its last record's chain seq and hash). */
export type AuditChainHead = (chain: AuditChain) => Promise<ChainHead>;

/**
 * Told of every committed transaction that changes state: `statement` (the
 * bump of a change counter) runs first in it, and `committed` gets its
 * result. storage/change_counter.ts uses it to tell this process's writes
 * from other instances'.
 */
export interface CommitObserver {
  readonly statement: InStatement;
  committed(result: ResultSet): void;
}

/** Options of a WriteQueue. */
export interface WriteQueueOptions {
  /** Where audit chain heads come from; by default the chain's last row in audit_log. */
  auditHead?: AuditChainHead;
  /** Joins and observes the transactions that change state (not audit-only ones). */
  observer?: CommitObserver | undefined;
  /**
   * Longest a write waits, in ms: for its turn, or for another connection's
   * lock (see the module doc). Absent: no deadline (the audit worker's queue).
   */
  timeoutMs?: number | undefined;
  /** Told of every storage fault a transaction met and of every commit. */
  faults?: Pick<StoreFaults, "saw" | "committed"> | undefined;
  /**
   * A local connection: take and release the write lock through `executeMultiple` before each
   * transaction (storage/deadline.ts), waiting at most `sliceMs` (absent: the connection's busy
   * timeout), so that no prepared statement of the transaction meets the lock. Default: on
   * without a slice for a local connection, off for a remote one.
   */
  lockCheck?: { sliceMs?: number | undefined } | undefined;
}

/**
 * Where a write is: waiting for its turn in `#pending`; taken into a group
 * and known not committed (`waiting`); in a transaction in flight
 * (`committing`); or answered (`settled`).
 */
type Phase = "queued" | "waiting" | "committing" | "settled";

interface PendingWrite {
  statements: InStatement[];
  audit: readonly AuditRecord[];
  chain: AuditChain;
  phase: Phase;
  /** When the write gives up waiting (ms since the epoch); Infinity: never. */
  deadline: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  resolve(results: ResultSet[]): void;
  reject(error: unknown): void;
}

/** Most writes committed in one transaction. */
const MAX_GROUP = 512;

/**
 * Most attempts of one transaction whose audit chain another writer (another
 * instance on the same database) advanced under it. Each attempt after the
 * first reads the head fresh, so losing this many races in a row means the
 * chain is written far faster than one transaction commits.
 */
const MAX_CHAIN_ATTEMPTS = 50;

/**
 * Most attempts of one transaction that found the database locked past the
 * connection's busy timeout (5 s): SQLite's busy handler is not fair, so
 * under another instance's sustained writes a transaction can lose the lock
 * that long; it is retried after a short pause instead of failed. Only for a
 * queue without a deadline: one with a deadline retries until it passes.
 */
const MAX_BUSY_ATTEMPTS = 4;

const NO_AUDIT: readonly AuditRecord[] = Object.freeze([]);

/** A group-commit writer over one client. */
export class WriteQueue {
  #db: BatchClient;
  #loadHead: AuditChainHead;
  #observer: CommitObserver | undefined;
  #heads = new Map<AuditChain, ChainHead>();
  #pending: PendingWrite[] = [];
  #draining = false;
  #idle: (() => void)[] = [];
  #chainConflicts = 0;
  #timeoutMs: number | undefined;
  #faults: Pick<StoreFaults, "saw" | "committed"> | undefined;
  #lockCheck: { sliceMs?: number | undefined } | undefined;

  constructor(db: BatchClient, options: WriteQueueOptions = {}) {
    this.#db = db;
    this.#loadHead = options.auditHead ?? ((chain) => loadChainHead(db, chain));
    this.#observer = options.observer;
    this.#timeoutMs = options.timeoutMs;
    this.#faults = options.faults;
    this.#lockCheck = db.executeMultiple === undefined
      ? undefined
      : options.lockCheck ?? (isLocal(db) ? {} : undefined);
  }

  /** Writes waiting for their turn (not yet in a transaction). */
  get waiting(): number {
    return this.#pending.length;
  }

  /** Resolves once no write is queued or being committed. */
  idle(): Promise<void> {
    if (!this.#draining && this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Transactions retried because another writer advanced their audit chain first. */
  get chainConflicts(): number {
    return this.#chainConflicts;
  }

  /**
   * Commits `statements` atomically (grouped with other writes), together with
   * the `audit` records of the change; resolves after the commit with the
   * results of `statements` only.
   */
  submit(
    statements: InStatement[],
    audit: readonly AuditRecord[] = NO_AUDIT,
  ): Promise<ResultSet[]> {
    return this.#enqueue(statements, audit, TRANSACTIONAL_CHAIN);
  }

  /** Appends audit records alone, in order, in one transaction (grouped with other writes). */
  async appendAudit(records: readonly AuditRecord[]): Promise<void> {
    await this.#enqueue([], records, BUFFER_CHAIN);
  }

  #enqueue(
    statements: InStatement[],
    audit: readonly AuditRecord[],
    chain: AuditChain,
  ): Promise<ResultSet[]> {
    if (statements.length === 0 && audit.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const timeoutMs = this.#timeoutMs;
      const write: PendingWrite = {
        statements,
        audit,
        chain,
        phase: "queued",
        deadline: timeoutMs === undefined ? Infinity : Date.now() + timeoutMs,
        timer: undefined,
        resolve: (results) => settle(write, () => resolve(results)),
        reject: (error) => settle(write, () => reject(error)),
      };
      if (timeoutMs !== undefined) {
        write.timer = setTimeout(() => this.#expire(write, timeoutMs), timeoutMs);
      }
      this.#pending.push(write);
      if (!this.#draining) void this.#drain();
    });
  }

  /** The deadline of `write` passed: it fails unless it is answered or may still commit. */
  #expire(write: PendingWrite, timeoutMs: number): void {
    switch (write.phase) {
      case "queued": {
        const at = this.#pending.indexOf(write);
        if (at >= 0) this.#pending.splice(at, 1);
        write.reject(storeWriteTimeout(timeoutMs, "its turn to write"));
        return;
      }
      case "waiting":
        write.reject(storeWriteTimeout(timeoutMs, "the database lock"));
        return;
      case "committing":
        write.reject(
          outcomeUnknown(`The key store did not confirm the write within ${timeoutMs} ms`),
        );
        return;
      case "settled":
        return;
    }
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#pending.length > 0) {
        // Let writes that are about to be submitted (I/O and crypto completions) join the group.
        await nextTurn();
        const group = this.#pending.splice(0, MAX_GROUP);
        for (const write of group) write.phase = "waiting";
        await this.#commitGroup(group);
      }
    } finally {
      this.#draining = false;
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  async #commitGroup(group: PendingWrite[]): Promise<void> {
    try {
      await this.#commit(group);
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(error);
        return;
      }
      // One bad write fails the group: each write again in a transaction of its own.
      for (const write of group) {
        if (write.phase === "settled") continue;
        try {
          await this.#commit([write]);
        } catch (e) {
          write.reject(e);
        }
      }
    }
  }

  /**
   * Commits the writes of `writes` not yet answered in one transaction, their
   * audit records chained after the heads this queue knows, and answers each
   * with its results. When audit_log's UNIQUE (chain, chain_seq) refused the
   * transaction (another writer appended to the chain first), it is tried
   * again after the chain's head read anew; when the database was locked, it
   * is tried again after a pause while the deadline allows; any other failure
   * is thrown (the writes unanswered), and the heads it used are read again
   * by the next transaction.
   */
  async #commit(writes: readonly PendingWrite[]): Promise<void> {
    let busy = 0;
    for (let attempt = 1;; attempt++) {
      const live = writes.filter((write) => write.phase !== "settled");
      if (live.length === 0) return;
      const heads = new Map<AuditChain, ChainHead>();
      let results: ResultSet[];
      try {
        const batch = await this.#batchOf(live, heads);
        await this.#checkLock();
        // A write answered meanwhile (its deadline passed) must not be in the transaction.
        if (live.some((write) => write.phase === "settled")) continue;
        for (const write of live) if (write.phase === "waiting") write.phase = "committing";
        results = await this.#db.batch(batch, "write");
      } catch (error) {
        for (const chain of heads.keys()) this.#heads.delete(chain);
        if (isOutcomeUnknown(error)) {
          // It may have committed: answered as such, never retried.
          for (const write of live) write.reject(error);
          return;
        }
        // A batch that failed rolled back: its writes are known not committed.
        for (const write of live) if (write.phase === "committing") write.phase = "waiting";
        this.#faults?.saw(error);
        if (attempt < MAX_CHAIN_ATTEMPTS && heads.size > 0 && isChainConflict(error)) {
          this.#chainConflicts++;
          continue;
        }
        if (!isBusy(error)) throw error;
        // Writes past their deadline fail as not committed; the others wait on.
        this.#expireDue(live);
        if (live.every((write) => write.phase === "settled")) return;
        if (this.#timeoutMs === undefined && ++busy >= MAX_BUSY_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
        continue;
      }
      for (const [chain, head] of heads) this.#heads.set(chain, head);
      this.#faults?.committed();
      const own = this.#resultsOf(live, results);
      live.forEach((write, i) => write.resolve(own[i] ?? []));
      return;
    }
  }

  /** Takes and releases the write lock without a prepared statement (see `lockCheck`). */
  async #checkLock(): Promise<void> {
    const check = this.#lockCheck;
    if (check === undefined) return;
    try {
      await this.#db.executeMultiple!(lockCheckSql(check.sliceMs));
    } catch (error) {
      if (check.sliceMs !== undefined) {
        await this.#db.executeMultiple!(restoreBusyTimeoutSql()).catch(() => {});
      }
      throw error;
    }
  }

  /** Fails the writes (known not committed) whose deadline passed while they waited for the lock. */
  #expireDue(writes: readonly PendingWrite[]): void {
    const timeoutMs = this.#timeoutMs;
    if (timeoutMs === undefined) return;
    const now = Date.now();
    for (const write of writes) {
      if (write.phase === "waiting" && write.deadline <= now) this.#expire(write, timeoutMs);
    }
  }

  /**
   * The statements of one transaction: the observer's (when a write changes
   * state), each write's statements, the chained audit INSERTs. `heads`
   * receives each chain's head after it.
   */
  async #batchOf(
    writes: readonly PendingWrite[],
    heads: Map<AuditChain, ChainHead>,
  ): Promise<InStatement[]> {
    const observed = this.#observed(writes);
    const batch: InStatement[] = [];
    if (observed !== undefined) batch.push(observed.statement);
    const audit: [AuditRecord[], AuditRecord[]] = [[], []];
    for (const write of writes) {
      for (const statement of write.statements) batch.push(statement);
      for (const record of write.audit) audit[write.chain].push(record);
    }
    for (const chain of [TRANSACTIONAL_CHAIN, BUFFER_CHAIN]) {
      if (audit[chain].length === 0) continue;
      const chained = auditStatements(chain, await this.#chainHead(chain), audit[chain]);
      for (const statement of chained.statements) batch.push(statement);
      heads.set(chain, chained.head);
    }
    return batch;
  }

  /** Each write's own results; tells the observer its statement's. */
  #resultsOf(writes: readonly PendingWrite[], results: ResultSet[]): ResultSet[][] {
    const observed = this.#observed(writes);
    let offset = 0;
    if (observed !== undefined) {
      const own = results[0];
      if (own !== undefined) observed.committed(own);
      offset = 1;
    }
    return writes.map((write) => {
      const own = results.slice(offset, offset + write.statements.length);
      offset += write.statements.length;
      return own;
    });
  }

  #observed(writes: readonly PendingWrite[]): CommitObserver | undefined {
    if (this.#observer === undefined) return undefined;
    return writes.some((write) => write.statements.length > 0) ? this.#observer : undefined;
  }

  async #chainHead(chain: AuditChain): Promise<ChainHead> {
    let head = this.#heads.get(chain);
    if (head === undefined) {
      head = await this.#loadHead(chain);
      this.#heads.set(chain, head);
    }
    return head;
  }
}

const OUTCOME_UNKNOWN = new WeakSet<object>();

/**
 * The error of a write whose transaction may or may not have committed: `detail` says why.
 * The queue answers it to each write of that transaction and never retries them.
 */
export function outcomeUnknown(detail: string): KMSInternalException {
  const error = new KMSInternalException(
    `${detail}; it may still be committed. Check the resource before retrying.`,
  );
  OUTCOME_UNKNOWN.add(error);
  return error;
}

/** Whether `error` says a transaction's outcome is unknown (made by `outcomeUnknown`). */
export function isOutcomeUnknown(error: unknown): boolean {
  return typeof error === "object" && error !== null && OUTCOME_UNKNOWN.has(error);
}

/** Whether `db` is a local connection (the native driver). */
function isLocal(db: BatchClient): boolean {
  return (db as Partial<Pick<Client, "protocol">>).protocol === "file";
}

/** Answers a write once: marks it settled, stops its deadline timer, then runs `answer`. */
function settle(write: PendingWrite, answer: () => void): void {
  if (write.phase === "settled") return;
  write.phase = "settled";
  clearTimeout(write.timer);
  answer();
}

/** The error of a write that waited past its deadline (never committed). */
function storeWriteTimeout(timeoutMs: number, what: string): DependencyTimeoutException {
  return new DependencyTimeoutException(
    `The key store did not get ${what} within ${timeoutMs} ms; nothing was changed. ` +
      "Retry the request.",
  );
}

/** Whether the database stayed locked by another connection past the busy timeout. */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_BUSY" || /SQLITE_BUSY|database is locked/.test(String(error));
}

/** Whether audit_log refused a record chained after a head that was no longer its chain's last. */
function isChainConflict(error: unknown): boolean {
  return /UNIQUE constraint failed: audit_log\.chain\b/.test(String(error));
}

/**
 * Resolves after the event loop has polled I/O once. The local driver blocks
 * the loop while it commits on this thread, so writes can only join a group
 * here (with a database worker they also join while a commit is awaited); a
 * microtask would let none join, and `setTimeout(0)` is clamped to 4 ms once
 * nested, which measured at half the throughput of `setImmediate`.
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
