/**
 * A small, bounded pool of Worker threads for the signing work that would stall
 * or load the event loop: `signatures.ts` sends every Sign and Verify but
 * Ed25519's here, and the key pair pools (`key_pair_pool.ts`) have the
 * secp256k1, SM2 and Ed25519 pairs generated here (`generatePairs`), so the
 * request-serving thread keeps its CPU for requests.
 *
 * What runs in a worker (`OFFLOADED` in `signatures.ts`) follows from the
 * in-process cost of each operation, p50/p99 in ms (1 KiB RAW message; DIGEST
 * or EXTERNAL_MU in brackets where it differs; 2 vCPUs; 600 ms of back-to-back
 * calls each):
 *
 * | key spec              | sign              | verify                | offloaded       |
 * | --------------------- | ----------------- | --------------------- | --------------- |
 * | ML_DSA_87             | 4.5/15 (4.7/24)   | 1.7/3.1               | sign and verify |
 * | ML_DSA_65             | 4.0/21 (3.7/18)   | 1.1/1.9               | sign and verify |
 * | ML_DSA_44             | 2.6/10 (2.3/11)   | 0.67/1.2              | sign and verify |
 * | RSA_4096              | 6.6/8.3 (7.6/11)  | 0.49/0.55             | sign and verify |
 * | RSA_3072              | 2.9/3.9 (3.6/4.2) | 0.30/0.53             | sign and verify |
 * | RSA_2048              | 0.95/1.1 (1.3/1.5)| 0.12/0.16             | sign and verify |
 * | ECC_NIST_P521         | 0.61/1.0          | 1.3/1.5 (2.7/3.1)     | sign and verify |
 * | ECC_NIST_P384         | 0.37/0.86         | 1.0/1.1 (1.4/1.6)     | sign and verify |
 * | SM2                   | 0.23/0.53         | 0.73/1.0              | sign and verify |
 * | ECC_NIST_P256         | 0.22/0.59         | 0.44/0.50 (0.68/0.93) | sign and verify |
 * | ECC_SECG_P256K1       | 0.21/0.51         | 0.43/0.68             | sign and verify |
 * | ECC_NIST_EDWARDS25519 | 0.02 (0.24/0.54)  | 0.03 (0.40/0.66)      | none            |
 *
 * The rule: offload every operation that costs the main thread more than the
 * round trip does, i.e. all but Ed25519's. The round trip costs the main
 * thread ~15-20 µs of structured cloning and wake-ups on a quiet machine
 * (~50-150 µs on a saturated one) and adds ~0.15-0.2 ms of latency; the
 * request-serving thread is the bottleneck of this server, so its CPU per
 * request decides. `tests/bench/crypto_offload_bench.ts` measures it: 16 calls
 * in flight, in-process against 2 workers, calls/s and main-thread / whole-
 * process CPU µs per call (2 vCPUs under a load average of 10.8 from other
 * work, so absolute figures are ~2x a quiet machine's):
 *
 * | op, spec               | in-process/s, main µs, proc µs | worker/s, main µs, proc µs |
 * | ---------------------- | ------------------------------ | -------------------------- |
 * | sign P-256             | 585, 511, 616                  | 365, 141, 1,197            |
 * | verify P-256           | 309, 842, 839                  | 269, 113, 1,185            |
 * | sign secp256k1         | 541, 431, 486                  | 674, 86, 667               |
 * | verify secp256k1       | 170, 1,145, 1,272              | 389, 85, 1,085             |
 * | sign SM2               | 403, 611, 702                  | 391, 100, 775              |
 * | verify SM2             | 134, 1,733, 1,888              | 157, 157, 2,006            |
 * | sign Ed25519           | 10,810, 27, 28                 | 3,781, 32, 99              |
 * | verify Ed25519         | 6,137, 48, 48                  | 8,498, 27, 108             |
 * | sign RSA_2048          | 122, 2,283, 2,251              | 138, 163, 2,406            |
 * | verify RSA_2048        | 978, 259, 261                  | 1,389, 52, 435             |
 *
 * Offloading cuts the main thread's CPU per ECDSA/SM2/RSA call 3-11x; an
 * Ed25519 call costs the main thread as much as the round trip, so it stays
 * in-process. Over HTTP (`BENCH_OPS=Sign,Verify npx -y deno@2.9.6 task
 * bench`, which runs every phase also against a `KMS_CRYPTO_WORKERS=0` server)
 * the gain needs a core for the workers: on a quiet machine (earlier
 * measurement, concurrency 4) P-384 sign 2100 → 2400, P-256 verify 2000 →
 * 2500, RSA_4096 verify 1800 → 2450, RSA_2048 sign 970 → 1500, ML-DSA-65 sign
 * 190 → 350 req/s, but P-256 sign 3300 → 2700; with other processes taking
 * both cores, every hop waits for a CPU and the offloaded phases lose.
 *
 * Design:
 * - Size `min(2, navigator.hardwareConcurrency)` by default; a worker starts on
 *   first use, and a second only when every started one is busy. Each request
 *   goes to the started worker with the fewest requests in flight.
 * - Keys are known by an opaque `KeyHandle`. The pool keeps one copy of the
 *   key's DER (the caller's cache holds the same material anyway) and sends it
 *   to a worker the first time that worker serves the key (so at most once per
 *   worker, and again after a crash), as a fresh copy whose buffer is
 *   transferred, leaving nothing behind; the worker wipes it after import. Each
 *   worker keeps at most `keysPerWorker` keys, least recently used evicted
 *   first (the pool decides and tells the worker to forget). A handle that is
 *   garbage collected or `release`d wipes the copy and is forgotten by every
 *   worker. Key bytes never appear in a message other than an import, nor in
 *   an error.
 * - A worker that dies (uncaught error) is terminated and reported to
 *   `onError`; its requests in flight reject with a `CryptoWorkerFailure`, and
 *   a sign or verify is sent once more, to a replacement worker (the key is
 *   imported there again); if that one dies too, the request rejects (a 500
 *   KMSInternalException for the client, never a hang). A batch of generated
 *   key pairs is not retried: the pool generates on demand instead. A worker that dies
 *   before it ever answered (its module cannot load, e.g. a binary compiled
 *   without `--include core/crypto/crypto_worker.ts`) makes the pool
 *   unavailable, and `signatures.ts` then works in-process.
 * - `close()` terminates all workers and rejects what is in flight; a later
 *   request starts them again.
 *
 * @module
 */
