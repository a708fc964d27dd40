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
 * Fails closed and never grows without bound. When the log cannot take a record
 * (`unavailable()` says why):
 * - the last write failed or has run longer than `writeTimeoutMs` (until a
 *   write succeeds), or the buffer is closed: `push` throws
 *   KMSInternalException and keeps nothing;
 * - the buffer is behind (the oldest waiting record has waited `maxLagMs`) or
 *   full (`capacity` records wait), which heavy CPU contention causes while
 *   the writer is still sound: backpressure. `push` holds the record outside
 *   the buffer and returns a promise that settles once the record is taken
 *   (batched: at once; strict: at its commit), in push order, as writes make
 *   room; after `admissionWaitMs` without room, or when `maxHeldPushes` are
 *   already held, it refuses with DependencyTimeoutException (AWS's retryable
 *   "timed out while trying to fulfill the request", HTTP 503: a dependency,
 *   the log, is slow, not broken) and keeps nothing. So the request is
 *   delayed, not failed, and the offered load slows to what the writer
 *   sustains; memory stays bounded by `capacity` records plus `maxHeldPushes`
 *   held ones, and no record waits in the buffer longer than `maxLagMs` before
 *   it is taken.
 * A strict push whose write fails or times out rejects with
 * KMSInternalException. Records once accepted are never dropped: a failed
 * write keeps them in front, in order, and is retried after a growing delay
 * (each failure goes to `onError`), so the buffer recovers by itself when the
 * sink does.
 *
 * @module
 */
import { DependencyTimeoutException, KMSInternalException } from "../errors.ts";
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
  /** Batched: a write starts as soon as this many records wait. Default 512. */
  flushRows?: number;
  /**
   * Batched: longest a record waits for a write to start, in ms. Default 100: each write costs
   * the audit worker ~1 ms of CPU besides its records (a transaction of three statements and its
   * fsync), so fewer, larger writes leave more CPU to requests.
   */
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
  /**
   * Longest a push is held while the buffer is behind or full before it is refused, in ms; 0
   * refuses at once. Default 3000.
   */
  admissionWaitMs?: number;
  /** Pushes held at once (beyond them a push is refused at once). Default 1024. */
  maxHeldPushes?: number;
  /** Timers of the admission deadlines. Default `setTimeout` / `clearTimeout`. */
  timers?: AdmissionTimers;
  /** Told about every failed or timed-out write (the records are kept and retried). */
  onError?: (error: unknown, waiting: number) => void;
  /** Milliseconds of a monotonic clock (lag). Default `performance.now`. */
  now?: () => number;
}

/** Sets and clears the timers of admission deadlines (injectable for tests). */
export interface AdmissionTimers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const REAL_TIMERS: AdmissionTimers = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

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
  /** Pushes held until the buffer has room (backpressure). */
  held: number;
}

/** A push held until the buffer has room. */
interface HeldPush {
  record: AuditRecord;
  /** `#now()` after which it is refused. */
  deadline: number;
  timer: unknown;
  resolve(taken: void | Promise<void>): void;
  reject(error: unknown): void;
}

/** Why the buffer cannot take a record now: gone or broken (`hard`), or only slow. */
interface Refusal {
  reason: string;
  hard: boolean;
}

interface CommitWaiter {
  /** Resolved once this many records (counted since creation) are written. */
  target: number;
  resolve(): void;
  reject(error: unknown): void;
}

/** The message a call refused or failed by the audit log answers with. */
const UNRECORDED = "The request could not be recorded in the audit log. Retry the request.";

