/**
 * The Sign and Verify phases of `deno task bench` (driven by `http_bench.ts`,
 * which owns the server and the load client).
 *
 * For each signing key spec (ECC_NIST_P256, ECC_SECG_P256K1, SM2,
 * ECC_NIST_EDWARDS25519, ML_DSA_65, RSA_2048) it creates a KMS key with
 * KeyUsage SIGN_VERIFY, signs 8 random 256-byte messages through the KMS
 * (which also fills the service's cache of imported keys), then runs Sign and
 * Verify (RAW messages, the 8 pre-signed requests replayed) at concurrency 4
 * and 16 for a bounded time. Each operation is compared with the raw
 * in-process rate of the same operation on the same key material in the same
 * server process (`POST /__bench/raw-sign`: `importSigningEngine` /
 * `importVerifyingEngine`, the synchronous engines the service and its crypto
 * workers sign with, on the server's main thread, the verifying key imported
 * from the DER SPKI as Verify does, one call at a time), measured right before
 * and right after the spec's HTTP phases. Over HTTP the operations `OFFLOADED`
 * names (here ML-DSA, RSA signing and SM2 verification) run in the server's
 * crypto workers (`KMS_CRYPTO_WORKERS`, passed on from this process's
 * environment; default `min(2, cores)`; 0 keeps everything on the main
 * thread), so their ratio can exceed 1. Targets: requests/s ≥ 0.7 × the raw
 * rate, and the server's event loop never held for more than 5 ms (worst lag
 * of a 1 ms timer during the measured window, `GET /__bench/lag`). The server
 * runs with its RSA pools at 0, so no background RSA generation competes.
 *
 * Algorithms: ECDSA_SHA_256 (P-256, secp256k1), SM2DSA, ED25519_SHA_512,
 * ML_DSA_SHAKE_256 and RSASSA_PSS_SHA_256 (the RSA scheme AWS recommends; PSS
 * and PKCS#1 v1.5 share the private-key exponentiation that dominates).
 *
 * The tables end with notes computed from the measurements for every miss:
 * how much main-thread CPU the cryptography takes per call, how much the rest
 * of a request takes (SigV4, JSON, base64, HTTP), the rate one main thread can
 * reach with both, and the worst lags split into time the main thread ran and
 * time it waited for a CPU.
 *
 * A/B in the same run (BENCH_SIGN_AB=1, the default): each phase is
 * followed by the same phase against a second server on the same database
 * started with `KMS_CRYPTO_WORKERS=0` (everything on the main thread), so
 * routing an operation to the workers shows as a ratio of two rates taken
 * seconds apart under the same outside load, and as main-thread CPU µs per
 * request. This is the measurement `OFFLOADED` follows.
 *
 * One command for the Sign/Verify ratios: `BENCH_OPS=Sign,Verify
 * npx -y deno@2.9.6 task bench` (BENCH_SIGN_SPECS to narrow it).
 *
 * Environment (besides `http_bench.ts`'s): BENCH_SIGN_AB (1: the A/B above; 0: off), BENCH_SIGN_SECONDS (measured
 * seconds per phase, 3), BENCH_SIGN_WARMUP_SECONDS (0.5),
 * BENCH_SIGN_CONCURRENCY (comma list, `4,16`), BENCH_SIGN_SPECS (comma list,
 * default all six), BENCH_SIGN_RAW_SECONDS (each in-process measurement, 1).
 *
 * @module
 */
import { defaultPoolSize } from "../../core/crypto/crypto_workers.ts";
import {
  OFFLOADED,
  type SigningAlgorithmSpec,
  type SigningKeySpec,
} from "../../core/crypto/signatures.ts";
import type { LagEvent, SignReport } from "./bench_server.ts";
import type { PhaseResult } from "./http_bench.ts";
import { type PresignedRequest, presignMany, type SigningTarget } from "./signing.ts";
import type { ServerProcess } from "./server_process.ts";

/** The two operations. */
export type SignOperation = "Sign" | "Verify";

