/**
 * The server process of `deno task bench`: the real KMS (`openService` on a
 * durable file database, as `main.ts` wires it) on 127.0.0.1, plus
 * benchmark-only routes mounted by wrapping the app's fetch handler (the app
 * itself is untouched):
 *
 * - `POST /__bench/minimal`: the floor a KMS request cannot go below in this
 *   process: read the body, `JSON.parse`, a zod parse (with base64 decode of
 *   the plaintext), one AES-256-GCM encryption under a WebCrypto key imported
 *   once, a JSON reply. No SigV4, no storage, no key derivation.
 * - `GET /__bench/lag`: the event loop's worst lag (and a few percentiles)
 *   since the last reset, measured by a 1 ms `setTimeout` chain, and the time
 *   the main thread spent inside libSQL calls (`observeDatabaseCalls`).
 * - `POST /__bench/lag/reset`: starts a new lag window.
 * - `POST /__bench/raw-keygen` `{spec, ms, fn?}`: calls `rawGenerateAndExport(spec)`
 *   (or, with `fn: "generateKeyPair"`, the service's own `generateKeyPair`) one
 *   call at a time in this process for `ms` milliseconds after a short warm-up,
 *   and answers a `KeygenReport` (rate, and CPU of the process and of its main
 *   thread, which shows when the library generates off the main thread).
 * - `POST /__bench/raw-sign` `{spec, algorithm, op, ms, keyId?, messageBytes?}`: imports
 *   one key once through `importSigningEngine` / `importVerifyingEngine`, the
 *   synchronous engines the service and its crypto workers sign with (the KMS
 *   key `keyId`'s material version 1, or fresh material of `spec`; verification
 *   with the key imported from the DER SPKI, as Verify does), so always on this
 *   process's main thread, never in a crypto worker, then signs or verifies one
 *   random `messageBytes`-byte (256) RAW message one call at a time for `ms`
 *   milliseconds after a short warm-up, and answers a `SignReport` (a
 *   `KeygenReport` plus the longest single call).
 * - `GET /__bench/pool`: `service.keyPairPool.stats()`.
 * - `GET /__bench/turn-ab`: with BENCH_TURN_AB=a,b (turn budgets, ms), the listener's turn
 *   budget alternates between them every BENCH_TURN_AB_PERIOD_MS (250); per budget since the last
 *   lag reset: requests answered, main-thread µs per request, lag (`TurnBudgetAb`).
 *
 * Configuration comes from the `KMS_*` environment as for `main.ts`. Prints
 * one JSON line `{"port":…,"pid":…}` once listening; exits on SIGTERM/SIGINT
 * after closing the store.
 *
 * @module
 */
import { z } from "zod";
import { parseConfig } from "../../core/config.ts";
import {
  DATA_KEY_PAIR_SPECS,
  type DataKeyPairSpec,
  generateKeyPair,
} from "../../core/crypto/key_pairs.ts";
import { rawGenerateAndExport } from "./key_pair_baseline.ts";
import {
  importSigningEngine,
  importVerifyingEngine,
  type SignEngine,
  SIGNING_ALGORITHMS,
  type SigningAlgorithmSpec,
  type SigningKeySpec,
} from "../../core/crypto/signatures.ts";
import { generateKeyMaterial, publicKeyOfMaterial } from "../../core/key_material.ts";
import type { Kms } from "../../core/kms.ts";
import type { SecretBytes } from "../../core/secret.ts";
import { openService } from "../../main.ts";
import { cpuSeconds } from "./server_process.ts";
import { listen, type ListenerEnv } from "../../routes/listener.ts";
import { TurnBudget } from "../../routes/turn_budget.ts";
import { observeDatabaseCalls } from "../../storage/client.ts";

/** One lag over 4 ms: when (ms since the server started), how long, and how the main thread spent it. */
export interface LagEvent {
  atMs: number;
  lagMs: number;
  /** The main thread ran (JS, GC, native code called from JS). */
  ranMs: number;
  /** The main thread was runnable but waited for a CPU (other threads or processes had them). */
  cpuWaitMs: number;
}

