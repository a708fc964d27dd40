import assert from "node:assert/strict";
import type { InStatement, InValue, ResultSet } from "@libsql/client";
import { chainHash, type ChainHead, EMPTY_CHAIN } from "../core/audit/chain.ts";
import { AuditEntry } from "../core/audit/entry.ts";
import type { AuditRecord } from "../core/audit/record.ts";
import { SqliteAuditStore, storedEvent } from "./audit_store.ts";
import { localFilePath, openDatabase } from "./client.ts";
import { DbWorkerClient } from "./db_worker_client.ts";
import { dirname } from "node:path";
import { migrate } from "./migrate.ts";
import { type BatchClient, WriteQueue } from "./write_queue.ts";
import { waitFor } from "../tests/helpers/wait.ts";

/** A fake client: each statement's result carries its SQL in `columns`; "FAIL" throws. */
function fakeClient(): BatchClient & { batches: string[][] } {
  const batches: string[][] = [];
  return {
    batches,
    batch(stmts: InStatement[]): Promise<ResultSet[]> {
      const sqls = stmts.map((s) => (typeof s === "string" ? s : s.sql));
      batches.push(sqls);
      if (sqls.includes("FAIL")) return Promise.reject(new Error("statement failed"));
      return Promise.resolve(sqls.map((sql) => ({ columns: [sql] }) as unknown as ResultSet));
    },
  };
}

Deno.test("WriteQueue commits writes submitted together in one batch", async () => {
  const db = fakeClient();
  const queue = new WriteQueue(db);
  const results = await Promise.all([
    queue.submit(["a1", "a2"]),
    queue.submit(["b1"]),
    queue.submit(["c1", "c2", "c3"]),
  ]);
  assert.deepEqual(db.batches, [["a1", "a2", "b1", "c1", "c2", "c3"]]);
  assert.deepEqual(results.map((r) => r.map((s) => s.columns[0])), [
    ["a1", "a2"],
    ["b1"],
    ["c1", "c2", "c3"],
  ]);
});

Deno.test("WriteQueue fails only the bad write when a group fails", async () => {
  const db = fakeClient();
  const queue = new WriteQueue(db);
  const results = await Promise.allSettled([
    queue.submit(["a"]),
    queue.submit(["FAIL"]),
    queue.submit(["c"]),
  ]);
  assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
  assert.deepEqual(db.batches, [["a", "FAIL", "c"], ["a"], ["FAIL"], ["c"]]);
});

Deno.test("WriteQueue keeps committing writes that arrive while it commits", async () => {
  const db = fakeClient();
  const queue = new WriteQueue(db);
  const first = queue.submit(["a"]);
  await first;
  const later = await Promise.all([queue.submit(["b"]), queue.submit(["c"])]);
  assert.equal(later.length, 2);
  assert.deepEqual(db.batches, [["a"], ["b", "c"]]);
  assert.deepEqual(await queue.submit([]), []);
  assert.equal(db.batches.length, 2);
});

// --- audit records ---------------------------------------------------------

const KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

function auditRecord(requestId: string, operation = "CreateAlias"): AuditRecord {
  const entry = new AuditEntry({
    time: 1_700_000_000_000,
    requestId,
    operation,
    principal: {
      arn: "arn:aws:iam::111122223333:root",
      accountId: "111122223333",
      accessKeyId: "A",
    },
    sourceIp: "127.0.0.1",
    userAgent: null,
    region: "us-east-1",
  });
  entry.addResource(KEY);
  entry.setDecision("Allow");
  return entry.record();
}

interface AuditRow {
  chain: number;
  seq: number;
  requestId: string;
  prevHash: Uint8Array;
  hash: Uint8Array;
  json: string;
}

