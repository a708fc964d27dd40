/**
 * AuditBuffer: the records of requests that change nothing (Encrypt, Decrypt,
 * GenerateDataKey*, Sign, Verify, Describe*, List*, denied and failed calls)
 * are pushed here and committed in groups, one write at a time, in push order.
 *
 * Two modes (`KMS_AUDIT_MODE`, README "Audit log"):
 * - `strict`: `push` returns a promise that resolves once the record is
 *   committed, so a reply is sent only after its record is durable. A write
 *   starts as soon as none is in flight and takes every record waiting (up to
 *   `maxRowsPerWrite`): concurrent requests share one commit (group commit).
 * - `batched`: `push` returns at once; a write starts once `flushRows`
 *   records wait or the oldest has waited `flushIntervalMs`. A crash loses
 *   the records not yet committed.
 *
 * Fails closed, never waits and never grows without bound: `push` throws
 * KMSInternalException and keeps nothing when the log cannot take the record
 * (`unavailable()` says why): the last write failed or has run longer than
 * `writeTimeoutMs` (until a write succeeds), `capacity` records wait, or the
 * oldest waiting record has waited `maxLagMs`. A strict push whose write
 * fails or times out rejects with KMSInternalException too. Records once
 * accepted are never dropped: a failed write keeps them in front, in order,
 * and is retried after a growing delay (each failure goes to `onError`), so
 * the buffer recovers by itself when the sink does.
 *
 * @module
 */
import { KMSInternalException } from "../errors.ts";
import type { AuditSink } from "./ports.ts";
import type { AuditRecord } from "./record.ts";

/** Whether a data-plane reply waits for its audit record's commit (`strict`) or not (`batched`). */
export type AuditMode = "strict" | "batched";

/** The audit modes, for parsing `KMS_AUDIT_MODE`. */
export const AUDIT_MODES: readonly AuditMode[] = ["strict", "batched"];

/** Tuning of an AuditBuffer. */
export interface AuditBufferOptions {
  /** Default `batched`. */
  mode?: AuditMode;
  /** Records waiting at which `push` refuses more. Default 8192. */
  capacity?: number;
  /** Batched: a write starts as soon as this many records wait. Default 256. */
  flushRows?: number;
  /** Batched: longest a record waits for a write to start, in ms. Default 25. */
  flushIntervalMs?: number;
  /** Most records in one write. Default 1024. */
  maxRowsPerWrite?: number;
  /** A write running longer counts as failed for `push` (it is still awaited). Default 2000. */
  writeTimeoutMs?: number;
  /** Age of the oldest waiting record at which `push` refuses more, in ms. Default 2000. */
  maxLagMs?: number;
  /** First retry delay after a failed write, doubled up to `maxRetryDelayMs`. Default 50. */
  retryDelayMs?: number;
  /** Default 1000. */
  maxRetryDelayMs?: number;
  /** Failed attempts `close()` makes before it gives up. Default 5. */
  closeAttempts?: number;
  /** Told about every failed or timed-out write (the records are kept and retried). */
  onError?: (error: unknown, waiting: number) => void;
  /** Milliseconds of a monotonic clock (lag). Default `performance.now`. */
  now?: () => number;
}

/** What a readiness check reads (`GET /ready`). */
export interface AuditBufferStatus {
  mode: AuditMode;
  /** Records accepted and not yet committed. */
  size: number;
  /** `size` at which `push` refuses. */
  capacity: number;
  /** Age of the oldest record not yet committed, ms (0 when none waits). */
  lagMs: number;
  /** `lagMs` at which `push` refuses. */
  maxLagMs: number;
  /** Whether the last write failed or timed out (cleared by the next write that succeeds). */
  failing: boolean;
  /** Why `push` refuses records now, or null when it takes them. */
  unavailable: string | null;
}

interface CommitWaiter {
  /** Resolved once this many records (counted since creation) are written. */
  target: number;
  resolve(): void;
  reject(error: unknown): void;
}

/** The message a call refused or failed by the audit log answers with. */
const UNRECORDED = "The request could not be recorded in the audit log. Retry the request.";

/** The bounded group-commit buffer in front of an AuditSink. */
export class AuditBuffer {
  readonly #sink: AuditSink;
  readonly #mode: AuditMode;
  readonly #capacity: number;
  readonly #flushRows: number;
  readonly #flushIntervalMs: number;
  readonly #maxRowsPerWrite: number;
  readonly #writeTimeoutMs: number;
  readonly #maxLagMs: number;
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #closeAttempts: number;
  readonly #onError: (error: unknown, waiting: number) => void;
  readonly #now: () => number;