/** Both operations, in the order they run. */
export const SIGN_OPERATIONS: readonly SignOperation[] = ["Sign", "Verify"];

/** What the phases need from `http_bench.ts`'s harness. */
export interface SignHarness {
  /** `http://127.0.0.1:<port>` of the running server. */
  readonly base: string;
  readonly target: SigningTarget;
  /** Warm-up, then a measured window at `concurrency` (the loaded phase of `http_bench.ts`). */
  phase(
    name: string,
    path: string,
    requests: PresignedRequest[],
    timing: { concurrency: number; warmupMs: number; durationMs: number },
  ): Promise<PhaseResult>;
  /** One signed call; the parsed reply. @throws on a non-200 reply */
  call(operation: string, payload: unknown): Promise<Record<string, unknown>>;
  /** Starts another server on the database file `dbFile` with `env` added (not made current). */
  spawn(dbFile: string, env: Record<string, string>): Promise<ServerProcess>;
  /** Runs `fn` with `server` as the current server. */
  using<T>(server: ServerProcess, fn: () => Promise<T>): Promise<T>;
}

/** A key spec and the signing algorithm its phases use. */
interface SignCase {
  spec: SigningKeySpec;
  algorithm: SigningAlgorithmSpec;
}

const CASES: readonly SignCase[] = [
  { spec: "ECC_NIST_P256", algorithm: "ECDSA_SHA_256" },
  { spec: "ECC_SECG_P256K1", algorithm: "ECDSA_SHA_256" },
  { spec: "SM2", algorithm: "SM2DSA" },
  { spec: "ECC_NIST_EDWARDS25519", algorithm: "ED25519_SHA_512" },
  { spec: "ML_DSA_65", algorithm: "ML_DSA_SHAKE_256" },
  { spec: "RSA_2048", algorithm: "RSASSA_PSS_SHA_256" },
];
const DISTINCT_REQUESTS = 8;
const MESSAGE_BYTES = 256;
const RAW_RATIO_TARGET = 0.7;
const LAG_TARGET_MS = 5;

// Small helpers, as in http_bench.ts (kept here so this module does not import it at run time).
function envNumber(name: string, fallback: number, min = 0, max = Number.MAX_VALUE): number {
  const value = Deno.env.get(name);
  const n = value === undefined || value === "" ? fallback : Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new Error(`${name} must be a number in ${min}..${max}`);
  }
  return n;
}

function envList(name: string, fallback: string): string[] {
  return (Deno.env.get(name) ?? fallback).split(",").map((s) => s.trim()).filter((s) => s !== "");
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "n/a";

const verdict = (pass: boolean) => pass ? "PASS" : "MISS";

function table(header: string[], widths: number[], rows: string[][]): void {
  const cell = (text: string, i: number) =>
    widths[i]! < 0 ? text.padEnd(Math.abs(widths[i]!)) : text.padStart(widths[i]!);
  const head = header.map(cell).join("  ").trimEnd();
  console.log(head);
  console.log("-".repeat(head.length));
  for (const row of rows) console.log(row.map(cell).join("  ").trimEnd());
}

const requestedSpecs = envList("BENCH_SIGN_SPECS", CASES.map((c) => c.spec).join(","));

/** The settings of these phases, from the environment (see the module doc). */
export const SIGN_SETTINGS = {
  seconds: envNumber("BENCH_SIGN_SECONDS", 3, 0.1),
  ab: envNumber("BENCH_SIGN_AB", 1, 0, 1) === 1,
  warmupSeconds: envNumber("BENCH_SIGN_WARMUP_SECONDS", 0.5),
  concurrencies: envList("BENCH_SIGN_CONCURRENCY", "4,16").map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error("BENCH_SIGN_CONCURRENCY: positive integers");
    return n;
  }),
  cases: CASES.filter((c) => requestedSpecs.includes(c.spec)),
  ignoredSpecs: requestedSpecs.filter((spec) => !CASES.some((c) => c.spec === spec)),
  rawSeconds: envNumber("BENCH_SIGN_RAW_SECONDS", 1, 0.05, 60),
  /** The server's crypto workers: the server inherits this process's environment. */
  cryptoWorkers: Deno.env.get("KMS_CRYPTO_WORKERS")
    ? envNumber("KMS_CRYPTO_WORKERS", 0, 0, 64)
    : defaultPoolSize(),
};

