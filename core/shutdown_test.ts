import assert from "node:assert/strict";
import { shutDown } from "./shutdown.ts";

Deno.test("shutDown resolves 0 and logs a complete shutdown when draining and closing finish", async () => {
  const logged: Record<string, unknown>[] = [];
  const order: string[] = [];
  const code = await shutDown({
    drain: () => Promise.resolve(void order.push("drain")),
    close: () => Promise.resolve(void order.push("close")),
    unflushed: () => 0,
    log: (record) => logged.push(record),
    timeoutMs: 60_000,
  });
  assert.equal(code, 0);
  assert.deepEqual(order, ["drain", "close"]);
  assert.deepEqual(logged.map((r) => r.message), ["shutdown complete"]);
});

Deno.test("shutDown gives up on a drain that never ends, still closes, and resolves 1 by its deadline", async () => {
  const logged: Record<string, unknown>[] = [];
  let closed = false;
  const code = await shutDown({
    drain: () => new Promise<void>(() => {}),
    close: () => Promise.resolve(void (closed = true)),
    unflushed: () => 0,
    log: (record) => logged.push(record),
    timeoutMs: 90,
  });
  assert.equal(code, 1);
  assert.ok(closed, "the audit log was flushed and the store closed after the drain gave up");
  assert.ok(logged.some((r) => r.step === "drain" && /not finished/.test(String(r.problem))));
});

Deno.test("shutDown logs how many audit records it could not write and resolves 1", async () => {
  const logged: Record<string, unknown>[] = [];
  const code = await shutDown({
    drain: () => Promise.resolve(),
    close: () => Promise.reject(new Error("audit buffer closed with 7 records unwritten")),
    unflushed: () => 7,
    log: (record) => logged.push(record),
    timeoutMs: 60_000,
  });
  assert.equal(code, 1);
  const lost = logged.find((r) => r.unflushed !== undefined);
  assert.equal(lost?.unflushed, 7);
  assert.ok(
    logged.some((r) => r.step === "close" && /7 records unwritten/.test(String(r.problem))),
  );
});
