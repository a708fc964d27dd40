/**
 * Two "instances" in one test: two connections to one database file, each
 * with its own store, change counter and write queue, as two processes
 * would have them.
 */
import assert from "node:assert/strict";
import type { Client } from "@libsql/client";
import { AuditEntry } from "../core/audit/entry.ts";
import type { AuditRecord } from "../core/audit/record.ts";
import { Kms } from "../core/kms.ts";
import { keyLifecycle } from "../core/operations/lifecycle.ts";
import { SecretBytes } from "../core/secret.ts";
import type { KeyMaterial, KeyRecord } from "../core/types.ts";
import { SqliteAuditStore } from "./audit_store.ts";
import { SqliteChangeCounter } from "./change_counter.ts";
import { openDatabase } from "./client.ts";
import { migrate } from "./migrate.ts";
import { RootKey } from "./legacy_root_key.ts";
import { SqliteStore } from "./sqlite_store.ts";
import { WriteQueue } from "./write_queue.ts";

const ROOT_KEY_BYTES = crypto.getRandomValues(new Uint8Array(32));

interface Instance {
  db: Client;
  store: SqliteStore;
  changes: SqliteChangeCounter;
}

async function withTwoInstances(fn: (a: Instance, b: Instance) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kms-changes-" });
  const open = async (): Promise<Instance> => {
    const db = await openDatabase(`file:${dir}/kms.db`);
    await migrate(db);
    const changes = new SqliteChangeCounter(db);
    await changes.start();
    const rootKey = await RootKey.fromBytes(ROOT_KEY_BYTES.slice());
    return { db, store: new SqliteStore(db, rootKey, { observer: changes }), changes };
  };
  const a = await open();
  const b = await open();
  try {
    await fn(a, b);
  } finally {
    a.store.close();
    b.store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function keyRecord(): KeyRecord {
  return {
    keyId: crypto.randomUUID(),
    accountId: "111122223333",
    region: "us-east-1",
    createdAt: 1_700_000_000_000,
    description: "",
    keySpec: "SYMMETRIC_DEFAULT",
    keyUsage: "ENCRYPT_DECRYPT",
    origin: "AWS_KMS",
    state: "Enabled",
    deletionDate: null,
    pendingWindowInDays: null,
    policy: '{"Version":"2012-10-17","Statement":[]}',
    currentMaterialVersion: 1,
  };
}

function materialOf(keyId: string): KeyMaterial {
  return {
    keyId,
    version: 1,
    keyMaterialId: "00".repeat(32),
    material: new SecretBytes(crypto.getRandomValues(new Uint8Array(32))),
    createdAt: 1_700_000_000_000,
  };
}

async function createKey(store: SqliteStore): Promise<KeyRecord> {
  const key = keyRecord();
  await store.createKey(key, materialOf(key.keyId), []);
  return key;
}

function auditRecord(requestId: string, operation = "Encrypt"): AuditRecord {
  const entry = new AuditEntry({
    time: Date.now(),
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
  entry.setDecision("Allow");
  return entry.record();
}

Deno.test("SqliteChangeCounter: an instance's own writes are not foreign, another's are, once", async () => {
  await withTwoInstances(async (a, b) => {
    await createKey(a.store);
    assert.equal(await a.changes.changes(), null);
    assert.deepEqual(await b.changes.changes(), { data: true, deletedKeys: [] });
    assert.equal(await b.changes.changes(), null);

    // B writes, then A writes before looking: A's commit finds B's change in between.
    await createKey(b.store);
    await createKey(a.store);
    assert.deepEqual(await a.changes.changes(), { data: true, deletedKeys: [] });
    assert.deepEqual(await b.changes.changes(), { data: true, deletedKeys: [] });
    assert.equal(await a.changes.changes(), null);
    assert.equal(await b.changes.changes(), null);

    // Audit records alone change nothing a cache holds.
    await a.store.appendAudit([auditRecord("r1")]);
    assert.equal(await b.changes.changes(), null);
  });
});

Deno.test("SqliteChangeCounter lists the keys deleted since the last look, by any instance", async () => {
  await withTwoInstances(async (a, b) => {
    const first = await createKey(a.store);
    const second = await createKey(a.store);
    await b.changes.changes();
    await b.store.deleteKey(first.keyId);
    await b.store.deleteKey(second.keyId);
    assert.deepEqual(await a.changes.changes(), {
      data: true,
      deletedKeys: [first.keyId, second.keyId],
    });
    // B's own deletions are listed to it too (wiping material already wiped is harmless).
    assert.deepEqual(await b.changes.changes(), {
      data: false,
      deletedKeys: [first.keyId, second.keyId],
    });
    assert.equal(await a.changes.changes(), null);
  });
});

Deno.test("Kms.forgetForeignChanges drops cached records and wipes a deleted key's material", async () => {
  await withTwoInstances(async (a, b) => {
    const clock = { now: () => Date.now() };
    const kms = new Kms({ store: a.store, clock, region: "us-east-1", lifecycle: keyLifecycle });
    const key = await createKey(a.store);
    const kept = await createKey(a.store);
    const loaded = await kms.findKey(key.keyId);
    const material = await kms.material(key.keyId, 1);
    const keptMaterial = await kms.material(kept.keyId, 1);
    assert.ok(loaded !== null && material !== null && keptMaterial !== null);

    await b.store.updateKey({ ...key, description: "changed on B" });
    assert.equal((await kms.findKey(key.keyId))?.record.description, "", "cached until told");
    const changes = await a.changes.changes();
    assert.ok(changes !== null);
    kms.forgetForeignChanges(changes);
    assert.equal((await kms.findKey(key.keyId))?.record.description, "changed on B");

    await b.store.deleteKey(key.keyId);
    const deleted = await a.changes.changes();
    assert.deepEqual(deleted, { data: true, deletedKeys: [key.keyId] });
    kms.forgetForeignChanges(deleted);
    assert.ok(material.material.expose().every((byte) => byte === 0), "wiped");
    assert.ok(keptMaterial.material.expose().some((byte) => byte !== 0), "others kept");
    assert.equal(await kms.findKey(key.keyId), null);
  });
});

Deno.test("WriteQueue: two writers of the same audit chains interleave without losing a write or breaking the chain", async () => {
  await withTwoInstances(async (a, b) => {
    await a.db.execute("CREATE TABLE things (id TEXT PRIMARY KEY) STRICT");
    const queues = [new WriteQueue(a.db), new WriteQueue(b.db)];
    const insert = (id: string) => ({ sql: "INSERT INTO things (id) VALUES (?)", args: [id] });
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) {
      const queue = queues[i % 2]!;
      writes.push(queue.submit([insert(`t${i}`)], [auditRecord(`s${i}`, "CreateAlias")]));
      writes.push(queue.appendAudit([auditRecord(`b${i}`)]));
      // Let each queue commit now and then, so the other's cached heads go stale.
      if (i % 7 === 0) await Promise.all(writes);
    }
    await Promise.all(writes);
    const things = await a.db.execute("SELECT count(*) AS n FROM things");
    assert.equal(things.rows[0]?.["n"], 200);
    const verified = await new SqliteAuditStore(a.db).verify();
    assert.ok(verified.ok, JSON.stringify(verified));
    assert.equal(verified.count, 400);
    assert.ok(
      queues[0]!.chainConflicts + queues[1]!.chainConflicts > 0,
      "the writers did race for the chain heads",
    );
  });
});
