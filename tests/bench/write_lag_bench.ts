/**
 * What state-changing requests cost the request thread, with the database
 * worker (storage/db_worker_client.ts, `KMS_DB_WORKER=on`, the default) and
 * without it (`off`: commits on the request thread), as A/B pairs alternated
 * in one run: each round starts a fresh bench_server.ts (KMS_WORKERS=1, a new
 * database file) per variant and drives it with pre-signed requests through
 * the real HTTP server.
 *
 * Phases (each at `WRITE_BENCH_CONNECTIONS` in flight, default 16):
 * - `Tag`: TagResource / UntagResource on one key, alternating (every request commits).
 * - `CreateKey`: a new key per request (key, material and audit rows in each commit).
 * - `Hot`: GenerateDataKey / Encrypt / Decrypt (warm caches): whether any database
 *   call remains on the request thread.
 *
 * Per phase and variant it prints: requests/s; the event loop's lag p99 and
 * max (a 1 ms timer in the server, `GET /__bench/lag`); the main thread's CPU
 * µs per request (/proc/<pid>/task/<pid>/stat, 10 ms ticks); the main
 * thread's database calls per request and µs inside them per request
 * (`observeDatabaseCalls`); and the longest single database call.
 *
 *   deno run --allow-all tests/bench/write_lag_bench.ts
 *
 * First, in this process: one-row commits (WAL, synchronous=FULL) one after
 * another on a connection of this thread and through a DbWorkerClient, each
 * alone and through a WriteQueue (its lock check is one more round trip): the
 * wall time of each, and how many times a 0 ms timer chain ran meanwhile (0:
 * the commits held the event loop the whole time); and reads by primary key
 * on this thread's connection (what the write operations still read there).
 *
 * Environment: WRITE_BENCH_ROUNDS (2), WRITE_BENCH_SECONDS (5),
 * WRITE_BENCH_CONNECTIONS (16), WRITE_BENCH_PHASES (Tag,CreateKey,Hot),
 * WRITE_BENCH_JSON (a file that receives every measurement).
 *
 * @module
 */
import { runLoad } from "./load.ts";
import { cpuSeconds, ServerProcess } from "./server_process.ts";
import type { LagReport } from "./bench_server.ts";
import { presign, type PresignedRequest, type SigningTarget } from "./signing.ts";
import { openDatabase } from "../../storage/client.ts";
import { DbWorkerClient } from "../../storage/db_worker_client.ts";
import { type BatchClient, WriteQueue } from "../../storage/write_queue.ts";

const ADMIN = {
  accessKeyId: "AKIABENCHADMIN000001",
  secretAccessKey: "bench-secret-access-key-000000000000000",
};
const REGION = "us-east-1";
const ACCOUNT_ID = "111122223333";