import { SecretBytes } from "../secret.ts";
import type { DataKeyPairSpec, GeneratedKeyPair } from "./key_pairs.ts";
import type { SigningAlgorithmSpec, SigningKeySpec } from "./signing_specs.ts";

/** Whether a key signs (PKCS#8) or verifies (SPKI). */
export type KeyKind = "signing" | "verifying";

/** A request to a crypto worker; every request but `forget` gets one reply with its `id`. */
export type WorkerRequest =
  | {
    readonly op: "import";
    readonly id: number;
    readonly handle: number;
    readonly kind: KeyKind;
    readonly keySpec: SigningKeySpec;
    readonly der: Uint8Array;
  }
  | {
    readonly op: "sign";
    readonly id: number;
    readonly handle: number;
    readonly algorithm: SigningAlgorithmSpec;
    readonly message: Uint8Array;
    readonly prehashed: boolean;
  }
  | {
    readonly op: "verify";
    readonly id: number;
    readonly handle: number;
    readonly algorithm: SigningAlgorithmSpec;
    readonly message: Uint8Array;
    readonly prehashed: boolean;
    readonly signature: Uint8Array;
  }
  | {
    readonly op: "generate";
    readonly id: number;
    readonly spec: DataKeyPairSpec;
    readonly count: number;
  }
  | { readonly op: "forget"; readonly handle: number };

/** A request that gets a reply. */
type AnsweredRequest = Exclude<WorkerRequest, { op: "forget" }>;

/**
 * What a worker answers: a signature, a verdict, nothing (an import), or generated key pairs as
 * [SPKI, PKCS#8, SPKI, PKCS#8, ...] (every buffer transferred).
 */
export type WorkerValue = Uint8Array | boolean | null | Uint8Array[];

/** A worker's reply: its value, or an error's class name and message. */
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly value: WorkerValue }
  | { readonly id: number; readonly ok: false; readonly name: string; readonly message: string };

