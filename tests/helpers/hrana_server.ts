/**
 * A small stand-in for a remote libSQL server (sqld / Turso) in tests: Hrana 2 over HTTP with JSON
 * (`POST /v2/pipeline`), the protocol `@libsql/client/web` speaks to `libsql://`, `http://` and
 * `https://` URLs, backed by a local database file through `node:sqlite` (SQLite built into Deno,
 * so no second libSQL driver is involved). Each Hrana stream gets its own connection, as on a real
 * server, and keeps it (with any open transaction) across pipeline requests by baton.
 *
 * It implements what the client sends: `execute`, `batch` (with `ok`/`error`/`not`/`and`/`or`
 * conditions), `sequence`, `store_sql`, `close_sql`, `close`; positional and named arguments; an
 * optional bearer token. Not `describe`, cursors, protobuf or Hrana 3.
 *
 * @see https://github.com/tursodatabase/libsql/blob/main/docs/HRANA_SPEC.md
 * @module
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";

/** A running stand-in. */
export interface HranaServer {
  /** `http://127.0.0.1:<port>`: use it as the libSQL URL. */
  url: string;
  /** Pipeline requests answered so far. */
  readonly pipelines: number;
  close(): Promise<void>;
}

type HranaValue =
  | { type: "null" }
  | { type: "integer"; value: string }
  | { type: "float"; value: number }
  | { type: "text"; value: string }
  | { type: "blob"; base64: string };

interface HranaStmt {
  sql?: string;
  sql_id?: number;
  args?: HranaValue[];
  named_args?: { name: string; value: HranaValue }[];
  want_rows?: boolean;
}

type HranaCond =
  | { type: "ok" | "error"; step: number }
  | { type: "not"; cond: HranaCond }
  | { type: "and" | "or"; conds: HranaCond[] }
  | { type: "is_autocommit" };

type StreamRequest =
  | { type: "close" }
  | { type: "execute"; stmt: HranaStmt }
  | { type: "batch"; batch: { steps: { condition?: HranaCond; stmt: HranaStmt }[] } }
  | { type: "sequence"; sql?: string; sql_id?: number }
  | { type: "store_sql"; sql_id: number; sql: string }
  | { type: "close_sql"; sql_id: number }
  | { type: string };

interface Stream {
  db: DatabaseSync;
  sql: Map<number, string>;
}

/** SQLite's extended result codes the KMS store tells apart, by number. */
const RESULT_CODES: Readonly<Record<number, string>> = {
  5: "SQLITE_BUSY",
  19: "SQLITE_CONSTRAINT",
  787: "SQLITE_CONSTRAINT_FOREIGNKEY",
  1555: "SQLITE_CONSTRAINT_PRIMARYKEY",
  2067: "SQLITE_CONSTRAINT_UNIQUE",
};

/** Serves `file:<dbPath>` as a remote libSQL database on 127.0.0.1; `token` requires a bearer. */
export function startHranaServer(dbPath: string, options: { token?: string } = {}): HranaServer {
  const setup = new DatabaseSync(dbPath);
  setup.exec("PRAGMA journal_mode=WAL");
  setup.close();
  const streams = new Map<string, Stream>();
  let pipelines = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (options.token !== undefined) {
      if (req.headers.get("authorization") !== `Bearer ${options.token}`) {
        return new Response("unauthorized", { status: 401 });
      }
    }
    if (req.method === "GET" && path === "/v2") return new Response("ok");
    if (req.method !== "POST" || path !== "/v2/pipeline") {
      return new Response("not found", { status: 404 });
    }
    pipelines++;
    const body = await req.json() as { baton: string | null; requests: StreamRequest[] };
    let stream: Stream | undefined;
    if (body.baton === null || body.baton === undefined) {
      stream = { db: openConnection(dbPath), sql: new Map() };
    } else {
      stream = streams.get(body.baton);
      streams.delete(body.baton);
      if (stream === undefined) return new Response("unknown baton", { status: 400 });
    }
    const results: unknown[] = [];
    let open = true;
    for (const request of body.requests) {
      try {
        const response = handle(stream, request);
        if (request.type === "close") open = false;
        results.push({ type: "ok", response });
      } catch (error) {
        results.push({ type: "error", error: hranaError(error) });
      }
    }
    let baton: string | null = null;
    if (open) {
      baton = crypto.randomUUID();
      streams.set(baton, stream);
    } else {
      stream.db.close();
    }
    return Response.json({ baton, base_url: null, results });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    get pipelines() {
      return pipelines;
    },
    async close() {
      await server.shutdown();
      for (const stream of streams.values()) stream.db.close();
      streams.clear();
    },
  };
}

function openConnection(dbPath: string): DatabaseSync {
  const db = new DatabaseSync(dbPath);
  db.exec("PRAGMA busy_timeout=5000");
  db.exec("PRAGMA foreign_keys=ON");
  return db;
}

