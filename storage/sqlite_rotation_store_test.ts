/**
 * The claim logic of rotations (storage/sqlite_rotation_store.ts): of several
 * rotations racing for the same due date or the same version, exactly one
 * commits; a lost one writes nothing, not even its audit record, and does not
 * take down the writes it was grouped with.
 */
import assert from "node:assert/strict";
import type { Client } from "@libsql/client";
import { AuditEntry } from "../core/audit/entry.ts";
import type { KeyRotation } from "../core/rotation_store.ts";
import { SecretBytes } from "../core/secret.ts";
import type { KeyMaterial, KeyRecord } from "../core/types.ts";
import { openDatabase } from "./client.ts";
import { migrate } from "./migrate.ts";
import { RootKey } from "./legacy_root_key.ts";
import { SqliteStore } from "./sqlite_store.ts";

const ROOT_KEY_BYTES = crypto.getRandomValues(new Uint8Array(32));
const DAY = 86_400_000;
const T0 = 1_750_000_000_000;

async function openStore(url: string): Promise<{ store: SqliteStore; db: Client }> {
  const db = await openDatabase(url);
  await migrate(db);
  return { store: new SqliteStore(db, await RootKey.fromBytes(ROOT_KEY_BYTES.slice())), db };
}

function keyRecord(): KeyRecord {
  return {
    keyId: crypto.randomUUID(),
    accountId: "111122223333",
    region: "us-east-1",
    createdAt: T0,
    description: "",
    keySpec: "SYMMETRIC_DEFAULT",
    keyUsage: "ENCRYPT_DECRYPT",
    origin: "AWS_KMS",
    state: "Enabled",
    deletionDate: null,
    pendingWindowInDays: null,
    policy: "{}",
    currentMaterialVersion: 1,
  };
}

function material(keyId: string, version: number): KeyMaterial {
  return {
    keyId,
    version,
    keyMaterialId: crypto.getRandomValues(new Uint8Array(32)).toHex(),
    material: new SecretBytes(crypto.getRandomValues(new Uint8Array(32))),
    createdAt: T0,
  };
}

function rotateKeyAudit(keyId: string) {
  const entry = new AuditEntry({
    time: T0,
    requestId: crypto.randomUUID(),
    operation: "RotateKey",
    principal: null,
    sourceIp: "kms.amazonaws.com",
    userAgent: "kms.amazonaws.com",
    region: "us-east-1",
  });
  entry.addResource(`arn:aws:kms:us-east-1:111122223333:key/${keyId}`);
  entry.succeeded();
  return entry.record();
}

function automatic(key: KeyRecord, claimed: number): KeyRotation {
  return {
    key,
    material: material(key.keyId, key.currentMaterialVersion + 1),
    type: "AUTOMATIC",
    rotatedAt: T0 + 91 * DAY,
    claim: { nextRotationDate: claimed, newNextRotationDate: claimed + 90 * DAY },
  };
}

async function count(db: Client, sql: string, ...args: (string | number)[]): Promise<number> {
  return Number((await db.execute({ sql, args })).rows[0]?.[0]);
}

/** A key with automatic rotation due at T0 + 90 days. */
async function dueKey(store: SqliteStore): Promise<KeyRecord> {
  const key = keyRecord();
  await store.createKey(key, material(key.keyId, 1), []);
  await store.putRotationSchedule({
    keyId: key.keyId,
    enabled: true,
    periodDays: 90,
    nextRotationDate: T0 + 90 * DAY,
    onDemandRotations: 0,
  });
  return key;
}