/** Whether the server runs this operation of this spec in its crypto workers. */
function offloaded(spec: SigningKeySpec, operation: SignOperation): boolean {
  return SIGN_SETTINGS.cryptoWorkers > 0 &&
    OFFLOADED[spec][operation === "Sign" ? "sign" : "verify"];
}

/** One line describing these phases, for the benchmark's header. */
export function signSettingsLine(): string {
  const s = SIGN_SETTINGS;
  const ignored = s.ignoredSpecs.length > 0 ? `; ignored BENCH_SIGN_SPECS: ${s.ignoredSpecs}` : "";
  return `sign:    ${s.cases.length} key specs at concurrency ${s.concurrencies.join(" and ")}, ` +
    `${s.warmupSeconds} s warm-up + ${s.seconds} s measured per phase, ${MESSAGE_BYTES}-byte ` +
    `RAW messages; in-process sign/verify ${s.rawSeconds} s per measurement; ` +
    `${s.cryptoWorkers} server crypto workers${ignored}`;
}

/** One operation of one spec: its loaded phases between two in-process measurements. */
export interface SignOpResult {
  operation: SignOperation;
  rawBefore: SignReport;
  rawAfter: SignReport;
  phases: PhaseResult[];
  /** The same phases against the server with `KMS_CRYPTO_WORKERS=0` (BENCH_SIGN_AB). */
  baselines: (PhaseResult | undefined)[];
}

/** A spec's key and its operations. */
export interface SignResult {
  spec: SigningKeySpec;
  algorithm: SigningAlgorithmSpec;
  keyId: string;
  ops: SignOpResult[];
}

/** The signed messages of a spec's requests: base64 message and signature, as the KMS made it. */
interface SignedMessage {
  message: string;
  signature: string;
}

async function createSigningKey(h: SignHarness, spec: SigningKeySpec): Promise<string> {
  const reply = await h.call("CreateKey", {
    KeySpec: spec,
    KeyUsage: "SIGN_VERIFY",
    Description: `bench ${spec} signing key`,
  });
  return (reply.KeyMetadata as { KeyId: string }).KeyId;
}

/** Signs DISTINCT_REQUESTS random messages through the KMS and checks one with Verify. */
async function signMessages(
  h: SignHarness,
  keyId: string,
  algorithm: SigningAlgorithmSpec,
): Promise<SignedMessage[]> {
  const out: SignedMessage[] = [];
  for (let i = 0; i < DISTINCT_REQUESTS; i++) {
    const message = crypto.getRandomValues(new Uint8Array(MESSAGE_BYTES)).toBase64();
    const reply = await h.call("Sign", {
      KeyId: keyId,
      Message: message,
      MessageType: "RAW",
      SigningAlgorithm: algorithm,
    });
    out.push({ message, signature: reply.Signature as string });
  }
  const check = await h.call("Verify", verifyPayload(keyId, algorithm, out[0]!));
  if (check.SignatureValid !== true) {
    throw new Error(`Verify ${algorithm}: ${JSON.stringify(check)}`);
  }
  return out;
}

function verifyPayload(keyId: string, algorithm: SigningAlgorithmSpec, signed: SignedMessage) {
  return {
    KeyId: keyId,
    Message: signed.message,
    MessageType: "RAW",
    Signature: signed.signature,
    SigningAlgorithm: algorithm,
  };
}

function signRequests(
  h: SignHarness,
  operation: SignOperation,
  keyId: string,
  algorithm: SigningAlgorithmSpec,
  signed: SignedMessage[],
): Promise<PresignedRequest[]> {
  return presignMany(h.target, operation, DISTINCT_REQUESTS, (i) => {
    const one = signed[i % signed.length]!;
    return operation === "Sign"
      ? { KeyId: keyId, Message: one.message, MessageType: "RAW", SigningAlgorithm: algorithm }
      : verifyPayload(keyId, algorithm, one);
  });
}

