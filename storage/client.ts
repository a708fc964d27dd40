/**
 * Opens the libSQL database: a local file (WAL, synchronous=FULL), `:memory:`
 * for tests, or a remote libSQL server (`libsql:`, `http(s):`, `ws(s):`).
 *
 * Remote URLs get `@libsql/client/web`, the client built on `fetch` and
 * `WebSocket` alone (a `libsql:` URL speaks Hrana over HTTPS); local ones get
 * the native driver, which is imported only when a local database is opened.
 * So an entry that opens only remote databases (deploy.ts on Deno Deploy, where
 * native addons cannot load) never loads the native addon, while the module
 * graph still holds it for `deno compile`.
 *
 * A local client gets exactly one connection: the native driver runs every
 * statement synchronously, so a pool adds no parallelism, while each extra
 * connection would need its own pragmas and could make the process wait on
 * a lock it holds itself. The store's writes commit on a second connection of
 * their own, in a worker thread (storage/db_worker.ts), so that a commit and
 * its fsync do not block the request thread.
 *
 * @module
 */
import {
  type Client,
  type Config,
  createClient as createWebClient,
  type InStatement,
  type ResultSet,
  type TransactionMode,
} from "@libsql/client/web";
import { dirname } from "node:path";

/** Which libSQL client opens a URL: the native driver (local files, memory) or the web client. */
export type DatabaseDriver = "native" | "web";

/** How long a statement waits for another connection's lock (`PRAGMA busy_timeout`). */
export const BUSY_TIMEOUT_MS = 5000;

const CONNECTION_PRAGMAS = [
  "PRAGMA synchronous=FULL",
  `PRAGMA busy_timeout=${BUSY_TIMEOUT_MS}`,
  "PRAGMA foreign_keys=ON",
];

/** Opens a client for `url`; local files get their directory created and durable pragmas set. */
export async function openDatabase(url: string, authToken?: string): Promise<Client> {
  if (isMemoryUrl(url)) return await openLocal({ url }, "memory");
  const path = localFilePath(url);
  if (path === null) {
    return createWebClient(authToken === undefined ? { url } : { url, authToken });
  }
  await Deno.mkdir(dirname(path), { recursive: true });
  return await openLocal({ url }, "wal");
}

/**
 * A native client on the local database `url` that sets nothing (no journal mode, no pragma):
 * for start-up checks that must only read (storage/preflight.ts). `busyTimeoutMs`: how long a
 * statement waits for another process's lock.
 */
export async function openForInspection(url: string, busyTimeoutMs: number): Promise<Client> {
  const { createClient } = await import("@libsql/client");
  return createClient({ url, concurrency: 1, timeout: busyTimeoutMs });
}

/** The client `openDatabase` uses for `url`: anything but a file or memory URL is remote. */
export function databaseDriver(url: string): DatabaseDriver {
  return isMemoryUrl(url) || localFilePath(url) !== null ? "native" : "web";
}

/** Whether `db` is a local connection (the native driver), where locks are met in slices. */
export function isLocalClient(db: Pick<Client, "protocol">): boolean {
  return db.protocol === "file";
}

/** True for the in-memory database URLs libSQL accepts. */
export function isMemoryUrl(url: string): boolean {
  return url === ":memory:" || url.startsWith("file::memory:");
}

/** The file path of a `file:` URL as libSQL reads it (relative paths stay relative), else null. */
export function localFilePath(url: string): string | null {
  if (!url.startsWith("file:")) return null;
  let rest = url.slice("file:".length).split("?")[0] ?? "";
  if (rest.startsWith("//")) {
    const slash = rest.indexOf("/", 2);
    rest = slash < 0 ? "" : rest.slice(slash);
  }
  return decodeURIComponent(rest);
}

/**
 * Told how long each call on a local connection held the calling thread: the native driver runs
 * the statement (and a commit's fsync) synchronously once it has acquired the connection (a
 * microtask after the call at the earliest, after the calls before it at the latest), so the
 * time from the later of the call and the previous call's end to its settling is the time the
 * event loop was blocked by it (plus any microtasks queued before it). `sql` is the statement
 * text (placeholders, never arguments), or `batch(n): <first statement>`. Calls a database
 * worker runs (storage/db_worker_client.ts) are not on this thread and not observed.
 */
export type DatabaseCallObserver = (call: { sql: string; heldMs: number }) => void;

let callObserver: DatabaseCallObserver | undefined;

/**
 * Observes every call on local connections opened from now on in this isolate (benchmarks:
 * tests/bench/bench_server.ts); undefined stops observing connections opened later.
 */
export function observeDatabaseCalls(observer: DatabaseCallObserver | undefined): void {
  callObserver = observer;
}

function statementText(statement: InStatement): string {
  return typeof statement === "string" ? statement : statement.sql;
}

/** `db` with `execute`, `batch` and `executeMultiple` timed for `observer`. */
function observedClient(db: Client, observer: DatabaseCallObserver): Client {
  // One connection runs one call at a time: a call waits for the ones before it to end.
  let lastEnd = 0;
  const timed = <T>(sql: string, call: () => Promise<T>): Promise<T> => {
    const called = performance.now();
    const held = () => {
      const now = performance.now();
      observer({ sql, heldMs: now - Math.max(called, lastEnd) });
      lastEnd = now;
    };
    try {
      return call().finally(held);
    } catch (error) {
      held();
      throw error;
    }
  };
  const execute = db.execute.bind(db) as (statement: InStatement) => Promise<ResultSet>;
  const batch = db.batch.bind(db);
  const executeMultiple = db.executeMultiple.bind(db);
  const wrapped: Partial<Client> = {
    execute:
      ((statement: InStatement) =>
        timed(statementText(statement), () => execute(statement))) as Client["execute"],
    batch: (statements: InStatement[], mode?: TransactionMode) =>
      timed(
        `batch(${statements.length}): ${statements[0] ? statementText(statements[0]) : ""}`,
        () => batch(statements, mode),
      ),
    executeMultiple: (sql: string) => timed(sql, () => executeMultiple(sql)),
  };
  // A proxy, so every other member (close, protocol, closed...) is the client's own.
  return new Proxy(db, {
    get(target, name) {
      if (Object.hasOwn(wrapped, name)) return wrapped[name as keyof Client];
      const value = Reflect.get(target, name, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function openLocal(config: Config, journalMode: string): Promise<Client> {
  const { createClient } = await import("@libsql/client");
  const db = createClient({ ...config, concurrency: 1, timeout: BUSY_TIMEOUT_MS });
  try {
    const journal = await db.execute("PRAGMA journal_mode=WAL");
    const mode = journal.rows[0]?.[0];
    if (mode !== journalMode) {
      throw new Error(`database journal mode is ${mode}, not ${journalMode}`);
    }
    // Pragmas cannot run inside a transaction, so not as one batch.
    for (const pragma of CONNECTION_PRAGMAS) await db.execute(pragma);
    return callObserver === undefined ? db : observedClient(db, callObserver);
  } catch (e) {
    db.close();
    throw e;
  }
}
