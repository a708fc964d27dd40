import assert from "node:assert/strict";
import { openDatabase } from "../storage/client.ts";
import { RootKey } from "../storage/legacy_root_key.ts";
import { migrate } from "../storage/migrate.ts";
import { SqliteStore } from "../storage/sqlite_store.ts";
import { CredentialCache } from "./credentials.ts";
import type { CredentialStore } from "./ports.ts";
import { SecretBytes } from "./secret.ts";

const ACCESS_KEY_ID = "AKIACREDENTIALCACHE1";

/** A real store on a fresh database, and how many credential reads reached it. */
async function countingStore(): Promise<
  { store: CredentialStore; reads: () => number; close: () => void }
> {
  const db = await openDatabase(":memory:");
  await migrate(db);
  const store = new SqliteStore(db, await RootKey.fromBytes(new Uint8Array(32).fill(3)));
  await store.putCredential({
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: new SecretBytes(new TextEncoder().encode("secret-of-the-cache-test")),
    accountId: "111122223333",
    principalArn: "arn:aws:iam::111122223333:root",
    enabled: true,
    createdAt: 0,
  });
  let reads = 0;
  const counting = Object.create(store, {
    getCredential: {
      value: (id: string) => {
        reads++;
        return store.getCredential(id);
      },
    },
  }) as CredentialStore;
  return { store: counting, reads: () => reads, close: () => store.close() };
}

Deno.test("requests that find a credential expired together share one load", async () => {
  const { store, reads, close } = await countingStore();
  try {
    let now = 0;
    const cache = new CredentialCache(store, { now: () => now }, { ttlMs: 1000 });
    await cache.get(ACCESS_KEY_ID);
    assert.equal(reads(), 1);
    now = 5000;
    const all = await Promise.all(Array.from({ length: 16 }, () => cache.get(ACCESS_KEY_ID)));
    assert.equal(reads(), 2);
    for (const credential of all) assert.equal(credential?.accessKeyId, ACCESS_KEY_ID);
    await cache.get(ACCESS_KEY_ID);
    assert.equal(reads(), 2, "the shared load was cached");
  } finally {
    close();
  }
});

Deno.test("a load that began before forget does not bring the forgotten credential back", async () => {
  const { store, reads, close } = await countingStore();
  try {
    const cache = new CredentialCache(store, { now: () => 0 }, { ttlMs: 1000 });
    const before = cache.get(ACCESS_KEY_ID);
    cache.forget(ACCESS_KEY_ID);
    const after = cache.get(ACCESS_KEY_ID);
    assert.notEqual(before, after, "a get after forget starts its own load");
    await Promise.all([before, after]);
    assert.equal(reads(), 2);
    await cache.get(ACCESS_KEY_ID);
    assert.equal(reads(), 2, "the load begun after forget was cached");
    cache.forgetAll();
    await cache.get(ACCESS_KEY_ID);
    assert.equal(reads(), 3, "forgetAll drops it");
  } finally {
    close();
  }
});