/** A fake client that also decodes the audit INSERTs it commits. */
function auditClient(): BatchClient & { batches: string[][]; committed: AuditRow[] } {
  const batches: string[][] = [];
  const committed: AuditRow[] = [];
  /** audit_dict as committed: what expands the compact rows of the buffer chain. */
  const dictionary = new Map<string, string>();
  return {
    batches,
    committed,
    batch(stmts: InStatement[]): Promise<ResultSet[]> {
      const sqls = stmts.map((s) => (typeof s === "string" ? s : s.sql));
      batches.push(
        sqls.map((sql) =>
          sql.startsWith("INSERT INTO audit_log")
            ? "AUDIT"
            : sql.startsWith("INSERT INTO audit_dict")
            ? "DICT"
            : sql.startsWith("INSERT INTO audit_key_usage")
            ? "USAGE"
            : sql
        ),
      );
      if (sqls.includes("FAIL")) return Promise.reject(new Error("statement failed"));
      for (const stmt of stmts) {
        if (typeof stmt !== "string" && stmt.sql.startsWith("INSERT INTO audit_dict")) {
          const args = stmt.args as string[];
          for (let i = 0; i < args.length; i += 2) dictionary.set(args[i]!, args[i + 1]!);
        }
        if (typeof stmt === "string" || !stmt.sql.startsWith("INSERT INTO audit_log")) continue;
        const args = stmt.args as InValue[];
        for (let i = 0; i < args.length; i += 6) {
          // A compact row (core/audit/compact.ts) hashes its expanded event after the chain's last.
          const json = storedEvent(args[i + 3] as string, args[i + 2] as number, (ref) =>
            dictionary.get(ref))!.json;
          const chain = args[i] as number;
          const stored = args[i + 4] as Uint8Array;
          const previous = committed.filter((r) =>
            r.chain === chain
          ).at(-1)?.hash ?? EMPTY_CHAIN.hash;
          committed.push({
            chain,
            seq: args[i + 1] as number,
            requestId: JSON.parse(json).requestID,
            prevHash: stored.length === 0 ? previous : stored,
            hash: args[i + 5] as Uint8Array,
            json,
          });
        }
      }
      return Promise.resolve(sqls.map((sql) => ({ columns: [sql] }) as unknown as ResultSet));
    },
  };
}

function assertChained(rows: AuditRow[], from: ChainHead = EMPTY_CHAIN): void {
  let head = from;
  for (const row of rows) {
    assert.equal(row.seq, head.seq + 1);
    assert.deepEqual(row.prevHash, head.hash);
    assert.deepEqual(row.hash, chainHash(head.hash, row.seq, row.json));
    head = { seq: row.seq, hash: row.hash };
  }
}

Deno.test("WriteQueue chains audit records in submission order in the same batch", async () => {
  const db = auditClient();
  const loads: number[] = [];
  const queue = new WriteQueue(db, {
    auditHead: (chain) => {
      loads.push(chain);
      return Promise.resolve(EMPTY_CHAIN);
    },
  });
  const results = await Promise.all([
    queue.submit(["a"], [auditRecord("r1")]),
    queue.submit(["b1", "b2"], [auditRecord("r2"), auditRecord("r3")]),
    queue.submit(["c"]),
    queue.appendAudit([auditRecord("r4", "Encrypt")]),
  ]);
  // State changes and their records in chain 0, the buffer's records in chain 1: one batch.
  assert.deepEqual(db.batches, [["a", "b1", "b2", "c", "AUDIT", "DICT", "AUDIT", "USAGE"]]);
  assert.deepEqual(results.map((r) => r?.map((s) => s.columns[0])), [
    ["a"],
    ["b1", "b2"],
    ["c"],
    undefined,
  ]);
  assert.deepEqual(db.committed.map((r) => [r.chain, r.seq, r.requestId]), [
    [0, 1, "r1"],
    [0, 2, "r2"],
    [0, 3, "r3"],
    [1, 1, "r4"],
  ]);
  await queue.appendAudit([auditRecord("r5", "Encrypt")]);
  await queue.submit(["d"], [auditRecord("r6")]);
  const chain = (n: number) => db.committed.filter((r) => r.chain === n);
  assert.deepEqual(chain(0).map((r) => r.seq), [1, 2, 3, 4]);
  assert.deepEqual(chain(1).map((r) => r.seq), [1, 2]);
  assertChained(chain(0));
  assertChained(chain(1));
  assert.deepEqual(loads, [0, 1]);
});

