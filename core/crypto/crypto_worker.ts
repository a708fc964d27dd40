/**
 * The Worker entry of `crypto_workers.ts`: imports keys it is sent (keeping them
 * by handle until told to forget them) and signs or verifies with them, using
 * the same engines as in-process signing (`signatures.ts`). It answers each
 * request with its id; an error answers with the error's class name and
 * message only, which never carry key bytes. Received key DER and messages to
 * sign are wiped once used.
 *
 * Not to be imported: it installs the worker's message handler when loaded.
 *
 * @module
 */
import type { WorkerReply, WorkerRequest } from "./crypto_workers.ts";
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
  try {
    const value = perform(request);
    scope.postMessage({ id: request.id, ok: true, value }, transferOf(value));
  } catch (error) {
    scope.postMessage({ id: request.id, ok: false, ...describe(error) }, []);
  }
};

/** Runs one request; a signature is the answer's only bytes. */
function perform(request: Exclude<WorkerRequest, { op: "forget" }>): Uint8Array | boolean | null {
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

/** A signature's buffer moves back when the signature is all of it; otherwise it is copied. */
function transferOf(value: Uint8Array | boolean | null): Transferable[] {
  return value instanceof Uint8Array && value.byteLength === value.buffer.byteLength
    ? [value.buffer as ArrayBuffer]
    : [];
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
