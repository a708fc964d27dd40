/**
 * A clean stop (SIGTERM, SIGINT) with a deadline: drain the requests in
 * flight, then flush the audit buffer and close the store, and report what
 * could not be done, so that the process always exits.
 *
 * The drain may use the deadline minus {@link flushReserve}; the flush and
 * close get the rest (at least that reserve). A step still running at its
 * deadline is abandoned (logged); the audit records still buffered then are
 * logged by count (their contents never: they may name principals and
 * resources, not secrets, but a log is not an audit store).
 *
 * @module
 */

/** Default deadline of a clean stop, in ms (`KMS_SHUTDOWN_TIMEOUT_MS`). */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** What a stop does, and how it reports. */
export interface ShutdownSteps {
  /** Stops accepting requests and resolves once those in flight are answered. */
  drain(): Promise<void>;
  /** Flushes the audit buffer and closes the store (and everything else). */
  close(): Promise<void>;
  /** Audit records accepted and not yet written. */
  unflushed(): number;
  log(record: Record<string, unknown>): void;
  /** The whole stop's deadline, in ms. */
  timeoutMs: number;
}

/** The part of the deadline kept for the flush and close. */
export function flushReserve(timeoutMs: number): number {
  return Math.floor(timeoutMs / 3);
}

/** Runs the stop; resolves (never rejects) by the deadline with the exit code: 0 clean, 1 not. */
export async function shutDown(steps: ShutdownSteps): Promise<number> {
  const started = Date.now();
  const end = started + steps.timeoutMs;
  const drained = await step("drain requests", steps.drain, end - flushReserve(steps.timeoutMs));
  const closed = await step("flush audit log and close store", steps.close, end);
  const unflushed = safeCount(steps.unflushed);
  const clean = drained === null && closed === null && unflushed === 0;
  for (const [name, problem] of [["drain", drained], ["close", closed]] as const) {
    if (problem !== null) {
      steps.log({ level: "error", message: "shutdown step did not finish", step: name, problem });
    }
  }
  if (unflushed > 0) {
    steps.log({
      level: "error",
      message: "audit records could not be written before exit; they are lost",
      unflushed,
    });
  }
  steps.log({
    level: clean ? "info" : "error",
    message: clean ? "shutdown complete" : "shutdown incomplete",
    ms: Date.now() - started,
  });
  return clean ? 0 : 1;
}

/** Null when `work` finished by `until` (ms since the epoch), else why not. */
async function step(
  name: string,
  work: () => Promise<void>,
  until: number,
): Promise<string | null> {
  const ms = Math.max(0, until - Date.now());
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`${name}: not finished within ${ms} ms`), ms);
  });
  const done = (async () => {
    try {
      await work();
      return null;
    } catch (error) {
      return `${name}: ${error instanceof Error ? error.message : String(error)}`;
    }
  })();
  try {
    return await Promise.race([done, late]);
  } finally {
    clearTimeout(timer);
  }
}

function safeCount(count: () => number): number {
  try {
    return count();
  } catch {
    return 0;
  }
}
