/**
 * The `AuditOverhead` phase of `deno task bench` (driven by `http_bench.ts`,
 * which owns the servers and the load client): what the audit log costs
 * GenerateDataKey.
 *
 * It starts three more servers, each on a fresh database of its own: one with
 * `BENCH_AUDIT=off` (`openService` without any audit log), one with
 * `KMS_AUDIT_MODE=batched` (a reply does not wait for its record: records are
 * group-committed by a worker thread every 100 ms or 512 rows) and one with
 * `KMS_AUDIT_MODE=strict` (a reply waits for its record's group commit). Each
 * gets one symmetric key and one unmeasured warm-up run, then all are driven
 * forward then backward (off, batched, strict, strict, batched, off, …) with
 * the GenerateDataKey requests of the GenerateDataKey phase (AES_256 with an
 * encryption context) at the same concurrency, warm-up and measured seconds,
 * re-signed before every run. All servers stay up throughout, so each keeps
 * its JIT warm; those not measured are idle (their CPU shows as "others").
 * Target: mean requests/s of each mode ≥ 0.9 × without the audit log.
 *
 * Besides the harness's figures, each run samples the server's threads in /proc/<pid>/task over
 * the measured window (from the phase's start, by its warm-up and duration): CPU µs per request of
 * the main thread, of the Web Worker threads (`worker-N`: the audit worker, when the log is on, and
 * the crypto workers) and of the rest (V8's GC and compiler threads, tokio). Audit on less audit
 * off of "workers" is what the audit worker costs; of "main", what the request thread pays.
 *
 * On a machine shared with other work the rates of single runs swing widely, so the summary gives
 * the median and the range of the per-round ratios besides the ratio of the means, and the figure
 * that holds under load: CPU µs per request of the server's threads (over the measured window) and
 * of the load client (its CPU over the phase ÷ the rate), and from them the CPU-bound ratio
 * (client + server µs per request without the audit log ÷ with it: the rate ratio when the
 * benchmark alone fills the cores).
 *
 * Environment (besides `http_bench.ts`'s): BENCH_AUDIT_ROUNDS (runs of each
 * server, 4; at least 2).
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

/** The servers compared: no audit log, and each audit mode (`KMS_AUDIT_MODE`). */
export const AUDIT_VARIANTS = ["off", "batched", "strict"] as const;

/** One of `AUDIT_VARIANTS`. */
export type AuditVariant = typeof AUDIT_VARIANTS[number];

/** CPU seconds of a server's threads, by kind (see the module doc). */
export interface ThreadCpu {
  main: number;
  workers: number;
  other: number;
}

/** A run and the CPU its server's threads spent over its measured window. */
export interface AuditRun extends PhaseResult {
  threads: ThreadCpu;
}

