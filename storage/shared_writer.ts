/**
 * SharedWriter: at KMS_WORKERS ≥ 2, the one writer of the whole process, hosted by the main
 * thread (issue 15: RSS per worker). Without it every request isolate starts a database worker
 * (storage/db_worker.ts) and an audit worker (storage/audit_worker.ts) of its own: 2 × N
 * threads, each a V8 isolate of ~21-24 MiB, for work that takes a few per cent of one core.
 * With it, each isolate gets two MessagePorts in its `start` message (isolates.ts) and its
 * DbWorkerClient and AuditWorkerSink speak their usual protocols over them to the handlers
 * here (storage/db_writer_host.ts, storage/audit_writer_host.ts): the same code that runs in
 * the dedicated workers (KMS_WORKERS=1, tests).
 *
 * Why the main thread and not one shared writer Worker: after start-up the main thread only
 * supervises the isolates and waits for signals, and its isolate (~21 MiB heap) exists anyway,
 * so hosting the writer there adds no isolate at all, where a shared Worker would add one (and
 * a restart protocol handing every isolate new ports). What it costs: the local libSQL driver
 * runs a statement synchronously, so a signal waits for the statement running (a commit:
 * 0.5-12 ms; the store's lock check waits in short slices, an audit append for another
 * process's write lock up to the connection's 5 s busy timeout); a disk that stops answering
 * holds the main thread as it would hold the writer threads and every commit with them.
 *
 * What holds, as with a writer per isolate:
 * - database calls of all isolates run one at a time, in arrival order, on one connection (the
 *   handler is stateless per call: grouping, chaining, retries and deadlines stay with each
 *   isolate's WriteQueue);
 * - audit appends: one connection, one WriteQueue, one appender of the buffer chain (no chain
 *   conflicts between isolates); the exactly-once state is per port; retention runs once;
 * - a handler's error answers that call only; a call left unanswered makes the isolate's
 *   client fail its calls in flight as before (a write transaction "may still be committed",
 *   audit appends kept and re-sent) and open its port again;
 * - shutdown: each isolate drains, flushes its audit buffer and closes its ports (isolates.ts
 *   stopAll) before `close()`; a connection closes when its last port does.
 *
 * `KMS_SHARED_WRITER=off` gives every isolate its own workers again (the A/B of
 * scripts/memory_bench.ts).
 *
 * @module
 */
import type { Config } from "../core/config.ts";
import { AuditWriterHost } from "./audit_writer_host.ts";
import { isMemoryUrl, localFilePath } from "./client.ts";
import { canUseWorker } from "./db_worker_client.ts";
import { DbWriterHost } from "./db_writer_host.ts";

/** One isolate's ends of the shared writer: absent where it commits or appends otherwise. */
export interface WriterPorts {
  db?: MessagePort | undefined;
  audit?: MessagePort | undefined;
}

/** The database-commit and audit-append handlers of every isolate, on this thread. */
export class SharedWriter {
  readonly #db: DbWriterHost | undefined;
  readonly #audit: AuditWriterHost | undefined;

  /** `db`: serve database commits; `audit`: serve audit appends. */
  constructor(serves: { db: boolean; audit: boolean }) {
    this.#db = serves.db ? new DbWriterHost() : undefined;
    this.#audit = serves.audit ? new AuditWriterHost() : undefined;
  }

  /** Ports for one more isolate (to transfer in its `start` message); the other ends served here. */
  connect(): { ports: WriterPorts; transfer: MessagePort[] } {
    const ports: WriterPorts = {};
    if (this.#db !== undefined) {
      const channel = new MessageChannel();
      this.#db.serve(channel.port1);
      ports.db = channel.port2;
    }
    if (this.#audit !== undefined) {
      const channel = new MessageChannel();
      this.#audit.serve(channel.port1);
      ports.audit = channel.port2;
    }
    return { ports, transfer: [ports.db, ports.audit].filter((p) => p !== undefined) };
  }

  /** Ports open on each handler (isolates that sent `open` and not yet `close`). */
  get ports(): { db: number; audit: number } {
    return { db: this.#db?.ports ?? 0, audit: this.#audit?.ports ?? 0 };
  }

  /** Waits for what runs, then closes both connections (after every isolate stopped). */
  async close(): Promise<void> {
    await Promise.all([this.#db?.close(), this.#audit?.close()]);
  }
}

/**
 * The shared writer for a process of `count` isolates, or undefined: one isolate, a database
 * that is not a local file, or `KMS_SHARED_WRITER=off` (`sharedWriter: false`).
 */
export function sharedWriterFor(
  config: Pick<Config, "dbUrl" | "dbWorker" | "sharedWriter">,
  count: number,
): SharedWriter | undefined {
  const localFile = localFilePath(config.dbUrl) !== null && !isMemoryUrl(config.dbUrl);
  if (config.sharedWriter === false || count < 2 || !localFile) return undefined;
  return new SharedWriter({
    db: config.dbWorker !== false && canUseWorker(config.dbUrl),
    audit: true,
  });
}
