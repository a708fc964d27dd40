/**
 * Where the server's memory goes, and what a start flag changes (issue 15: RSS ≤ 150 MB per
 * worker). For each configuration, alternated over rounds (A/B pairs in the same run): main.ts is
 * started as a child process (default logging, audit on, RSA pools at their defaults), gets
 * pre-signed GenerateDataKey requests at a fixed concurrency (raw keep-alive sockets, re-signed
 * every interval), and the figures are:
 * - RSS every interval, and at the end: RSS, anonymous and file-backed memory (smaps_rollup),
 *   threads by name with their CPU µs per request (`deno`: the main thread, which at 2+
 *   workers also hosts the shared writer, storage/shared_writer.ts; `worker-N`: the request
 *   isolates, their audit and database workers where they have their own (1 worker,
 *   `KMS_SHARED_WRITER=off`) and the crypto workers, numbered as started; `tokio-runtime-w`:
 *   the runtime's blocking pool, where the RSA pools' key generation runs; `V8 DefaultWorke`:
 *   V8's GC and compiler helpers);
 * - requests/s, server CPU µs per request (all threads, /proc) and this client's CPU µs per
 *   request;
 * - with MEM_TRACE_GC=1, each V8 isolate's heap at its last GC (`--trace-gc`: used and
 *   committed MiB, scavenges and mark-compacts), told apart by the isolate's address.
 *
 *   npx -y deno@2.9.6 run -A scripts/memory_bench.ts
 *   MEM_CONFIGS="1:none;1:start" MEM_SECONDS=120 MEM_ROUNDS=2 npx -y deno@2.9.6 run -A scripts/memory_bench.ts
 *
 * Knobs: MEM_CONFIGS (`;`-separated `workers:flags`; flags `start` = the V8 flags of `deno task
 * start` (deno.json), `none` = no flags, else `deno run` flags and `NAME=value` environment
 * variables separated by spaces; default `1:start;2:start`), MEM_SECONDS (load per
 * configuration, default 60), MEM_INTERVAL (seconds between RSS samples, default 15),
 * MEM_CONCURRENCY (default 32), MEM_ROUNDS (default 1), MEM_TRACE_GC=1.
 *
 * @module
 */
import {
  cpuSeconds,
  freePort,
  residentMemory,
  waitForIsolates,
} from "../tests/bench/server_process.ts";
import { presign, type PresignedRequest, type SigningTarget } from "../tests/bench/signing.ts";
import { runLoad } from "../tests/bench/load.ts";
import { startV8Flags } from "./start_flags.ts";

const ROOT = new URL("../", import.meta.url);
const SECONDS = Number(Deno.env.get("MEM_SECONDS") ?? 60);
const INTERVAL = Number(Deno.env.get("MEM_INTERVAL") ?? 15);
const CONCURRENCY = Number(Deno.env.get("MEM_CONCURRENCY") ?? 32);
const ROUNDS = Number(Deno.env.get("MEM_ROUNDS") ?? 1);
const TRACE_GC = Deno.env.get("MEM_TRACE_GC") === "1";
const ADMIN = {
  accessKeyId: "AKIAMEMBENCHADMIN001",
  secretAccessKey: "mem-bench-secret-0000000000000000",
};
const REGION = "us-east-1";

/** One server configuration: isolates, `deno run` flags and extra environment. */
interface Setup {
  label: string;
  workers: number;
  flags: string[];
  env: Record<string, string>;
}

function parseSetups(raw: string): Setup[] {
  return raw.split(";").map((s) => s.trim()).filter((s) => s !== "").map((entry) => {
    const colon = entry.indexOf(":");
    const workers = Number(entry.slice(0, colon));
    const spec = entry.slice(colon + 1).trim();
    const words = spec === "start" ? startV8Flags() : spec === "none" ? [] : spec.split(/\s+/);
    const flags = words.filter((w) => w.startsWith("-"));
    const assignments = words.filter((w) => !w.startsWith("-"));
    const env = Object.fromEntries(assignments.map((w) => w.split(/=(.*)/s).slice(0, 2)));
    return {
      label: `${workers}w ${spec === "start" ? `start (${words.join(" ") || "no flags"})` : spec}`,
      workers,
      flags,
      env,
    };
  });
}

/** A V8 isolate's heap at its last GC seen in `--trace-gc` output. */
interface IsolateHeap {
  usedMb: number;
  committedMb: number;
  scavenges: number;
  markCompacts: number;
}

