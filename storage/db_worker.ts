/**
 * The Worker entry of `db_worker_client.ts`: opens its own connection to the
 * database file (WAL, synchronous=FULL: storage/client.ts) and runs the
 * statements the request thread sends it, so that their SQL and a commit's
 * fsync block this thread instead of the request thread. It decides nothing:
 * the request thread's WriteQueue (storage/write_queue.ts) groups, chains,
 * retries and answers; this worker runs one call at a time, in the order
 * received, and answers each with its results or its error.
 *
 * Results travel as plain arrays (a libSQL row's column values are not
 * enumerable, so a row does not survive structured cloning); errors as their
 * name, message and SQLite code. Statements and results carry wrapped key
 * material only, never a secret in the clear.
 *
 * Not to be imported: it installs the worker's message handler when loaded.
 *
 * @module
 */
import type { Client, ResultSet } from "@libsql/client";
import { openDatabase } from "./client.ts";
import type { DbWorkerReply, DbWorkerRequest, WireError, WireResult } from "./db_worker_client.ts";

/** The part of the worker's global scope this module uses. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<DbWorkerRequest>) => void) | null;
  postMessage(reply: DbWorkerReply): void;
}

const scope = globalThis as unknown as WorkerScope;
let db: Client | null = null;
/** Calls run one after another, in the order they arrived. */
let turn: Promise<unknown> = Promise.resolve();

scope.onmessage = (event) => {
  const request = event.data;
  turn = turn.then(() => handle(request)).then(
    (results) => scope.postMessage({ type: "done", id: request.id, results }),
    (error) => scope.postMessage({ type: "failed", id: request.id, error: wireError(error) }),
  );
};

async function handle(request: DbWorkerRequest): Promise<WireResult[]> {
  if (request.type === "open") {
    db = await openDatabase(request.url);
    return [];
  }
  if (request.type === "close") {
    db?.close();
    db = null;
    return [];
  }
  if (db === null) throw new Error("the database worker has no database open");
  switch (request.type) {
    case "batch":
      return (await db.batch(request.statements, request.mode)).map(wireResult);
    case "execute":
      return [wireResult(await db.execute(request.statement))];
    case "executeMultiple":
      await db.executeMultiple(request.sql);
      return [];
  }
}

function wireResult(result: ResultSet): WireResult {
  return {
    columns: [...result.columns],
    columnTypes: [...result.columnTypes],
    rows: result.rows.map((row) => Array.from(row)),
    rowsAffected: result.rowsAffected,
    lastInsertRowid: result.lastInsertRowid,
  };
}

function wireError(error: unknown): WireError {
  const fields = error as { code?: unknown; rawCode?: unknown } | null;
  return {
    name: error instanceof Error ? error.name : "Error",
    message: error instanceof Error ? error.message : String(error),
    code: typeof fields?.code === "string" ? fields.code : undefined,
    rawCode: typeof fields?.rawCode === "number" ? fields.rawCode : undefined,
  };
}
