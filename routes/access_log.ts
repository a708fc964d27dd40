/**
 * The process's JSON-lines log on stdout and the per-request access line.
 *
 * Lines are not printed one by one: `JsonLines` queues them and writes them together, with one
 * write, at most every `flushMs` (5 ms) or once 64 KiB wait, so the request path pays for building
 * a string, never for a write to stdout. Queued lines are written before the process exits
 * (the `unload` event `Deno.exit` fires) and when `flush()` is called.
 *
 * The access line (`"message":"request"`) holds the request id, operation, HTTP status, AWS
 * exception name, duration, principal ARN and source IP: never a body, header value, signature or
 * message text, so no plaintext, key or secret can reach the log through it. It is built only
 * when it is written: `accessLogSink` gives none at `KMS_LOG_LEVEL=warn` or `error`, or with
 * `KMS_ACCESS_LOG=off`.
 *
 * @module
 */
import type { RequestTrace } from "./metrics.ts";

/** Where the app logs: one JSON object per line, never a secret. */
export type LogSink = (record: Record<string, unknown>) => void;

/** A log level of `KMS_LOG_LEVEL`. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const DEFAULT_FLUSH_MS = 5;
const MAX_QUEUED_CHARS = 64 * 1024;

/** Something lines of text can be written to at once (Deno.stdout). */
export interface LineWriter {
  writeSync(bytes: Uint8Array): number;
}

/** JSON lines queued and written together, at most every `flushMs`. */
export class JsonLines {
  readonly #writer: LineWriter;
  readonly #flushMs: number;
  readonly #utf8 = new TextEncoder();
  #queued: string[] = [];
  #queuedChars = 0;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(writer: LineWriter, options: { flushMs?: number } = {}) {
    this.#writer = writer;
    this.#flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
  }

  /** Queues one line (no newline in it); written within `flushMs`. */
  write(line: string): void {
    this.#queued.push(line);
    this.#queuedChars += line.length;
    if (this.#queuedChars >= MAX_QUEUED_CHARS) this.flush();
    else if (this.#timer === undefined) {
      const timer = setTimeout(() => this.flush(), this.#flushMs);
      // A queued line never keeps the process alive: exit flushes it (see `stdoutLines`).
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /** Number of lines waiting to be written. */
  get size(): number {
    return this.#queued.length;
  }

  /** Writes every queued line now, with one write (repeated while the writer takes part). */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queued.length === 0) return;
    const bytes = this.#utf8.encode(this.#queued.join("\n") + "\n");
    this.#queued = [];
    this.#queuedChars = 0;
    let written = 0;
    while (written < bytes.length) written += this.#writer.writeSync(bytes.subarray(written));
  }
}

let stdout: JsonLines | undefined;

/** The process's one queue of stdout lines, flushed at exit. */
export function stdoutLines(): JsonLines {
  if (stdout === undefined) {
    const lines = new JsonLines(Deno.stdout);
    stdout = lines;
    globalThis.addEventListener("unload", () => lines.flush());
  }
  return stdout;
}

/** Milliseconds of the last time stamp and its ISO text: one `toISOString` per millisecond. */
let stampedAt = Number.NaN;
let stamp = "";

function isoNow(): string {
  const now = Date.now();
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = new Date(now).toISOString();
  }
  return stamp;
}

/** A JSON-lines logger on stdout (queued, see `JsonLines`) at or above `level`. */
export function jsonLog(level: LogLevel, lines: JsonLines = stdoutLines()): LogSink {
  const threshold = LEVELS[level];
  return (record) => {
    const recordLevel = LEVELS[record.level as LogLevel] ?? LEVELS.info;
    if (recordLevel < threshold) return;
    lines.write(JSON.stringify({ time: isoNow(), ...record }));
  };
}

/**
 * Where access lines go: `log` when it writes `info` lines and `KMS_ACCESS_LOG` is not `off`,
 * else null (no access line is built at all).
 */
export function accessLogSink(
  config: { logLevel: LogLevel; accessLog?: boolean | undefined },
  log: LogSink,
): LogSink | null {
  if (config.accessLog === false || LEVELS[config.logLevel] > LEVELS.info) return null;
  return log;
}

/** Writes the access line of an answered request to `log`. */
export function writeAccessLine(log: LogSink, trace: RequestTrace, status: number): void {
  const line: Record<string, unknown> = {
    level: "info",
    message: "request",
    requestId: trace.requestId,
    operation: trace.operation,
    status,
  };
  if (trace.exception !== undefined) line.exception = trace.exception;
  line.durationMs = Math.round(trace.elapsedSeconds() * 1e6) / 1e3;
  if (trace.principalArn !== undefined) line.principalArn = trace.principalArn;
  if (trace.sourceIp !== undefined) line.sourceIp = trace.sourceIp;
  log(line);
}
