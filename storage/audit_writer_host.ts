/**
 * AuditWriterHost: the handler of the audit-append protocol of audit_writer.ts
 * (`AuditWorkerRequest` in, `AuditWorkerReply` out), serving one or more message ports. It opens
 * one connection to the database file and appends each port's records to the buffer chain (1)
 * through one WriteQueue, so their SQL, hashing and fsync run beside the request threads instead
 * of on them; each append is answered on its port once committed, an error with its message
 * (records carry no secrets). One appender for every port: one hash chain, no chain conflicts
 * between the isolates of a process (another process on the same database still may conflict:
 * the WriteQueue re-chains and retries).
 *
 * It runs in a dedicated Worker (storage/audit_worker.ts: one port, the worker's scope) and on
 * the main thread of a process serving several isolates (storage/shared_writer.ts: one port per
 * isolate). The connection is opened by the first port's `open` and closed by the last port's
 * `close`.
 *
 * Exactly once, per port: each sender (an AuditBuffer behind an AuditWorkerSink) sends one
 * append at a time and sends it again when it got no answer, so an append whose last event is
 * already in the chain was committed by an earlier attempt (a writer stopped between its commit
 * and its answer) and is acknowledged without writing it twice. The event is looked for by its
 * time and id, not only at the chain's end: another sender may have appended after it. It is
 * looked for only when an earlier attempt of that port may have committed (its first append,
 * an append after a failed one): an indexed SELECT per append costs as much CPU as a dozen
 * records. That state is the port's own, and a port's requests are handled one at a time in
 * order (a sender has one append in flight anyway); appends of several ports share group
 * commits.
 *
 * With a retention policy in an `open` request, the host also runs audit retention
 * (storage/audit_retention.ts) every `retentionIntervalMs` on its connection, a pass at a time
 * in bounded batches — once for the host, whichever ports ask for it; a failed pass is told to
 * the first port still open that asked for it.
 *
 * @module
 */
import type { Client } from "@libsql/client";
import { compactEventId } from "../core/audit/compact.ts";
import { isEntryLine, prepareEntryLine } from "../core/audit/prepared.ts";
import { type AuditRecord, BUFFER_CHAIN, recordFromLine } from "../core/audit/record.ts";
import type {
  AuditWorkerReply,
  AuditWorkerRequest,
  WorkerRetentionSettings,
} from "./audit_writer.ts";
import { retains } from "../core/audit/retention.ts";
import { runRetention } from "./audit_retention.ts";
import { openDatabase } from "./client.ts";
import type { HostPort } from "./db_writer_host.ts";
import { WriteQueue } from "./write_queue.ts";

type AuditPort = HostPort<AuditWorkerRequest, AuditWorkerReply>;

/** What the host keeps of one open port. */
interface PortState {
  /**
   * Whether the port's next append may already be committed: true for a new port or a new
   * worker (a predecessor may have committed an append and been stopped before answering) and
   * after an append that failed (a write can fail after its commit, e.g. by its deadline); false
   * after an append committed and answered, since the sender then sends the next records.
   */
  mayBeCommitted: boolean;
  /** Whether its `open` asked for retention (it is told of failed passes). */
  retention: boolean;
}

/** Appends the audit records of every port it serves through one connection and one queue. */
export class AuditWriterHost {
  #db: Client | null = null;
  #url: string | null = null;
  #queue: WriteQueue | null = null;
  #opening: Promise<void> | null = null;
  readonly #open = new Map<AuditPort, PortState>();
  #retentionTimer: ReturnType<typeof setInterval> | null = null;
  #retaining = false;

  /** Answers the requests arriving on `port` (replaces its message handler). */
  serve(port: AuditPort): void {
    // One request of a port at a time, in order: a sender that re-opens its port after an
    // unanswered append and sends it again meets it committed, not still in the queue.
    let turn: Promise<unknown> = Promise.resolve();
    port.onmessage = (event) => {
      const request = event.data;
      turn = turn.then(() => this.#handle(port, request)).then(
        (reply) => port.postMessage(reply),
        (error) =>
          port.postMessage({
            type: "failed",
            id: request.id,
            message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          }),
      );
    };
  }