/** The in-process rate of `operation` on the KMS key's own material. */
async function measureRaw(
  h: SignHarness,
  c: SignCase,
  keyId: string,
  operation: SignOperation,
): Promise<SignReport> {
  const response = await fetch(`${h.base}/__bench/raw-sign`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      spec: c.spec,
      algorithm: c.algorithm,
      op: operation === "Sign" ? "sign" : "verify",
      ms: Math.round(SIGN_SETTINGS.rawSeconds * 1000),
      keyId,
      messageBytes: MESSAGE_BYTES,
    }),
  });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`raw-sign ${c.spec} ${operation}: ${response.status} ${text}`);
  }
  return JSON.parse(text) as SignReport;
}

function phaseLine(r: PhaseResult): string {
  const errors = r.errors === 0 ? "" : `, ${r.errors} errors, first: ${r.firstError}`;
  return `  ${r.name.padEnd(28)} @${String(r.concurrency).padEnd(3)} ${
    fmt(r.rate).padStart(6)
  } req/s  p50 ${fmt(r.p50, 2)} ms  p99 ${fmt(r.p99, 2)} ms  lag ${fmt(r.lag.maxMs, 1)} ms` +
    errors;
}

async function measureRawAll(
  h: SignHarness,
  c: SignCase,
  keyId: string,
  operations: readonly SignOperation[],
): Promise<Map<SignOperation, SignReport>> {
  const out = new Map<SignOperation, SignReport>();
  for (const operation of operations) out.set(operation, await measureRaw(h, c, keyId, operation));
  return out;
}

/** Runs `operations` for one spec: key, messages, raw before, phases, raw after. */
async function runCase(
  h: SignHarness,
  c: SignCase,
  operations: readonly SignOperation[],
  inProcess: ServerProcess | undefined,
): Promise<SignResult> {
  const s = SIGN_SETTINGS;
  const keyId = await createSigningKey(h, c.spec);
  const signed = await signMessages(h, keyId, c.algorithm);
  const before = await measureRawAll(h, c, keyId, operations);
  const phases = new Map<SignOperation, PhaseResult[]>();
  const baselines = new Map<SignOperation, (PhaseResult | undefined)[]>();
  for (const operation of operations) {
    const results: PhaseResult[] = [];
    const others: (PhaseResult | undefined)[] = [];
    for (const concurrency of s.concurrencies) {
      const timing = {
        concurrency,
        warmupMs: s.warmupSeconds * 1000,
        durationMs: s.seconds * 1000,
      };
      const requests = await signRequests(h, operation, keyId, c.algorithm, signed);
      const result = await h.phase(`${operation} ${c.spec}`, "/", requests, timing);
      console.log(phaseLine(result));
      results.push(result);
      others.push(
        inProcess === undefined ? undefined : await h.using(inProcess, async () => {
          const again = await signRequests(h, operation, keyId, c.algorithm, signed);
          const r = await h.phase(`${operation} ${c.spec} (workers 0)`, "/", again, timing);
          console.log(phaseLine(r));
          return r;
        }),
      );
    }
    phases.set(operation, results);
    baselines.set(operation, others);
  }
  const after = await measureRawAll(h, c, keyId, operations);
  const ops = operations.map((operation) => ({
    operation,
    rawBefore: before.get(operation)!,
    rawAfter: after.get(operation)!,
    phases: phases.get(operation)!,
    baselines: baselines.get(operation)!,
  }));
  console.log(
    `  ${c.spec}: raw ` +
      ops.map((o) =>
        `${o.operation.toLowerCase()} ${fmt(o.rawBefore.perSecond)}/s before, ` +
        `${fmt(o.rawAfter.perSecond)}/s after`
      ).join("; "),
  );
  return { spec: c.spec, algorithm: c.algorithm, keyId, ops };
}

