import assert from "node:assert/strict";
import { DependencyTimeoutException, KMSInternalException } from "../errors.ts";
import { nextTurn, waitFor } from "../../tests/helpers/wait.ts";
import { type AdmissionTimers, AuditBuffer, type AuditBufferOptions } from "./buffer.ts";
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

/** A gate: writes wait on `sink.gate` until `open()`. */
function gated(sink: FakeSink): () => void {
  let open!: () => void;
  sink.gate = new Promise((resolve) => (open = resolve));
  return () => {
    sink.gate = null;
    open();
  };
}

Deno.test("AuditBuffer writes after the interval, all waiting records in one write", async () => {
  const sink = new FakeSink();
  const buffer = new AuditBuffer(sink, { flushIntervalMs: 20, flushRows: 100 });
  for (let i = 0; i < 5; i++) assert.equal(buffer.push(record(i)), undefined);
  assert.equal(buffer.size, 5);
  assert.equal(sink.attempts, 0);
  await waitFor(() => sink.writes.length > 0, "the timed write");
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
  await waitFor(() => sink.writes.length === 1, "the write of three records");
  assert.deepEqual(sink.writes, [["r0", "r1", "r2"]]);
  buffer.push(record(3));
  buffer.push(record(4));
  await nextTurn();
  assert.equal(sink.attempts, 1, "two records (below flushRows) start no write");
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

Deno.test("AuditBuffer without backpressure refuses a record at once with DependencyTimeoutException when full, keeping nothing", async () => {
  const sink = new FakeSink();
  const open = gated(sink);
  const buffer = new AuditBuffer(sink, {
    capacity: 4,
    flushRows: 2,
    flushIntervalMs: 5,
    admissionWaitMs: 0,
  });
  for (let i = 0; i < 4; i++) assert.equal(buffer.push(record(i)), undefined);
  assert.equal(buffer.size, 4);
  assert.match(buffer.unavailable() ?? "", /full \(4 of 4 records\)/);
  assert.throws(() => buffer.push(record(4)), DependencyTimeoutException);
  assert.equal(buffer.size, 4, "the refused record is not kept");
  open();
  await buffer.flush();
  assert.equal(buffer.unavailable(), null);
  assert.equal(buffer.push(record(5)), undefined);
  await buffer.close();
  assert.deepEqual(sink.written, ["r0", "r1", "r2", "r3", "r5"]);
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

Deno.test("AuditBuffer keeps and retries records after a failed write, refusing new ones until a write succeeds", async () => {
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
  assert.equal(buffer.failing, true);
  assert.throws(() => buffer.push(record(2)), KMSInternalException);
  await waitFor(() => !buffer.failing, "a successful retry");
  assert.deepEqual(sink.written, ["r0", "r1"]);
  assert.equal(buffer.push(record(3)), undefined);
  await buffer.flush();
  assert.deepEqual(sink.written, ["r0", "r1", "r3"]);
  assert.deepEqual(errors.map((e) => e[0]), ["disk full", "disk full"]);
  assert.equal(errors[0]![1], 2);
  await buffer.close();
});

Deno.test("AuditBuffer strict: push resolves only once its record is committed", async () => {
  const sink = new FakeSink();
  const open = gated(sink);
  const buffer = new AuditBuffer(sink, { mode: "strict", flushIntervalMs: 10_000 });
  let committed = false;
  const pushed = buffer.push(record(0));
  assert.ok(pushed instanceof Promise);
  void pushed.then(() => (committed = true));
  await waitFor(() => sink.attempts === 1, "the write to start without waiting for the interval");
  assert.equal(committed, false);
  open();
  await pushed;
  assert.deepEqual(sink.written, ["r0"]);
  await buffer.close();
});

Deno.test("AuditBuffer strict: records pushed during a write share the next write (group commit)", async () => {
  const sink = new FakeSink();
  const open = gated(sink);
  const buffer = new AuditBuffer(sink, { mode: "strict" });
  const first = buffer.push(record(0));
  await waitFor(() => sink.attempts === 1, "the first write");
  const rest = [1, 2, 3].map((i) => buffer.push(record(i)));
  assert.equal(sink.attempts, 1, "no second write while one is in flight");
  open();
  await Promise.all([first, ...rest]);
  assert.deepEqual(sink.writes, [["r0"], ["r1", "r2", "r3"]]);
  await buffer.close();
});

Deno.test("AuditBuffer strict: a failed write rejects its pushes with KMSInternalException, keeps and retries the records", async () => {
  const sink = new FakeSink();
  sink.fail = 1;
  const buffer = new AuditBuffer(sink, { mode: "strict", retryDelayMs: 5 });
  await assert.rejects(buffer.push(record(0)) as Promise<void>, KMSInternalException);
  await waitFor(() => sink.written.length === 1, "the retry");
  assert.equal(buffer.failing, false);
  await buffer.push(record(1));
  assert.deepEqual(sink.written, ["r0", "r1"]);
  await buffer.close();
});

Deno.test("AuditBuffer fails a write still running after writeTimeoutMs for its callers, then recovers when it ends", async () => {
  const sink = new FakeSink();
  const open = gated(sink);
  const errors: string[] = [];
  const buffer = new AuditBuffer(sink, {
    mode: "strict",
    writeTimeoutMs: 20,
    onError: (error) => errors.push((error as Error).message),
  });
  await assert.rejects(buffer.push(record(0)) as Promise<void>, KMSInternalException);
  assert.equal(buffer.failing, true);
  assert.match(errors[0] ?? "", /still running after 20 ms/);
  assert.throws(() => buffer.push(record(1)), KMSInternalException);
  assert.equal(sink.attempts, 1, "the hung write is not overtaken");
  open();
  await waitFor(() => !buffer.failing, "the hung write to end");
  await buffer.push(record(2));
  assert.deepEqual(sink.written, ["r0", "r2"]);
  await buffer.close();
});

Deno.test("AuditBuffer without backpressure refuses records once the oldest waiting one is maxLagMs old; status tells a readiness check", async () => {
  const sink = new FakeSink();
  const open = gated(sink);
  let now = 1000;
  const buffer = new AuditBuffer(sink, {
    maxLagMs: 500,
    writeTimeoutMs: 60_000,
    flushIntervalMs: 1,
    admissionWaitMs: 0,
    now: () => now,
  });
  buffer.push(record(0));
  now += 499;
  assert.equal(buffer.push(record(1)), undefined);
  now += 1;
  assert.deepEqual(buffer.status(), {
    mode: "batched",
    size: 2,
    capacity: 8192,
    lagMs: 500,
    maxLagMs: 500,
    failing: false,
    unavailable: "audit log behind (oldest record waiting 500 ms, bound 500 ms)",
    held: 0,
  });
  assert.throws(() => buffer.push(record(2)), DependencyTimeoutException);
  open();
  await buffer.flush();
  assert.equal(buffer.lagMs, 0);
  assert.equal(buffer.unavailable(), null);
  await buffer.close();
  assert.deepEqual(sink.written, ["r0", "r1"]);
});

Deno.test("AuditBuffer close writes everything, then refuses records", async () => {
  const sink = new FakeSink();
  const buffer = new AuditBuffer(sink, { flushIntervalMs: 10_000, flushRows: 1000 });
  for (let i = 0; i < 3; i++) buffer.push(record(i));
  await buffer.close();
  assert.deepEqual(sink.written, ["r0", "r1", "r2"]);
  assert.throws(() => buffer.push(record(3)), KMSInternalException);
  assert.equal(buffer.unavailable(), "audit log closed");
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
  // A retry would be a timer: pending at the end, the test's op sanitizer fails it; run, it counts.
  await nextTurn();
  assert.equal(sink.attempts, 3, "no retries after close gave up");
  await assert.rejects(buffer.close(), /1 records unwritten/);
});

Deno.test("AuditBuffer close waits for a write in flight", async () => {
  const sink = new FakeSink();
  let open!: () => void;
  sink.gate = new Promise((resolve) => (open = resolve));
  const buffer = new AuditBuffer(sink, { flushRows: 1 });
  buffer.push(record(0));
  await waitFor(() => sink.attempts === 1, "the write of r0 to start");
  buffer.push(record(1));
  let settled = false;
  const closed = buffer.close().finally(() => settled = true);
  await nextTurn();
  assert.equal(settled, false, "close waits while the write is in flight");
  assert.deepEqual(sink.written, []);
  open();
  await closed;
  assert.deepEqual(sink.written, ["r0", "r1"]);
});

Deno.test("AuditBuffer rejects nonsense options", () => {
  const sink = new FakeSink();
  assert.throws(() => new AuditBuffer(sink, { mode: "eventually" as "strict" }), RangeError);
  assert.throws(() => new AuditBuffer(sink, { capacity: 0 }), RangeError);
  assert.throws(() => new AuditBuffer(sink, { flushIntervalMs: Number.NaN }), RangeError);
});

/** Admission timers fired by the test: `fire()` runs those due at the injected clock's time. */
class ManualTimers implements AdmissionTimers {
  #next = 0;
  readonly pending = new Map<number, { at: number; callback: () => void }>();
  constructor(readonly clock: { now: number }) {}
  set(callback: () => void, ms: number): unknown {
    const id = ++this.#next;
    this.pending.set(id, { at: this.clock.now + ms, callback });
    return id;
  }
  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  fire(): void {
    for (const [id, timer] of [...this.pending]) {
      if (timer.at > this.clock.now) continue;
      this.pending.delete(id);
      timer.callback();
    }
  }
}

/**
 * A batched buffer with a 500 ms lag bound, 3 s admission wait, an injected clock (at 1000) and
 * timers, whose writes wait until `open()`.
 */
function gatedBuffer(options: AuditBufferOptions = {}) {
  const sink = new FakeSink();
  const open = gated(sink);
  const clock = { now: 1000 };
  const timers = new ManualTimers(clock);
  const buffer = new AuditBuffer(sink, {
    maxLagMs: 500,
    writeTimeoutMs: 60_000,
    flushIntervalMs: 1,
    admissionWaitMs: 3000,
    ...options,
    now: () => clock.now,
    timers,
  });
  return { sink, open, clock, timers, buffer };
}

/** A gated buffer behind its lag bound: r0 waits in a held write, clock at 1500. */
function behindBuffer(options: AuditBufferOptions = {}) {
  const gated = gatedBuffer(options);
  gated.buffer.push(record(0));
  gated.clock.now += 500;
  return gated;
}

/** Whether a promise has settled, after the current turn. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => done = true, () => done = true);
  await nextTurn();
  return done;
}

Deno.test("AuditBuffer behind its lag bound holds new records, in order, until a write makes room", async () => {
  const { sink, open, buffer } = behindBuffer();
  assert.match(buffer.unavailable() ?? "", /behind/);
  const first = buffer.push(record(1));
  const second = buffer.push(record(2));
  assert.ok(first instanceof Promise && second instanceof Promise);
  assert.equal(buffer.size, 1, "held records are not in the buffer");
  assert.equal(buffer.status().held, 2);
  assert.equal(await settled(first), false, "held while the buffer is behind");
  open();
  await first;
  await second;
  assert.equal(buffer.status().held, 0);
  await buffer.close();
  assert.deepEqual(sink.written, ["r0", "r1", "r2"]);
});

Deno.test("AuditBuffer refuses a held record with DependencyTimeoutException at its deadline, keeping nothing", async () => {
  const { sink, open, clock, timers, buffer } = behindBuffer({ admissionWaitMs: 3000 });
  const held = buffer.push(record(1)) as Promise<void>;
  clock.now += 2999;
  timers.fire();
  assert.equal(await settled(held), false, "still within its deadline");
  clock.now += 1;
  timers.fire();
  await assert.rejects(held, DependencyTimeoutException);
  assert.equal(buffer.status().held, 0);
  assert.equal(timers.pending.size, 0);
  open();
  await buffer.close();
  assert.deepEqual(sink.written, ["r0"], "the refused record is not written");
});

Deno.test("AuditBuffer refuses a held record whose deadline passed when a write ends without making room, and takes the ones after it later", async () => {
  const { sink, open, clock, timers, buffer } = gatedBuffer({ maxRowsPerWrite: 1 });
  buffer.push(record(0));
  clock.now += 1;
  buffer.push(record(1));
  clock.now += 499;
  const late = buffer.push(record(2)) as Promise<void>;
  clock.now += 2000;
  const timely = buffer.push(record(3)) as Promise<void>;
  clock.now += 1500;
  // No timer fired. The write of r0 ends with r1 still 3,500 ms old: no room, and r2's deadline
  // (injected clock) has passed; the write of r1 then makes room for r3.
  open();
  await assert.rejects(late, DependencyTimeoutException);
  await timely;
  assert.equal(timers.pending.size, 0);
  await buffer.close();
  assert.deepEqual(sink.written, ["r0", "r1", "r3"]);
});

Deno.test("AuditBuffer refuses at once with DependencyTimeoutException beyond maxHeldPushes", async () => {
  const { sink, open, buffer } = behindBuffer({ maxHeldPushes: 2 });
  const held = [buffer.push(record(1)), buffer.push(record(2))];
  assert.throws(() => buffer.push(record(3)), DependencyTimeoutException);
  open();
  await Promise.all(held);
  await buffer.close();
  assert.deepEqual(sink.written, ["r0", "r1", "r2"]);
});

Deno.test("AuditBuffer refuses held records with KMSInternalException when a write fails or it closes", async () => {
  const failing = behindBuffer();
  const held = failing.buffer.push(record(1)) as Promise<void>;
  failing.sink.fail = 1;
  failing.open();
  await assert.rejects(held, KMSInternalException);
  assert.equal(failing.timers.pending.size, 0);
  await failing.buffer.close();
  assert.deepEqual(failing.sink.written, ["r0"]);

  const closing = behindBuffer();
  const heldAtClose = closing.buffer.push(record(1)) as Promise<void>;
  const closed = closing.buffer.close();
  await assert.rejects(heldAtClose, KMSInternalException);
  closing.open();
  await closed;
  assert.deepEqual(closing.sink.written, ["r0"]);
});

Deno.test("AuditBuffer strict: a held record's promise resolves once it is committed", async () => {
  const sink = new FakeSink();
  const open = gated(sink);
  const clock = { now: 1000 };
  const timers = new ManualTimers(clock);
  const buffer = new AuditBuffer(sink, {
    mode: "strict",
    capacity: 1,
    writeTimeoutMs: 60_000,
    now: () => clock.now,
    timers,
  });
  const first = buffer.push(record(0)) as Promise<void>;
  const second = buffer.push(record(1)) as Promise<void>;
  assert.equal(buffer.status().held, 1);
  open();
  await first;
  await second;
  assert.deepEqual(sink.written, ["r0", "r1"]);
  await buffer.close();
});
