/**
 * KMS_WORKERS=1 against KMS_WORKERS=2 (issue 15 scope 1), as A/B pairs alternated in one run:
 * two servers (main.ts as child processes, one database each, default logging, audit on) are
 * started at once and, once every isolate answers, warmed up (2 s of each operation); then for
 * each round and operation (GenerateDataKey, Encrypt and Decrypt of 1 KiB) each server in turn
 * gets requests signed right then (8 per operation, valid 5 minutes) replayed at a fixed
 * concurrency, a 1 s warm-up and then a fixed time, and the figures are:
 * requests/s, p50/p99, and the server's CPU µs per request over all its threads (utime + stime of
 * /proc/<pid>/stat), split by thread name (/proc/<pid>/task/<tid>: `deno` the main thread,
 * `worker-N` the isolates and their writer and crypto workers, `tokio-runtime-w` the runtime's
 * blocking pool, which runs WebCrypto and file operations, `V8 DefaultWorke` V8's GC and
 * compiler helpers) with each thread name's voluntary / involuntary context switches and
 * read+write syscalls (/proc/…/status, /proc/…/io) per request, and the client's CPU µs per
 * request.
 *
 * The client (BENCH_CLIENT): `wrk` (default; tests/bench/wrk.ts: one C thread replaying the
 * pre-signed requests from a generated Lua script, its CPU from its own /proc/self/stat, every
 * non-200 reply an error), `raw` (this process's pre-serialised HTTP/1.1 client,
 * tests/bench/load.ts; the fallback, with a note, when wrk is not installed) or `fetch` (Deno's
 * fetch, what the bench used before: 150-170 µs of client CPU per request).
 *
 * Each window also gives the cores the machine's other processes kept busy (/proc/stat busy time
 * less the server's and the client's): on a shared machine, the measure to judge the rates by.
 *
 * The physical ceiling: with the client's c and the 1-worker server's s CPU µs per request, the
 * machine's cores cap the total rate at cores × 1e6 / (c + s) requests/s whatever the isolates
 * do; it is printed beside the measured ratio, as a multiple of the 1-worker rate.
 *
 *   npx -y deno@2.9.6 task bench:workers
 *
 * Both servers start with the V8 flags of `deno task start` (`BENCH_START_FLAGS=off`: none).
 *
 * Knobs: BENCH_SECONDS (per measure, whole seconds for wrk, default 4), BENCH_ROUNDS (default 2),
 * BENCH_CONCURRENCY (default 16; a comma list, e.g. `16,64`, measures each, alternated within
 * every round), BENCH_WORKERS (the "N" side, default 2), BENCH_CLIENT,
 * BENCH_PARALLEL_PROBE=1 (first, the machine's own cost of two busy threads against one, without
 * the KMS: see `parallelProbe`), BENCH_PERF=1 (the server's syscalls per request per thread name
 * and kind, epoll_wait, futex, reads, writes, disk, counted by `perf stat` at the kernel's
 * tracepoints: tests/bench/wrk_syscalls.ts).
 *
 * @module
 */
import { ADMIN, REGION } from "../tests/helpers/server.ts";
import { kmsEnv } from "../tests/helpers/kms_process.ts";
import { cpuSeconds, machineBusySeconds, waitForIsolates } from "../tests/bench/server_process.ts";
import { type PresignedRequest, presignMany, type SigningTarget } from "../tests/bench/signing.ts";
import { runLoad } from "../tests/bench/load.ts";
import { runWrk, wrkPath } from "../tests/bench/wrk.ts";
import {
  countSyscalls,
  perfPath,
  SYSCALL_GROUPS,
  type SyscallCounts,
  type SyscallWindow,
} from "../tests/bench/wrk_syscalls.ts";
import { benchServerV8Flags } from "./start_flags.ts";

