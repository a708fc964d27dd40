/**
 * Every core: `KMS_WORKERS` request-serving isolates on one port (issue 15, scope 1).
 *
 * The mechanism, chosen by measurement (scripts/isolate_message_cost.ts,
 * scripts/workers_bench.ts): each isolate is a Web Worker running the whole KMS (isolate_main.ts:
 * SigV4, policy, crypto, storage, audit) behind its own hardened `node:http` listener
 * (routes/listener.ts) bound with `SO_REUSEPORT` to the same port, so the kernel spreads the
 * connections over the isolates and no request crosses a thread. Handing each request from one
 * listening thread to worker isolates by postMessage (method, path, headers, body, peer; the
 * reply back) costs ~28 µs of the listening thread's CPU and ~60 µs of all threads' per request
 * by itself, about a fifth of a whole GenerateDataKey, on a thread that would also parse all
 * HTTP: that hand-off was rejected. Deno.serve's `reusePort` is not needed (node:http honours it
 * and keeps the listener's timeouts and bounds), nor `deno serve --parallel` (Deno.serve without
 * them, and no place to run the start-up checks and migrations once).
 *
 * The main thread serves no request: it runs the start-up checks, the migrations, the principals
 * and seed files and the admin credential once (`prepare`), starts the isolates (the first one
 * binds the port, the others join it), hosts their shared writer, and on SIGTERM/SIGINT drains
 * them all (each flushes its audit buffer) before it closes the writer.
 *
 * Shared between isolates:
 * - the database: each isolate has its own libSQL connection to the same file (WAL; the write
 *   queue copes with other writers, as with several processes);
 * - cache coherence: a counter in shared memory bumped on every commit and read on every
 *   request (core/coherence.ts, `IsolateChanges`), so a change acknowledged by one isolate is
 *   seen by the next request on any other; other processes through the database's change
 *   counter as before;
 * - background duties: purge, imported material expiry and the rotation scheduler run in
 *   isolate 0 only (`IsolateRole.duties`);
 * - pools: the RSA pool sizes and the crypto worker threads are shared out (`isolateShare`), so
 *   N isolates hold about the pairs and threads one would;
 * - the writer (storage/shared_writer.ts): each isolate commits its writes and appends its
 *   buffered audit records through ports to the one database connection and the one audit
 *   appender the main thread hosts for all of them, instead of a database worker and an audit
 *   worker thread of its own (`KMS_SHARED_WRITER=off`: those again; several appenders then keep
 *   one hash chain as several processes do, storage/write_queue.ts).
 *
 * Metrics (`GET /metrics`) are per isolate: each answers with its own counters, and every reply
 * names the isolate that served it in the `x-kms-isolate` header.
 *
 * An in-memory database (`:memory:`) is private to one connection: it is served by one isolate.
 *
 * @module
 */
import { type Config, ConfigError } from "./core/config.ts";
import { ISOLATE_CHANGES_BYTES } from "./core/coherence.ts";
import { isMemoryUrl } from "./storage/client.ts";
import { startupFailureLine } from "./startup.ts";
import { type SharedWriter, sharedWriterFor, type WriterPorts } from "./storage/shared_writer.ts";

/** Most isolates one process runs. */
export const MAX_WORKERS = 64;

/** The response header naming the isolate that served a request (several isolates only). */
export const ISOLATE_HEADER = "x-kms-isolate";

/** What one isolate is among the others. */
export interface IsolateRole {
  /** 0 .. count-1. */
  index: number;
  /** How many isolates serve. */
  count: number;
  /** The shared memory of `IsolateChanges` (core/coherence.ts), the same for every isolate. */
  changes: SharedArrayBuffer;
  /** Whether this isolate runs the background duties (purge, expiry, rotation). */
  duties: boolean;
  /** Ports to the main thread's shared writer (storage/shared_writer.ts); absent: its own. */
  writer?: WriterPorts | undefined;
}

/** How many isolates serve, and why not the number asked, when it is not. */
export interface WorkerCount {
  count: number;
  note?: string;
}

/** The main thread tells an isolate. */
export type ToIsolate =
  | { kind: "start"; role: IsolateRole; port: number }
  | { kind: "stop" }
  | { kind: "reload" };

/** An isolate tells the main thread. */
export type FromIsolate =
  | { kind: "listening"; hostname: string; port: number; maxConnections: number }
  | { kind: "failed"; line: string }
  | { kind: "stopped"; code: number };

