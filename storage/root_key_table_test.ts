import assert from "node:assert/strict";
import type { Client, InStatement, TransactionMode } from "@libsql/client";
import { SecretBytes } from "../core/secret.ts";
import type { KeyRecord } from "../core/types.ts";
import { openDatabase } from "./client.ts";
import { migrate } from "./migrate.ts";
import { RootKey } from "./legacy_root_key.ts";
import { RootKeyring, wrappedKeyId } from "./root_keyring.ts";
import { rotateRootKey } from "./root_key_rotation.ts";
import { checkRootKeyring, listRootKeys, rootKeyUsage, WRAPPED_COLUMNS } from "./root_key_table.ts";
import { SqliteStore } from "./sqlite_store.ts";

const A = new Uint8Array(32).fill(1);
const B = new Uint8Array(32).fill(2);
const C = new Uint8Array(32).fill(3);

async function ring(...keys: Uint8Array[]): Promise<RootKeyring> {
  return await RootKeyring.fromBytes(keys.map((k) => k.slice()));
}

function keyRecord(i: number): KeyRecord {
  return {
    keyId: `00000000-0000-0000-0000-${String(i).padStart(12, "0")}`,
    accountId: "111122223333",
    region: "us-east-1",
    createdAt: 1,
    description: "",
    keySpec: "SYMMETRIC_DEFAULT",
    keyUsage: "ENCRYPT_DECRYPT",
    origin: "AWS_KMS",
    state: "Enabled",
    deletionDate: null,
    pendingWindowInDays: null,
    policy: "{}",
    currentMaterialVersion: 1,
  } as KeyRecord;
}

/** Writes `n` keys and `n` credentials through a store wrapping with `wrapper`. */
async function fill(db: Client, wrapper: RootKey | RootKeyring, n: number, from = 0) {
  const store = new SqliteStore(db, wrapper);
  for (let i = from; i < from + n; i++) {
    const key = keyRecord(i);
    await store.createKey(key, {
      keyId: key.keyId,
      version: 1,
      keyMaterialId: `m${i}`,
      material: new SecretBytes(new Uint8Array(32).fill(i)),
      createdAt: 1,
    }, []);
    await store.putCredential({
      accessKeyId: `AKIATEST${String(i).padStart(12, "0")}`,
      secretAccessKey: new SecretBytes(new TextEncoder().encode(`secret-${i}`)),
      accountId: "111122223333",
      principalArn: "arn:aws:iam::111122223333:root",
      enabled: true,
      createdAt: 1,
    });
  }
}

/** Every value readable through a store with `wrapper`. */
async function assertReadable(db: Client, wrapper: RootKeyring, n: number): Promise<void> {
  const store = new SqliteStore(db, wrapper);
  for (let i = 0; i < n; i++) {
    const material = await store.getMaterial(keyRecord(i).keyId, 1);
    assert.deepEqual([...material!.material.expose()], [...new Uint8Array(32).fill(i)]);
    const credential = await store.getCredential(`AKIATEST${String(i).padStart(12, "0")}`);
    assert.equal(new TextDecoder().decode(credential!.secretAccessKey.expose()), `secret-${i}`);
  }
}

/** A property of the real client, methods bound to it (its private fields reject a proxy). */
function bound(target: Client, name: string | symbol): unknown {
  const value = Reflect.get(target, name);
  return typeof value === "function" ? value.bind(target) : value;
}

async function withDb(fn: (db: Client) => Promise<void>): Promise<void> {
  const db = await openDatabase(":memory:");
  try {
    await migrate(db);
    await fn(db);
  } finally {
    db.close();
  }
}

Deno.test("WRAPPED_COLUMNS lists every wrapped_* column of the schema", () =>
  withDb(async (db) => {
    const tables = await db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'");
    const found: string[] = [];
    for (const row of tables.rows) {
      const columns = await db.execute(`PRAGMA table_info(${String(row["name"])})`);
      for (const column of columns.rows) {
        if (String(column["name"]).startsWith("wrapped")) {
          found.push(`${row["name"]}.${column["name"]}`);
        }
      }
    }
    assert.deepEqual(
      found.sort(),
      WRAPPED_COLUMNS.map((c) => `${c.table}.${c.column}`).sort(),
    );
  }));

Deno.test("checkRootKeyring records the current key and refuses a keyring without the keys in use", () =>
  withDb(async (db) => {
    const a = await ring(A);
    await checkRootKeyring(db, a, 10);
    await fill(db, a, 3);
    assert.deepEqual((await listRootKeys(db)).map((r) => [r.keyId, r.state]), [
      [a.currentId, "active"],
    ]);
    const b = await ring(B);
    await assert.rejects(checkRootKeyring(db, b, 11), (e: Error) => {
      assert.match(e.message, /is not the one this database was written with/);
      assert.match(e.message, new RegExp(`lacks root key ${a.currentId} \\(active\\)`));
      for (const key of [A, B]) assert.ok(!e.message.includes(key.toBase64()));
      return true;
    });
    // The new key first, the old one kept: accepted, and the new key is recorded.
    await checkRootKeyring(db, await ring(B, A), 12);
    assert.deepEqual((await listRootKeys(db)).map((r) => r.state), ["active", "active"]);
  }));

