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
 * cannot see it happen; the end of the turn can. A turn's cost per request is its own time (wall
 * time less the time the thread waited for a CPU) over the requests it admitted, and a request's
 * cost is the median of the last 16 turns' (garbage collection and other work in a turn count,
 * one odd turn does not). The wait is Linux's run-queue delay of the thread
 * (/proc/thread-self/schedstat, read once a turn; Deno 2.9 opens it only with `--allow-all`),
 * else the time the whole process ran on no CPU (wall time less `process.cpuUsage`, which other
 * threads' work makes an under-count). Wall time alone made the budget collapse on a loaded
 * machine: a turn that waited 10 ms for a CPU taught a cost of ~1 ms a request, the allowance fell
 * to one request a turn, and per-turn overhead took the rate (Encrypt 4 KiB 141 against 549 req/s
 * beside two CPU hogs). Within a turn, a slice whose wall time passed the budget reads the wait
 * too, so a slice preempted midway still admits up to its allowance.
 *
 * When the thread waits for a CPU more than half of its slices' wall time (a moving average; it
 * gates again below a quarter), the budget stands aside and admits every request at once: the
 * lag is then the machine's (raw lag p99 60-100 ms beside two CPU hogs, with or without a
 * budget), no budget can bring it near 5 ms, and holding requests back only adds a turn's wall
 * time, tens of ms there, to their latency. A request's work after a real await (a crypto
 * worker, a database call) is not gated: it is bounded by what was admitted. `budgetMs` 0 turns
 * the scheduling off (`admit` never defers).
 *
 * Off by default (`KMS_TURN_BUDGET_MS=0`): it no longer collapses beside CPU hogs (Encrypt and
 * Decrypt 4 KiB -9% to -29% there, main-thread CPU per request unchanged, against -58% to -77% and
 * up to ×2.8 CPU with the wall-clock estimate), but at moderate load it still cost 7-36% of the
 * rate, and whether it stays within ~5% on a quiet machine, as the wall-clock estimate did (-4% /
 * -8%), is yet to be measured: the condition for turning it on (README "Lag, CPU per request,
 * memory and workers"; `TURN_AB_HOGS=0,2 … tests/bench/turn_budget_ab.ts` measures it).
 *
 * @module
 */
import process from "node:process";
import { setImmediate } from "node:timers";

/** A monotonic clock in milliseconds (`performance.now`). */
export type Clock = () => number;

/** Runs `callback` in a later macrotask (`setImmediate`). */
export type YieldTurn = (callback: () => void) => void;

/**
 * How long this thread has waited for a CPU so far, ms: time it was ready to run while another
 * thread or process ran. `close` releases what it reads from.
 */
export interface CpuWaitClock {
  now(): number;
  close(): void;
}

/** What the budget has done so far (for tests and the bench). */
export interface TurnBudgetStats {
  /** Requests admitted at once. */
  immediate: number;
  /** Requests that waited for a later turn. */
  deferred: number;
  /** Turns that admitted waiting requests. */
  resumedTurns: number;
  /** The learned time of a turn per request admitted in it, ms. */
  costMs: number;
  /** Time the deferred requests waited in all, ms (by `clock`). */
  waitedMs: number;
  /** Time the thread waited for a CPU during slices, ms, left out of what they cost. */
  cpuWaitMs: number;
  /** Turns that ended while the thread was starved for a CPU (the budget stood aside). */
  starvedTurns: number;
}

/** Options of `TurnBudget` beyond the budget. */
export interface TurnBudgetOptions {
  clock?: Clock;
  yieldTurn?: YieldTurn;
  /**
   * The thread's wait for a CPU, left out of a slice's time. Default: `runQueueDelay()`, else
   * `processCpuLag()`, when `clock` is the real one (opened at the first request, closed by
   * `close`); none with an injected clock; `null`: none.
   */
  cpuWait?: CpuWaitClock | null;
  /** The cost per request assumed before any turn was measured, ms (default 0.25). */
  initialCostMs?: number;
}

/** Turns whose cost per request the estimate looks back on. */
export const COST_WINDOW = 16;
/**
 * Which of the window's costs, lowest first, is a request's cost: the median. A turn that ran a
 * collection, or (where the thread's wait for a CPU cannot be read) waited for a CPU, moves it
 * only once such turns are the common case; one cheap turn (requests refused early) does not
 * open the gate either.
 */
const COST_PERCENTILE = 0.5;
/** Least cost per request learned (an idle turn must not open the gate wide), ms. */
const MIN_COST_MS = 0.01;
/** Weight of the newest turn in the share of slice time the thread waits for a CPU. */
const CPU_WAIT_WEIGHT = 0.125;
/**
 * Past this share of its slices' wall time spent waiting for a CPU, the thread is starved: the
 * lag is the machine's then (another process holds the CPU for longer than any budget), so the
 * budget stands aside and admits every request at once; below `STARVED_LEAVE` it gates again.
 */
const STARVED_ENTER = 0.5;
const STARVED_LEAVE = 0.25;

/**
 * The thread's run-queue delay, from Linux's `/proc/thread-self/schedstat` (its second field,
 * ns; the kernel adds each wait when the thread gets a CPU again, so a read by the running
 * thread includes every wait so far); undefined where it cannot be read: another OS, Deno
 * Deploy, or without `--allow-all` (Deno 2.9 asks for all permissions for /proc/self paths,
 * which `deno task start` does not grant). One read costs ~8 µs (seek and read of an open file).
 */
export function runQueueDelay(): CpuWaitClock | undefined {
  const path = "/proc/thread-self/schedstat";
  let file: Deno.FsFile;
  try {
    // Only where it can succeed: never a permission prompt in the middle of serving.
    if (!allPermissionsGranted()) return undefined;
    file = Deno.openSync(path);
  } catch {
    return undefined;
  }
  const buffer = new Uint8Array(96);
  return {
    now() {
      file.seekSync(0, Deno.SeekMode.Start);
      return secondField(buffer, file.readSync(buffer) ?? 0) / 1e6;
    },
    close() {
      file.close();
    },
  };
}

/** Whether every permission is granted (`--allow-all`); asks nobody. */
function allPermissionsGranted(): boolean {
  const names = ["read", "write", "net", "env", "run", "ffi", "sys"] as const;
  return names.every((name) => Deno.permissions.querySync({ name }).state === "granted");
}

/**
 * Wherever `runQueueDelay` cannot be read: the time the whole process ran on no CPU, as wall
 * time less the process's CPU time (`process.cpuUsage`, all threads; ~4.5 µs a read, no
 * permission). While another of its threads runs, the main thread's waits are under-counted
 * (a slice then looks costlier than it was: the safe side).
 */
export function processCpuLag(): CpuWaitClock {
  return {
    now() {
      const { user, system } = process.cpuUsage();
      return performance.now() - (user + system) / 1000;
    },
    close() {},
  };
}

/** The second space-separated decimal number in `bytes[0, length)` (ASCII). */
function secondField(bytes: Uint8Array, length: number): number {
  let i = bytes.indexOf(0x20);
  if (i < 0 || i >= length) return 0;
  let value = 0;
  for (i++; i < length; i++) {
    const digit = bytes[i]! - 0x30;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  return value;
}

/** The per-turn budget; one per listener (so per isolate). */
export class TurnBudget {
  #budgetMs: number;
  readonly #clock: Clock;
  readonly #yieldTurn: YieldTurn;
  /** The CPU-wait clock; undefined until the first request opens the default one, or none. */
  #cpuWait: CpuWaitClock | undefined;
  /** Whether `#cpuWait` is still to be opened at the first request (the default one). */
  #openCpuWait: boolean;
  /** When the current turn's slice opened; undefined when no slice is open. */
  #sliceStart: number | undefined;
  /** The thread's CPU wait when the slice opened, ms. */
  #sliceCpuWait = 0;
  /** The slice's own time (CPU wait left out) was found spent: no need to read it again. */
  #sliceSpent = false;
  /** Requests admitted in the current slice. */
  #admitted = 0;
  /** A request's cost, ms: the median of `#recentCosts` (or the assumed cost). */
  #costMs: number;
  /** Own time per admitted request of the last `COST_WINDOW` turns, ms, as a ring. */
  readonly #recentCosts: number[] = [];
  #nextCostSlot = 0;
  readonly #waiting: { resolve: () => void; since: number }[] = [];
  #waitedMs = 0;
  #cpuWaitMs = 0;
  /** Share of recent slices' wall time the thread waited for a CPU (moving average). */
  #cpuWaitShare = 0;
  /** Whether the thread is starved for a CPU (`STARVED_ENTER`): then nothing waits. */
  #starved = false;
  #starvedTurns = 0;
  #immediate = 0;
  #deferred = 0;
  #resumedTurns = 0;

  constructor(budgetMs: number, options: TurnBudgetOptions = {}) {
    this.#budgetMs = budgetMs;
    this.#clock = options.clock ?? (() => performance.now());
    this.#yieldTurn = options.yieldTurn ?? ((callback) => setImmediate(callback));
    this.#cpuWait = options.cpuWait ?? undefined;
    this.#openCpuWait = options.cpuWait === undefined && options.clock === undefined;
    this.#costMs = options.initialCostMs ?? 0.25;
  }

  /**
   * Undefined when the caller may run now; otherwise a promise that resolves in a later turn,
   * in arrival order, when the caller's turn comes.
   */
  admit(): Promise<void> | undefined {
    if (this.#budgetMs <= 0) return undefined;
    const now = this.#clock();
    if (this.#sliceStart === undefined) this.#openSlice(now, this.#readCpuWait());
    if (
      this.#waiting.length === 0 &&
      (this.#starved || (this.#admitted < this.#allowance() && this.#withinBudget(now)))
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
      cpuWaitMs: this.#cpuWaitMs,
      starvedTurns: this.#starvedTurns,
    };
  }

  /**
   * Releases the CPU-wait clock (the listener's shutdown). Slices are then timed by the wall
   * clock alone; waiting requests are still admitted turn by turn.
   */
  close(): void {
    this.#openCpuWait = false;
    this.#cpuWait?.close();
    this.#cpuWait = undefined;
  }

  /** The thread's CPU wait so far, ms (0 without a clock); opens the default clock once. */
  #readCpuWait(): number {
    if (this.#openCpuWait) {
      this.#openCpuWait = false;
      this.#cpuWait = runQueueDelay() ?? processCpuLag();
    }
    return this.#cpuWait?.now() ?? 0;
  }

  /**
   * Whether the slice's time is within the budget at `now`: its wall time, or, once that is
   * spent, its own time (the wall time less the thread's wait for a CPU, read only then).
   */
  #withinBudget(now: number): boolean {
    const wallMs = now - this.#sliceStart!;
    if (wallMs < this.#budgetMs) return true;
    if (this.#sliceSpent || this.#cpuWait === undefined) return false;
    this.#sliceSpent = wallMs - (this.#cpuWait.now() - this.#sliceCpuWait) >= this.#budgetMs;
    return !this.#sliceSpent;
  }

  /** Requests one slice admits: as many as the learned cost fits in the budget, at least one. */
  #allowance(): number {
    return Math.max(1, Math.floor(this.#budgetMs / this.#costMs));
  }

  /**
   * Adds a turn's own time per admitted request to the window; the cost becomes the window's
   * median.
   */
  #learnCost(perRequestMs: number): void {
    this.#recentCosts[this.#nextCostSlot] = perRequestMs;
    this.#nextCostSlot = (this.#nextCostSlot + 1) % COST_WINDOW;
    const sorted = this.#recentCosts.toSorted((a, b) => a - b);
    this.#costMs = sorted[Math.floor(sorted.length * COST_PERCENTILE)]!;
  }

  /** Adds a turn's share of wall time spent waiting for a CPU; enters or leaves starvation. */
  #learnStarvation(share: number): void {
    this.#cpuWaitShare += (share - this.#cpuWaitShare) * CPU_WAIT_WEIGHT;
    if (this.#starved) this.#starved = this.#cpuWaitShare > STARVED_LEAVE;
    else this.#starved = this.#cpuWaitShare > STARVED_ENTER;
    if (this.#starved) this.#starvedTurns++;
  }

  /** Opens a slice at `now` (the thread's CPU wait then: `cpuWait`), and schedules its end. */
  #openSlice(now: number, cpuWait: number): void {
    this.#sliceStart = now;
    this.#sliceCpuWait = cpuWait;
    this.#sliceSpent = false;
    this.#admitted = 0;
    this.#yieldTurn(this.#nextTurn);
  }

  /**
   * A new turn: the last slice ends (its own time per admitted request teaches the cost: the
   * app's work runs in microtasks after the requests passed the gate, so only the turn's end
   * shows it; time the thread waited for a CPU is left out); waiting requests get a fresh
   * slice, as many as it allows, in arrival order.
   */
  #nextTurn = (): void => {
    const now = this.#clock();
    const cpuWait = this.#readCpuWait();
    if (this.#admitted > 0) {
      const wallMs = now - this.#sliceStart!;
      const waitedForCpu = Math.min(wallMs, Math.max(0, cpuWait - this.#sliceCpuWait));
      this.#cpuWaitMs += waitedForCpu;
      this.#learnCost(Math.max(MIN_COST_MS, (wallMs - waitedForCpu) / this.#admitted));
      this.#learnStarvation(wallMs > 0 ? waitedForCpu / wallMs : 0);
    }
    this.#sliceStart = undefined;
    if (this.#waiting.length === 0) return;
    this.#resumedTurns++;
    this.#openSlice(now, cpuWait);
    const admitted = this.#waiting.splice(
      0,
      this.#starved ? this.#waiting.length : this.#allowance(),
    );
    this.#admitted = admitted.length;
    for (const { resolve, since } of admitted) {
      this.#waitedMs += now - since;
      resolve();
    }
  };
}
