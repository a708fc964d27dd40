/**
 * A/B of the listener's per-turn budget (routes/turn_budget.ts): runs `http_bench.ts` with
 * each `KMS_TURN_BUDGET_MS` of TURN_AB_BUDGETS (default `0,2`: off, and 2 ms),
 * alternately, TURN_AB_ROUNDS times (2), and prints, per budget and phase, req/s, JS main-thread
 * µs per request and the event-loop lag (p50, p99, own p99, max, own max) of every round.
 *
 * Every other BENCH_* variable passes through; defaults here: BENCH_OPS=GenerateDataKey,Encrypt,
 * BENCH_SECONDS=4, BENCH_SINGLE_SECONDS=0, BENCH_LAG_CONCURRENCY=64 (so each operation runs at
 * 16 and at 64).
 *
 * TURN_AB_HOGS (comma list, default `0`): CPU hogs (`yes > /dev/null`) started beside each run,
 * alternated too (`0,2`: every round runs each budget quiet-ish and with two hogs, the overload
 * that made a wall-clock budget collapse); the hogs are this script's children, killed after each
 * run.
 *
 * `deno run --allow-all tests/bench/turn_budget_ab.ts`
 *
 * @module
 */

interface Phase {
  name: string;
  concurrency: number;
  requestsPerSecond: number | null;
  serverMainThreadCpuUsPerRequest: number | null;
  lagP50Ms: number | null;
  lagP99Ms: number | null;
  lagOwnP99Ms: number | null;
  lagMaxMs: number | null;
  lagOwnMaxMs: number | null;
}

const budgets = (Deno.env.get("TURN_AB_BUDGETS") ?? "0,2").split(",").map((s) => s.trim());
const rounds = Number(Deno.env.get("TURN_AB_ROUNDS") ?? "2");
const hogCounts = (Deno.env.get("TURN_AB_HOGS") ?? "0").split(",").map((s) => Number(s.trim()));
const defaults: Record<string, string> = {
  BENCH_OPS: "GenerateDataKey,Encrypt",
  BENCH_SECONDS: "4",
  BENCH_SINGLE_SECONDS: "0",
  BENCH_LAG_CONCURRENCY: "64",
};

/** Starts `count` CPU hogs (`yes` into /dev/null); kill them with `stopHogs`. */
function startHogs(count: number): Deno.ChildProcess[] {
  return Array.from(
    { length: count },
    () => new Deno.Command("yes", { stdout: "null", stderr: "null", stdin: "null" }).spawn(),
  );
}

async function stopHogs(hogs: Deno.ChildProcess[]): Promise<void> {
  for (const hog of hogs) hog.kill("SIGKILL");
  await Promise.all(hogs.map((hog) => hog.status));
}

/** One http_bench run at `budget` beside `hogs` CPU hogs; its phases from BENCH_JSON. */
async function runOnce(budget: string, hogs: number): Promise<Phase[]> {
  const json = await Deno.makeTempFile({ suffix: ".json" });
  const running = startHogs(hogs);
  try {
    const env: Record<string, string> = { KMS_TURN_BUDGET_MS: budget, BENCH_JSON: json };
    for (const [name, value] of Object.entries(defaults)) env[name] = Deno.env.get(name) ?? value;
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", new URL("./http_bench.ts", import.meta.url).pathname],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) {
      throw new Error(`http_bench failed: ${new TextDecoder().decode(output.stderr).slice(-2000)}`);
    }
    return (JSON.parse(await Deno.readTextFile(json)) as { phases: Phase[] }).phases;
  } finally {
    await stopHogs(running);
    await Deno.remove(json).catch(() => {});
  }
}

const f = (n: number | null, digits = 1) =>
  n === null ? "n/a" : n.toLocaleString("en-US", { maximumFractionDigits: digits });

function print(label: string, round: number, phases: Phase[]): void {
  for (const p of phases) {
    console.log(
      [
        label.padEnd(18),
        round === 0 ? "median " : `round ${round}`,
        p.name.padEnd(20),
        `@${p.concurrency}`.padStart(4),
        `${f(p.requestsPerSecond, 0)} req/s`.padStart(12),
        `JS ${f(p.serverMainThreadCpuUsPerRequest, 0)} µs`.padStart(10),
        `lag p50/p99/own p99 ${f(p.lagP50Ms)}/${f(p.lagP99Ms)}/${f(p.lagOwnP99Ms)}`,
        `max/own ${f(p.lagMaxMs)}/${f(p.lagOwnMaxMs)}`,
      ].join("  "),
    );
  }
}

console.log(
  `turn budget A/B: KMS_TURN_BUDGET_MS ${budgets.join(" / ")}, CPU hogs ${
    hogCounts.join(" / ")
  }, ${rounds} round(s), ` +
    Object.keys(defaults).map((k) => `${k}=${Deno.env.get(k) ?? defaults[k]}`).join(" "),
);
const all = new Map<string, Phase[]>();
for (let round = 1; round <= rounds; round++) {
  for (const hogs of hogCounts) {
    for (const budget of budgets) {
      const phases = await runOnce(budget, hogs);
      const label = `budget ${budget} hogs ${hogs}`;
      print(label, round, phases);
      for (const p of phases) {
        const key = `${label}|${p.name}|${p.concurrency}`;
        all.set(key, [...(all.get(key) ?? []), p]);
      }
    }
  }
}

/** The median of the rounds' values (nulls left out). */
function median(values: (number | null)[]): number | null {
  const xs = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

console.log(`\nmedian of ${rounds} round(s):`);
for (const [key, phases] of all) {
  const m = (pick: (p: Phase) => number | null) => median(phases.map(pick));
  const [label, name, concurrency] = key.split("|");
  print(label!, 0, [{
    name: name!,
    concurrency: Number(concurrency),
    requestsPerSecond: m((p) => p.requestsPerSecond),
    serverMainThreadCpuUsPerRequest: m((p) => p.serverMainThreadCpuUsPerRequest),
    lagP50Ms: m((p) => p.lagP50Ms),
    lagP99Ms: m((p) => p.lagP99Ms),
    lagOwnP99Ms: m((p) => p.lagOwnP99Ms),
    lagMaxMs: m((p) => p.lagMaxMs),
    lagOwnMaxMs: m((p) => p.lagOwnMaxMs),
  }]);
}
