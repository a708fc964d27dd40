/**
 * The HTTP/1.1 listener of main.ts: `node:http` (Deno's llhttp-based implementation) in front of
 * the Hono app, because it closes the connections Deno.serve keeps forever.
 *
 * Chosen by measurement (README "Connections and limits"): Deno.serve (Deno 2.9) has no header,
 * body or idle timeout and no connection bound, and one EMFILE on accept rejects its `finished`
 * promise and ends its accept loop for good. Deno's `node:http` honours `headersTimeout`,
 * `requestTimeout`, `keepAliveTimeout`, `maxHeaderSize` and `maxConnections`; what it lacks is
 * handled here:
 * - timeouts are checked every `connectionsCheckingInterval` (Node's default 30 s would let a
 *   slowloris connection live 30 s past its deadline): 250 ms here;
 * - `maxConnections` is capped below the process's descriptor limit (`RLIMIT_NOFILE` from
 *   `/proc/self/limits`) less the descriptors open at start and a reserve (a quarter of the
 *   limit, at least `MIN_FD_RESERVE`: accepted-then-dropped sockets are freed a loop turn
 *   later, and a burst of them must not reach the limit), so connections
 *   never exhaust descriptors: a connection over the bound is accepted and closed at once;
 * - when descriptors run out anyway (something else holds them), Deno's accept loop stops without
 *   an error event: a watchdog probes the listener (unless it accepted a connection since its
 *   last look: a busy listener is not probed) and, when a probe connection is not accepted,
 *   re-opens the listening socket with a back-off, logging at most once per `LOG_INTERVAL_MS`;
 * - a request the parser rejects (header section over `maxHeaderBytes`, malformed HTTP) gets an
 *   AWS JSON error reply (routes/errors.ts) instead of an empty 400; a timed-out connection is
 *   closed without a reply.
 *
 * Requests reach the app as Fetch `Request`s with `env = { remoteAddr }`, as Deno.serve passes
 * it, so `originOf(c.env)` (routes/app.ts) keeps reading the peer's IP. A body with a declared
 * length within `MAX_BODY_BYTES` is read before the app sees it (the hot path: no stream); any
 * other body is handed over as a stream the app reads within its limit. Replies are buffered
 * (every reply of the app is small) and written in one call.
 *
 * Several isolates of one process (`KMS_WORKERS`, isolates.ts) each run a listener on the same
 * port with `reusePort` (SO_REUSEPORT; Deno's node:http honours it): the kernel spreads the
 * connections over them. Each then takes its share of the connection bound, and its watchdog
 * probes with several connections at once, since the kernel may hand any one of them to
 * another isolate.
 *
 * deploy.ts (Deno Deploy) keeps Deno.serve: Deploy terminates connections itself.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Server as NetServer, type Socket } from "node:net";
import { Buffer } from "node:buffer";
import {
  KmsError,
  RequestEntityTooLargeException,
  SerializationException,
} from "../core/errors.ts";
import { type ConnectionLimits, DEFAULT_CONNECTION_LIMITS } from "../core/config.ts";
import { errorReply, errorResponse } from "./errors.ts";
import { AMZ_JSON, MAX_BODY_BYTES } from "./protocol.ts";
import { TurnBudget } from "./turn_budget.ts";

/** What the listener hands the app as `env`: the shape of Deno.serve's ServeHandlerInfo. */
export interface ListenerEnv {
  remoteAddr: { transport: "tcp"; hostname: string; port: number };
}

/** A fetch handler (Hono's `app.fetch`). */
export type FetchHandler = (request: Request, env: ListenerEnv) => Response | Promise<Response>;

/** Where the listener logs (one JSON object per line, like the app's log). */
export type ListenerLog = (record: Record<string, unknown>) => void;

/** Options of `listen`. */
export interface ListenOptions extends Omit<ConnectionLimits, "turnBudgetMs"> {
  hostname: string;
  port: number;
  log: ListenerLog;
  /** Seconds between two looks of the accept watchdog (default 2 s). */
  watchdogIntervalMs?: number;
  /** Binds with SO_REUSEPORT, to share the port with the other isolates of this process. */
  reusePort?: boolean;
  /** How many listeners of this process share the port and the connection bound (default 1). */
  isolates?: number;
  /** Headers added to every reply (the serving isolate's id). */
  replyHeaders?: Readonly<Record<string, string>>;
  /**
   * Synchronous request work started per event-loop turn at most, ms (routes/turn_budget.ts;
   * `KMS_TURN_BUDGET_MS`, default 0: no bound).
   */
  turnBudgetMs?: number | undefined;
  /** The budget itself, when the caller wants to watch or change it (the bench); else made here. */
  turnBudget?: TurnBudget | undefined;
}

