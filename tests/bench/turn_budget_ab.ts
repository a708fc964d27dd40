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
const defaults: Record<string, string> = {
  BENCH_OPS: "GenerateDataKey,Encrypt",
  BENCH_SECONDS: "4",
  BENCH_SINGLE_SECONDS: "0",
  BENCH_LAG_CONCURRENCY: "64",
};

/** One http_bench run at `budget`; its phases from BENCH_JSON. */
async function runOnce(budget: string): Promise<Phase[]> {
  const json = await Deno.makeTempFile({ suffix: ".json" });
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
    await Deno.remove(json).catch(() => {});
  }
}

const f = (n: number | null, digits = 1) =>
  n === null ? "n/a" : n.toLocaleString("en-US", { maximumFractionDigits: digits });

function print(budget: string, round: number, phases: Phase[]): void {
  for (const p of phases) {
    console.log(
      [
        `budget ${budget}`.padEnd(9),
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
  `turn budget A/B: KMS_TURN_BUDGET_MS ${budgets.join(" / ")}, ${rounds} round(s), ` +
    Object.keys(defaults).map((k) => `${k}=${Deno.env.get(k) ?? defaults[k]}`).join(" "),
);
const all = new Map<string, Phase[]>();
for (let round = 1; round <= rounds; round++) {
  for (const budget of budgets) {
    const phases = await runOnce(budget);
    print(budget, round, phases);
    for (const p of phases) {
      const key = `${budget}|${p.name}|${p.concurrency}`;
      all.set(key, [...(all.get(key) ?? []), p]);
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
  const [budget, name, concurrency] = key.split("|");
  print(budget!, 0, [{
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
