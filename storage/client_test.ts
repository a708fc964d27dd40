import assert from "node:assert/strict";
import { isMemoryUrl, localFilePath, observeDatabaseCalls, openDatabase } from "./client.ts";

Deno.test("openDatabase sets durable pragmas on a file database", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms_client_" });
  const db = await openDatabase(`file:${dir}/a/b/kms.db`);
  try {
    const value = async (pragma: string) => (await db.execute(`PRAGMA ${pragma}`)).rows[0]?.[0];
    assert.equal(await value("journal_mode"), "wal");
    assert.equal(await value("synchronous"), 2);
    assert.equal(await value("busy_timeout"), 5000);
    assert.equal(await value("foreign_keys"), 1);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("localFilePath reads file: URLs as libSQL does", () => {
  assert.equal(localFilePath("file:./data/kms.db"), "./data/kms.db");
  assert.equal(localFilePath("file:data/kms.db"), "data/kms.db");
  assert.equal(localFilePath("file:/var/lib/kms.db"), "/var/lib/kms.db");
  assert.equal(localFilePath("file:///var/lib/kms%20x.db"), "/var/lib/kms x.db");
  assert.equal(localFilePath("file://localhost/var/lib/kms.db"), "/var/lib/kms.db");
  assert.equal(localFilePath("libsql://db.example.com"), null);
  assert.equal(localFilePath("https://db.example.com"), null);
});

Deno.test("openDatabase opens in-memory databases", async () => {
  assert.ok(isMemoryUrl(":memory:") && isMemoryUrl("file::memory:?cache=private"));
  for (const url of [":memory:", "file::memory:", "file::memory:?cache=private"]) {
    const db = await openDatabase(url);
    try {
      assert.equal((await db.execute("PRAGMA foreign_keys")).rows[0]?.[0], 1);
    } finally {
      db.close();
    }
  }
});

Deno.test("observeDatabaseCalls times each call of connections opened after it, by statement text", async () => {
  const seen: { sql: string; heldMs: number }[] = [];
  observeDatabaseCalls((call) => seen.push(call));
  const db = await openDatabase(":memory:").finally(() => observeDatabaseCalls(undefined));
  try {
    await db.execute("CREATE TABLE t (x INTEGER)");
    await db.batch([{ sql: "INSERT INTO t VALUES (?)", args: [7] }, "INSERT INTO t VALUES (8)"]);
    await db.executeMultiple("INSERT INTO t VALUES (9);");
    assert.deepEqual(
      seen.map((call) => call.sql),
      [
        "CREATE TABLE t (x INTEGER)",
        "batch(2): INSERT INTO t VALUES (?)",
        "INSERT INTO t VALUES (9);",
      ],
    );
    assert.ok(seen.every((call) => call.heldMs >= 0));
    // The observed connection is still the connection: results, protocol and close are its own.
    assert.equal((await db.execute("SELECT sum(x) FROM t")).rows[0]?.[0], 24);
    assert.equal(db.protocol, "file");
  } finally {
    db.close();
  }
  assert.equal(db.closed, true);
  const later = await openDatabase(":memory:");
  const before = seen.length;
  await later.execute("SELECT 1");
  later.close();
  assert.equal(
    seen.length,
    before + 1 - 1,
    "a connection opened after observing stopped is not timed",
  );
});
