/**
 * The pure parts of KMS_WORKERS (isolates.ts, core/coherence.ts `IsolateChanges`,
 * routes/listener.ts `probesPerLook`); tests/workers_test.ts runs the real server with two
 * isolates.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ISOLATE_CHANGES_BYTES, IsolateChanges } from "../core/coherence.ts";
import { ConfigError } from "../core/config.ts";
import { isolateShare, MAX_WORKERS, workerCount } from "../isolates.ts";
import { probesPerLook } from "../routes/listener.ts";

Deno.test("IsolateChanges: a commit of one isolate is foreign to the others, never to itself", () => {
  const shared = new SharedArrayBuffer(ISOLATE_CHANGES_BYTES);
  const a = new IsolateChanges(shared);
  const b = new IsolateChanges(shared);
  assert.equal(a.takeForeign(), false);
  assert.equal(b.takeForeign(), false);
  a.committed();
  assert.equal(a.takeForeign(), false, "its own commit");
  assert.equal(b.takeForeign(), true, "the other's commit");
  assert.equal(b.takeForeign(), false, "told once");
  // b commits, then a: a's own bump follows b's, so a learns of b's commit from its own too.
  b.committed();
  a.committed();
  assert.equal(a.takeForeign(), true);
  assert.equal(b.takeForeign(), true);
  assert.equal(a.takeForeign(), false);
});

Deno.test("IsolateChanges: the counter wraps around 2^31 without losing a change", () => {
  const shared = new SharedArrayBuffer(ISOLATE_CHANGES_BYTES);
  new Int32Array(shared)[0] = 2 ** 31 - 1;
  const a = new IsolateChanges(shared);
  const b = new IsolateChanges(shared);
  a.committed();
  assert.equal(new Int32Array(shared)[0], -(2 ** 31));
  assert.equal(a.takeForeign(), false);
  assert.equal(b.takeForeign(), true);
});

Deno.test("KMS_WORKERS: default the number of CPUs, 1..64, and one isolate for :memory:", () => {
  assert.deepEqual(workerCount(undefined, "file:data/kms.db", 4), { count: 4 });
  assert.deepEqual(workerCount("", "file:data/kms.db", 0), { count: 1 });
  assert.deepEqual(workerCount(undefined, "file:data/kms.db", 1000), { count: MAX_WORKERS });
  assert.deepEqual(workerCount("1", "file:data/kms.db", 8), { count: 1 });
  assert.deepEqual(workerCount(" 3 ", "file:data/kms.db", 8), { count: 3 });
  for (const bad of ["0", "-1", "1.5", "two", "65", "1e1"]) {
    assert.throws(
      () => workerCount(bad, "file:data/kms.db", 2),
      (e: unknown) => e instanceof ConfigError && e.message.includes(`"${bad}"`),
    );
  }
  const memory = workerCount("4", ":memory:", 8);
  assert.equal(memory.count, 1);
  assert.match(memory.note ?? "", /in-memory database/);
});

Deno.test("isolates share out pools and threads: at least one each unless none", () => {
  assert.equal(isolateShare(0, 2), 0);
  assert.equal(isolateShare(1, 2), 1);
  assert.equal(isolateShare(2, 2), 1);
  assert.equal(isolateShare(5, 2), 3);
  assert.equal(isolateShare(5, 1), 5);
});

Deno.test("the accept watchdog probes with more connections the more listeners share the port", () => {
  assert.equal(probesPerLook(1), 1);
  assert.equal(probesPerLook(2), 16);
  assert.equal(probesPerLook(64), 64);
  // All probes of a look miss this listener with probability (1 - 1/n)^probes < e^-8 (n <= 8).
  for (let n = 2; n <= 8; n++) assert.ok((1 - 1 / n) ** probesPerLook(n) < Math.exp(-8));
});
