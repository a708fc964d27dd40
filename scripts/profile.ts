/**
 * `deno task profile`: a V8 CPU profile of the running server under load, aggregated by function
 * and by module, so anyone can see where a request's main-thread time goes.
 *
 * Starts the benchmark's server (`tests/bench/bench_server.ts`: the real service as main.ts wires
 * it, on a durable file database, default logging, audit on) in its own Deno process with
 * `--inspect=127.0.0.1:0`, creates a key, and drives pre-signed requests at it with the
 * benchmark's load client (`tests/bench/load.ts`, raw transport). After a warm-up it starts the
 * profiler over the DevTools protocol, keeps the load on for the measured window, stops the
 * profiler, and prints:
 * - requests served in the window, and main-thread CPU µs per request (from /proc);
 * - the top functions and the top modules by self time, in µs per request.
 *
 * Environment: PROFILE_OP (`GenerateDataKey`, default; or `Encrypt`, `Decrypt` of 4 KiB,
 * `GenerateDataKeyPair` of PROFILE_PAIR_SPEC, default ECC_NIST_EDWARDS25519, `Sign` with a key
 * of PROFILE_SIGN_SPEC, default ECC_SECG_P256K1),
 * PROFILE_SECONDS (measured window, default 5), PROFILE_WARMUP_SECONDS (2),
 * PROFILE_CONCURRENCY (16), PROFILE_TOP (25), PROFILE_INTERVAL_US (sampling interval, 250),
 * PROFILE_OUT (write the raw .cpuprofile there, for Chrome DevTools, and the heap profile beside it), PROFILE_ENV (extra
 * server environment, `KEY=VALUE,KEY=VALUE`, e.g. `KMS_METRICS=off`), PROFILE_HEAP=1 (also V8's
 * sampling heap profiler over the same window: bytes allocated per request by function, objects
 * collected since included; it costs CPU, so compare CPU figures only between runs without it).
 *
 * @module
 */
import { runLoad } from "../tests/bench/load.ts";
import { cpuSeconds, ServerProcess } from "../tests/bench/server_process.ts";
import { presign, type PresignedRequest, type SigningTarget } from "../tests/bench/signing.ts";

const ADMIN = {
  accessKeyId: "AKIABENCHADMIN000001",
  secretAccessKey: "bench-secret-access-key-000000000000000",
};
const REGION = "us-east-1";
const REPO_ROOT = new URL("../", import.meta.url).href;

const env = Deno.env.toObject();
const SETTINGS = {
  op: env.PROFILE_OP ?? "GenerateDataKey",
  seconds: Number(env.PROFILE_SECONDS ?? 5),
  warmupSeconds: Number(env.PROFILE_WARMUP_SECONDS ?? 2),
  concurrency: Number(env.PROFILE_CONCURRENCY ?? 16),
  top: Number(env.PROFILE_TOP ?? 25),
  intervalUs: Number(env.PROFILE_INTERVAL_US ?? 250),
  out: env.PROFILE_OUT,
  heap: env.PROFILE_HEAP === "1",
  serverEnv: Object.fromEntries(
    (env.PROFILE_ENV ?? "").split(",").filter((pair) => pair.includes("=")).map((pair) => {
      const at = pair.indexOf("=");
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  ),
};

/** A V8 CPU profile (`Profiler.stop`'s result, the .cpuprofile format). */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time of one function or module over the profile, µs. */
export interface SelfTime {
  name: string;
  selfUs: number;
}

/**
 * Self time by function (`name module:line`), by module, and by the nearest function of this
 * repository on the stack (its own time plus the runtime and npm code it called), largest first.
 */
export function aggregate(
  profile: CpuProfile,
): { functions: SelfTime[]; modules: SelfTime[]; owners: SelfTime[] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  }
  const functions = new Map<string, number>();
  const modules = new Map<string, number>();
  const owners = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, us: number) =>
    map.set(key, (map.get(key) ?? 0) + us);
  for (let i = 0; i < profile.samples.length; i++) {
    // A sample's time is the interval until the next sample (the last one gets the mean).
    const us = profile.timeDeltas[i + 1] ??
      (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length);
    const id = profile.samples[i]!;
    const frame = byId.get(id);
    if (frame === undefined) continue;
    add(functions, functionLabel(frame), us);
    add(modules, moduleName(frame.url), us);
    add(owners, ownerLabel(id, byId, parentOf), us);
  }
  const sorted = (map: Map<string, number>) =>
    [...map].map(([name, selfUs]) => ({ name, selfUs })).sort((a, b) => b.selfUs - a.selfUs);
  return { functions: sorted(functions), modules: sorted(modules), owners: sorted(owners) };
}

