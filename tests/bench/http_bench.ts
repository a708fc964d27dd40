/**
 * `deno task bench`: HTTP benchmark of the KMS against its own minimal endpoint.
 *
 * Starts `bench_server.ts` (the real service on a durable file database: WAL,
 * synchronous=FULL) in a separate Deno process on 127.0.0.1, then drives
 * GenerateDataKey (AES_256 with an encryption context), Encrypt and Decrypt
 * of 4 KiB, each beside the server's minimal endpoint (parse + validate + one
 * AES-GCM encrypt, no SigV4, no storage), and CreateKey, with validly signed
 * requests at a fixed concurrency for a bounded time. Requests are signed
 * before each phase and replayed (valid for 5 minutes), so the client spends
 * no CPU on signing; the client's CPU is reported. Then
 * GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext for every
 * `KeyPairSpec` (`data_key_pairs_bench.ts`): the six ECC/SM2/Ed25519 specs at
 * concurrency 4 and 16 beside the raw in-process generate + export rate, and
 * RSA with an empty pool (on demand). Then Sign and Verify
 * (`signatures_bench.ts`) for ECC_NIST_P256, ECC_SECG_P256K1, SM2,
 * ECC_NIST_EDWARDS25519, ML_DSA_65 and RSA_2048 at concurrency 4 and 16, each
 * beside the raw in-process sign / verify rate on the same key in the same
 * server process, with the event loop lag of each phase. Then it restarts the server on the same
 * database and times the first use of keys against later uses. Last, it
 * restarts the server with large RSA pools, waits until they are full, and
 * measures RSA requests served from the pool and the event loop lag while the
 * pool refills. Every phase before that runs with KMS_RSA_POOL_* = 0, so no
 * background RSA generation takes CPU from it. AuditOverhead (`audit_bench.ts`,
 * run after CreateKey) starts three more servers on fresh databases: with
 * `BENCH_AUDIT=off` (no audit log), `KMS_AUDIT_MODE=batched` and
 * `KMS_AUDIT_MODE=strict`, and drives the GenerateDataKey requests above against
 * them alternately (BENCH_AUDIT_ROUNDS runs each, default 4) at the same
 * concurrency and duration: req/s, p50 and p99 of each; target each mode
 * ≥ 0.9 × audit off.
 * Environment: BENCH_SECONDS (measured seconds per phase, default 5),
 * BENCH_WARMUP_SECONDS (1), BENCH_CONCURRENCY (16), BENCH_SINGLE_SECONDS
 * (the lag probe one request at a time after each operation, 2; 0 skips it),
 * BENCH_CLIENT (`raw`, default: pre-serialised HTTP/1.1 over `Deno.connect`,
 * about 15 µs of client CPU a request; or `fetch`, about 50-85 µs, which on 2
 * cores makes the minimal endpoint client-bound), BENCH_CLIENT_WORKERS
 * (client threads, 1), BENCH_OPS (comma list out of GenerateDataKey, Encrypt,
 * Decrypt, CreateKey, AuditOverhead, GenerateDataKeyPair,
 * GenerateDataKeyPairWithoutPlaintext (the six fast specs), RsaPool (RSA, both
 * operations: empty pool, then full pool), Sign, Verify, restart; default
 * all), BENCH_SERVER_FLAGS (extra `deno run` flags for the server, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/p` or `--v8-flags=--trace-gc`; the server
 * always starts with the V8 flags of `deno task start` first, none with
 * BENCH_START_FLAGS=off: scripts/start_flags.ts),
 * BENCH_SERVER_LOG (a file to append everything the server prints to),
 * BENCH_LAG_EVENTS (print each lag over 4 ms, and the libSQL statements that
 * held the server's main thread longest), BENCH_LAG_CONCURRENCY (comma list, default `64`:
 * each operation of the main table runs again at these concurrencies, and a table gives the
 * lag p50/p99/own p99/max/own max of every operation at every concurrency; empty: none),
 * BENCH_TURN_AB (e.g. `0,2`: the server alternates the listener's turn budget,
 * KMS_TURN_BUDGET_MS, between these values every BENCH_TURN_AB_PERIOD_MS (250), and each phase
 * prints req/s, main-thread µs per request and lag per value: an A/B that shares the machine's
 * load; tests/bench/turn_budget_ab.ts alternates whole runs instead), BENCH_GC=1 (the server runs with
 * `--v8-flags=--trace-gc`; a table of its main isolate's scavenges and
 * mark-compacts per phase), BENCH_JSON (a file to write every measured phase
 * to as JSON: rate, p50/p99, lag p50/p99/max, server CPU µs per request of all
 * threads and of the JS main thread, RSS at the end and peak, GC).
 * `Workers` (in BENCH_OPS, default on; `scaling_bench.ts`): main.ts itself at
 * KMS_WORKERS=1 and at KMS_WORKERS=N (N = this process's KMS_WORKERS, default
 * the CPU count), alternately (BENCH_WORKER_ROUNDS, 1), GenerateDataKey,
 * Encrypt and Decrypt of 1 KiB, lag from each server's /metrics; N-worker rows
 * only when the server really runs N workers (detected). BENCH_SOAK_SECONDS
 * (> 0: only the soak, see `scaling_bench.ts`: GenerateDataKey at
 * BENCH_SOAK_CONCURRENCY 32 against main.ts, RSS printed every
 * BENCH_SOAK_INTERVAL_SECONDS 30). Every phase's summary row gives, beside
 * req/s and p50/p99: the event-loop lag measured inside the server
 * (p50/p99/max), the server's CPU µs per request over all its threads
 * (/proc/<pid>/stat utime+stime) and of its JS main thread, and its RSS
 * (/proc/<pid>/status VmRSS) at the end of the window and the most sampled in
 * it (every 250 ms).
 * The data key pair phases add BENCH_PAIR_SECONDS (3), BENCH_PAIR_WARMUP_SECONDS
 * (0.5), BENCH_PAIR_CONCURRENCY (`4,16`), BENCH_PAIR_SPECS (default the six
 * fast specs), BENCH_KEYGEN_SECONDS (1.5), BENCH_RSA_POOL_2048 / _3072 / _4096
 * (64 / 24 / 16), BENCH_RSA_FILL_TIMEOUT_SECONDS (240), BENCH_RSA_CONCURRENCY
 * (4), BENCH_RSA_MARGIN (4), BENCH_RSA_REFILL_SECONDS (15) and
 * BENCH_RSA_ON_DEMAND (3); see `data_key_pairs_bench.ts`. The Sign and Verify
 * phases add BENCH_SIGN_SECONDS (3), BENCH_SIGN_WARMUP_SECONDS (0.5),
 * BENCH_SIGN_CONCURRENCY (`4,16`), BENCH_SIGN_SPECS (default the six specs)
 * and BENCH_SIGN_RAW_SECONDS (1); see `signatures_bench.ts`.
 *
 * Same as `deno task bench`: `deno run --allow-all tests/bench/http_bench.ts`.
 *
 * It never fails: a missed target is reported as MISS and the exit code is 0.
 *
 * @module
 */
