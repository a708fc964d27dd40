/**
 * The `AuditOverhead` phase of `deno task bench` (driven by `http_bench.ts`,
 * which owns the servers and the load client): what the audit log costs
 * GenerateDataKey.
 *
 * It starts two more servers, each on a fresh database of its own: one with
 * `BENCH_AUDIT=off` (`openService` without any audit log) and one with the
 * audit log on (the default: every request recorded, data-plane records
 * group-committed by a worker thread). Each gets one symmetric key and one
 * unmeasured warm-up run, then both are driven in ABBA order (off, on, on,
 * off, …), with the
 * GenerateDataKey requests of the GenerateDataKey phase (AES_256 with an
 * encryption context) at the same concurrency, warm-up and measured seconds,
 * re-signed before every run. Both servers stay up throughout, so each keeps
 * its JIT warm; the one not measured is idle (its CPU shows as "others").
 * Target: mean requests/s with the audit log ≥ 0.9 × without it.
 *
 * Environment (besides `http_bench.ts`'s): BENCH_AUDIT_ROUNDS (runs of each
 * server, 2; at least 2).
 *
 * @module
 */
import type { PhaseResult } from "./http_bench.ts";
import type { ServerProcess } from "./server_process.ts";
import type { PresignedRequest, SigningTarget } from "./signing.ts";

/** The `BENCH_OPS` name of the phase. */
export const AUDIT_OVERHEAD_OP = "AuditOverhead";

/** Requests/s with the audit log on must stay at least this share of audit off. */
export const AUDIT_RATIO_TARGET = 0.9;

/** What the phase needs from `http_bench.ts`'s harness. */
export interface AuditHarness {
  /** The current server's signing target. */
  readonly target: SigningTarget;
  /**
   * Starts another server, on the database file `dbFile` of the bench directory, with `env`
   * added to the usual environment. It does not become the current server.
   */
  spawn(dbFile: string, env: Record<string, string>): Promise<ServerProcess>;
  /** Runs `fn` with `server` as the current server (calls, phases and `target` go to it). */
  using<T>(server: ServerProcess, fn: () => Promise<T>): Promise<T>;
  /** One signed call to the current server; the parsed reply. @throws on a non-200 reply */
  call(operation: string, payload: unknown): Promise<Record<string, unknown>>;
  /** Warm-up, then a measured window at `concurrency` (the loaded phase of `http_bench.ts`). */
  phase(
    name: string,
    path: string,
    requests: PresignedRequest[],
    timing: { concurrency: number; warmupMs: number; durationMs: number },
  ): Promise<PhaseResult>;
}

