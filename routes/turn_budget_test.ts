/**
 * routes/turn_budget.ts with an injected clock and turn scheduler: no timing, only counts.
 * A simulated request passes the gate, then (a microtask later, as the app's work runs after the
 * listener's call returns) advances the clock by its cost and finishes.
 *
 * @module
 */
import assert from "node:assert/strict";
import process from "node:process";
import { COST_WINDOW, processCpuLag, runQueueDelay, TurnBudget } from "./turn_budget.ts";

/** A manual event loop: a clock that only work advances, and turns run on demand. */
class FakeLoop {
  now = 0;
  /** Time the simulated thread waited for a CPU so far (part of `now`). */
  cpuWaitMs = 0;
  /** The budget's view of `cpuWaitMs`. */
  readonly cpuWait = { now: () => this.cpuWaitMs, close: () => {} };
  /** The macrotask running now: 0 for the first burst, +1 for each arrival batch or turn. */
  macrotask = 0;
  readonly #turns: (() => void)[] = [];
  readonly clock = () => this.now;
  readonly yieldTurn = (callback: () => void) => {
    this.#turns.push(callback);
  };

  /** The thread waits `ms` for a CPU: the wall clock moves, the work does not. */
  preempt(ms: number): void {
    this.now += ms;
    this.cpuWaitMs += ms;
  }

  get pendingTurns(): number {
    return this.#turns.length;
  }

  /**
   * Runs the next scheduled turn as a macrotask of its own, with its microtasks; `preemptedMs`:
   * time the process waited for a CPU before it (the ending turn's wall time grows by it).
   */
  async runTurn(preemptedMs = 0): Promise<void> {
    const next = this.#turns.shift();
    assert.ok(next !== undefined, "a turn is scheduled");
    this.preempt(preemptedMs);
    this.macrotask++;
    next();
    await settle();
  }
}

/** Lets every queued microtask (and those they queue, to a generous depth) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

/** A request of `costMs` through the gate; `log` gets its number once it ran, with its turn. */
async function request(
  budget: TurnBudget,
  loop: FakeLoop,
  id: number,
  costMs: number,
  log: { id: number; turn: number }[],
): Promise<void> {
  const wait = budget.admit();
  if (wait !== undefined) await wait;
  await Promise.resolve(); // the app's work runs after the gate's caller returned
  loop.now += costMs;
  log.push({ id, turn: loop.macrotask });
}

/** Sends `count` requests in one turn and runs turns until all finished; what each turn ran. */
async function burst(
  budgetMs: number,
  count: number,
  costMs: number,
): Promise<{ log: { id: number; turn: number }[]; turns: number; budget: TurnBudget }> {
  const loop = new FakeLoop();
  const budget = new TurnBudget(budgetMs, { clock: loop.clock, yieldTurn: loop.yieldTurn });
  const log: { id: number; turn: number }[] = [];
  const all = Array.from({ length: count }, (_, id) => request(budget, loop, id, costMs, log));
  await settle();
  while (log.length < count) {
    await loop.runTurn();
    assert.ok(loop.macrotask <= count, "every turn admits at least one waiting request");
  }
  await Promise.all(all);
  return { log, turns: loop.macrotask, budget };
}

/** How many requests ran in each turn. */
function perTurn(log: { turn: number }[]): number[] {
  const counts: number[] = [];
  for (const { turn } of log) counts[turn] = (counts[turn] ?? 0) + 1;
  return Array.from(counts, (n) => n ?? 0);
}

Deno.test("a burst larger than one turn's budget is all answered, in order of arrival", async () => {
  const { log, turns, budget } = await burst(2, 40, 0.5);
  assert.deepEqual(log.map((e) => e.id), Array.from({ length: 40 }, (_, i) => i));
  assert.ok(turns > 1, `the burst was spread over turns (${turns})`);
  const stats = budget.stats();
  assert.equal(stats.immediate + stats.deferred, 40);
  assert.ok(stats.deferred > 0);
  assert.equal(budget.waiting, 0);
});

Deno.test("once the cost is learned, no turn runs more work than its budget", async () => {
  const { log } = await burst(2, 60, 0.5);
  const counts = perTurn(log);
  // The first turns run on the assumed cost (0.25 ms: 8 requests); the moving average then
  // settles on 0.5 ms: 4 requests = 2 ms a turn.
  assert.equal(counts[0], 8);
  const settled = counts.slice(8, -1);
  assert.ok(settled.length > 0);
  for (const n of settled) assert.equal(n, 4, `turns after learning: ${counts.join(",")}`);
});

/**
 * A burst of `count` requests of 0.25 ms at a 2 ms budget (8 a turn), where the thread waits
 * `preemptedMs(turn)` for a CPU before each turn; what each turn ran.
 */