const GC_LINE =
  /^\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: (Scavenge|(?:Incremental )?Mark-Compact|Minor Mark-Sweep)[^\d]*[\d.]+ \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/;

/** Reads a stream line by line, keeping the GC lines' last figures per isolate. */
async function collectGc(stream: ReadableStream<Uint8Array>, heaps: Map<string, IsolateHeap>) {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      const m = GC_LINE.exec(line);
      if (m === null) continue;
      const heap = heaps.get(m[1]!) ?? { usedMb: 0, committedMb: 0, scavenges: 0, markCompacts: 0 };
      heap.usedMb = Number(m[4]);
      heap.committedMb = Number(m[5]);
      if (m[2] === "Scavenge") heap.scavenges++;
      else heap.markCompacts++;
      heaps.set(m[1]!, heap);
    }
  }
}

/** Threads of a process by name (`comm`): how many, and their CPU seconds (user + system). */
function threadsByName(pid: number): Map<string, { count: number; cpu: number }> {
  const names = new Map<string, { count: number; cpu: number }>();
  for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
    let name: string;
    try {
      name = Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/comm`).trim();
    } catch {
      continue;
    }
    const cpu = cpuSeconds(pid, Number(entry.name));
    const seen = names.get(name) ?? { count: 0, cpu: 0 };
    names.set(name, { count: seen.count + 1, cpu: seen.cpu + (Number.isNaN(cpu) ? 0 : cpu) });
  }
  return names;
}

/** Anonymous and file-backed resident memory, MiB (/proc/<pid>/smaps_rollup). */
function memoryKinds(pid: number): { anonMb: number; fileMb: number } {
  const text = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
  const kb = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
  return { anonMb: kb("Anonymous") / 1024, fileMb: (kb("Rss") - kb("Anonymous")) / 1024 };
}

interface Started {
  child: Deno.ChildProcess;
  host: string;
  heaps: Map<string, IsolateHeap>;
  dir: string;
}

async function startServer(setup: Setup): Promise<Started> {
  const dir = await Deno.makeTempDir({ prefix: "memory-bench-" });
  const port = freePort();
  const flags = TRACE_GC ? [...setup.flags, "--v8-flags=--trace-gc"] : setup.flags;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...flags, "main.ts"],
    cwd: ROOT,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "",
      KMS_DB_URL: `file:${dir}/kms.db`,
      KMS_ROOT_KEY: new Uint8Array(32).fill(42).toBase64(),
      KMS_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
      KMS_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
      KMS_REGION: REGION,
      KMS_HOST: "127.0.0.1",
      KMS_PORT: String(port),
      KMS_WORKERS: String(setup.workers),
      ...setup.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const heaps = new Map<string, IsolateHeap>();
  void collectGc(child.stdout, heaps).catch(() => {});
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const response = await fetch(`http://${host}/ready`);
      await response.body?.cancel();
      if (response.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`${setup.label}: server did not start`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // /ready is 200 once the first isolate listens: measure only once every isolate serves.
  await waitForIsolates(port, setup.workers);
  return { child, host, heaps, dir };
}

async function call(target: SigningTarget, operation: string, payload: unknown) {
  const request = await presign(target, operation, payload);
  const response = await fetch(`http://${target.host}/`, {
    method: "POST",
    headers: request.headers,
    body: request.body,
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${operation}: ${JSON.stringify(json)}`);
  return json;
}

/** What one configuration measured. */
interface Figures {
  label: string;
  rps: number;
  serverUs: number;
  clientUs: number;
  rssSamples: number[];
  anonMb: number;
  fileMb: number;
  threads: Map<string, { count: number; cpu: number }>;
  /** Per thread name: CPU µs per request over the load. */
  threadUs: Map<string, number>;
  heaps: Map<string, IsolateHeap>;
}

async function measure(setup: Setup): Promise<Figures> {
  const server = await startServer(setup);
  try {
    const target = { host: server.host, region: REGION, ...ADMIN };
    const { KeyMetadata } = await call(target, "CreateKey", {});
    const payload = { KeyId: KeyMetadata.KeyId, KeySpec: "AES_256" };
    const pid = server.child.pid;
    const rssSamples: number[] = [];
    let completed = 0;
    let errors = 0;
    let firstError: string | undefined;
    const threads0 = threadsByName(pid);
    const s0 = cpuSeconds(pid);
    const c0 = cpuSeconds("self");
    const t0 = performance.now();
    for (let elapsed = 0; elapsed < SECONDS; elapsed += INTERVAL) {
      const seconds = Math.min(INTERVAL, SECONDS - elapsed);
      const request: PresignedRequest = await presign(target, "GenerateDataKey", payload);
      const result = await runLoad({
        transport: "raw",
        url: `http://${server.host}/`,
        requests: [request],
        connections: CONCURRENCY,
        startAt: Date.now(),
        warmupMs: 0,
        durationMs: seconds * 1000,
      });
      completed += result.completed;
      errors += result.errors;
      firstError ??= result.firstError;
      rssSamples.push(residentMemory(pid).rssMb);
    }
    const wall = (performance.now() - t0) / 1000;
    if (errors > 0) console.log(`  ${setup.label}: ${errors} requests failed (${firstError})`);
    const figures: Figures = {
      label: setup.label,
      rps: completed / wall,
      serverUs: (cpuSeconds(pid) - s0) * 1e6 / completed,
      clientUs: (cpuSeconds("self") - c0) * 1e6 / completed,
      rssSamples,
      ...memoryKinds(pid),
      threads: threadsByName(pid),
      threadUs: new Map(),
      heaps: server.heaps,
    };
    for (const [name, { cpu }] of figures.threads) {
      const before = threads0.get(name)?.cpu ?? 0;
      figures.threadUs.set(name, (cpu - before) * 1e6 / completed);
    }
    return figures;
  } finally {
    try {
      server.child.kill("SIGTERM");
    } catch { /* gone */ }
    await server.child.status;
    await Deno.remove(server.dir, { recursive: true }).catch(() => {});
  }
}

