/**
 * The entry of one request-serving isolate (a Web Worker started by isolates.ts): the whole KMS
 * (`openService` in its isolate role) behind its own hardened listener (routes/listener.ts),
 * bound with SO_REUSEPORT to the port the other isolates share. It answers the main thread's
 * `start`, `stop` (drain, flush, close: core/shutdown.ts) and `reload` (root keyring) messages.
 *
 * @module
 */
import { parseConfig } from "./core/config.ts";
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, shutDown } from "./core/shutdown.ts";
import { type KmsServer, listen } from "./routes/listener.ts";
import { stdoutLines } from "./routes/access_log.ts";
import { startupFailureLine } from "./startup.ts";
import { jsonLog, openService, type Service } from "./main.ts";
import { type FromIsolate, ISOLATE_HEADER, type IsolateRole, type ToIsolate } from "./isolates.ts";

/** The part of the worker's global scope this module uses. */
interface IsolateScope {
  onmessage: ((event: MessageEvent<ToIsolate>) => void) | null;
  postMessage(message: FromIsolate): void;
}

const scope = globalThis as unknown as IsolateScope;

/** What a started isolate stops. */
interface Running {
  service: Service;
  server: KmsServer;
  log: ReturnType<typeof jsonLog>;
  timeoutMs: number;
}

let running: Running | undefined;

scope.onmessage = (event) => {
  const message = event.data;
  if (message.kind === "start") void start(message.role, message.port);
  else if (message.kind === "stop") void stop();
  else reload();
};

/** Opens the service and listens; tells the main thread where, or the one-line failure. */
async function start(role: IsolateRole, port: number): Promise<void> {
  let service: Service;
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(Deno.env.toObject());
    service = await openService(config, { isolate: role });
  } catch (error) {
    scope.postMessage({ kind: "failed", line: startupFailureLine(error) });
    return;
  }
  const log = jsonLog(config.logLevel);
  let server: KmsServer;
  try {
    server = await listen(service.fetch, {
      hostname: config.host,
      port,
      log,
      ...config.connectionLimits,
      reusePort: true,
      isolates: role.count,
      replyHeaders: { [ISOLATE_HEADER]: String(role.index) },
    });
  } catch (error) {
    await service.close().catch(() => {});
    scope.postMessage({ kind: "failed", line: startupFailureLine(error) });
    return;
  }
  running = {
    service,
    server,
    log,
    timeoutMs: config.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
  };
  scope.postMessage({
    kind: "listening",
    hostname: server.addr.hostname,
    port: server.addr.port,
    maxConnections: server.maxConnections,
  });
}

/** Drains, flushes the audit log and closes; tells the main thread the exit code. */
async function stop(): Promise<void> {
  const current = running;
  running = undefined;
  if (current === undefined) {
    scope.postMessage({ kind: "stopped", code: 0 });
    return;
  }
  const code = await shutDown({
    drain: () => current.server.shutdown(),
    close: () => current.service.close(),
    unflushed: () => current.service.audit?.buffer.size ?? 0,
    log: current.log,
    timeoutMs: current.timeoutMs,
  });
  // The main thread exits on this reply, and a worker gets no unload event: write the queued
  // log lines (the shutdown line among them) first.
  stdoutLines().flush();
  scope.postMessage({ kind: "stopped", code });
}

/** SIGHUP: re-reads the root keyring (README "Rotating the root key"). */
function reload(): void {
  const current = running;
  if (current === undefined) return;
  current.service.reloadRootKeys().then(
    (ids) => current.log({ level: "info", message: "root keyring reloaded", rootKeys: ids }),
    (error) =>
      current.log({ level: "error", message: "root keyring reload refused", error: String(error) }),
  );
}
