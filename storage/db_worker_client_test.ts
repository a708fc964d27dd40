/**
 * The store's writes committed by a database worker (storage/db_worker_client.ts): the commit
 * runs off the request thread, a worker that dies fails its transaction in flight as possibly
 * committed and is replaced, a lock held elsewhere still ends in DependencyTimeoutException,
 * shutdown loses no acknowledged write, and a worker that cannot start falls back.
 */
import assert from "node:assert/strict";
import type { Client } from "@libsql/client";
import { dirname } from "node:path";
import { DependencyTimeoutException, KMSInternalException } from "../core/errors.ts";
import type { AliasRecord, KeyRecord } from "../core/types.ts";
import { localFilePath, observeDatabaseCalls, openDatabase } from "./client.ts";
import { DbWorkerClient, openWriterFor } from "./db_worker_client.ts";
import { RootKey } from "./legacy_root_key.ts";
import { migrate } from "./migrate.ts";
import { SqliteStore } from "./sqlite_store.ts";
import { nextTurn } from "../tests/helpers/wait.ts";

const ACCOUNT = "111122223333";
const REGION = "us-east-1";
const CRASHING_WORKER = new URL("../tests/helpers/crashing_db_worker.ts", import.meta.url);
const UNRESTARTABLE_WORKER = new URL(
  "../tests/helpers/unrestartable_db_worker.ts",
  import.meta.url,
);

/** The key every alias of these tests targets (aliases.target_key_id refers to keys). */
const KEY: KeyRecord = {
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
};

function alias(name: string): AliasRecord {
  return {
    accountId: ACCOUNT,
    region: REGION,
    name,
    targetKeyId: KEY.keyId,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
  };
}

interface Opened {
  url: string;
  db: Client;
  writer: DbWorkerClient;
  store: SqliteStore;
}

/** A migrated file database, read through `db` and written through a worker. */
async function openStore(
  options: { workerUrl?: URL; timeoutMs?: number; warn?: (message: string) => void } = {},
): Promise<Opened> {
  const dir = await Deno.makeTempDir({ prefix: "kms_db_worker_" });
  const url = `file:${dir}/kms.db`;
  const db = await openDatabase(url);
  await migrate(db);
  const writer = new DbWorkerClient(url, {
    workerUrl: options.workerUrl,
    fallback: options.warn && { connection: db, warn: options.warn },
  });
  await writer.open();
  const rootKey = await RootKey.fromBytes(crypto.getRandomValues(new Uint8Array(32)));
  const store = new SqliteStore(db, rootKey, { writer, timeoutMs: options.timeoutMs });
  await store.createKey(KEY, null, []);
  return { url, db, writer, store };
}

async function closeStore({ url, store }: Opened): Promise<void> {
  await store.close();
  await Deno.remove(dirname(localFilePath(url)!), { recursive: true });
}

Deno.test("with a database worker, the request thread's connection runs no write statement while writes are committed and acknowledged", async () => {
  const calls: string[] = [];
  observeDatabaseCalls(({ sql }) => calls.push(sql));
  let opened: Opened;
  try {
    opened = await openStore();
  } finally {
    observeDatabaseCalls(undefined);
  }
  try {
    calls.length = 0;
    const created = await Promise.all(
      ["alias/a", "alias/b", "alias/c"].map((name) => opened.store.createAlias(alias(name))),
    );
    assert.deepEqual(created, [true, true, true]);
    const writes = calls.filter((sql) => /^batch|INSERT|UPDATE|DELETE|BEGIN/i.test(sql));
    assert.deepEqual(writes, []);
    // Acknowledged means committed: the request thread's own connection reads them.
    const found = await opened.store.listAliases(ACCOUNT, REGION, { limit: 10 });
    assert.deepEqual(found.map((a) => a.name), ["alias/a", "alias/b", "alias/c"]);
  } finally {
    await closeStore(opened);
  }
});

Deno.test("a database worker that dies after its commit fails the write in flight with KMSInternalException saying it may be committed, and the next write succeeds on a new worker", async () => {
  const opened = await openStore({ workerUrl: CRASHING_WORKER });
  try {
    const failed = await opened.store.createAlias(alias("alias/crash-after-commit")).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(failed instanceof KMSInternalException, String(failed));
    assert.match(failed.message, /may still be committed/);
    // It had committed: a retry is what the message warns about.
    assert.notEqual(
      await opened.store.getAlias(ACCOUNT, REGION, "alias/crash-after-commit"),
      null,
    );
    assert.equal(await opened.store.createAlias(alias("alias/after-the-crash")), true);
    assert.equal(opened.writer.restarts, 1);
    assert.notEqual(await opened.store.getAlias(ACCOUNT, REGION, "alias/after-the-crash"), null);
  } finally {
    await closeStore(opened);
  }
});