function handle(stream: Stream, request: StreamRequest): unknown {
  switch (request.type) {
    case "close":
      return { type: "close" };
    case "execute": {
      const { stmt } = request as { stmt: HranaStmt };
      return { type: "execute", result: execute(stream, stmt) };
    }
    case "batch": {
      const { batch } = request as {
        batch: { steps: { condition?: HranaCond; stmt: HranaStmt }[] };
      };
      const outcomes: ("ok" | "error" | undefined)[] = [];
      const stepResults: unknown[] = [];
      const stepErrors: unknown[] = [];
      for (const step of batch.steps) {
        if (step.condition !== undefined && !holds(step.condition, outcomes)) {
          outcomes.push(undefined);
          stepResults.push(null);
          stepErrors.push(null);
          continue;
        }
        try {
          stepResults.push(execute(stream, step.stmt));
          stepErrors.push(null);
          outcomes.push("ok");
        } catch (error) {
          stepResults.push(null);
          stepErrors.push(hranaError(error));
          outcomes.push("error");
        }
      }
      return { type: "batch", result: { step_results: stepResults, step_errors: stepErrors } };
    }
    case "sequence": {
      const { sql, sql_id } = request as { sql?: string; sql_id?: number };
      stream.db.exec(sqlText(stream, { sql, sql_id }));
      return { type: "sequence" };
    }
    case "store_sql": {
      const { sql_id, sql } = request as { sql_id: number; sql: string };
      stream.sql.set(sql_id, sql);
      return { type: "store_sql" };
    }
    case "close_sql":
      stream.sql.delete((request as { sql_id: number }).sql_id);
      return { type: "close_sql" };
    default:
      throw new Error(`request type ${request.type} is not supported by this stand-in`);
  }
}

function holds(cond: HranaCond, outcomes: readonly ("ok" | "error" | undefined)[]): boolean {
  switch (cond.type) {
    case "ok":
    case "error":
      return outcomes[cond.step] === cond.type;
    case "not":
      return !holds(cond.cond, outcomes);
    case "and":
      return cond.conds.every((c) => holds(c, outcomes));
    case "or":
      return cond.conds.some((c) => holds(c, outcomes));
    default:
      throw new Error(`condition ${cond.type} is not supported by this stand-in`);
  }
}

function sqlText(stream: Stream, stmt: { sql?: string | undefined; sql_id?: number | undefined }) {
  if (stmt.sql !== undefined) return stmt.sql;
  const stored = stmt.sql_id === undefined ? undefined : stream.sql.get(stmt.sql_id);
  if (stored === undefined) throw new Error(`no SQL text stored as ${stmt.sql_id}`);
  return stored;
}

function execute(stream: Stream, stmt: HranaStmt): unknown {
  const statement = stream.db.prepare(sqlText(stream, stmt));
  const args = (stmt.args ?? []).map(fromHrana);
  const named = Object.fromEntries(
    (stmt.named_args ?? []).map((a) => [a.name.replace(/^[:@$]/, ""), fromHrana(a.value)]),
  );
  const hasNamed = Object.keys(named).length > 0;
  const columns = statement.columns();
  if (columns.length === 0) {
    const { changes, lastInsertRowid } = hasNamed
      ? statement.run(named, ...args)
      : statement.run(...args);
    return {
      cols: [],
      rows: [],
      affected_row_count: Number(changes),
      last_insert_rowid: String(lastInsertRowid),
    };
  }
  statement.setReadBigInts(true);
  statement.setReturnArrays(true);
  const rows =
    (hasNamed ? statement.all(named, ...args) : statement.all(...args)) as unknown as unknown[][];
  return {
    cols: columns.map((c) => ({ name: c.name, decltype: c.type })),
    rows: stmt.want_rows === false ? [] : rows.map((row) => row.map(toHrana)),
    affected_row_count: 0,
    last_insert_rowid: null,
  };
}

function fromHrana(value: HranaValue): SQLInputValue {
  switch (value.type) {
    case "null":
      return null;
    case "integer":
      return BigInt(value.value);
    case "float":
      return value.value;
    case "text":
      return value.value;
    case "blob":
      return Uint8Array.fromBase64(value.base64);
  }
}

function toHrana(value: unknown): HranaValue {
  if (value === null || value === undefined) return { type: "null" };
  if (typeof value === "bigint") return { type: "integer", value: String(value) };
  if (typeof value === "number") return { type: "float", value };
  if (typeof value === "string") return { type: "text", value };
  if (value instanceof ArrayBuffer) {
    return { type: "blob", base64: new Uint8Array(value).toBase64() };
  }
  if (value instanceof Uint8Array) return { type: "blob", base64: value.toBase64() };
  throw new Error(`cannot encode a ${typeof value} as a Hrana value`);
}

function hranaError(error: unknown): { message: string; code: string } {
  const errcode = (error as { errcode?: unknown })?.errcode;
  return {
    message: error instanceof Error ? error.message : String(error),
    code: typeof errcode === "number"
      ? RESULT_CODES[errcode] ?? RESULT_CODES[errcode & 0xff] ?? "SQLITE_ERROR"
      : "SQLITE_ERROR",
  };
}