async function starvedBurst(
  count: number,
  preemptedMs: (turn: number) => number,
  withCpuWait: boolean,
): Promise<{ counts: number[]; ids: number[]; budget: TurnBudget }> {
  const loop = new FakeLoop();
  const budget = new TurnBudget(2, {
    clock: loop.clock,
    yieldTurn: loop.yieldTurn,
    ...(withCpuWait ? { cpuWait: loop.cpuWait } : {}),
  });
  const log: { id: number; turn: number }[] = [];
  const all = Array.from({ length: count }, (_, id) => request(budget, loop, id, 0.25, log));
  await settle();
  while (log.length < count) await loop.runTurn(preemptedMs(loop.macrotask));
  await Promise.all(all);
  return { counts: perTurn(log), ids: log.map((e) => e.id), budget };
}

Deno.test("turns that waited for a CPU do not shrink the allowance when the wait is known", async () => {
  // Every turn's wall time is 3.5 ms for 8 requests (0.44 ms each): only the 1.5 ms the thread
  // waited for a CPU (another process ran) make it so; a request still costs 0.25 ms.
  const { counts, ids, budget } = await starvedBurst(400, () => 1.5, true);
  assert.deepEqual(ids, Array.from({ length: 400 }, (_, i) => i));
  for (const n of counts) assert.equal(n, 8, `per turn: ${counts.join(",")}`);
  assert.equal(budget.stats().costMs, 0.25);
  assert.equal(budget.stats().cpuWaitMs, 1.5 * (counts.length - 1));
  assert.equal(budget.stats().starvedTurns, 0);
});

Deno.test("a thread starved for a CPU admits every request at once, in order, then gates again", async () => {
  // 10 ms waits for 2 ms of work: the lag is the machine's, no budget could keep it low, and
  // holding requests back would only cost rate.
  const loop = new FakeLoop();
  const budget = new TurnBudget(2, {
    clock: loop.clock,
    yieldTurn: loop.yieldTurn,
    cpuWait: loop.cpuWait,
  });
  const log: { id: number; turn: number }[] = [];
  const first = Array.from({ length: 200 }, (_, id) => request(budget, loop, id, 0.25, log));
  await settle();
  while (budget.stats().starvedTurns === 0) await loop.runTurn(10);
  assert.equal(budget.waiting, 0, "the starved turn admitted every waiting request");
  await Promise.all(first);
  assert.deepEqual(log.map((e) => e.id), Array.from({ length: 200 }, (_, i) => i));
  const counts = perTurn(log);
  assert.ok(counts.at(-1)! > 8, `per turn: ${counts.join(",")}`);
  // While starved, a burst of 20 passes in one turn.
  loop.macrotask++;
  for (let i = 0; i < 20; i++) assert.equal(budget.admit(), undefined, `request ${i}`);
  loop.now += 5;
  await loop.runTurn();
  // Bursts of twelve 0.25 ms requests with the CPU to itself again: the budget gates again.
  let turns = 0;
  const later: Promise<void>[] = [];
  while (budget.waiting === 0) {
    assert.ok(++turns < 100, "the budget gates again once the thread gets a CPU");
    for (let i = 0; i < 12; i++) later.push(request(budget, loop, 1000 + i, 0.25, []));
    await settle();
    while (loop.pendingTurns > 0 && budget.waiting === 0) await loop.runTurn();
  }
  assert.ok(turns > 1, "not at once: the thread's wait for a CPU fades over turns");
  while (loop.pendingTurns > 0) await loop.runTurn();
  await Promise.all(later);
});

Deno.test("without the CPU wait, a minority of starved turns does not shrink the allowance", async () => {
  // Where the wait cannot be read (Deno Deploy), a starved turn counts as costly; the median of
  // the last turns ignores it while fewer than half of them are starved (here 3 of 8, once the
  // window holds a full 16 turns).
  const starved = (turn: number) => (turn > COST_WINDOW && turn % 8 < 3 ? 10 : 0);
  const { counts, ids, budget } = await starvedBurst(400, starved, false);
  assert.deepEqual(ids, Array.from({ length: 400 }, (_, i) => i));
  for (const n of counts.slice(0, -1)) assert.equal(n, 8, `per turn: ${counts.join(",")}`);
  assert.equal(budget.stats().costMs, 0.25);
});