Deno.test("a database worker that cannot restart after dying mid-run: writes fall back to the request thread's connection with one warning, and are committed", async () => {
  const warnings: string[] = [];
  const opened = await openStore({
    workerUrl: UNRESTARTABLE_WORKER,
    warn: (message) => warnings.push(message),
  });
  try {
    const failed = await opened.store.createAlias(alias("alias/crash-after-commit")).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(failed instanceof KMSInternalException, String(failed));
    assert.equal(opened.writer.fellBack, false);
    // The next writes meet a worker that cannot start again: they commit on `db` instead.
    const created = await Promise.all(
      ["alias/fallback-1", "alias/fallback-2", "alias/fallback-3"].map((name) =>
        opened.store.createAlias(alias(name))
      ),
    );
    assert.deepEqual(created, [true, true, true]);
    assert.equal(await opened.store.createAlias(alias("alias/fallback-4")), true);
    assert.equal(opened.writer.fellBack, true);
    assert.equal(opened.writer.restarts, 1);
    assert.deepEqual(warnings, [
      "the database worker could not restart: writes commit on the request thread",
    ]);
    const stored = await opened.db.execute(
      "SELECT name FROM aliases WHERE name LIKE 'alias/fallback-%'",
    );
    assert.equal(stored.rows.length, 4);
  } finally {
    await closeStore(opened);
  }
});

Deno.test("without a fallback, a database worker that cannot restart fails the writes and changes nothing", async () => {
  const opened = await openStore({ workerUrl: UNRESTARTABLE_WORKER });
  try {
    await opened.store.createAlias(alias("alias/crash-after-commit")).catch(() => {});
    const failed = await opened.store.createAlias(alias("alias/no-fallback")).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(failed instanceof Error, String(failed));
    assert.equal(opened.writer.fellBack, false);
    assert.equal(await opened.store.getAlias(ACCOUNT, REGION, "alias/no-fallback"), null);
  } finally {
    await closeStore(opened);
  }
});

Deno.test("with a database worker, a write that keeps finding the database locked by another connection fails with DependencyTimeoutException, commits nothing, and writes succeed once the lock is gone", async () => {
  const opened = await openStore({ timeoutMs: 300 });
  const other = await openDatabase(opened.url);
  try {
    const lock = await other.transaction("write");
    let failed: unknown;
    try {
      failed = await opened.store.createAlias(alias("alias/locked")).then(
        () => undefined,
        (error: unknown) => error,
      );
    } finally {
      await lock.rollback();
    }
    assert.ok(failed instanceof DependencyTimeoutException, String(failed));
    assert.equal(await opened.store.getAlias(ACCOUNT, REGION, "alias/locked"), null);
    assert.equal(await opened.store.createAlias(alias("alias/unlocked")), true);
    assert.equal(await opened.store.getAlias(ACCOUNT, REGION, "alias/locked"), null);
  } finally {
    other.close();
    await closeStore(opened);
  }
});

Deno.test("closing a store with a database worker while writes are in flight loses no acknowledged write", async () => {
  const opened = await openStore();
  const names = Array.from({ length: 200 }, (_, i) => `alias/drain-${i}`);
  const outcomes = names.map((name) =>
    opened.store.createAlias(alias(name)).then(() => true, () => false)
  );
  // One turn: the writes reach the queue and its first group is posted to the worker; close()
  // then meets them queued or in flight, and must let them finish.
  await nextTurn();
  await opened.store.close();
  const settled = await Promise.all(outcomes);
  const reopened = await openDatabase(opened.url);
  try {
    const rows = await reopened.execute("SELECT name FROM aliases");
    const stored = new Set(rows.rows.map((row) => String(row["name"])));
    const lost = names.filter((name, i) => settled[i] && !stored.has(name));
    assert.deepEqual(lost, []);
    assert.ok(settled.some((acknowledged) => acknowledged), "some writes were acknowledged");
  } finally {
    reopened.close();
    await Deno.remove(dirname(localFilePath(opened.url)!), { recursive: true });
  }
});

Deno.test("openWriterFor keeps :memory: and remote databases on the request thread, and falls back with one warning when the worker cannot start", async () => {
  const warnings: string[] = [];
  const warn = (message: string) => warnings.push(message);
  assert.equal(await openWriterFor(":memory:", warn), undefined);
  assert.equal(await openWriterFor("libsql://db.example.com", warn), undefined);
  assert.deepEqual(warnings, []);
  const dir = await Deno.makeTempDir({ prefix: "kms_db_worker_" });
  try {
    const missing = new URL("./no_such_db_worker.ts", import.meta.url);
    assert.equal(await openWriterFor(`file:${dir}/kms.db`, warn, missing), undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? "", /writes commit on the request thread/);
    const writer = await openWriterFor(`file:${dir}/kms.db`, warn);
    assert.ok(writer instanceof DbWorkerClient);
    await writer.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
