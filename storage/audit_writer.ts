/**
 * AuditWorkerSink: the AuditBuffer's sink for a local database file. The
 * local libSQL driver runs every statement synchronously, so a commit on the
 * request thread blocks every request for its SQL and its fsync (measured at
 * 16-24 µs per 1 KB record in groups of 256, WAL, synchronous=FULL). This
 * sink hands the records to a worker thread (storage/audit_worker.ts) with its
 * own connection, which chains and commits them there: the request thread
 * pays one JSON.stringify per record.
 *
 * The worker is the only writer of the buffer chain (1); records of state
 * changes keep being chained on the request thread's connection (chain 0), in
 * the same transaction as the change. A worker that fails, or leaves a
 * request unanswered for `timeoutMs` (hung on a lock or a dead disk), is
 * terminated and its appends rejected (the AuditBuffer keeps and retries
 * them; the worker's exactly-once check skips a write it had committed); the
 * next append starts a new worker.
 *
 * In a process serving several isolates, the sink is given a port to the one
 * audit writer the main thread hosts for all of them (storage/shared_writer.ts)
 * instead of a worker script: same protocol (storage/audit_writer_host.ts), one
 * appender of the buffer chain for the whole process, exactly-once per port.
 * Then "terminated" means the sink stops listening and opens the port again.
 *
 * @module
 */
import type { AuditSink } from "../core/audit/ports.ts";
import { type AuditRecord, recordLine } from "../core/audit/record.ts";
import type { AuditRetention } from "../core/audit/retention.ts";
import { linkTo, type WriterLink, type WriterTarget } from "./writer_link.ts";

/** Retention the worker runs beside its appends (storage/audit_retention.ts). */
export interface AuditRetentionSettings {
  policy: AuditRetention;
  /** Where removed records are exported first (`KMS_AUDIT_EXPORT_DIR`); none when absent. */
  exportDir?: string | undefined;
  /** Between passes, ms. */
  intervalMs: number;
  /** Told of a pass that failed (the next one tries again). */
  onError?: ((message: string) => void) | undefined;
}

/** What the worker is sent of AuditRetentionSettings (a function does not cross threads). */
export type WorkerRetentionSettings = Omit<AuditRetentionSettings, "onError">;

/** Between retention passes when not told otherwise, ms. */
export const DEFAULT_RETENTION_INTERVAL_MS = 5000;

/** The worker's retention settings from the configuration; undefined without a policy. */
export function retentionSettings(
  config: { auditRetention?: AuditRetention | undefined; auditExportDir?: string | undefined },
  onError?: (message: string) => void,
): AuditRetentionSettings | undefined {
  if (config.auditRetention === undefined) return undefined;
  return {
    policy: config.auditRetention,
    exportDir: config.auditExportDir,
    intervalMs: DEFAULT_RETENTION_INTERVAL_MS,
    onError,
  };
}

/** A message to the audit worker. */
export type AuditWorkerRequest =
  | { type: "open"; id: number; url: string; retention?: WorkerRetentionSettings | undefined }
  /** `lines`: the records' lines (core/audit/record.ts), joined by "\n" (one string clones fast). */
  | { type: "append"; id: number; lines: string }
  | { type: "close"; id: number };

/** The audit worker's answer to the request with the same id. */
export type AuditWorkerReply =
  | { type: "opened" | "appended" | "closed"; id: number }
  | { type: "failed"; id: number; message: string }
  /** Not an answer: a retention pass failed (told to `AuditRetentionSettings.onError`). */
  | { type: "retention-failed"; id: 0; message: string };

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

/** Writes buffered audit records from a worker thread with its own connection to `url`. */
export class AuditWorkerSink implements AuditSink {
  readonly #url: string;
  readonly #target: WriterTarget;
  #link: WriterLink<AuditWorkerRequest> | null = null;
  #ready: Promise<void> | null = null;
  #opened = false;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  readonly #timeoutMs: number;
  readonly #retention: AuditRetentionSettings | undefined;