const ROOT = new URL("../", import.meta.url);
const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 4);
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 2);
/** Requests in flight; a comma list measures each (alternated within every round). */
const CONCURRENCIES = (Deno.env.get("BENCH_CONCURRENCY") ?? "16").split(",")
  .map((c) => Math.round(Number(c.trim()))).filter((c) => Number.isFinite(c) && c >= 1);
const N = Number(Deno.env.get("BENCH_WORKERS") ?? 2);
const WARMUP_SECONDS = 1;
/** Distinct signed requests per operation, replayed round-robin. */
const SIGNED_PER_OPERATION = 8;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux
const OPERATIONS = ["GenerateDataKey", "Encrypt", "Decrypt"] as const;

/** The load generator: wrk when installed (or asked for), else this process's raw client. */
type Client = { kind: "wrk"; path: string } | { kind: "raw" } | { kind: "fetch" };

function chooseClient(): Client {
  const asked = Deno.env.get("BENCH_CLIENT") ?? "wrk";
  if (asked === "raw" || asked === "fetch") return { kind: asked };
  const path = wrkPath();
  if (path !== undefined) return { kind: "wrk", path };
  console.log(
    "note: wrk is not installed (apt-get install -y wrk); falling back to the Deno raw client, " +
      "which shares this machine's cores with the server at a higher CPU cost per request",
  );
  return { kind: "raw" };
}

interface Server {
  workers: number;
  url: string;
  port: number;
  child: Deno.ChildProcess;
  keyId: string;
  ciphertext: string;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Per thread name: CPU seconds, context switches and read/write syscalls, summed. */
interface ThreadCounters {
  cpu: number;
  voluntary: number;
  involuntary: number;
  syscalls: number;
}

const COUNTER_NAMES = ["cpu", "voluntary", "involuntary", "syscalls"] as const;

function statusField(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status);
  return match === null ? 0 : Number(match[1]);
}

function ioField(io: string, name: string): number {
  const match = new RegExp(`^${name}: (\\d+)`, "m").exec(io);
  return match === null ? 0 : Number(match[1]);
}

/**
 * The counters of each thread name of a process (/proc/<pid>/task/<tid>: comm, stat, status and
 * io): `deno` the main thread, `worker-N` the isolates and their writer and crypto workers,
 * `tokio-runtime-w` the runtime's blocking pool, `V8 DefaultWorke` V8's GC and compiler helpers.
 */
function threadCounters(pid: number): Map<string, ThreadCounters> {
  const names = new Map<string, ThreadCounters>();
  for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const task = `/proc/${pid}/task/${entry.name}`;
      const name = Deno.readTextFileSync(`${task}/comm`).trim();
      const cpu = cpuSeconds(pid, Number(entry.name));
      const status = Deno.readTextFileSync(`${task}/status`);
      const io = Deno.readTextFileSync(`${task}/io`);
      if (Number.isNaN(cpu)) continue;
      const sum = names.get(name) ?? { cpu: 0, voluntary: 0, involuntary: 0, syscalls: 0 };
      sum.cpu += cpu;
      sum.voluntary += statusField(status, "voluntary_ctxt_switches");
      sum.involuntary += statusField(status, "nonvoluntary_ctxt_switches");
      sum.syscalls += ioField(io, "syscr") + ioField(io, "syscw");
      names.set(name, sum);
    } catch { /* the thread ended */ }
  }
  return names;
}

/** `after - before` per thread name, divided by `count` (threads that ended count as 0). */
function perRequest(
  before: Map<string, ThreadCounters>,
  after: Map<string, ThreadCounters>,
  count: number,
): Map<string, ThreadCounters> {
  const out = new Map<string, ThreadCounters>();
  for (const [name, a] of after) {
    const b = before.get(name) ?? { cpu: 0, voluntary: 0, involuntary: 0, syscalls: 0 };
    out.set(name, {
      cpu: (a.cpu - b.cpu) * 1e6 / count,
      voluntary: (a.voluntary - b.voluntary) / count,
      involuntary: (a.involuntary - b.involuntary) / count,
      syscalls: (a.syscalls - b.syscalls) / count,
    });
  }
  return out;
}

