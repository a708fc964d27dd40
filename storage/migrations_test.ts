import assert from "node:assert/strict";
import { openDatabase } from "./client.ts";
import { appliedVersions, migrate } from "./migrate.ts";
import { MIGRATIONS } from "./migrations.ts";

const DIR = new URL("../migrations/", import.meta.url);

Deno.test("every migrations/*.sql file is embedded, byte for byte, in order", async () => {
  const files: string[] = [];
  for await (const entry of Deno.readDir(DIR)) {
    if (entry.isFile && entry.name.endsWith(".sql")) files.push(entry.name);
  }
  files.sort();
  const expected = MIGRATIONS.map((m) => `${String(m.version).padStart(4, "0")}_${m.name}.sql`);
  assert.deepEqual(expected, files);
  for (const migration of MIGRATIONS) {
    const name = `${String(migration.version).padStart(4, "0")}_${migration.name}.sql`;
    assert.equal(migration.sql, await Deno.readTextFile(new URL(name, DIR)));
  }
});

Deno.test("migrate applies each migration once and records it", async () => {
  const db = await openDatabase(":memory:");
  try {
    assert.deepEqual(await migrate(db), MIGRATIONS.map((m) => m.version));
    assert.deepEqual(await migrate(db), []);
    assert.deepEqual(await appliedVersions(db), MIGRATIONS.map((m) => m.version));
    const tables = await db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'");
    const names = tables.rows.map((row) => row["name"]);
    for (const table of ["keys", "key_material", "aliases", "tags", "credentials"]) {
      assert.ok(names.includes(table), table);
    }
  } finally {
    db.close();
  }
});

Deno.test("a failing migration leaves neither schema nor record behind", async () => {
  const db = await openDatabase(":memory:");
  try {
    const bad = [
      { version: 1, name: "ok", sql: "CREATE TABLE a (x INTEGER);" },
      { version: 2, name: "bad", sql: "CREATE TABLE b (x INTEGER);\nNOT SQL;" },
    ];
    await assert.rejects(migrate(db, bad), /migration 2_bad failed/);
    assert.deepEqual(await appliedVersions(db), [1]);
    const b = await db.execute("SELECT name FROM sqlite_schema WHERE name = 'b'");
    assert.equal(b.rows.length, 0);
    await assert.rejects(migrate(db, [bad[1]!, bad[0]!]), /out of order/);
  } finally {
    db.close();
  }
});

Deno.test("migrate refuses another application's database and adds nothing to it", async () => {
  const db = await openDatabase(":memory:");
  try {
    await db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)");
    await assert.rejects(migrate(db), /not this KMS's database: it holds tables customers/);
    const tables = await db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'");
    assert.deepEqual(tables.rows.map((row) => row["name"]), ["customers"]);
  } finally {
    db.close();
  }
});
