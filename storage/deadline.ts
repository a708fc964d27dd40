/**
 * Deadlines and fault tracking around the store's libSQL client.
 *
 * Every store call has a deadline (`KMS_STORE_TIMEOUT_MS`, default
 * {@link DEFAULT_STORE_TIMEOUT_MS}). A read past it fails with
 * DependencyTimeoutException; a read has no effect, so giving up on it is
 * always safe. Writes go through the WriteQueue (storage/write_queue.ts), which
 * applies the deadline to waiting (for the queue, or for another connection's
 * lock) and never reports a write as failed while it may still commit.
 *
 * The local driver runs each statement synchronously on the calling thread,
 * and SQLite's busy handler sleeps inside it: with the 5 s busy timeout
 * storage/client.ts opens connections with, one write that met another
 * connection's lock stopped every request (and any readiness check) for 5 s,
 * and the queue's retries made that 20 s. Worse, a statement that fails with
 * SQLITE_BUSY poisons the local connection: the native driver (libsql-js
 * 0.5) never resets a statement that failed, and SQLite leaves a statement
 * that met a lock active (resumable), so every later COMMIT on that
 * connection failed with "SQLITE_BUSY: cannot commit transaction - SQL
 * statements in progress" until the garbage collector happened to finalize
 * the abandoned statement (and a forced collection takes 0.1-0.9 s and does
 * not reliably do it).
 *
 * So a local connection never meets a lock inside a prepared statement if it
 * can help it: {@link lockCheckSql} takes the write lock and releases it
 * through `executeMultiple` (SQLite's exec, which finalizes each statement
 * even when it fails), waiting at most {@link LOCK_WAIT_SLICE_MS}; only when
 * that succeeded does the WriteQueue run its batch, at once. Between the two,
 * another process may take the lock: the batch then waits up to the
 * connection's busy timeout, and only past it can the connection be poisoned.
 * The WriteQueue repeats the check in slices, with pauses in which other
 * requests run, until the write's deadline.
 *
 * {@link StoreFaults} remembers the last storage fault any store call met (a
 * full disk, an I/O error, a corrupt page): readiness (routes/readiness.ts)
 * reports it. A full disk or an I/O error is cleared by the next commit that
 * succeeds; corruption is reported while it is seen, and for
 * {@link CORRUPTION_MEMORY_MS} after.
 *
 * @module
 */
import type { Client, InStatement, ResultSet, TransactionMode } from "@libsql/client";
import { DependencyTimeoutException } from "../core/errors.ts";
import { BUSY_TIMEOUT_MS } from "./client.ts";

/** Default deadline of one store call, in ms (`KMS_STORE_TIMEOUT_MS`). */
export const DEFAULT_STORE_TIMEOUT_MS = 5000;

/**
 * Longest the lock check of a local connection blocks the thread waiting for
 * another connection's lock in one go; the WriteQueue retries until the deadline.
 */
export const LOCK_WAIT_SLICE_MS = 100;

/** How long a corrupt page stays reported after it was last seen. */
export const CORRUPTION_MEMORY_MS = 30_000;

/** What kind of storage fault an error is; null for a caller's error (a constraint) or none. */
export type StoreFaultKind = "full" | "io" | "corrupt" | "locked" | "readonly";

/** A storage fault a store call met. */
export interface StoreFault {
  kind: StoreFaultKind;
  /** The driver's code, e.g. `SQLITE_FULL` (never a value or a secret). */
  code: string;
  /** When it was last seen (ms since the epoch). */
  at: number;
}

/** The storage fault `error` reports, or null when it is none (a constraint, a bug). */
export function storeFaultKind(error: unknown): StoreFaultKind | null {
  const text = `${errorCode(error)} ${String(error)}`;
  if (/SQLITE_FULL|database or disk is full/.test(text)) return "full";
  if (/SQLITE_CORRUPT|SQLITE_NOTADB|malformed|not a database/.test(text)) return "corrupt";
  if (/SQLITE_BUSY|SQLITE_LOCKED|database is locked/.test(text)) return "locked";
  if (/SQLITE_READONLY|readonly database/.test(text)) return "readonly";
  if (/SQLITE_IOERR|SQLITE_CANTOPEN|disk I\/O error/.test(text)) return "io";
  return null;
}

