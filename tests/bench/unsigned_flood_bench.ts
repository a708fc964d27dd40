/**
 * Unsigned flood benchmark (issue 13, "authenticate before expensive work"): how much 8 clients
 * without credentials, each sending 1 MB bodies that are costly to parse (an array nested
 * 500,000 deep, an object with 60,000 keys) as fast as they are answered, slow down one signed
 * client, and how much unsigned requests grow the database.
 *
 *     npx -y deno@2.9.6 run -A tests/bench/unsigned_flood_bench.ts
 *
 * Starts `bench_server.ts` (the real service on a durable file database) in its own process,
 * creates a key, then measures one signed client sending Encrypt requests one at a time, in
 * BENCH_ROUNDS rounds (5) of BENCH_SLICE_SECONDS (2) unloaded and as long while the 8 unsigned
 * clients (on their own thread, `flood_worker.ts`) flood the server: alternating slices let the
 * machine's other load weigh on both figures alike. Prints p50/p99 of each, the ratio
 * of the p50s (target ≤ 3), the flood's request rate and answers, and the growth of the database
 * files (kms.db + kms.db-wal, after the server stopped and flushed its audit log) over
 * BENCH_GROWTH_REQUESTS small unsigned requests (default 20,000) sent after the flood.
 *
 * Environment: BENCH_ROUNDS, BENCH_SLICE_SECONDS, BENCH_FLOOD_CLIENTS (8), BENCH_GROWTH_REQUESTS
 * (20,000), BENCH_REPO (the repository whose `tests/bench/bench_server.ts` runs, default this
 * one: point it at a checkout of an older commit to compare).
 *
 * @module
 */
import { presign, type PresignedRequest } from "./signing.ts";
import { cpuSeconds, loadAverage } from "./server_process.ts";

const ADMIN = { accessKeyId: "AKIABENCHFLOOD000001", secretAccessKey: "bench-flood-secret-0000" };
const REGION = "us-east-1";
/** Each slice sends at least this many signed requests. */
const MIN_REQUESTS = 20;
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 5);
const SLICE_SECONDS = Number(Deno.env.get("BENCH_SLICE_SECONDS") ?? 2);
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

/** Messages from the flood worker, awaited by the member they carry. */
class Inbox {
  readonly #messages: Record<string, unknown>[] = [];
  #notify = () => {};

  constructor(worker: Worker) {
    worker.onmessage = (event) => {
      this.#messages.push(event.data);
      this.#notify();
    };
  }

  async next(member: string): Promise<Record<string, unknown>> {
    for (;;) {
      const index = this.#messages.findIndex((m) => member in m);
      if (index >= 0) return this.#messages.splice(index, 1)[0]!;
      await new Promise<void>((resolve) => this.#notify = resolve);
    }
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** One signed client, one request at a time, `count` requests and for at least `seconds`: latencies in ms, sorted. */
async function signedLatencies(
  port: number,
  requests: PresignedRequest[],
  seconds = 0,
): Promise<number[]> {
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  for (let i = 0; i < MIN_REQUESTS || performance.now() < until; i++) {
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

    // The flooders run on their own thread: their I/O never waits in the signed client's loop.
    const worker = new Worker(new URL("./flood_worker.ts", import.meta.url), { type: "module" });
    const inbox = new Inbox(worker);
    worker.postMessage({ port: server.port, clients: FLOOD_CLIENTS });
    // Rounds of unloaded then flooded slices, so that the machine's other load weighs on both.
    const unloaded: number[] = [];
    const loaded: number[] = [];
    let floodedSeconds = 0;
    let serverCpu = 0;
    for (let round = 0; round < ROUNDS; round++) {
      unloaded.push(...await signedLatencies(server.port, encrypts, SLICE_SECONDS));
      worker.postMessage("resume");
      await inbox.next("resumed");
      const cpuBefore = cpuSeconds(server.pid);
      const sliceStarted = performance.now();
      loaded.push(...await signedLatencies(server.port, encrypts, SLICE_SECONDS));
      floodedSeconds += (performance.now() - sliceStarted) / 1000;
      serverCpu += cpuSeconds(server.pid) - cpuBefore;
      worker.postMessage("pause");
      await inbox.next("paused");
    }
    worker.postMessage("stop");
    const finished = await inbox.next("requests") as { requests: number; answers: object };
    unloaded.sort((a, b) => a - b);
    loaded.sort((a, b) => a - b);
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
      rounds: ROUNDS,
      sliceSeconds: SLICE_SECONDS,
      floodClients: FLOOD_CLIENTS,
      signedRequests: { unloaded: unloaded.length, flooded: loaded.length },
      unloadedMs: { p50: round(p50Unloaded), p99: round(percentile(unloaded, 0.99)) },
      floodedMs: { p50: round(p50Loaded), p99: round(percentile(loaded, 0.99)) },
      p50Ratio: round(p50Loaded / p50Unloaded),
      floodRequests: finished.requests,
      floodRequestsPerSecond: round(finished.requests / floodedSeconds),
      serverCpuCoresDuringFlood: round(serverCpu / floodedSeconds),
      floodAnswers: finished.answers,
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
