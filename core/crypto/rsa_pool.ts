/**
 * The pool of pre-generated RSA key pairs per modulus size (a `KeyPairPool`,
 * see `key_pair_pool.ts`), for GenerateDataKeyPair(WithoutPlaintext). RSA
 * generation takes 0.1-3 s here (RSA_4096 the longest), far too slow for a
 * request.
 *
 * Refill runs WebCrypto's `generateKey`, which Deno runs on a blocking thread,
 * so the event loop stays free; at most `concurrency` generations run at once
 * (default 1, leaving the second of two cores to serve requests). Measured
 * with a 1 ms `setInterval` probe while filling 16/6/3 pairs (2 vCPUs): idle,
 * timer lag p99 1.2-1.3 ms, max 2-3 ms with 1 generation at a time (2 at a
 * time: p99 1.3-4 ms, max 6-23 ms); under a saturating P-256 load, 1 at a
 * time kept 85% of the load's throughput (p99 lag 10-11 ms vs 6-7 ms without
 * refill), 2 at a time only 30-55%.
 *
 * @module
 */
import type { RsaPoolSizes } from "../config.ts";
import { type GeneratedKeyPair, generateKeyPair, type RsaSpec } from "./key_pairs.ts";
import { KeyPairPool, type KeyPairPoolStats } from "./key_pair_pool.ts";

/** The RSA specs, smallest first (the refill order when pools are equally full). */
export const RSA_SPECS: readonly RsaSpec[] = Object.freeze(["RSA_2048", "RSA_3072", "RSA_4096"]);

/** How full one size's pool is. */
export type RsaPoolSizeStats = KeyPairPoolStats;

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

/** Pre-generated RSA key pairs, one generation at a time, each handed out once. */
export class RsaKeyPairPool extends KeyPairPool<RsaSpec> {
  /**
   * Creates an idle pool; `start()` begins the refill.
   * @throws {RangeError} when a size is not a non-negative integer or concurrency not >= 1.
   */
  constructor(options: RsaKeyPairPoolOptions) {
    const generate = options.generate ?? generateKeyPair;
    super({
      specs: RSA_SPECS,
      sizes: options.sizes,
      generate: async (spec) => [await generate(spec)],
      onDemand: generate,
      concurrency: options.concurrency,
      onError: options.onError,
    });
  }
}