/** A listening server. */
export interface KmsServer {
  /** Where it listens (the actual port when 0 was asked). */
  readonly addr: { hostname: string; port: number };
  /** The bound on open connections actually applied (descriptor cap included). */
  readonly maxConnections: number;
  /** Connections open now. */
  connections(): number;
  /**
   * Stops accepting, closes idle connections, lets in-flight requests finish (their
   * connections close after the reply), and resolves once no connection is left or
   * `deadlineMs` passed (the rest are then destroyed).
   */
  shutdown(deadlineMs?: number): Promise<void>;
}

/** Least number of descriptors kept free beyond those open at start (see `connectionBound`). */
export const MIN_FD_RESERVE = 128;
/** Least time between two log lines about the same accept problem. */
const LOG_INTERVAL_MS = 10_000;
/** How often the server looks for connections past their header or request deadline. */
const CHECK_INTERVAL_MS = 250;
/** How long the watchdog waits for its probe connection to be accepted. */
const PROBE_WAIT_MS = 3_000;
/** Probes in a row that must go unaccepted before the listening socket is re-opened. */
const STALLS_BEFORE_REOPEN = 2;
/** Longest back-off between two attempts to re-open a stalled listener. */
const MAX_BACKOFF_MS = 5_000;

/** The soft descriptor limit of this process, when the platform tells it (Linux). */
export function descriptorLimit(): number | undefined {
  try {
    const limits = Deno.readTextFileSync("/proc/self/limits");
    const line = limits.split("\n").find((l) => l.startsWith("Max open files"));
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
    const value = Number(soft);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/** How many descriptors this process has open now, when the platform tells it (Linux). */
export function openDescriptors(): number | undefined {
  try {
    let count = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) count++;
    return count;
  } catch {
    return undefined;
  }
}

/**
 * The connection bound: the configured one, capped to the descriptor limit less those already
 * open and a reserve of a quarter of the limit (at least `MIN_FD_RESERVE`).
 */
export function connectionBound(
  configured: number,
  fdLimit: number | undefined,
  openNow = 0,
): number {
  if (fdLimit === undefined) return configured;
  const reserve = Math.max(MIN_FD_RESERVE, Math.floor(fdLimit / 4));
  return Math.max(1, Math.min(configured, fdLimit - openNow - reserve));
}

/** Calls `log` at most once per `LOG_INTERVAL_MS` per kind, counting what it kept quiet. */
function rateLimitedLog(log: ListenerLog): (kind: string, record: Record<string, unknown>) => void {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (kind, record) => {
    const now = Date.now();
    const seen = last.get(kind);
    if (seen !== undefined && now - seen.at < LOG_INTERVAL_MS) {
      seen.suppressed++;
      return;
    }
    log({ ...record, suppressedSinceLast: seen?.suppressed ?? 0 });
    last.set(kind, { at: now, suppressed: 0 });
  };
}

/** The raw bytes of an AWS JSON error reply on a connection the parser gave up on. */
function rawErrorReply(error: KmsError): string {
  const reply = errorReply(error, () => {});
  const body = reply.body;
  return [
    `HTTP/1.1 ${reply.status} ${reply.status === 413 ? "Payload Too Large" : "Bad Request"}`,
    `content-type: ${AMZ_JSON}`,
    `x-amzn-errortype: ${reply.name}`,
    `content-length: ${Buffer.byteLength(body)}`,
    "connection: close",
    "",
    body,
  ].join("\r\n");
}

/** The AWS error for a request the HTTP parser rejected; undefined: close without a reply. */
function parserError(code: string | undefined, maxHeaderBytes: number): KmsError | undefined {
  if (code === "HPE_HEADER_OVERFLOW") {
    return new RequestEntityTooLargeException(
      `Request header section must not exceed ${maxHeaderBytes} bytes.`,
    );
  }
  if (code?.startsWith("HPE_") && code !== "HPE_INVALID_EOF_STATE") {
    return new SerializationException("The request is not valid HTTP/1.1.");
  }
  return undefined; // timeouts, resets, a peer that went away
}

/** The request's URL; the Host header names the authority, as Deno.serve does. */
function requestUrl(req: IncomingMessage): string {
  const target = req.url ?? "/";
  if (!target.startsWith("/")) return new URL(target).href; // absolute-form
  return new URL(target, `http://${req.headers.host ?? "localhost"}`).href;
}

/**
 * The header fields of a node request as name/value pairs, repeated fields kept. Pairs, not a
 * Headers object: `new Request` copies a Headers object through its sorted iterator, which cost
 * ~40 KB of garbage and tens of µs per request (scripts/profile.ts, PROFILE_HEAP=1).
 */
function requestHeaders(req: IncomingMessage): [string, string][] {
  const headers: [string, string][] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i]!, raw[i + 1]!]);
  return headers;
}

