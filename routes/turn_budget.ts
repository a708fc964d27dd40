/**
 * Cooperative scheduling of the request path: a bound on the synchronous work the listener
 * starts per event-loop turn, so timers and I/O run between slices of a burst.
 *
 * Why: Deno resolves every socket read that is ready in one event-loop turn, and the
 * continuations of all of them run back to back in that turn's microtask checkpoint. At
 * concurrency 16 that is 16 requests × ~280 µs of JS ≈ 4.5 ms in one go (≈ 18 ms at 64), and a
 * timer due meanwhile (a lease renewal, a flush deadline, the lag probe) waits for all of it.
 *
 * How: the listener calls `admit()` when a request has been parsed, before it reads the body
 * and hands it to the app. The first call of a turn opens a slice and schedules the macrotask
 * that ends it (`setImmediate`: measured 3.8 µs a yield, and a due timer runs before it; nested
 * `setTimeout(0)` is clamped to 4 ms after five levels, and a `MessageChannel` message let a due
 * timer wait through 20 slices). A slice admits requests at once while nobody waits, fewer than
 * its allowance were admitted, and its wall time is within the budget; the others wait, and
 * each later turn admits the waiting ones in arrival order, up to its allowance. Every turn
 * admits at least one, so none is starved; one that arrives while others wait queues behind
 * them.
 *
 * The allowance is the budget over the learned cost of a request: the app's work (Hono, SigV4,
 * the operation, the reply) runs in microtasks after the request passed the gate, so the gate
 * cannot see it happen; the end of the turn can. Each turn's wall time over the requests it
 * admitted updates a moving average (garbage collection and other work in the turn count too),
 * so the allowance follows what a turn really costs. A request's work after a real await (a
 * crypto worker, a database call) is not gated: it is bounded by what was admitted.
 * `budgetMs` 0 turns the scheduling off (`admit` never defers).
 *
 * Off by default (`KMS_TURN_BUDGET_MS=0`): on the loaded 2-core machine, 2 ms brought the lag the
 * process caused itself to p99 ≈ 5 ms at concurrency 16 and 64 but cost main-thread CPU per request
 * and, at concurrency 16, often much of the rate (README "Lag, CPU per request, memory and
 * workers"; `tests/bench/turn_budget_ab.ts` and `BENCH_TURN_AB=0,2` measure it).
 *
 * @module
 */
import { setImmediate } from "node:timers";

/** A monotonic clock in milliseconds (`performance.now`). */
export type Clock = () => number;

/** Runs `callback` in a later macrotask (`setImmediate`). */
export type YieldTurn = (callback: () => void) => void;

/** What the budget has done so far (for tests and the bench). */
export interface TurnBudgetStats {
  /** Requests admitted at once. */
  immediate: number;
  /** Requests that waited for a later turn. */
  deferred: number;
  /** Turns that admitted waiting requests. */
  resumedTurns: number;
  /** The learned wall time of a turn per request admitted in it, ms. */
  costMs: number;
  /** Time the deferred requests waited in all, ms (by `clock`). */
  waitedMs: number;
}

/** Options of `TurnBudget` beyond the budget. */
export interface TurnBudgetOptions {
  clock?: Clock;
  yieldTurn?: YieldTurn;
  /** The cost per request assumed before any turn was measured, ms (default 0.25). */
  initialCostMs?: number;
}

/** Turns whose cost per request the estimate looks back on. */
export const COST_WINDOW = 16;
/**
 * Which of the window's costs, lowest first, is a request's cost: the one at this fraction of
 * the window (the 25th percentile). Preemption only ever adds to a turn's wall time, so the low
 * end of recent turns is the cost a turn has when it runs uninterrupted; a quarter rather than
 * the minimum so that one unusually cheap turn (requests refused early) does not open the gate.
 */
const COST_PERCENTILE = 0.25;
/** Least cost per request learned (an idle turn must not open the gate wide), ms. */
const MIN_COST_MS = 0.01;

