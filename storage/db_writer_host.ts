/**
 * DbWriterHost: the handler of the database-commit protocol of db_worker_client.ts
 * (`DbWorkerRequest` in, `DbWorkerReply` out), serving one or more message ports. It opens one
 * connection to the database file (WAL, synchronous=FULL: storage/client.ts) and runs the
 * statements it is sent on it, one call at a time in the order received over all its ports,
 * answering each on the port it came from with its results or its error. It decides nothing:
 * each sender's WriteQueue (storage/write_queue.ts) groups, chains, retries and answers, so
 * calls from several senders need no state of their own here.
 *
 * The same handler runs in a dedicated Worker (storage/db_worker.ts: one port, the worker's
 * scope) and on the main thread of a process serving several isolates (storage/shared_writer.ts:
 * one port per isolate, one connection and one thread for all of them). The connection is
 * opened by the first port's `open` and closed by the last port's `close`; an `open` of a port
 * already open (a client sending it again after a call went unanswered) changes nothing.
 *
 * Results travel as plain arrays (a libSQL row's column values are not enumerable, so a row
 * does not survive structured cloning); errors as their name, message and SQLite code.
 * Statements and results carry wrapped key material only, never a secret in the clear.
 *
 * @module
 */
import type { Client, ResultSet } from "@libsql/client";
import { openDatabase } from "./client.ts";
import type { DbWorkerReply, DbWorkerRequest, WireError, WireResult } from "./db_worker_client.ts";

/** What a host serves: a Worker's global scope or a MessagePort. */
export interface HostPort<Request, Reply> {
  onmessage: ((event: MessageEvent<Request>) => void) | null;
  postMessage(reply: Reply): void;
}

/** Runs the database calls of every port it serves on one connection, one at a time. */
export class DbWriterHost {
  #db: Client | null = null;
  #url: string | null = null;
  readonly #open = new Set<object>();
  /** Calls run one after another, in the order they arrived, whichever port they came on. */
  #turn: Promise<unknown> = Promise.resolve();

  /** Answers the calls arriving on `port` (replaces its message handler). */
  serve(port: HostPort<DbWorkerRequest, DbWorkerReply>): void {
    port.onmessage = (event) => {
      const request = event.data;
      this.#turn = this.#turn.then(() => this.#handle(port, request)).then(
        (results) => port.postMessage({ type: "done", id: request.id, results }),
        (error) => port.postMessage({ type: "failed", id: request.id, error: wireError(error) }),
      );
    };
  }

  /** Ports open (sent `open` and not yet `close`). */
  get ports(): number {
    return this.#open.size;
  }

  /** Closes the connection whatever ports are still open; waits for the call running. */
  async close(): Promise<void> {
    this.#open.clear();
    await this.#turn.catch(() => {});
    this.#closeConnection();
  }

  async #handle(port: object, request: DbWorkerRequest): Promise<WireResult[]> {
    if (request.type === "open") {
      await this.#openConnection(request.url);
      this.#open.add(port);
      return [];
    }
    if (request.type === "close") {
      this.#open.delete(port);
      if (this.#open.size === 0) this.#closeConnection();
      return [];
    }
    const db = this.#db;
    if (db === null || !this.#open.has(port)) {
      throw new Error("the database worker has no database open");
    }
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

  async #openConnection(url: string): Promise<void> {
    if (this.#db !== null) {
      if (url !== this.#url) throw new Error("the database worker has another database open");
      return;
    }
    this.#db = await openDatabase(url);
    this.#url = url;
  }

  #closeConnection(): void {
    this.#db?.close();
    this.#db = null;
    this.#url = null;
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