/** Reads a body of declared length (within MAX_BODY_BYTES) in full. */
function readDeclaredBody(req: IncomingMessage): Promise<Uint8Array<ArrayBuffer>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      resolve(new Uint8Array(whole.buffer as ArrayBuffer, whole.byteOffset, whole.byteLength));
    });
    req.on("error", reject);
    req.on("aborted", () => reject(new Error("request aborted")));
  });
}

/** A pull stream over a node request (used for chunked or oversized bodies). */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.on("data", (chunk: Buffer) => {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.on("end", () => controller.close());
      req.on("error", (error) => controller.error(error));
    },
    pull() {
      req.resume();
    },
    cancel() {
      // Stop reading; the reply is still written, then the connection closes (writeResponse).
      req.pause();
    },
  }, { highWaterMark: 4 });
}

/** The Fetch Request for a node request. */
async function toRequest(req: IncomingMessage): Promise<Request> {
  const url = requestUrl(req);
  const headers = requestHeaders(req);
  const method = req.method ?? "GET";
  if (method === "GET" || method === "HEAD") {
    req.resume();
    return new Request(url, { method, headers });
  }
  const declared = Number(req.headers["content-length"]);
  if (req.headers["content-length"] !== undefined && declared <= MAX_BODY_BYTES) {
    return new Request(url, { method, headers, body: await readDeclaredBody(req) });
  }
  return new Request(
    url,
    { method, headers, body: bodyStream(req), duplex: "half" } as RequestInit,
  );
}

/** Writes a Fetch Response on a node response, body in one write. */
async function writeResponse(
  res: ServerResponse,
  response: Response,
  extra?: Readonly<Record<string, string>>,
): Promise<void> {
  const body = response.body === null ? undefined : new Uint8Array(await response.arrayBuffer());
  const names: Record<string, string | string[]> = { ...extra };
  for (const [name, value] of response.headers) {
    const existing = names[name];
    names[name] = existing === undefined
      ? value
      : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  names["content-length"] = String(body?.byteLength ?? 0);
  // A body the app left unread (over its limit) must not be taken for the next request.
  if (!res.req.complete) res.shouldKeepAlive = false;
  res.writeHead(response.status, names);
  res.end(body);
}

/** Answers `error` as routes/errors.ts does, unless a reply was already started. */
function writeError(
  res: ServerResponse,
  error: unknown,
  log: ListenerLog,
  extra?: Readonly<Record<string, string>>,
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const reply = errorReply(
    error,
    (e) => log({ level: "error", message: "listener: request failed", error: String(e) }),
  );
  const response = errorResponse(reply, crypto.randomUUID());
  writeResponse(res, response, extra).catch(() => res.destroy());
}

/** The request handler: node request -> Fetch Request -> app -> node response. */
function bridge(
  fetch: FetchHandler,
  log: ListenerLog,
  extra: Readonly<Record<string, string>> | undefined,
  budget: TurnBudget,
) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Past this turn's budget, the request is read and served in a later turn (timers and I/O
    // run between): routes/turn_budget.ts.
    const turn = budget.admit();
    if (turn !== undefined) await turn;
    const socket = req.socket;
    const env: ListenerEnv = {
      remoteAddr: {
        transport: "tcp",
        hostname: socket.remoteAddress ?? "",
        port: socket.remotePort ?? 0,
      },
    };
    let request: Request;
    try {
      request = await toRequest(req);
    } catch {
      // A URL or header a Fetch Request cannot hold, or a body that ended early.
      res.shouldKeepAlive = false;
      writeError(
        res,
        new SerializationException("The request is not valid HTTP/1.1."),
        log,
        extra,
      );
      return;
    }
    try {
      await writeResponse(res, await fetch(request, env), extra);
    } catch (error) {
      writeError(res, error, log, extra);
    }
  };
}