  /** Ports open (sent `open` and not yet `close`). */
  get ports(): number {
    return this.#open.size;
  }

  /** Waits for the appends in flight, then stops retention and closes the connection. */
  async close(): Promise<void> {
    this.#open.clear();
    await this.#queue?.idle();
    this.#closeConnection();
  }

  async #handle(port: AuditPort, request: AuditWorkerRequest): Promise<AuditWorkerReply> {
    switch (request.type) {
      case "open": {
        await this.#openConnection(request.url);
        const wantsRetention = request.retention !== undefined &&
          retains(request.retention.policy);
        // A port opened again (its sender gave up waiting for an answer) may resend an append
        // that was committed: look for it as in a new worker.
        this.#open.set(port, { mayBeCommitted: true, retention: wantsRetention });
        if (wantsRetention && this.#retentionTimer === null) {
          this.#startRetention(request.retention!);
        }
        return { type: "opened", id: request.id };
      }
      case "append": {
        const state = this.#open.get(port);
        const queue = this.#queue;
        if (state === undefined || queue === null) {
          throw new Error("audit worker has no database open");
        }
        const records = request.lines.split("\n").map(recordOfLine);
        const last = records.at(-1);
        if (
          state.mayBeCommitted && last !== undefined &&
          await this.#isInChain(last.eventTime, last.eventId)
        ) {
          state.mayBeCommitted = false;
          return { type: "appended", id: request.id };
        }
        // Until this append is answered, it may be committed without its answer arriving.
        state.mayBeCommitted = true;
        await queue.appendAudit(records);
        state.mayBeCommitted = false;
        return { type: "appended", id: request.id };
      }
      case "close":
        this.#open.delete(port);
        if (this.#open.size === 0) {
          await this.#queue?.idle();
          if (this.#open.size === 0) this.#closeConnection();
        }
        return { type: "closed", id: request.id };
    }
  }

  async #openConnection(url: string): Promise<void> {
    if (this.#opening === null) {
      this.#opening = openDatabase(url).then((db) => {
        this.#db = db;
        this.#url = url;
        this.#queue = new WriteQueue(db);
      });
      this.#opening.catch(() => this.#opening = null);
    }
    await this.#opening;
    if (url !== this.#url) throw new Error("audit worker has another database open");
  }

  #closeConnection(): void {
    if (this.#retentionTimer !== null) clearInterval(this.#retentionTimer);
    this.#retentionTimer = null;
    this.#db?.close();
    this.#db = null;
    this.#url = null;
    this.#queue = null;
    this.#opening = null;
  }

  /**
   * Runs a retention pass every `intervalMs`, one at a time; a failure is told to a port that
   * asked for retention (its sink logs it) and the next pass tries again.
   */
  #startRetention(settings: WorkerRetentionSettings): void {
    this.#retentionTimer = setInterval(() => {
      const db = this.#db;
      if (this.#retaining || db === null) return;
      this.#retaining = true;
      runRetention(db, { retention: settings.policy, exportDir: settings.exportDir })
        .catch((error) => this.#retentionFailed(error))
        .finally(() => this.#retaining = false);
    }, settings.intervalMs);
  }

  #retentionFailed(error: unknown): void {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    for (const [port, state] of this.#open) {
      if (!state.retention) continue;
      port.postMessage({ type: "retention-failed", id: 0, message });
      return;
    }
  }

  /** Whether the buffer chain holds the event with this time and id (found by the time index). */
  async #isInChain(eventTime: number, eventId: string): Promise<boolean> {
    const db = this.#db;
    if (db === null) return false;
    const result = await db.execute({
      sql: "SELECT 1 FROM audit_log WHERE event_time = ? AND chain = ? " +
        "AND (event ->> '$.eventID' = ? OR event ->> '$.e' = ?) LIMIT 1",
      args: [eventTime, BUFFER_CHAIN, eventId, compactEventId(eventId)],
    });
    return result.rows.length > 0;
  }
}

/** An entry's line as a PreparedRecord (chained in the compact form, format 2), else its record. */
function recordOfLine(line: string): AuditRecord {
  return isEntryLine(line) ? prepareEntryLine(line) : recordFromLine(line);
}