/**
 * The number of isolates of `KMS_WORKERS` (default: the number of CPUs).
 * @throws {ConfigError} a value that is not an integer 1..MAX_WORKERS.
 */
export function workerCount(
  raw: string | undefined,
  dbUrl: string,
  cpus: number = navigator.hardwareConcurrency,
): WorkerCount {
  let count: number;
  if (raw === undefined || raw.trim() === "") {
    count = Math.max(1, Math.min(MAX_WORKERS, Math.trunc(cpus) || 1));
  } else {
    count = Number(raw.trim());
    if (!/^\d+$/.test(raw.trim()) || count < 1 || count > MAX_WORKERS) {
      throw new ConfigError(
        `KMS_WORKERS must be an integer 1..${MAX_WORKERS} (request-serving isolates), got "${raw}"`,
      );
    }
  }
  if (count > 1 && isMemoryUrl(dbUrl)) {
    return {
      count: 1,
      note: "KMS_WORKERS: an in-memory database belongs to one connection: serving with 1 isolate",
    };
  }
  return { count };
}

/** One isolate's share of `total` (pool sizes, threads): at least 1 unless `total` is 0. */
export function isolateShare(total: number, count: number): number {
  if (total <= 0) return 0;
  return Math.max(1, Math.ceil(total / count));
}

/** Where the main thread logs (routes/app.ts's LogSink). */
type Log = (record: Record<string, unknown>) => void;

/** A started isolate, seen from the main thread. */
class Isolate {
  readonly index: number;
  readonly #worker: Worker;
  #waiters: ((message: FromIsolate) => void)[] = [];
  /** Set once the worker failed (an uncaught error): the message the main thread reports. */
  #onCrash: (error: string) => void = () => {};

  constructor(index: number) {
    this.index = index;
    this.#worker = new Worker(new URL("./isolate_main.ts", import.meta.url), {
      type: "module",
      name: `kms-isolate-${index}`,
    });
    this.#worker.onmessage = (event: MessageEvent<FromIsolate>) => {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const resolve of waiters) resolve(event.data);
    };
    this.#worker.onerror = (event) => {
      event.preventDefault();
      const error = `isolate ${index}: ${event.message}`;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const resolve of waiters) resolve({ kind: "failed", line: error });
      this.#onCrash(error);
    };
  }

  /** Calls `handler` when the isolate dies of an uncaught error. */
  onCrash(handler: (error: string) => void): void {
    this.#onCrash = handler;
  }

  /** Sends `message` (handing over `transfer`), resolves to the isolate's next message. */
  ask(message: ToIsolate, transfer: Transferable[] = []): Promise<FromIsolate> {
    const reply = new Promise<FromIsolate>((resolve) => this.#waiters.push(resolve));
    this.#worker.postMessage(message, transfer);
    return reply;
  }

  tell(message: ToIsolate): void {
    this.#worker.postMessage(message);
  }

  terminate(): void {
    this.#worker.terminate();
  }
}

/** What serveIsolates needs of main.ts. */
export interface IsolateHooks {
  /** Start-up checks, migrations, files, admin credential; the lines of the start banner. */
  prepare(): Promise<string[]>;
  log: Log;
}

/** Resolves to the reply, or to a failure after `ms`. */
function within(reply: Promise<FromIsolate>, ms: number, what: string): Promise<FromIsolate> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<FromIsolate>((resolve) => {
    timer = setTimeout(
      () => resolve({ kind: "failed", line: `${what}: no answer in ${ms} ms` }),
      ms,
    );
  });
  return Promise.race([reply, late]).finally(() => clearTimeout(timer));
}

/** Starts isolate `index` on `port`; resolves to its listening address or its failure. */
function startIsolate(
  isolates: Isolate[],
  index: number,
  count: number,
  changes: SharedArrayBuffer,
  port: number,
  writer: SharedWriter | undefined,
): Promise<FromIsolate> {
  const isolate = new Isolate(index);
  isolates.push(isolate);
  const link = writer?.connect();
  const role: IsolateRole = { index, count, changes, duties: index === 0, writer: link?.ports };
  return isolate.ask({ kind: "start", role, port }, link?.transfer);
}