function report(f: Figures): void {
  const threads = [...f.threads].sort(([a], [b]) => a < b ? -1 : 1).map(([n, { count }]) =>
    `${n}×${count} ${(f.threadUs.get(n) ?? 0).toFixed(0)} µs`
  );
  console.log(
    `${f.label}: ${f.rps.toFixed(0)} req/s, server ${f.serverUs.toFixed(0)} CPU µs/req, client ` +
      `${f.clientUs.toFixed(0)} µs/req; RSS MiB every ${INTERVAL} s: ${
        f.rssSamples.map((r) => r.toFixed(0)).join(" ")
      }; at the end anonymous ${f.anonMb.toFixed(0)}, file-backed ${f.fileMb.toFixed(0)}`,
  );
  console.log(
    `  threads (${[...f.threads.values()].reduce((a, b) => a + b.count, 0)}): ${
      threads.join(", ")
    }`,
  );
  if (f.heaps.size > 0) {
    const heaps = [...f.heaps.values()].sort((a, b) => b.committedMb - a.committedMb);
    const total = heaps.reduce((sum, h) => sum + h.committedMb, 0);
    console.log(
      `  V8 isolates (${heaps.length}), heap used/committed MiB at the last GC, scavenges/mark-compacts: ${
        heaps.map((h) => `${h.usedMb}/${h.committedMb} (${h.scavenges}/${h.markCompacts})`).join(
          ", ",
        )
      }; committed total ${total.toFixed(0)} MiB`,
    );
  }
}

const setups = parseSetups(Deno.env.get("MEM_CONFIGS") ?? "1:start;2:start");
console.log(
  `cores ${navigator.hardwareConcurrency}, concurrency ${CONCURRENCY}, ${SECONDS} s per configuration, ${ROUNDS} round(s)`,
);
const all = new Map<string, Figures[]>();
for (let round = 1; round <= ROUNDS; round++) {
  const order = round % 2 === 1 ? setups : [...setups].reverse();
  for (const setup of order) {
    const figures = await measure(setup);
    console.log(`round ${round}`);
    report(figures);
    all.set(setup.label, [...(all.get(setup.label) ?? []), figures]);
  }
}
console.log(
  "\nconfiguration | req/s | server µs/req | client µs/req | RSS at the end MiB (each round)",
);
for (const [label, runs] of all) {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(
    `${label} | ${mean(runs.map((r) => r.rps)).toFixed(0)} | ${
      mean(runs.map((r) => r.serverUs)).toFixed(0)
    } | ${mean(runs.map((r) => r.clientUs)).toFixed(0)} | ${
      runs.map((r) => r.rssSamples.at(-1)!.toFixed(0)).join(", ")
    }`,
  );
}
