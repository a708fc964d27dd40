/**
 * The listener with its per-turn budget (routes/turn_budget.ts) in front of a real socket: a burst
 * that the budget spreads over turns is still answered in full, each request with its own body.
 * The budget's clock is injected and advanced by the handler (no timing).
 *
 * @module
 */
import assert from "node:assert/strict";
import { DEFAULT_CONNECTION_LIMITS } from "../core/config.ts";
import { listen } from "../routes/listener.ts";
import { TurnBudget } from "../routes/turn_budget.ts";
import { nextTurn, waitFor } from "./helpers/wait.ts";

Deno.test("a burst over the turn budget is answered in full, each request with its own reply", async () => {
  let now = 0;
  // Turns are held until the test runs them, so every request past the first slice's allowance
  // (1 ms over an assumed 0.4 ms a request: 2) waits, whatever the network's timing.
  const heldTurns: (() => void)[] = [];
  const budget = new TurnBudget(1, {
    clock: () => now,
    yieldTurn: (callback) => heldTurns.push(callback),
    initialCostMs: 0.4,
  });
  let answered = 0;
  const server = await listen(async (request) => {
    const body = await request.text();
    now += 0.4;
    answered++;
    return new Response(JSON.stringify({ echo: body }), {
      headers: { "content-type": "application/json" },
    });
  }, {
    hostname: "127.0.0.1",
    port: 0,
    log: () => {},
    ...DEFAULT_CONNECTION_LIMITS,
    turnBudget: budget,
  });
  try {
    const count = 48;
    const replies = Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const response = await fetch(`http://127.0.0.1:${server.addr.port}/`, {
          method: "POST",
          body: `request ${i}`,
        });
        return { status: response.status, body: await response.json() as { echo: string } };
      }),
    );
    const arrived = () => budget.stats().immediate + budget.stats().deferred;
    await waitFor(() => arrived() === count, "every request reached the gate");
    assert.equal(budget.stats().immediate, 2);
    assert.equal(budget.waiting, count - 2);
    let turns = 0;
    while (budget.waiting > 0) {
      await waitFor(() => heldTurns.length > 0, "a turn is scheduled while requests wait");
      turns++;
      heldTurns.shift()!();
      await nextTurn();
    }
    assert.ok(turns >= (count - 2) / 2, `at most the allowance a turn (${turns} turns)`);
    await waitFor(() => answered === count, "every request answered");
    for (const [i, reply] of (await replies).entries()) {
      assert.equal(reply.status, 200);
      assert.equal(reply.body.echo, `request ${i}`);
    }
    assert.equal(budget.waiting, 0);
  } finally {
    await server.shutdown(2_000);
  }
});