/** The message of a push refused after waiting for room (backpressure). */
const AUDIT_BEHIND = "The audit log could not record the request in time. Retry the request.";

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
  readonly #admissionWaitMs: number;
  readonly #maxHeldPushes: number;
  readonly #timers: AdmissionTimers;
  /** Pushes waiting for room, oldest first. */
  #held: HeldPush[] = [];

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
    this.#flushRows = positive(options.flushRows ?? 512, "flushRows");
    this.#flushIntervalMs = positive(options.flushIntervalMs ?? 100, "flushIntervalMs");
    this.#maxRowsPerWrite = positive(options.maxRowsPerWrite ?? 1024, "maxRowsPerWrite");
    this.#writeTimeoutMs = positive(options.writeTimeoutMs ?? 2000, "writeTimeoutMs");
    this.#maxLagMs = positive(options.maxLagMs ?? 2000, "maxLagMs");
    this.#retryDelayMs = positive(options.retryDelayMs ?? 50, "retryDelayMs");
    this.#maxRetryDelayMs = positive(options.maxRetryDelayMs ?? 1000, "maxRetryDelayMs");
    this.#closeAttempts = positive(options.closeAttempts ?? 5, "closeAttempts");
    this.#onError = options.onError ?? (() => {});
    this.#now = options.now ?? (() => performance.now());
    this.#admissionWaitMs = nonNegative(options.admissionWaitMs ?? 3000, "admissionWaitMs");
    this.#maxHeldPushes = nonNegative(options.maxHeldPushes ?? 1024, "maxHeldPushes");
    this.#timers = options.timers ?? REAL_TIMERS;
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

  /** Why `push` would not take a record now (it may hold it: see the module doc), or null. */
  unavailable(): string | null {
    return this.#refusal()?.reason ?? null;
  }

  /** Why the buffer cannot take a record at `now` (`#now()`), or null. */
  #refusal(now = this.#now()): Refusal | null {
    if (this.#closed) return { reason: "audit log closed", hard: true };
    if (this.#failing) {
      return {
        reason: `audit log writes failing (${this.#waiting.length} records waiting for a retry)`,
        hard: true,
      };
    }
    if (this.#waiting.length >= this.#capacity) {
      return {
        reason: `audit buffer full (${this.#waiting.length} of ${this.#capacity} records)`,
        hard: false,
      };
    }
    const oldest = this.#pushedAt[0];
    const lag = oldest === undefined ? 0 : Math.max(0, now - oldest);
    if (lag >= this.#maxLagMs) {
      return {
        reason: `audit log behind (oldest record waiting ${
          Math.round(lag)
        } ms, bound ${this.#maxLagMs} ms)`,
        hard: false,
      };
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
      held: this.#held.length,
    };
  }

  /**
   * Accepts a record. Batched: returns nothing. Strict: returns a promise that
   * resolves once the record is committed, and rejects with KMSInternalException
   * when its write fails or overruns `writeTimeoutMs` (the record is kept and retried).
   * While the buffer is behind or full, returns a promise that settles once the
   * record is taken (and, strict, committed), or rejects with
   * DependencyTimeoutException after `admissionWaitMs` (the record is not kept).
   * @throws {KMSInternalException} when the log is closed or its writes fail; the record is not
   *   kept.
   * @throws {DependencyTimeoutException} when the buffer is behind or full and no push may be
   *   held (`admissionWaitMs` 0, or `maxHeldPushes` held); the record is not kept.
   */
  push(record: AuditRecord): void | Promise<void> {
    if (this.#held.length > 0) this.#admitHeld();
    // One clock read per push: the lag check and the record's push time share it.
    const now = this.#now();
    const refusal = this.#refusal(now);
    if (refusal === null && this.#held.length === 0) return this.#accept(record, now);
    if (refusal?.hard === true) {
      throw new KMSInternalException(UNRECORDED, { cause: new Error(refusal.reason) });
    }
    // Room now but earlier pushes held: this one waits behind them (push order is kept).
    const reason = refusal?.reason ?? "earlier records waiting for room in the audit buffer";
    if (this.#admissionWaitMs === 0 || this.#held.length >= this.#maxHeldPushes) {
      throw new DependencyTimeoutException(AUDIT_BEHIND, { cause: new Error(reason) });
    }
    return this.#hold(record);
  }

  /** Holds a push until there is room or its deadline passes. */
  #hold(record: AuditRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const held: HeldPush = {
        record,
        deadline: this.#now() + this.#admissionWaitMs,
        timer: undefined,
        resolve,
        reject,
      };
      held.timer = this.#timers.set(() => this.#expire(held), this.#admissionWaitMs);
      this.#held.push(held);
    });
  }

  /** Refuses a held push whose deadline passed. */
  #expire(held: HeldPush): void {
    const index = this.#held.indexOf(held);
    if (index < 0) return;
    this.#held.splice(index, 1);
    this.#timers.clear(held.timer);
    held.reject(
      new DependencyTimeoutException(AUDIT_BEHIND, {
        cause: new Error(this.unavailable() ?? "no room in the audit buffer in time"),
      }),
    );
    // Pushes behind it may fit now.
    this.#admitHeld();
  }

  /** Takes held pushes, oldest first, while there is room; refuses them all when the log broke. */
  #admitHeld(): void {
    while (this.#held.length > 0) {
      const refusal = this.#refusal();
      if (refusal?.hard === true) {
        this.#refuseHeld(
          new KMSInternalException(UNRECORDED, { cause: new Error(refusal.reason) }),
        );
        return;
      }
      const held = this.#held[0]!;
      if (refusal !== null) {
        if (this.#now() < held.deadline) return;
        this.#expire(held);
        return;
      }
      this.#held.shift();
      this.#timers.clear(held.timer);
      try {
        held.resolve(this.#accept(held.record));
      } catch (error) {
        held.reject(error);
      }
    }
  }

  #refuseHeld(error: unknown): void {
    const held = this.#held;
    this.#held = [];
    for (const push of held) {
      this.#timers.clear(push.timer);
      push.reject(error);
    }
  }

  /** Takes a record into the buffer (there is room), pushed at `now`. */
  #accept(record: AuditRecord, now = this.#now()): void | Promise<void> {
    this.#waiting.push(record);
    this.#pushedAt.push(now);
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
    this.#refuseHeld(
      new KMSInternalException(UNRECORDED, { cause: new Error("audit log closed") }),
    );
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
        this.#admitHeld();
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
    this.#refuseHeld(new KMSInternalException(UNRECORDED, { cause: error }));
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

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must not be negative`);
  return value;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
