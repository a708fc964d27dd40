/**
 * `GET /ready`: readiness, as opposed to `GET /health` (liveness: the process
 * answers). Ready means all of:
 * - the database is writable within the probe's deadline: the write lock is
 *   taken and a write that changes nothing commits, the file may still grow,
 *   and no request met a storage fault since the last commit (a corrupt page
 *   is reported while requests keep meeting it);
 * - the audit log takes records (AuditBuffer.unavailable(): writes are not
 *   failing, the backlog and its lag are under their bounds);
 * - the root key is loaded and wraps and unwraps.
 *
 * Answers 200 `{"status":"ready",...}` or 503 `{"status":"not ready",
 * "reasons":[...],...}`, without authentication and never with a secret. The
 * answer comes within {@link READINESS_TIMEOUT_MS} plus the time of one
 * blocked statement, even when the store hangs: the probe is given up at its
 * deadline (and shared by concurrent checks, so a flood of checks runs one
 * probe at a time).
 *
 * @module
 */
import type { Hono } from "hono";

/** Longest the database probe of one readiness check may take, in ms. */
export const READINESS_TIMEOUT_MS = 800;

/** A storage fault the store met, as the store reports it (storage/deadline.ts). */
export interface ReportedStoreFault {
  kind: string;
  code: string;
  at: number;
}

/** What readiness looks at; the SqliteStore is the store, the AuditBuffer the audit log. */
export interface ReadinessDeps {
  store: {
    /** Proves the database writable within `timeoutMs`; throws why not. */
    probeWritable(timeoutMs: number): Promise<void>;
    /** The storage fault a request met last that still holds, if any. */
    storeFault(): ReportedStoreFault | null;
    /** Whether the root key is loaded and usable. */
    rootKeyUsable(): Promise<boolean>;
  };
  /** The audit buffer (absent: no audit log). */
  audit?:
    | { readonly size: number; readonly capacity: number; unavailable(): string | null }
    | undefined;
  /** The probe's deadline, in ms (default {@link READINESS_TIMEOUT_MS}). */
  timeoutMs?: number;
}

/** The outcome of one readiness check. */
export interface Readiness {
  ready: boolean;
  /** Why not ready, one sentence each; empty when ready. */
  reasons: string[];
  checks: {
    database: { ok: boolean; probeMs: number; fault?: string };
    audit?: { ok: boolean; backlog: number; capacity: number };
    rootKey: { ok: boolean };
  };
}

/** Mounts `GET /ready` on `app`. */
export function mountReadiness(app: Hono, deps: ReadinessDeps): void {
  const check = readinessCheck(deps);
  app.get("/ready", async (c) => {
    const readiness = await check();
    c.header("x-amzn-requestid", crypto.randomUUID());
    c.header("cache-control", "no-store");
    return c.json({
      status: readiness.ready ? "ready" : "not ready",
      reasons: readiness.reasons,
      checks: readiness.checks,
    }, readiness.ready ? 200 : 503);
  });
}

/** A function that runs one readiness check (sharing a database probe already in flight). */
export function readinessCheck(deps: ReadinessDeps): () => Promise<Readiness> {
  const timeoutMs = deps.timeoutMs ?? READINESS_TIMEOUT_MS;
  let inFlight: Promise<string | null> | null = null;
  const probe = (): Promise<string | null> => {
    if (inFlight === null) {
      inFlight = databaseProblem(deps.store, timeoutMs).finally(() => inFlight = null);
    }
    return inFlight;
  };
  return async () => {
    const started = performance.now();
    const [database, rootKey] = await Promise.all([
      withinDeadline(probe(), timeoutMs),
      deps.store.rootKeyUsable(),
    ]);
    const probeMs = Math.round(performance.now() - started);
    const reasons: string[] = [];
    if (database !== null) reasons.push(database);
    const checks: Readiness["checks"] = {
      database: database === null ? { ok: true, probeMs } : { ok: false, probeMs, fault: database },
      rootKey: { ok: rootKey },
    };
    if (!rootKey) reasons.push("the root key is not loaded or cannot wrap");
    const audit = deps.audit;
    if (audit !== undefined) {
      // The buffer's own verdict: failing writes, a full backlog or a lag past its bound.
      const problem = audit.unavailable();
      checks.audit = { ok: problem === null, backlog: audit.size, capacity: audit.capacity };
      if (problem !== null) reasons.push(problem);
    }
    return { ready: reasons.length === 0, reasons, checks };
  };
}

/** Null when the database is writable, else why not (driver codes only, never values). */
async function databaseProblem(
  store: ReadinessDeps["store"],
  timeoutMs: number,
): Promise<string | null> {
  try {
    await store.probeWritable(timeoutMs);
  } catch (error) {
    return `database not writable: ${describe(error)}`;
  }
  const fault = store.storeFault();
  if (fault !== null) {
    const ago = Math.max(0, Date.now() - fault.at);
    return `database fault: ${fault.code} (${fault.kind}) met by a request ${ago} ms ago`;
  }
  return null;
}

/** The probe's answer, or a timeout reason once `ms` passed (the probe keeps running, shared). */
function withinDeadline(work: Promise<string | null>, ms: number): Promise<string | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`database not writable: no answer within ${ms} ms`),
      ms,
    );
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** A driver error as one short line: its code and first line, without SQL arguments. */
function describe(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split("\n")[0]?.slice(0, 200) ?? "";
  return typeof code === "string" && code !== "" && !line.includes(code)
    ? `${code}: ${line}`
    : line;
}
