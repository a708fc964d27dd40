import assert from "node:assert/strict";
import { type AuthFailure, AuthFailureAggregator } from "./auth_failures.ts";
import { AuditEntry } from "./entry.ts";
import { nextTurn, waitFor } from "../../tests/helpers/wait.ts";
import type { AuditRecord } from "./record.ts";

/** An aggregator over a list that keeps what is pushed, with a clock the test moves. */
function setup(options: { windowMs?: number; maxGroups?: number } = {}) {
  const pushed: AuditRecord[] = [];
  let now = 1_700_000_000_000;
  const aggregator = new AuthFailureAggregator({ push: (record) => void pushed.push(record) }, {
    ...options,
    now: () => now,
  });
  const fail = (failure: Partial<AuthFailure> = {}) => {
    const entry = new AuditEntry({
      time: now,
      requestId: crypto.randomUUID(),
      operation: "Encrypt",
      principal: null,
      sourceIp: failure.sourceIp ?? "192.0.2.1",
      userAgent: null,
      region: "us-east-1",
    });
    entry.failed(failure.errorCode ?? "MissingAuthenticationTokenException", "Missing token");
    return aggregator.record(entry, {
      sourceIp: failure.sourceIp ?? "192.0.2.1",
      accessKeyId: failure.accessKeyId ?? null,
      errorCode: failure.errorCode ?? "MissingAuthenticationTokenException",
    });
  };
  return { pushed, aggregator, fail, advance: (ms: number) => void (now += ms) };
}

function requestCount(record: AuditRecord): unknown {
  return record.event.additionalEventData?.["requestCount"];
}

Deno.test("the first failure of a kind is recorded at once; its repeats become one counted record", async () => {
  const { pushed, aggregator, fail, advance } = setup({ windowMs: 60_000 });
  await fail();
  assert.equal(pushed.length, 1);
  assert.equal(requestCount(pushed[0]!), undefined);
  for (let i = 0; i < 4; i++) {
    advance(1_000);
    await fail();
  }
  assert.equal(pushed.length, 1, "repeats within the window wait to be counted");
  advance(60_000);
  await fail();
  assert.equal(pushed.length, 3, "the window's count, then the next window's first record");
  assert.equal(requestCount(pushed[1]!), 4);
  assert.deepEqual(pushed[1]!.event.additionalEventData?.["aggregatedBy"], [
    "errorCode",
    "sourceIPAddress",
    "userIdentity.accessKeyId",
  ]);
  assert.equal(pushed[1]!.errorCode, "MissingAuthenticationTokenException");
  assert.equal(requestCount(pushed[2]!), undefined);
  await aggregator.close();
  assert.equal(pushed.length, 3, "a window with no repeats writes no count");
});

Deno.test("failures differing in source, access key or error are grouped apart", async () => {
  const { pushed, aggregator, fail } = setup();
  await fail();
  await fail({ sourceIp: "198.51.100.7" });
  await fail({ accessKeyId: "AKIAEXAMPLE000000001" });
  await fail({ errorCode: "InvalidSignatureException" });
  await fail();
  assert.equal(pushed.length, 4);
  assert.equal(aggregator.openGroups, 4);
  await aggregator.close();
  assert.equal(pushed.length, 5);
  assert.equal(requestCount(pushed[4]!), 1);
});

Deno.test("beyond maxGroups, new sources share one group per error, so records stay bounded", async () => {
  const { pushed, aggregator, fail } = setup({ maxGroups: 2 });
  for (let i = 0; i < 1_000; i++) await fail({ sourceIp: `10.0.${i >> 8}.${i & 255}` });
  // Two groups by source, then one by error: three first records.
  assert.equal(pushed.length, 3);
  assert.equal(aggregator.openGroups, 3);
  await aggregator.close();
  assert.equal(pushed.length, 4);
  const aggregate = pushed[3]!;
  assert.equal(requestCount(aggregate), 997);
  assert.deepEqual(aggregate.event.additionalEventData?.["aggregatedBy"], ["errorCode"]);
});

Deno.test("after close, failures are recorded one by one (nothing is dropped)", async () => {
  const { pushed, aggregator, fail } = setup();
  await aggregator.close();
  await fail();
  await fail();
  assert.equal(pushed.length, 2);
});

Deno.test("an aggregate the log refuses when its window ends (held then refused, or refused at once) is dropped without an unhandled error", async () => {
  for (const refuse of ["later", "at once"] as const) {
    let pushes = 0;
    let now = 1_700_000_000_000;
    const aggregator = new AuthFailureAggregator({
      push: () => {
        pushes++;
        if (pushes === 1) return;
        if (refuse === "at once") throw new Error("audit log writes failing");
        return Promise.reject(new Error("no room in time"));
      },
    }, { windowMs: 1, now: () => now });
    const failure: AuthFailure = {
      sourceIp: "192.0.2.1",
      accessKeyId: null,
      errorCode: "MissingAuthenticationTokenException",
    };
    const entry = () => {
      const e = new AuditEntry({
        time: now,
        requestId: crypto.randomUUID(),
        operation: "Encrypt",
        principal: null,
        sourceIp: "192.0.2.1",
        userAgent: null,
        region: "us-east-1",
      });
      e.failed("MissingAuthenticationTokenException", "Missing token");
      return e;
    };
    await aggregator.record(entry(), failure);
    await aggregator.record(entry(), failure);
    // The window ends (injected clock); its timer writes the counted repeat: the sink refuses it.
    now += 1;
    await waitFor(() => pushes >= 2, "the aggregate's write when its window ends");
    await nextTurn();
    // The refused group is gone: closing writes nothing more.
    assert.equal(aggregator.close(), undefined);
    assert.equal(pushes, 2);
  }
});