/** Applies the limits to one node server and wires its handlers. */
function configuredServer(
  options: ListenOptions,
  maxConnections: number,
  handler: ReturnType<typeof bridge>,
  onSocket: (socket: Socket) => void,
  onDrop: () => void,
): Server {
  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      maxHeaderSize: options.maxHeaderBytes,
      connectionsCheckingInterval: CHECK_INTERVAL_MS,
    } as Parameters<typeof createServer>[0],
    handler,
  );
  server.headersTimeout = options.headersTimeoutMs;
  server.requestTimeout = options.requestTimeoutMs;
  server.keepAliveTimeout = options.keepAliveTimeoutMs;
  server.maxConnections = maxConnections;
  server.on("connection", onSocket);
  server.on("drop", onDrop);
  server.on("clientError", (error: Error & { code?: string }, socket: Socket) => {
    const reply = parserError(error.code, options.maxHeaderBytes);
    if (reply !== undefined && socket.writable) {
      socket.end(rawErrorReply(reply));
      socket.destroySoon?.();
    } else {
      socket.destroy();
    }
  });
  return server;
}

/** Opens `server` on hostname:port; rejects on a listen error (port in use...). */
function openOn(
  server: Server,
  hostname: string,
  port: number,
  reusePort: boolean,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen({ port, host: hostname, ...(reusePort ? { reusePort } : {}) }, () => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : port);
    });
  });
}

/** The address to reach a listener bound to `hostname` from this host. */
function loopbackFor(hostname: string): string {
  if (hostname === "0.0.0.0") return "127.0.0.1";
  if (hostname === "::" || hostname === "[::]") return "::1";
  return hostname;
}

/** Probe connections per look for `isolates` listeners sharing the port (see `probeAccepts`). */
export function probesPerLook(isolates: number): number {
  // The kernel picks a listener per connection: all of 8n probes miss this one with
  // probability (1 - 1/n)^(8n) < e^-8, and two looks in a row (a re-open) < e^-16.
  return isolates <= 1 ? 1 : Math.min(64, 8 * isolates);
}

/**
 * Whether one of `probes` fresh connections to hostname:port is accepted by this listener
 * (`accepted` waits for it); several when other isolates share the port.
 */
async function probeAnyAccepted(
  hostname: string,
  port: number,
  probes: number,
  accepted: (localPort: number) => Promise<boolean>,
): Promise<"accepted" | "stalled" | "no-descriptor"> {
  if (probes <= 1) return await probeAccepts(hostname, port, accepted);
  // The first probe this listener accepts answers; the others end on their own.
  return await new Promise((resolve) => {
    let left = probes;
    let noDescriptor = false;
    for (let i = 0; i < probes; i++) {
      probeAccepts(hostname, port, accepted).then((outcome) => {
        if (outcome === "accepted") resolve(outcome);
        if (outcome === "no-descriptor") noDescriptor = true;
        if (--left === 0) resolve(noDescriptor ? "no-descriptor" : "stalled");
      });
    }
  });
}

/** Whether a fresh connection to hostname:port is accepted (`accepted` waits for it). */
async function probeAccepts(
  hostname: string,
  port: number,
  accepted: (localPort: number) => Promise<boolean>,
): Promise<"accepted" | "stalled" | "no-descriptor"> {
  // A full accept backlog leaves a connect pending for minutes: bounded here.
  const attempt = Deno.connect({ hostname: loopbackFor(hostname), port });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), PROBE_WAIT_MS);
  });
  let conn: Deno.TcpConn | "late";
  try {
    conn = await Promise.race([attempt, late]);
  } catch (error) {
    return /too many open files|EMFILE|ENFILE/i.test(String(error)) ? "no-descriptor" : "stalled";
  } finally {
    clearTimeout(timer);
  }
  if (conn === "late") {
    attempt.then((c) => c.close(), () => {});
    return "stalled";
  }
  try {
    return await accepted((conn.localAddr as Deno.NetAddr).port) ? "accepted" : "stalled";
  } finally {
    conn.close();
  }
}

/**
 * Listens on options.hostname:port and serves `fetch` with the connection limits.
 * @throws the listen error (address in use, permission...).
 */
