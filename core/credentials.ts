/**
 * Access keys as the authentication layer sees them: looked up from the
 * store and kept in memory for at most `ttlMs`, so a disabled key stops
 * working within that bound even when another process disabled it.
 *
 * @module
 */
import { LruMap } from "./lru.ts";
import type { Clock, CredentialStore } from "./ports.ts";
import type { Credential } from "./types.ts";

/** Bounded, time-limited cache of credentials (including "no such key" answers). */
export class CredentialCache {
  readonly #store: CredentialStore;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #entries = new LruMap<string, { credential: Credential | null; expires: number }>(4096);

  constructor(store: CredentialStore, clock: Clock, ttlMs = 1000) {
    this.#store = store;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  /** The credential of `accessKeyId`, or null when unknown. */
  async get(accessKeyId: string): Promise<Credential | null> {
    const now = this.#clock.now();
    const entry = this.#entries.get(accessKeyId);
    if (entry !== undefined && entry.expires > now) return entry.credential;
    const credential = await this.#store.getCredential(accessKeyId);
    this.#entries.set(accessKeyId, { credential, expires: now + this.#ttlMs });
    return credential;
  }

  /** Forgets a credential after this process changed it. */
  forget(accessKeyId: string): void {
    this.#entries.delete(accessKeyId);
  }
}
