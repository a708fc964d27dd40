import assert from "node:assert/strict";
import type { Client } from "@libsql/client";
import { AuditEntry } from "../core/audit/entry.ts";
import type { AuditRecord } from "../core/audit/record.ts";
import { parseAuditRetention } from "../core/audit/retention.ts";
import { ConfigError, parseConfig } from "../core/config.ts";
import { SqliteAuditStore } from "./audit_store.ts";
import { readSegment, runRetention, usedBytes } from "./audit_retention.ts";
import { AuditWorkerSink } from "./audit_writer.ts";
import { openDatabase } from "./client.ts";
import { migrate } from "./migrate.ts";
import { WriteQueue } from "./write_queue.ts";
import { waitFor } from "../tests/helpers/wait.ts";

const KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const T0 = Date.UTC(2026, 0, 1);

function record(i: number, time = T0 + i * 1000, operation = "GenerateDataKey"): AuditRecord {
  const entry = new AuditEntry({
    time,
    requestId: crypto.randomUUID(),
    operation,
    principal: {
      arn: "arn:aws:iam::111122223333:user/alice",
      accountId: "111122223333",
      accessKeyId: "AKIAEXAMPLE",
    },
    sourceIp: "127.0.0.1",
    userAgent: "aws-sdk-js/3.0 ua/2.1 os/linux lang/js md/nodejs#22",
    region: "us-east-1",
  });
  entry.addResource(KEY);
  entry.setDecision("Allow");
  entry.setRequestParameters(operation, { KeyId: KEY, KeySpec: "AES_256" });
  entry.succeeded();
  return entry.record();
}