import {
  AUDIT_OVERHEAD_OP,
  type AuditOverheadResult,
  printAuditOverhead,
  runAuditOverhead,
} from "./audit_bench.ts";
import type { LagReport, TurnModeFigures } from "./bench_server.ts";
import {
  PAIR_OPERATIONS,
  pairSettingsLine,
  printFastPairs,
  printRsa,
  RSA_POOL_OP,
  RSA_POOLS_OFF,
  type RsaBatch,
  type RsaPoolResult,
  runFastPairs,
  runRsaOnDemand,
  runRsaPool,
} from "./data_key_pairs_bench.ts";
import type { LoadResult, LoadSpec } from "./load.ts";
import {
  printSignatures,
  runSignatures,
  SIGN_OPERATIONS,
  type SignResult,
  signSettingsLine,
} from "./signatures_bench.ts";
import { quantile, RawConnection, serialise } from "./load.ts";
import { lagReportBetween, scrapeLag } from "./metrics_lag.ts";
import {
  runScaling,
  runSoak,
  type ScalingResult,
  type SoakResult,
  WORKERS_OP,
} from "./scaling_bench.ts";
import type { LagSnapshot } from "../../core/event_loop_lag.ts";
import {
  cpuSeconds,
  freePort,
  type GcPause,
  loadAverage,
  machineBusySeconds,
  residentMemory,
  type ServerOptions,
  ServerProcess,
} from "./server_process.ts";
import {
  plainRequest,
  presign,
  type PresignedRequest,
  presignMany,
  type SigningTarget,
} from "./signing.ts";

const ADMIN = {
  accessKeyId: "AKIABENCHADMIN000001",
  secretAccessKey: "bench-secret-access-key-000000000000000",
};
const REGION = "us-east-1";
const ACCOUNT_ID = "111122223333";
const DISTINCT_REQUESTS = 8;
const RESTART_KEYS = 20;
const KNOWN_OPS = [
  "GenerateDataKey",
  "Encrypt",
  "Decrypt",
  "CreateKey",
  AUDIT_OVERHEAD_OP,
  ...PAIR_OPERATIONS,
  RSA_POOL_OP,
  ...SIGN_OPERATIONS,
  "restart",
  WORKERS_OP,
];