/** Every run of each server, in the order they ran. */
export interface AuditOverheadResult {
  runs: Record<AuditVariant, AuditRun[]>;
  timing: AuditTiming;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds each kind of thread of `pid` has spent (threads gone since are not counted). */
export function threadCpu(pid: number): ThreadCpu {
  const total: ThreadCpu = { main: 0, workers: 0, other: 0 };
  let tasks: Deno.DirEntry[];
  try {
    tasks = [...Deno.readDirSync(`/proc/${pid}/task`)];
  } catch {
    return total;
  }
  for (const task of tasks) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/stat`);
      // Fields after the command (which may hold spaces) start at state; utime and stime are the
      // 14th and 15th fields of the line.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const seconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (Number(task.name) === pid) total.main += seconds;
      else if (comm.startsWith("worker-")) total.workers += seconds;
      else total.other += seconds;
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return total;
}

/**
 * Runs a phase and samples the server's threads at the start and end of its measured window
 * (the phase starts its clients 50 ms after it is called, then warms up).
 */
async function measuredPhase(
  harness: AuditHarness,
  server: ServerProcess,
  name: string,
  requests: PresignedRequest[],
  timing: AuditTiming,
): Promise<AuditRun> {
  const calledAt = Date.now();
  let start: ThreadCpu | undefined;
  let end: ThreadCpu | undefined;
  const windowStart = calledAt + 50 + timing.warmupMs;
  const first = setTimeout(() => start = threadCpu(server.pid), windowStart - Date.now());
  const second = setTimeout(
    () => end = threadCpu(server.pid),
    windowStart + timing.durationMs - Date.now(),
  );
  try {
    const result = await harness.phase(name, "/", requests, timing);
    end ??= threadCpu(server.pid);
    start ??= end;
    return {
      ...result,
      threads: {
        main: end.main - start.main,
        workers: end.workers - start.workers,
        other: end.other - start.other,
      },
    };
  } finally {
    clearTimeout(first);
    clearTimeout(second);
  }
}

function envRounds(): number {
  const value = Deno.env.get("BENCH_AUDIT_ROUNDS");
  const n = value === undefined || value === "" ? 4 : Number(value);
  if (!Number.isInteger(n) || n < 2) throw new Error("BENCH_AUDIT_ROUNDS must be an integer ≥ 2");
  return n;
}

const ROUNDS = envRounds();

/** The environment that starts a server of `variant`. */
function variantEnv(variant: AuditVariant): Record<string, string> {
  return variant === "off"
    ? { BENCH_AUDIT: "off" }
    // Explicitly on: the servers inherit this process's environment.
    : { BENCH_AUDIT: "on", KMS_AUDIT_MODE: variant };
}

/** Starts the three servers, alternates GenerateDataKey runs between them, stops them. */
export async function runAuditOverhead(
  harness: AuditHarness,
  timing: AuditTiming,
  requestsFor: GenerateDataKeyRequests,
): Promise<AuditOverheadResult> {
  const started: ServerProcess[] = [];
  try {
    const servers: { variant: AuditVariant; label: string; server: ServerProcess }[] = [];
    for (const variant of AUDIT_VARIANTS) {
      const server = await harness.spawn(`audit-${variant}.db`, variantEnv(variant));
      started.push(server);
      servers.push({ variant, label: `audit ${variant}`, server });
    }
    const keyIds = new Map<ServerProcess, string>();
    for (const { server } of servers) {
      const created = await harness.using(
        server,
        () => harness.call("CreateKey", { Description: "audit overhead bench key" }),
      );
      keyIds.set(server, (created.KeyMetadata as { KeyId: string }).KeyId);
    }
    // One unmeasured run each first, so every server's JIT is warm before anything counts.
    for (const { label, server } of servers) {
      await harness.using(server, async () => {
        const requests = await requestsFor(keyIds.get(server)!);
        await harness.phase(`GDK ${label} warm-up`, "/", requests, timing);
      });
    }
    const runs: Record<AuditVariant, AuditRun[]> = { off: [], batched: [], strict: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      // Forward then backward (off, batched, strict, strict, batched, off, ...): whatever favours
      // an early or late run of a round (measured: an audit-off/audit-off pair came out 0.94 in
      // fixed order) cancels out over two rounds.
      const order = round % 2 === 1 ? servers : [...servers].reverse();
      for (const { variant, label, server } of order) {
        const result = await harness.using(server, async () => {
          const requests = await requestsFor(keyIds.get(server)!);
          return await measuredPhase(harness, server, `GDK ${label} #${round}`, requests, timing);
        });
        runs[variant].push(result);
        console.log(progressLine(result));
      }
    }
    return { runs, timing };
  } finally {
    await Promise.all(started.map((server) => server.stop()));
  }
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "n/a";

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** CPU µs per request of all the server's threads over the measured window. */
function serverMicros(r: AuditRun): number {
  return threadMicros(r, "main") + threadMicros(r, "workers") + threadMicros(r, "other");
}

/** CPU µs per request of the load client (this process): its CPU over the phase ÷ the rate. */
function clientMicros(r: PhaseResult): number {
  return r.rate > 0 ? (r.clientCpu * 1e6) / r.rate : Number.NaN;
}

function progressLine(r: PhaseResult): string {
  const errors = r.errors === 0 ? "" : `, ${r.errors} errors, first: ${r.firstError}`;
  return `  ${r.name.padEnd(18)} ${fmt(r.rate).padStart(7)} req/s${errors}`;
}

/** JS main thread CPU per request, µs. */
function jsMicrosPerRequest(r: PhaseResult): number {
  return r.completed > 0 ? (r.serverMainThreadCpu * r.seconds * 1e6) / r.completed : Number.NaN;
}

/** CPU µs per request of one kind of the server's threads over the measured window. */
function threadMicros(r: AuditRun, kind: keyof ThreadCpu): number {
  return r.completed > 0 ? (r.threads[kind] * 1e6) / r.completed : Number.NaN;
}

