/**
 * Observability of the HTTP app: `GET /metrics` (Prometheus text format) and, for every KMS API
 * request, one metrics observation (its access line: routes/access_log.ts).
 *
 * `/metrics` answers without SigV4 (Prometheus scrapers do not sign); with a token configured
 * (`KMS_METRICS_TOKEN`) it requires `Authorization: Bearer <token>`.
 *
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/
 * @module
 */
import type { Hono } from "hono";
import { EXPOSITION_CONTENT_TYPE, type KeyStateCounter, type Metrics } from "../core/metrics.ts";
import { DISPATCH_TABLE } from "./dispatch_table.ts";

/** What `GET /metrics` needs. */
export interface MetricsDeps {
  metrics: Metrics;
  keyStates: KeyStateCounter;
  /** When set, scrapes must send `Authorization: Bearer <token>`. */
  token?: string | undefined;
}

const TARGET_PREFIX = "TrentService.";

/**
 * The operation label of a request: its operation when this KMS knows it, else `Unknown`, so a
 * client cannot add series by inventing targets.
 */
export function operationLabel(target: string | null | undefined): string {
  if (typeof target !== "string" || !target.startsWith(TARGET_PREFIX)) return "Unknown";
  const name = target.slice(TARGET_PREFIX.length);
  return DISPATCH_TABLE.has(name) ? name : "Unknown";
}

/** What is known about one KMS API request when it is answered. */
export class RequestTrace {
  readonly requestId: string;
  readonly operation: string;
  readonly sourceIp: string | undefined;
  /** Set once SigV4 verified the caller. */
  principalArn: string | undefined = undefined;
  /** The AWS exception name of a failed request. */
  exception: string | undefined = undefined;
  readonly #started = performance.now();

  constructor(
    init: { requestId: string; target: string | undefined; sourceIp: string | undefined },
  ) {
    this.requestId = init.requestId;
    this.operation = operationLabel(init.target);
    this.sourceIp = init.sourceIp;
  }

  /** Seconds since the trace began. */
  elapsedSeconds(): number {
    return (performance.now() - this.#started) / 1000;
  }
}

/**
 * Records the answered request: one metrics observation (and, when it failed before SigV4 named a
 * caller, one authentication failure). Its access line is routes/access_log.ts's.
 */
export function finishRequest(trace: RequestTrace, metrics: Metrics): void {
  const seconds = trace.elapsedSeconds();
  metrics.observe({ operation: trace.operation, exception: trace.exception, seconds });
  if (trace.principalArn === undefined && trace.exception !== undefined) {
    metrics.authFailure(trace.exception);
  }
  if (trace.exception === "ThrottlingException") metrics.throttled(trace.operation);
}

/** Adds `GET /metrics`. */
export function mountMetrics(app: Hono, deps: MetricsDeps): void {
  const expected = deps.token === undefined ? undefined : digest(deps.token);
  app.get("/metrics", async (c) => {
    if (expected !== undefined) {
      const given = bearerToken(c.req.header("authorization"));
      if (given === undefined || !equalBytes(await digest(given), await expected)) {
        return c.text("unauthorized\n", 401, { "www-authenticate": 'Bearer realm="metrics"' });
      }
    }
    const text = deps.metrics.render(await deps.keyStates.countKeysByState());
    return c.body(text, 200, { "content-type": EXPOSITION_CONTENT_TYPE });
  });
}

function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
}

/** Compares equal-length digests without an early exit. */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ (b[i] ?? 0);
  return difference === 0;
}
