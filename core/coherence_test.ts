import assert from "node:assert/strict";
import { Coherence, type ForeignChanges } from "./coherence.ts";
import { nextTurn, waitFor } from "../tests/helpers/wait.ts";

Deno.test("Coherence forwards what the feed reports on each look, and nothing when nothing changed", async () => {
  const reports: (ForeignChanges | null)[] = [
    null,
    { data: true, deletedKeys: [] },
    { data: false, deletedKeys: ["k"] },
  ];
  const forgotten: ForeignChanges[] = [];
  const coherence = new Coherence({
    feed: { changes: () => Promise.resolve(reports.shift() ?? null) },
    forget: (changes) => forgotten.push(changes),
  });
  await coherence.check();
  assert.deepEqual(forgotten, []);
  await coherence.check();
  await coherence.check();
  assert.deepEqual(forgotten, [{ data: true, deletedKeys: [] }, {
    data: false,
    deletedKeys: ["k"],
  }]);
});

Deno.test("Coherence looks on its timer, joins a look under way, and reports a failed look", async () => {
  let looks = 0;
  const errors: unknown[] = [];
  let release: () => void = () => {};
  const coherence = new Coherence({
    feed: {
      changes: async () => {
        looks++;
        if (looks === 1) await new Promise<void>((resolve) => release = resolve);
        if (looks === 2) throw new Error("database gone");
        return { data: true, deletedKeys: [] };
      },
    },
    forget: () => {},
    intervalMs: 5,
    onError: (error) => errors.push(error),
  });
  const first = coherence.check();
  const joined = coherence.check();
  assert.equal(first, joined);
  release();
  await first;
  coherence.start();
  // Wait for the timer's looks (a loaded machine may delay a 5 ms timer well past 50 ms).
  await waitFor(() => looks >= 3, "three looks of the timer");
  await coherence.stop();
  assert.ok(looks >= 3, `looked ${looks} times`);
  assert.equal(errors.length, 1);
  const after = looks;
  // A timer left running would be pending at the end: the test's op sanitizer fails it.
  await nextTurn();
  assert.equal(looks, after, "no look after stop");
});
