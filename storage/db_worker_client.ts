/**
 * DbWorkerClient: the connection the store's WriteQueue (storage/write_queue.ts)
 * commits through when the database is a local file. The local libSQL driver
 * runs every statement, and a commit's fsync, synchronously on the calling
 * thread; this client runs them in a worker thread (storage/db_worker.ts) with
 * a connection of its own to the same file (WAL), so the request thread only
 * posts the statements and awaits the answer. The WriteQueue keeps every
 * guarantee it documents (group commit, per-write retry, audit chains, the
 * change counter, deadlines, SQLITE_BUSY retry): it merely awaits a batch that
 * now runs elsewhere. Reads stay on the request thread's own connection; WAL
 * lets them run beside a commit, and a write is acknowledged only after its
 * commit, so a read that follows it sees it.
 *
 * The worker is the client's own (a Worker it starts from `workerUrl`), or, in
 * a process serving several isolates, a port to the one writer the main thread
 * hosts for all of them (storage/shared_writer.ts): the same protocol either way
 * (storage/db_writer_host.ts answers it).
 *
 * A worker that fails (an uncaught error) or leaves a call unanswered for
 * `unansweredMs` is terminated (a port is only left: its host lives on) and its
 * calls rejected: a write transaction in flight with a KMSInternalException
 * saying it may have been committed (the WriteQueue does not retry it), any
 * other call with an Error (nothing was committed; the WriteQueue may retry
 * it). The next call starts a new worker (opens the port again). If that
 * restart cannot open, the client falls back for good to the `fallback`
 * connection it was given (the request thread's own), says so once, and runs
 * that call and every later one there, as a worker that cannot start at all
 * does; without a fallback the call fails.
 *
 * `:memory:` databases (one connection owns one) and remote databases (their
 * client is asynchronous already) do not use it: `openWriterFor` returns
 * undefined for them, and also when a worker cannot start (then it logs so once).
 *
 * @module
 */
import type { Client, InArgs, InStatement, ResultSet, Row, TransactionMode } from "@libsql/client";
import { isMemoryUrl, localFilePath } from "./client.ts";
import { outcomeUnknown } from "./write_queue.ts";
import { linkTo, type WriterLink, type WriterTarget } from "./writer_link.ts";

/** A message to the database worker. */
export type DbWorkerRequest =
  | { type: "open"; id: number; url: string }
  | { type: "batch"; id: number; statements: InStatement[]; mode: TransactionMode }
  | { type: "execute"; id: number; statement: InStatement }
  | { type: "executeMultiple"; id: number; sql: string }
  | { type: "close"; id: number };

/** A ResultSet as plain data (rows as arrays of column values). */
export interface WireResult {
  columns: string[];
  columnTypes: string[];
  rows: unknown[][];
  rowsAffected: number;
  lastInsertRowid: bigint | undefined;
}

/** An error as plain data: enough for the checks on `code` and message (storage/deadline.ts). */
export interface WireError {
  name: string;
  message: string;
  code: string | undefined;
  rawCode: number | undefined;
}

/** The database worker's answer to the request with the same id. */
export type DbWorkerReply =
  | { type: "done"; id: number; results: WireResult[] }
  | { type: "failed"; id: number; error: WireError };

/** Requests without their id (the client numbers them). */
type Call = DbWorkerRequest extends infer R ? R extends { id: number } ? Omit<R, "id"> : never
  : never;

interface Pending {
  call: Call;
  resolve(results: WireResult[]): void;
  reject(error: Error): void;
}

/** How long a call may go unanswered before the worker is replaced (default), ms. */
export const DEFAULT_UNANSWERED_MS = 30_000;

/** The connection calls go to after a restart failed (the request thread's own). */
export type FallbackConnection = Pick<Client, "batch" | "execute" | "executeMultiple">;

/** Where a DbWorkerClient commits, and what it does when its worker cannot restart. */
export interface DbWorkerOptions {
  /** The worker script to start (default storage/db_worker.ts); ignored with `port`. */
  workerUrl?: URL | undefined;
  /** A port to a shared writer (storage/shared_writer.ts) instead of a worker of its own. */
  port?: MessagePort | undefined;
  /** How long a call may go unanswered before the worker is replaced, ms. */
  unansweredMs?: number | undefined;
  /** Taken when a restart cannot open; `warn` is told once. */
  fallback?: {
    connection: FallbackConnection;
    warn: (message: string, error: unknown) => void;
  } | undefined;
}

