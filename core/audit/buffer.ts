/**
 * AuditBuffer: the records of requests that change nothing (Encrypt, Decrypt,
 * GenerateDataKey*, Sign, Verify, Describe*, List*, denied and failed calls)
 * are pushed here and written in groups, one write per `flushRows` records or
 * every `flushIntervalMs`, so a request never waits for a commit.
 *
 * Bounded, never lossy: `push` accepts every record; once more than
 * `capacity` are waiting it returns a promise that resolves when a write has
 * brought the count back to the bound, and the caller awaits it
 * (backpressure). A failed write keeps its records in front, in order, and is
 * retried after a growing delay; each failure goes to `onError`.
 *
 * @module
 */
import type { AuditSink } from "./ports.ts";
import type { AuditRecord } from "./record.ts";

/** Tuning of an AuditBuffer. */
export interface AuditBufferOptions {
  /** Records waiting beyond which `push` applies backpressure. Default 8192. */
  capacity?: number;
  /** A write starts as soon as this many records wait. Default 256. */
  flushRows?: number;
  /** Longest a record waits for a write to start, in ms. Default 25. */
  flushIntervalMs?: number;
  /** Most records in one write. Default 1024. */
  maxRowsPerWrite?: number;
  /** First retry delay after a failed write, doubled up to `maxRetryDelayMs`. Default 50. */
  retryDelayMs?: number;
  /** Default 2000. */
  maxRetryDelayMs?: number;
  /** Failed attempts `close()` makes before it gives up. Default 5. */
  closeAttempts?: number;
  /** Told about every failed write (the records are kept and retried). */
  onError?: (error: unknown, waiting: number) => void;
}

interface FlushWaiter {
  /** Resolved once this many records (counted since creation) are written. */
  target: number;
  resolve(): void;
  reject(error: unknown): void;
}

/** The bounded group-commit buffer in front of an AuditSink. */
export class AuditBuffer {
  readonly #sink: AuditSink;
  readonly #capacity: number;
  readonly #flushRows: number;
  readonly #flushIntervalMs: number;
  readonly #maxRowsPerWrite: number;
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #closeAttempts: number;
  readonly #onError: (error: unknown, waiting: number) => void;

  /** Records not yet written, oldest first (the one in flight included until it commits). */
  #waiting: AuditRecord[] = [];
  /** How many of `#waiting` (from the front) the write in flight holds. */
  #inFlight = 0;
  #pushed = 0;
  #written = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #writing = false;
  #urgent = false;
  #failures = 0;
  #closed = false;
  /** Set when close() stopped retrying: nothing is written any more. */
  #gaveUp = false;
  #spaceWaiters: (() => void)[] = [];
  #flushWaiters: FlushWaiter[] = [];
  #idle: Promise<void> = Promise.resolve();
  #lastError: unknown = undefined;

  constructor(sink: AuditSink, options: AuditBufferOptions = {}) {
    this.#sink = sink;
    this.#capacity = positive(options.capacity ?? 8192, "capacity");
    this.#flushRows = positive(options.flushRows ?? 256, "flushRows");
    this.#flushIntervalMs = positive(options.flushIntervalMs ?? 25, "flushIntervalMs");
    this.#maxRowsPerWrite = positive(options.maxRowsPerWrite ?? 1024, "maxRowsPerWrite");
    this.#retryDelayMs = positive(options.retryDelayMs ?? 50, "retryDelayMs");
    this.#maxRetryDelayMs = positive(options.maxRetryDelayMs ?? 2000, "maxRetryDelayMs");
    this.#closeAttempts = positive(options.closeAttempts ?? 5, "closeAttempts");
    this.#onError = options.onError ?? (() => {});
  }

  /** Records waiting beyond which `push` applies backpressure (read by routes/readiness.ts). */
  get capacity(): number {
    return this.#capacity;
  }

  /** Records pushed and not yet written. */
  get size(): number {
    return this.#waiting.length;
  }

  /**
   * Accepts a record. Returns nothing while the buffer is under its bound;
   * beyond it, a promise to await before going on (the record is accepted either way).
   * @throws {Error} after `close()`.
   */
  push(record: AuditRecord): void | Promise<void> {
    if (this.#closed) throw new Error("audit buffer is closed");
    this.#waiting.push(record);
    this.#pushed++;
    if (this.#waiting.length - this.#inFlight >= this.#flushRows) this.#urgent = true;
    this.#schedule();
    if (this.#waiting.length <= this.#capacity) return;
    return new Promise((resolve) => this.#spaceWaiters.push(resolve));
  }

  /**
   * Writes everything pushed before the call; resolves once it is committed.
   * Rejects with the error of a failed write (the records stay and are retried).
   */
  flush(): Promise<void> {
    if (this.#written >= this.#pushed) return Promise.resolve();
    const promise = new Promise<void>((resolve, reject) => {
      this.#flushWaiters.push({ target: this.#pushed, resolve, reject });
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
          await this.#sink.appendAudit(batch);
        } catch (error) {
          this.#inFlight = 0;
          this.#lastError = error;
          this.#failures++;
          this.#failFlushWaiters(error);
          try {
            this.#onError(error, this.#waiting.length);
          } catch {
            // A failing error callback must not stop the retries.
          }
          if (this.#closed && this.#failures >= this.#closeAttempts) {
            this.#gaveUp = true;
            return;
          }
          await delay(this.#retryDelay());
          this.#urgent = true;
          continue;
        }
        this.#failures = 0;
        this.#waiting.splice(0, batch.length);
        this.#inFlight = 0;
        this.#written += batch.length;
        this.#settle();
        const pending = this.#waiting.length;
        if (pending >= this.#flushRows || this.#closed || this.#flushWaiters.length > 0) {
          this.#urgent = pending > 0;
        }
      }
    } finally {
      this.#writing = false;
    }
    // Records pushed during the last write wait for the timer (or the next urgent push).
    this.#schedule();
  }

  #settle(): void {
    if (this.#waiting.length <= this.#capacity && this.#spaceWaiters.length > 0) {
      const waiters = this.#spaceWaiters;
      this.#spaceWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (this.#flushWaiters.length > 0) {
      const remaining: FlushWaiter[] = [];
      for (const waiter of this.#flushWaiters) {
        if (this.#written >= waiter.target) waiter.resolve();
        else remaining.push(waiter);
      }
      this.#flushWaiters = remaining;
    }
  }

  #failFlushWaiters(error: unknown): void {
    const waiters = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }

  #retryDelay(): number {
    const exponent = Math.min(this.#failures - 1, 20);
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