Deno.test("rotateRootKey moves every value to the current key in batches, then retires the old key", () =>
  withDb(async (db) => {
    const a = await ring(A);
    await checkRootKeyring(db, a, 1);
    await fill(db, a, 25);
    const ba = await ring(B, A);
    await checkRootKeyring(db, ba, 2);
    const batches: number[] = [];
    const result = await rotateRootKey(db, ba, {
      batchSize: 7,
      onProgress: (p) => batches.push(p.rewrapped),
    });
    assert.deepEqual(result, { rewrapped: 50, remaining: 0, retired: [a.currentId], failures: [] });
    assert.deepEqual(batches, [7, 14, 21, 25, 32, 39, 46, 50]);
    assert.deepEqual(await rootKeyUsage(db), new Map([[ba.currentId, 50]]));
    assert.deepEqual(
      (await listRootKeys(db)).map((r) => [r.keyId, r.state]),
      [[a.currentId, "retired"], [ba.currentId, "active"]],
    );
    const b = await ring(B);
    await checkRootKeyring(db, b, 3);
    await assertReadable(db, b, 25);
    // The retired key cannot come back as current without a rotation to it.
    await assert.rejects(checkRootKeyring(db, await ring(A, B), 4), /is retired/);
    // A second run finds nothing to do.
    assert.equal((await rotateRootKey(db, b)).rewrapped, 0);
  }));

Deno.test("rotateRootKey resumes after an interrupted run; every value unwraps at every step", () =>
  withDb(async (db) => {
    const a = await ring(A);
    await checkRootKeyring(db, a, 1);
    await fill(db, a, 10);
    const ba = await ring(B, A);
    // A run that dies after its second batch of re-wraps (as a killed process would).
    let batches = 0;
    const proxy = new Proxy(db, {
      get(target, name) {
        if (name !== "batch") return bound(target, name);
        return (stmts: InStatement[], mode?: TransactionMode) => {
          const rewrap = stmts.some((s) =>
            typeof s !== "string" && /^UPDATE (key_material|credentials) SET/.test(s.sql)
          );
          if (rewrap && ++batches > 2) return Promise.reject(new Error("killed"));
          return target.batch(stmts, mode);
        };
      },
    });
    await assert.rejects(rotateRootKey(proxy, ba, { batchSize: 3 }), /killed/);
    const usage = await rootKeyUsage(db);
    assert.deepEqual([usage.get(ba.currentId), usage.get(a.currentId)], [6, 14]);
    await assertReadable(db, ba, 10);
    assert.equal((await listRootKeys(db)).find((r) => r.keyId === a.currentId)?.state, "retiring");
    const rest = await rotateRootKey(db, ba, { batchSize: 3 });
    assert.deepEqual([rest.rewrapped, rest.remaining, rest.retired], [14, 0, [a.currentId]]);
    await assertReadable(db, await ring(B), 10);
  }));

Deno.test("rotateRootKey never overwrites a value a server changed during the batch", () =>
  withDb(async (db) => {
    const a = await ring(A);
    await fill(db, a, 4);
    const ba = await ring(B, A);
    const server = new SqliteStore(db, ba);
    const victim = keyRecord(2);
    let raced = false;
    const racing = new Proxy(db, {
      get(target, name) {
        if (name !== "batch") return bound(target, name);
        return async (stmts: InStatement[], mode?: TransactionMode) => {
          if (!raced && stmts.some((s) => typeof s !== "string" && /key_material/.test(s.sql))) {
            raced = true;
            // A server re-wrote the material meanwhile (a different value under the new key).
            await server.deleteKey(victim.keyId);
            await fill(db, ba, 1, 2);
          }
          return await target.batch(stmts, mode);
        };
      },
    });
    const result = await rotateRootKey(racing, ba, { batchSize: 10 });
    assert.equal(raced, true);
    // 3 materials (not the one the server changed) and 4 credentials.
    assert.equal(result.remaining, 0);
    assert.equal(result.rewrapped, 7);
    const row = await db.execute({
      sql: "SELECT wrapped_material FROM key_material WHERE key_id = ?",
      args: [victim.keyId],
    });
    assert.equal(wrappedKeyId(new Uint8Array(row.rows[0]![0] as ArrayBuffer)), ba.currentId);
    await assertReadable(db, await ring(B), 4);
  }));

Deno.test("legacy format-1 data: a keyring without its key fails fast; rotation moves it to format 2", () =>
  withDb(async (db) => {
    await fill(db, await RootKey.fromBytes(A.slice()), 5);
    assert.deepEqual(await rootKeyUsage(db), new Map([["legacy", 10]]));
    await assert.rejects(checkRootKeyring(db, await ring(C), 1), (e: Error) => {
      assert.match(e.message, /legacy format .* unwrap with none of its keys/);
      assert.ok(!e.message.includes(A.toBase64()) && !e.message.includes(C.toBase64()));
      return true;
    });
    const ca = await ring(C, A);
    await checkRootKeyring(db, ca, 2);
    const result = await rotateRootKey(db, ca, { batchSize: 4 });
    assert.deepEqual([result.rewrapped, result.remaining], [10, 0]);
    assert.deepEqual(await rootKeyUsage(db), new Map([[ca.currentId, 10]]));
    await checkRootKeyring(db, await ring(C), 3);
    await assertReadable(db, await ring(C), 5);
  }));
