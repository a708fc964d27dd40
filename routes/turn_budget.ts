/**
 * Cooperative scheduling of the request path: a bound on the synchronous work the listener
 * starts per event-loop turn, so timers and I/O run between slices of a burst.
 *
 * Why: Deno resolves every socket read that is ready in one event-loop turn, and the
 * continuations of all of them run back to back in that turn's microtask checkpoint. At
 * concurrency 16 that is 16 requests × ~280 µs of JS ≈ 4.5 ms in one go (≈ 18 ms at 64), and a
 * timer due meanwhile (a lease renewal, a flush deadline, the lag probe) waits for all of it.
 *
 * How: the listener calls `admit()` just before it hands a request to the app. The first call of
 * a turn opens a slice; a request admitted while the slice's budget is not spent (and nobody is
 * waiting) runs at once, synchronously. Past the budget, the request waits: the slice ends, a
 * macrotask is scheduled (`setImmediate`: measured 3.8 µs a yield and a due timer runs before
 * it; nested `setTimeout(0)` is clamped to 4 ms after five levels, and a `MessageChannel`
 * message let a due timer wait through 20 slices), and the next turn admits the waiting requests
 * in arrival order, one at a time, until its own budget is spent. Every turn admits at least one
 * waiting request, so none is starved; one that arrives while others wait queues behind them.
 *
 * The budget counts wall time since the slice opened (`clock`), so garbage collection and the
 * continuations of requests admitted earlier in the turn count too. A request's work after its
 * first real await (a crypto worker, a database call) is not gated: it is bounded by what was
 * admitted. `budgetMs` 0 turns the scheduling off (`admit` never defers).
 *
 * @module
 */
import { setImmediate } from "node:timers";

/** A monotonic clock in milliseconds (`performance.now`). */
export type Clock = () => number;

/** Runs `callback` in a later macrotask (`setImmediate`). */
export type YieldTurn = (callback: () => void) => void;

/** How often the budget deferred requests (for tests and the bench). */
export interface TurnBudgetStats {
  /** Requests admitted at once. */
  immediate: number;
  /** Requests that waited for a later turn. */
  deferred: number;
  /** Turns that admitted waiting requests. */
  resumedTurns: number;
}

/** The per-turn budget; one per listener (so per isolate). */
export class TurnBudget {
  readonly #budgetMs: number;
  readonly #clock: Clock;
  readonly #yieldTurn: YieldTurn;
  /** When the current turn's slice opened; undefined when no slice is open. */
  #sliceStart: number | undefined;
  #yieldPending = false;
  readonly #waiting: (() => void)[] = [];
  readonly #stats: TurnBudgetStats = { immediate: 0, deferred: 0, resumedTurns: 0 };

  constructor(
    budgetMs: number,
    clock: Clock = () => performance.now(),
    yieldTurn: YieldTurn = (callback) => setImmediate(callback),
  ) {
    this.#budgetMs = budgetMs;
    this.#clock = clock;
    this.#yieldTurn = yieldTurn;
  }

  /**
   * Undefined when the caller may run now; otherwise a promise that resolves in a later turn,
   * in arrival order, when the caller's turn comes.
   */
  admit(): Promise<void> | undefined {
    if (this.#budgetMs <= 0) return undefined;
    const now = this.#clock();
    if (this.#sliceStart === undefined) this.#openSlice(now);
    if (this.#waiting.length === 0 && now - this.#sliceStart! < this.#budgetMs) {
      this.#stats.immediate++;
      return undefined;
    }
    this.#stats.deferred++;
    return new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  /** Requests waiting for a later turn now. */
  get waiting(): number {
    return this.#waiting.length;
  }

  stats(): TurnBudgetStats {
    return { ...this.#stats };
  }

  /** Opens a slice at `now`, and schedules the macrotask that ends it. */
  #openSlice(now: number): void {
    this.#sliceStart = now;
    if (this.#yieldPending) return;
    this.#yieldPending = true;
    this.#yieldTurn(this.#nextTurn);
  }

  /** A new turn: the slice ends; waiting requests get a fresh one. */
  #nextTurn = (): void => {
    this.#yieldPending = false;
    this.#sliceStart = undefined;
    if (this.#waiting.length === 0) return;
    this.#stats.resumedTurns++;
    this.#openSlice(this.#clock());
    this.#admitWaiting(true);
  };

  /**
   * Admits the first waiting request, then (after its continuation ran: a microtask queued
   * behind it) the next, while the slice's budget lasts; the first of a turn always.
   */
  #admitWaiting = (first = false): void => {
    const next = this.#waiting[0];
    if (next === undefined || this.#sliceStart === undefined) return;
    if (!first && this.#clock() - this.#sliceStart >= this.#budgetMs) return;
    this.#waiting.shift();
    next();
    queueMicrotask(() => this.#admitWaiting());
  };
}