/**
 * Runs `operations` for every spec of BENCH_SIGN_SPECS at each concurrency, each spec between
 * two raw in-process measurements per operation. The server must have its RSA pools at 0.
 */
export async function runSignatures(
  h: SignHarness,
  operations: readonly SignOperation[],
): Promise<SignResult[]> {
  const inProcess = SIGN_SETTINGS.ab && SIGN_SETTINGS.cryptoWorkers > 0
    ? await h.spawn("kms.db", { KMS_CRYPTO_WORKERS: "0" })
    : undefined;
  try {
    const results: SignResult[] = [];
    for (const c of SIGN_SETTINGS.cases) results.push(await runCase(h, c, operations, inProcess));
    return results;
  } finally {
    await inProcess?.stop();
  }
}

// --- report ----------------------------------------------------------------------------

/** The raw rate an operation's phases are compared with: the mean of the two measurements. */
function rawRate(o: SignOpResult): number {
  return (o.rawBefore.perSecond + o.rawAfter.perSecond) / 2;
}

/** Main-thread CPU per in-process call, µs: the mean of the two measurements. */
function cryptoMainUs(o: SignOpResult): number {
  const perCall = (k: SignReport) => (k.mainThreadCpu * 1e6) / k.perSecond;
  return (perCall(o.rawBefore) + perCall(o.rawAfter)) / 2;
}

/** Whether most of the in-process loop's CPU was spent off the JS main thread. */
function runsOffMainThread(k: SignReport): boolean {
  return k.processCpu > 0.05 && k.mainThreadCpu / k.processCpu < 0.5;
}

/** The share of the process's CPU in the in-process loop that was not on the main thread. */
function offMainThread(k: SignReport): string {
  if (!(k.processCpu > 0.05)) return "n/a";
  return `${fmt(Math.max(0, 1 - k.mainThreadCpu / k.processCpu) * 100)}%`;
}

/** Per request, µs of a CPU share measured over a phase. */
function perRequestUs(r: PhaseResult, share: number): number {
  return r.completed > 0 ? (share * r.seconds * 1e6) / r.completed : Number.NaN;
}

function ratioPasses(o: SignOpResult, r: PhaseResult): boolean {
  return r.rate / rawRate(o) >= RAW_RATIO_TARGET && r.errors === 0;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)]!;
}

/** Where the server ran an operation over HTTP. */
function whereText(r: SignResult, o: SignOpResult): string {
  return offloaded(r.spec, o.operation) ? "worker" : "main";
}

/** The main thread's CPU per HTTP request for the cryptography itself, µs: 0 in a worker. */
function cryptoOnMainUs(r: SignResult, o: SignOpResult): number {
  return offloaded(r.spec, o.operation) ? 0 : cryptoMainUs(o);
}

function lagEventText(e: LagEvent): string {
  return `${fmt(e.lagMs, 1)} (ran ${fmt(e.ranMs, 1)}, waited for a CPU ${fmt(e.cpuWaitMs, 1)})`;
}

