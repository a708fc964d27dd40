/**
 * The `Workers` phase and the soak mode of `deno task bench` (driven by
 * `http_bench.ts`, which owns the harness).
 *
 * `Workers`: starts main.ts itself twice, as the README starts it (its own
 * process, a durable file database each), with `KMS_WORKERS=1` and with
 * `KMS_WORKERS=N` (N = the bench's own `KMS_WORKERS`, default the number of
 * CPUs), and drives GenerateDataKey, Encrypt 1 KiB and Decrypt 1 KiB against
 * them alternately (BENCH_WORKER_ROUNDS rounds, default 1) at the bench's
 * concurrency: req/s, p50/p99, the event-loop lag from each server's /metrics,
 * CPU µs per request of the whole server process (all threads, /proc) and its
 * RSS. How many workers a server really runs is detected, not assumed: the
 * sockets listening on its port (request-serving workers with `reusePort`
 * each have one) or a `"workers":N` field in a line it logged. A server that
 * runs one worker whatever KMS_WORKERS says (a build without it) gets no
 * N-worker rows, and the table says so.
 *
 * Soak (`BENCH_SOAK_SECONDS` > 0, instead of every other phase): main.ts as
 * the README starts it (RSA pools at their defaults, audit on, info logging),
 * `KMS_WORKERS` as given to the bench, GenerateDataKey at
 * BENCH_SOAK_CONCURRENCY (32) for BENCH_SOAK_SECONDS, re-signed every
 * BENCH_SOAK_INTERVAL_SECONDS (30) and its RSS printed then. Target: RSS per
 * worker ≤ 150 MiB at the end of a 10-minute run and flat over its last 5
 * minutes (grown ≤ 10 MiB).
 *
 * @module
 */
import type { PhaseResult } from "./http_bench.ts";
import type { PresignedRequest, SigningTarget } from "./signing.ts";
import { presignMany } from "./signing.ts";
import { listeningSockets, residentMemory, type ServerProcess } from "./server_process.ts";

/** The name of the phase in BENCH_OPS. */
export const WORKERS_OP = "Workers";

/** What these phases need of `http_bench.ts`'s harness. */
export interface ScalingHarness {
  readonly target: SigningTarget;
  readonly serverWorkers: Map<ServerProcess, number>;
  spawn(dbFile: string, env: Record<string, string>, script: "main"): Promise<ServerProcess>;
  using<T>(server: ServerProcess, fn: () => Promise<T>): Promise<T>;
  call(operation: string, payload: unknown): Promise<Record<string, unknown>>;
  phase(
    name: string,
    path: string,
    requests: PresignedRequest[],
    timing: { concurrency: number; warmupMs: number; durationMs: number },
  ): Promise<PhaseResult>;
}