Deno.test("a slice whose wall time went to another process still admits up to its allowance", () => {
  const loop = new FakeLoop();
  const budget = new TurnBudget(2, {
    clock: loop.clock,
    yieldTurn: loop.yieldTurn,
    cpuWait: loop.cpuWait,
  });
  assert.equal(budget.admit(), undefined);
  loop.preempt(5);
  assert.equal(budget.admit(), undefined, "5 ms of wall time, none of it this thread's work");
  loop.now += 2.5; // then a long synchronous call of its own
  assert.ok(budget.admit() instanceof Promise);
  assert.equal(budget.waiting, 1);
});

Deno.test("a request costlier than the budget still runs, one per turn", async () => {
  const { log } = await burst(1, 6, 3);
  assert.deepEqual(log.map((e) => e.id), [0, 1, 2, 3, 4, 5]);
  // 4 on the assumed cost (0.25 ms), then the learned cost (0.94 ms) admits one a turn.
  assert.deepEqual(perTurn(log), [4, 1, 1]);
});

Deno.test("a request arriving while others wait queues behind them, none starved", async () => {
  const loop = new FakeLoop();
  const budget = new TurnBudget(1, {
    clock: loop.clock,
    yieldTurn: loop.yieldTurn,
    initialCostMs: 0.5,
  });
  const log: { id: number; turn: number }[] = [];
  const pending: Promise<void>[] = [];
  let next = 0;
  // 5 new requests arrive between two turns, 2 fit in one: a backlog grows, and each batch of
  // arrivals must still go after everything that arrived before it.
  for (let batch = 0; batch < 6; batch++) {
    loop.macrotask++;
    for (let i = 0; i < 5; i++) pending.push(request(budget, loop, next++, 0.5, log));
    await settle();
    await loop.runTurn();
  }
  while (log.length < next) await loop.runTurn();
  await Promise.all(pending);
  assert.deepEqual(log.map((e) => e.id), Array.from({ length: next }, (_, i) => i));
  for (const n of perTurn(log)) assert.ok(n <= 2, `per turn: ${perTurn(log).join(",")}`);
});

Deno.test("a turn whose time is spent defers the next request even below its allowance", () => {
  const loop = new FakeLoop();
  const budget = new TurnBudget(2, { clock: loop.clock, yieldTurn: loop.yieldTurn });
  assert.equal(budget.admit(), undefined);
  loop.now += 2.5; // a long synchronous call in the same turn
  const wait = budget.admit();
  assert.ok(wait instanceof Promise);
  assert.equal(budget.waiting, 1);
  assert.equal(loop.pendingTurns, 1);
});

Deno.test("budget 0 never defers and schedules no turn", () => {
  const loop = new FakeLoop();
  const budget = new TurnBudget(0, { clock: loop.clock, yieldTurn: loop.yieldTurn });
  for (let i = 0; i < 100; i++) {
    assert.equal(budget.admit(), undefined);
    loop.now += 1;
  }
  assert.equal(loop.pendingTurns, 0);
  assert.equal(budget.stats().deferred, 0);
});

Deno.test("an idle turn closes the slice: the next request opens a fresh one", async () => {
  const loop = new FakeLoop();
  const budget = new TurnBudget(2, { clock: loop.clock, yieldTurn: loop.yieldTurn });
  assert.equal(budget.admit(), undefined);
  loop.now += 1.9;
  await loop.runTurn(); // the slice ends
  assert.equal(loop.pendingTurns, 0, "nothing waits: no further turn is scheduled");
  loop.now += 100;
  assert.equal(budget.admit(), undefined, "a new turn's first request runs at once");
});

Deno.test("the run-queue clock reads this thread's wait for a CPU from schedstat, in ms", () => {
  const clock = runQueueDelay();
  if (clock === undefined) {
    // Not Linux: no /proc/thread-self/schedstat; the budget then times slices by the wall clock.
    assert.throws(() => Deno.readTextFileSync("/proc/thread-self/schedstat"));
    return;
  }
  try {
    const waitedMs = () =>
      Number(Deno.readTextFileSync("/proc/thread-self/schedstat").split(" ")[1]) / 1e6;
    const before = waitedMs();
    const read = clock.now();
    const after = waitedMs();
    assert.ok(before <= read && read <= after, `${before} <= ${read} <= ${after}`);
    assert.ok(clock.now() >= read, "never goes back");
  } finally {
    clock.close();
  }
});

Deno.test("the process clock is wall time less the process's CPU time, in ms", () => {
  const clock = processCpuLag();
  const cpuMs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  for (let i = 0; i < 100; i++) {
    const wallBefore = performance.now();
    const cpuBefore = cpuMs();
    const read = clock.now();
    const cpuAfter = cpuMs();
    const wallAfter = performance.now();
    // Both clocks only go forward: the reading lies between the extremes the brackets allow.
    assert.ok(wallBefore - cpuAfter <= read && read <= wallAfter - cpuBefore, `reading ${i}`);
  }
});