/** Options of `CryptoWorkerPool`. */
export interface CryptoWorkerPoolOptions {
  /** Worker threads; default `min(2, navigator.hardwareConcurrency)`; 0 offloads nothing. */
  readonly size?: number;
  /** Keys each worker keeps imported, least recently used evicted first; default 1024. */
  readonly keysPerWorker?: number;
  /** The worker module; default `crypto_worker.ts` beside this file (tests wrap it). */
  readonly workerUrl?: URL | string;
  /** Told when a worker dies or cannot start (for the log); the text carries no key bytes. */
  readonly onError?: (error: Error) => void;
}

/** An opaque reference to a key imported into a pool. */
export interface KeyHandle {
  readonly kind: KeyKind;
  readonly keySpec: SigningKeySpec;
}

/** How busy a pool is, for tests and diagnostics. */
export interface CryptoWorkerPoolStats {
  /** Workers running now. */
  readonly workers: number;
  /** Requests sent and not yet answered. */
  readonly inFlight: number;
  /** Keys registered (handles not yet released). */
  readonly keys: number;
  /** Keys imported into the running workers, summed over them. */
  readonly keysHeld: number;
  /** Workers started since the pool was made (replacements and restarts included). */
  readonly started: number;
  /** Keys registered since the pool was made (a count that garbage collection never lowers). */
  readonly registered: number;
}

const DEFAULT_KEYS_PER_WORKER = 1024;
const WORKER_URL = new URL("./crypto_worker.ts", import.meta.url);

interface Registered {
  readonly kind: KeyKind;
  readonly keySpec: SigningKeySpec;
  /** The pool's own copy of the DER; wiped on release. */
  readonly der: Uint8Array;
}

interface Pending {
  resolve(value: WorkerValue): void;
  reject(error: Error): void;
}

/** One running worker, its requests in flight and the keys it holds (oldest use first). */
interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  readonly keys: Set<number>;
  /** Whether the worker has answered anything yet (it loaded). */
  answered: boolean;
}

/** A request lost because its worker died (or the pool closed); `#run` retries it once. */
export class CryptoWorkerFailure extends Error {
  override name = "CryptoWorkerFailure";
}

/** Most key pairs one `generatePairs` call asks a worker for. */
export const MAX_PAIRS_PER_CALL = 256;

/** A bounded pool of crypto workers; see the module doc. */
export class CryptoWorkerPool {
  readonly #size: number;
  readonly #keysPerWorker: number;
  readonly #workerUrl: URL | string;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #slots: (Slot | undefined)[];
  readonly #keys = new Map<number, Registered>();
  readonly #handles = new WeakMap<KeyHandle, number>();
  readonly #collected = new FinalizationRegistry<number>((id) => this.#release(id));
  #nextId = 1;
  #started = 0;
  #registered = 0;
  #unavailable = false;

  /** @throws {RangeError} when the size is not a non-negative integer. */
  constructor(options: CryptoWorkerPoolOptions = {}) {
    this.#size = options.size ?? defaultPoolSize();
    if (!Number.isInteger(this.#size) || this.#size < 0) {
      throw new RangeError("crypto worker pool size must be a non-negative integer");
    }
    this.#keysPerWorker = options.keysPerWorker ?? DEFAULT_KEYS_PER_WORKER;
    this.#workerUrl = options.workerUrl ?? WORKER_URL;
    this.#onError = options.onError;
    this.#slots = new Array(this.#size).fill(undefined);
  }

  /** The most workers this pool runs; 0 means nothing is offloaded. */
  get size(): number {
    return this.#size;
  }

  /**
   * Whether new keys should be registered here: false for size 0, and once a worker failed
   * before it ever answered (its module cannot load), so that callers fall back to in-process
   * work instead of failing every request.
   */
  get available(): boolean {
    return this.#size > 0 && !this.#unavailable;
  }

  /**
   * Imports a DER key (PKCS#8 for signing, SPKI for verifying) into a worker and answers its
   * handle; `der` is copied, not kept.
   * @throws {TypeError} when the DER is not a key of `keySpec` (as the worker's import says).
   * @throws {Error} when the pool has no workers, or the worker failed.
   */
  async register(kind: KeyKind, keySpec: SigningKeySpec, der: Uint8Array): Promise<KeyHandle> {
    const id = this.#nextId++;
    this.#keys.set(id, { kind, keySpec, der: der.slice() });
    try {
      await this.#importInto(this.#pick(), id);
    } catch (error) {
      this.#release(id);
      throw error;
    }
    const handle: KeyHandle = Object.freeze({ kind, keySpec });
    this.#registered++;
    this.#handles.set(handle, id);
    this.#collected.register(handle, id);
    return handle;
  }

  /**
   * Signs with a signing key's handle; `prehashed` is true for DIGEST and EXTERNAL_MU.
   * @throws {TypeError} when the handle is not a signing key of this pool.
   * @throws {Error} when the worker failed or the pool was closed meanwhile.
   */
  async sign(
    handle: KeyHandle,
    request: { algorithm: SigningAlgorithmSpec; message: Uint8Array; prehashed: boolean },
  ): Promise<Uint8Array> {
    const value = await this.#run(
      handle,
      "signing",
      (id, key) => ({ op: "sign", id, handle: key, ...request }),
    );
    if (!(value instanceof Uint8Array)) throw new Error("crypto worker answered no signature");
    return value;
  }