/** How each run is timed (the GenerateDataKey phase's settings). */
export interface AuditTiming {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

/** Signs the GenerateDataKey phase's requests for `keyId` against the current server. */
export type GenerateDataKeyRequests = (keyId: string) => Promise<PresignedRequest[]>;

/** Every run of both servers, in the order they ran. */
export interface AuditOverheadResult {
  off: PhaseResult[];
  on: PhaseResult[];
  timing: AuditTiming;
}

function envRounds(): number {
  const value = Deno.env.get("BENCH_AUDIT_ROUNDS");
  const n = value === undefined || value === "" ? 2 : Number(value);
  if (!Number.isInteger(n) || n < 2) throw new Error("BENCH_AUDIT_ROUNDS must be an integer ≥ 2");
  return n;
}

const ROUNDS = envRounds();

/** Starts both servers, alternates GenerateDataKey runs between them, stops them. */
export async function runAuditOverhead(
  harness: AuditHarness,
  timing: AuditTiming,
  requestsFor: GenerateDataKeyRequests,
): Promise<AuditOverheadResult> {
  const off = await harness.spawn("audit-off.db", { BENCH_AUDIT: "off" });
  let on: ServerProcess | undefined;
  try {
    // Explicitly on: the servers inherit this process's environment.
    on = await harness.spawn("audit-on.db", { BENCH_AUDIT: "on" });
    const servers = [
      { label: "audit off", server: off, runs: [] as PhaseResult[] },
      { label: "audit on", server: on, runs: [] as PhaseResult[] },
    ];
    const keyIds = new Map<ServerProcess, string>();
    for (const { server } of servers) {
      const created = await harness.using(
        server,
        () => harness.call("CreateKey", { Description: "audit overhead bench key" }),
      );
      keyIds.set(server, (created.KeyMetadata as { KeyId: string }).KeyId);
    }
    // One unmeasured run each first, so both servers' JITs are warm before anything counts.
    for (const { label, server } of servers) {
      await harness.using(server, async () => {
        const requests = await requestsFor(keyIds.get(server)!);
        await harness.phase(`GDK ${label} warm-up`, "/", requests, timing);
      });
    }
    for (let round = 1; round <= ROUNDS; round++) {
      // ABBA order (off, on, on, off, ...): whatever favours the first or second run of a
      // pair (measured: an audit-off/audit-off pair came out 0.94 in fixed order) cancels out.
      const order = round % 2 === 1 ? servers : [...servers].reverse();
      for (const { label, server, runs } of order) {
        const result = await harness.using(server, async () => {
          const requests = await requestsFor(keyIds.get(server)!);
          return await harness.phase(`GDK ${label} #${round}`, "/", requests, timing);
        });
        runs.push(result);
        console.log(progressLine(result));
      }
    }
    return { off: servers[0]!.runs, on: servers[1]!.runs, timing };
  } finally {
    await Promise.all([off.stop(), on?.stop()]);
  }
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "n/a";

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

function progressLine(r: PhaseResult): string {
  const errors = r.errors === 0 ? "" : `, ${r.errors} errors, first: ${r.firstError}`;
  return `  ${r.name.padEnd(18)} ${fmt(r.rate).padStart(7)} req/s${errors}`;
}

/** JS main thread CPU per request, µs. */
function jsMicrosPerRequest(r: PhaseResult): number {
  return r.completed > 0 ? (r.serverMainThreadCpu * r.seconds * 1e6) / r.completed : Number.NaN;
}

/** The per-run table, the means of both servers and the ratio against its target. */
export function printAuditOverhead(result: AuditOverheadResult | undefined): void {
  if (result === undefined) return;
  const { off, on, timing } = result;
  console.log("");
  console.log(
    `Audit log overhead: GenerateDataKey (AES_256, encryption context) at concurrency ` +
      `${timing.concurrency}, ${fmt(timing.durationMs / 1000, 1)} s measured per run, two ` +
      `servers on fresh databases run alternately (audit off first), ${off.length} runs each; ` +
      "CPU in % of one core ('others' = every other process, the idle server included):",
  );
  const header = [
    "run",
    "req/s",
    "p50 ms",
    "p99 ms",
    "server",
    "JS thread",
    "JS µs/req",
    "others",
    "errors",
  ];
  const widths = [18, 7, 7, 7, 7, 9, 9, 6, 6];
  const line = (cells: string[]) =>
    cells.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join("  ")
      .trimEnd();
  const head = line(header);
  console.log(head);
  console.log("-".repeat(head.length));
  const runs = off.flatMap((r, i) => [r, on[i]!]);
  for (const r of runs) {
    console.log(line([
      r.name,
      fmt(r.rate),
      fmt(r.p50, 2),
      fmt(r.p99, 2),
      `${fmt(r.serverCpu * 100)}%`,
      `${fmt(r.serverMainThreadCpu * 100)}%`,
      fmt(jsMicrosPerRequest(r), 1),
      `${fmt(r.otherCpu * 100)}%`,
      fmt(r.errors),
    ]));
  }
  console.log("-".repeat(head.length));
  for (const [label, set] of [["mean audit off", off], ["mean audit on", on]] as const) {
    console.log(line([
      label,
      fmt(mean(set.map((r) => r.rate))),
      fmt(mean(set.map((r) => r.p50)), 2),
      fmt(mean(set.map((r) => r.p99)), 2),
      `${fmt(mean(set.map((r) => r.serverCpu)) * 100)}%`,
      `${fmt(mean(set.map((r) => r.serverMainThreadCpu)) * 100)}%`,
      fmt(mean(set.map(jsMicrosPerRequest)), 1),
      `${fmt(mean(set.map((r) => r.otherCpu)) * 100)}%`,
      fmt(set.reduce((n, r) => n + r.errors, 0)),
    ]));
  }
  const ratio = mean(on.map((r) => r.rate)) / mean(off.map((r) => r.rate));
  const perRound = on.map((r, i) => r.rate / off[i]!.rate);
  console.log(
    `ratio on/off (mean req/s): ${fmt(ratio, 3)} (per round ${
      perRound.map((x) => fmt(x, 3)).join(", ")
    }); target ≥ ${fmt(AUDIT_RATIO_TARGET, 2)}× audit off: ` +
      (ratio >= AUDIT_RATIO_TARGET ? "met" : "MISSED"),
  );
  for (const r of runs) {
    if (r.errors > 0) console.log(`${r.name}: ${r.errors} errors, first: ${r.firstError}`);
  }
}