Deno.test("WriteQueue: a failed group does not advance the chain; writes retry alone", async () => {
  const db = auditClient();
  let loads = 0;
  const queue = new WriteQueue(db, {
    auditHead: (chain) => {
      loads++;
      // The head as committed so far (what the database would answer).
      const last = db.committed.filter((r) => r.chain === chain).at(-1);
      return Promise.resolve(last === undefined ? EMPTY_CHAIN : { seq: last.seq, hash: last.hash });
    },
  });
  const results = await Promise.allSettled([
    queue.submit(["a"], [auditRecord("r1")]),
    queue.submit(["FAIL"], [auditRecord("r2")]),
    queue.submit(["c"], [auditRecord("r3")]),
  ]);
  assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
  assert.deepEqual(db.batches, [
    ["a", "FAIL", "c", "AUDIT"],
    ["a", "AUDIT"],
    ["FAIL", "AUDIT"],
    ["c", "AUDIT"],
  ]);
  // The failed write's record is not in the chain and left no hole.
  assert.deepEqual(db.committed.map((r) => [r.seq, r.requestId]), [[1, "r1"], [2, "r3"]]);
  assertChained(db.committed);
  assert.ok(loads >= 2, "the head is read again after a failed transaction");
});

/** The connections a WriteQueue commits through: the reading client itself, or a database worker. */
const COMMITTERS = [
  { name: "in-thread, :memory:", url: () => ":memory:", worker: false },
  {
    name: "database worker, file",
    url: () => `file:${Deno.makeTempDirSync({ prefix: "kms_queue_" })}/kms.db`,
    worker: true,
  },
];

for (const committer of COMMITTERS) {
  Deno.test(`WriteQueue (${committer.name}) commits a change and its audit record in one transaction, or neither`, async () => {
    const url = committer.url();
    const db = await openDatabase(url);
    const writer = committer.worker ? new DbWorkerClient(url) : undefined;
    try {
      await migrate(db);
      await db.execute("CREATE TABLE things (id TEXT PRIMARY KEY) STRICT");
      const writes = writer ?? db;
      const queue = new WriteQueue(writes);
      const insert = (id: string) => ({ sql: "INSERT INTO things (id) VALUES (?)", args: [id] });
      const outcomes = await Promise.allSettled([
        queue.submit([insert("x")], [auditRecord("ok-1")]),
        queue.submit([insert("x")], [auditRecord("duplicate")]),
        queue.submit([insert("y")], [auditRecord("ok-2")]),
        queue.appendAudit([auditRecord("buffered", "Encrypt")]),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status), [
        "fulfilled",
        "rejected",
        "fulfilled",
        "fulfilled",
      ]);
      const things = await db.execute("SELECT id FROM things ORDER BY id");
      assert.deepEqual(things.rows.map((r) => r["id"]), ["x", "y"]);
      const store = new SqliteAuditStore(db);
      const events = await store.query();
      assert.deepEqual(events.map((e) => e.requestId), ["ok-1", "ok-2", "buffered"]);
      assert.deepEqual(events.map((e) => [e.seq, e.chain, e.chainSeq]), [
        [1, 0, 1],
        [2, 0, 2],
        [3, 1, 1],
      ]);
      assert.deepEqual(await store.verify().then((v) => v.ok), true);
      // A fresh queue (a restart) continues the chain from the stored head.
      const restarted = new WriteQueue(writes);
      await restarted.submit([insert("z")], [auditRecord("after-restart")]);
      const verified = await store.verify();
      assert.equal(verified.ok && verified.count, 4);
    } finally {
      await writer?.close();
      db.close();
      const path = localFilePath(url);
      if (path !== null) await Deno.remove(dirname(path), { recursive: true });
    }
  });
}

Deno.test("WriteQueue: a transaction another writer beat to the chain head is chained again after the new head", async () => {
  const db = auditClient();
  // Another instance's record, committed after this queue read the head.
  const theirs = chainHash(EMPTY_CHAIN.hash, 1, '{"theirs":true}');
  let loads = 0;
  let raced = false;
  const queue = new WriteQueue({
    batch(stmts: InStatement[]) {
      if (!raced) {
        raced = true;
        return Promise.reject(
          new Error(
            "SQLITE_CONSTRAINT: UNIQUE constraint failed: audit_log.chain, audit_log.chain_seq",
          ),
        );
      }
      return db.batch(stmts);
    },
  }, {
    auditHead: () => {
      loads++;
      return Promise.resolve(loads === 1 ? EMPTY_CHAIN : { seq: 1, hash: theirs });
    },
  });
  const [results] = await Promise.all([queue.submit(["a"], [auditRecord("r1")])]);
  assert.deepEqual(results.map((r) => r.columns[0]), ["a"]);
  assert.equal(loads, 2);
  assert.equal(queue.chainConflicts, 1);
  assert.deepEqual(db.committed.map((r) => [r.seq, r.requestId]), [[2, "r1"]]);
  assertChained(db.committed, { seq: 1, hash: theirs });
  // A failure that is not the chain's is not retried.
  await assert.rejects(queue.submit(["FAIL"], [auditRecord("r2")]), /statement failed/);
  assert.equal(queue.chainConflicts, 1);
});