/** Load settings shared with the other phases. */
export interface Timing {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

/** One operation at 1 worker and at N workers (N-worker results absent when N is 1). */
export interface ScalingRow {
  operation: string;
  one: PhaseResult[];
  many: PhaseResult[];
}

/** What the Workers phase gave. */
export interface ScalingResult {
  requested: number;
  /** Workers detected in the KMS_WORKERS=N server, and how. */
  detected: number;
  detectedBy: string;
  rows: ScalingRow[];
}

const DISTINCT = 8;

function envNumber(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  const n = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a number > 0`);
  return n;
}

/** The N of the N-worker server: the bench's KMS_WORKERS, else the number of CPUs. */
export function requestedWorkers(): number {
  return Math.round(envNumber("KMS_WORKERS", navigator.hardwareConcurrency));
}

/**
 * How many request-serving workers `server` runs: the sockets listening on its port (waiting up
 * to 10 s for `expected` of them, as workers may listen after the first log line) or a
 * `"workers":N` / `N workers` fact in its log, whichever is larger.
 */
export async function detectWorkers(
  server: ServerProcess,
  expected: number,
): Promise<{ workers: number; by: string }> {
  const until = Date.now() + 10_000;
  let sockets = listeningSockets(server.port);
  while (sockets < expected && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    sockets = listeningSockets(server.port);
  }
  let logged = 0;
  for (const line of server.facts) {
    const m = /"workers"\s*:\s*(\d+)|(\d+) (?:request-serving )?workers\b/i.exec(line);
    if (m !== null) logged = Math.max(logged, Number(m[1] ?? m[2]));
  }
  if (logged > (sockets || 0)) return { workers: logged, by: "its log" };
  if (Number.isFinite(sockets) && sockets > 0) {
    return { workers: sockets, by: `${sockets} socket(s) listening on its port` };
  }
  return { workers: 1, by: "nothing reported: assumed 1" };
}

async function prepare(
  harness: ScalingHarness,
  server: ServerProcess,
): Promise<Record<string, () => Promise<PresignedRequest[]>>> {
  return await harness.using(server, async () => {
    const created = await harness.call("CreateKey", { Description: "scaling bench key" });
    const keyId = (created.KeyMetadata as { KeyId: string }).KeyId;
    const plaintexts = Array.from(
      { length: DISTINCT },
      () => crypto.getRandomValues(new Uint8Array(1024)).toBase64(),
    );
    const ciphertexts: string[] = [];
    for (const plaintext of plaintexts) {
      const reply = await harness.call("Encrypt", { KeyId: keyId, Plaintext: plaintext });
      ciphertexts.push(reply.CiphertextBlob as string);
    }
    const target = harness.target;
    return {
      GenerateDataKey: () =>
        presignMany(target, "GenerateDataKey", DISTINCT, () => ({
          KeyId: keyId,
          KeySpec: "AES_256",
          EncryptionContext: { purpose: "bench" },
        })),
      "Encrypt 1 KiB": () =>
        presignMany(
          target,
          "Encrypt",
          DISTINCT,
          (i) => ({ KeyId: keyId, Plaintext: plaintexts[i] }),
        ),
      "Decrypt 1 KiB": () =>
        presignMany(target, "Decrypt", DISTINCT, (i) => ({ CiphertextBlob: ciphertexts[i] })),
    };
  });
}

/** Runs the Workers phase; `progress` prints each measured phase. */
export async function runScaling(
  harness: ScalingHarness,
  timing: Timing,
  progress: (r: PhaseResult) => void,
): Promise<ScalingResult> {
  const requested = requestedWorkers();
  const rounds = Math.round(envNumber("BENCH_WORKER_ROUNDS", 1));
  const one = await harness.spawn("workers-1.db", { KMS_WORKERS: "1" }, "main");
  harness.serverWorkers.set(one, 1);
  let many: ServerProcess | undefined;
  let detected = { workers: 1, by: `KMS_WORKERS=${requested}: nothing to compare` };
  if (requested > 1) {
    many = await harness.spawn("workers-n.db", { KMS_WORKERS: String(requested) }, "main");
    detected = await detectWorkers(many, requested);
    harness.serverWorkers.set(many, detected.workers);
    if (detected.workers < 2) many = undefined;
  }
  const oneOps = await prepare(harness, one);
  const manyOps = many === undefined ? undefined : await prepare(harness, many);
  const rows: ScalingRow[] = [];
  for (const operation of Object.keys(oneOps)) {
    const row: ScalingRow = { operation, one: [], many: [] };
    for (let round = 0; round < rounds; round++) {
      const measure = async (server: ServerProcess, ops: typeof oneOps) =>
        await harness.using(server, async () => {
          const result = await harness.phase(operation, "/", await ops[operation]!(), timing);
          progress(result);
          return result;
        });
      row.one.push(await measure(one, oneOps));
      if (many !== undefined && manyOps !== undefined) row.many.push(await measure(many, manyOps));
    }
    rows.push(row);
  }
  return { requested, detected: detected.workers, detectedBy: detected.by, rows };
}

/** One soak sample. */
export interface SoakSample {
  atSeconds: number;
  rate: number;
  p99: number;
  lagP99Ms: number;
  rssMb: number;
  peakRssMb: number;
  /** JS heap in use of the isolate that answered /metrics (`kms_heap_used_bytes`), MiB. */
  heapMb: number;
}

/** The JS heap the current server's /metrics reports, MiB (NaN if it does not). */
async function scrapeHeapMb(harness: ScalingHarness): Promise<number> {
  try {
    const text = await (await fetch(`http://${harness.target.host}/metrics`)).text();
    return Number(/^kms_heap_used_bytes (\d+)$/m.exec(text)?.[1]) / 2 ** 20;
  } catch {
    return Number.NaN;
  }
}