function printThroughput(results: SignResult[]): void {
  const s = SIGN_SETTINGS;
  console.log("");
  console.log(
    `Sign and Verify over HTTP (${MESSAGE_BYTES}-byte RAW messages, ${s.warmupSeconds} s ` +
      `warm-up + ${s.seconds} s measured per phase) beside the raw in-process rate ` +
      "(importSigningEngine / importVerifyingEngine (from the SPKI) on the same key, one call " +
      "at a time on the server's main thread, mean of a measurement right before and right " +
      "after the spec's phases); 'where' = where the server ran the operation over HTTP (its " +
      `${s.cryptoWorkers} crypto workers, or the main thread); 'lag' = worst event loop lag ` +
      "in the measured window, 'own' = that lag less the time the main thread waited for a " +
      "CPU:",
  );
  const rows: string[][] = [];
  for (const r of results) {
    for (const o of r.ops) {
      const raw = rawRate(o);
      for (const p of o.phases) {
        const errors = p.errors > 0 ? `  ${p.errors} errors` : "";
        rows.push([
          o.operation,
          r.spec,
          whereText(r, o),
          String(p.concurrency),
          fmt(p.rate),
          fmt(p.p50, 2),
          fmt(p.p99, 2),
          fmt(raw),
          fmt(p.rate / raw, 2),
          `≥ ${RAW_RATIO_TARGET}× raw  ${verdict(ratioPasses(o, p))}${errors}`,
          fmt(p.lag.maxMs, 1),
          fmt(p.lag.maxOwnMs, 1),
          `≤ ${LAG_TARGET_MS} ms  ${verdict(p.lag.maxMs <= LAG_TARGET_MS)}`,
          verdict(p.lag.maxOwnMs <= LAG_TARGET_MS),
        ]);
      }
    }
  }
  table(
    [
      "op",
      "spec",
      "where",
      "conc",
      "req/s",
      "p50 ms",
      "p99 ms",
      "raw/s",
      "ratio",
      "target",
      "lag",
      "own",
      "target: lag",
      "own",
    ],
    [-6, -21, -6, 4, 6, 7, 7, 6, 5, -20, 5, 5, -13, 4],
    rows,
  );
}

function printInProcess(results: SignResult[]): void {
  console.log("");
  console.log(
    "In-process Sign/Verify in the server, one call at a time (before / after the HTTP " +
      "phases): 'main µs' = JS main-thread CPU per call; 'off main' = share of the process's " +
      "CPU that was not on the main thread; 'p99 call' / 'longest' = wall time of a call at " +
      "the 99th percentile and of the longest call, ms (for work done synchronously on the " +
      "main thread, the event loop is held that long; GC pauses included):",
  );
  const rows: string[][] = [];
  for (const r of results) {
    for (const o of r.ops) {
      rows.push([
        o.operation,
        r.spec,
        r.algorithm,
        fmt(o.rawBefore.perSecond),
        fmt(o.rawAfter.perSecond),
        fmt(1e6 / rawRate(o), 1),
        fmt(cryptoMainUs(o), 1),
        offMainThread(o.rawBefore),
        fmt(Math.max(o.rawBefore.p99CallMs, o.rawAfter.p99CallMs), 2),
        fmt(longestCall(o), 2),
      ]);
    }
  }
  table(
    [
      "op",
      "spec",
      "algorithm",
      "raw/s before",
      "after",
      "µs/call",
      "main µs",
      "off main",
      "p99 call",
      "longest",
    ],
    [-6, -21, -18, 12, 6, 7, 7, 8, 8, 7],
    rows,
  );
}

function printCosts(results: SignResult[]): void {
  console.log("");
  console.log(
    "Cost per request during the loaded window, µs of CPU: server JS main thread, whole " +
      "server process, client process; 'crypto' = the main thread's CPU per in-process call " +
      "(0 where a crypto worker signs or verifies); 'rest' = JS − crypto: SigV4, JSON, " +
      "base64, key lookup, HTTP (and the hand-over to a worker); 'JS busy' = main thread " +
      "CPU share; 'others' = CPU of every other process on the machine, cores:",
  );
  const rows: string[][] = [];
  for (const r of results) {
    for (const o of r.ops) {
      const crypto = cryptoOnMainUs(r, o);
      for (const p of o.phases) {
        const js = perRequestUs(p, p.serverMainThreadCpu);
        rows.push([
          o.operation,
          r.spec,
          String(p.concurrency),
          fmt(js, 1),
          fmt(perRequestUs(p, p.serverCpu), 1),
          fmt(perRequestUs(p, p.clientCpu), 1),
          fmt(crypto, 1),
          fmt(js - crypto, 1),
          `${fmt(p.serverMainThreadCpu * 100)}%`,
          fmt(p.otherCpu, 2),
        ]);
      }
    }
  }
  table(
    [
      "op",
      "spec",
      "conc",
      "JS µs/req",
      "server µs",
      "client µs",
      "crypto",
      "rest",
      "JS busy",
      "others",
    ],
    [-6, -21, 4, 9, 9, 9, 7, 6, 7, 6],
    rows,
  );
}

