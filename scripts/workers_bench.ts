/**
 * KMS_WORKERS=1 against KMS_WORKERS=2 (issue 15 scope 1), as A/B pairs alternated in one run:
 * two servers (main.ts as child processes, one database each, default logging, audit on) are
 * started at once; for each round and operation (GenerateDataKey, Encrypt and Decrypt of 1 KiB)
 * each server in turn gets pre-signed requests replayed at a fixed concurrency for a fixed time,
 * and the figures are: requests/s, and the server's CPU µs per request over all its threads
 * (utime + stime of /proc/<pid>/stat: the main thread, isolates, audit and crypto workers), split
 * by thread name (/proc/<pid>/task/<tid>: `deno` the main thread, `worker-N` the isolates and
 * their audit and crypto workers, `tokio-runtime-w` the runtime's blocking pool, which runs
 * WebCrypto and file operations, `V8 DefaultWorke` V8's GC and compiler helpers), and this
 * client's CPU µs per request.
 *
 * The physical ceiling: with the client's c and the 1-worker server's s CPU µs per request, the
 * machine's cores cap the total rate at cores × 1e6 / (c + s) requests/s whatever the isolates
 * do; it is printed beside the measured ratio, as a multiple of the 1-worker rate.
 *
 *   npx -y deno@2.9.6 task bench:workers
 *
 * Both servers start with the V8 flags of `deno task start` (`BENCH_START_FLAGS=off`: none).
 *
 * Knobs: BENCH_SECONDS (per measure, default 4), BENCH_ROUNDS (default 2), BENCH_CONCURRENCY
 * (default 16), BENCH_WORKERS (the "N" side, default 2).
 *
 * @module
 */
import { type SignedParts, signRequest } from "../tests/helpers/signed_fetch.ts";
import { kmsEnv } from "../tests/helpers/kms_process.ts";
import { cpuSeconds } from "../tests/bench/server_process.ts";
import { benchServerV8Flags } from "./start_flags.ts";