  /**
   * `url` is a local `file:` URL (an in-memory database cannot be shared with a worker).
   * `target`: the worker script to start (default storage/audit_worker.ts), or a port to a
   * shared audit writer (storage/shared_writer.ts).
   * `timeoutMs`: how long a request may go unanswered before the worker is replaced (default
   * 30 s: above the connection's 5 s busy timeout and the write queue's retries of it).
   * `retention`: the policy the worker enforces (`KMS_AUDIT_RETENTION`); none by default.
   */
  constructor(
    url: string,
    target: WriterTarget = new URL("./audit_worker.ts", import.meta.url),
    timeoutMs = 30_000,
    retention?: AuditRetentionSettings,
  ) {
    if (!url.startsWith("file:") || url.startsWith("file::memory:")) {
      throw new Error("the audit worker needs a local database file");
    }
    this.#url = url;
    this.#target = target;
    this.#timeoutMs = timeoutMs;
    this.#retention = retention;
  }

  /** Starts the worker and opens its connection (also done by the first append). */
  async open(): Promise<void> {
    await this.#start();
  }

  /** Commits `records` to the buffer chain; resolves once committed. */
  appendAudit(records: readonly AuditRecord[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("audit worker sink is closed"));
    // A line is JSON, which never holds a raw newline.
    const lines = records.map(recordLine).join("\n");
    const request: AuditWorkerRequest = { type: "append", id: 0, lines };
    if (this.#opened) return this.#request(request);
    return this.#start().then(() => this.#request(request));
  }

  /** Closes the worker's connection and stops it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const link = this.#link;
    if (link === null) return;
    try {
      await this.#request({ type: "close", id: 0 });
    } finally {
      this.#stop(new Error("audit worker sink is closed"));
      link.close();
    }
  }

  #start(): Promise<void> {
    if (this.#ready !== null) return this.#ready;
    const link: WriterLink<AuditWorkerRequest> = linkTo<AuditWorkerRequest, AuditWorkerReply>(
      this.#target,
      "kms-audit",
      {
        reply: (reply) => this.#answer(reply),
        failed: (detail) => {
          if (this.#link === link) this.#stop(new Error(`audit worker failed: ${detail}`));
        },
      },
    );
    this.#link = link;
    const ready = this.#send(link, {
      type: "open",
      id: 0,
      url: this.#url,
      retention: this.#retention === undefined ? undefined : {
        policy: this.#retention.policy,
        exportDir: this.#retention.exportDir,
        intervalMs: this.#retention.intervalMs,
      },
    });
    this.#ready = ready;
    ready.then(
      () => {
        if (this.#link === link) this.#opened = true;
      },
      () => {
        if (this.#link === link) {
          this.#stop(new Error("audit worker could not open the database"));
        }
      },
    );
    return ready;
  }

  #answer(reply: AuditWorkerReply): void {
    if (reply.type === "retention-failed") {
      this.#retention?.onError?.(reply.message);
      return;
    }
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (reply.type === "failed") pending.reject(new Error(`audit worker: ${reply.message}`));
    else pending.resolve();
  }

  #request(request: AuditWorkerRequest): Promise<void> {
    const link = this.#link;
    if (link === null) return Promise.reject(new Error("audit worker is not running"));
    return this.#send(link, request);
  }

  #send(link: WriterLink<AuditWorkerRequest>, request: AuditWorkerRequest): Promise<void> {
    const id = this.#nextId++;
    const answered = new Promise<void>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      link.post({ ...request, id });
    });
    const unanswered = setTimeout(() => {
      if (this.#link === link && this.#pending.has(id)) {
        this.#stop(new Error(`audit worker gave no answer within ${this.#timeoutMs} ms`));
      }
    }, this.#timeoutMs);
    return answered.finally(() => clearTimeout(unanswered));
  }

  /** Stops the worker (leaves a port) and rejects what is in flight; a later append restarts. */
  #stop(reason: Error): void {
    this.#link?.drop();
    this.#link = null;
    this.#ready = null;
    this.#opened = false;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(reason);
  }
}