/** What the soak gave. */
export interface SoakResult {
  workers: number;
  concurrency: number;
  samples: SoakSample[];
  /** RSS per worker at the end, MiB. */
  finalPerWorkerMb: number;
  /** RSS growth over the last 5 minutes, MiB (NaN for a run shorter than 5 minutes). */
  lastFiveMinutesGrowthMb: number;
}

/** Runs the soak: GenerateDataKey against main.ts, RSS printed every interval. */
export async function runSoak(
  harness: ScalingHarness,
  seconds: number,
  print: (line: string) => void,
): Promise<SoakResult> {
  const concurrency = Math.round(envNumber("BENCH_SOAK_CONCURRENCY", 32));
  const interval = envNumber("BENCH_SOAK_INTERVAL_SECONDS", 30);
  const env: Record<string, string> = {
    // The README's defaults: RSA pools filled in the background.
    KMS_RSA_POOL_2048: "",
    KMS_RSA_POOL_3072: "",
    KMS_RSA_POOL_4096: "",
  };
  const given = Deno.env.get("KMS_WORKERS");
  if (given !== undefined) env.KMS_WORKERS = given;
  const server = await harness.spawn("soak.db", env, "main");
  const { workers, by } = await detectWorkers(server, given === undefined ? 1 : Number(given));
  harness.serverWorkers.set(server, workers);
  const ops = await prepare(harness, server);
  print(
    `Soak: GenerateDataKey at concurrency ${concurrency} for ${seconds} s against main.ts ` +
      `(${workers} worker(s): ${by}); RSS every ${interval} s (start ${
        residentMemory(server.pid).rssMb.toFixed(0)
      } MiB):`,
  );
  print("  at s    req/s   p99 ms  lag p99 ms  RSS MiB  per worker  peak MiB  JS heap MiB");
  const samples: SoakSample[] = [];
  let elapsed = 0;
  while (elapsed < seconds) {
    const chunk = Math.min(interval, seconds - elapsed);
    const r = await harness.using(
      server,
      async () =>
        harness.phase("GenerateDataKey", "/", await ops.GenerateDataKey!(), {
          concurrency,
          warmupMs: 0,
          durationMs: chunk * 1000,
        }),
    );
    elapsed += chunk;
    const heapMb = await harness.using(server, () => scrapeHeapMb(harness));
    const sample = {
      heapMb,
      atSeconds: elapsed,
      rate: r.rate,
      p99: r.p99,
      lagP99Ms: r.lag.p99Ms,
      rssMb: r.rssMb,
      peakRssMb: r.peakRssMb,
    };
    samples.push(sample);
    print(
      `  ${String(elapsed).padStart(5)}  ${r.rate.toFixed(0).padStart(7)}  ${
        r.p99.toFixed(2).padStart(7)
      }  ${r.lag.p99Ms.toFixed(1).padStart(10)}  ${r.rssMb.toFixed(0).padStart(7)}  ${
        (r.rssMb / workers).toFixed(0).padStart(10)
      }  ${r.peakRssMb.toFixed(0).padStart(8)}  ${heapMb.toFixed(0).padStart(11)}${
        r.errors > 0 ? `  ${r.errors} errors: ${r.firstError}` : ""
      }`,
    );
  }
  const last = samples.at(-1)!;
  const fiveMinutesBefore = samples.findLast((s) => s.atSeconds <= last.atSeconds - 300);
  const result: SoakResult = {
    workers,
    concurrency,
    samples,
    finalPerWorkerMb: last.rssMb / workers,
    lastFiveMinutesGrowthMb: fiveMinutesBefore === undefined
      ? Number.NaN
      : last.rssMb - fiveMinutesBefore.rssMb,
  };
  const long = seconds >= 600;
  print(
    `  RSS per worker at the end: ${result.finalPerWorkerMb.toFixed(0)} MiB (target ≤ 150 after ` +
      `10 min: ${
        long ? (result.finalPerWorkerMb <= 150 ? "PASS" : "MISS") : "n/a, run < 10 min"
      }); ` +
      `growth over the last 5 min: ${
        Number.isNaN(result.lastFiveMinutesGrowthMb)
          ? "n/a"
          : `${result.lastFiveMinutesGrowthMb.toFixed(1)} MiB`
      } (target ≤ 10: ${
        long ? (result.lastFiveMinutesGrowthMb <= 10 ? "PASS" : "MISS") : "n/a, run < 10 min"
      })`,
  );
  return result;
}
