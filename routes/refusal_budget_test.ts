import assert from "node:assert/strict";
import { RefusalBudget } from "./refusal_budget.ts";

const MB = 1024 * 1024;

function budget(options: { maxSources?: number } = {}) {
  let now = 0;
  const refusals = new RefusalBudget({
    bytesPerSecond: 8 * MB,
    burstBytes: 16 * MB,
    maxDelayMs: 2_000,
    ...options,
    now: () => now,
  });
  return { refusals, advance: (ms: number) => void (now += ms) };
}

Deno.test("refused bodies within a source's burst are answered at once; beyond it, held by the byte rate", () => {
  const { refusals } = budget();
  for (let i = 0; i < 16; i++) assert.equal(refusals.charge("192.0.2.1", MB), 0, `body ${i}`);
  // 1 MB over the budget at 8 MB/s: held 125 ms; the next one twice as long.
  assert.equal(refusals.charge("192.0.2.1", MB), 125);
  assert.equal(refusals.charge("192.0.2.1", MB), 250);
});

Deno.test("a held source recovers at the budget's rate, and its hold never exceeds maxDelayMs", () => {
  const { refusals, advance } = budget();
  for (let i = 0; i < 100; i++) refusals.charge("192.0.2.1", MB);
  assert.equal(refusals.charge("192.0.2.1", MB), 2_000);
  advance(2_000 + 2_000); // pays the debt, then refills 16 MB
  assert.equal(refusals.charge("192.0.2.1", MB), 0);
});

Deno.test("100,000 small refused requests at once are not held, and one source's debt does not hold another", () => {
  const { refusals } = budget();
  for (let i = 0; i < 100_000; i++) assert.equal(refusals.charge("192.0.2.1", 64), 0);
  for (let i = 0; i < 40; i++) refusals.charge("198.51.100.9", MB);
  assert.ok(refusals.charge("198.51.100.9", MB) > 0);
  assert.equal(refusals.charge("203.0.113.5", MB), 0);
});

Deno.test("beyond maxSources, new sources share one budget instead of growing the map", () => {
  const { refusals } = budget({ maxSources: 2 });
  for (let i = 0; i < 20; i++) refusals.charge("192.0.2.1", MB);
  for (let i = 0; i < 20; i++) refusals.charge("192.0.2.2", MB);
  // Both tracked sources are in debt: every other source is charged to the shared budget.
  for (let i = 0; i < 16; i++) assert.equal(refusals.charge(`10.0.0.${i}`, MB), 0);
  assert.ok(refusals.charge("10.0.1.1", MB) > 0, "the shared budget is spent");
});