type CallFrame = CpuProfile["nodes"][number]["callFrame"];

function functionLabel(frame: CallFrame): string {
  const line = frame.url === "" ? "" : `:${frame.lineNumber + 1}`;
  return `${frame.functionName || "(anonymous)"} ${moduleName(frame.url)}${line}`;
}

/** The nearest frame of this repository's own code on the sample's stack, or the leaf's module. */
function ownerLabel(
  id: number,
  byId: Map<number, CallFrame>,
  parentOf: Map<number, number>,
): string {
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const frame = byId.get(at);
    if (frame !== undefined && isRepositoryCode(frame.url)) return functionLabel(frame);
  }
  const leaf = byId.get(id)!;
  return leaf.url === "" ? leaf.functionName : `(no repository frame) ${moduleName(leaf.url)}`;
}

function isRepositoryCode(url: string): boolean {
  return url.startsWith(REPO_ROOT) && !url.includes("/node_modules/") &&
    !url.includes("/tests/bench/");
}

/** V8's sampling heap profile (`HeapProfiler.stopSampling`'s result). */
export interface HeapProfile {
  head: HeapNode;
}

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

/** Sampled bytes allocated by function (`name module:line`), largest first. */
export function allocations(profile: HeapProfile): SelfTime[] {
  const bytes = new Map<string, number>();
  const pending = [profile.head];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (node.selfSize > 0) {
      const label = functionLabel(node.callFrame);
      bytes.set(label, (bytes.get(label) ?? 0) + node.selfSize);
    }
    pending.push(...node.children);
  }
  return [...bytes].map(([name, selfUs]) => ({ name, selfUs })).sort((a, b) => b.selfUs - a.selfUs);
}

/** A short module name: repository-relative path, npm package, or a V8/Deno internal. */
export function moduleName(url: string): string {
  if (url === "") return "(native)";
  const npm = /node_modules\/(?:\.deno\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (npm !== null) return `npm:${npm[1]}`;
  if (url.startsWith(REPO_ROOT)) return url.slice(REPO_ROOT.length);
  return url.replace(/^ext:/, "ext:");
}

/** A DevTools protocol session over the inspector's WebSocket. */
class Inspector {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, (message: { result?: unknown; error?: unknown }) => void>();
  #nextId = 1;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data)) as {
        id?: number;
        result?: unknown;
        error?: unknown;
      };
      if (message.id !== undefined) this.#pending.get(message.id)?.(message);
    };
  }

  static async connect(url: string): Promise<Inspector> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error(`cannot connect to the inspector at ${url}`));
    });
    return new Inspector(socket);
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (message) => {
        this.#pending.delete(id);
        if (message.error !== undefined) reject(new Error(JSON.stringify(message.error)));
        else resolve(message.result);
      });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.#socket.close();
  }
}