/** What `GET /__bench/lag` answers. */
export interface LagReport {
  /** Worst delay of the 1 ms timer. */
  maxMs: number;
  /** Worst delay less the time the main thread waited for a CPU: what the process itself blocked. */
  maxOwnMs: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  /**
   * The 99th percentile of each tick's delay less the time the main thread waited for a CPU
   * in it: the lag the process caused itself, which holds on a loaded machine.
   */
  ownP99Ms: number;
  samples: number;
  over5ms: number;
  /** The first 50 lags over 4 ms. */
  events: LagEvent[];
  /** The 10 worst lags over 4 ms, worst first. */
  worst: LagEvent[];
  /**
   * Calls on the server's main-thread database connection in the window (storage/client.ts
   * `observeDatabaseCalls`): how many, the time they held the thread in all, the longest and
   * its statement. Absent for main.ts (no /__bench routes).
   */
  db?: DatabaseHold | undefined;
}

/** Time the main thread spent inside libSQL calls. */
export interface DatabaseHold {
  calls: number;
  totalMs: number;
  maxMs: number;
  maxSql: string;
  /** Per statement (first 80 characters): calls, total ms, max ms; the 8 with most total. */
  top: { sql: string; calls: number; totalMs: number; maxMs: number }[];
}

/** Adds up database calls (`observeDatabaseCalls`) since the last reset. */
class DatabaseHoldMonitor {
  #bySql = new Map<string, { calls: number; totalMs: number; maxMs: number }>();

  observe = ({ sql, heldMs }: { sql: string; heldMs: number }): void => {
    const key = sql.replace(/\s+/g, " ").slice(0, 80);
    const entry = this.#bySql.get(key) ?? { calls: 0, totalMs: 0, maxMs: 0 };
    entry.calls++;
    entry.totalMs += heldMs;
    entry.maxMs = Math.max(entry.maxMs, heldMs);
    this.#bySql.set(key, entry);
  };

  reset(): void {
    this.#bySql.clear();
  }

  report(): DatabaseHold {
    const all = [...this.#bySql].map(([sql, e]) => ({ sql, ...e }));
    const worst = all.reduce((a, b) => (b.maxMs > a.maxMs ? b : a), {
      sql: "",
      calls: 0,
      totalMs: 0,
      maxMs: 0,
    });
    return {
      calls: all.reduce((n, e) => n + e.calls, 0),
      totalMs: all.reduce((n, e) => n + e.totalMs, 0),
      maxMs: worst.maxMs,
      maxSql: worst.sql,
      top: all.sort((a, b) => b.totalMs - a.totalMs).slice(0, 8),
    };
  }
}

/**
 * The event loop's lag: a 1 ms `setTimeout` chain records how late each tick
 * fires. Each tick also reads the main thread's Linux schedstat (run time and
 * run-queue wait, ns; about 0.6 µs a read), so a late tick can be split into
 * time the thread ran, time it waited for a CPU (on 2 cores the client and
 * the server's own helper threads compete with it) and time it slept.
 */
class LagMonitor {
  #max = 0;
  #maxOwn = 0;
  #samples = 0;
  #over5 = 0;
  #buckets = new Uint32Array(1001);
  #ownBuckets = new Uint32Array(1001);
  #events: LagEvent[] = [];
  #worst: LagEvent[] = [];
  #windowStart = performance.now();
  #expected = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #schedFile: Deno.FsFile | undefined;
  #schedBuf = new Uint8Array(128);
  #ran = 0;
  #waited = 0;
  #latin1 = new TextDecoder("latin1");
  /** Called on every tick with its lag and own lag, ms (the turn budget A/B). */
  onTick: ((lagMs: number, ownMs: number) => void) | undefined;
  /** Called at the end of every tick with the tick's own duration, ms. */
  onTickDone: ((ms: number) => void) | undefined;

  /** The main thread's run time so far, ms (schedstat), for CPU per request. */
  ranMs(): number {
    this.#readSched();
    return this.#ran;
  }

  start(): void {
    try {
      this.#schedFile = Deno.openSync("/proc/thread-self/schedstat");
    } catch {
      this.#schedFile = undefined;
    }
    this.#readSched();
    this.#expected = performance.now() + 1;
    this.#timer = setTimeout(this.#tick, 1);
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#schedFile?.close();
  }