/**
 * Stops every isolate (each drains, flushes its audit log and closes, core/shutdown.ts) and
 * resolves to the exit code: 0 when every one stopped cleanly by the deadline, else 1.
 */
async function stopAll(isolates: Isolate[], timeoutMs: number, log: Log): Promise<number> {
  const replies = await Promise.all(
    isolates.map((isolate) =>
      within(isolate.ask({ kind: "stop" }), timeoutMs + 2_000, `isolate ${isolate.index} stop`)
    ),
  );
  let code = 0;
  for (const [i, reply] of replies.entries()) {
    if (reply.kind === "stopped" && reply.code === 0) continue;
    code = 1;
    if (reply.kind === "failed") {
      log({ level: "error", message: "isolate did not stop", isolate: i, error: reply.line });
    }
  }
  return code;
}

/** Closes the shared writer, waiting at most a few seconds for what it still runs. */
async function closeWriter(writer: SharedWriter, log: Log): Promise<void> {
  const closed = writer.close().then(
    () => ({ kind: "stopped", code: 0 }) as const,
    (error) => ({ kind: "failed", line: String(error) }) as const,
  );
  const reply = await within(closed, 5_000, "shared writer close");
  if (reply.kind === "failed") {
    log({ level: "error", message: "shared writer did not close", error: reply.line });
  }
}

/**
 * Serves `config` with `count` isolates until SIGTERM/SIGINT, then exits the process. A start
 * failure (checks, an isolate that cannot start or listen) is printed as one line on stderr
 * and ends the process with exit code 1.
 */
export async function serveIsolates(
  config: Config,
  count: number,
  hooks: IsolateHooks,
): Promise<void> {
  const { log } = hooks;
  const isolates: Isolate[] = [];
  let writer: SharedWriter | undefined;
  const fail = (line: string): never => {
    console.error(line);
    for (const isolate of isolates) isolate.terminate();
    Deno.exit(1);
  };
  let banner: string[] = [];
  try {
    writer = sharedWriterFor(config, count);
    banner = await hooks.prepare();
  } catch (error) {
    fail(startupFailureLine(error));
  }
  if (banner.length > 0) console.log(banner.join("\n"));
  // SIGTERM/SIGINT from here on, even while isolates start (one may already serve): the starts
  // settle, then every isolate drains and closes; a second signal exits at once.
  const starts: Promise<FromIsolate>[] = [];
  let stopping = false;
  const stop = async () => {
    if (stopping) Deno.exit(1);
    stopping = true;
    await Promise.allSettled(starts);
    const code = await stopAll(isolates, config.shutdownTimeoutMs ?? 10_000, log);
    // Every isolate has flushed its audit buffer (or given up by the deadline): close the writer.
    if (writer !== undefined) await closeWriter(writer, log);
    Deno.exit(code);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  const changes = new SharedArrayBuffer(ISOLATE_CHANGES_BYTES);
  const started = (index: number, port: number) => {
    const reply = startIsolate(isolates, index, count, changes, port, writer);
    starts.push(reply);
    return reply;
  };
  // The first isolate binds the port (the actual one when 0 was asked); the others join it.
  const first = await started(0, config.port);
  if (first.kind !== "listening") return fail(first.kind === "failed" ? first.line : "isolate 0");
  const rest = await Promise.all(
    Array.from(
      { length: count - 1 },
      (_, i) => started(i + 1, first.port),
    ),
  );
  let maxConnections = first.maxConnections;
  for (const reply of rest) {
    if (reply.kind !== "listening") fail(reply.kind === "failed" ? reply.line : "isolate");
    else maxConnections += reply.maxConnections;
  }
  log({
    level: "info",
    message: `KMS listening on http://${first.hostname}:${first.port}`,
    region: config.region,
    workers: count,
    maxConnections,
    // storage/shared_writer.ts: one writer hosted here, or a database and audit worker each.
    writer: writer === undefined ? "per isolate" : "shared",
  });
  for (const isolate of isolates) {
    isolate.onCrash((error) => {
      log({ level: "error", message: "isolate failed; stopping", error });
      void stop();
    });
  }
  // SIGHUP re-reads the root keyring file in every isolate (README "Rotating the root key").
  if (Deno.build.os !== "windows") {
    Deno.addSignalListener("SIGHUP", () => {
      for (const isolate of isolates) isolate.tell({ kind: "reload" });
    });
  }
}