  /**
   * Verifies with a verifying key's handle; false for a wrong or malformed signature.
   * @throws {TypeError} when the handle is not a verifying key of this pool.
   * @throws {Error} when the worker failed or the pool was closed meanwhile.
   */
  async verify(
    handle: KeyHandle,
    request: {
      algorithm: SigningAlgorithmSpec;
      message: Uint8Array;
      prehashed: boolean;
      signature: Uint8Array;
    },
  ): Promise<boolean> {
    const value = await this.#run(
      handle,
      "verifying",
      (id, key) => ({ op: "verify", id, handle: key, ...request }),
    );
    if (typeof value !== "boolean") throw new Error("crypto worker answered no verdict");
    return value;
  }

  /**
   * Generates `count` fresh key pairs of `spec` in a worker (background refill of the key pair
   * pools); the private keys exist only in the returned `SecretBytes` (the worker's buffers moved).
   * With `runningOnly`, only a worker that already answered is asked (a request waiting for a
   * pair must not wait for a worker to start: that takes a second or more on a loaded machine).
   * @throws {RangeError} when `count` is not an integer in 1..MAX_PAIRS_PER_CALL.
   * @throws {Error} when the pool has no workers (with `runningOnly`: none running and loaded),
   * or the worker failed.
   */
  async generatePairs(
    spec: DataKeyPairSpec,
    count: number,
    options: { runningOnly?: boolean } = {},
  ): Promise<GeneratedKeyPair[]> {
    if (!Number.isInteger(count) || count < 1 || count > MAX_PAIRS_PER_CALL) {
      throw new RangeError(`pairs per call must be an integer 1..${MAX_PAIRS_PER_CALL}`);
    }
    const slot = options.runningOnly === true ? this.#pickRunning() : this.#pick();
    const value = await this.#call(slot, {
      op: "generate",
      id: this.#nextId++,
      spec,
      count,
    }, []);
    if (!Array.isArray(value) || value.length % 2 !== 0) {
      throw new Error("crypto worker answered no key pairs");
    }
    const pairs: GeneratedKeyPair[] = [];
    for (let index = 0; index < value.length; index += 2) {
      pairs.push({
        publicKey: value[index] as Uint8Array<ArrayBuffer>,
        privateKey: new SecretBytes(value[index + 1]!),
      });
    }
    return pairs;
  }

  /** Forgets a key now instead of when its handle is garbage collected. */
  release(handle: KeyHandle): void {
    const id = this.#handles.get(handle);
    if (id === undefined) return;
    this.#handles.delete(handle);
    this.#collected.unregister(handle);
    this.#release(id);
  }

  /** Terminates every worker; requests in flight reject. A later request starts workers again. */
  close(): Promise<void> {
    for (let index = 0; index < this.#slots.length; index++) {
      const slot = this.#slots[index];
      if (slot !== undefined) this.#stop(index, slot, new Error("crypto worker pool closed"));
    }
    return Promise.resolve();
  }

  /** Running workers, requests in flight, keys, and workers ever started. */
  stats(): CryptoWorkerPoolStats {
    const running = this.#slots.filter((slot) => slot !== undefined);
    return {
      workers: running.length,
      inFlight: running.reduce((sum, slot) => sum + slot.pending.size, 0),
      keys: this.#keys.size,
      keysHeld: running.reduce((sum, slot) => sum + slot.keys.size, 0),
      started: this.#started,
      registered: this.#registered,
    };
  }

  /**
   * Sends one operation on a registered key to the least busy worker, importing it there first;
   * if that worker dies before answering, the operation is sent once more (to a fresh worker).
   */
  async #run(
    handle: KeyHandle,
    kind: KeyKind,
    request: (id: number, key: number) => AnsweredRequest,
  ): Promise<WorkerValue> {
    try {
      return await this.#runOnce(handle, kind, request);
    } catch (error) {
      if (!(error instanceof CryptoWorkerFailure)) throw error;
      return await this.#runOnce(handle, kind, request);
    }
  }

  #runOnce(
    handle: KeyHandle,
    kind: KeyKind,
    request: (id: number, key: number) => AnsweredRequest,
  ): Promise<WorkerValue> {
    const key = this.#handles.get(handle);
    if (key === undefined || handle.kind !== kind) {
      return Promise.reject(new TypeError(`not a ${kind} key of this pool`));
    }
    let slot: Slot;
    try {
      slot = this.#pick();
    } catch (error) {
      return Promise.reject(error);
    }
    if (slot.keys.delete(key)) slot.keys.add(key);
    else this.#importInto(slot, key).catch(() => slot.keys.delete(key));
    return this.#call(slot, request(this.#nextId++, key), []);
  }

  /** Sends a fresh copy of a key's DER to `slot` (the copy's buffer moves, nothing is left). */
  #importInto(slot: Slot, key: number): Promise<unknown> {
    const registered = this.#keys.get(key);
    if (registered === undefined) return Promise.reject(new Error("key released"));
    const der = registered.der.slice();
    const { kind, keySpec } = registered;
    slot.keys.add(key);
    this.#evictBeyondCapacity(slot);
    return this.#call(slot, { op: "import", id: this.#nextId++, handle: key, kind, keySpec, der }, [
      der.buffer,
    ]);
  }

  #evictBeyondCapacity(slot: Slot): void {
    for (const oldest of slot.keys) {
      if (slot.keys.size <= this.#keysPerWorker) return;
      slot.keys.delete(oldest);
      slot.worker.postMessage({ op: "forget", handle: oldest } satisfies WorkerRequest);
    }
  }

  #call(slot: Slot, request: AnsweredRequest, transfer: Transferable[]): Promise<WorkerValue> {
    return new Promise((resolve, reject) => {
      slot.pending.set(request.id, { resolve, reject });
      try {
        slot.worker.postMessage(request, transfer);
      } catch {
        slot.pending.delete(request.id);
        if (request.op === "import") request.der.fill(0);
        reject(new Error("crypto worker request could not be sent"));
      }
    });
  }

  /** The started worker with the fewest requests in flight; a new one when all are busy. */
  #pick(): Slot {
    if (this.#size === 0) throw new Error("the crypto worker pool has no workers");
    let best: Slot | undefined;
    let free = -1;
    for (let index = 0; index < this.#slots.length; index++) {
      const slot = this.#slots[index];
      if (slot === undefined) free = free < 0 ? index : free;
      else if (best === undefined || slot.pending.size < best.pending.size) best = slot;
    }
    if (best !== undefined && (best.pending.size === 0 || free < 0)) return best;
    return this.#start(free);
  }

  /** The running worker that has answered before with the fewest requests in flight. */
  #pickRunning(): Slot {
    let best: Slot | undefined;
    for (const slot of this.#slots) {
      if (slot?.answered && (best === undefined || slot.pending.size < best.pending.size)) {
        best = slot;
      }
    }
    if (best === undefined) throw new Error("no crypto worker is running yet");
    return best;
  }

  #start(index: number): Slot {
    const worker = new Worker(this.#workerUrl, { type: "module", name: "kms-crypto" });
    const slot: Slot = { worker, pending: new Map(), keys: new Set(), answered: false };
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      slot.answered = true;
      settle(slot, event.data);
    };
    const fail = (event: Event) => {
      event.preventDefault();
      if (!slot.answered) this.#unavailable = true;
      const detail = event instanceof ErrorEvent ? event.message : event.type;
      this.#onError?.(new Error(`crypto worker failed: ${detail}`));
      this.#stop(index, slot, new CryptoWorkerFailure("crypto worker failed"));
    };
    worker.onerror = fail;
    worker.onmessageerror = fail;
    this.#slots[index] = slot;
    this.#started++;
    return slot;
  }

  /** Terminates a worker, empties its slot and rejects its requests in flight. */
  #stop(index: number, slot: Slot, reason: Error): void {
    slot.worker.terminate();
    if (this.#slots[index] === slot) this.#slots[index] = undefined;
    for (const pending of slot.pending.values()) pending.reject(reason);
    slot.pending.clear();
    slot.keys.clear();
  }

  /** Wipes the pool's copy of a key and tells every worker holding it to forget it. */
  #release(id: number): void {
    this.#keys.get(id)?.der.fill(0);
    this.#keys.delete(id);
    for (const slot of this.#slots) {
      if (slot?.keys.delete(id)) {
        slot.worker.postMessage({ op: "forget", handle: id } satisfies WorkerRequest);
      }
    }
  }
}