function total(threads: Map<string, ThreadCounters>): ThreadCounters {
  const sum = { cpu: 0, voluntary: 0, involuntary: 0, syscalls: 0 };
  for (const t of threads.values()) for (const k of COUNTER_NAMES) sum[k] += t[k];
  return sum;
}

/** CPU ticks (user + system, all threads) of a process. */
function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

async function startServer(workers: number, dir: string): Promise<Server> {
  const port = freePort();
  const env = {
    ...kmsEnv(`file:${dir}/kms.db`, `${dir}/root.key`),
    KMS_PORT: String(port),
    KMS_WORKERS: String(workers),
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.env.get("HOME") ?? "",
  };
  const child = new Deno.Command(Deno.execPath(), {
    // The V8 flags of `deno task start` (deno.json): what users run.
    args: ["run", "--allow-all", ...benchServerV8Flags(), "main.ts"],
    cwd: ROOT,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const response = await fetch(`${url}/ready`);
      await response.body?.cancel();
      if (response.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`server (${workers} workers) did not start`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await waitForIsolates(port, workers);
  const server = { workers, url, port, child, keyId: "", ciphertext: "" };
  const { KeyMetadata } = await call(server, "CreateKey", {}) as unknown as {
    KeyMetadata: { KeyId: string };
  };
  server.keyId = KeyMetadata.KeyId;
  const { CiphertextBlob } = await call(server, "Encrypt", {
    KeyId: server.keyId,
    Plaintext: PLAINTEXT,
  });
  server.ciphertext = CiphertextBlob!;
  return server;
}

const PLAINTEXT = new Uint8Array(1024).fill(7).toBase64();

function targetOf(server: { port: number }): SigningTarget {
  return {
    host: `127.0.0.1:${server.port}`,
    region: REGION,
    accessKeyId: ADMIN.accessKeyId,
    secretAccessKey: ADMIN.secretAccessKey,
  };
}

async function call(
  server: { url: string; port: number },
  operation: string,
  body: unknown,
): Promise<Record<string, string>> {
  const [request] = await presignMany(targetOf(server), operation, 1, () => body);
  const headers = { ...request!.headers };
  delete headers.host;
  delete headers["content-length"];
  const response = await fetch(server.url, { method: "POST", headers, body: request!.body });
  const json = await response.json();
  if (!response.ok) throw new Error(`${operation}: ${JSON.stringify(json)}`);
  return json;
}

/** Requests of `operation` for `server`, signed now (valid 5 minutes). */
function signNow(server: Server, operation: string): Promise<PresignedRequest[]> {
  const payload = operation === "GenerateDataKey"
    ? { KeyId: server.keyId, KeySpec: "AES_256" }
    : operation === "Encrypt"
    ? { KeyId: server.keyId, Plaintext: PLAINTEXT }
    : { CiphertextBlob: server.ciphertext };
  return presignMany(targetOf(server), operation, SIGNED_PER_OPERATION, () => payload);
}

/** What one measure gave: rate, CPU µs per request of the server, its threads and the client. */
interface Figure {
  rps: number;
  cpuUs: number;
  clientUs: number;
  p50Ms: number;
  p99Ms: number;
  /** Per thread name, per request: CPU µs, context switches, read/write syscalls. */
  threads: Map<string, ThreadCounters>;
  /** The share of the replies each isolate served (`x-kms-isolate`), e.g. "0 52%, 1 48%". */
  spread: string;
  /** BENCH_PERF=1: per thread name, syscalls per request by group (SYSCALL_GROUPS). */
  syscalls: SyscallCounts;
  /** Cores the machine's other processes kept busy in the window (neither server nor client). */
  otherCores: number;
}

/** The server's counters at the start of a window. */
interface Snapshot {
  ticks: number;
  threads: Map<string, ThreadCounters>;
  client: number;
  at: number;
  syscalls: SyscallWindow | undefined;
  busy: number;
}

/** BENCH_PERF=1: `perf` counts the server's syscalls per thread name in each window. */
const PERF = Deno.env.get("BENCH_PERF") === "1" ? perfPath() : undefined;
if (Deno.env.get("BENCH_PERF") === "1" && PERF === undefined) {
  console.log("note: BENCH_PERF=1 but perf is not installed (apt-get install -y linux-perf)");
}

function snapshot(server: Server): Snapshot {
  return {
    ticks: cpuTicks(server.child.pid),
    threads: threadCounters(server.child.pid),
    client: cpuSeconds("self"),
    at: performance.now(),
    syscalls: PERF === undefined ? undefined : countSyscalls(PERF, server.child.pid),
    busy: machineBusySeconds(),
  };
}

async function figureOf(
  server: Server,
  start: Snapshot,
  count: number,
  client: { seconds: number; cpuSeconds: number; p50Ms: number; p99Ms: number },
): Promise<Figure> {
  const ticks = cpuTicks(server.child.pid) - start.ticks;
  const busy = machineBusySeconds() - start.busy;
  const windowSeconds = (performance.now() - start.at) / 1000;
  const syscalls: SyscallCounts = new Map();
  for (const [name, groups] of await start.syscalls?.stop() ?? []) {
    syscalls.set(name, Object.fromEntries(Object.entries(groups).map(([g, n]) => [g, n / count])));
  }
  return {
    rps: count / client.seconds,
    cpuUs: (ticks / TICKS_PER_SECOND) * 1e6 / count,
    clientUs: client.cpuSeconds * 1e6 / count,
    p50Ms: client.p50Ms,
    p99Ms: client.p99Ms,
    threads: perRequest(start.threads, threadCounters(server.child.pid), count),
    spread: "",
    syscalls,
    otherCores: Math.max(0, busy - ticks / TICKS_PER_SECOND - client.cpuSeconds) / windowSeconds,
  };
}

/** "0 52%, 1 48%": each isolate's share of the replies. */
function spreadOf(servedBy: Record<string, number>): string {
  const all = Object.values(servedBy).reduce((a, b) => a + b, 0);
  return Object.entries(servedBy).sort(([a], [b]) => a < b ? -1 : 1)
    .map(([isolate, n]) => `${isolate} ${(n * 100 / all).toFixed(0)}%`).join(", ");
}

/** wrk: a warm-up run, then the measured run with the server sampled from wrk's start to end. */
async function measureWrk(
  path: string,
  server: Server,
  requests: PresignedRequest[],
  concurrency: number,
): Promise<Figure> {
  const spec = { url: server.url, requests: wrkRequests(requests), connections: concurrency };
  const warm = await runWrk(path, { ...spec, seconds: WARMUP_SECONDS });
  if (warm.non200 + warm.socketErrors > 0) throw new Error(`warm-up failed: ${warm.firstError}`);
  let start: Snapshot | undefined;
  const result = await runWrk(path, { ...spec, seconds: SECONDS }, () => start = snapshot(server));
  const failed = result.non200 + result.socketErrors;
  if (failed > 0) {
    throw new Error(`${failed} of ${result.requests} requests failed: ${result.firstError}`);
  }
  return {
    ...await figureOf(server, start!, result.requests, result),
    spread: spreadOf(result.servedBy),
  };
}

/**
 * Before the first round, each operation for 2 s on `server` (this process's raw client): a new
 * isolate's first seconds (compiling, filling caches) would otherwise land in the first measure.
 */
async function warmUp(server: Server): Promise<void> {
  for (const operation of OPERATIONS) {
    const result = await runLoad({
      transport: "raw",
      url: `${server.url}/`,
      requests: await signNow(server, operation),
      connections: CONCURRENCIES[0] ?? 16,
      startAt: Date.now(),
      warmupMs: 0,
      durationMs: 2_000,
    });
    if (result.errors > 0) throw new Error(`warm-up: ${result.firstError}`);
  }
}

function wrkRequests(requests: PresignedRequest[]) {
  return requests.map((request) => ({
    method: "POST",
    path: "/",
    headers: request.headers,
    body: request.body,
  }));
}

/** This process's raw HTTP/1.1 client (tests/bench/load.ts), warm-up then the window. */
async function measureRaw(
  server: Server,
  requests: PresignedRequest[],
  concurrency: number,
): Promise<Figure> {
  const startAt = Date.now() + 20;
  const loading = runLoad({
    transport: "raw",
    url: `${server.url}/`,
    requests,
    connections: concurrency,
    startAt,
    warmupMs: WARMUP_SECONDS * 1000,
    durationMs: SECONDS * 1000,
  });
  await new Promise((resolve) => setTimeout(resolve, startAt + WARMUP_SECONDS * 1000 - Date.now()));
  const start = snapshot(server);
  const result = await loading;
  if (result.errors > 0) throw new Error(`${result.errors} requests failed: ${result.firstError}`);
  const sorted = result.latencies.sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const figure = await figureOf(server, start, result.completed, {
    seconds: SECONDS,
    cpuSeconds: cpuSeconds("self") - start.client,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  });
  return { ...figure, spread: spreadOf(result.servedBy) };
}

/** `fetch()` with the runtime's keep-alive pool (what an SDK uses), warm-up then the window. */
async function measureFetch(
  server: Server,
  requests: PresignedRequest[],
  concurrency: number,
): Promise<Figure> {
  const inits = requests.map((request) => {
    const headers = { ...request.headers };
    delete headers.host;
    delete headers["content-length"];
    return { method: "POST", headers, body: request.body };
  });
  let count = 0;
  let errors = 0;
  let measuring = false;
  let stopAt = Date.now() + WARMUP_SECONDS * 1000;
  const latencies: number[] = [];
  const servedBy: Record<string, number> = {};
  const loop = async (offset: number) => {
    for (let i = offset; Date.now() < stopAt; i++) {
      const started = performance.now();
      const response = await fetch(server.url, inits[i % inits.length]!);
      await response.arrayBuffer();
      if (response.status !== 200) errors++;
      else if (measuring) {
        count++;
        latencies.push(performance.now() - started);
        const isolate = response.headers.get("x-kms-isolate") ?? "-";
        servedBy[isolate] = (servedBy[isolate] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => loop(i)));
  measuring = true;
  const start = snapshot(server);
  stopAt = Date.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: concurrency }, (_, i) => loop(i)));
  if (errors > 0) throw new Error(`${errors} requests failed`);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * count))]!;
  const figure = await figureOf(server, start, count, {
    seconds: (performance.now() - start.at) / 1000,
    cpuSeconds: cpuSeconds("self") - start.client,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  });
  return { ...figure, spread: spreadOf(servedBy) };
}

