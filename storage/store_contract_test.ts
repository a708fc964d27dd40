/**
 * The behaviour of SqliteStore, run against `:memory:`, a temporary file
 * database, and the same file with its writes committed by a database worker
 * (storage/db_worker_client.ts).
 */
import assert from "node:assert/strict";
import type { Client } from "@libsql/client";
import { SecretBytes } from "../core/secret.ts";
import type { AliasRecord, Credential, KeyMaterial, KeyRecord } from "../core/types.ts";
import { openDatabase } from "./client.ts";
import { migrate } from "./migrate.ts";
import { RootKey } from "./legacy_root_key.ts";
import { SqliteStore } from "./sqlite_store.ts";
import { DbWorkerClient } from "./db_worker_client.ts";
import type { BatchClient } from "./write_queue.ts";

const ACCOUNT = "111122223333";
const OTHER_ACCOUNT = "444455556666";
const REGION = "us-east-1";
const ROOT_KEY_BYTES = crypto.getRandomValues(new Uint8Array(32));

interface Backend {
  name: string;
  /** Opens a migrated store; the same `dir` reopens the same database. */
  open(dir: string): Promise<OpenedStore>;
  file: boolean;
}

/** A store, its client, and the connection its writes commit through (the client or a worker). */
interface OpenedStore {
  store: SqliteStore;
  db: Client;
  writes: BatchClient;
}

const BACKENDS: Backend[] = [
  { name: "memory", open: () => openStore(":memory:"), file: false },
  { name: "file", open: (dir) => openStore(`file:${dir}/nested/kms.db`), file: true },
  {
    name: "file, worker",
    open: (dir) => openStore(`file:${dir}/nested/kms.db`, { worker: true }),
    file: true,
  },
];

async function openStore(url: string, options: { worker?: boolean } = {}): Promise<OpenedStore> {
  const db = await openDatabase(url);
  await migrate(db);
  const rootKey = await RootKey.fromBytes(ROOT_KEY_BYTES.slice());
  if (!options.worker) return { store: new SqliteStore(db, rootKey), db, writes: db };
  const writer = new DbWorkerClient(url);
  await writer.open();
  return { store: new SqliteStore(db, rootKey, { writer }), db, writes: writer };
}

function keyRecord(overrides: Partial<KeyRecord> = {}): KeyRecord {
  return {
    keyId: crypto.randomUUID(),
    accountId: ACCOUNT,
    region: REGION,
    createdAt: 1_700_000_000_000,
    description: "a key",
    keySpec: "SYMMETRIC_DEFAULT",
    keyUsage: "ENCRYPT_DECRYPT",
    origin: "AWS_KMS",
    state: "Enabled",
    deletionDate: null,
    pendingWindowInDays: null,
    policy: '{"Version":"2012-10-17","Statement":[]}',
    currentMaterialVersion: 1,
    ...overrides,
  };
}

function materialOf(keyId: string, version = 1): KeyMaterial {
  return {
    keyId,
    version,
    keyMaterialId: crypto.getRandomValues(new Uint8Array(32)).toHex(),
    material: new SecretBytes(crypto.getRandomValues(new Uint8Array(32))),
    createdAt: 1_700_000_000_123,
  };
}

async function createKey(store: SqliteStore, overrides: Partial<KeyRecord> = {}) {
  const key = keyRecord(overrides);
  const material = materialOf(key.keyId);
  await store.createKey(key, material, []);
  return { key, material };
}

function alias(name: string, targetKeyId: string, overrides: Partial<AliasRecord> = {}) {
  return {
    accountId: ACCOUNT,
    region: REGION,
    name,
    targetKeyId,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    ...overrides,
  };
}

function credential(accessKeyId: string, secret: string): Credential {
  return {
    accessKeyId,
    secretAccessKey: new SecretBytes(new TextEncoder().encode(secret)),
    accountId: ACCOUNT,
    principalArn: `arn:aws:iam::${ACCOUNT}:root`,
    enabled: true,
    createdAt: 1_700_000_000_000,
  };
}

function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return true;
  }
  return false;
}

/** Wraps `db.batch` to record the statement count of each transaction. */
function recordBatchSizes(db: BatchClient): number[] {
  const batch = db.batch.bind(db);
  const sizes: number[] = [];
  db.batch = (stmts, mode) => {
    sizes.push(stmts.length);
    return batch(stmts, mode);
  };
  return sizes;
}