/** The driver's error code (`SQLITE_FULL`, ...), or "" when there is none. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code !== "") return code;
  const match = /SQLITE_[A-Z_]+/.exec(String(error));
  return match?.[0] ?? "";
}

/** The last storage fault the store's calls met; cleared by a commit that succeeds. */
export class StoreFaults {
  #last: StoreFault | null = null;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Remembers `error` when it is a storage fault; returns it unchanged. */
  saw(error: unknown): unknown {
    const kind = storeFaultKind(error);
    if (kind !== null && kind !== "locked") {
      this.#last = { kind, code: errorCode(error) || kind, at: this.#now() };
    }
    return error;
  }

  /** A commit succeeded: the disk has room and answers again (a corrupt page stays reported). */
  committed(): void {
    if (this.#last !== null && this.#last.kind !== "corrupt") this.#last = null;
  }

  /** The fault to report now, if any. */
  current(): StoreFault | null {
    const last = this.#last;
    if (last === null) return null;
    if (last.kind === "corrupt" && this.#now() - last.at > CORRUPTION_MEMORY_MS) {
      this.#last = null;
      return null;
    }
    return last;
  }
}

/**
 * Settles like `work`, or rejects with `onTimeout()` once `ms` passed first.
 * `work` itself is not cancelled (libSQL statements cannot be).
 */
export function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/** The error of a store read (or lock wait) that passed its deadline. */
export function storeTimeout(ms: number, what = "read"): DependencyTimeoutException {
  return new DependencyTimeoutException(
    `The key store did not answer the ${what} within ${ms} ms. Retry the request.`,
  );
}

/** What the store reads through: statements and read-only batches. */
export type ReadClient = Pick<Client, "execute" | "batch">;

/**
 * `db` with a deadline on every call and its storage faults remembered in `faults`.
 * Meant for reads: a write batch past its deadline may still commit (use the WriteQueue).
 */
export function deadlineReads(db: ReadClient, ms: number, faults: StoreFaults): ReadClient {
  const guard = <T>(work: () => Promise<T>): Promise<T> => {
    let started: Promise<T>;
    try {
      started = work();
    } catch (error) {
      return Promise.reject(faults.saw(error));
    }
    return withDeadline(started, ms, () => storeTimeout(ms)).catch((error) => {
      throw faults.saw(error);
    });
  };
  return {
    execute:
      ((...args: Parameters<Client["execute"]>) =>
        guard(() => (db.execute as (...a: typeof args) => Promise<ResultSet>)(...args))) as Client[
          "execute"
        ],
    batch: (stmts: InStatement[], mode?: TransactionMode): Promise<ResultSet[]> =>
      guard(() => db.batch(stmts, mode)),
  };
}

/**
 * SQL for `executeMultiple` that takes the write lock, waiting at most `sliceMs`, and releases it
 * at once; the connection's busy timeout is then `busyTimeoutMs` again. Run through SQLite's exec,
 * a failure leaves no statement behind (see the module doc). Without `sliceMs`, the connection's
 * own busy timeout applies (a worker thread may wait).
 */
export function lockCheckSql(sliceMs?: number, busyTimeoutMs = BUSY_TIMEOUT_MS): string {
  if (sliceMs === undefined) return "BEGIN IMMEDIATE; ROLLBACK";
  return `PRAGMA busy_timeout=${sliceMs}; BEGIN IMMEDIATE; ROLLBACK; ` +
    `PRAGMA busy_timeout=${busyTimeoutMs}`;
}

/** SQL for `executeMultiple` that gives the connection its usual busy timeout back. */
export function restoreBusyTimeoutSql(busyTimeoutMs = BUSY_TIMEOUT_MS): string {
  return `PRAGMA busy_timeout=${busyTimeoutMs}`;
}
