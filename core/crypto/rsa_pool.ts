/**
 * A bounded, in-memory pool of pre-generated RSA key pairs per modulus size,
 * refilled in the background, for GenerateDataKeyPair(WithoutPlaintext).
 * RSA generation takes 0.1-3 s here (RSA_4096 the longest), far too slow for
 * a request; a pooled pair is handed out once, then forgotten. Pairs are never
 * persisted; `close()` wipes the private keys still in the pool.
 *
 * Refill runs WebCrypto's `generateKey`, which Deno runs on a blocking thread,
 * so the event loop stays free; at most `concurrency` generations run at once
 * (default 1, leaving the second of two cores to serve requests). Measured
 * with a 1 ms `setInterval` probe while filling 16/6/3 pairs (2 vCPUs): idle,
 * timer lag p99 1.2-1.3 ms, max 2-3 ms with 1 generation at a time (2 at a
 * time: p99 1.3-4 ms, max 6-23 ms); under a saturating P-256 load, 1 at a
 * time kept 85% of the load's throughput (p99 lag 10-11 ms vs 6-7 ms without
 * refill), 2 at a time only 30-55%. No timers:
 * each finished generation starts the next one, and each `take` restarts the
 * refill. A failed background generation pauses that size until its next
 * `take` (reported through `onError`), so a broken generator cannot spin.
 *
 * @module
 */
import type { RsaPoolSizes } from "../config.ts";
import { type GeneratedKeyPair, generateKeyPair, type RsaSpec } from "./key_pairs.ts";

/** The RSA specs, smallest first (the refill order when pools are equally full). */
export const RSA_SPECS: readonly RsaSpec[] = Object.freeze(["RSA_2048", "RSA_3072", "RSA_4096"]);

/** How full one size's pool is. */
export interface RsaPoolSizeStats {
  /** Pairs ready to hand out. */
  readonly ready: number;
  /** The configured pool size. */
  readonly capacity: number;
  /** Background generations in flight. */
  readonly generating: number;
}

/** Options of `RsaKeyPairPool`. */
export interface RsaKeyPairPoolOptions {
  /** Pool size per modulus length; 0 means always generate on demand. */
  readonly sizes: RsaPoolSizes;
  /** Key pair generator; `generateKeyPair` unless a test injects a fake. */
  readonly generate?: (spec: RsaSpec) => Promise<GeneratedKeyPair>;
  /** Background generations at once, over all sizes (default 1). */
  readonly concurrency?: number;
  /** Told about a failed background generation (the pool pauses that size until a take). */
  readonly onError?: (spec: RsaSpec, error: unknown) => void;
}

/** Pre-generated RSA key pairs, each handed out once; see the module doc. */
export class RsaKeyPairPool {
  readonly #sizes: RsaPoolSizes;
  readonly #generate: (spec: RsaSpec) => Promise<GeneratedKeyPair>;
  readonly #concurrency: number;
  readonly #onError: ((spec: RsaSpec, error: unknown) => void) | undefined;
  readonly #ready: Record<RsaSpec, GeneratedKeyPair[]> = {
    RSA_2048: [],
    RSA_3072: [],
    RSA_4096: [],
  };
  readonly #generating: Record<RsaSpec, number> = { RSA_2048: 0, RSA_3072: 0, RSA_4096: 0 };
  readonly #paused = new Set<RsaSpec>();
  readonly #inFlight = new Set<Promise<void>>();
  #started = false;
  #closed = false;

  /**
   * Creates an idle pool; `start()` begins the refill.
   * @throws {RangeError} when a size is not a non-negative integer or concurrency not >= 1.
   */
  constructor(options: RsaKeyPairPoolOptions) {
    for (const spec of RSA_SPECS) {
      const size = options.sizes[spec];
      if (!Number.isSafeInteger(size) || size < 0) {
        throw new RangeError(`RSA pool size for ${spec} must be a non-negative integer`);
      }
    }
    const concurrency = options.concurrency ?? 1;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new RangeError("RSA pool concurrency must be a positive integer");
    }
    this.#sizes = { ...options.sizes };
    this.#generate = options.generate ?? generateKeyPair;
    this.#concurrency = concurrency;
    this.#onError = options.onError;
  }

  /** Begins filling the pools in the background (no-op once closed). */
  start(): void {
    this.#started = true;
    this.#refill();
  }

  /**
   * A pooled pair if one is ready (removed from the pool), else a fresh one generated now.
   * Never fails because the pool is empty; rejects only if generation itself fails.
   */
  take(spec: RsaSpec): Promise<GeneratedKeyPair> {
    const pooled = this.#ready[spec].shift();
    this.#paused.delete(spec);
    this.#refill();
    return pooled === undefined ? this.#generate(spec) : Promise.resolve(pooled);
  }

  /** Ready, capacity and in-flight counts per size. */
  stats(): Record<RsaSpec, RsaPoolSizeStats> {
    const entry = (spec: RsaSpec): RsaPoolSizeStats => ({
      ready: this.#ready[spec].length,
      capacity: this.#sizes[spec],
      generating: this.#generating[spec],
    });
    return {
      RSA_2048: entry("RSA_2048"),
      RSA_3072: entry("RSA_3072"),
      RSA_4096: entry("RSA_4096"),
    };
  }

  /** Stops refilling, wipes the pooled private keys and waits for in-flight generations. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const spec of RSA_SPECS) {
      for (const pair of this.#ready[spec].splice(0)) pair.privateKey.wipe();
    }
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  /** Starts background generations while slots are free and some pool is short. */
  #refill(): void {
    if (!this.#started || this.#closed) return;
    while (this.#inFlight.size < this.#concurrency) {
      const spec = this.#emptiest();
      if (spec === undefined) return;
      this.#generateInBackground(spec);
    }
  }

  /** The unpaused size with the lowest (ready + generating) / capacity below 1, smallest first. */
  #emptiest(): RsaSpec | undefined {
    let best: RsaSpec | undefined;
    let bestFill = 1;
    for (const spec of RSA_SPECS) {
      const capacity = this.#sizes[spec];
      if (capacity === 0 || this.#paused.has(spec)) continue;
      const fill = (this.#ready[spec].length + this.#generating[spec]) / capacity;
      if (fill < bestFill) [best, bestFill] = [spec, fill];
    }
    return best;
  }

  #generateInBackground(spec: RsaSpec): void {
    this.#generating[spec]++;
    const generated = new Promise<GeneratedKeyPair>((resolve) => resolve(this.#generate(spec)));
    const job: Promise<void> = generated
      .then(
        (pair) => this.#closed ? pair.privateKey.wipe() : void this.#ready[spec].push(pair),
        (error: unknown) => {
          this.#paused.add(spec);
          try {
            this.#onError?.(spec, error);
          } catch {
            // A failing error reporter must not break the refill.
          }
        },
      )
      .finally(() => {
        this.#generating[spec]--;
        this.#inFlight.delete(job);
        this.#refill();
      });
    this.#inFlight.add(job);
  }
}