function envNumber(name: string, fallback: number, min = Number.MIN_VALUE): number {
  const value = Deno.env.get(name);
  const n = value === undefined || value === "" ? fallback : Number(value);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}`);
  return n;
}

/** `flags` with `--trace-gc` added to its V8 flags when `on` (BENCH_GC=1). */
function withTraceGc(flags: string[], on: boolean): string[] {
  if (!on) return flags;
  const i = flags.findIndex((f) => f.startsWith("--v8-flags="));
  if (i < 0) return [...flags, "--v8-flags=--trace-gc"];
  return flags.map((f, j) => (j === i ? `${f},--trace-gc` : f));
}

/** The garbage collections of the server's busiest isolate (its main thread) in a window. */
export interface GcWindow {
  scavenges: number;
  scavengeMaxMs: number;
  scavengeTotalMs: number;
  markCompacts: number;
  /** Largest final pause of a mark-compact, and largest incremental marking step, ms. */
  markCompactMaxMs: number;
  markStepMaxMs: number;
}

function gcWindow(pauses: readonly GcPause[]): GcWindow | undefined {
  if (pauses.length === 0) return undefined;
  const byIsolate = new Map<string, number>();
  for (const p of pauses) byIsolate.set(p.isolate, (byIsolate.get(p.isolate) ?? 0) + 1);
  const main = [...byIsolate].sort((a, b) => b[1] - a[1])[0]![0];
  const mine = pauses.filter((p) => p.isolate === main);
  const scavenges = mine.filter((p) => p.kind === "Scavenge");
  const marks = mine.filter((p) => p.kind === "Mark-Compact");
  const max = (xs: number[]) => xs.reduce((a, b) => Math.max(a, b), 0);
  return {
    scavenges: scavenges.length,
    scavengeMaxMs: max(scavenges.map((p) => p.ms)),
    scavengeTotalMs: scavenges.reduce((n, p) => n + p.ms, 0),
    markCompacts: marks.length,
    markCompactMaxMs: max(marks.map((p) => p.ms)),
    markStepMaxMs: max(marks.map((p) => p.stepMs)),
  };
}

/**
 * BENCH_LAG_CONCURRENCY: the concurrencies (comma list, default `64`) each operation of the
 * main table runs at again, beside BENCH_CONCURRENCY, for the lag table at every concurrency;
 * empty: none.
 */
function lagConcurrencies(raw: string | undefined): number[] {
  return (raw ?? "64").split(",").map((s) => Math.round(Number(s.trim())))
    .filter((n) => Number.isFinite(n) && n >= 1);
}

const SETTINGS = {
  seconds: envNumber("BENCH_SECONDS", 5),
  warmupSeconds: envNumber("BENCH_WARMUP_SECONDS", 1),
  concurrency: Math.round(envNumber("BENCH_CONCURRENCY", 16)),
  client: (Deno.env.get("BENCH_CLIENT") ?? "raw") === "fetch" ? "fetch" as const : "raw" as const,
  workers: Math.round(envNumber("BENCH_CLIENT_WORKERS", 1)),
  ops: (Deno.env.get("BENCH_OPS") ?? KNOWN_OPS.join(","))
    .split(",").map((s) => s.trim()).filter((s) => s !== ""),
  serverFlags: withTraceGc(
    (Deno.env.get("BENCH_SERVER_FLAGS") ?? "").split(" ").filter((s) => s !== ""),
    Deno.env.get("BENCH_GC") === "1",
  ),
  gc: Deno.env.get("BENCH_GC") === "1",
  serverLog: Deno.env.get("BENCH_SERVER_LOG"),
  singleSeconds: envNumber("BENCH_SINGLE_SECONDS", 2, 0),
  lagConcurrency: lagConcurrencies(Deno.env.get("BENCH_LAG_CONCURRENCY")),
  lagEvents: Deno.env.get("BENCH_LAG_EVENTS") !== undefined,
  turnAb: (Deno.env.get("BENCH_TURN_AB") ?? "").includes(","),
  json: Deno.env.get("BENCH_JSON"),
  soakSeconds: envNumber("BENCH_SOAK_SECONDS", 0, 0),
};

/** One budget's figures of a BENCH_TURN_AB window. */
function turnAbLine(name: string, concurrency: number, m: TurnModeFigures): string {
  const f = (n: number, d = 1) => fmt(n, d);
  return `turn budget ${m.budgetMs} ms: ${name} @${concurrency}: ${fmt(m.requestsPerSecond)} ` +
    `req/s, JS ${fmt(m.jsUsPerRequest)} µs/req (kernel ${
      fmt(m.systemUsPerRequest)
    }), lag p50/p99/own p99 ${f(m.lagP50Ms)}/` +
    `${f(m.lagP99Ms)}/${f(m.lagOwnP99Ms)}, max/own ${f(m.lagMaxMs)}/${f(m.lagOwnMaxMs)} ` +
    `(${fmt(m.seconds, 1)} s, ${m.requests} requests; deferred ${f(m.deferredPerRequest, 2)}, ` +
    `resumed turns ${f(m.resumedTurnsPerRequest, 3)} per request, mean wait ` +
    `${f(m.meanWaitMs, 2)} ms; lag probe ${f(m.probeTicksPerRequest, 2)} ticks, ` +
    `${f(m.probeUsPerRequest)} µs per request)`;
}

/** Every measured phase of the run, in order, for BENCH_JSON. */
const RECORDED: PhaseResult[] = [];

/** What one measured phase gave. */
export interface PhaseResult {
  name: string;
  concurrency: number;
  rate: number;
  completed: number;
  errors: number;
  firstError: string | undefined;
  p50: number;
  p99: number;
  lag: LagReport;
  clientCpu: number;
  serverCpu: number;
  serverMainThreadCpu: number;
  /** CPU the machine spent outside this benchmark's two processes (other processes), cores. */
  otherCpu: number;
  seconds: number;
  /** Server resident memory at the end of the window and the most seen in it (sampled), MiB. */
  rssMb: number;
  peakRssMb: number;
  /** Which server answered: `bench_server` or `main.ts`, and how many request-serving workers. */
  server: string;
  /** Its main isolate's garbage collections in the window (BENCH_GC=1), else undefined. */
  gc: GcWindow | undefined;
  /** BENCH_TURN_AB: the figures of each alternated turn budget in the window. */
  turnAb?: TurnModeFigures[] | undefined;
}

/** What one operation gave: the loaded phase and the one-request-at-a-time lag probe. */
interface OpResult {
  load: PhaseResult;
  single: PhaseResult | undefined;
  /** The same load at each BENCH_LAG_CONCURRENCY other than BENCH_CONCURRENCY. */
  more: PhaseResult[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The client threads, created once. */
class LoadClient {
  readonly #workers: Worker[] = [];

  constructor(count: number) {
    for (let i = 0; i < count; i++) {
      this.#workers.push(
        new Worker(new URL("./load_worker.ts", import.meta.url), { type: "module" }),
      );
    }
  }

  /** Runs `spec` with `connections` spread over the workers (at least one connection each). */
  run(spec: Omit<LoadSpec, "connections">, connections: number): Promise<LoadResult>[] {
    const workers = this.#workers.slice(0, Math.min(this.#workers.length, connections));
    const n = workers.length;
    return workers.map((worker, i) => {
      const share = Math.floor(connections / n) + (i < connections % n ? 1 : 0);
      return new Promise<LoadResult>((resolve, reject) => {
        worker.onmessage = (event: MessageEvent<LoadResult>) => resolve(event.data);
        worker.onerror = (event) => {
          event.preventDefault();
          reject(new Error(event.message));
        };
        worker.postMessage({ ...spec, connections: share });
      });
    });
  }

  close(): void {
    for (const worker of this.#workers) worker.terminate();
  }
}

class Bench {
  server!: ServerProcess;
  /** Every server started (`start`, `spawn`), for `stopAll`; stopping one twice is harmless. */
  readonly #started = new Set<ServerProcess>();
  readonly client = new LoadClient(SETTINGS.workers);
  readonly dir: string;
  readonly serverOptions: ServerOptions;

  constructor(dir: string) {
    this.dir = dir;
    this.serverOptions = {
      denoFlags: SETTINGS.serverFlags,
      logFile: SETTINGS.serverLog,
      env: {
        KMS_DB_URL: `file:${dir}/kms.db`,
        KMS_ROOT_KEY: new Uint8Array(32).fill(42).toBase64(),
        KMS_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
        KMS_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
        KMS_ACCOUNT_ID: ACCOUNT_ID,
        KMS_REGION: REGION,
        KMS_PORT: "0",
        KMS_LOG_LEVEL: "info",
        // The SM2 data key pair and signing phases run in us-east-1 (core/region_profile.ts).
        KMS_SM2_ALL_REGIONS: "true",
        ...RSA_POOLS_OFF,
      },
    };
  }

  get base(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  get serverPid(): number {
    return this.server.pid;
  }

  get target(): SigningTarget {
    return { host: `127.0.0.1:${this.server.port}`, region: REGION, ...ADMIN };
  }

  async start(env: Record<string, string> = {}): Promise<number> {
    const started = performance.now();
    // bench_server serves at 1 worker: the in-process minimal endpoint's baseline.
    const options = {
      ...this.serverOptions,
      env: { ...this.serverOptions.env, KMS_WORKERS: "1", ...env },
    };
    this.server = await ServerProcess.start(options);
    this.#started.add(this.server);
    return performance.now() - started;
  }

  /**
   * Starts another server, on the database file `dbFile` in the bench directory, with `env`
   * added; it does not become the current server (see `using`). Stopped by `stopAll` at the
   * latest. `script: "main"` starts main.ts itself on a free port (lag then comes from its
   * /metrics).
   */
  async spawn(
    dbFile: string,
    env: Record<string, string>,
    script: "bench" | "main" = "bench",
  ): Promise<ServerProcess> {
    const port = script === "main" ? { KMS_PORT: String(freePort()), KMS_HOST: "127.0.0.1" } : {};
    const server = await ServerProcess.start({
      ...this.serverOptions,
      script,
      env: {
        ...this.serverOptions.env,
        KMS_DB_URL: `file:${this.dir}/${dbFile}`,
        ...port,
        ...env,
      },
    });
    this.#started.add(server);
    return server;
  }

  /** Runs `fn` with `server` as the current server (calls, phases, `target` go to it). */
  async using<T>(server: ServerProcess, fn: () => Promise<T>): Promise<T> {
    const current = this.server;
    this.server = server;
    try {
      return await fn();
    } finally {
      this.server = current;
    }
  }

  /** Stops every server still running. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#started].map((server) => server.stop()));
  }

  /** Stops the server and starts it again on the same database with `env` added. */
  async restartWith(env: Record<string, string>): Promise<number> {
    await this.server.stop();
    return await this.start(env);
  }

  /** One signed call from the main thread; the parsed reply. @throws on a non-200 reply */
  async call(operation: string, payload: unknown): Promise<Record<string, unknown>> {
    const request = await presign(this.target, operation, payload);
    const headers = { ...request.headers };
    delete headers["host"];
    delete headers["content-length"];
    const response = await fetch(this.base, { method: "POST", headers, body: request.body });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`${operation}: ${response.status} ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  }

  /** Lag of main.ts servers at the last `resetLag`, from their /metrics. */
  readonly #lagAtReset = new Map<ServerProcess, LagSnapshot | undefined>();

  async lag(): Promise<LagReport> {
    if (this.server.script === "main") {
      return lagReportBetween(this.#lagAtReset.get(this.server), await scrapeLag(this.base));
    }
    const response = await fetch(`${this.base}/__bench/lag`);
    return await response.json() as LagReport;
  }

  async resetLag(): Promise<void> {
    if (this.server.script === "main") {
      this.#lagAtReset.set(this.server, await scrapeLag(this.base));
      return;
    }
    await (await fetch(`${this.base}/__bench/lag/reset`, { method: "POST" })).arrayBuffer();
  }

  /** How the current server is labelled in the tables. */
  serverLabel(): string {
    const workers = this.serverWorkers.get(this.server);
    const name = this.server.script === "main" ? "main.ts" : "bench_server";
    return workers === undefined ? name : `${name} ×${workers}`;
  }

  /** Request-serving workers detected per server (scaling_bench.ts). */
  readonly serverWorkers = new Map<ServerProcess, number>();

  /** Warm-up, then a measured window at `concurrency`. */
  async phase(
    name: string,
    path: string,
    requests: PresignedRequest[],
    timing: { concurrency: number; warmupMs: number; durationMs: number },
  ): Promise<PhaseResult> {
    const { concurrency, warmupMs, durationMs } = timing;
    const startAt = Date.now() + 50;
    const results = this.client.run({
      transport: SETTINGS.client,
      url: `${this.base}${path}`,
      requests,
      startAt,
      warmupMs,
      durationMs,
    }, concurrency);
    await sleep(startAt + warmupMs - Date.now());
    await this.resetLag();
    const t0 = performance.now();
    const c0 = cpuSeconds("self");
    const gc0 = this.server.gc.length;
    const s0 = cpuSeconds(this.server.pid);
    const m0 = cpuSeconds(this.server.pid, this.server.pid);
    const b0 = machineBusySeconds();
    let peakRssMb = 0;
    const windowEnd = startAt + warmupMs + durationMs;
    while (Date.now() < windowEnd) {
      await sleep(Math.min(250, windowEnd - Date.now()));
      peakRssMb = Math.max(peakRssMb, residentMemory(this.server.pid).rssMb);
    }
    const seconds = (performance.now() - t0) / 1000;
    const c1 = cpuSeconds("self");
    const s1 = cpuSeconds(this.server.pid);
    const m1 = cpuSeconds(this.server.pid, this.server.pid);
    const b1 = machineBusySeconds();
    const { rssMb } = residentMemory(this.server.pid);
    const lag = await this.lag();
    const turnAb = SETTINGS.turnAb && this.server.script !== "main"
      ? await (await fetch(`${this.base}/__bench/turn-ab`)).json() as TurnModeFigures[]
      : undefined;
    const all = await Promise.all(results);
    const latencies = new Float64Array(all.reduce((n, r) => n + r.latencies.length, 0));
    let offset = 0;
    for (const r of all) {
      latencies.set(r.latencies, offset);
      offset += r.latencies.length;
    }
    latencies.sort();
    const completed = all.reduce((n, r) => n + r.completed, 0);
    for (const m of turnAb ?? []) console.log(`    ${turnAbLine(name, concurrency, m)}`);
    if (SETTINGS.lagEvents) {
      console.log(`    lag events of ${name} at concurrency ${concurrency}:`);
      for (const e of lag.events) console.log(`      ${JSON.stringify(e)}`);
    }
    const result: PhaseResult = {
      name,
      concurrency,
      rate: completed / (durationMs / 1000),
      completed,
      errors: all.reduce((n, r) => n + r.errors, 0),
      firstError: all.find((r) => r.firstError !== undefined)?.firstError,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      lag,
      clientCpu: (c1 - c0) / seconds,
      serverCpu: (s1 - s0) / seconds,
      serverMainThreadCpu: (m1 - m0) / seconds,
      otherCpu: Math.max(0, (b1 - b0) - (c1 - c0) - (s1 - s0)) / seconds,
      seconds,
      rssMb,
      peakRssMb: Math.max(peakRssMb, rssMb),
      server: this.serverLabel(),
      gc: gcWindow(this.server.gc.slice(gc0)),
      turnAb,
    };
    RECORDED.push(result);
    return result;
  }

  /** The loaded phase, then (unless BENCH_SINGLE_SECONDS=0) a lag probe one request at a time. */
  async op(name: string, path: string, requests: PresignedRequest[]): Promise<OpResult> {
    const load = await this.phase(name, path, requests, {
      concurrency: SETTINGS.concurrency,
      warmupMs: SETTINGS.warmupSeconds * 1000,
      durationMs: SETTINGS.seconds * 1000,
    });
    console.log(progress(load));
    const more: PhaseResult[] = [];
    for (const concurrency of SETTINGS.lagConcurrency) {
      if (concurrency === SETTINGS.concurrency) continue;
      more.push(
        await this.phase(name, path, requests, {
          concurrency,
          warmupMs: SETTINGS.warmupSeconds * 1000,
          durationMs: SETTINGS.seconds * 1000,
        }),
      );
      console.log(`${progress(more.at(-1)!)}  (@${concurrency})`);
    }
    const single = SETTINGS.singleSeconds > 0
      ? await this.phase(name, path, requests, {
        concurrency: 1,
        warmupMs: 100,
        durationMs: SETTINGS.singleSeconds * 1000,
      })
      : undefined;
    return { load, single, more };
  }
}

