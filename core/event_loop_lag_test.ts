import assert from "node:assert/strict";
import { EventLoopLag, LAG_BUCKETS, lagQuantile } from "./event_loop_lag.ts";
import { Metrics } from "./metrics.ts";
import { waitFor } from "../tests/helpers/wait.ts";

/** Holds the thread for at least `ms` (a synchronous call that blocks the event loop). */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

Deno.test("EventLoopLag records a synchronous block as a lag at least as long, less one interval", async () => {
  const lag = new EventLoopLag(5);
  lag.start();
  try {
    block(60);
    await waitFor(() => lag.snapshot().count > 0, "a lag sample after the block");
    // The pending tick was due 5 ms after start at the latest; the block held it ≥ 60 ms.
    assert.ok(lag.snapshot().max >= 0.055, `max lag ${lag.snapshot().max} s`);
  } finally {
    lag.stop();
  }
});

Deno.test("EventLoopLag buckets each lag under the first bound not below it, +Inf past the last", () => {
  const lag = new EventLoopLag();
  for (const seconds of [0.0002, 0.004, 0.0041, 100]) lag.record(seconds);
  const snapshot = lag.snapshot();
  assert.equal(snapshot.count, 4);
  assert.equal(snapshot.max, 100);
  assert.equal(snapshot.counts[LAG_BUCKETS.indexOf(0.0005)], 1);
  assert.equal(snapshot.counts[LAG_BUCKETS.indexOf(0.004)], 1);
  assert.equal(snapshot.counts[LAG_BUCKETS.indexOf(0.005)], 1);
  assert.equal(snapshot.counts[LAG_BUCKETS.length], 1);
});

Deno.test("lagQuantile reads a quantile between two snapshots as its bucket's upper bound", () => {
  const lag = new EventLoopLag();
  for (let i = 0; i < 10; i++) lag.record(0.05);
  const before = lag.snapshot();
  for (let i = 0; i < 98; i++) lag.record(0.0009);
  for (let i = 0; i < 2; i++) lag.record(0.009);
  const after = lag.snapshot();
  assert.equal(lagQuantile(after, before, 0.5), 0.001);
  assert.equal(lagQuantile(after, before, 0.99), 0.01);
  assert.equal(lagQuantile(after, undefined, 0.99), 0.05);
  assert.ok(Number.isNaN(lagQuantile(before, before, 0.5)));
});

Deno.test("Metrics with eventLoopLag renders a cumulative lag histogram and the largest lag", async () => {
  const metrics = new Metrics({ eventLoopLag: true });
  try {
    block(30);
    await waitFor(
      () => /^kms_event_loop_lag_seconds_count [1-9]/m.test(metrics.render(new Map())),
      "a lag sample in /metrics",
    );
    const text = metrics.render(new Map());
    const buckets = [
      ...text.matchAll(/^kms_event_loop_lag_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm),
    ];
    assert.equal(buckets.length, LAG_BUCKETS.length + 1);
    const counts = buckets.map((m) => Number(m[2]));
    for (let i = 1; i < counts.length; i++) assert.ok(counts[i]! >= counts[i - 1]!, text);
    const count = Number(/^kms_event_loop_lag_seconds_count (\d+)$/m.exec(text)?.[1]);
    assert.equal(counts.at(-1), count);
    assert.ok(Number(/^kms_event_loop_lag_max_seconds (\S+)$/m.exec(text)?.[1]) >= 0.025, text);
    assert.match(text, /^process_resident_memory_bytes [1-9]\d*$/m);
  } finally {
    metrics.close();
  }
});

Deno.test("Metrics without eventLoopLag renders no lag family", () => {
  const text = new Metrics().render(new Map());
  assert.doesNotMatch(text, /kms_event_loop_lag/);
});
