/**
 * KMS_WORKERS=1 against KMS_WORKERS=2 (issue 15 scope 1), as A/B pairs alternated in one run:
 * two servers (main.ts as child processes, one database each, default logging, audit on) are
 * started at once; for each round and operation (GenerateDataKey, Encrypt and Decrypt of 1 KiB)
 * each server in turn gets pre-signed requests replayed at a fixed concurrency for a fixed time,
 * and the figures are: requests/s, and the server's CPU µs per request over all its threads
 * (utime + stime of /proc/<pid>/stat: the main thread, isolates, audit and crypto workers).
 *
 *   npx -y deno@2.9.6 task bench:workers
 *
 * Knobs: BENCH_SECONDS (per measure, default 4), BENCH_ROUNDS (default 2), BENCH_CONCURRENCY
 * (default 16), BENCH_WORKERS (the "N" side, default 2).
 *
 * @module
 */
import { type SignedParts, signRequest } from "../tests/helpers/signed_fetch.ts";
import { kmsEnv } from "../tests/helpers/kms_process.ts";

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
    args: ["run", "--allow-all", "main.ts"],
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

/** Replays `parts` at CONCURRENCY for SECONDS; requests/s and server CPU µs per request. */
async function measure(
  server: Server,
  parts: SignedParts,
): Promise<{ rps: number; cpuUs: number }> {
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
  const t0 = performance.now();
  stopAt = Date.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  const seconds = (performance.now() - t0) / 1000;
  const ticks = cpuTicks(server.child.pid) - ticks0;
  if (errors > 0) throw new Error(`${errors} requests failed`);
  return { rps: count / seconds, cpuUs: (ticks / TICKS_PER_SECOND) * 1e6 / count };
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
  const results = new Map<string, { rps: number[]; cpuUs: number[] }>();
  console.log(`cores ${navigator.hardwareConcurrency}, concurrency ${CONCURRENCY}, ${SECONDS} s`);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const operation of ["GenerateDataKey", "Encrypt", "Decrypt"]) {
      // A/B, alternated: which side goes first changes each round.
      const order = round % 2 === 1 ? servers : [...servers].reverse();
      for (const server of order) {
        const figure = await measure(server, requests.get(server)!.get(operation)!);
        const key = `${operation} workers=${server.workers}`;
        const entry = results.get(key) ?? { rps: [], cpuUs: [] };
        entry.rps.push(figure.rps);
        entry.cpuUs.push(figure.cpuUs);
        results.set(key, entry);
        console.log(
          `round ${round} ${key}: ${figure.rps.toFixed(0)} req/s, ` +
            `${figure.cpuUs.toFixed(0)} CPU µs/request`,
        );
      }
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(
    "\noperation        | 1 worker req/s | N req/s | ratio | 1w CPU µs | N CPU µs | ratio",
  );
  for (const operation of ["GenerateDataKey", "Encrypt", "Decrypt"]) {
    const one = results.get(`${operation} workers=1`)!;
    const many = results.get(`${operation} workers=${N}`)!;
    console.log(
      [
        operation.padEnd(16),
        mean(one.rps).toFixed(0).padStart(14),
        mean(many.rps).toFixed(0).padStart(7),
        (mean(many.rps) / mean(one.rps)).toFixed(2).padStart(5),
        mean(one.cpuUs).toFixed(0).padStart(9),
        mean(many.cpuUs).toFixed(0).padStart(8),
        (mean(many.cpuUs) / mean(one.cpuUs)).toFixed(2).padStart(5),
      ].join(" | "),
    );
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