async function measure(
  client: Client,
  server: Server,
  operation: string,
  concurrency: number,
): Promise<Figure> {
  const requests = await signNow(server, operation);
  if (client.kind === "wrk") return await measureWrk(client.path, server, requests, concurrency);
  if (client.kind === "raw") return await measureRaw(server, requests, concurrency);
  return await measureFetch(server, requests, concurrency);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Per thread name, the mean of each counter over `figures`. */
function meanThreads(figures: Figure[]): Map<string, ThreadCounters> {
  const out = new Map<string, ThreadCounters>();
  for (const figure of figures) {
    for (const [name, t] of figure.threads) {
      const sum = out.get(name) ?? { cpu: 0, voluntary: 0, involuntary: 0, syscalls: 0 };
      for (const k of COUNTER_NAMES) sum[k] += t[k] / figures.length;
      out.set(name, sum);
    }
  }
  return out;
}

/** The per-thread table of one operation: 1 worker against N, per request. */
function printThreadTable(operation: string, one: Figure[], many: Figure[]): void {
  const a = meanThreads(one);
  const b = meanThreads(many);
  console.log(
    `\n${operation}, per request (1 worker → ${N}): CPU µs | voluntary / involuntary context ` +
      "switches | read+write syscalls",
  );
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  const rows: [string, ThreadCounters, ThreadCounters][] = names
    .map((name) => [name, a.get(name) ?? zero(), b.get(name) ?? zero()]);
  rows.push(["all threads", total(a), total(b)]);
  for (const [name, x, y] of rows) {
    if (x.cpu < 0.5 && y.cpu < 0.5 && x.voluntary < 0.005 && y.voluntary < 0.005) continue;
    console.log(
      `  ${name.padEnd(16)} ${x.cpu.toFixed(0).padStart(4)} → ${y.cpu.toFixed(0).padEnd(4)} | ` +
        `${x.voluntary.toFixed(2)} / ${x.involuntary.toFixed(2)} → ` +
        `${y.voluntary.toFixed(2)} / ${y.involuntary.toFixed(2)} | ` +
        `${x.syscalls.toFixed(2)} → ${y.syscalls.toFixed(2)}`,
    );
  }
}

/** Per thread name and group, the mean syscalls per request over `figures`. */
function meanSyscalls(figures: Figure[]): SyscallCounts {
  const out: SyscallCounts = new Map();
  for (const figure of figures) {
    for (const [name, groups] of figure.syscalls) {
      const row = out.get(name) ?? {};
      for (const [group, n] of Object.entries(groups)) {
        row[group] = (row[group] ?? 0) + n / figures.length;
      }
      out.set(name, row);
    }
  }
  return out;
}

/** BENCH_PERF=1: syscalls per request by thread name and group, 1 worker against N. */
function printSyscallTable(operation: string, one: Figure[], many: Figure[]): void {
  const a = meanSyscalls(one);
  const b = meanSyscalls(many);
  if (a.size === 0 && b.size === 0) return;
  const groups = Object.keys(SYSCALL_GROUPS);
  console.log(
    `\n${operation}, syscalls per request (1 worker → ${N}), perf: ${groups.join(" | ")}`,
  );
  const sumOf = (counts: SyscallCounts) => {
    const sum: Record<string, number> = {};
    for (const row of counts.values()) {
      for (const [g, n] of Object.entries(row)) sum[g] = (sum[g] ?? 0) + n;
    }
    return sum;
  };
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  const rows: [string, Record<string, number>, Record<string, number>][] = names
    .map((name) => [name, a.get(name) ?? {}, b.get(name) ?? {}]);
  rows.push(["all threads", sumOf(a), sumOf(b)]);
  for (const [name, x, y] of rows) {
    if ((x.all ?? 0) < 0.01 && (y.all ?? 0) < 0.01) continue;
    const cells = groups.map((g) => `${(x[g] ?? 0).toFixed(2)} → ${(y[g] ?? 0).toFixed(2)}`);
    console.log(`  ${name.padEnd(16)} ${cells.join(" | ")}`);
  }
}

function zero(): ThreadCounters {
  return { cpu: 0, voluntary: 0, involuntary: 0, syscalls: 0 };
}

/**
 * The work unit of the parallel probe, run by a Worker from a Blob URL: JSON parse and
 * stringify of a 1 KiB request, a string hash over it and a small Map, as a request's JS does,
 * and 64 reads at random places of the thread's own 8 MiB table (past the core's L2 cache, as a
 * server's heap is), so two threads also share what caches and memory share.
 */
const PROBE_WORKER = `
const body = JSON.stringify({ KeyId: "1234abcd-12ab-34cd-56ef-1234567890ab", Plaintext: "A".repeat(1368) });
const table = new Int32Array(2 * 1024 * 1024).map((_, i) => i * 2654435761);
self.onmessage = (event) => {
  let acc = 0;
  for (let i = 0; i < event.data; i++) {
    const request = JSON.parse(body);
    request.n = i;
    const text = JSON.stringify(request);
    let h = 0;
    for (let j = 0; j < text.length; j += 4) h = (h * 31 + text.charCodeAt(j)) | 0;
    const m = new Map();
    for (let j = 0; j < 16; j++) m.set("k" + j, h + j);
    for (let j = 0; j < 64; j++) h = (h ^ table[(h >>> 0) % table.length]) * 16777619 | 0;
    acc += m.size + (h & 1);
  }
  self.postMessage(acc);
};`;
const PROBE_UNITS = 150_000;

/**
 * BENCH_PARALLEL_PROBE=1: the machine's own tax on running two threads at once, without the KMS.
 * The same work in one thread, then in two at once (alternated, 3 rounds each), CPU µs per unit
 * of this process (/proc/self/stat). On two free cores two threads cost what one does; what they
 * cost above it (shared caches and memory bandwidth, vCPUs that are a host's hyperthreads, the
 * machine's other load) is a floor under 2 isolates' CPU per request against one isolate's.
 */
async function parallelProbe(): Promise<void> {
  const url = URL.createObjectURL(new Blob([PROBE_WORKER], { type: "application/javascript" }));
  const workers = [0, 1].map(() => new Worker(url, { type: "module" }));
  const run = (worker: Worker) =>
    new Promise((resolve) => {
      worker.onmessage = resolve;
      worker.postMessage(PROBE_UNITS);
    });
  try {
    await Promise.all(workers.map(run)); // warm-up: both compiled
    const perUnit = new Map<number, number[]>([[1, []], [2, []]]);
    for (let round = 0; round < 6; round++) {
      const threads = round % 2 === 0 ? 1 : 2;
      const c0 = cpuSeconds("self");
      await Promise.all(workers.slice(0, threads).map(run));
      perUnit.get(threads)!.push((cpuSeconds("self") - c0) * 1e6 / (PROBE_UNITS * threads));
    }
    const one = mean(perUnit.get(1)!);
    const two = mean(perUnit.get(2)!);
    const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(" ");
    console.log(
      `parallel probe (the same JS work, no KMS): 1 thread ${list(perUnit.get(1)!)}, 2 threads ` +
        `${list(perUnit.get(2)!)} CPU µs/unit: ×${(two / one).toFixed(2)} at 2 threads`,
    );
  } finally {
    for (const worker of workers) worker.terminate();
    URL.revokeObjectURL(url);
  }
}

/** Every operation at every concurrency, each labelled (with "@c" when several). */
const CASES = OPERATIONS.flatMap((operation) =>
  CONCURRENCIES.map((concurrency) => ({
    operation,
    concurrency,
    label: CONCURRENCIES.length > 1 ? `${operation} @${concurrency}` : operation,
  }))
);

/** One measure's line: rate, latency, CPU per request by thread name, client, spread. */
function describe(figure: Figure, workers: number): string {
  const threads = [...figure.threads].filter(([, t]) => t.cpu >= 0.5)
    .sort(([a], [b]) => a < b ? -1 : 1).map(([name, t]) => `${name} ${t.cpu.toFixed(0)}`);
  return `${figure.rps.toFixed(0)} req/s, p50 ${figure.p50Ms.toFixed(2)} ` +
    `p99 ${figure.p99Ms.toFixed(2)} ms, ${figure.cpuUs.toFixed(0)} CPU µs/request ` +
    `(${threads.join(", ")}), client ${figure.clientUs.toFixed(0)} µs/request` +
    (workers > 1 && figure.spread !== "" ? `, served by isolate ${figure.spread}` : "") +
    `, other processes ${figure.otherCores.toFixed(2)} cores`;
}

/** The summary table: rates, CPU per request and their ratios, the client, the ceiling. */
function printSummary(results: Map<string, Figure[]>): void {
  const cores = navigator.hardwareConcurrency;
  console.log(
    "\noperation            | 1 worker req/s | N req/s | ratio | 1w CPU µs | N CPU µs | ratio | " +
      "client µs | ceiling req/s | ceiling ratio | other cores",
  );
  for (const { label } of CASES) {
    const one = results.get(`${label} workers=1`)!;
    const many = results.get(`${label} workers=${N}`)!;
    const oneRps = mean(one.map((f) => f.rps));
    const oneUs = mean(one.map((f) => f.cpuUs));
    const clientUs = mean([...one, ...many].map((f) => f.clientUs));
    // Every core busy with this client and the 1-worker server's cost per request.
    const ceiling = cores * 1e6 / (clientUs + oneUs);
    console.log(
      [
        label.padEnd(20),
        oneRps.toFixed(0).padStart(14),
        mean(many.map((f) => f.rps)).toFixed(0).padStart(7),
        (mean(many.map((f) => f.rps)) / oneRps).toFixed(2).padStart(5),
        oneUs.toFixed(0).padStart(9),
        mean(many.map((f) => f.cpuUs)).toFixed(0).padStart(8),
        (mean(many.map((f) => f.cpuUs)) / oneUs).toFixed(2).padStart(5),
        clientUs.toFixed(0).padStart(9),
        ceiling.toFixed(0).padStart(13),
        (ceiling / oneRps).toFixed(2).padStart(13),
        mean([...one, ...many].map((f) => f.otherCores)).toFixed(2).padStart(11),
      ].join(" | "),
    );
  }
  console.log(
    `ceiling = ${cores} cores × 1e6 / (client + 1-worker server CPU µs per request): the most ` +
      "requests/s this machine can give with this client, as a multiple of the 1-worker rate; " +
      "other cores: what other processes kept busy during the windows (above ~0.2 the rates " +
      "are not a quiet machine's)",
  );
}

const client = chooseClient();
if (Deno.env.get("BENCH_PARALLEL_PROBE") === "1") await parallelProbe();
const dir = await Deno.makeTempDir({ prefix: "workers-bench-" });
const servers: Server[] = [];
try {
  for (const workers of [1, N]) {
    await Deno.mkdir(`${dir}/${workers}`);
    servers.push(await startServer(workers, `${dir}/${workers}`));
  }
  const results = new Map<string, Figure[]>();
  console.log(
    `cores ${navigator.hardwareConcurrency}, concurrency ${CONCURRENCIES.join(", ")}, ` +
      `${SECONDS} s, client ${
        client.kind === "wrk" ? `wrk (${client.path}, 1 thread)` : client.kind
      }`,
  );
  for (const server of servers) await warmUp(server);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const { operation, concurrency, label } of CASES) {
      // A/B, alternated: which side goes first changes each round.
      const order = round % 2 === 1 ? servers : [...servers].reverse();
      for (const server of order) {
        const figure = await measure(client, server, operation, concurrency);
        const key = `${label} workers=${server.workers}`;
        results.set(key, [...(results.get(key) ?? []), figure]);
        console.log(`round ${round} ${key}: ${describe(figure, server.workers)}`);
      }
    }
  }
  printSummary(results);
  for (const { label } of CASES) {
    const one = results.get(`${label} workers=1`)!;
    const many = results.get(`${label} workers=${N}`)!;
    printThreadTable(label, one, many);
    printSyscallTable(label, one, many);
  }
} finally {
  for (const server of servers) {
    try {
      server.child.kill("SIGTERM");
    } catch { /* gone */ }
    await server.child.status;
  }
  await Deno.remove(dir, { recursive: true });
}