/** Registers one test per backend with a fresh database in a fresh directory. */
function contract(
  name: string,
  fn: (ctx: OpenedStore & { dir: string; backend: Backend }) => Promise<void>,
  options: { fileOnly?: boolean } = {},
): void {
  for (const backend of BACKENDS) {
    if (options.fileOnly && !backend.file) continue;
    Deno.test(`SqliteStore [${backend.name}] ${name}`, async () => {
      const dir = await Deno.makeTempDir({ prefix: "kms_store_" });
      const opened = await backend.open(dir);
      try {
        await fn({ ...opened, dir, backend });
      } finally {
        if (!opened.db.closed) await opened.store.close();
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
}

contract("creates a key with material and tags and reads them back", async ({ store }) => {
  const key = keyRecord({ description: "first" });
  const material = materialOf(key.keyId);
  await store.createKey(key, material, [
    { TagKey: "b", TagValue: "2" },
    { TagKey: "a", TagValue: "1" },
  ]);
  assert.deepEqual(await store.getKey(key.keyId), key);
  const read = await store.getMaterial(key.keyId, 1);
  assert.ok(read);
  assert.deepEqual(read.material.expose(), material.material.expose());
  assert.equal(read.keyMaterialId, material.keyMaterialId);
  assert.equal(read.createdAt, material.createdAt);
  assert.equal(read.version, 1);
  assert.deepEqual(await store.listTags(key.keyId), [
    { TagKey: "a", TagValue: "1" },
    { TagKey: "b", TagValue: "2" },
  ]);
});

contract("answers null for what does not exist", async ({ store }) => {
  const { key } = await createKey(store);
  assert.equal(await store.getKey(crypto.randomUUID()), null);
  assert.equal(await store.getMaterial(key.keyId, 2), null);
  assert.equal(await store.getAlias(ACCOUNT, REGION, "alias/none"), null);
  assert.equal(await store.getCredential("AKIANONE"), null);
});

contract("lists keys of one account in keyset pages", async ({ store }) => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await createKey(store)).key.keyId);
  await createKey(store, { accountId: OTHER_ACCOUNT });
  ids.sort();
  const first = await store.listKeys(ACCOUNT, REGION, { limit: 2 });
  assert.deepEqual(first.map((k) => k.keyId), ids.slice(0, 2));
  const second = await store.listKeys(ACCOUNT, REGION, { limit: 2, after: first[1]?.keyId });
  assert.deepEqual(second.map((k) => k.keyId), ids.slice(2, 4));
  const third = await store.listKeys(ACCOUNT, REGION, { limit: 2, after: second[1]?.keyId });
  assert.deepEqual(third.map((k) => k.keyId), ids.slice(4));
  assert.equal((await store.listKeys(OTHER_ACCOUNT, REGION, { limit: 10 })).length, 1);
});

contract("updates the mutable fields of a key", async ({ store }) => {
  const { key } = await createKey(store);
  const updated: KeyRecord = {
    ...key,
    description: "changed",
    state: "PendingDeletion",
    deletionDate: 1_800_000_000_000,
    pendingWindowInDays: 7,
    policy: "{}",
    currentMaterialVersion: 2,
  };
  await store.updateKey(updated);
  assert.deepEqual(await store.getKey(key.keyId), updated);
});

contract("deletes a key with its material, aliases and tags", async ({ store, db }) => {
  const { key } = await createKey(store);
  const { key: other } = await createKey(store);
  await store.putTags(key.keyId, [{ TagKey: "t", TagValue: "v" }]);
  await store.putTags(other.keyId, [{ TagKey: "t", TagValue: "v" }]);
  assert.equal(await store.createAlias(alias("alias/gone", key.keyId)), true);
  assert.equal(await store.createAlias(alias("alias/kept", other.keyId)), true);
  await store.deleteKey(key.keyId);
  assert.equal(await store.getKey(key.keyId), null);
  assert.equal(await store.getMaterial(key.keyId, 1), null);
  assert.deepEqual(await store.listTags(key.keyId), []);
  assert.equal(await store.getAlias(ACCOUNT, REGION, "alias/gone"), null);
  const rows = await db.execute({
    sql: "SELECT count(*) AS n FROM key_material WHERE key_id = ?",
    args: [key.keyId],
  });
  assert.equal(rows.rows[0]?.["n"], 0);
  assert.ok(await store.getKey(other.keyId));
  assert.ok(await store.getMaterial(other.keyId, 1));
  assert.deepEqual(await store.listTags(other.keyId), [{ TagKey: "t", TagValue: "v" }]);
  assert.ok(await store.getAlias(ACCOUNT, REGION, "alias/kept"));
});

contract("refuses material rows copied to another key or version", async ({ store, db }) => {
  const { key: a } = await createKey(store);
  const { key: b } = await createKey(store);
  await db.execute({
    sql: "UPDATE key_material SET wrapped_material = " +
      "(SELECT wrapped_material FROM key_material WHERE key_id = ?) WHERE key_id = ?",
    args: [a.keyId, b.keyId],
  });
  await assert.rejects(store.getMaterial(b.keyId, 1), /does not unwrap/);
  await db.execute({
    sql: "INSERT INTO key_material (key_id, version, key_material_id, wrapped_material, " +
      "created_at) SELECT key_id, 2, key_material_id, wrapped_material, created_at " +
      "FROM key_material WHERE key_id = ?",
    args: [a.keyId],
  });
  await assert.rejects(store.getMaterial(a.keyId, 2), /does not unwrap/);
  assert.ok(await store.getMaterial(a.keyId, 1));
});

contract("creates, reads, updates and deletes aliases", async ({ store }) => {
  const { key } = await createKey(store);
  const { key: other } = await createKey(store);
  const record = alias("alias/app", key.keyId);
  assert.equal(await store.createAlias(record), true);
  assert.equal(await store.createAlias(alias("alias/app", other.keyId)), false);
  assert.deepEqual(await store.getAlias(ACCOUNT, REGION, "alias/app"), record);
  assert.equal(
    await store.createAlias(alias("alias/app", key.keyId, { region: "eu-west-1" })),
    true,
  );
  assert.equal(
    await store.createAlias(alias("alias/app", key.keyId, { accountId: OTHER_ACCOUNT })),
    true,
  );
  const moved = { ...record, targetKeyId: other.keyId, updatedAt: 1_700_000_001_000 };
  await store.updateAlias(moved);
  assert.deepEqual(await store.getAlias(ACCOUNT, REGION, "alias/app"), moved);
  await store.deleteAlias(ACCOUNT, REGION, "alias/app");
  assert.equal(await store.getAlias(ACCOUNT, REGION, "alias/app"), null);
  assert.ok(await store.getAlias(ACCOUNT, "eu-west-1", "alias/app"));
  assert.equal(await store.createAlias(alias("alias/app", key.keyId)), true);
});

contract("lists aliases by name in pages, optionally of one key", async ({ store }) => {
  const { key } = await createKey(store);
  const { key: other } = await createKey(store);
  for (const name of ["alias/d", "alias/b", "alias/a", "alias/c"]) {
    await store.createAlias(alias(name, name < "alias/c" ? key.keyId : other.keyId));
  }
  await store.createAlias(alias("alias/z", key.keyId, { region: "eu-west-1" }));
  const names = (list: AliasRecord[]) => list.map((a) => a.name);
  const first = await store.listAliases(ACCOUNT, REGION, { limit: 3 });
  assert.deepEqual(names(first), ["alias/a", "alias/b", "alias/c"]);
  const rest = await store.listAliases(ACCOUNT, REGION, { limit: 3, after: "alias/c" });
  assert.deepEqual(names(rest), ["alias/d"]);
  const ofKey = await store.listAliases(ACCOUNT, REGION, { limit: 10, targetKeyId: key.keyId });
  assert.deepEqual(names(ofKey), ["alias/a", "alias/b"]);
  const paged = await store.listAliases(ACCOUNT, REGION, {
    limit: 1,
    after: "alias/a",
    targetKeyId: key.keyId,
  });
  assert.deepEqual(names(paged), ["alias/b"]);
});

contract("puts, overwrites, removes and lists tags", async ({ store }) => {
  const { key } = await createKey(store);
  await store.putTags(key.keyId, [
    { TagKey: "env", TagValue: "dev" },
    { TagKey: "app", TagValue: "kms" },
  ]);
  await store.putTags(key.keyId, [{ TagKey: "env", TagValue: "prod" }]);
  assert.deepEqual(await store.listTags(key.keyId), [
    { TagKey: "app", TagValue: "kms" },
    { TagKey: "env", TagValue: "prod" },
  ]);
  await store.removeTags(key.keyId, ["app", "absent"]);
  assert.deepEqual(await store.listTags(key.keyId), [{ TagKey: "env", TagValue: "prod" }]);
  await store.putTags(key.keyId, []);
  await store.removeTags(key.keyId, []);
  assert.deepEqual(await store.listTags(key.keyId), [{ TagKey: "env", TagValue: "prod" }]);
});

contract("stores credentials with their secret and enabled flag", async ({ store, db }) => {
  assert.equal(await store.countCredentials(), 0);
  await store.putCredential(credential("AKIAEXAMPLE", "secret-one"));
  await store.putCredential(credential("AKIAEXAMPLE", "secret-two"));
  assert.equal(await store.countCredentials(), 1);
  const read = await store.getCredential("AKIAEXAMPLE");
  assert.ok(read);
  assert.equal(new TextDecoder().decode(read.secretAccessKey.expose()), "secret-one");
  assert.equal(read.enabled, true);
  assert.equal(read.principalArn, `arn:aws:iam::${ACCOUNT}:root`);
  await store.setCredentialEnabled("AKIAEXAMPLE", false);
  assert.equal((await store.getCredential("AKIAEXAMPLE"))?.enabled, false);
  await store.setCredentialEnabled("AKIAEXAMPLE", true);
  assert.equal((await store.getCredential("AKIAEXAMPLE"))?.enabled, true);
  await db.execute(
    "UPDATE credentials SET access_key_id = 'AKIAOTHER' WHERE access_key_id = 'AKIAEXAMPLE'",
  );
  await assert.rejects(store.getCredential("AKIAOTHER"), /does not unwrap/);
});

contract("lists keys due for deletion", async ({ store }) => {
  const due = await createKey(store, { state: "PendingDeletion", deletionDate: 1000 });
  const exact = await createKey(store, { state: "PendingDeletion", deletionDate: 2000 });
  await createKey(store, { state: "PendingDeletion", deletionDate: 3000 });
  await createKey(store, { state: "Enabled", deletionDate: 500 });
  assert.deepEqual(await store.listKeysDueForDeletion(2000), [due.key.keyId, exact.key.keyId]);
  assert.deepEqual(await store.listKeysDueForDeletion(999), []);
});

contract("persists across close and reopen, with secrets only wrapped", async (ctx) => {
  const { key, material } = await createKey(ctx.store);
  await ctx.store.putCredential(credential("AKIAPERSIST", "plain-secret-value-1234567890"));
  await ctx.store.close();
  const db = await Deno.readFile(`${ctx.dir}/nested/kms.db`);
  const wal = await Deno.readFile(`${ctx.dir}/nested/kms.db-wal`).catch(() => new Uint8Array());
  const bytes = new Uint8Array([...db, ...wal]);
  assert.ok(containsBytes(bytes, new TextEncoder().encode(key.keyId)));
  assert.ok(!containsBytes(bytes, new TextEncoder().encode("plain-secret-value-1234567890")));
  assert.ok(!containsBytes(bytes, material.material.expose()));
  const { store } = await ctx.backend.open(ctx.dir);
  try {
    assert.deepEqual(await store.getKey(key.keyId), key);
    const read = await store.getMaterial(key.keyId, 1);
    assert.deepEqual(read?.material.expose(), material.material.expose());
    const secret = (await store.getCredential("AKIAPERSIST"))?.secretAccessKey.expose();
    assert.equal(new TextDecoder().decode(secret), "plain-secret-value-1234567890");
  } finally {
    await store.close();
  }
}, { fileOnly: true });

contract(
  "persists 200 concurrent createKey calls in few transactions",
  async ({ store, writes }) => {
    const sizes = recordBatchSizes(writes);
    const created = await Promise.all(Array.from({ length: 200 }, () => createKey(store)));
    const listed = await store.listKeys(ACCOUNT, REGION, { limit: 1000 });
    assert.equal(listed.length, 200);
    assert.ok(sizes.length < 50, `${sizes.length} transactions for 200 writes`);
    for (const { key, material } of created.slice(0, 20)) {
      const read = await store.getMaterial(key.keyId, 1);
      assert.deepEqual(read?.material.expose(), material.material.expose());
    }
  },
);

contract("fails only the bad write of a group", async ({ store, writes }) => {
  const { key: existing } = await createKey(store);
  const sizes = recordBatchSizes(writes);
  const keys = Array.from({ length: 20 }, () => keyRecord());
  keys[7] = { ...existing, description: "duplicate" };
  const results = await Promise.allSettled(
    keys.map((key) => store.createKey(key, materialOf(key.keyId), [])),
  );
  results.forEach((result, i) => assert.equal(result.status, i === 7 ? "rejected" : "fulfilled"));
  assert.equal((await store.listKeys(ACCOUNT, REGION, { limit: 100 })).length, 20);
  assert.equal((await store.getKey(existing.keyId))?.description, existing.description);
  assert.ok(sizes.some((n) => n > 2), "writes were grouped");
});