async function requestsFor(target: SigningTarget, base: string): Promise<PresignedRequest[]> {
  const created = await send(base, await presign(target, "CreateKey", {}));
  const keyId = (created as { KeyMetadata: { KeyId: string } }).KeyMetadata.KeyId;
  const plaintext = crypto.getRandomValues(new Uint8Array(4096)).toBase64();
  const payloads: Record<string, () => Promise<unknown>> = {
    GenerateDataKey: () =>
      Promise.resolve({
        KeyId: keyId,
        KeySpec: "AES_256",
        EncryptionContext: { purpose: "bench" },
      }),
    GenerateDataKeyPair: () =>
      Promise.resolve({
        KeyId: keyId,
        KeyPairSpec: env.PROFILE_PAIR_SPEC ?? "ECC_NIST_EDWARDS25519",
      }),
    Sign: () => signingPayload(target, base),
    Encrypt: () => Promise.resolve({ KeyId: keyId, Plaintext: plaintext }),
    Decrypt: async () => {
      const sealed = await send(
        base,
        await presign(target, "Encrypt", { KeyId: keyId, Plaintext: plaintext }),
      );
      return { CiphertextBlob: (sealed as { CiphertextBlob: string }).CiphertextBlob };
    },
  };
  const payload = payloads[SETTINGS.op];
  if (payload === undefined) throw new Error(`PROFILE_OP: unknown operation ${SETTINGS.op}`);
  const requests: PresignedRequest[] = [];
  for (let i = 0; i < 8; i++) requests.push(await presign(target, SETTINGS.op, await payload()));
  return requests;
}

/** A Sign request of 256 random bytes under a new SIGN_VERIFY key of PROFILE_SIGN_SPEC. */
async function signingPayload(target: SigningTarget, base: string): Promise<unknown> {
  const spec = env.PROFILE_SIGN_SPEC ?? "ECC_SECG_P256K1";
  signingKeyId ??= ((await send(
    base,
    await presign(target, "CreateKey", { KeyUsage: "SIGN_VERIFY", KeySpec: spec }),
  )) as { KeyMetadata: { KeyId: string } }).KeyMetadata.KeyId;
  const algorithm = { SM2: "SM2DSA", ECC_NIST_EDWARDS25519: "ED25519_SHA_512" }[spec] ??
    (spec.startsWith("RSA") ? "RSASSA_PSS_SHA_256" : "ECDSA_SHA_256");
  const message = crypto.getRandomValues(new Uint8Array(256)).toBase64();
  return { KeyId: signingKeyId, Message: message, MessageType: "RAW", SigningAlgorithm: algorithm };
}
let signingKeyId: string | undefined;