/** Runs a local database file's statements in a worker thread with its own connection. */
export class DbWorkerClient {
  /** Like a local libSQL client's: the WriteQueue checks the write lock before each batch. */
  readonly protocol = "file";
  readonly #url: string;
  readonly #target: WriterTarget;
  readonly #unansweredMs: number;
  readonly #fallback: DbWorkerOptions["fallback"];
  /** Set once a restart failed and calls run on the fallback connection. */
  #fellBack = false;
  #link: WriterLink<DbWorkerRequest> | null = null;
  #ready: Promise<void> | null = null;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  #restarts = 0;

  /**
   * `url`: a local `file:` URL. `unansweredMs`: how long a call may go unanswered before the
   * worker is replaced (above the connection's 5 s busy timeout).
   */
  constructor(url: string, options: DbWorkerOptions = {}) {
    if (!canUseWorker(url)) throw new Error("the database worker needs a local database file");
    this.#url = url;
    this.#target = options.port ?? options.workerUrl ??
      new URL("./db_worker.ts", import.meta.url);
    this.#unansweredMs = options.unansweredMs ?? DEFAULT_UNANSWERED_MS;
    this.#fallback = options.fallback;
  }

  /** Workers started after the first (each replacing one that failed). */
  get restarts(): number {
    return this.#restarts;
  }

  /** Whether calls run on the fallback connection (a restart failed). */
  get fellBack(): boolean {
    return this.#fellBack;
  }

  /** Calls sent and not yet answered. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Starts the worker and opens its connection (also done by the first call). */
  open(): Promise<void> {
    return this.#start();
  }