function envNumber(name: string, fallback: number): number {
  const value = Number(Deno.env.get(name) ?? "");
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const ROUNDS = envNumber("WRITE_BENCH_ROUNDS", 2);
const SECONDS = envNumber("WRITE_BENCH_SECONDS", 5);
const CONNECTIONS = envNumber("WRITE_BENCH_CONNECTIONS", 16);
const PHASES = (Deno.env.get("WRITE_BENCH_PHASES") ?? "Tag,CreateKey,Hot").split(",");
const WARMUP_MS = 1500;
const VARIANTS = [
  { name: "worker", env: { KMS_DB_WORKER: "on" } },
  { name: "in-thread", env: { KMS_DB_WORKER: "off" } },
] as const;

/** One phase of one variant in one round. */
interface Measurement {
  round: number;
  variant: string;
  phase: string;
  perSecond: number;
  errors: number;
  firstError: string | undefined;
  lagP99Ms: number;
  lagMaxMs: number;
  lagMaxOwnMs: number;
  mainCpuUsPerRequest: number;
  dbCallsPerRequest: number;
  dbUsPerRequest: number;
  dbMaxMs: number;
  dbMaxSql: string;
  /** The main thread's database calls by statement (the 8 with most time). */
  dbTop: { sql: string; calls: number; totalMs: number; maxMs: number }[];
}

async function call(target: SigningTarget, operation: string, payload: unknown) {
  const request = await presign(target, operation, payload);
  const headers = { ...request.headers };
  delete headers["host"];
  delete headers["content-length"];
  const response = await fetch(`http://${target.host}/`, {
    method: "POST",
    headers,
    body: request.body,
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${operation}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** The requests of `phase`: connection c replays requests c, c + n, ... (load.ts). */
async function requestsOf(
  phase: string,
  target: SigningTarget,
  keyId: string,
): Promise<PresignedRequest[]> {
  const requests: PresignedRequest[] = [];
  switch (phase) {
    case "Tag":
      for (let i = 0; i < 32; i++) {
        requests.push(
          await presign(target, i % 2 === 0 ? "TagResource" : "UntagResource", {
            KeyId: keyId,
            ...(i % 2 === 0
              ? { Tags: [{ TagKey: `bench-${i >> 1}`, TagValue: `v${i}` }] }
              : { TagKeys: [`bench-${i >> 1}`] }),
          }),
        );
      }
      return requests;
    case "CreateKey":
      for (let i = 0; i < 8; i++) {
        requests.push(await presign(target, "CreateKey", { Description: `bench key ${i}` }));
      }
      return requests;
    case "Hot": {
      const encrypted = await call(target, "Encrypt", {
        KeyId: keyId,
        Plaintext: new Uint8Array(64).fill(7).toBase64(),
      });
      for (let i = 0; i < 8; i++) {
        requests.push(
          await presign(target, "GenerateDataKey", { KeyId: keyId, KeySpec: "AES_256" }),
        );
        requests.push(
          await presign(target, "Encrypt", {
            KeyId: keyId,
            Plaintext: new Uint8Array(64).fill(i).toBase64(),
          }),
        );
        requests.push(
          await presign(target, "Decrypt", { CiphertextBlob: encrypted["CiphertextBlob"] }),
        );
      }
      return requests;
    }
  }
  throw new Error(`unknown phase ${phase}`);
}

/** Runs `phase` against `server` and measures its window. */
async function measure(
  server: ServerProcess,
  target: SigningTarget,
  keyId: string,
  phase: string,
): Promise<Omit<Measurement, "round" | "variant">> {
  const requests = await requestsOf(phase, target, keyId);
  const base = `http://${target.host}`;
  const startAt = Date.now() + 100;
  let cpu0 = NaN;
  const windowOpened = new Promise<void>((resolve) =>
    setTimeout(async () => {
      await fetch(`${base}/__bench/lag/reset`, { method: "POST" }).then((r) => r.body?.cancel());
      cpu0 = cpuSeconds(server.pid, server.pid);
      resolve();
    }, startAt + WARMUP_MS - Date.now())
  );
  const result = await runLoad({
    transport: "raw",
    url: base + "/",
    requests,
    connections: CONNECTIONS,
    startAt,
    warmupMs: WARMUP_MS,
    durationMs: SECONDS * 1000,
  });
  await windowOpened;
  const cpu = cpuSeconds(server.pid, server.pid) - cpu0;
  const lag = await (await fetch(`${base}/__bench/lag`)).json() as LagReport;
  const n = Math.max(1, result.completed);
  return {
    phase,
    perSecond: result.completed / SECONDS,
    errors: result.errors,
    firstError: result.firstError,
    lagP99Ms: lag.p99Ms,
    lagMaxMs: lag.maxMs,
    lagMaxOwnMs: lag.maxOwnMs,
    mainCpuUsPerRequest: (cpu * 1e6) / n,
    dbCallsPerRequest: (lag.db?.calls ?? 0) / n,
    dbUsPerRequest: ((lag.db?.totalMs ?? 0) * 1000) / n,
    dbMaxMs: lag.db?.maxMs ?? 0,
    dbMaxSql: lag.db?.maxSql ?? "",
    dbTop: lag.db?.top ?? [],
  };
}

async function runVariant(
  dir: string,
  round: number,
  variant: (typeof VARIANTS)[number],
): Promise<Measurement[]> {
  const server = await ServerProcess.start({
    denoFlags: [],
    env: {
      KMS_DB_URL: `file:${dir}/${variant.name}-${round}.db`,
      KMS_ROOT_KEY: new Uint8Array(32).fill(42).toBase64(),
      KMS_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
      KMS_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
      KMS_ACCOUNT_ID: ACCOUNT_ID,
      KMS_REGION: REGION,
      KMS_PORT: "0",
      KMS_LOG_LEVEL: "warn",
      KMS_WORKERS: "1",
      ...variant.env,
    },
  });
  try {
    const target: SigningTarget = { host: `127.0.0.1:${server.port}`, region: REGION, ...ADMIN };
    const created = await call(target, "CreateKey", { Description: "write lag bench" });
    const keyId = String((created["KeyMetadata"] as Record<string, unknown>)["KeyId"]);
    const out: Measurement[] = [];
    for (const phase of PHASES) {
      out.push({ round, variant: variant.name, ...await measure(server, target, keyId, phase) });
    }
    return out;
  } finally {
    await server.stop();
  }
}

function printTable(all: Measurement[]): void {
  const fixed = (x: number, digits = 1) => x.toFixed(digits);
  console.log(
    [
      "round",
      "variant",
      "phase",
      "req/s",
      "err",
      "lag p99 ms",
      "lag max ms",
      "own max ms",
      "main CPU µs/req",
      "db calls/req",
      "db µs/req",
      "db max ms",
    ].join("\t"),
  );
  for (const m of all) {
    console.log(
      [
        m.round,
        m.variant,
        m.phase,
        fixed(m.perSecond, 0),
        m.errors,
        fixed(m.lagP99Ms),
        fixed(m.lagMaxMs),
        fixed(m.lagMaxOwnMs),
        fixed(m.mainCpuUsPerRequest, 0),
        fixed(m.dbCallsPerRequest, 3),
        fixed(m.dbUsPerRequest, 1),
        fixed(m.dbMaxMs, 2),
      ].join("\t"),
    );
  }
  for (const m of all) {
    if (m.firstError !== undefined) console.log(`${m.variant} ${m.phase}: ${m.firstError}`);
  }
  console.log(
    "\nThe main thread's database calls per phase (round 1): calls, total ms, max ms, SQL",
  );
  for (const m of all.filter((m) => m.round === 1)) {
    for (const top of m.dbTop.slice(0, 4)) {
      console.log(
        `${m.variant}\t${m.phase}\t${top.calls}\t${fixed(top.totalMs)}\t${
          fixed(top.maxMs, 2)
        }\t${top.sql}`,
      );
    }
  }
}

/** `n` one-row commits one after another: wall ms of each (sorted), and timer turns meanwhile. */
async function commitsOn(
  db: BatchClient | WriteQueue,
  n: number,
): Promise<{ ms: number[]; ticks: number }> {
  const insert = { sql: "INSERT INTO t (v) VALUES (?)", args: ["x".repeat(500)] };
  const commit = db instanceof WriteQueue
    ? () => db.submit([insert])
    : () => db.batch([insert], "write");
  let ticks = 0;
  let running = true;
  const tick = () => {
    ticks++;
    if (running) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await commit();
    ms.push(performance.now() - started);
  }
  running = false;
  return { ms: ms.sort((a, b) => a - b), ticks };
}

/** Prints what one commit costs the calling thread, on it and through a database worker. */
async function commitCost(dir: string): Promise<void> {
  const url = `file:${dir}/commits.db`;
  const db = await openDatabase(url);
  await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  const worker = new DbWorkerClient(url);
  await worker.open();
  try {
    // The store's path: a WriteQueue with the lock check in slices (storage/sqlite_store.ts).
    const queue = (on: BatchClient) => new WriteQueue(on, { lockCheck: { sliceMs: 100 } });
    const paths = [
      ["in-thread", db],
      ["worker", worker],
      ["in-thread WriteQueue", queue(db)],
      ["worker WriteQueue", queue(worker)],
    ] as const;
    for (const [name, client] of paths) {
      const { ms, ticks } = await commitsOn(client, 200);
      const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(ms.length * q))]!.toFixed(2);
      console.log(
        `one-row commit, ${name}: p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms; ` +
          `0 ms timer turns during the 200 commits: ${ticks}`,
      );
    }
    // A read by primary key on this thread's connection (the reads left on the write path).
    const reads: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const started = performance.now();
      await db.execute({ sql: "SELECT id, v FROM t WHERE id = ?", args: [1 + (i % 200)] });
      reads.push(performance.now() - started);
    }
    reads.sort((a, b) => a - b);
    const at = (q: number) => reads[Math.floor(reads.length * q)]!.toFixed(3);
    console.log(`one-row read by primary key, in-thread: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`);
  } finally {
    await worker.close();
    db.close();
  }
}

async function main(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kms_write_lag_" });
  const all: Measurement[] = [];
  try {
    await commitCost(dir);
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate which variant goes first, so neither always meets the quieter machine.
      const order = round % 2 === 1 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order) {
        const measured = await runVariant(dir, round, variant);
        for (const m of measured) {
          console.error(
            `${variant.name} ${m.phase}: ${m.perSecond.toFixed(0)} req/s, lag p99 ` +
              `${m.lagP99Ms} ms max ${m.lagMaxMs.toFixed(1)} ms, db ${
                m.dbUsPerRequest.toFixed(1)
              } µs/req`,
          );
        }
        all.push(...measured);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  printTable(all);
  const json = Deno.env.get("WRITE_BENCH_JSON");
  if (json !== undefined) await Deno.writeTextFile(json, JSON.stringify(all, null, 2));
}

if (import.meta.main) await main();