async function send(base: string, request: PresignedRequest): Promise<unknown> {
  const { host: _host, ...headers } = request.headers;
  const response = await fetch(`${base}/`, { method: "POST", headers, body: request.body });
  const json = await response.json();
  if (!response.ok) throw new Error(`${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** Prints the top rows in µs per request, scaled by `scale` (profiled wall time to CPU time). */
function table(
  title: string,
  rows: SelfTime[],
  view: { requests: number; totalUs: number; scale: number },
): void {
  const { requests, totalUs, scale } = view;
  console.log(`\n${title}`);
  console.log("  µs/req   share  name");
  for (const row of rows.slice(0, SETTINGS.top)) {
    const perRequest = (scale * row.selfUs / requests).toFixed(1).padStart(7);
    const share = `${(100 * row.selfUs / totalUs).toFixed(1)}%`.padStart(6);
    console.log(`  ${perRequest}  ${share}  ${row.name}`);
  }
}

async function main(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kms-profile-" });
  const server = await ServerProcess.start({
    denoFlags: ["--inspect=127.0.0.1:0"],
    env: {
      KMS_DB_URL: `file:${dir}/kms.db`,
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
      ...SETTINGS.serverEnv,
    },
  });
  try {
    const inspectorUrl = /ws:\/\/\S+/.exec(server.tail())?.[0];
    if (inspectorUrl === undefined) throw new Error(`no inspector URL in:\n${server.tail()}`);
    const base = `http://127.0.0.1:${server.port}`;
    const target = { host: `127.0.0.1:${server.port}`, region: REGION, ...ADMIN };
    const requests = await requestsFor(target, base);
    const inspector = await Inspector.connect(inspectorUrl);
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: SETTINGS.intervalUs });
    const warmupMs = SETTINGS.warmupSeconds * 1000;
    const durationMs = SETTINGS.seconds * 1000;
    const startAt = Date.now() + 100;
    const load = runLoad({
      transport: "raw",
      url: `${base}/`,
      requests,
      connections: SETTINGS.concurrency,
      startAt,
      warmupMs,
      durationMs,
    });
    await new Promise((resolve) => setTimeout(resolve, startAt + warmupMs - Date.now()));
    await inspector.send("Profiler.start");
    if (SETTINGS.heap) {
      await inspector.send("HeapProfiler.enable");
      await inspector.send("HeapProfiler.startSampling", {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    }
    const cpuBefore = cpuSeconds(server.pid, server.pid);
    const result = await load;
    const cpuAfter = cpuSeconds(server.pid, server.pid);
    const { profile } = await inspector.send("Profiler.stop") as { profile: CpuProfile };
    const heap = SETTINGS.heap
      ? (await inspector.send("HeapProfiler.stopSampling") as { profile: HeapProfile }).profile
      : undefined;
    inspector.close();
    if (SETTINGS.out !== undefined) {
      await Deno.writeTextFile(SETTINGS.out, JSON.stringify(profile));
      if (heap !== undefined) {
        await Deno.writeTextFile(`${SETTINGS.out}.heapprofile`, JSON.stringify(heap));
      }
    }
    const requestsServed = result.completed;
    if (requestsServed === 0) throw new Error(`no request completed: ${result.firstError}`);
    const { functions, modules, owners } = aggregate(profile);
    const totalUs = profile.endTime - profile.startTime;
    const idle = functions.find((row) => row.name.startsWith("(idle)"))?.selfUs ?? 0;
    const cpuUsPerRequest = (cpuAfter - cpuBefore) * 1e6 / requestsServed;
    const wallUsPerRequest = (totalUs - idle) / requestsServed;
    console.log(
      `${SETTINGS.op}: ${requestsServed} requests in ${SETTINGS.seconds} s ` +
        `(${
          (requestsServed / SETTINGS.seconds).toFixed(0)
        }/s, concurrency ${SETTINGS.concurrency}` +
        `, ${result.errors} errors)`,
    );
    console.log(
      `main-thread CPU (/proc): ${cpuUsPerRequest.toFixed(0)} µs/req; profiled non-idle: ` +
        `${wallUsPerRequest.toFixed(0)} µs/req of wall time (${profile.samples.length} samples ` +
        `at ${SETTINGS.intervalUs} µs)`,
    );
    // Samples are taken on wall time: a thread waiting for a CPU is charged to where it stood.
    // The tables scale the profile to the main thread's CPU time so runs compare under load.
    const scale = Number.isFinite(cpuUsPerRequest) && wallUsPerRequest > 0
      ? cpuUsPerRequest / wallUsPerRequest
      : 1;
    console.log(`tables: profiled time x ${scale.toFixed(2)} (scaled to the /proc CPU time)`);
    const view = { requests: requestsServed, totalUs, scale };
    const top = SETTINGS.top;
    const busy = (rows: SelfTime[]) => rows.filter((row) => !row.name.startsWith("(idle)"));
    table(`top ${top} functions by self time`, busy(functions), view);
    table(`top ${top} modules by self time`, busy(modules), view);
    table(
      `top ${top} functions of this repository, with the runtime and npm code they call`,
      busy(owners),
      view,
    );
    if (heap !== undefined) {
      const rows = allocations(heap);
      const total = rows.reduce((sum, row) => sum + row.selfUs, 0);
      console.log(
        `\ntop ${top} functions by bytes allocated (sampled), ` +
          `${(total / requestsServed).toFixed(0)} bytes/req in all`,
      );
      console.log(" bytes/req   share  name");
      for (const row of rows.slice(0, top)) {
        const perRequest = (row.selfUs / requestsServed).toFixed(0).padStart(9);
        console.log(
          `${perRequest}  ${(100 * row.selfUs / total).toFixed(1).padStart(5)}%  ${row.name}`,
        );
      }
    }
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
