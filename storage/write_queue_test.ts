import assert from "node:assert/strict";
import type { InStatement, ResultSet } from "@libsql/client";
import { type BatchClient, WriteQueue } from "./write_queue.ts";

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
