import assert from "node:assert/strict";
import { isMemoryUrl, localFilePath, openDatabase } from "./client.ts";

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
