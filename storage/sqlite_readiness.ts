/**
 * What readiness asks of SqliteStore (storage/sqlite_store.ts): a write probe
 * that proves the database writable now (the lock taken, a commit synced, room
 * left to grow on the page count and the disk), and a round trip through the
 * root key. Faults the probe meets are remembered like those of every store
 * call (storage/deadline.ts).
 *
 * @module
 */
import type { Client } from "@libsql/client";
import { statfs } from "node:fs/promises";
import { dirname } from "node:path";
import { isLocalClient } from "./client.ts";
import {
  LOCK_WAIT_SLICE_MS,
  restoreBusyTimeoutSql,
  type StoreFaults,
  withDeadline,
} from "./deadline.ts";
import type { RootWrapper } from "./root_wrapping.ts";

/** The AAD of the readiness check's root-key round trip (nothing it wraps is stored). */
const READINESS_AAD = new TextEncoder().encode("kms:readiness-probe");

/** The readiness probe's write: a row of schema_migrations rewritten as it is. */
const PROBE_WRITE = "UPDATE schema_migrations SET name = name " +
  "WHERE version = (SELECT max(version) FROM schema_migrations)";

/** Free bytes the disk of a local database must keep for the store to be called writable. */
const MIN_FREE_DISK_BYTES = 1024 * 1024;

/** Pages the database must still be able to take for a write probe to call it writable. */
const MIN_FREE_PAGES = 8;

/** What the probe runs on: the connection that commits the store's writes. */
export type ProbeClient = Pick<Client, "execute" | "executeMultiple" | "batch" | "protocol">;

/** The write probe and the root-key check of one store. */
export class SqliteReadiness {
  readonly #client: ProbeClient;
  readonly #faults: StoreFaults;
  readonly #rootKey: RootWrapper;
  /** The main database file (PRAGMA database_list), once read; "" in memory. */
  #file: string | undefined;

  constructor(client: ProbeClient, faults: StoreFaults, rootKey: RootWrapper) {
    this.#client = client;
    this.#faults = faults;
    this.#rootKey = rootKey;
  }

  /**
   * Proves the database writable now, within `timeoutMs`: takes the write lock and commits a
   * write that changes nothing (a row of schema_migrations rewritten as it is, so the commit
   * appends to the log and syncs it), then checks that the file may still grow
   * (`PRAGMA max_page_count`). Throws the storage error, a DependencyTimeoutException past the
   * deadline, or an Error naming the full database.
   */
  async probeWritable(timeoutMs: number): Promise<void> {
    const probe = async () => {
      if (isLocalClient(this.#client)) {
        // One exec: a lock met in it leaves no statement behind (storage/deadline.ts).
        await this.#client.executeMultiple(
          `PRAGMA busy_timeout=${LOCK_WAIT_SLICE_MS}; BEGIN IMMEDIATE; ${PROBE_WRITE}; COMMIT; ` +
            restoreBusyTimeoutSql(),
        ).catch(async (error) => {
          await this.#client.executeMultiple(restoreBusyTimeoutSql()).catch(() => {});
          throw error;
        });
      } else {
        await this.#client.batch([PROBE_WRITE], "write");
      }
      this.#faults.committed();
      await this.#checkRoomToGrow();
    };
    await withDeadline(probe(), timeoutMs, () => storeProbeTimeout(timeoutMs)).catch((error) => {
      throw this.#faults.saw(error);
    });
  }

  /** Whether the root key wraps and unwraps (a one-byte value): it is loaded and usable. */
  async rootKeyUsable(): Promise<boolean> {
    try {
      const wrapped = await this.#rootKey.wrap(new Uint8Array([1]), READINESS_AAD);
      const plain = await this.#rootKey.unwrap(wrapped, READINESS_AAD);
      return plain.length === 1 && plain[0] === 1;
    } catch {
      return false;
    }
  }

  /** Throws SQLITE_FULL when the database reached `max_page_count` with (almost) no free page. */
  async #checkRoomToGrow(): Promise<void> {
    const pragma = async (name: string) =>
      Number((await this.#client.execute(`PRAGMA ${name}`)).rows[0]?.[0] ?? NaN);
    const [count, max, free] = [
      await pragma("page_count"),
      await pragma("max_page_count"),
      await pragma("freelist_count"),
    ];
    await this.#checkDiskSpace();
    const pages = Number.isNaN(count) ? 0 : count;
    const limit = Number.isNaN(max) ? Infinity : max;
    const unused = Number.isNaN(free) ? 0 : free;
    if (limit - pages + unused < MIN_FREE_PAGES) {
      throw Object.assign(
        new Error(`SQLITE_FULL: database or disk is full (${pages} of ${limit} pages)`),
        { code: "SQLITE_FULL" },
      );
    }
  }

  /**
   * Throws SQLITE_FULL when the file system of a local database file has less than
   * {@link MIN_FREE_DISK_BYTES} left: a commit that appends to the log may still fit where the
   * next real write does not.
   */
  async #checkDiskSpace(): Promise<void> {
    if (!isLocalClient(this.#client)) return;
    this.#file ??= await this.#mainFile();
    if (this.#file === "") return;
    const fs = await statfs(dirname(this.#file));
    const free = Number(fs.bavail) * Number(fs.bsize);
    if (free < MIN_FREE_DISK_BYTES) {
      throw Object.assign(
        new Error(`SQLITE_FULL: the disk holding the database has ${free} bytes free`),
        { code: "SQLITE_FULL" },
      );
    }
  }

  /** The path of the main database file, "" for an in-memory database. */
  async #mainFile(): Promise<string> {
    const rows = (await this.#client.execute("PRAGMA database_list")).rows;
    const main = rows.find((row) => row.name === "main");
    return typeof main?.file === "string" ? main.file : "";
  }
}

function storeProbeTimeout(ms: number): Error {
  return Object.assign(new Error(`the write probe did not finish within ${ms} ms`), {
    code: "TIMEOUT",
  });
}
