/**
 * Unsigned flood benchmark (issue 13, "authenticate before expensive work"): how much 8 clients
 * without credentials, each sending 1 MB bodies that are costly to parse (an array nested
 * 500,000 deep, an object with 60,000 keys) as fast as they are answered, slow down one signed
 * client, and how much unsigned requests grow the database.
 *
 *     npx -y deno@2.9.6 run -A tests/bench/unsigned_flood_bench.ts
 *
 * Starts `bench_server.ts` (the real service on a durable file database) in its own process,
 * creates a key, then measures one signed client sending Encrypt requests one at a time:
 * unloaded, then while the 8 unsigned clients flood the server. Prints p50/p99 of each, the ratio
 * of the p50s (target ≤ 3), the flood's request rate and answers, and the growth of the database
 * files (kms.db + kms.db-wal, after the server stopped and flushed its audit log) over
 * BENCH_GROWTH_REQUESTS small unsigned requests (default 20,000) sent after the flood.
 *
 * Environment: BENCH_SIGNED_REQUESTS (measured signed requests per phase, default 300),
 * BENCH_FLOOD_CLIENTS (8), BENCH_GROWTH_REQUESTS (20,000), BENCH_REPO (the repository whose `tests/bench/bench_server.ts` runs,
 * default this one: point it at a checkout of an older commit to compare).
 *
 * @module
 */
import { presign, type PresignedRequest } from "./signing.ts";
import { cpuSeconds, loadAverage } from "./server_process.ts";

const ADMIN = { accessKeyId: "AKIABENCHFLOOD000001", secretAccessKey: "bench-flood-secret-0000" };
const REGION = "us-east-1";
const SIGNED_REQUESTS = Number(Deno.env.get("BENCH_SIGNED_REQUESTS") ?? 300);
const FLOOD_CLIENTS = Number(Deno.env.get("BENCH_FLOOD_CLIENTS") ?? 8);
const GROWTH_REQUESTS = Number(Deno.env.get("BENCH_GROWTH_REQUESTS") ?? 20_000);
const REPO = Deno.env.get("BENCH_REPO") ?? new URL("../../", import.meta.url).pathname;

interface Server {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `<REPO>/tests/bench/bench_server.ts` and waits for its `{"port":…}` line. */
async function startServer(dbDir: string): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${REPO}/tests/bench/bench_server.ts`],
    cwd: REPO,
    env: {
      KMS_DB_URL: `file:${dbDir}/kms.db`,
      KMS_ROOT_KEY: new Uint8Array(32).fill(42).toBase64(),
      KMS_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
      KMS_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
      KMS_ACCOUNT_ID: "111122223333",
      KMS_REGION: REGION,
      KMS_PORT: "0",
      KMS_LOG_LEVEL: "info",
      KMS_RSA_POOL_2048: "0",
      KMS_RSA_POOL_3072: "0",
      KMS_RSA_POOL_4096: "0",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const tail: string[] = [];
  let resolvePort: (port: number) => void = () => {};
  const port = new Promise<number>((resolve) => resolvePort = resolve);
  const read = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        if (line.startsWith('{"port"')) resolvePort((JSON.parse(line) as { port: number }).port);
        tail.push(line);
        if (tail.length > 20) tail.shift();
      }
    }
  };
  const drained = Promise.all([read(child.stdout), read(child.stderr)]);
  const exited = child.status.then((s) => {
    throw new Error(`server exited (${s.code}):\n${tail.join("\n")}`);
  });
  exited.catch(() => {});
  return {
    port: await Promise.race([port, exited]),
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await drained;
    },
  };
}

async function send(port: number, request: PresignedRequest): Promise<Response> {
  return await fetch(`http://127.0.0.1:${port}/`, {
    method: "POST",
    headers: request.headers,
    body: request.body,
  });
}

/** Bodies of about 1 MB that are costly to parse. */
function floodBodies(): Uint8Array<ArrayBuffer>[] {
  const utf8 = new TextEncoder();
  const depth = 500_000;
  const keys: string[] = [];
  for (let i = 0; i < 60_000; i++) keys.push(`"k${i}":${i}`);
  return [
    utf8.encode("[".repeat(depth) + "]".repeat(depth)),
    utf8.encode(`{${keys.join(",")}}`),
  ];
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** One signed client, one request at a time: latencies in ms, sorted. */
async function signedLatencies(port: number, requests: PresignedRequest[]): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < SIGNED_REQUESTS; i++) {
    const started = performance.now();
    const response = await send(port, requests[i % requests.length]!);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`signed request answered ${response.status}`);
    latencies.push(performance.now() - started);
  }
  return latencies.sort((a, b) => a - b);
}