  /** Records not yet written, oldest first (the one in flight included until it commits). */
  #waiting: AuditRecord[] = [];
  /** When each of `#waiting` was pushed (`#now()`). */
  #pushedAt: number[] = [];
  /** How many of `#waiting` (from the front) the write in flight holds. */
  #inFlight = 0;
  #pushed = 0;
  #written = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #writing = false;
  #urgent = false;
  #failures = 0;
  /** The last write failed or overran `writeTimeoutMs`; cleared by a write that succeeds. */
  #failing = false;
  #closed = false;
  /** Set when close() stopped retrying: nothing is written any more. */
  #gaveUp = false;
  /** `flush()` callers and strict pushes, each waiting for its records' commit. */
  #commitWaiters: CommitWaiter[] = [];
  #idle: Promise<void> = Promise.resolve();
  #lastError: unknown = undefined;

  constructor(sink: AuditSink, options: AuditBufferOptions = {}) {
    this.#sink = sink;
    this.#mode = options.mode ?? "batched";
    if (!AUDIT_MODES.includes(this.#mode)) throw new RangeError(`unknown audit mode ${this.#mode}`);
    this.#capacity = positive(options.capacity ?? 8192, "capacity");
    this.#flushRows = positive(options.flushRows ?? 256, "flushRows");
    this.#flushIntervalMs = positive(options.flushIntervalMs ?? 25, "flushIntervalMs");
    this.#maxRowsPerWrite = positive(options.maxRowsPerWrite ?? 1024, "maxRowsPerWrite");
    this.#writeTimeoutMs = positive(options.writeTimeoutMs ?? 2000, "writeTimeoutMs");
    this.#maxLagMs = positive(options.maxLagMs ?? 2000, "maxLagMs");
    this.#retryDelayMs = positive(options.retryDelayMs ?? 50, "retryDelayMs");
    this.#maxRetryDelayMs = positive(options.maxRetryDelayMs ?? 1000, "maxRetryDelayMs");
    this.#closeAttempts = positive(options.closeAttempts ?? 5, "closeAttempts");
    this.#onError = options.onError ?? (() => {});
    this.#now = options.now ?? (() => performance.now());
  }

  get mode(): AuditMode {
    return this.#mode;
  }

  /** Records pushed and not yet written. */
  get size(): number {
    return this.#waiting.length;
  }

  /** `size` at which `push` refuses records. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Whether the last write failed or overran its timeout (until a write succeeds). */
  get failing(): boolean {
    return this.#failing;
  }

  /** Age in ms of the oldest record not yet written; 0 when none waits. */
  get lagMs(): number {
    const oldest = this.#pushedAt[0];
    return oldest === undefined ? 0 : Math.max(0, this.#now() - oldest);
  }

  /** Why `push` would refuse a record now, or null when it takes it. */
  unavailable(): string | null {
    if (this.#closed) return "audit log closed";
    if (this.#failing) {
      return `audit log writes failing (${this.#waiting.length} records waiting for a retry)`;
    }
    if (this.#waiting.length >= this.#capacity) {
      return `audit buffer full (${this.#waiting.length} of ${this.#capacity} records)`;
    }
    const lag = this.lagMs;
    if (lag >= this.#maxLagMs) {
      return `audit log behind (oldest record waiting ${
        Math.round(lag)
      } ms, bound ${this.#maxLagMs} ms)`;
    }
    return null;
  }

  /** Everything a readiness check needs, in one object. */
  status(): AuditBufferStatus {
    return {
      mode: this.#mode,
      size: this.#waiting.length,
      capacity: this.#capacity,
      lagMs: this.lagMs,
      maxLagMs: this.#maxLagMs,
      failing: this.#failing,
      unavailable: this.unavailable(),
    };
  }

  /**
   * Accepts a record. Batched: returns nothing. Strict: returns a promise that
   * resolves once the record is committed, and rejects with KMSInternalException
   * when its write fails or overruns `writeTimeoutMs` (the record is kept and retried).
   * @throws {KMSInternalException} when the log cannot take the record (`unavailable()`);
   *   the record is not kept.
   */
  push(record: AuditRecord): void | Promise<void> {
    const refusal = this.unavailable();
    if (refusal !== null) {
      throw new KMSInternalException(UNRECORDED, { cause: new Error(refusal) });
    }
    this.#waiting.push(record);
    this.#pushedAt.push(this.#now());
    this.#pushed++;
    if (this.#mode === "strict") {
      const committed = new Promise<void>((resolve, reject) => {
        this.#commitWaiters.push({
          target: this.#pushed,
          resolve,
          reject: (error) => reject(new KMSInternalException(UNRECORDED, { cause: error })),
        });
      });
      this.#urgent = true;
      this.#schedule();
      return committed;
    }
    if (this.#waiting.length - this.#inFlight >= this.#flushRows) this.#urgent = true;
    this.#schedule();
  }

  /**
   * Writes everything pushed before the call; resolves once it is committed.
   * Rejects with the error of a failed write (the records stay and are retried).
   */
  flush(): Promise<void> {
    if (this.#written >= this.#pushed) return Promise.resolve();
    const promise = new Promise<void>((resolve, reject) => {
      this.#commitWaiters.push({ target: this.#pushed, resolve, reject });
    });
    this.#urgent = true;
    this.#schedule();
    return promise;
  }

  /**
   * Stops accepting records and writes every waiting one. Rejects when the
   * sink keeps failing (`closeAttempts` times in a row); the records not
   * written are then still counted by `size`.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#failures = 0;
    this.#urgent = true;
    this.#schedule();
    await this.#idle;
    while (this.#waiting.length > 0) {
      if (this.#gaveUp) {
        throw new Error(`audit buffer closed with ${this.#waiting.length} records unwritten`, {
          cause: this.#lastError,
        });
      }
      this.#urgent = true;
      this.#schedule();
      await this.#idle;
    }
  }

  /** Starts a write now when one is due, else arms the timer. */
  #schedule(): void {
    if (this.#writing || this.#gaveUp) return;
    const pending = this.#waiting.length - this.#inFlight;
    if (pending === 0) return;
    if (this.#urgent) {
      this.#clearTimer();
      this.#idle = this.#drain();
      return;
    }
    if (this.#timer === null) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#urgent = true;
        this.#schedule();
      }, this.#flushIntervalMs);
    }
  }

  /** Writes while writes are due; one write at a time, in push order. */
  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#urgent && this.#waiting.length > 0) {
        this.#urgent = false;
        const batch = this.#waiting.slice(0, this.#maxRowsPerWrite);
        this.#inFlight = batch.length;
        try {
          await this.#write(batch);
        } catch (error) {
          this.#inFlight = 0;
          this.#failures++;
          this.#markFailing(error);
          if (this.#closed && this.#failures >= this.#closeAttempts) {
            this.#gaveUp = true;
            return;
          }
          await delay(this.#retryDelay());
          this.#urgent = true;
          continue;
        }
        this.#failures = 0;
        this.#failing = false;
        this.#waiting.splice(0, batch.length);
        this.#pushedAt.splice(0, batch.length);
        this.#inFlight = 0;
        this.#written += batch.length;
        this.#settle();
        const pending = this.#waiting.length;
        if (pending >= this.#flushRows || this.#closed || this.#commitWaiters.length > 0) {
          this.#urgent = pending > 0;
        }
      }
    } finally {
      this.#writing = false;
    }
    // Records pushed during the last write wait for the timer (or the next urgent push).
    this.#schedule();
  }

  /**
   * One sink write. Past `writeTimeoutMs` the buffer counts as failing and
   * its waiters are rejected, but the write is still awaited: the next one
   * must not overtake it.
   */
  async #write(batch: AuditRecord[]): Promise<void> {
    const overrun = setTimeout(() => {
      this.#markFailing(new Error(`audit write still running after ${this.#writeTimeoutMs} ms`));
    }, this.#writeTimeoutMs);
    try {
      await this.#sink.appendAudit(batch);
    } finally {
      clearTimeout(overrun);
    }
  }

  /** A write failed or overran: refuse records until one succeeds, reject the waiters, report. */
  #markFailing(error: unknown): void {
    this.#failing = true;
    this.#lastError = error;
    const waiters = this.#commitWaiters;
    this.#commitWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
    try {
      this.#onError(error, this.#waiting.length);
    } catch {
      // A failing error callback must not stop the retries.
    }
  }

  #settle(): void {
    if (this.#commitWaiters.length === 0) return;
    const remaining: CommitWaiter[] = [];
    for (const waiter of this.#commitWaiters) {
      if (this.#written >= waiter.target) waiter.resolve();
      else remaining.push(waiter);
    }
    this.#commitWaiters = remaining;
  }

  #retryDelay(): number {
    const exponent = Math.min(Math.max(this.#failures - 1, 0), 20);
    return Math.min(this.#retryDelayMs * 2 ** exponent, this.#maxRetryDelayMs);
  }

  #clearTimer(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be positive`);
  return value;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