Deno.test("WriteQueue retries a transaction that found the database locked past the busy timeout", async () => {
  const db = fakeClient();
  let locked = 2;
  const queue = new WriteQueue({
    batch(stmts: InStatement[]) {
      if (locked-- > 0) {
        return Promise.reject(
          Object.assign(new Error("SQLITE_BUSY: database is locked"), { code: "SQLITE_BUSY" }),
        );
      }
      return db.batch(stmts);
    },
  });
  const results = await queue.submit(["a"]);
  assert.deepEqual(results.map((r) => r.columns[0]), ["a"]);
  locked = 10;
  await assert.rejects(queue.submit(["b"]), /database is locked/);
});

// --- deadlines ---------------------------------------------------------------------------

/** A client whose batches wait until `release()`; records what it was asked to commit. */
function heldClient(): BatchClient & { batches: string[][]; release(): void } {
  const batches: string[][] = [];
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => open = resolve);
  return {
    batches,
    release: () => open(),
    async batch(stmts: InStatement[]): Promise<ResultSet[]> {
      const sqls = stmts.map((s) => (typeof s === "string" ? s : s.sql));
      batches.push(sqls);
      await gate;
      return sqls.map((sql) => ({ columns: [sql] }) as unknown as ResultSet);
    },
  };
}

Deno.test("WriteQueue: a write still waiting for its turn at its deadline fails with DependencyTimeoutException and is never committed", async () => {
  const db = heldClient();
  const queue = new WriteQueue(db, { timeoutMs: 30 });
  const first = queue.submit(["first"]).catch((error) => error);
  // Let the first write's transaction start before the second is submitted.
  await waitFor(() => db.batches.length > 0, "the first write's transaction to start");
  const second = queue.submit(["second"]);
  await assert.rejects(second, (error: Error) => {
    assert.equal(error.name, "DependencyTimeoutException");
    assert.match(error.message, /nothing was changed/);
    return true;
  });
  db.release();
  await first;
  assert.deepEqual(db.batches, [["first"]]);
  assert.equal(queue.waiting, 0);
});

Deno.test("WriteQueue: a write whose transaction is in flight at its deadline fails with KMSInternalException saying it may still be committed", async () => {
  const db = heldClient();
  const queue = new WriteQueue(db, { timeoutMs: 30 });
  await assert.rejects(queue.submit(["slow"]), (error: Error) => {
    assert.equal(error.name, "KMSInternalException");
    assert.match(error.message, /may still be committed/);
    return true;
  });
  db.release();
});

/** A client that answers SQLITE_BUSY to its first `busy` batches (or to all: Infinity). */
function lockedClient(busy: number): BatchClient & { attempts: number } {
  const client = {
    attempts: 0,
    batch(stmts: InStatement[]): Promise<ResultSet[]> {
      client.attempts++;
      if (client.attempts <= busy) {
        return Promise.reject(
          Object.assign(new Error("SQLITE_BUSY: database is locked"), { code: "SQLITE_BUSY" }),
        );
      }
      return Promise.resolve(stmts.map(() => ({ columns: [] }) as unknown as ResultSet));
    },
  };
  return client;
}

Deno.test("WriteQueue: a write that keeps finding the database locked fails with DependencyTimeoutException at its deadline", async () => {
  const db = lockedClient(Infinity);
  const queue = new WriteQueue(db, { timeoutMs: 60 });
  await assert.rejects(queue.submit(["w"]), (error: Error) => {
    assert.equal(error.name, "DependencyTimeoutException");
    assert.match(error.message, /database lock/);
    return true;
  });
  assert.ok(db.attempts > 1, "the lock was tried again before the deadline");
});

Deno.test("WriteQueue: a write that found the database locked commits once the lock is free, within its deadline", async () => {
  const db = lockedClient(3);
  const queue = new WriteQueue(db, { timeoutMs: 60_000 });
  const results = await queue.submit(["w"]);
  assert.equal(results.length, 1);
  assert.equal(db.attempts, 4);
});