async function withDb(fn: (db: Client, url: string, dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  const url = `file:${dir}/kms.db`;
  const db = await openDatabase(url);
  try {
    await migrate(db);
    await fn(db, url, dir);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Appends `n` records (times T0 + i s) in writes of 50, plus one state change on chain 0. */
async function fill(db: Client, n: number): Promise<void> {
  const queue = new WriteQueue(db);
  await queue.submit([], [record(0, T0, "CreateKey")]);
  for (let i = 0; i < n; i += 50) {
    await queue.appendAudit(Array.from({ length: Math.min(50, n - i) }, (_, j) => record(i + j)));
  }
}

function reason(result: Awaited<ReturnType<SqliteAuditStore["verify"]>>) {
  return result.ok ? "ok" : result.reason;
}

Deno.test("KMS_AUDIT_RETENTION syntax: an age and/or a size, off, and clear refusals", () => {
  assert.deepEqual(parseAuditRetention("30d"), { maxAgeMs: 30 * 86_400_000, maxBytes: null });
  assert.deepEqual(parseAuditRetention("1GiB"), { maxAgeMs: null, maxBytes: 1024 ** 3 });
  assert.deepEqual(parseAuditRetention(" 12h , 500MB "), {
    maxAgeMs: 12 * 3_600_000,
    maxBytes: 500_000_000,
  });
  assert.deepEqual(parseAuditRetention("off"), { maxAgeMs: null, maxBytes: null });
  assert.deepEqual(parseAuditRetention(""), { maxAgeMs: null, maxBytes: null });
  assert.throws(() => parseAuditRetention("30"), /not a positive age/);
  assert.throws(() => parseAuditRetention("0d"), /not a positive age/);
  assert.throws(() => parseAuditRetention("3y"), /unknown unit "y"/);
  assert.throws(() => parseAuditRetention("1d,2d"), /two ages/);
  assert.throws(() => parseAuditRetention("1GB,2MiB"), /two sizes/);
  const config = parseConfig({
    KMS_AUDIT_RETENTION: "30d,1GiB",
    KMS_AUDIT_EXPORT_DIR: "/srv/audit",
  });
  assert.deepEqual(config.auditRetention, { maxAgeMs: 30 * 86_400_000, maxBytes: 1024 ** 3 });
  assert.equal(config.auditExportDir, "/srv/audit");
  assert.equal(parseConfig({}).auditRetention, undefined);
  assert.throws(
    () => parseConfig({ KMS_AUDIT_RETENTION: "forever" }),
    (error) =>
      error instanceof ConfigError && /^KMS_AUDIT_RETENTION: "forever"/.test(error.message),
  );
});

Deno.test("retention by age removes the oldest records, leaves a checkpoint, and the rest verifies", async () => {
  await withDb(async (db) => {
    await fill(db, 400);
    const store = new SqliteAuditStore(db);
    assert.equal(reason(await store.verify()), "ok");
    // Records 0..149 (and the CreateKey at T0) are older than 250 s before T0 + 400 s.
    const result = await runRetention(db, {
      retention: { maxAgeMs: 250_000, maxBytes: null },
      batchRows: 64,
      now: () => T0 + 400_000,
    });
    assert.equal(result.removed, 151);
    const verified = await store.verify({ pageSize: 37 });
    assert.ok(verified.ok, JSON.stringify(verified));
    assert.equal(verified.count, 250);
    assert.equal(verified.removed, 151);
    const left = await store.query({ limit: 10_000 });
    assert.equal(left[0]?.eventTime, T0 + 150_000);
    // Appending after the truncation continues the chain.
    await new WriteQueue(db).appendAudit([record(400)]);
    assert.equal(reason(await store.verify()), "ok");
  });
});

Deno.test("after retention, an altered, a deleted middle or a deleted front record breaks verify", async () => {
  const truncated = async (db: Client) => {
    await fill(db, 200);
    await runRetention(db, {
      retention: { maxAgeMs: 100_000, maxBytes: null },
      now: () => T0 + 200_000,
    });
    const store = new SqliteAuditStore(db);
    assert.equal(reason(await store.verify()), "ok");
    const [first] = (await db.execute("SELECT min(seq) AS s FROM audit_log")).rows;
    return { store, first: Number(first?.["s"]) };
  };
  await withDb(async (db) => {
    const { store, first } = await truncated(db);
    await db.execute({
      sql:
        "UPDATE audit_log SET event = replace(event, 'GenerateDataKey', 'Decrypt') WHERE seq = ?",
      args: [first + 20],
    });
    assert.equal(reason(await store.verify()), "hash");
  });
  await withDb(async (db) => {
    const { store, first } = await truncated(db);
    await db.execute({ sql: "DELETE FROM audit_log WHERE seq = ?", args: [first + 20] });
    assert.equal(reason(await store.verify()), "gap");
  });
  await withDb(async (db) => {
    const { store, first } = await truncated(db);
    await db.execute({ sql: "DELETE FROM audit_log WHERE seq <= ?", args: [first + 5] });
    assert.equal(reason(await store.verify()), "gap");
  });
});

Deno.test("retention by size holds the used pages at the bound", async () => {
  await withDb(async (db) => {
    await fill(db, 3000);
    const before = await usedBytes(db);
    const bound = Math.floor(before * 0.6);
    const result = await runRetention(db, {
      retention: { maxAgeMs: null, maxBytes: bound },
      batchRows: 200,
      maxBatches: 100,
    });
    assert.ok(result.removed > 0);
    assert.ok(await usedBytes(db) <= bound, `${await usedBytes(db)} > ${bound}`);
    const verified = await new SqliteAuditStore(db).verify();
    assert.ok(verified.ok, JSON.stringify(verified));
    assert.equal(verified.count + (verified.removed ?? 0), 3001);
  });
});

Deno.test("retention first exports what it removes as JSON lines; the events round-trip", async () => {
  await withDb(async (db, _url, dir) => {
    await fill(db, 120);
    const store = new SqliteAuditStore(db);
    const before = await store.query({ limit: 10_000 });
    const exportDir = `${dir}/export`;
    const result = await runRetention(db, {
      retention: { maxAgeMs: 1, maxBytes: null },
      exportDir,
      batchRows: 50,
      now: () => T0 + 10_000_000,
    });
    assert.equal(result.removed, 121);
    assert.equal(result.segments.length, 3);
    const exported = [];
    for (const path of result.segments) exported.push(...await readSegment(path));
    assert.deepEqual(exported, before.map((event) => JSON.parse(event.json)));
    assert.deepEqual(
      exported.map((e) => (e as { requestID: string }).requestID),
      before.map((e) => e.requestId),
    );
    assert.equal((await store.query()).length, 0);
    assert.equal(reason(await store.verify()), "ok");
  });
});

Deno.test("a writer whose remembered head retention removed chains after the checkpoint", async () => {
  await withDb(async (db, url) => {
    const stale = new WriteQueue(db);
    await stale.appendAudit([record(0)]);
    const other = await openDatabase(url);
    try {
      await new WriteQueue(other).appendAudit(Array.from({ length: 50 }, (_, i) => record(i + 1)));
      await runRetention(other, {
        retention: { maxAgeMs: 1, maxBytes: null },
        now: () => T0 + 1e9,
      });
    } finally {
      other.close();
    }
    await stale.appendAudit([record(60)]);
    const verified = await new SqliteAuditStore(db).verify();
    assert.ok(verified.ok, JSON.stringify(verified));
    assert.equal(verified.count, 1);
  });
});

Deno.test("two audit workers appending to one file at once keep one verifiable chain", async () => {
  await withDb(async (db, url) => {
    const sinks = [new AuditWorkerSink(url), new AuditWorkerSink(url)];
    try {
      await Promise.all(sinks.map((sink) => sink.open()));
      await Promise.all(sinks.map(async (sink, s) => {
        for (let i = 0; i < 40; i++) {
          await sink.appendAudit(
            Array.from({ length: 10 }, (_, j) => record(s * 1000 + i * 10 + j)),
          );
        }
      }));
    } finally {
      await Promise.all(sinks.map((sink) => sink.close()));
    }
    const verified = await new SqliteAuditStore(db).verify();
    assert.ok(verified.ok, JSON.stringify(verified));
    assert.equal(verified.count, 800);
  });
});

Deno.test("the audit worker runs retention beside its appends and exports what it removes", async () => {
  await withDb(async (db, url, dir) => {
    const errors: string[] = [];
    const sink = new AuditWorkerSink(url, undefined, undefined, {
      policy: { maxAgeMs: 60_000, maxBytes: null },
      exportDir: `${dir}/export`,
      intervalMs: 20,
      onError: (message) => errors.push(message),
    });
    try {
      // Records of 2026 are far older than a minute: the worker removes every one.
      await sink.appendAudit(Array.from({ length: 30 }, (_, i) => record(i)));
      const store = new SqliteAuditStore(db);
      await waitFor(async () => (await store.checkpoints()).get(1)?.removed === 30, "retention");
      await sink.appendAudit([record(100, Date.now())]);
      const verified = await store.verify();
      assert.ok(verified.ok, JSON.stringify(verified));
      assert.deepEqual([verified.count, verified.removed], [1, 30]);
      const segments = [...Deno.readDirSync(`${dir}/export`)].map((e) => e.name);
      assert.equal(segments.filter((name) => name.endsWith(".jsonl")).length, 1);
      assert.deepEqual(errors, []);
    } finally {
      await sink.close();
    }
  });
});
