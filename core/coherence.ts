/**
 * Cache coherence between instances. Several KMS processes may serve one
 * database; each keeps key records, material, aliases, grants and tags in
 * memory (core/kms.ts, core/access/access_control.ts). A Coherence looks
 * every `intervalMs` (250 ms) at a feed of what other writers changed
 * (storage/change_counter.ts: one primary-key read of a counter bumped in the
 * transaction of every state change) and, when something changed, tells the
 * caches to forget. Credentials, principals and identity policies are bound
 * by core/credentials.ts's own 1 s lifetime instead (they are written outside
 * the store's transactions too), and dropped here as well on a change.
 *
 * The bound: a change committed by another instance at time t is in effect
 * here for every request that starts after t + intervalMs + the time of one
 * look (microseconds on a local file, one round trip on a remote database),
 * plus however long this process's event loop is kept from running the timer.
 * Measured by tests/multi_instance_test.ts; documented as at most 1 second.
 * A request already past its authorisation when the look happens finishes as
 * it started.
 *
 * Isolates of one process (`KMS_WORKERS`, isolates.ts) are also told at once,
 * without waiting for a look: `IsolateChanges` is a counter in memory they all
 * share (a SharedArrayBuffer), bumped by each isolate after each of its commits
 * and before the change is acknowledged, and read at the start of every request.
 * A request that starts after another isolate acknowledged a change thus finds
 * the counter moved and drops its caches first (their deleted keys' material
 * follows with the next look of the Coherence, as for other processes).
 *
 * @module
 */

/** What writers other than this process changed since the last look. */
export interface ForeignChanges {
  /** Something the store holds: keys, key material, aliases, tags, grants, credentials. */
  readonly data: boolean;
  /** Ids of keys deleted since the last look (by anyone), or "unknown" when too many to list. */
  readonly deletedKeys: readonly string[] | "unknown";
}

/** Where a Coherence learns of other writers' changes. */
export interface ChangeFeed {
  /** What changed since the last call; null when nothing did. */
  changes(): Promise<ForeignChanges | null>;
}

/** How often a Coherence looks, by default. */
export const COHERENCE_INTERVAL_MS = 250;

/** Options of a Coherence. */
export interface CoherenceOptions {
  feed: ChangeFeed;
  /** Drops what `changes` makes stale. */
  forget(changes: ForeignChanges): void;
  /** Milliseconds between looks; default COHERENCE_INTERVAL_MS. */
  intervalMs?: number;
  /** A look that failed (the next one tries again). */
  onError?: (error: unknown) => void;
}

/** Polls a ChangeFeed on a timer and forwards what changed to the caches. */
export class Coherence {
  readonly #feed: ChangeFeed;
  readonly #forget: (changes: ForeignChanges) => void;
  readonly #intervalMs: number;
  readonly #onError: (error: unknown) => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #looking: Promise<void> | null = null;

  constructor(options: CoherenceOptions) {
    this.#feed = options.feed;
    this.#forget = options.forget;
    this.#intervalMs = options.intervalMs ?? COHERENCE_INTERVAL_MS;
    this.#onError = options.onError ?? (() => {});
  }

  /** Starts looking every `intervalMs`; the timer does not keep the process alive. */
  start(): void {
    if (this.#timer !== undefined) return;
    const timer = setInterval(() => void this.check(), this.#intervalMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** Looks once now (a look already under way is joined, not repeated). */
  check(): Promise<void> {
    this.#looking ??= this.#look().finally(() => {
      this.#looking = null;
    });
    return this.#looking;
  }

  /** Stops the timer and waits for a look under way. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#looking;
  }

  async #look(): Promise<void> {
    try {
      const changes = await this.#feed.changes();
      if (changes !== null) this.#forget(changes);
    } catch (error) {
      this.#onError(error);
    }
  }
}

/** Bytes of the SharedArrayBuffer an `IsolateChanges` counts in. */
export const ISOLATE_CHANGES_BYTES = 4;

/**
 * The change counter of the isolates of one process: one 32-bit cell of shared memory, bumped
 * with `Atomics` by the isolate that committed, compared by the others on every request. Like
 * storage/change_counter.ts, it tells other isolates' changes from this one's own: a bump that
 * does not follow this isolate's last seen value means others committed in between.
 */
export class IsolateChanges {
  readonly #cell: Int32Array;
  #seen: number;
  #foreign = false;

  /** `shared`: a SharedArrayBuffer of ISOLATE_CHANGES_BYTES, the same for every isolate. */
  constructor(shared: SharedArrayBuffer) {
    this.#cell = new Int32Array(shared, 0, 1);
    this.#seen = Atomics.load(this.#cell, 0);
  }

  /** This isolate committed a change: call after the commit, before it is acknowledged. */
  committed(): void {
    const before = Atomics.add(this.#cell, 0, 1);
    if (before !== this.#seen) this.#foreign = true;
    this.#seen = (before + 1) | 0;
  }

  /** Whether another isolate committed since the last call (then the caches must forget). */
  takeForeign(): boolean {
    const now = Atomics.load(this.#cell, 0);
    const foreign = this.#foreign || now !== this.#seen;
    this.#seen = now;
    this.#foreign = false;
    return foreign;
  }
}