  /** Runs `statements` in one transaction on the worker's connection. */
  async batch(statements: InStatement[], mode: TransactionMode = "deferred"): Promise<ResultSet[]> {
    const call: Call = { type: "batch", statements, mode };
    if (this.#fellBack) return await this.#fallback!.connection.batch(statements, mode);
    const results = await this.#call(call);
    return results === FELL_BACK
      ? await this.#fallback!.connection.batch(statements, mode)
      : results.map(resultSet);
  }

  /** Runs one statement (or `sql` with `args`) on the worker's connection. */
  async execute(statement: InStatement, args?: InArgs): Promise<ResultSet> {
    const call = {
      type: "execute",
      statement: typeof statement === "string" && args !== undefined
        ? { sql: statement, args }
        : statement,
    } as const;
    if (this.#fellBack) return await this.#fallback!.connection.execute(call.statement);
    const results = await this.#call(call);
    if (results === FELL_BACK) return await this.#fallback!.connection.execute(call.statement);
    const [result] = results;
    if (result === undefined) throw new Error("the database worker returned no result");
    return resultSet(result);
  }

  /** Runs SQL text through SQLite's exec on the worker's connection (the lock check). */
  async executeMultiple(sql: string): Promise<void> {
    if (this.#fellBack) return await this.#fallback!.connection.executeMultiple(sql);
    const results = await this.#call({ type: "executeMultiple", sql });
    if (results === FELL_BACK) await this.#fallback!.connection.executeMultiple(sql);
  }

  /**
   * Waits for the calls in flight (each answered, or failed once unanswered), then closes the
   * worker's connection and stops it. Later calls fail.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const link = this.#link;
    if (link === null) return;
    const inFlight = [...this.#pending.values()].map((pending) =>
      new Promise<void>((settled) => {
        const { resolve, reject } = pending;
        pending.resolve = (results) => (resolve(results), settled());
        pending.reject = (error) => (reject(error), settled());
      })
    );
    await Promise.all(inFlight);
    if (this.#link !== link) return;
    try {
      await this.#send(link, { type: "close" });
    } catch {
      // The worker is stopped below either way.
    } finally {
      this.#stop(new Error("the database worker is closed"));
      link.close();
    }
  }

  /** The call's results, or FELL_BACK when it is to run on the fallback connection. */
  async #call(call: Call): Promise<WireResult[] | typeof FELL_BACK> {
    if (this.#closed) throw new Error("the database worker is closed");
    try {
      await this.#start();
    } catch (error) {
      // Only a restart falls back here: a first start that fails is openWriterFor's to handle.
      if (this.#restarts === 0 || this.#fallback === undefined) throw error;
      if (!this.#fellBack) {
        this.#fellBack = true;
        this.#fallback.warn(
          "the database worker could not restart: writes commit on the request thread",
          error,
        );
      }
      return FELL_BACK;
    }
    const link = this.#link;
    if (link === null) throw new Error("the database worker is not running");
    return await this.#send(link, call);
  }

  #start(): Promise<void> {
    if (this.#ready !== null) return this.#ready;
    if (this.#link === null && this.#nextId > 1) this.#restarts++;
    const link: WriterLink<DbWorkerRequest> = linkTo<DbWorkerRequest, DbWorkerReply>(
      this.#target,
      "kms-db",
      {
        reply: (reply) => this.#answer(reply),
        failed: (detail) => {
          if (this.#link === link) this.#stop(new Error(`the database worker failed: ${detail}`));
        },
      },
    );
    this.#link = link;
    const ready = this.#send(link, { type: "open", url: this.#url }).then(() => {});
    this.#ready = ready;
    ready.catch(() => {
      if (this.#link === link) this.#stop(new Error("the database worker could not open"));
    });
    return ready;
  }

  #answer(reply: DbWorkerReply): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (reply.type === "done") pending.resolve(reply.results);
    else pending.reject(errorFromWire(reply.error));
  }

  #send(link: WriterLink<DbWorkerRequest>, call: Call): Promise<WireResult[]> {
    const id = this.#nextId++;
    const answered = new Promise<WireResult[]>((resolve, reject) => {
      this.#pending.set(id, { call, resolve, reject });
      link.post({ ...call, id } as DbWorkerRequest);
    });
    const unanswered = setTimeout(() => {
      if (this.#link === link && this.#pending.has(id)) {
        this.#stop(new Error(`the database worker gave no answer within ${this.#unansweredMs} ms`));
      }
    }, this.#unansweredMs);
    return answered.finally(() => clearTimeout(unanswered));
  }

  /** Stops the worker (leaves a port) and rejects its calls in flight; a later call restarts. */
  #stop(reason: Error): void {
    this.#link?.drop();
    this.#link = null;
    this.#ready = null;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(isWriteTransaction(p.call) ? lostCommit() : reason);
  }
}

/** What `#call` answers when the call is to run on the fallback connection. */
const FELL_BACK = Symbol("fell back");

/** Whether `url` is a local database file a worker can open a connection of its own to. */
export function canUseWorker(url: string): boolean {
  return !isMemoryUrl(url) && localFilePath(url) !== null;
}

/**
 * The connection the WriteQueue should commit through for `url`: a started DbWorkerClient for a
 * local file; undefined (commit on the request thread's connection) for `:memory:`, a remote
 * database, or when the worker cannot start, which `warn` is told once. `target`: the worker
 * script, or options (a port to a shared writer; `fallback`, the request thread's connection,
 * taken if the worker cannot restart later, `warn` told once then too).
 */
export async function openWriterFor(
  url: string,
  warn: (message: string, error: unknown) => void,
  target?: URL | Omit<DbWorkerOptions, "fallback"> & { fallback?: FallbackConnection },
): Promise<DbWorkerClient | undefined> {
  if (!canUseWorker(url)) return undefined;
  const options = target instanceof URL ? { workerUrl: target } : target ?? {};
  let client: DbWorkerClient | undefined;
  try {
    client = new DbWorkerClient(url, {
      ...options,
      fallback: options.fallback && { connection: options.fallback, warn },
    });
    await client.open();
    return client;
  } catch (error) {
    await client?.close().catch(() => {});
    warn("the database worker could not start: writes commit on the request thread", error);
    return undefined;
  }
}

function isWriteTransaction(call: Call): boolean {
  return call.type === "batch" && call.mode === "write";
}

/** The error of a write transaction whose worker stopped before answering: it may have committed. */
function lostCommit(): Error {
  // Why the worker stopped stays out of the client's message: it is the worker's, not the request's.
  return outcomeUnknown("The key store's database worker stopped before confirming the write");
}

/** A ResultSet like the native driver's: each row's values by index and by column name. */
function resultSet(wire: WireResult): ResultSet {
  const rows = wire.rows.map((values) => rowOf(values, wire.columns));
  return {
    columns: wire.columns,
    columnTypes: wire.columnTypes,
    rows,
    rowsAffected: wire.rowsAffected,
    lastInsertRowid: wire.lastInsertRowid,
    toJSON: () => ({ ...wire, lastInsertRowid: wire.lastInsertRowid?.toString() }),
  };
}

/** A row as the native driver builds it: indices and `length` hidden, column names enumerable. */
function rowOf(values: unknown[], columns: string[]): Row {
  const row = {};
  Object.defineProperty(row, "length", { value: values.length });
  values.forEach((value, i) => {
    Object.defineProperty(row, i, { value });
    const column = columns[i];
    if (column !== undefined && !Object.hasOwn(row, column)) {
      Object.defineProperty(row, column, {
        value,
        enumerable: true,
        configurable: true,
        writable: true,
      });
    }
  });
  return row as Row;
}

/** The worker's error with the name, message and code the driver gave it. */
function errorFromWire(wire: WireError): Error {
  const error = new Error(wire.message) as Error & { code?: string; rawCode?: number };
  error.name = wire.name;
  if (wire.code !== undefined) error.code = wire.code;
  if (wire.rawCode !== undefined) error.rawCode = wire.rawCode;
  return error;
}