const ROOT = new URL("../", import.meta.url);
const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 4);
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 2);
const CONCURRENCY = Number(Deno.env.get("BENCH_CONCURRENCY") ?? 16);
const N = Number(Deno.env.get("BENCH_WORKERS") ?? 2);
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Server {
  workers: number;
  url: string;
  child: Deno.ChildProcess;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** CPU seconds (user + system) of each thread name of a process. */
function threadCpu(pid: number): Map<string, number> {
  const names = new Map<string, number>();
  for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const name = Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/comm`).trim();
      const cpu = cpuSeconds(pid, Number(entry.name));
      if (!Number.isNaN(cpu)) names.set(name, (names.get(name) ?? 0) + cpu);
    } catch { /* the thread ended */ }
  }
  return names;
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
  return { workers, url, child };
}

async function call(
  url: string,
  operation: string,
  body: unknown,
): Promise<Record<string, string>> {
  const parts = await signRequest(url, JSON.stringify(body), {
    target: `TrentService.${operation}`,
  });
  const response = await fetch(url, { method: "POST", headers: parts.headers, body: parts.body });
  const json = await response.json();
  if (!response.ok) throw new Error(`${operation}: ${JSON.stringify(json)}`);
  return json;
}

/** The pre-signed requests of one server, by operation. */
async function requestsFor(url: string): Promise<Map<string, SignedParts>> {
  const { KeyMetadata } = await call(url, "CreateKey", {}) as unknown as {
    KeyMetadata: { KeyId: string };
  };
  const keyId = KeyMetadata.KeyId;
  const plaintext = new Uint8Array(1024).fill(7).toBase64();
  const { CiphertextBlob } = await call(url, "Encrypt", { KeyId: keyId, Plaintext: plaintext });
  const sign = (operation: string, body: unknown) =>
    signRequest(url, JSON.stringify(body), { target: `TrentService.${operation}` });
  return new Map([
    ["GenerateDataKey", await sign("GenerateDataKey", { KeyId: keyId, KeySpec: "AES_256" })],
    ["Encrypt", await sign("Encrypt", { KeyId: keyId, Plaintext: plaintext })],
    ["Decrypt", await sign("Decrypt", { CiphertextBlob })],
  ]);
}

/** What one measure gave: rate, CPU µs per request of the server, its threads and the client. */
interface Figure {
  rps: number;
  cpuUs: number;
  clientUs: number;
  threadUs: Map<string, number>;
}

/** Replays `parts` at CONCURRENCY for SECONDS; requests/s and server CPU µs per request. */
async function measure(
  server: Server,
  parts: SignedParts,
): Promise<Figure> {
  let count = 0;
  let errors = 0;
  let measuring = false;
  let stopAt = Date.now() + 1_000; // warm-up first
  const loop = async () => {
    while (Date.now() < stopAt) {
      const response = await fetch(server.url, {
        method: "POST",
        headers: parts.headers,
        body: parts.body,
      });
      await response.arrayBuffer();
      if (!response.ok) errors++;
      if (measuring) count++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  measuring = true;
  const ticks0 = cpuTicks(server.child.pid);
  const threads0 = threadCpu(server.child.pid);
  const client0 = cpuSeconds("self");
  const t0 = performance.now();
  stopAt = Date.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  const seconds = (performance.now() - t0) / 1000;
  const ticks = cpuTicks(server.child.pid) - ticks0;
  const clientUs = (cpuSeconds("self") - client0) * 1e6 / count;
  const threadUs = new Map<string, number>();
  for (const [name, cpu] of threadCpu(server.child.pid)) {
    threadUs.set(name, (cpu - (threads0.get(name) ?? 0)) * 1e6 / count);
  }
  if (errors > 0) throw new Error(`${errors} requests failed`);
  return {
    rps: count / seconds,
    cpuUs: (ticks / TICKS_PER_SECOND) * 1e6 / count,
    clientUs,
    threadUs,
  };
}

const dir = await Deno.makeTempDir({ prefix: "workers-bench-" });
const servers: Server[] = [];
try {
  for (const workers of [1, N]) {
    await Deno.mkdir(`${dir}/${workers}`);
    servers.push(await startServer(workers, `${dir}/${workers}`));
  }
  const requests = new Map<Server, Map<string, SignedParts>>();
  for (const server of servers) requests.set(server, await requestsFor(server.url));
  const results = new Map<string, Figure[]>();
  console.log(`cores ${navigator.hardwareConcurrency}, concurrency ${CONCURRENCY}, ${SECONDS} s`);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const operation of ["GenerateDataKey", "Encrypt", "Decrypt"]) {
      // A/B, alternated: which side goes first changes each round.
      const order = round % 2 === 1 ? servers : [...servers].reverse();
      for (const server of order) {
        const figure = await measure(server, requests.get(server)!.get(operation)!);
        const key = `${operation} workers=${server.workers}`;
        results.set(key, [...(results.get(key) ?? []), figure]);
        const threads = [...figure.threadUs].filter(([, us]) => us >= 0.5)
          .sort(([a], [b]) => a < b ? -1 : 1).map(([name, us]) => `${name} ${us.toFixed(0)}`);
        console.log(
          `round ${round} ${key}: ${figure.rps.toFixed(0)} req/s, ` +
            `${figure.cpuUs.toFixed(0)} CPU µs/request (${threads.join(", ")}), ` +
            `client ${figure.clientUs.toFixed(0)} µs/request`,
        );
      }
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const cores = navigator.hardwareConcurrency;
  console.log(
    "\noperation        | 1 worker req/s | N req/s | ratio | 1w CPU µs | N CPU µs | ratio | " +
      "client µs | ceiling req/s | ceiling ratio",
  );
  for (const operation of ["GenerateDataKey", "Encrypt", "Decrypt"]) {
    const one = results.get(`${operation} workers=1`)!;
    const many = results.get(`${operation} workers=${N}`)!;
    const oneRps = mean(one.map((f) => f.rps));
    const oneUs = mean(one.map((f) => f.cpuUs));
    const clientUs = mean([...one, ...many].map((f) => f.clientUs));
    // Every core busy with this client and the 1-worker server's cost per request.
    const ceiling = cores * 1e6 / (clientUs + oneUs);
    console.log(
      [
        operation.padEnd(16),
        oneRps.toFixed(0).padStart(14),
        mean(many.map((f) => f.rps)).toFixed(0).padStart(7),
        (mean(many.map((f) => f.rps)) / oneRps).toFixed(2).padStart(5),
        oneUs.toFixed(0).padStart(9),
        mean(many.map((f) => f.cpuUs)).toFixed(0).padStart(8),
        (mean(many.map((f) => f.cpuUs)) / oneUs).toFixed(2).padStart(5),
        clientUs.toFixed(0).padStart(9),
        ceiling.toFixed(0).padStart(13),
        (ceiling / oneRps).toFixed(2).padStart(13),
      ].join(" | "),
    );
  }
  console.log(
    `ceiling = ${cores} cores × 1e6 / (client + 1-worker server CPU µs per request): the most ` +
      "requests/s this machine can give with this client, as a multiple of the 1-worker rate",
  );
} finally {
  for (const server of servers) {
    try {
      server.child.kill("SIGTERM");
    } catch { /* gone */ }
    await server.child.status;
  }
  await Deno.remove(dir, { recursive: true });
}