  /** Updates #ran / #waited (ms) from schedstat; returns the deltas. */
  #readSched(): [number, number] {
    if (this.#schedFile === undefined) return [0, 0];
    this.#schedFile.seekSync(0, Deno.SeekMode.Start);
    const n = this.#schedFile.readSync(this.#schedBuf) ?? 0;
    const [run, wait] = this.#latin1.decode(this.#schedBuf.subarray(0, n)).split(" ");
    const ran = Number(run) / 1e6;
    const waited = Number(wait) / 1e6;
    const deltas: [number, number] = [ran - this.#ran, waited - this.#waited];
    this.#ran = ran;
    this.#waited = waited;
    return deltas;
  }

  #tick = (): void => {
    const now = performance.now();
    const lag = Math.max(0, now - this.#expected);
    const [ran, cpuWait] = this.#readSched();
    const own = Math.max(0, lag - cpuWait);
    if (lag > this.#max) this.#max = lag;
    if (own > this.#maxOwn) this.#maxOwn = own;
    if (lag > 5) this.#over5++;
    if (lag > 4) this.#record(now, lag, ran, cpuWait);
    this.#samples++;
    this.#buckets[Math.min(1000, Math.floor(lag * 10))]!++;
    this.#ownBuckets[Math.min(1000, Math.floor(own * 10))]!++;
    this.onTick?.(lag, own);
    this.#expected = now + 1;
    this.#timer = setTimeout(this.#tick, 1);
    this.onTickDone?.(performance.now() - now);
  };

  #record(now: number, lag: number, ran: number, cpuWait: number): void {
    const round = (x: number) => Math.round(x * 10) / 10;
    const event = {
      atMs: Math.round(now),
      lagMs: round(lag),
      ranMs: round(ran),
      cpuWaitMs: round(cpuWait),
    };
    if (this.#events.length < 50) this.#events.push(event);
    if (this.#worst.length < 10 || lag > this.#worst[this.#worst.length - 1]!.lagMs) {
      this.#worst.push(event);
      this.#worst.sort((a, b) => b.lagMs - a.lagMs);
      if (this.#worst.length > 10) this.#worst.pop();
    }
  }

  reset(): void {
    this.#max = 0;
    this.#maxOwn = 0;
    this.#samples = 0;
    this.#over5 = 0;
    this.#buckets.fill(0);
    this.#ownBuckets.fill(0);
    this.#events = [];
    this.#worst = [];
    this.#windowStart = performance.now();
  }

  report(): LagReport {
    return {
      maxMs: this.#max,
      maxOwnMs: this.#maxOwn,
      p50Ms: this.#quantile(this.#buckets, 0.5),
      p99Ms: this.#quantile(this.#buckets, 0.99),
      p999Ms: this.#quantile(this.#buckets, 0.999),
      ownP99Ms: this.#quantile(this.#ownBuckets, 0.99),
      samples: this.#samples,
      over5ms: this.#over5,
      events: this.#events,
      worst: this.#worst,
    };
  }

  /** The `q` quantile of `buckets` (0.1 ms each), as its bucket's upper bound, ms. */
  #quantile(buckets: Uint32Array, q: number): number {
    const target = Math.ceil(this.#samples * q);
    let seen = 0;
    for (let i = 0; i < buckets.length; i++) {
      seen += buckets[i]!;
      if (seen >= target && target > 0) return (i + 1) / 10;
    }
    return 0;
  }
}

/** The figures of one budget in the turn budget A/B, over its windows since the last reset. */
export interface TurnModeFigures {
  budgetMs: number;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  /** The main thread's run time per request (schedstat), µs. */
  jsUsPerRequest: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagOwnP99Ms: number;
  lagMaxMs: number;
  lagOwnMaxMs: number;
  /** Requests the budget deferred, per request answered. */
  deferredPerRequest: number;
  /** Turns that admitted waiting requests, per request answered. */
  resumedTurnsPerRequest: number;
  /** Mean wait of a deferred request, ms. */
  meanWaitMs: number;
  /** Lag probe ticks per request, and the main-thread µs per request they took (wall). */
  probeTicksPerRequest: number;
  probeUsPerRequest: number;
  /** The main thread's kernel time per request (/proc stime, 10 ms ticks), µs. */
  systemUsPerRequest: number;
}

/** The main thread's kernel CPU time (stime), seconds (clock ticks of 10 ms). */
function mainThreadSystemSeconds(): number {
  const stat = Deno.readTextFileSync(`/proc/${Deno.pid}/task/${Deno.pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[12]) / 100;
}

/**
 * BENCH_TURN_AB=0,2: alternates the listener's turn budget between the given values every
 * BENCH_TURN_AB_PERIOD_MS (250) in this one process, and adds up, per value, the requests
 * answered, the main thread's run time and the lag ticks of its windows: an A/B that shares the
 * machine's load (`GET /__bench/turn-ab`).
 */
class TurnBudgetAb {
  readonly #budget: TurnBudget;
  readonly #lag: LagMonitor;
  readonly #values: number[];
  readonly #periodMs: number;
  #mode = 0;
  #modeStart = 0;
  #ranAtStart = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #modes = [] as {
    ms: number;
    requests: number;
    ranMs: number;
    lag: Uint32Array;
    own: Uint32Array;
    max: number;
    ownMax: number;
    deferred: number;
    resumedTurns: number;
    systemS: number;
    waitedMs: number;
    ticks: number;
    tickMs: number;
  }[];
  #systemAtStart = 0;
  #statsAtStart = { deferred: 0, resumedTurns: 0, waitedMs: 0 };

  constructor(budget: TurnBudget, lag: LagMonitor, values: number[], periodMs: number) {
    this.#budget = budget;
    this.#lag = lag;
    this.#values = values;
    this.#periodMs = periodMs;
    this.reset();
    lag.onTick = (lagMs, ownMs) => {
      const mode = this.#modes[this.#mode]!;
      mode.lag[Math.min(1000, Math.floor(lagMs * 10))]!++;
      mode.own[Math.min(1000, Math.floor(ownMs * 10))]!++;
      mode.max = Math.max(mode.max, lagMs);
      mode.ownMax = Math.max(mode.ownMax, ownMs);
    };
    lag.onTickDone = (ms) => {
      const mode = this.#modes[this.#mode]!;
      mode.ticks++;
      mode.tickMs += ms;
    };
  }

  start(): void {
    this.#switchTo(0);
    this.#timer = setInterval(
      () => this.#switchTo((this.#mode + 1) % this.#values.length),
      this.#periodMs,
    );
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** One request answered (counted for the budget in force when it ends). */
  answered(): void {
    this.#modes[this.#mode]!.requests++;
  }

  reset(): void {
    this.#modes = this.#values.map(() => ({
      ms: 0,
      requests: 0,
      ranMs: 0,
      lag: new Uint32Array(1001),
      own: new Uint32Array(1001),
      max: 0,
      ownMax: 0,
      deferred: 0,
      resumedTurns: 0,
      systemS: 0,
      waitedMs: 0,
      ticks: 0,
      tickMs: 0,
    }));
    this.#systemAtStart = mainThreadSystemSeconds();
    this.#statsAtStart = this.#budget.stats();
    this.#modeStart = performance.now();
    this.#ranAtStart = this.#lag.ranMs();
  }

  report(): TurnModeFigures[] {
    this.#switchTo(this.#mode); // closes the window under way
    const quantile = (buckets: Uint32Array, q: number) => {
      const total = buckets.reduce((a, b) => a + b, 0);
      const target = Math.ceil(total * q);
      let seen = 0;
      for (let i = 0; i < buckets.length; i++) {
        seen += buckets[i]!;
        if (seen >= target && target > 0) return (i + 1) / 10;
      }
      return 0;
    };
    return this.#modes.map((m, i) => ({
      budgetMs: this.#values[i]!,
      seconds: m.ms / 1000,
      requests: m.requests,
      requestsPerSecond: m.requests / Math.max(1e-9, m.ms / 1000),
      jsUsPerRequest: (m.ranMs * 1000) / Math.max(1, m.requests),
      lagP50Ms: quantile(m.lag, 0.5),
      lagP99Ms: quantile(m.lag, 0.99),
      lagOwnP99Ms: quantile(m.own, 0.99),
      lagMaxMs: m.max,
      lagOwnMaxMs: m.ownMax,
      deferredPerRequest: m.deferred / Math.max(1, m.requests),
      resumedTurnsPerRequest: m.resumedTurns / Math.max(1, m.requests),
      systemUsPerRequest: (m.systemS * 1e6) / Math.max(1, m.requests),
      meanWaitMs: m.waitedMs / Math.max(1, m.deferred),
      probeTicksPerRequest: m.ticks / Math.max(1, m.requests),
      probeUsPerRequest: (m.tickMs * 1000) / Math.max(1, m.requests),
    }));
  }

  #switchTo(next: number): void {
    const now = performance.now();
    const ran = this.#lag.ranMs();
    const mode = this.#modes[this.#mode]!;
    mode.ms += now - this.#modeStart;
    mode.ranMs += ran - this.#ranAtStart;
    const stats = this.#budget.stats();
    mode.deferred += stats.deferred - this.#statsAtStart.deferred;
    mode.resumedTurns += stats.resumedTurns - this.#statsAtStart.resumedTurns;
    mode.waitedMs += stats.waitedMs - this.#statsAtStart.waitedMs;
    this.#statsAtStart = stats;
    const system = mainThreadSystemSeconds();
    mode.systemS += system - this.#systemAtStart;
    this.#systemAtStart = system;
    this.#modeStart = now;
    this.#ranAtStart = ran;
    this.#mode = next;
    this.#budget.budgetMs = this.#values[next]!;
  }
}

const MinimalRequest = z.object({
  KeyId: z.string().min(1).max(2048),
  Plaintext: z.string().transform((value, ctx) => {
    try {
      const bytes = Uint8Array.fromBase64(value);
      if (bytes.length >= 1 && bytes.length <= 4096) return bytes;
    } catch {
      // reported below
    }
    ctx.addIssue({ code: "custom", message: "Plaintext must be 1..4096 base64 bytes" });
    return z.NEVER;
  }),
  EncryptionContext: z.record(z.string(), z.string()).optional(),
});

/** What `POST /__bench/raw-keygen` answers. */
export interface KeygenReport {
  /** Calls per second, one call at a time. */
  perSecond: number;
  /** Calls completed in the measured window. */
  n: number;
  seconds: number;
  /** CPU of the whole server process during the window, in cores (1 = one core busy). */
  processCpu: number;
  /** CPU of the server's JS main thread during the window, in cores. */
  mainThreadCpu: number;
}

/** What `POST /__bench/raw-keygen` takes. */
const KeygenRequest = z.object({
  spec: z.string().refine((s) => (DATA_KEY_PAIR_SPECS as readonly string[]).includes(s)),
  ms: z.number().int().min(10).max(60_000),
  fn: z.enum(["rawGenerateAndExport", "generateKeyPair"]).default("rawGenerateAndExport"),
});

/** What a sequential in-process loop measured: a `KeygenReport` plus the longest call. */
export interface SequentialReport extends KeygenReport {
  /**
   * Wall time of the longest single call in the window, ms. For work that runs synchronously
   * on the main thread it is the longest the event loop was held by one call.
   */
  maxCallMs: number;
  /** Wall time of a call at the 99th percentile of the window, ms. */
  p99CallMs: number;
}

/** Calls `call` back to back for `ms` after a warm-up of a fifth of that (≤ 300 ms). */
async function measureSequential(
  call: () => Promise<unknown>,
  ms: number,
): Promise<SequentialReport> {
  const warmupEnd = performance.now() + Math.min(300, ms / 5);
  while (performance.now() < warmupEnd) await call();
  const p0 = cpuSeconds(Deno.pid);
  const m0 = cpuSeconds(Deno.pid, Deno.pid);
  const start = performance.now();
  const end = start + ms;
  let n = 0;
  const callMs: number[] = [];
  let last = start;
  while (last < end) {
    await call();
    const now = performance.now();
    callMs.push(now - last);
    last = now;
    n++;
  }
  const seconds = (performance.now() - start) / 1000;
  const sorted = Float64Array.from(callMs).sort();
  return {
    perSecond: n / seconds,
    n,
    seconds,
    processCpu: (cpuSeconds(Deno.pid) - p0) / seconds,
    mainThreadCpu: (cpuSeconds(Deno.pid, Deno.pid) - m0) / seconds,
    maxCallMs: sorted.at(-1) ?? 0,
    p99CallMs: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0,
  };
}

async function keygenHandler(request: Request): Promise<Response> {
  const parsed = KeygenRequest.safeParse(await request.json().catch(() => undefined));
  if (!parsed.success) return Response.json({ error: parsed.error.message }, { status: 400 });
  const { spec, ms, fn } = parsed.data;
  const pairSpec = spec as DataKeyPairSpec;
  const generate = fn === "generateKeyPair"
    ? () => generateKeyPair(pairSpec).then((pair) => pair.privateKey.wipe())
    : () => rawGenerateAndExport(pairSpec);
  return Response.json(await measureSequential(generate, ms));
}

/** What `POST /__bench/raw-sign` answers. */
export type SignReport = SequentialReport;

/** What `POST /__bench/raw-sign` takes. */
const RawSignRequest = z.object({
  spec: z.string().refine((s) => Object.hasOwn(SIGNING_ALGORITHMS, s)),
  algorithm: z.string(),
  op: z.enum(["sign", "verify"]),
  ms: z.number().int().min(10).max(60_000),
  keyId: z.string().min(1).optional(),
  messageBytes: z.number().int().min(0).max(4096).default(256),
});

/**
 * The private key material to import: the KMS key's version 1 (the service's cached copy, not
 * wiped here) or fresh material of `spec` (wiped by `done`). Undefined when the key is unknown.
 */
async function signingMaterial(
  kms: Kms,
  spec: SigningKeySpec,
  keyId: string | undefined,
): Promise<{ material: SecretBytes; done: () => void } | undefined> {
  if (keyId !== undefined) {
    const stored = await kms.material(keyId, 1);
    return stored === null ? undefined : { material: stored.material, done: () => {} };
  }
  const material = await generateKeyMaterial(spec, kms.keyPairs);
  return { material, done: () => material.wipe() };
}

/** Imports the key once, then loops `op` over one RAW message; undefined for an unknown key. */
async function measureRawSign(
  kms: Kms,
  request: z.infer<typeof RawSignRequest>,
): Promise<SignReport | undefined> {
  const spec = request.spec as SigningKeySpec;
  const algorithm = request.algorithm as SigningAlgorithmSpec;
  const source = await signingMaterial(kms, spec, request.keyId);
  if (source === undefined) return undefined;
  let spki: Uint8Array;
  let sign: SignEngine;
  try {
    spki = publicKeyOfMaterial(spec, source.material);
    sign = importSigningEngine(spec, source.material.expose());
  } finally {
    source.done();
  }
  const verify = importVerifyingEngine(spec, spki);
  const message = crypto.getRandomValues(new Uint8Array(request.messageBytes));
  const signature = sign(algorithm, message, false);
  const verifyOnce = () => {
    if (!verify(algorithm, message, false, signature)) {
      throw new Error(`${spec} ${algorithm}: the signature does not verify`);
    }
    return Promise.resolve();
  };
  await verifyOnce();
  const call = request.op === "sign"
    ? () => Promise.resolve(sign(algorithm, message, false))
    : verifyOnce;
  return await measureSequential(call, request.ms);
}

function rawSignHandler(kms: Kms): (request: Request) => Promise<Response> {
  return async (request) => {
    const parsed = RawSignRequest.safeParse(await request.json().catch(() => undefined));
    if (!parsed.success) return Response.json({ error: parsed.error.message }, { status: 400 });
    try {
      const report = await measureRawSign(kms, parsed.data);
      if (report === undefined) return Response.json({ error: "no such key" }, { status: 404 });
      return Response.json(report);
    } catch (error) {
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return Response.json({ error: text }, { status: 500 });
    }
  };
}

const JSON_HEADERS = { "content-type": "application/x-amz-json-1.1" };
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const utf8 = new TextEncoder();

/** The minimal endpoint: parse + validate + one AES-256-GCM encrypt. */
function minimalHandler(key: CryptoKey): (request: Request) => Promise<Response> {
  return async (request) => {
    const body = new Uint8Array(await request.arrayBuffer());
    let json: unknown;
    try {
      json = JSON.parse(utf8Decoder.decode(body));
    } catch {
      return new Response('{"__type":"SerializationException"}', {
        status: 400,
        headers: JSON_HEADERS,
      });
    }
    const parsed = MinimalRequest.safeParse(json);
    if (!parsed.success) {
      return new Response('{"__type":"ValidationException"}', {
        status: 400,
        headers: JSON_HEADERS,
      });
    }
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: utf8.encode(parsed.data.KeyId) },
      key,
      parsed.data.Plaintext,
    );
    const blob = new Uint8Array(12 + sealed.byteLength);
    blob.set(iv, 0);
    blob.set(new Uint8Array(sealed), 12);
    return new Response(
      JSON.stringify({ CiphertextBlob: blob.toBase64(), KeyId: parsed.data.KeyId }),
      { status: 200, headers: JSON_HEADERS },
    );
  };
}

async function main(): Promise<void> {
  const config = parseConfig(Deno.env.toObject());
  // BENCH_AUDIT=off: no audit log at all, the baseline the audit log's cost is measured against.
  const dbHold = new DatabaseHoldMonitor();
  observeDatabaseCalls(dbHold.observe);
  const service = await openService(config, { audit: Deno.env.get("BENCH_AUDIT") !== "off" });
  const lag = new LagMonitor();
  lag.start();
  const turnBudget = new TurnBudget(config.connectionLimits.turnBudgetMs);
  const abValues = (Deno.env.get("BENCH_TURN_AB") ?? "").split(",").filter((v) => v.trim() !== "")
    .map(Number);
  const ab = abValues.length > 1
    ? new TurnBudgetAb(
      turnBudget,
      lag,
      abValues,
      Number(Deno.env.get("BENCH_TURN_AB_PERIOD_MS") ?? "250"),
    )
    : undefined;
  ab?.start();
  const minimalKey = await crypto.subtle.importKey(
    "raw",
    crypto.getRandomValues(new Uint8Array(32)),
    "AES-GCM",
    false,
    ["encrypt"],
  );
  const minimal = minimalHandler(minimalKey);
  const rawSign = rawSignHandler(service.kms);
  const appFetch = service.app.fetch;
  const handler = (
    request: Request,
    info: ListenerEnv,
  ): Response | Promise<Response> => {
    const url = request.url;
    const at = url.indexOf("/__bench/");
    // The peer address goes on as main.ts hands it (source IP of audit records and budgets).
    if (at < 0) {
      if (ab === undefined) return appFetch(request, info);
      return Promise.resolve(appFetch(request, info)).finally(() => ab.answered());
    }
    const path = url.slice(at);
    if (path === "/__bench/minimal" && request.method === "POST") {
      if (ab === undefined) return minimal(request);
      return minimal(request).finally(() => ab.answered());
    }
    if (path === "/__bench/turn-ab") return Response.json(ab?.report() ?? []);
    if (path === "/__bench/turn-budget") return Response.json(turnBudget.stats());
    if (path === "/__bench/lag") return Response.json({ ...lag.report(), db: dbHold.report() });
    if (path === "/__bench/lag/reset" && request.method === "POST") {
      lag.reset();
      dbHold.reset();
      ab?.reset();
      return Response.json({ ok: true });
    }
    if (path === "/__bench/raw-keygen" && request.method === "POST") return keygenHandler(request);
    if (path === "/__bench/raw-sign" && request.method === "POST") return rawSign(request);
    if (path === "/__bench/pool") return Response.json(service.keyPairPool.stats());
    return new Response("not found", { status: 404 });
  };
  // main.ts's listener (routes/listener.ts); BENCH_LISTENER=deno measures plain Deno.serve.
  const server = Deno.env.get("BENCH_LISTENER") === "deno"
    ? Deno.serve({
      hostname: "127.0.0.1",
      port: config.port,
      onListen: ({ port }) => console.log(JSON.stringify({ port, pid: Deno.pid })),
    }, (request, info) =>
      handler(request, { remoteAddr: info.remoteAddr as ListenerEnv["remoteAddr"] }))
    : await listen(handler, {
      hostname: "127.0.0.1",
      port: config.port,
      log: () => {},
      ...config.connectionLimits,
      turnBudget,
    });
  if (!("finished" in server)) {
    console.log(JSON.stringify({ port: server.addr.port, pid: Deno.pid }));
  }
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    lag.stop();
    ab?.stop();
    await server.shutdown();
    await service.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

if (import.meta.main) await main();