Deno.test("two stores on one database racing for the same due rotation: exactly one commits, with one audit record", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-rotation-claim-" });
  const a = await openStore(`file:${dir}/kms.db`);
  const b = await openStore(`file:${dir}/kms.db`);
  try {
    for (let round = 0; round < 10; round++) {
      const key = await dueKey(a.store);
      const due = (await b.store.listDueRotations(T0 + 91 * DAY, 100))
        .find((d) => d.keyId === key.keyId);
      assert.equal(due?.nextRotationDate, T0 + 90 * DAY);
      const results = await Promise.all([
        a.store.rotateKeyMaterial(automatic(key, due.nextRotationDate), rotateKeyAudit(key.keyId)),
        b.store.rotateKeyMaterial(automatic(key, due.nextRotationDate), rotateKeyAudit(key.keyId)),
      ]);
      assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${results}`);
      const db = a.db;
      assert.equal(
        await count(db, "SELECT count(*) FROM key_material WHERE key_id = ?", key.keyId),
        2,
      );
      assert.equal((await a.store.getKey(key.keyId))!.currentMaterialVersion, 2);
      assert.equal(
        await count(
          db,
          "SELECT count(*) FROM audit_log WHERE event_name = 'RotateKey' AND event LIKE ?",
          `%${key.keyId}%`,
        ),
        1,
      );
      const schedule = await b.store.getRotationSchedule(key.keyId);
      assert.equal(schedule?.nextRotationDate, T0 + 180 * DAY);
      assert.equal(
        (await a.store.listDueRotations(T0 + 91 * DAY, 100)).some((d) => d.keyId === key.keyId),
        false,
      );
      const [history] = await a.store.listMaterialVersions(key.keyId, {
        limit: 10,
        rotationsOnly: true,
      });
      assert.equal(history?.version, 2);
      assert.equal(history?.rotationType, "AUTOMATIC");
      assert.equal(history?.rotatedAt, T0 + 91 * DAY);
    }
  } finally {
    a.store.close();
    b.store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a rotation with a stale claim or version writes nothing, not even its audit record", async () => {
  const { store, db } = await openStore(":memory:");
  try {
    const key = await dueKey(store);
    assert.equal(await store.rotateKeyMaterial(automatic(key, T0 + 90 * DAY)), true);
    const audits = await count(db, "SELECT count(*) FROM audit_log");
    // The same claim again (the schedule moved on): refused.
    assert.equal(
      await store.rotateKeyMaterial(automatic(key, T0 + 90 * DAY), rotateKeyAudit(key.keyId)),
      false,
    );
    // A fresh claim on a stale version (the key is at version 2 now): refused.
    assert.equal(
      await store.rotateKeyMaterial(automatic(key, T0 + 180 * DAY), rotateKeyAudit(key.keyId)),
      false,
    );
    assert.equal(await count(db, "SELECT count(*) FROM audit_log"), audits);
    assert.equal(
      await count(db, "SELECT count(*) FROM key_material WHERE key_id = ?", key.keyId),
      2,
    );
    // Right version and claim: accepted.
    const rotated = { ...key, currentMaterialVersion: 2 };
    assert.equal(await store.rotateKeyMaterial(automatic(rotated, T0 + 180 * DAY)), true);
  } finally {
    store.close();
  }
});

Deno.test("a lost rotation fails alone, also when grouped with other writes in one transaction", async () => {
  const { store, db } = await openStore(":memory:");
  try {
    const key = await dueKey(store);
    const other = keyRecord();
    await store.createKey(other, material(other.keyId, 1), []);
    const [lost, , won] = await Promise.all([
      store.rotateKeyMaterial(automatic(key, T0 + 1), rotateKeyAudit(key.keyId)),
      store.putTags(other.keyId, [{ TagKey: "k", TagValue: "v" }]),
      store.rotateKeyMaterial(automatic(key, T0 + 90 * DAY), rotateKeyAudit(key.keyId)),
    ]);
    assert.equal(lost, false);
    assert.equal(won, true);
    assert.deepEqual(await store.listTags(other.keyId), [{ TagKey: "k", TagValue: "v" }]);
    assert.equal(
      await count(db, "SELECT count(*) FROM audit_log WHERE event_name = 'RotateKey'"),
      1,
    );
  } finally {
    store.close();
  }
});

Deno.test("on-demand rotations stop at the limit; a key that is not Enabled does not rotate", async () => {
  const { store } = await openStore(":memory:");
  try {
    let key = keyRecord();
    await store.createKey(key, material(key.keyId, 1), []);
    for (let i = 0; i < 2; i++) {
      const rotation: KeyRotation = {
        key,
        material: material(key.keyId, key.currentMaterialVersion + 1),
        type: "ON_DEMAND",
        rotatedAt: T0 + i,
        maxOnDemandRotations: 2,
      };
      assert.equal(await store.rotateKeyMaterial(rotation), true);
      key = { ...key, currentMaterialVersion: key.currentMaterialVersion + 1 };
    }
    const third: KeyRotation = {
      key,
      material: material(key.keyId, 4),
      type: "ON_DEMAND",
      rotatedAt: T0 + 3,
      maxOnDemandRotations: 2,
    };
    assert.equal(await store.rotateKeyMaterial(third), false);
    assert.equal((await store.getRotationSchedule(key.keyId))?.onDemandRotations, 2);
    assert.equal((await store.getRotationSchedule(key.keyId))?.enabled, false);

    await store.updateKey({ ...key, state: "Disabled" });
    assert.equal(await store.rotateKeyMaterial({ ...third, maxOnDemandRotations: 25 }), false);
    await store.updateKey({ ...key, state: "Enabled" });
    assert.equal(await store.rotateKeyMaterial({ ...third, maxOnDemandRotations: 25 }), true);
    // Deleting the key deletes its schedule too.
    await store.deleteKey(key.keyId);
    assert.equal(await store.getRotationSchedule(key.keyId), null);
  } finally {
    store.close();
  }
});
