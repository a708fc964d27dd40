/**
 * The Worker entry of `audit_writer.ts`: opens its own connection to the
 * database file and appends the buffer chain's records through a WriteQueue
 * of its own, so that their SQL, hashing and fsync run beside the request
 * thread instead of on it. It answers each append with its id once committed;
 * an error answers with the error's message (records carry no secrets).
 *
 * Exactly once: the buffer sends one append at a time and sends it again when
 * it got no answer, so an append whose last event is already in the chain was
 * committed by an earlier attempt (a worker stopped between its commit and
 * its answer) and is acknowledged without writing it twice. The event is
 * looked for by its time and id, not only at the chain's end: another
 * instance on the same database may have appended after it. It is looked for
 * only when an earlier attempt may have committed (the first append of a
 * worker, an append after a failed one): an indexed SELECT per append costs
 * the worker as much CPU as a dozen records.
 *
 * With a retention policy in its `open` request, the worker also runs audit retention
 * (storage/audit_retention.ts) every `retentionIntervalMs` on its own connection, a pass at a
 * time in bounded batches, so that it never blocks the request thread.
 *
 * Not to be imported: it installs the worker's message handler when loaded.
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
import { WriteQueue } from "./write_queue.ts";

/** The part of the worker's global scope this module uses. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<AuditWorkerRequest>) => void) | null;
  postMessage(reply: AuditWorkerReply): void;
}

const scope = globalThis as unknown as WorkerScope;
let db: Client | null = null;
let queue: WriteQueue | null = null;
let retentionTimer: ReturnType<typeof setInterval> | null = null;
let retaining = false;
/**
 * Whether the next append may already be committed: true in a new worker (its predecessor may
 * have committed an append and been stopped before answering) and after an append that failed
 * (a write can fail after its commit, e.g. by its deadline); false after an append this worker
 * committed and answered, since the buffer then sends the next records, not these again.
 */
let mayBeCommitted = true;

scope.onmessage = (event) => {
  void handle(event.data).then(
    (reply) => scope.postMessage(reply),
    (error) =>
      scope.postMessage({
        type: "failed",
        id: event.data.id,
        message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      }),
  );
};

async function handle(request: AuditWorkerRequest): Promise<AuditWorkerReply> {
  switch (request.type) {
    case "open":
      db = await openDatabase(request.url);
      queue = new WriteQueue(db);
      if (request.retention !== undefined && retains(request.retention.policy)) {
        startRetention(request.retention);
      }
      return { type: "opened", id: request.id };
    case "append": {
      if (queue === null) throw new Error("audit worker has no database open");
      const records = request.lines.split("\n").map(recordOfLine);
      const last = records.at(-1);
      if (mayBeCommitted && last !== undefined && await isInChain(last.eventTime, last.eventId)) {
        mayBeCommitted = false;
        return { type: "appended", id: request.id };
      }
      // Until this append is answered, it may be committed without its answer arriving.
      mayBeCommitted = true;
      await queue.appendAudit(records);
      mayBeCommitted = false;
      return { type: "appended", id: request.id };
    }
    case "close":
      if (retentionTimer !== null) clearInterval(retentionTimer);
      retentionTimer = null;
      db?.close();
      db = null;
      queue = null;
      return { type: "closed", id: request.id };
  }
}

/** An entry's line as a PreparedRecord (chained in the compact form, format 2), else its record. */
function recordOfLine(line: string): AuditRecord {
  return isEntryLine(line) ? prepareEntryLine(line) : recordFromLine(line);
}

/**
 * Runs a retention pass every `intervalMs`, one at a time; a failure is reported to the sink
 * (which logs it) and the next pass tries again.
 */
function startRetention(settings: WorkerRetentionSettings): void {
  if (retentionTimer !== null) clearInterval(retentionTimer);
  retentionTimer = setInterval(() => {
    if (retaining || db === null) return;
    retaining = true;
    runRetention(db, { retention: settings.policy, exportDir: settings.exportDir })
      .catch((error) =>
        scope.postMessage({
          type: "retention-failed",
          id: 0,
          message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        })
      )
      .finally(() => retaining = false);
  }, settings.intervalMs);
}

/** Whether the buffer chain holds the event with this time and id (found by the time index). */
async function isInChain(eventTime: number, eventId: string): Promise<boolean> {
  if (db === null) return false;
  const result = await db.execute({
    sql: "SELECT 1 FROM audit_log WHERE event_time = ? AND chain = ? " +
      "AND (event ->> '$.eventID' = ? OR event ->> '$.e' = ?) LIMIT 1",
    args: [eventTime, BUFFER_CHAIN, eventId, compactEventId(eventId)],
  });
  return result.rows.length > 0;
}
