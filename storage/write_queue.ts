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
 * Each chain must have one writer: this queue for chain 0, and either this
 * queue or the audit worker (storage/audit_worker.ts) for chain 1.
 *
 * @module
 */
import type { Client, InStatement, ResultSet } from "@libsql/client";
import { setImmediate } from "node:timers";
import type { ChainHead } from "../core/audit/chain.ts";
import {
  type AuditChain,
  type AuditRecord,
  BUFFER_CHAIN,
  TRANSACTIONAL_CHAIN,
} from "../core/audit/record.ts";
import { auditStatements, loadChainHead } from "./audit_store.ts";

/** What the queue needs of a client: an atomic batch. */
export type BatchClient = Pick<Client, "batch">;

/** Loads an audit chain's head (its last record's chain seq and hash). */
export type AuditChainHead = (chain: AuditChain) => Promise<ChainHead>;

/** Options of a WriteQueue. */
export interface WriteQueueOptions {
  /** Where audit chain heads come from; by default the chain's last row in audit_log. */
  auditHead?: AuditChainHead;
}

interface PendingWrite {
  statements: InStatement[];
  audit: readonly AuditRecord[];
  chain: AuditChain;
  resolve(results: ResultSet[]): void;
  reject(error: unknown): void;
}

/** Most writes committed in one transaction. */
const MAX_GROUP = 512;

const NO_AUDIT: readonly AuditRecord[] = Object.freeze([]);

/** A group-commit writer over one client. */
export class WriteQueue {
  #db: BatchClient;
  #loadHead: AuditChainHead;
  #heads = new Map<AuditChain, ChainHead>();
  #pending: PendingWrite[] = [];
  #draining = false;

  constructor(db: BatchClient, options: WriteQueueOptions = {}) {
    this.#db = db;
    this.#loadHead = options.auditHead ?? ((chain) => loadChainHead(db, chain));
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
      this.#pending.push({ statements, audit, chain, resolve, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#pending.length > 0) {
        // Let writes that are about to be submitted (I/O and crypto completions) join the group.
        await nextTurn();
        const group = this.#pending.splice(0, MAX_GROUP);
        await this.#commitGroup(group);
      }
    } finally {
      this.#draining = false;
    }
  }

  async #commitGroup(group: PendingWrite[]): Promise<void> {
    if (group.length === 1) return await this.#commitAlone(group[0] as PendingWrite);
    const statements: InStatement[] = [];
    const audit: [AuditRecord[], AuditRecord[]] = [[], []];
    for (const write of group) {
      for (const statement of write.statements) statements.push(statement);
      for (const record of write.audit) audit[write.chain].push(record);
    }
    let results: ResultSet[];
    const heads = new Map<AuditChain, ChainHead>();
    try {
      for (const chain of [TRANSACTIONAL_CHAIN, BUFFER_CHAIN]) {
        if (audit[chain].length === 0) continue;
        const chained = auditStatements(chain, await this.#chainHead(chain), audit[chain]);
        for (const statement of chained.statements) statements.push(statement);
        heads.set(chain, chained.head);
      }
      results = await this.#db.batch(statements, "write");
    } catch {
      for (const chain of heads.keys()) this.#heads.delete(chain);
      for (const write of group) await this.#commitAlone(write);
      return;
    }
    for (const [chain, head] of heads) this.#heads.set(chain, head);
    let offset = 0;
    for (const write of group) {
      write.resolve(results.slice(offset, offset + write.statements.length));
      offset += write.statements.length;
    }
  }

  async #commitAlone(write: PendingWrite): Promise<void> {
    const hasAudit = write.audit.length > 0;
    try {
      let statements = write.statements;
      let head: ChainHead | null = null;
      if (hasAudit) {
        const chained = auditStatements(
          write.chain,
          await this.#chainHead(write.chain),
          write.audit,
        );
        statements = [...statements, ...chained.statements];
        head = chained.head;
      }
      const results = await this.#db.batch(statements, "write");
      if (head !== null) this.#heads.set(write.chain, head);
      write.resolve(hasAudit ? results.slice(0, write.statements.length) : results);
    } catch (e) {
      if (hasAudit) this.#heads.delete(write.chain);
      write.reject(e);
    }
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

/**
 * Resolves after the event loop has polled I/O once. The local driver blocks
 * the loop while it commits, so writes can only join a group here; a
 * microtask would let none join, and `setTimeout(0)` is clamped to 4 ms once
 * nested, which measured at half the throughput of `setImmediate`.
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
