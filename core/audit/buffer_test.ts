import assert from "node:assert/strict";
import { AuditBuffer } from "./buffer.ts";
import { AuditEntry } from "./entry.ts";
import type { AuditSink } from "./ports.ts";
import type { AuditRecord } from "./record.ts";

function record(i: number): AuditRecord {
  return new AuditEntry({
    time: 1_700_000_000_000 + i,
    requestId: `r${i}`,
    operation: "Encrypt",
    principal: null,
    sourceIp: null,
    userAgent: null,
    region: "us-east-1",
  }).record();
}

/** A sink that records each write; `fail` makes the next writes throw; `gate` holds writes. */
class FakeSink implements AuditSink {
  writes: string[][] = [];
  attempts = 0;
  fail = 0;
  gate: Promise<void> | null = null;

  async appendAudit(records: readonly AuditRecord[]): Promise<void> {
    this.attempts++;
    if (this.gate !== null) await this.gate;
    if (this.fail > 0) {
      this.fail--;
      throw new Error("disk full");
    }
    this.writes.push(records.map((r) => r.requestId));
  }

  get written(): string[] {
    return this.writes.flat();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("AuditBuffer writes after the interval, all waiting records in one write", async () => {
  const sink = new FakeSink();
  const buffer = new AuditBuffer(sink, { flushIntervalMs: 20, flushRows: 100 });
  for (let i = 0; i < 5; i++) assert.equal(buffer.push(record(i)), undefined);
  assert.equal(buffer.size, 5);
  assert.equal(sink.attempts, 0);
  await sleep(60);
  assert.deepEqual(sink.writes, [["r0", "r1", "r2", "r3", "r4"]]);
  assert.equal(buffer.size, 0);
  await buffer.close();
});

Deno.test("AuditBuffer writes as soon as flushRows records wait", async () => {
  const sink = new FakeSink();
  const buffer = new AuditBuffer(sink, { flushIntervalMs: 10_000, flushRows: 3 });
  buffer.push(record(0));
  buffer.push(record(1));
  assert.equal(sink.attempts, 0);
  buffer.push(record(2));
  assert.equal(sink.attempts, 1);
  await sleep(0);
  assert.deepEqual(sink.writes, [["r0", "r1", "r2"]]);
  buffer.push(record(3));
  buffer.push(record(4));
  await sleep(5);
  assert.equal(sink.attempts, 1);
  await buffer.close();
  assert.deepEqual(sink.writes, [["r0", "r1", "r2"], ["r3", "r4"]]);
});

Deno.test("AuditBuffer caps a write at maxRowsPerWrite and keeps push order", async () => {
  const sink = new FakeSink();
  const buffer = new AuditBuffer(sink, { flushRows: 1, maxRowsPerWrite: 4 });
  for (let i = 0; i < 10; i++) buffer.push(record(i));
  await buffer.flush();
  assert.ok(sink.writes.every((w) => w.length <= 4));
  assert.deepEqual(sink.written, Array.from({ length: 10 }, (_, i) => `r${i}`));
  await buffer.close();
});

Deno.test("AuditBuffer applies backpressure beyond its capacity, never drops", async () => {
  const sink = new FakeSink();
  let open!: () => void;
  sink.gate = new Promise((resolve) => (open = resolve));
  const buffer = new AuditBuffer(sink, { capacity: 4, flushRows: 2, flushIntervalMs: 5 });
  const results = Array.from({ length: 6 }, (_, i) => buffer.push(record(i)));
  assert.deepEqual(results.slice(0, 4), [undefined, undefined, undefined, undefined]);
  assert.ok(results[4] instanceof Promise);
  assert.ok(results[5] instanceof Promise);
  assert.equal(buffer.size, 6);
  let released = false;
  void Promise.all(results.slice(4)).then(() => (released = true));
  await sleep(10);
  assert.equal(released, false);
  open();
  await Promise.all(results.slice(4));
  assert.ok(buffer.size <= 4);
  await buffer.close();
  assert.deepEqual(sink.written, ["r0", "r1", "r2", "r3", "r4", "r5"]);
});

Deno.test("AuditBuffer flush waits for the records pushed before it", async () => {
  const sink = new FakeSink();
  const buffer = new AuditBuffer(sink, { flushIntervalMs: 10_000, flushRows: 1000 });
  await buffer.flush();
  buffer.push(record(0));
  buffer.push(record(1));
  await buffer.flush();
  assert.deepEqual(sink.written, ["r0", "r1"]);
  await buffer.close();
});

Deno.test("AuditBuffer keeps and retries records after a failed write, reporting it", async () => {
  const sink = new FakeSink();
  sink.fail = 2;
  const errors: [string, number][] = [];
  const buffer = new AuditBuffer(sink, {
    flushIntervalMs: 5,
    retryDelayMs: 5,
    onError: (error, waiting) => errors.push([(error as Error).message, waiting]),
  });
  buffer.push(record(0));
  buffer.push(record(1));
  await assert.rejects(buffer.flush(), /disk full/);
  assert.equal(buffer.size, 2);
  buffer.push(record(2));
  await sleep(60);
  assert.deepEqual(sink.written, ["r0", "r1", "r2"]);
  await buffer.flush();
  assert.deepEqual(sink.written, ["r0", "r1", "r2"]);
  assert.deepEqual(errors.map((e) => e[0]), ["disk full", "disk full"]);
  assert.equal(errors[0]![1], 2);
  await buffer.close();
});

Deno.test("AuditBuffer close writes everything, then refuses records", async () => {
  const sink = new FakeSink();
  const buffer = new AuditBuffer(sink, { flushIntervalMs: 10_000, flushRows: 1000 });
  for (let i = 0; i < 3; i++) buffer.push(record(i));
  await buffer.close();
  assert.deepEqual(sink.written, ["r0", "r1", "r2"]);
  assert.throws(() => buffer.push(record(3)), /closed/);
  await buffer.close();
});

Deno.test("AuditBuffer close gives up after closeAttempts failures, keeping the count", async () => {
  const sink = new FakeSink();
  sink.fail = 100;
  const buffer = new AuditBuffer(sink, { retryDelayMs: 1, closeAttempts: 3 });
  buffer.push(record(0));
  await assert.rejects(buffer.close(), /1 records unwritten/);
  assert.equal(buffer.size, 1);
  assert.equal(sink.attempts, 3);
  await sleep(20);
  assert.equal(sink.attempts, 3, "no retries after close gave up");
  await assert.rejects(buffer.close(), /1 records unwritten/);
});

Deno.test("AuditBuffer close waits for a write in flight", async () => {
  const sink = new FakeSink();
  let open!: () => void;
  sink.gate = new Promise((resolve) => (open = resolve));
  const buffer = new AuditBuffer(sink, { flushRows: 1 });
  buffer.push(record(0));
  await sleep(0);
  buffer.push(record(1));
  const closed = buffer.close();
  await sleep(5);
  assert.deepEqual(sink.written, []);
  open();
  await closed;
  assert.deepEqual(sink.written, ["r0", "r1"]);
});

Deno.test("AuditBuffer rejects nonsense options", () => {
  const sink = new FakeSink();
  assert.throws(() => new AuditBuffer(sink, { capacity: 0 }), RangeError);
  assert.throws(() => new AuditBuffer(sink, { flushIntervalMs: Number.NaN }), RangeError);
});