/** Delivers a worker's reply to the request waiting for it. */
function settle(slot: Slot, reply: WorkerReply): void {
  const pending = slot.pending.get(reply.id);
  if (pending === undefined) return;
  slot.pending.delete(reply.id);
  if (reply.ok) pending.resolve(reply.value);
  else pending.reject(errorOfReply(reply.name, reply.message));
}

/** The error a worker reported, as its own class where that is one the engines throw. */
function errorOfReply(name: string, message: string): Error {
  if (name === "TypeError") return new TypeError(message);
  if (name === "RangeError") return new RangeError(message);
  return new Error(message);
}

/** `min(2, navigator.hardwareConcurrency)`, at least 1. */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(2, navigator.hardwareConcurrency || 1));
}

let processPool: CryptoWorkerPool | undefined;
let processOptions: CryptoWorkerPoolOptions = {};
let processErrorListener: ((error: Error) => void) | undefined;
/** Pools `configureCryptoWorkers` replaced while keys imported into them may still be in use. */
const replacedPools = new Set<CryptoWorkerPool>();

/** The process-wide pool `signatures.ts` uses, made on first call with the configured options. */
export function cryptoWorkers(): CryptoWorkerPool {
  processPool ??= new CryptoWorkerPool({
    ...processOptions,
    onError: (error) => processErrorListener?.(error),
  });
  return processPool;
}