/** The A/B table: each phase beside the same phase with `KMS_CRYPTO_WORKERS=0`. */
function printAb(results: SignResult[]): void {
  const rows: string[][] = [];
  for (const r of results) {
    for (const o of r.ops) {
      const raw = rawRate(o);
      o.phases.forEach((p, i) => {
        const b = o.baselines[i];
        if (b === undefined) return;
        rows.push([
          o.operation,
          r.spec,
          whereText(r, o),
          String(p.concurrency),
          fmt(p.rate),
          fmt(b.rate),
          fmt(p.rate / b.rate, 2),
          fmt(p.rate / raw, 2),
          fmt(b.rate / raw, 2),
          fmt(perRequestUs(p, p.serverMainThreadCpu), 1),
          fmt(perRequestUs(b, b.serverMainThreadCpu), 1),
          fmt(perRequestUs(p, p.serverCpu), 1),
          fmt(perRequestUs(b, b.serverCpu), 1),
        ]);
      });
    }
  }
  if (rows.length === 0) return;
  console.log("");
  console.log(
    "A/B in the same run: the server as configured ('where' it runs the operation) against a " +
      "second server on the same database with KMS_CRYPTO_WORKERS=0 (everything on the main " +
      "thread), phases back to back; ratios to the raw in-process rate; µs = CPU per request " +
      "(JS main thread, whole server process):",
  );
  table(
    [
      "op",
      "spec",
      "where",
      "conc",
      "req/s",
      "workers 0",
      "A/B",
      "ratio",
      "workers 0",
      "JS µs",
      "workers 0",
      "server µs",
      "workers 0",
    ],
    [-6, -21, -6, 4, 6, 9, 5, 5, 9, 6, 9, 9, 9],
    rows,
  );
}

/** Why a ratio missed: the main thread's budget per request against the target's. */
function ratioNote(r: SignResult, o: SignOpResult): string | undefined {
  const missed = o.phases.filter((p) => !ratioPasses(o, p));
  if (missed.length === 0) return undefined;
  const raw = rawRate(o);
  const crypto = cryptoOnMainUs(r, o);
  const rest = median(o.phases.map((p) => perRequestUs(p, p.serverMainThreadCpu) - crypto));
  const busy = Math.max(...o.phases.map((p) => p.serverMainThreadCpu));
  const errors = missed.reduce((n, p) => n + p.errors, 0);
  const bound = 1e6 / (crypto + rest);
  const ratios = missed.map((p) => `${fmt(p.rate / raw, 2)} @${p.concurrency}`).join(", ");
  if (offloaded(r.spec, o.operation)) {
    const workers = SIGN_SETTINGS.cryptoWorkers;
    return `  - ${o.operation} ${r.spec}: ratio ${ratios}${
      errors > 0 ? ` (${errors} errors)` : ""
    }. The ${r.algorithm} work runs in the server's ${workers} crypto workers (at most ` +
      `${fmt(workers * raw)}/s = ${workers}× raw, on ${navigator.hardwareConcurrency} cores ` +
      `shared with the main thread and the load client); the main thread spends a median ` +
      `${fmt(rest)} µs per request and was up to ${fmt(busy * 100)}% busy, so it alone serves ` +
      `at most ${fmt(bound)}/s = ${fmt(bound / raw, 2)}× raw.`;
  }
  const needed = 1e6 / (RAW_RATIO_TARGET * raw) - crypto;
  const where = runsOffMainThread(o.rawBefore)
    ? `runs mostly off the JS main thread (${fmt(crypto)} µs of main-thread CPU a call)`
    : `runs on the JS main thread (${fmt(crypto)} µs a call)`;
  return `  - ${o.operation} ${r.spec}: ratio ${ratios}${
    errors > 0 ? ` (${errors} errors)` : ""
  }. The ${r.algorithm} work ${where}, beside a ` +
    `median ${fmt(rest)} µs of other main-thread work per request; the main thread was up to ` +
    `${fmt(busy * 100)}% busy, so it serves at most ${fmt(bound)}/s = ${fmt(bound / raw, 2)}× ` +
    `raw; ${RAW_RATIO_TARGET}× raw (${fmt(RAW_RATIO_TARGET * raw)}/s) would need that other ` +
    `work ≤ ${fmt(needed)} µs.` +
    (needed <= 0
      ? " That is below zero: the raw call alone is cheaper than the target allows."
      : "");
}

