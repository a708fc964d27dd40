/**
 * The Worker entry of `crypto_workers.ts`: imports keys it is sent (keeping them
 * by handle until told to forget them) and signs or verifies with them, using
 * the same engines as in-process signing (`signatures.ts`). It answers each
 * request with its id; an error answers with the error's class name and
 * message only, which never carry key bytes. Received key DER and messages to
 * sign are wiped once used. It also generates key pairs in batches for the
 * key pair pools (`key_pair_pool.ts`) with `generateKeyPair`; their buffers
 * move to the pool with the reply, so no private key stays here.
 *
 * Not to be imported: it installs the worker's message handler when loaded.
 *
 * @module
 */
import type { WorkerReply, WorkerRequest, WorkerValue } from "./crypto_workers.ts";
import { generateKeyPair } from "./key_pairs.ts";
import {
  importSigningEngine,
  importVerifyingEngine,
  type SignEngine,
  type VerifyEngine,
} from "./signatures.ts";

/** The part of the worker's global scope this module uses. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(reply: WorkerReply, transfer: Transferable[]): void;
}

const UNKNOWN_KEY = "the crypto worker does not hold this key";
const signers = new Map<number, SignEngine>();
const verifiers = new Map<number, VerifyEngine>();
const scope = globalThis as unknown as WorkerScope;

scope.onmessage = (event) => {
  const request = event.data;
  if (request.op === "forget") {
    signers.delete(request.handle);
    verifiers.delete(request.handle);
    return;
  }
  if (request.op === "generate") {
    generatePairs(request).then(
      (value) => scope.postMessage({ id: request.id, ok: true, value }, transferOf(value)),
      (error) => scope.postMessage({ id: request.id, ok: false, ...describe(error) }, []),
    );
    return;
  }
  try {
    const value = perform(request);
    scope.postMessage({ id: request.id, ok: true, value }, transferOf(value));
  } catch (error) {
    scope.postMessage({ id: request.id, ok: false, ...describe(error) }, []);
  }
};

/**
 * Generates `count` pairs as [SPKI, PKCS#8, ...], each in a buffer of its own that the reply
 * moves to the pool (the private keys leave nothing behind here).
 */
async function generatePairs(
  request: Extract<WorkerRequest, { op: "generate" }>,
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  try {
    for (let index = 0; index < request.count; index++) {
      const pair = await generateKeyPair(request.spec);
      out.push(ownBuffer(pair.publicKey), ownBuffer(pair.privateKey.expose()));
    }
    return out;
  } catch (error) {
    for (const bytes of out) bytes.fill(0);
    throw error;
  }
}

/** `bytes` if it is all of its buffer, else a copy that is (the original is wiped). */
function ownBuffer(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  const copy = bytes.slice();
  bytes.fill(0);
  return copy;
}

/** Runs one request; a signature is the answer's only bytes. */
function perform(
  request: Exclude<WorkerRequest, { op: "forget" | "generate" }>,
): Uint8Array | boolean | null {
  switch (request.op) {
    case "import":
      importKey(request);
      return null;
    case "sign": {
      const engine = engineOf(signers, request.handle);
      try {
        return engine(request.algorithm, request.message, request.prehashed);
      } finally {
        request.message.fill(0);
      }
    }
    case "verify":
      return engineOf(verifiers, request.handle)(
        request.algorithm,
        request.message,
        request.prehashed,
        request.signature,
      );
  }
}

function importKey(request: Extract<WorkerRequest, { op: "import" }>): void {
  try {
    if (request.kind === "signing") {
      signers.set(request.handle, importSigningEngine(request.keySpec, request.der));
    } else {
      verifiers.set(request.handle, importVerifyingEngine(request.keySpec, request.der));
    }
  } finally {
    request.der.fill(0);
  }
}

function engineOf<T>(engines: Map<number, T>, handle: number): T {
  const engine = engines.get(handle);
  if (engine === undefined) throw new Error(UNKNOWN_KEY);
  return engine;
}

/** The buffers that move with a reply: every byte array that is all of its buffer. */
function transferOf(value: WorkerValue): Transferable[] {
  const arrays = Array.isArray(value) ? value : value instanceof Uint8Array ? [value] : [];
  return arrays.filter((bytes) => bytes.byteLength === bytes.buffer.byteLength)
    .map((bytes) => bytes.buffer as ArrayBuffer);
}

/** The class name and message of a thrown value; nothing else of it leaves the worker. */
function describe(error: unknown): { name: string; message: string } {
  if (error instanceof TypeError || error instanceof RangeError) {
    return { name: error.name, message: error.message };
  }
  if (error instanceof Error && error.message === UNKNOWN_KEY) {
    return { name: "Error", message: UNKNOWN_KEY };
  }
  return { name: "Error", message: "crypto worker operation failed" };
}