/**
 * Sets the options of the process-wide pool (call it at start-up). The same size, capacity and
 * module again keep the pool (only `onError` changes); other options apply to keys imported
 * from now on, while keys imported earlier keep their pool, which keeps working and which
 * `closeCryptoWorkers` closes too.
 * @throws {RangeError} when the size is not a non-negative integer.
 */
export function configureCryptoWorkers(options: CryptoWorkerPoolOptions): void {
  if (!sameStructure(options, processOptions)) {
    const pool = new CryptoWorkerPool({ ...options, onError: (e) => processErrorListener?.(e) });
    if (processPool !== undefined) replacedPools.add(processPool);
    processOptions = options;
    processPool = pool;
  }
  processErrorListener = options.onError;
}

function sameStructure(a: CryptoWorkerPoolOptions, b: CryptoWorkerPoolOptions): boolean {
  return (a.size ?? defaultPoolSize()) === (b.size ?? defaultPoolSize()) &&
    (a.keysPerWorker ?? DEFAULT_KEYS_PER_WORKER) === (b.keysPerWorker ?? DEFAULT_KEYS_PER_WORKER) &&
    String(a.workerUrl ?? WORKER_URL) === String(b.workerUrl ?? WORKER_URL);
}

/** Terminates the workers of the process-wide pool and of the pools it replaced; see `close`. */
export async function closeCryptoWorkers(): Promise<void> {
  for (const pool of replacedPools) {
    await pool.close();
    if (pool.stats().keys === 0) replacedPools.delete(pool);
  }
  await processPool?.close();
}
