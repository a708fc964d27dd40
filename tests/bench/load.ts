/**
 * The load generator of the benchmark: replays pre-signed requests over
 * keep-alive connections, `connections` requests in flight, for a warm-up and
 * then a measured window, and returns the count and latencies of the requests
 * that completed inside the window.
 *
 * Two transports:
 * - `fetch`: `fetch()` with the runtime's keep-alive pool (what an SDK uses).
 * - `raw`: one `Deno.connect` socket per in-flight request writing the
 *   pre-serialised HTTP/1.1 request bytes and parsing only the status line and
 *   Content-Length of the reply: several times cheaper per request, so the
 *   client takes less CPU away from the server on a 2-core machine.
 *
 * `runBatch` is the count-bound variant (raw transport): exactly `total`
 * requests, `connections` in flight, for phases that a time window does not
 * fit (each request consumes a pooled RSA key, or takes seconds).
 *
 * @module
 */
import type { PresignedRequest } from "./signing.ts";

/** What one load run does. */
export interface LoadSpec {
  transport: "fetch" | "raw";
  /** `http://127.0.0.1:<port><path>` */
  url: string;
  requests: PresignedRequest[];
  /** Requests in flight at any time. */
  connections: number;
  /** Epoch ms at which to start (lets several workers start together). */
  startAt: number;
  warmupMs: number;
  durationMs: number;
}

/** What one load run measured inside its window. */
export interface LoadResult {
  completed: number;
  errors: number;
  firstError: string | undefined;
  /** Latency of each request completed inside the window, ms. */
  latencies: Float64Array<ArrayBuffer>;
  /**
   * Successful replies inside the window per value of their `x-kms-isolate` header ("-" without
   * it): how the kernel spread the connections over a server's isolates.
   */
  servedBy: Record<string, number>;
}

const utf8 = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** Runs `spec` in this thread. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const wait = spec.startAt - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const measureFrom = spec.startAt + spec.warmupMs;
  const measureTo = measureFrom + spec.durationMs;
  const latencies: number[] = [];
  const state = { completed: 0, errors: 0, firstError: undefined as string | undefined };
  const servedBy: Record<string, number> = {};
  const record: Recorder = (started, ended, ok, error, isolate) => {
    const now = Date.now();
    if (now < measureFrom || now > measureTo) return;
    if (ok) {
      state.completed++;
      latencies.push(ended - started);
      servedBy[isolate ?? "-"] = (servedBy[isolate ?? "-"] ?? 0) + 1;
    } else {
      state.errors++;
      state.firstError ??= error;
    }
  };
  const loops: Promise<void>[] = [];
  for (let c = 0; c < spec.connections; c++) {
    loops.push(
      spec.transport === "raw"
        ? rawLoop(spec, c, measureTo, record)
        : fetchLoop(spec, c, measureTo, record),
    );
  }
  await Promise.all(loops);
  return { ...state, latencies: Float64Array.from(latencies), servedBy };
}

type Recorder = (
  started: number,
  ended: number,
  ok: boolean,
  error?: string,
  isolate?: string | null,
) => void;

async function fetchLoop(
  spec: LoadSpec,
  offset: number,
  until: number,
  record: Recorder,
): Promise<void> {
  const inits: RequestInit[] = spec.requests.map((request) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      // fetch sets these two itself, to the same values.
      if (name !== "host" && name !== "content-length") headers[name] = value;
    }
    return { method: "POST", headers, body: request.body };
  });
  let i = offset;
  while (Date.now() < until) {
    const init = inits[i++ % inits.length]!;
    const started = performance.now();
    try {
      const response = await fetch(spec.url, init);
      const text = await response.arrayBuffer();
      const ok = response.status === 200;
      record(
        started,
        performance.now(),
        ok,
        ok ? undefined : `${response.status} ${new TextDecoder().decode(text).slice(0, 300)}`,
        response.headers.get("x-kms-isolate"),
      );
    } catch (error) {
      record(started, performance.now(), false, String(error));
    }
  }
}

