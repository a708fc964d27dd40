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
      if (typeof Deno.unrefTimer === "function") Deno.unrefTimer(timer);
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

/**
 * Standard output as a `LineWriter`: `Deno.stdout`, or `console.log` where a platform offers no
 * synchronous stdout (an edge runtime).
 */
function stdoutWriter(): LineWriter {
  if (typeof Deno.stdout?.writeSync === "function") return Deno.stdout;
  const decoder = new TextDecoder();
  return {
    writeSync(bytes) {
      console.log(decoder.decode(bytes).replace(/\n$/, ""));
      return bytes.length;
    },
  };
}

/** The process's one queue of stdout lines, flushed at exit. */
export function stdoutLines(): JsonLines {
  if (stdout === undefined) {
    const lines = new JsonLines(stdoutWriter());
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

/** The queue each `jsonLog` sink writes to, so access lines can be written to it as text. */
const linesOfSink = new WeakMap<LogSink, JsonLines>();

/** A JSON-lines logger on stdout (queued, see `JsonLines`) at or above `level`. */
export function jsonLog(level: LogLevel, lines: JsonLines = stdoutLines()): LogSink {
  const threshold = LEVELS[level];
  const sink: LogSink = (record) => {
    const recordLevel = LEVELS[record.level as LogLevel] ?? LEVELS.info;
    if (recordLevel < threshold) return;
    lines.write(JSON.stringify({ time: isoNow(), ...record }));
  };
  if (threshold <= LEVELS.info) linesOfSink.set(sink, lines);
  return sink;
}

/** Writes the access line of one answered KMS request. */
export type AccessLog = (trace: RequestTrace, status: number) => void;

/**
 * Where access lines go: none (null, so none is even built) at `KMS_LOG_LEVEL=warn` or `error`
 * or with `KMS_ACCESS_LOG=off`; else to `log`, as text straight into its queue when `log` is a
 * `jsonLog`.
 */
export function accessLogSink(
  config: { logLevel: LogLevel; accessLog?: boolean | undefined },
  log: LogSink,
): AccessLog | null {
  if (config.accessLog === false || LEVELS[config.logLevel] > LEVELS.info) return null;
  const lines = linesOfSink.get(log);
  if (lines === undefined) return accessLogTo(log);
  return (trace, status) => lines.write(accessLineText(trace, status));
}

/** Access lines as records handed to `log` (any log sink, e.g. a test's). */
export function accessLogTo(log: LogSink): AccessLog {
  return (trace, status) => log(accessLineRecord(trace, status));
}

/**
 * The access line as `jsonLog` would write its record, built as text: the same members in the
 * same order. Operation and exception names are this KMS's own identifiers and the request id a
 * UUID; the principal ARN and source IP are JSON-escaped.
 */
export function accessLineText(trace: RequestTrace, status: number): string {
  let text = `{"time":"${isoNow()}","level":"info","message":"request","requestId":${
    JSON.stringify(trace.requestId)
  },"operation":${JSON.stringify(trace.operation)},"status":${status}`;
  if (trace.exception !== undefined) text += `,"exception":${JSON.stringify(trace.exception)}`;
  text += `,"durationMs":${durationMs(trace)}`;
  if (trace.principalArn !== undefined) {
    text += `,"principalArn":${JSON.stringify(trace.principalArn)}`;
  }
  if (trace.sourceIp !== undefined) text += `,"sourceIp":${JSON.stringify(trace.sourceIp)}`;
  return text + "}";
}

function durationMs(trace: RequestTrace): number {
  return Math.round(trace.elapsedSeconds() * 1e6) / 1e3;
}

/** The access line of an answered request as a log record. */
export function accessLineRecord(trace: RequestTrace, status: number): Record<string, unknown> {
  const line: Record<string, unknown> = {
    level: "info",
    message: "request",
    requestId: trace.requestId,
    operation: trace.operation,
    status,
  };
  if (trace.exception !== undefined) line.exception = trace.exception;
  line.durationMs = durationMs(trace);
  if (trace.principalArn !== undefined) line.principalArn = trace.principalArn;
  if (trace.sourceIp !== undefined) line.sourceIp = trace.sourceIp;
  return line;
}