/**
 * The GenerateDataKey phase's requests (AES_256 with an encryption context), signed for the
 * current server; AuditOverhead sends the same.
 */
function generateDataKeyRequests(bench: Bench, keyId: string): Promise<PresignedRequest[]> {
  return presignMany(bench.target, "GenerateDataKey", DISTINCT_REQUESTS, () => ({
    KeyId: keyId,
    KeySpec: "AES_256",
    EncryptionContext: { purpose: "bench" },
  }));
}

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** First use of keys after a restart, against their second and third use. */
interface RestartResult {
  startupMs: number;
  coldProcessFirstMs: number;
  warmMs: number;
  /** Per key: first - min(second, third), ms. */
  added: number[];
}

async function restartPhase(bench: Bench, mainKeyId: string): Promise<RestartResult> {
  const keyIds: string[] = [];
  for (let i = 0; i < RESTART_KEYS; i++) {
    const reply = await bench.call("CreateKey", { Description: `restart probe ${i}` });
    keyIds.push((reply.KeyMetadata as { KeyId: string }).KeyId);
  }
  await bench.server.stop();
  const startupMs = await bench.start();
  // Signed after the restart: the port changed, and the signature covers the host.
  const plaintext = randomBytes(4096).toBase64();
  const frame = async (keyId: string) =>
    serialise("/", await presign(bench.target, "Encrypt", { KeyId: keyId, Plaintext: plaintext }));
  const mainFrame = await frame(mainKeyId);
  const frames: Uint8Array[] = [];
  for (const keyId of keyIds) frames.push(await frame(keyId));
  const connection = await RawConnection.open("127.0.0.1", bench.server.port);
  const timed = async (bytes: Uint8Array): Promise<number> => {
    const started = performance.now();
    const reply = await connection.exchange(bytes);
    const ms = performance.now() - started;
    if (reply.status !== 200) {
      throw new Error(`restart probe: ${reply.status} ${new TextDecoder().decode(reply.body)}`);
    }
    return ms;
  };
  try {
    const coldProcessFirstMs = await timed(mainFrame);
    const warm: number[] = [];
    for (let i = 0; i < 500; i++) warm.push(await timed(mainFrame));
    warm.sort((a, b) => a - b);
    const added: number[] = [];
    for (const bytes of frames) {
      const first = await timed(bytes);
      const second = await timed(bytes);
      const third = await timed(bytes);
      added.push(first - Math.min(second, third));
    }
    return {
      startupMs,
      coldProcessFirstMs,
      warmMs: warm[Math.floor(warm.length / 2)]!,
      added,
    };
  } finally {
    connection.close();
  }
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "n/a";
const pad = (s: string, n: number) => s.padStart(n);
const padEnd = (s: string, n: number) => s.padEnd(n);

function machine(): string {
  let model = "unknown CPU";
  try {
    model = /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? model;
  } catch {
    // not Linux
  }
  return `${navigator.hardwareConcurrency} cores, ${model}, Deno ${Deno.version.deno}`;
}

async function main(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kms-bench-" });
  const bench = new Bench(dir);
  const serverCommand = ServerProcess.commandLine(bench.serverOptions).join(" ");
  console.log(`command: ${commandShown()}`);
  console.log(`server:  ${serverCommand}  (KMS_DB_URL=file:${dir}/kms.db, own process)`);
  console.log(`machine: ${machine()}; load average ${loadAverage()} at the start`);
  console.log(
    `load:    concurrency ${SETTINGS.concurrency}, ${SETTINGS.warmupSeconds} s warm-up + ` +
      `${SETTINGS.seconds} s measured per phase, client=${SETTINGS.client} (keep-alive), ` +
      `${SETTINGS.workers} client thread(s), ${DISTINCT_REQUESTS} distinct pre-signed requests ` +
      `per phase (SigV4 as AWS SDK v3 signs, replayed)`,
  );
  console.log(pairSettingsLine());
  console.log(signSettingsLine());
  const unknown = SETTINGS.ops.filter((op) => !KNOWN_OPS.includes(op));
  if (unknown.length > 0) console.log(`ignored unknown BENCH_OPS: ${unknown.join(", ")}`);
  console.log("");
  const interrupt = () => {
    bench.client.close();
    bench.stopAll().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", interrupt);
  try {
    if (SETTINGS.soakSeconds > 0) {
      const soak = await runSoak(bench, SETTINGS.soakSeconds, (line) => console.log(line));
      await writeJson({ soak });
    } else {
      await bench.start();
      await run(bench);
    }
  } finally {
    bench.client.close();
    await bench.stopAll();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    Deno.removeSignalListener("SIGINT", interrupt);
  }
}

function commandShown(): string {
  const vars = Object.entries(Deno.env.toObject())
    .filter(([name]) => name.startsWith("BENCH_"))
    .map(([name, value]) => `${name}=${value.includes(" ") ? `'${value}'` : value}`);
  return [...vars, Deno.execPath(), "run --allow-all tests/bench/http_bench.ts"].join(" ") +
    "   (what `deno task bench` runs)";
}

interface Row {
  op: OpResult;
  minimal: PhaseResult | undefined;
  ratioTarget: number | undefined;
  rateTarget: number | undefined;
}

async function run(bench: Bench): Promise<void> {
  const created = await bench.call("CreateKey", { Description: "bench key" });
  const keyId = (created.KeyMetadata as { KeyId: string }).KeyId;
  const plaintexts = Array.from({ length: DISTINCT_REQUESTS }, () => randomBytes(4096).toBase64());
  const ciphertexts: string[] = [];
  for (const plaintext of plaintexts) {
    const reply = await bench.call("Encrypt", { KeyId: keyId, Plaintext: plaintext });
    ciphertexts.push(reply.CiphertextBlob as string);
  }
  const host = bench.target.host;
  const minimalRequests = () =>
    plaintexts.map((p) => plainRequest(host, { KeyId: keyId, Plaintext: p }));
  const phases: Record<string, () => Promise<PresignedRequest[]>> = {
    GenerateDataKey: () => generateDataKeyRequests(bench, keyId),
    Encrypt: () =>
      presignMany(bench.target, "Encrypt", DISTINCT_REQUESTS, (i) => ({
        KeyId: keyId,
        Plaintext: plaintexts[i],
      })),
    Decrypt: () =>
      presignMany(bench.target, "Decrypt", DISTINCT_REQUESTS, (i) => ({
        CiphertextBlob: ciphertexts[i],
      })),
    CreateKey: () =>
      presignMany(bench.target, "CreateKey", DISTINCT_REQUESTS, (i) => ({
        Description: `bench ${i}`,
      })),
  };
  const ratioTargets: Record<string, number> = { GenerateDataKey: 0.5, Encrypt: 0.4, Decrypt: 0.4 };
  const rows: Row[] = [];
  for (const name of SETTINGS.ops) {
    const make = phases[name];
    if (make === undefined) continue;
    const ratioTarget = ratioTargets[name];
    let minimal: PhaseResult | undefined;
    if (ratioTarget !== undefined) {
      minimal = await bench.phase("minimal endpoint", "/__bench/minimal", minimalRequests(), {
        concurrency: SETTINGS.concurrency,
        warmupMs: SETTINGS.warmupSeconds * 1000,
        durationMs: SETTINGS.seconds * 1000,
      });
      console.log(progress(minimal));
    }
    const label = name === "Encrypt" || name === "Decrypt" ? `${name} 4 KiB` : name;
    const op = await bench.op(label, "/", await make());
    rows.push({ op, minimal, ratioTarget, rateTarget: name === "CreateKey" ? 1000 : undefined });
  }
  let audit: AuditOverheadResult | undefined;
  if (SETTINGS.ops.includes(AUDIT_OVERHEAD_OP)) {
    console.log("Audit log overhead (GenerateDataKey, audit off / batched / strict):");
    audit = await runAuditOverhead(bench, {
      concurrency: SETTINGS.concurrency,
      warmupMs: SETTINGS.warmupSeconds * 1000,
      durationMs: SETTINGS.seconds * 1000,
    }, (id) => generateDataKeyRequests(bench, id));
  }
  const pairOps = PAIR_OPERATIONS.filter((op) => SETTINGS.ops.includes(op));
  const rsa = SETTINGS.ops.includes(RSA_POOL_OP);
  if (pairOps.length > 0) console.log("Data key pairs:");
  const fastPairs = pairOps.length > 0 ? await runFastPairs(bench, keyId, pairOps) : [];
  const signOps = SIGN_OPERATIONS.filter((op) => SETTINGS.ops.includes(op));
  if (signOps.length > 0) console.log("Sign and Verify:");
  const signatures: SignResult[] = signOps.length > 0 ? await runSignatures(bench, signOps) : [];
  if (rsa) console.log("RSA data key pairs:");
  const onDemand: RsaBatch[] = rsa ? await runRsaOnDemand(bench, keyId) : [];
  const restart = SETTINGS.ops.includes("restart") ? await restartPhase(bench, keyId) : undefined;
  const pool: RsaPoolResult | undefined = rsa ? await runRsaPool(bench, keyId) : undefined;
  let scaling: ScalingResult | undefined;
  if (SETTINGS.ops.includes(WORKERS_OP)) {
    console.log("Workers (main.ts at KMS_WORKERS=1 and =N, alternately):");
    scaling = await runScaling(bench, {
      concurrency: SETTINGS.concurrency,
      warmupMs: SETTINGS.warmupSeconds * 1000,
      durationMs: SETTINGS.seconds * 1000,
    }, (r) => console.log(`${progress(r)}  (${r.server})`));
  }
  console.log("");
  if (rows.length > 0) printTables(rows);
  if (rows.length > 0 || scaling !== undefined) printSummary(rows, scaling);
  printAuditOverhead(audit);
  if (restart !== undefined) printRestart(restart);
  printFastPairs(fastPairs);
  printRsa(onDemand, pool);
  printSignatures(signatures);
  await writeJson({ scaling });
}

/** BENCH_JSON: every measured phase (and the sections given) as one JSON document. */
async function writeJson(
  sections: { scaling?: ScalingResult | undefined; soak?: SoakResult | undefined },
): Promise<void> {
  if (SETTINGS.json === undefined || SETTINGS.json === "") return;
  const phases = RECORDED.map((r) => ({
    ...summaryOf(r),
    lag: { ...r.lag, events: undefined, worst: r.lag.worst },
    errors: r.errors,
    firstError: r.firstError,
    clientCpuCores: r.clientCpu,
    serverCpuCores: r.serverCpu,
    otherCpuCores: r.otherCpu,
    gc: r.gc,
  }));
  const document = {
    command: commandShown(),
    machine: machine(),
    finishedAt: new Date().toISOString(),
    settings: { ...SETTINGS, json: undefined },
    phases,
    ...sections,
  };
  await Deno.writeTextFile(SETTINGS.json, JSON.stringify(document, null, 2) + "\n");
  console.log(`\nJSON written to ${SETTINGS.json}`);
}

/** The compact figures of one phase: what the summary table and the README quote. */
function summaryOf(r: PhaseResult) {
  const perRequest = (cores: number) =>
    r.completed > 0 ? (cores * r.seconds * 1e6) / r.completed : Number.NaN;
  const round = (n: number, digits: number) =>
    Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : null;
  return {
    name: r.name,
    server: r.server,
    concurrency: r.concurrency,
    requestsPerSecond: round(r.rate, 0),
    p50Ms: round(r.p50, 2),
    p99Ms: round(r.p99, 2),
    lagP50Ms: round(r.lag.p50Ms, 1),
    lagP99Ms: round(r.lag.p99Ms, 1),
    lagMaxMs: round(r.lag.maxMs, 1),
    lagOwnP99Ms: round(r.lag.ownP99Ms, 1),
    lagOwnMaxMs: round(r.lag.maxOwnMs, 1),
    serverCpuUsPerRequest: round(perRequest(r.serverCpu), 1),
    serverMainThreadCpuUsPerRequest: round(perRequest(r.serverMainThreadCpu), 1),
    rssMb: round(r.rssMb, 0),
    peakRssMb: round(r.peakRssMb, 0),
  };
}

/**
 * One compact table of every operation: at 1 worker beside the minimal endpoint (bench_server),
 * then main.ts at 1 and N workers with the N/1 ratios of rate and CPU per request.
 */
function printSummary(rows: Row[], scaling: ScalingResult | undefined): void {
  console.log("");
  console.log(
    `Summary at concurrency ${SETTINGS.concurrency}: lag from inside the server (p50/p99/max, ms); ` +
      "CPU µs per request of the whole server process (all threads, /proc) and of its JS main " +
      "thread; RSS at the end of the window and the most sampled in it:",
  );
  const line = (r: PhaseResult, note = "") => {
    const s = summaryOf(r);
    const f = (n: number | null, d = 0) => n === null ? "n/a" : fmt(n, d);
    return [
      r.name,
      r.server,
      f(s.requestsPerSecond),
      f(s.p50Ms, 2),
      f(s.p99Ms, 2),
      `${f(s.lagP50Ms, 1)}/${f(s.lagP99Ms, 1)}/${f(s.lagMaxMs, 1)}`,
      f(s.serverCpuUsPerRequest),
      f(s.serverMainThreadCpuUsPerRequest),
      `${f(s.rssMb)}/${f(s.peakRssMb)}`,
      note,
    ];
  };
  const out: string[][] = [];
  const jsPerRequest = (r: PhaseResult) =>
    (r.serverMainThreadCpu * r.seconds) / Math.max(1, r.completed);
  for (const entry of entriesOf(rows)) {
    const minimal = entry.isOp ? entry.row?.minimal : undefined;
    const lagNote = entry.isOp ? `lag p99 ≤ 5 ${verdict(entry.load.lag.p99Ms <= 5)}` : "";
    const cpuNote = minimal === undefined
      ? ""
      : `, JS µs ×${fmt(jsPerRequest(entry.load) / jsPerRequest(minimal), 2)} minimal (≤ 2 ${
        verdict(jsPerRequest(entry.load) / jsPerRequest(minimal) <= 2)
      })`;
    out.push(line(entry.load, lagNote + cpuNote));
  }
  if (scaling !== undefined) {
    for (const row of scaling.rows) {
      row.one.forEach((one, i) => {
        out.push(line(one));
        const many = row.many[i];
        if (many === undefined) return;
        const cpu = (r: PhaseResult) => (r.serverCpu * r.seconds) / Math.max(1, r.completed);
        out.push(
          line(
            many,
            `×${fmt(many.rate / one.rate, 2)} rate (≥ 1.3 ${
              verdict(many.rate / one.rate >= 1.3)
            }), ` +
              `×${fmt(cpu(many) / cpu(one), 2)} CPU/req (≤ 1.1 ${
                verdict(cpu(many) / cpu(one) <= 1.1)
              })`,
          ),
        );
      });
    }
  }
  table(
    [
      "operation",
      "server",
      "req/s",
      "p50 ms",
      "p99 ms",
      "lag ms",
      "CPU µs",
      "JS µs",
      "RSS MiB",
      "",
    ],
    [20, -18, 7, 7, 7, 14, 7, 7, 9, -40],
    out,
  );
  if (scaling !== undefined) {
    console.log(
      `KMS_WORKERS=${scaling.requested}: the server runs ${scaling.detected} worker(s) ` +
        `(${scaling.detectedBy})${
          scaling.detected < 2 && scaling.requested > 1 ? "; no N-worker rows" : ""
        }.`,
    );
  }
}

function progress(r: PhaseResult): string {
  const errors = r.errors === 0 ? "" : `, ${r.errors} errors, first: ${r.firstError}`;
  return `  ${padEnd(r.name, 18)} ${pad(fmt(r.rate), 7)} req/s${errors}`;
}

function verdict(pass: boolean): string {
  return pass ? "PASS" : "MISS";
}

function table(header: string[], widths: number[], rows: string[][]): void {
  const cell = (text: string, i: number) =>
    i === 0 || widths[i]! < 0 ? text.padEnd(Math.abs(widths[i]!)) : text.padStart(widths[i]!);
  const head = header.map(cell).join("  ").trimEnd();
  console.log(head);
  console.log("-".repeat(head.length));
  for (const row of rows) console.log(row.map(cell).join("  ").trimEnd());
}

/** One line of the tables: a minimal-endpoint run or an operation, in the order they ran. */
interface Entry {
  name: string;
  isOp: boolean;
  load: PhaseResult;
  single: PhaseResult | undefined;
  row: Row | undefined;
}

function entriesOf(rows: Row[]): Entry[] {
  const entries: Entry[] = [];
  const shown = new Set<PhaseResult>();
  for (const row of rows) {
    if (row.minimal !== undefined && !shown.has(row.minimal)) {
      shown.add(row.minimal);
      const m = row.minimal;
      entries.push({ name: "  minimal endpoint", isOp: false, load: m, single: undefined, row });
    }
    entries.push({
      name: row.op.load.name,
      isOp: true,
      load: row.op.load,
      single: row.op.single,
      row,
    });
  }
  return entries;
}

function printTables(rows: Row[]): void {
  const entries = entriesOf(rows);
  console.log(
    `Throughput at concurrency ${SETTINGS.concurrency} (${SETTINGS.seconds} s measured; each ` +
      "operation beside the minimal endpoint measured just before it):",
  );
  table(
    ["operation", "req/s", "p50 ms", "p99 ms", "minimal req/s", "ratio", "target"],
    [20, 7, 7, 7, 13, 6, -26],
    entries.map(({ name, isOp, load, row }) => {
      if (!isOp || row === undefined) {
        return [name, fmt(load.rate), fmt(load.p50, 2), fmt(load.p99, 2), "", "", ""];
      }
      let minimalText = "";
      let ratioText = "";
      let target = "";
      if (row.minimal !== undefined && row.ratioTarget !== undefined) {
        const ratio = load.rate / row.minimal.rate;
        minimalText = fmt(row.minimal.rate);
        ratioText = fmt(ratio, 2);
        target = `≥ ${fmt(row.ratioTarget, 2)}× minimal  ${verdict(ratio >= row.ratioTarget)}`;
      } else if (row.rateTarget !== undefined) {
        target = `≥ ${fmt(row.rateTarget)}/s  ${verdict(load.rate >= row.rateTarget)}`;
      }
      return [
        name,
        fmt(load.rate),
        fmt(load.p50, 2),
        fmt(load.p99, 2),
        minimalText,
        ratioText,
        target,
      ];
    }),
  );

  console.log("");
  console.log(
    "Event loop lag in the server, ms: worst delay of a 1 ms timer while loaded " +
      `(@${SETTINGS.concurrency}) and one request at a time (@1, ${SETTINGS.singleSeconds} s); ` +
      "'own' = the delay less the time the main thread waited for a CPU:",
  );
  table(
    [
      "operation",
      `max @${SETTINGS.concurrency}`,
      "own",
      "p99",
      "own p99",
      "ticks > 5",
      "max @1",
      "own @1",
      `target: max @${SETTINGS.concurrency}`,
      "own @1",
      "DB µs/req",
      "DB max",
    ],
    [20, 7, 5, 5, 7, 9, 6, 6, -20, 6, 9, 6],
    entries.map(({ name, isOp, load, single }) => [
      name,
      fmt(load.lag.maxMs, 1),
      fmt(load.lag.maxOwnMs, 1),
      fmt(load.lag.p99Ms, 1),
      fmt(load.lag.ownP99Ms, 1),
      fmt(load.lag.over5ms),
      single === undefined ? "" : fmt(single.lag.maxMs, 1),
      single === undefined ? "" : fmt(single.lag.maxOwnMs, 1),
      isOp ? `≤ 5 ms  ${verdict(load.lag.maxMs <= 5)}` : "",
      isOp && single !== undefined ? verdict(single.lag.maxOwnMs <= 5) : "",
      load.lag.db === undefined ? "" : fmt((load.lag.db.totalMs * 1000) / load.completed, 1),
      load.lag.db === undefined ? "" : fmt(load.lag.db.maxMs, 1),
    ]),
  );
  console.log(
    "DB µs/req, DB max: time the main thread spent inside libSQL calls (the native driver " +
      "runs them synchronously), per request and the longest single call, ms.",
  );
  printLagByConcurrency(rows);
  if (SETTINGS.gc) printGc(entries);
  if (SETTINGS.lagEvents) {
    for (const { name, load } of entries) {
      for (const e of load.lag.db?.top ?? []) {
        console.log(
          `  ${name}: ${e.calls} × ${e.sql}: ${fmt(e.totalMs, 1)} ms, max ${fmt(e.maxMs, 2)} ms`,
        );
      }
    }
  }

  console.log("");
  console.log(
    "CPU during the loaded window, % of one core (client = this process, all its threads; " +
      "server = the server process, and its JS main thread alone; others = every other " +
      "process on the machine):",
  );
  table(
    [
      "operation",
      "client",
      "client µs/req",
      "server",
      "server JS thread",
      "JS thread µs/req",
      "others",
    ],
    [20, 7, 13, 7, 16, 16, 6],
    entries.map(({ name, load }) => {
      const perRequest = (share: number) =>
        load.completed > 0 ? (share * load.seconds * 1e6) / load.completed : Number.NaN;
      return [
        name,
        `${fmt(load.clientCpu * 100)}%`,
        fmt(perRequest(load.clientCpu), 1),
        `${fmt(load.serverCpu * 100)}%`,
        `${fmt(load.serverMainThreadCpu * 100)}%`,
        fmt(perRequest(load.serverMainThreadCpu), 1),
        `${fmt(load.otherCpu * 100)}%`,
      ];
    }),
  );
  for (const { load, single } of entries) {
    for (const r of [load, single]) {
      if (r !== undefined && r.errors > 0) {
        console.log(`${r.name} @${r.concurrency}: ${r.errors} errors, first: ${r.firstError}`);
      }
    }
  }
}

/**
 * The lag of each operation at every concurrency it ran at (BENCH_CONCURRENCY and
 * BENCH_LAG_CONCURRENCY): issue 15's target is p99 ≤ 5 ms at 16 and at 64.
 */
function printLagByConcurrency(rows: Row[]): void {
  const phases = rows.flatMap((row) => [row.op.load, ...row.op.more])
    .sort((a, b) => a.name.localeCompare(b.name) || a.concurrency - b.concurrency);
  if (phases.length === 0) return;
  console.log("");
  console.log(
    "Event loop lag in the server by concurrency, ms ('own' = less the main thread's CPU wait; " +
      "KMS_TURN_BUDGET_MS " + (Deno.env.get("KMS_TURN_BUDGET_MS") ?? "0, the default") + "):",
  );
  table(
    ["operation", "conc", "req/s", "JS µs", "p50", "p99", "own p99", "max", "own max", "target"],
    [20, 4, 7, 6, 5, 5, 7, 6, 7, -16],
    phases.map((r) => [
      r.name,
      String(r.concurrency),
      fmt(r.rate),
      fmt((r.serverMainThreadCpu * r.seconds * 1e6) / Math.max(1, r.completed)),
      fmt(r.lag.p50Ms, 1),
      fmt(r.lag.p99Ms, 1),
      fmt(r.lag.ownP99Ms, 1),
      fmt(r.lag.maxMs, 1),
      fmt(r.lag.maxOwnMs, 1),
      `p99 ≤ 5 ${verdict(r.lag.p99Ms <= 5)}`,
    ]),
  );
}

/** BENCH_GC=1: the pauses of the server's main isolate in each loaded window. */
function printGc(entries: Entry[]): void {
  console.log("");
  console.log(
    "Garbage collection of the server's main isolate in the loaded window (--trace-gc), ms:",
  );
  table(
    ["operation", "scavenges", "max", "total", "µs/req", "mark-compacts", "max", "max step"],
    [20, 9, 6, 7, 7, 13, 6, 8],
    entries.map(({ name, load }) => {
      const g = load.gc;
      if (g === undefined) return [name, "n/a"];
      return [
        name,
        fmt(g.scavenges),
        fmt(g.scavengeMaxMs, 1),
        fmt(g.scavengeTotalMs, 0),
        fmt((g.scavengeTotalMs * 1000) / Math.max(1, load.completed), 1),
        fmt(g.markCompacts),
        fmt(g.markCompactMaxMs, 1),
        fmt(g.markStepMaxMs, 1),
      ];
    }),
  );
}

function printRestart(r: RestartResult): void {
  const sorted = [...r.added].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log("");
  console.log(
    `First use of a key after a restart (server restarted on the same database, listening after ${
      fmt(r.startupMs)
    } ms; Encrypt 4 KiB, one connection, one request at a time):`,
  );
  console.log(
    `  first request of the new process (cold code, credential and key loads): ` +
      `${fmt(r.coldProcessFirstMs, 2)} ms; warm request: ${fmt(r.warmMs, 3)} ms (median of 500)`,
  );
  console.log(
    `  added by a key's first use, first - min(second, third), ${r.added.length} keys: ` +
      `median ${fmt(median, 3)} ms, max ${fmt(sorted[sorted.length - 1]!, 3)} ms  ` +
      `target ≤ 1 ms (median)  ${verdict(median <= 1)}`,
  );
  console.log(`  per key, in order: ${r.added.map((ms) => fmt(ms, 2)).join(" ")}`);
}

if (import.meta.main) await main();
