/**
 * Event-loop lag of this isolate, measured by timer drift: a `setTimeout` chain
 * of `intervalMs` records how late each tick fires (the time the thread spent
 * on something else: a long synchronous call, GC, a burst of requests). Every
 * lag goes into a fixed-bucket histogram (cumulative since start, as Prometheus
 * expects), and the largest lag is kept.
 *
 * Timer drift rather than `node:perf_hooks` `monitorEventLoopDelay`: under Deno
 * 2.9.6 that histogram reports values that are neither nanoseconds nor the
 * delay of a 20 ms busy loop (measured: max 27,641 for a 20 ms block).
 *
 * The timer is unref'd: it never keeps the process alive. Cost: one timer
 * callback per interval (200 a second at the default 5 ms).
 *
 * @module
 */

/** Upper bounds (seconds) of the lag histogram's buckets; `+Inf` is implied. */
export const LAG_BUCKETS: readonly number[] = Object.freeze([
  0.0005,
  0.001,
  0.002,
  0.003,
  0.004,
  0.005,
  0.0075,
  0.01,
  0.015,
  0.02,
  0.03,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
]);

/** Default sampling interval, ms. */
export const DEFAULT_LAG_INTERVAL_MS = 5;

/** A snapshot of the lag histogram. */
export interface LagSnapshot {
  /** Per-bucket (not cumulative) counts, one per LAG_BUCKETS bound, then the +Inf bucket. */
  counts: readonly number[];
  /** Sum of all lags, seconds. */
  sum: number;
  count: number;
  /** Largest lag seen since start, seconds. */
  max: number;
}

/** Samples the event loop's lag until `stop`. */
export class EventLoopLag {
  readonly #intervalMs: number;
  readonly #counts = new Array<number>(LAG_BUCKETS.length + 1).fill(0);
  #sum = 0;
  #count = 0;
  #max = 0;
  #expected = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(intervalMs = DEFAULT_LAG_INTERVAL_MS) {
    this.#intervalMs = intervalMs;
  }

  /** Starts sampling (idempotent). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#schedule(performance.now());
  }

  /** Stops sampling; the figures stay readable. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Records one lag of `seconds` (the sampler's tick; also for tests). */
  record(seconds: number): void {
    const lag = Math.max(0, seconds);
    let index = LAG_BUCKETS.findIndex((bound) => lag <= bound);
    if (index < 0) index = LAG_BUCKETS.length;
    this.#counts[index]!++;
    this.#sum += lag;
    this.#count++;
    if (lag > this.#max) this.#max = lag;
  }

  snapshot(): LagSnapshot {
    return { counts: [...this.#counts], sum: this.#sum, count: this.#count, max: this.#max };
  }

  #schedule(now: number): void {
    this.#expected = now + this.#intervalMs;
    const timer = setTimeout(this.#tick, this.#intervalMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #tick = (): void => {
    const now = performance.now();
    this.record((now - this.#expected) / 1000);
    this.#schedule(now);
  };
}

/**
 * The `q` quantile of the lags between two snapshots (`before` may be an empty one), as the upper
 * bound of the bucket it falls in, seconds (Infinity past the last bound; NaN with no sample).
 */
export function lagQuantile(
  after: LagSnapshot,
  before: LagSnapshot | undefined,
  q: number,
): number {
  const counts = after.counts.map((n, i) => n - (before?.counts[i] ?? 0));
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return Number.NaN;
  const target = Math.max(1, Math.ceil(total * q));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]!;
    if (seen >= target) return LAG_BUCKETS[i] ?? Infinity;
  }
  return Infinity;
}