async function storedBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of ["kms.db", "kms.db-wal"]) {
    try {
      total += (await Deno.stat(`${dir}/${name}`)).size;
    } catch {
      // absent
    }
  }
  return total;
}

async function main(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kms-flood-bench-" });
  try {
    console.log(`repository ${REPO}; load average before: ${loadAverage()}`);
    const server = await startServer(dir);
    const target = {
      host: `127.0.0.1:${server.port}`,
      region: REGION,
      accessKeyId: ADMIN.accessKeyId,
      secretAccessKey: ADMIN.secretAccessKey,
    };
    const created = await send(server.port, await presign(target, "CreateKey", {}));
    const keyId = ((await created.json()) as { KeyMetadata: { KeyId: string } }).KeyMetadata.KeyId;
    const encrypts: PresignedRequest[] = [];
    for (let i = 0; i < 20; i++) {
      encrypts.push(await presign(target, "Encrypt", { KeyId: keyId, Plaintext: "AAAAAAAAAAA=" }));
    }
    await signedLatencies(server.port, encrypts); // warm-up
    const unloaded = await signedLatencies(server.port, encrypts);

    const bodies = floodBodies();
    let stop = false;
    let flooded = 0;
    const statuses = new Map<string, number>();
    const flooder = async (n: number) => {
      while (!stop) {
        const response = await fetch(`http://127.0.0.1:${server.port}/`, {
          method: "POST",
          headers: {
            "content-type": "application/x-amz-json-1.1",
            "x-amz-target": "TrentService.CreateKey",
          },
          body: bodies[(n + flooded) % bodies.length]!,
        });
        const type = response.headers.get("x-amzn-errortype") ?? "-";
        await response.arrayBuffer();
        const key = `${response.status} ${type}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        flooded++;
      }
    };
    const floodStarted = performance.now();
    const serverCpuBefore = cpuSeconds(server.pid);
    const flooders = Array.from({ length: FLOOD_CLIENTS }, (_, n) => flooder(n));
    // Let the flood reach its pace before measuring.
    while (flooded < FLOOD_CLIENTS * 4) await new Promise((r) => setTimeout(r, 50));
    const floodedAtStart = flooded;
    const measureStarted = performance.now();
    const loaded = await signedLatencies(server.port, encrypts);
    const measureSeconds = (performance.now() - measureStarted) / 1000;
    const floodedDuringMeasure = flooded - floodedAtStart;
    stop = true;
    await Promise.all(flooders);
    const floodSeconds = (performance.now() - floodStarted) / 1000;
    const serverCpu = cpuSeconds(server.pid) - serverCpuBefore;
    // Growth: GROWTH_REQUESTS small unsigned requests from 8 clients, the audit log flushed by
    // stopping the server (the signed requests' own records are written before `before`).
    await new Promise((r) => setTimeout(r, 500));
    const before = await storedBytes(dir);
    let sent = 0;
    const small = async () => {
      while (sent < GROWTH_REQUESTS) {
        sent++;
        const response = await fetch(`http://127.0.0.1:${server.port}/`, {
          method: "POST",
          headers: {
            "content-type": "application/x-amz-json-1.1",
            "x-amz-target": "TrentService.Encrypt",
          },
          body: `{"KeyId":"${keyId}","Plaintext":"AAAA"}`,
        });
        await response.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: FLOOD_CLIENTS }, small));
    await server.stop();
    const grown = await storedBytes(dir) - before;

    const p50Unloaded = percentile(unloaded, 0.5);
    const p50Loaded = percentile(loaded, 0.5);
    const report = {
      signedRequestsPerPhase: SIGNED_REQUESTS,
      floodClients: FLOOD_CLIENTS,
      unloadedMs: { p50: round(p50Unloaded), p99: round(percentile(unloaded, 0.99)) },
      floodedMs: { p50: round(p50Loaded), p99: round(percentile(loaded, 0.99)) },
      p50Ratio: round(p50Loaded / p50Unloaded),
      floodRequests: flooded,
      floodRequestsPerSecond: round(floodedDuringMeasure / measureSeconds),
      floodBytesPerSecond: round(floodedDuringMeasure / measureSeconds * bodies[0]!.length),
      floodSeconds: round(floodSeconds),
      serverCpuSecondsDuringFlood: round(serverCpu),
      floodAnswers: Object.fromEntries(statuses),
      growthRequests: GROWTH_REQUESTS,
      databaseGrowthBytes: grown,
      loadAverageAfter: loadAverage(),
    };
    console.log(JSON.stringify(report, null, 2));
    console.log(
      `signed p50 ${report.unloadedMs.p50} ms unloaded, ${report.floodedMs.p50} ms under the ` +
        `flood (${report.p50Ratio}×, target ≤ 3×)`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

if (import.meta.main) await main();
