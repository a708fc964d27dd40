/**
 * RefusalBudget: how long to hold the answer to a request refused before authentication, so that
 * one source cannot make the server spend its CPU on bodies it refuses.
 *
 * A refused body is never parsed, but Deno.serve still reads and discards it to keep the
 * connection (about 1-2 ms of CPU per MB on a small machine, on the thread that runs every
 * handler). Each source IP therefore has a byte budget, a token bucket of `bytesPerSecond` with
 * `burstBytes` of burst, charged with the declared length of every body it gets refused. Within
 * the budget the answer goes out at once; beyond it, the answer waits until the budget would cover
 * it (at most `maxDelayMs`). While the answer waits its body is not read, so a client that sends
 * one request after the other is slowed to the budget's rate. Small refused requests (an unsigned
 * `{}`) cost a few bytes and are never held.
 *
 * At most `maxSources` sources are tracked; beyond that, new sources share one bucket.
 *
 * @module
 */

/** Tuning of a RefusalBudget. */
export interface RefusalBudgetOptions {
  /** Bytes of refused bodies a source may send per second without being held. Default 8 MiB. */
  bytesPerSecond?: number;
  /** Bytes a source may send at once before being held. Default 16 MiB. */
  burstBytes?: number;
  /** Longest an answer is held, in ms. Default 2,000. */
  maxDelayMs?: number;
  /** Sources tracked one by one. Default 4,096. */
  maxSources?: number;
  /** Milliseconds, monotonic (tests). */
  now?: () => number;
}

interface Bucket {
  /** Bytes available; negative while the source is in debt (at most `maxDelayMs` worth). */
  tokens: number;
  at: number;
}

const SHARED = "\u0000shared";

/** Per-source byte budgets of refused request bodies (see the module doc). */
export class RefusalBudget {
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxDelayMs: number;
  readonly #maxSources: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RefusalBudgetOptions = {}) {
    this.#rate = (options.bytesPerSecond ?? 8 * 1024 * 1024) / 1000;
    this.#burst = options.burstBytes ?? 16 * 1024 * 1024;
    this.#maxDelayMs = options.maxDelayMs ?? 2_000;
    this.#maxSources = options.maxSources ?? 4_096;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Charges `bytes` of a refused body to `source`; answers how many ms to hold the answer. */
  charge(source: string, bytes: number): number {
    const now = this.#now();
    const bucket = this.#bucket(source, now);
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#rate);
    bucket.at = now;
    bucket.tokens = Math.max(bucket.tokens - bytes, -this.#maxDelayMs * this.#rate);
    return bucket.tokens >= 0 ? 0 : Math.ceil(-bucket.tokens / this.#rate);
  }

  #bucket(source: string, now: number): Bucket {
    let bucket = this.#buckets.get(source);
    if (bucket !== undefined) return bucket;
    if (this.#buckets.size >= this.#maxSources) this.#forgetFull(now);
    const key = this.#buckets.size >= this.#maxSources ? SHARED : source;
    bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(key, bucket);
    }
    return bucket;
  }

  /** Drops the buckets that have refilled completely: they hold nothing worth remembering. */
  #forgetFull(now: number): void {
    for (const [source, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.at) * this.#rate >= this.#burst) {
        this.#buckets.delete(source);
      }
    }
  }
}