/** The bytes of one HTTP/1.1 request line, headers and body. */
export function serialise(path: string, request: PresignedRequest): Uint8Array {
  let head = `POST ${path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(request.headers)) head += `${name}: ${value}\r\n`;
  head += "connection: keep-alive\r\n\r\n";
  const headBytes = utf8.encode(head);
  const out = new Uint8Array(headBytes.length + request.body.length);
  out.set(headBytes, 0);
  out.set(request.body, headBytes.length);
  return out;
}

/** A keep-alive HTTP/1.1 connection that sends whole requests and reads Content-Length replies. */
export class RawConnection {
  #conn: Deno.TcpConn;
  #buf = new Uint8Array(256 * 1024);
  #start = 0;
  #end = 0;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  static async open(hostname: string, port: number): Promise<RawConnection> {
    const conn = await Deno.connect({ hostname, port });
    conn.setNoDelay(true);
    return new RawConnection(conn);
  }

  /** Sends `bytes` and resolves to the reply's status, body and `x-kms-isolate` header. */
  async exchange(
    bytes: Uint8Array,
  ): Promise<{ status: number; body: Uint8Array; isolate: string | undefined }> {
    let written = 0;
    while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
    let headEnd = -1;
    while ((headEnd = this.#findHeadEnd()) < 0) await this.#fill();
    const head = latin1.decode(this.#buf.subarray(this.#start, headEnd));
    const status = Number(head.slice(9, 12));
    const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (match === null) throw new Error(`reply without Content-Length: ${head}`);
    const bodyStart = headEnd + 4;
    const total = bodyStart - this.#start + Number(match[1]);
    while (this.#end - this.#start < total) await this.#fill();
    const body = this.#buf.slice(bodyStart, this.#start + total);
    this.#start += total;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return { status, body, isolate: /\r\nx-kms-isolate:\s*(\S+)/i.exec(head)?.[1] };
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  #findHeadEnd(): number {
    const buf = this.#buf;
    for (let i = this.#start; i + 3 < this.#end; i++) {
      if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
    }
    return -1;
  }

  async #fill(): Promise<void> {
    if (this.#end === this.#buf.length) {
      if (this.#start === 0) throw new Error("reply larger than the read buffer");
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    const n = await this.#conn.read(this.#buf.subarray(this.#end));
    if (n === null) throw new Error("connection closed by the server");
    this.#end += n;
  }
}

async function rawLoop(
  spec: LoadSpec,
  offset: number,
  until: number,
  record: Recorder,
): Promise<void> {
  const url = new URL(spec.url);
  const frames = spec.requests.map((request) => serialise(url.pathname, request));
  let connection = await RawConnection.open(url.hostname, Number(url.port));
  let i = offset;
  try {
    while (Date.now() < until) {
      const frame = frames[i++ % frames.length]!;
      const started = performance.now();
      try {
        const reply = await connection.exchange(frame);
        const ok = reply.status === 200;
        record(
          started,
          performance.now(),
          ok,
          ok ? undefined : `${reply.status} ${new TextDecoder().decode(reply.body).slice(0, 300)}`,
          reply.isolate,
        );
      } catch (error) {
        record(started, performance.now(), false, String(error));
        connection.close();
        connection = await RawConnection.open(url.hostname, Number(url.port));
      }
    }
  } finally {
    connection.close();
  }
}

/** A count-bound run: `total` requests, `connections` in flight, over the raw transport. */
export interface BatchSpec {
  /** `http://127.0.0.1:<port><path>` */
  url: string;
  /** Sent in turn, the i-th request of the batch being `requests[i % requests.length]`. */
  requests: PresignedRequest[];
  connections: number;
  total: number;
  /** Keep the body of each successful reply (in completion order). */
  keepBodies?: boolean;
}

/** What a batch measured. */
export interface BatchResult {
  /** Latency of each successful request, ms, sorted ascending. */
  latencies: Float64Array<ArrayBuffer>;
  errors: number;
  firstError: string | undefined;
  /** From the first request sent to the last reply, s (connections opened before). */
  seconds: number;
  /** The bodies of the successful replies, if `keepBodies`. */
  bodies: Uint8Array[];
}

/** Sends exactly `spec.total` requests, `spec.connections` at a time, in this thread. */
export async function runBatch(spec: BatchSpec): Promise<BatchResult> {
  const url = new URL(spec.url);
  const frames = spec.requests.map((request) => serialise(url.pathname, request));
  const width = Math.max(1, Math.min(spec.connections, spec.total));
  const connections = await Promise.all(
    Array.from({ length: width }, () => RawConnection.open(url.hostname, Number(url.port))),
  );
  const latencies: number[] = [];
  const bodies: Uint8Array[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const loop = async (connection: RawConnection) => {
    while (next < spec.total) {
      const frame = frames[next++ % frames.length]!;
      const started = performance.now();
      const reply = await connection.exchange(frame);
      if (reply.status === 200) {
        latencies.push(performance.now() - started);
        if (spec.keepBodies === true) bodies.push(reply.body);
      } else {
        errors++;
        firstError ??= `${reply.status} ${new TextDecoder().decode(reply.body).slice(0, 300)}`;
      }
    }
  };
  const start = performance.now();
  try {
    await Promise.all(connections.map(loop));
  } finally {
    for (const connection of connections) connection.close();
  }
  const seconds = (performance.now() - start) / 1000;
  return { latencies: Float64Array.from(latencies).sort(), errors, firstError, seconds, bodies };
}

/** The `q` quantile of ascending `sorted` (the value at index ⌊q·n⌋); NaN when empty. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