/** The per-run table, the means of each server and the ratios against audit off. */
export function printAuditOverhead(result: AuditOverheadResult | undefined): void {
  if (result === undefined) return;
  const { runs, timing } = result;
  console.log("");
  console.log(
    `Audit log overhead: GenerateDataKey (AES_256, encryption context) at concurrency ` +
      `${timing.concurrency}, ${fmt(timing.durationMs / 1000, 1)} s measured per run, three ` +
      `servers on fresh databases (no audit log, KMS_AUDIT_MODE=batched, =strict) run ` +
      `alternately, ${runs.off.length} runs each; ` +
      "CPU in % of one core ('others' = every other process, the idle servers included); " +
      "server threads in CPU µs per request: JS = main thread, wk = Web Worker threads (the " +
      "audit worker and the crypto workers), rest = V8 and tokio threads:",
  );
  const header = [
    "run",
    "req/s",
    "p50 ms",
    "p99 ms",
    "server",
    "JS thread",
    "JS µs/req",
    "wk µs/req",
    "rest µs",
    "srv µs",
    "client µs",
    "others",
    "errors",
  ];
  const widths = [22, 7, 7, 7, 7, 9, 9, 9, 7, 7, 9, 6, 6];
  const line = (cells: string[]) =>
    cells.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join("  ")
      .trimEnd();
  const head = line(header);
  console.log(head);
  console.log("-".repeat(head.length));
  const all = runs.off.flatMap((_, i) => AUDIT_VARIANTS.map((v) => runs[v][i]!));
  for (const r of all) {
    console.log(line([
      r.name,
      fmt(r.rate),
      fmt(r.p50, 2),
      fmt(r.p99, 2),
      `${fmt(r.serverCpu * 100)}%`,
      `${fmt(r.serverMainThreadCpu * 100)}%`,
      fmt(jsMicrosPerRequest(r), 1),
      fmt(threadMicros(r, "workers"), 1),
      fmt(threadMicros(r, "other"), 1),
      fmt(serverMicros(r), 1),
      fmt(clientMicros(r), 1),
      `${fmt(r.otherCpu * 100)}%`,
      fmt(r.errors),
    ]));
  }
  console.log("-".repeat(head.length));
  for (const variant of AUDIT_VARIANTS) {
    const set = runs[variant];
    console.log(line([
      `mean audit ${variant}`,
      fmt(mean(set.map((r) => r.rate))),
      fmt(mean(set.map((r) => r.p50)), 2),
      fmt(mean(set.map((r) => r.p99)), 2),
      `${fmt(mean(set.map((r) => r.serverCpu)) * 100)}%`,
      `${fmt(mean(set.map((r) => r.serverMainThreadCpu)) * 100)}%`,
      fmt(mean(set.map(jsMicrosPerRequest)), 1),
      fmt(mean(set.map((r) => threadMicros(r, "workers"))), 1),
      fmt(mean(set.map((r) => threadMicros(r, "other"))), 1),
      fmt(mean(set.map(serverMicros)), 1),
      fmt(mean(set.map(clientMicros)), 1),
      `${fmt(mean(set.map((r) => r.otherCpu)) * 100)}%`,
      fmt(set.reduce((n, r) => n + r.errors, 0)),
    ]));
  }
  const offRate = mean(runs.off.map((r) => r.rate));
  const offServer = median(runs.off.map(serverMicros));
  const offClient = median(runs.off.map(clientMicros));
  for (const variant of ["batched", "strict"] as const) {
    const ratio = mean(runs[variant].map((r) => r.rate)) / offRate;
    const perRound = runs[variant].map((r, i) => r.rate / runs.off[i]!.rate);
    console.log(
      `ratio ${variant}/off (mean req/s): ${fmt(ratio, 3)} (per round ${
        perRound.map((x) => fmt(x, 3)).join(", ")
      }; median ${fmt(median(perRound), 3)}, range ${fmt(Math.min(...perRound), 3)}-${
        fmt(Math.max(...perRound), 3)
      }); target ≥ ${fmt(AUDIT_RATIO_TARGET, 2)}× audit off: ` +
        (ratio >= AUDIT_RATIO_TARGET ? "met" : "MISSED"),
    );
    const server = median(runs[variant].map(serverMicros));
    const client = median(runs[variant].map(clientMicros));
    const main = median(runs[variant].map((r) => threadMicros(r, "main"))) -
      median(runs.off.map((r) => threadMicros(r, "main")));
    const workers = median(runs[variant].map((r) => threadMicros(r, "workers"))) -
      median(runs.off.map((r) => threadMicros(r, "workers")));
    console.log(
      `  CPU per request (medians): server ${fmt(server, 1)} vs ${fmt(offServer, 1)} µs off ` +
        `(+${fmt(server - offServer, 1)}: main thread ${fmt(main, 1)}, audit worker ${
          fmt(workers, 1)
        }), client ${fmt(client, 1)} vs ${fmt(offClient, 1)}; CPU-bound ratio ` +
        `(client + server off ÷ on) ${fmt((offClient + offServer) / (client + server), 3)}`,
    );
  }
  for (const r of all) {
    if (r.errors > 0) console.log(`${r.name}: ${r.errors} errors, first: ${r.firstError}`);
  }
}