/** The per-turn budget; one per listener (so per isolate). */
export class TurnBudget {
  #budgetMs: number;
  readonly #clock: Clock;
  readonly #yieldTurn: YieldTurn;
  /** When the current turn's slice opened; undefined when no slice is open. */
  #sliceStart: number | undefined;
  /** Requests admitted in the current slice. */
  #admitted = 0;
  /** A request's cost, ms: the low percentile of `#recentCosts` (or the assumed cost). */
  #costMs: number;
  /** Wall time per admitted request of the last `COST_WINDOW` turns, ms, as a ring. */
  readonly #recentCosts: number[] = [];
  #nextCostSlot = 0;
  readonly #waiting: { resolve: () => void; since: number }[] = [];
  #waitedMs = 0;
  #immediate = 0;
  #deferred = 0;
  #resumedTurns = 0;

  constructor(budgetMs: number, options: TurnBudgetOptions = {}) {
    this.#budgetMs = budgetMs;
    this.#clock = options.clock ?? (() => performance.now());
    this.#yieldTurn = options.yieldTurn ?? ((callback) => setImmediate(callback));
    this.#costMs = options.initialCostMs ?? 0.25;
  }

  /**
   * Undefined when the caller may run now; otherwise a promise that resolves in a later turn,
   * in arrival order, when the caller's turn comes.
   */
  admit(): Promise<void> | undefined {
    if (this.#budgetMs <= 0) return undefined;
    const now = this.#clock();
    if (this.#sliceStart === undefined) this.#openSlice(now);
    if (
      this.#waiting.length === 0 && this.#admitted < this.#allowance() &&
      now - this.#sliceStart! < this.#budgetMs
    ) {
      this.#admitted++;
      this.#immediate++;
      return undefined;
    }
    this.#deferred++;
    return new Promise<void>((resolve) => this.#waiting.push({ resolve, since: now }));
  }

  /** The budget, ms (0: off). */
  get budgetMs(): number {
    return this.#budgetMs;
  }

  /**
   * Changes the budget (the bench's A/B alternates it in one process). Requests already waiting
   * are still admitted turn by turn; after a change to 0 new ones may overtake them.
   */
  set budgetMs(ms: number) {
    this.#budgetMs = ms;
  }

  /** Requests waiting for a later turn now. */
  get waiting(): number {
    return this.#waiting.length;
  }

  stats(): TurnBudgetStats {
    return {
      immediate: this.#immediate,
      deferred: this.#deferred,
      resumedTurns: this.#resumedTurns,
      costMs: this.#costMs,
      waitedMs: this.#waitedMs,
    };
  }

  /**
   * Adds a turn's wall time per admitted request to the window; the cost becomes the window's
   * low percentile (a turn that waited for a CPU, or ran a collection, counts only once it is
   * the common case).
   */
  #learnCost(perRequestMs: number): void {
    this.#recentCosts[this.#nextCostSlot] = perRequestMs;
    this.#nextCostSlot = (this.#nextCostSlot + 1) % COST_WINDOW;
    const sorted = this.#recentCosts.toSorted((a, b) => a - b);
    this.#costMs = sorted[Math.floor(sorted.length * COST_PERCENTILE)]!;
  }

  /** Requests one slice admits: as many as the learned cost fits in the budget, at least one. */
  #allowance(): number {
    return Math.max(1, Math.floor(this.#budgetMs / this.#costMs));
  }

  /** Opens a slice at `now`, and schedules the macrotask that ends it. */
  #openSlice(now: number): void {
    this.#sliceStart = now;
    this.#admitted = 0;
    this.#yieldTurn(this.#nextTurn);
  }

  /**
   * A new turn: the last slice ends (its wall time per admitted request teaches the cost: the
   * app's work runs in microtasks after the requests passed the gate, so only the turn's end
   * shows it); waiting requests get a fresh slice, as many as it allows, in arrival order.
   */
  #nextTurn = (): void => {
    const now = this.#clock();
    if (this.#admitted > 0) {
      this.#learnCost(Math.max(MIN_COST_MS, (now - this.#sliceStart!) / this.#admitted));
    }
    this.#sliceStart = undefined;
    if (this.#waiting.length === 0) return;
    this.#resumedTurns++;
    this.#openSlice(now);
    const admitted = this.#waiting.splice(0, this.#allowance());
    this.#admitted = admitted.length;
    for (const { resolve, since } of admitted) {
      this.#waitedMs += now - since;
      resolve();
    }
  };
}