/** The longest single in-process call of the two measurements, ms. */
function longestCall(o: SignOpResult): number {
  return Math.max(o.rawBefore.maxCallMs, o.rawAfter.maxCallMs);
}

/**
 * Why the lag missed: the worst lags split into ran / waited for a CPU, the longest in-process
 * call, and what a turn of the event loop costs when every request in flight is ready in it
 * (concurrency × main-thread µs per request).
 */
function lagNote(r: SignResult, o: SignOpResult): string | undefined {
  const missed = o.phases.filter((p) => p.lag.maxMs > LAG_TARGET_MS);
  if (missed.length === 0) return undefined;
  const meanCallMs = 1 / rawRate(o) * 1000;
  const p99CallMs = Math.max(o.rawBefore.p99CallMs, o.rawAfter.p99CallMs);
  const worst = missed.flatMap((p) => p.lag.worst).sort((a, b) => b.lagMs - a.lagMs).slice(0, 3);
  const turns = missed.map((p) =>
    `@${p.concurrency}: ${p.concurrency} × ${fmt(perRequestUs(p, p.serverMainThreadCpu))} µs = ${
      fmt((p.concurrency * perRequestUs(p, p.serverMainThreadCpu)) / 1000, 1)
    } ms against ${fmt(p.lag.maxMs, 1)} ms measured`
  );
  const inWorker = offloaded(r.spec, o.operation);
  const onMain = !inWorker && !runsOffMainThread(o.rawBefore);
  const cause = inWorker
    ? "over HTTP it runs in a crypto worker, so no call holds the loop"
    : onMain && meanCallMs > LAG_TARGET_MS
    ? "one call alone holds the loop over the target"
    : onMain && p99CallMs > LAG_TARGET_MS
    ? "slow calls alone hold the loop over the target"
    : "no single call holds the loop that long";
  return `  - ${o.operation} ${r.spec} lag: ${r.algorithm} in process mean ${
    fmt(meanCallMs, 2)
  } ms, p99 ${fmt(p99CallMs, 2)} ms, longest ${fmt(longestCall(o), 1)} ms` +
    `${onMain ? " on the main thread" : ""}: ${cause}. Turn ${turns.join("; ")}. ` +
    `Worst lags, ms: ${worst.map(lagEventText).join("; ")}.`;
}

/** What the lag notes' figures mean, printed once before them. */
const LAG_NOTE_LEGEND = "  Lag notes: 'turn' = concurrency × the main thread's µs per request, " +
  "the time to handle every request in flight back to back in one turn of the event loop " +
  "before the 1 ms timer runs; beyond that, the loop is held by V8 garbage collection (see " +
  "it with BENCH_SERVER_FLAGS=--v8-flags=--trace-gc) and, where 'waited for a CPU' is large, " +
  "by other processes taking the cores.";

/** Prints the Sign/Verify tables and the notes on every miss. */
export function printSignatures(results: SignResult[]): void {
  if (results.length === 0) return;
  printThroughput(results);
  printInProcess(results);
  printCosts(results);
  printAb(results);
  const notes = results.flatMap((r) =>
    r.ops.flatMap((o) => [ratioNote(r, o), lagNote(r, o)]).filter((n) => n !== undefined)
  );
  if (notes.length === 0) return;
  console.log("");
  console.log("Notes on the misses:");
  if (notes.some((n) => n.includes(" lag: "))) console.log(LAG_NOTE_LEGEND);
  for (const note of notes) console.log(note);
}