export async function listen(fetch: FetchHandler, options: ListenOptions): Promise<KmsServer> {
  const isolates = Math.max(1, options.isolates ?? 1);
  const reusePort = options.reusePort ?? false;
  // The descriptors are the process's: each isolate takes its share of the bound.
  const maxConnections = Math.max(
    1,
    Math.floor(
      connectionBound(options.maxConnections, descriptorLimit(), openDescriptors()) / isolates,
    ),
  );
  const budget = options.turnBudget ??
    new TurnBudget(options.turnBudgetMs ?? DEFAULT_CONNECTION_LIMITS.turnBudgetMs);
  const handler = bridge(fetch, options.log, options.replyHeaders, budget);
  const sockets = new Set<Socket>();
  const probes = new Map<number, () => void>();
  // A connection accepted since the last look proves accepting works: no probe needed then.
  let acceptedSinceLook = false;
  const onSocket = (socket: Socket) => {
    acceptedSinceLook = true;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    if (socket.remoteAddress === socket.localAddress) probes.get(socket.remotePort ?? -1)?.();
  };
  const report = rateLimitedLog(options.log);
  const onDrop = () =>
    report("drop", {
      level: "warn",
      message: "listener: connection bound reached; new connections are closed",
      maxConnections,
    });
  let server = configuredServer(options, maxConnections, handler, onSocket, onDrop);
  const port = await openOn(server, options.hostname, options.port, reusePort);
  const retired: Server[] = [];
  let stopping = false;
  let backoffMs = 0;
  let stalls = 0;

  const isProbe = (socket: Socket, localPort: number) =>
    socket.remotePort === localPort && socket.remoteAddress === socket.localAddress;
  const waitAccepted = (localPort: number) =>
    new Promise<boolean>((resolve) => {
      // The server may see the connection before the probe's connect resolves.
      for (const socket of sockets) if (isProbe(socket, localPort)) return resolve(true);
      const timer = setTimeout(() => {
        probes.delete(localPort);
        resolve(false);
      }, PROBE_WAIT_MS);
      probes.set(localPort, () => {
        clearTimeout(timer);
        probes.delete(localPort);
        resolve(true);
      });
    });

  /** Re-opens the listening socket on the same port; old connections stay with the old server. */
  const reopen = async () => {
    const old = server;
    // net.Server's close: the listening socket only. http.Server's would also close idle
    // keep-alive connections and stop their timeout checks.
    NetServer.prototype.close.call(old);
    retired.push(old);
    server = configuredServer(options, maxConnections, handler, onSocket, onDrop);
    await openOn(server, options.hostname, port, reusePort);
  };

  const watch = async () => {
    if (stopping) return;
    const accepting = acceptedSinceLook;
    acceptedSinceLook = false;
    if (accepting && stalls === 0) {
      backoffMs = 0;
    } else if (sockets.size < maxConnections) {
      const outcome = await probeAnyAccepted(
        options.hostname,
        port,
        probesPerLook(isolates),
        waitAccepted,
      );
      acceptedSinceLook = false; // this look's own probes prove nothing for the next look
      if (outcome === "accepted") {
        backoffMs = 0;
        stalls = 0;
      } else {
        if (outcome === "stalled") stalls++;
        report(outcome, {
          level: "error",
          message: outcome === "no-descriptor"
            ? "listener: out of file descriptors; refusing connections until some are free"
            : "listener: a probe connection was not accepted (accepting stalled?)",
          openConnections: sockets.size,
        });
        if (stalls >= STALLS_BEFORE_REOPEN && !stopping) {
          stalls = 0;
          options.log({ level: "warn", message: "listener: re-opening the listening socket" });
          await reopen().catch((error) =>
            report("reopen", {
              level: "error",
              message: "listener: re-open failed",
              error: String(error),
            })
          );
        }
        backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(250, backoffMs * 2));
      }
    }
    if (!stopping) schedule(backoffMs || watchdogIntervalMs);
  };
  const watchdogIntervalMs = options.watchdogIntervalMs ?? 2_000;
  let watching: Promise<void> = Promise.resolve();
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const schedule = (delayMs: number) => {
    watchdog = setTimeout(() => {
      watching = watch();
    }, delayMs);
  };
  schedule(watchdogIntervalMs);

  return {
    addr: { hostname: options.hostname, port },
    maxConnections,
    connections: () => sockets.size,
    async shutdown(deadlineMs = 10_000) {
      stopping = true;
      clearTimeout(watchdog);
      // A look under way stops waiting for its probes (those another isolate took never come).
      for (const done of [...probes.values()]) done();
      await watching;
      const closed = [server, ...retired].map((s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeIdleConnections?.();
        })
      );
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, deadlineMs);
      });
      await Promise.race([Promise.all(closed), deadline]);
      clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      if (options.turnBudget === undefined) budget.close();
    },
  };
}
