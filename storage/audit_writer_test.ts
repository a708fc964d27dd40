import assert from "node:assert/strict";
import { AuditBuffer } from "../core/audit/buffer.ts";
import { AuditEntry } from "../core/audit/entry.ts";
import type { AuditRecord } from "../core/audit/record.ts";
import { SqliteAuditStore } from "./audit_store.ts";
import { AuditWorkerSink } from "./audit_writer.ts";
import { openDatabase } from "./client.ts";
import { migrate } from "./migrate.ts";
import { WriteQueue } from "./write_queue.ts";

const KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

function record(i: number, operation = "Encrypt"): AuditRecord {
  const entry = new AuditEntry({
    time: 1_700_000_000_000 + i * 1000,
    requestId: `req-${i}`,
    operation,
    principal: {
      arn: "arn:aws:iam::111122223333:root",
      accountId: "111122223333",
      accessKeyId: "A",
    },
    sourceIp: "127.0.0.1",
    userAgent: "test",
    region: "us-east-1",
  });
  entry.addResource(KEY);
  entry.setDecision("Allow");
  const context = Object.create(null);
  context["__proto__"] = `v${i}`;
  entry.setRequestParameters(operation, { KeyId: KEY, EncryptionContext: context });
  entry.succeeded();
  return entry.record();
}

Deno.test("AuditWorkerSink commits buffered records from a worker beside the request thread's chain", async () => {
  const dir = await Deno.makeTempDir();
  const url = `file:${dir}/kms.db`;
  const db = await openDatabase(url);
  const sink = new AuditWorkerSink(url);
  try {
    await migrate(db);
    // As main.ts does: the worker's start-up is not counted against the first write's timeout.
    await sink.open();
    const queue = new WriteQueue(db);
    const buffer = new AuditBuffer(sink, { flushRows: 50, flushIntervalMs: 5 });
    const store = new SqliteAuditStore(db);
    const pushed: AuditRecord[] = [];
    for (let i = 0; i < 300; i++) {
      const r = record(i);
      pushed.push(r);
      await buffer.push(r);
      // State changes commit their own records on this connection meanwhile (chain 0).
      if (i % 60 === 0) await queue.submit([], [record(1000 + i, "CreateAlias")]);
    }
    await buffer.flush();
    assert.equal((await store.lastUsage(KEY))?.requestId, "req-299");
    await buffer.close();
    const events = await store.query({ limit: 10_000 });
    assert.equal(events.length, 305);
    const buffered = events.filter((e) => e.chain === 1);
    assert.deepEqual(buffered.map((e) => e.requestId), pushed.map((r) => r.requestId));
    assert.deepEqual(buffered.map((e) => e.chainSeq), pushed.map((_, i) => i + 1));
    // What the worker stored is the canonical text of what was pushed.
    assert.equal(buffered[7]!.json, JSON.stringify(pushed[7]!.event));
    assert.match(buffered[7]!.json, /"encryptionContext":\{"__proto__":"v7"\}/);
    assert.equal(buffered[7]!.eventTime, pushed[7]!.eventTime);
    const verified = await store.verify();
    assert.ok(verified.ok, JSON.stringify(verified));
    assert.deepEqual(verified.heads.map((h) => [h.chain, h.seq]), [[0, 5], [1, 300]]);
  } finally {
    await sink.close();
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AuditWorkerSink acknowledges an append committed by an earlier attempt without repeating it", async () => {
  const dir = await Deno.makeTempDir();
  const url = `file:${dir}/kms.db`;
  const db = await openDatabase(url);
  const sink = new AuditWorkerSink(url);
  try {
    await migrate(db);
    const batch = [record(1), record(2)];
    const first = new AuditWorkerSink(url);
    try {
      await first.appendAudit(batch);
    } finally {
      await first.close();
    }
    // The same batch again through a new worker (the first was stopped before its answer arrived):
    // nothing is written twice.
    await sink.appendAudit(batch);
    await sink.appendAudit([record(3)]);
    const store = new SqliteAuditStore(db);
    assert.deepEqual((await store.query()).map((e) => e.requestId), ["req-1", "req-2", "req-3"]);
    assert.ok((await store.verify()).ok);
  } finally {
    await sink.close();
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AuditWorkerSink reports a database it cannot open, and refuses memory databases", async () => {
  assert.throws(() => new AuditWorkerSink(":memory:"), /local database file/);
  assert.throws(() => new AuditWorkerSink("file::memory:"), /local database file/);
  const dir = await Deno.makeTempDir();
  const blocker = `${dir}/not-a-dir`;
  await Deno.writeTextFile(blocker, "");
  const sink = new AuditWorkerSink(`file:${blocker}/kms.db`);
  try {
    await assert.rejects(sink.appendAudit([record(1)]), /audit worker/);
    // Each append tries again with a new worker.
    await assert.rejects(sink.appendAudit([record(2)]), /audit worker/);
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
  await assert.rejects(sink.appendAudit([record(3)]), /closed/);
});
