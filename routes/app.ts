/**
 * createApp(deps): the Hono app. `POST /` speaks AWS JSON 1.1:
 * framing (declared body length, content type, target) -> SigV4 headers (known access key) ->
 * body (at most 1 MiB) -> SigV4 signature over its raw bytes -> JSON -> schema -> core operation
 * -> reply. A request without a usable credential is refused before its body is read; one with
 * a wrong signature costs reading and hashing its bounded body; nothing is parsed as JSON before
 * the signature verified. Refusals are counted (metrics), audited in aggregate
 * (core/audit/auth_failures.ts), and held while their source is over its byte budget
 * (routes/refusal_budget.ts).
 * `GET /health` answers without authentication.
 *
 * @module
 */
import { Hono } from "hono";
import type { AuthFailureAggregator } from "../core/audit/auth_failures.ts";
import type { AuditBuffer } from "../core/audit/buffer.ts";
import { AuditEntry } from "../core/audit/entry.ts";
import type { CredentialCache } from "../core/credentials.ts";
import { UnknownOperationException } from "../core/errors.ts";
import type { Kms } from "../core/kms.ts";
import type { RequestQuotas } from "../core/quotas.ts";
import type { Caller, SigV4Identity } from "../core/types.ts";
import { type AccessLog, accessLogTo, type LogSink } from "./access_log.ts";
import { errorReply, errorResponse } from "./errors.ts";
import { finishRequest, type MetricsDeps, mountMetrics, RequestTrace } from "./metrics.ts";
import { DISPATCH_TABLE } from "./dispatch_table.ts";
import { playgroundApp, rootToPlayground } from "./playground.ts";
import { mountReadiness, type ReadinessDeps } from "./readiness.ts";
import {
  AMZ_JSON,
  assertAmzJson,
  assertDeclaredLength,
  echoed,
  operationName,
  parseJsonObject,
  readBody,
  toWire,
} from "./protocol.ts";
import { chargeQuota, withRetryAfter } from "./quotas.ts";
import { RefusalBudget } from "./refusal_budget.ts";
import { checkSigV4Header } from "./sigv4.ts";
import { validationError } from "./validation_message.ts";

export type { LogSink } from "./access_log.ts";

/** What the app needs. */
export interface AppDeps {
  /** The KMS of the default region. */
  kms: Kms;
  /**
   * Every region served (`KMS_REGIONS`), the default one included; a request's SigV4 credential
   * scope picks its KMS. Absent: the default region only.
   */
  regions?: ReadonlyMap<string, Kms> | undefined;
  /** The names of `regions` (set by createApp). */
  servedRegions?: ReadonlySet<string> | undefined;
  credentials: CredentialCache;
  log: LogSink;
  /**
   * Where each KMS request's access line goes (routes/access_log.ts `accessLogSink`); null: no
   * access line is built. Absent: to `log`, as a record.
   */
  accessLog?: AccessLog | null | undefined;
  /**
   * Where the audit records of requests that changed nothing go (group-committed); absent, no
   * request is recorded (benchmarks measure the audit log's cost against this).
   */
  audit?: Pick<AuditBuffer, "push"> | undefined;
  /**
   * Where the audit records of requests answered before authentication go instead of `audit`:
   * repeats are folded into counted records. Absent, each is pushed to `audit` like any other.
   */
  authFailures?: Pick<AuthFailureAggregator, "record"> | undefined;
  /** Byte budgets of bodies refused before authentication, per source; default ones if absent. */
  refusals?: RefusalBudget | undefined;
  /** Request metrics and `GET /metrics`; absent, neither (`KMS_METRICS=off`). */
  metrics?: MetricsDeps | undefined;
  /** `GET /ready` (routes/readiness.ts); absent, no readiness endpoint. */
  readiness?: ReadinessDeps | undefined;
  /** AWS's request quotas (`KMS_QUOTAS=aws`, routes/quotas.ts); absent, none. */
  quotas?: RequestQuotas | undefined;
}

const REQUIRED_SIGNED_HEADERS = ["host", "x-amz-target", "content-type"] as const;

/** Where a request came from, as the server saw it. */
export interface Origin {
  /** The peer's IP address (`aws:SourceIp`); undefined when unknown (in-process calls). */
  sourceIp: string | undefined;
}

/** The peer address Deno.serve hands Hono as `env` (ServeHandlerInfo), if any. */
export function originOf(env: unknown): Origin {
  const addr = (env as { remoteAddr?: { hostname?: unknown } } | undefined)?.remoteAddr;
  return { sourceIp: typeof addr?.hostname === "string" ? addr.hostname : undefined };
}

/** Answers one AWS JSON 1.1 request. */
async function handleKmsRequest(
  deps: AppDeps,
  request: Request,
  requestId: string,
  origin: Origin,
  entry: AuditEntry | undefined,
  trace: RequestTrace,
): Promise<Response> {
  await assertDeclaredLength(request);
  assertAmzJson(request.headers.get("content-type"));
  const name = operationName(request.headers.get("x-amz-target"));
  entry?.setOperation(name);
  const op = DISPATCH_TABLE.get(name);
  if (op === undefined) {
    throw new UnknownOperationException(`Unknown operation ${echoed(name)}.`);
  }
  // SigV4 first: the headers before the body is read (no credential, no read), then the
  // signature over the raw bytes; only an authenticated request's body is parsed.
  const pending = await checkSigV4Header(
    { method: request.method, url: request.url, headers: request.headers },
    {
      region: deps.kms.region,
      otherRegions: deps.servedRegions,
      service: "kms",
      now: Date.now(),
      requiredSignedHeaders: REQUIRED_SIGNED_HEADERS,
      lookupCredential: (id) => deps.credentials.get(id),
    },
  );
  const body = await readBody(request);
  const identity: SigV4Identity = await pending.verify(body);
  trace.principalArn = identity.principalArn;
  const kms = deps.regions?.get(identity.region) ?? deps.kms;
  entry?.setRegion(kms.region);
  entry?.setPrincipal({
    arn: identity.principalArn,
    accountId: identity.accountId,
    accessKeyId: identity.accessKeyId,
  });
  const credential = await deps.credentials.get(identity.accessKeyId);
  const json = parseJsonObject(body);
  const parsed = op.schema.safeParse(json);
  if (!parsed.success) throw validationError(parsed.error, json);
  entry?.setRequestParameters(name, parsed.data);
  // The request context, built once: core reads it and never changes it.
  const caller: Caller = {
    accessKeyId: identity.accessKeyId,
    accountId: identity.accountId,
    principalArn: identity.principalArn,
    region: identity.region,
    identityPolicies: credential?.identityPolicies ?? [],
    sourceIp: origin.sourceIp,
    secureTransport: request.url.startsWith("https:"),
    userAgent: request.headers.get("user-agent") ?? undefined,
    grantTokens: grantTokensOf(parsed.data),
    ...(entry === undefined ? {} : { audit: entry }),
  };
  if (deps.quotas) {
    await chargeQuota(deps.quotas, { kms, caller, operation: name, input: parsed.data });
  }
  const result = await op.handler(kms, caller, parsed.data);
  entry?.succeeded(result);
  return new Response(JSON.stringify(toWire(result)), {
    status: 200,
    headers: { "content-type": AMZ_JSON, "x-amzn-requestid": requestId },
  });
}

/**
 * Before a request refused unauthenticated is answered: holds the answer while its source is over
 * its byte budget (routes/refusal_budget.ts), then lets go of its body unread.
 */
async function holdRefusal(budget: RefusalBudget, request: Request, origin: Origin) {
  if (origin.sourceIp !== undefined) {
    const declared = Number(request.headers.get("content-length"));
    const delayMs = budget.charge(origin.sourceIp, Number.isFinite(declared) ? declared : 0);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
  // A body already being read is left to its reader.
  if (request.body !== null && !request.bodyUsed) await request.body.cancel().catch(() => {});
}

/** Buffers a finished entry not written with a state change. */
function recordAudit(
  deps: AppDeps,
  entry: AuditEntry,
  request: Request,
  origin: Origin,
): void | Promise<void> {
  const failure = entry.errorCode;
  if (entry.principal === null && failure !== null && deps.authFailures !== undefined) {
    const accessKeyId = claimedAccessKeyId(request.headers.get("authorization"));
    if (accessKeyId !== null) entry.setClaimedAccessKeyId(accessKeyId);
    return deps.authFailures.record(entry, {
      sourceIp: origin.sourceIp ?? null,
      accessKeyId: accessKeyId === null ? null : echoed(accessKeyId),
      errorCode: failure,
    });
  }
  return deps.audit?.push(entry.buffered());
}

/** The access key id an Authorization header's `Credential=` names (unverified), or null. */
export function claimedAccessKeyId(authorization: string | null): string | null {
  const match = authorization === null ? null : /Credential=([^/,\s]{1,128})/.exec(authorization);
  return match?.[1] ?? null;
}

function grantTokensOf(input: unknown): readonly string[] {
  const tokens = (input as { GrantTokens?: unknown }).GrantTokens;
  return Array.isArray(tokens) ? tokens as string[] : [];
}

/** Builds the HTTP app. */
export function createApp(appDeps: AppDeps): Hono {
  const deps: AppDeps = {
    ...appDeps,
    servedRegions: appDeps.regions === undefined ? undefined : new Set(appDeps.regions.keys()),
  };
  const refusals = deps.refusals ?? new RefusalBudget();
  const metrics = deps.metrics?.metrics;
  const accessLog = deps.accessLog === undefined ? accessLogTo(deps.log) : deps.accessLog;
  const app = new Hono();
  const logInternal = (requestId: string) => (error: unknown) =>
    deps.log({
      level: "error",
      requestId,
      message: "internal error",
      error: error instanceof Error
        ? `${error.name}: ${error.message}\n${error.stack}`
        : String(error),
    });

  app.post("/", async (c) => {
    const requestId = crypto.randomUUID();
    const origin = originOf(c.env);
    const trace = new RequestTrace({
      requestId,
      target: c.req.header("x-amz-target"),
      sourceIp: origin.sourceIp,
    });
    const entry = deps.audit === undefined ? undefined : new AuditEntry({
      time: Date.now(),
      requestId,
      operation: "",
      principal: null,
      sourceIp: origin.sourceIp ?? null,
      userAgent: c.req.header("user-agent") ?? null,
      region: deps.kms.region,
    });
    let response: Response;
    try {
      response = await handleKmsRequest(deps, c.req.raw, requestId, origin, entry, trace);
    } catch (error) {
      const reply = errorReply(error, logInternal(requestId));
      entry?.failed(reply.name, reply.message);
      trace.exception = reply.name;
      response = withRetryAfter(error, errorResponse(reply, requestId));
    }
    // Every request is recorded once: with its state change, or here through the buffer
    // (unauthenticated ones in aggregate).
    if (entry !== undefined && !entry.written) {
      try {
        // A batched push answers nothing: no await (and no microtask turn) for it.
        const recorded = recordAudit(deps, entry, c.req.raw, origin);
        if (recorded !== undefined) await recorded;
      } catch (error) {
        if (response.ok) {
          // Fails closed: a result the audit log cannot take or commit is not handed out.
          const reply = errorReply(error, logInternal(requestId));
          trace.exception = reply.name;
          response = errorResponse(reply, requestId);
        } else {
          // The call failed and changed nothing: its own error is the truer answer.
          deps.log({
            level: "error",
            requestId,
            message: "audit record of a failed request refused",
            exception: trace.exception,
          });
        }
      }
    }
    if (metrics !== undefined) finishRequest(trace, metrics);
    if (accessLog !== null) accessLog(trace, response.status);
    if (trace.exception !== undefined && trace.principalArn === undefined) {
      await holdRefusal(refusals, c.req.raw, origin);
    }
    return response;
  });

  if (deps.metrics !== undefined) mountMetrics(app, deps.metrics);

  app.get("/health", (c) => {
    c.header("x-amzn-requestid", crypto.randomUUID());
    return c.json({ status: "ok" });
  });
  if (deps.readiness !== undefined) mountReadiness(app, deps.readiness);

  // The browser playground: static assets only; its KMS calls come back signed to POST /.
  app.route("/playground", playgroundApp());
  app.get("/", () => rootToPlayground());

  app.notFound((c) => {
    const requestId = crypto.randomUUID();
    const reply = errorReply(
      new UnknownOperationException(
        `No operation at ${c.req.method} ${new URL(c.req.url).pathname}.`,
      ),
      logInternal(requestId),
    );
    return errorResponse({ ...reply, status: 404 }, requestId);
  });

  app.onError((error) => {
    const requestId = crypto.randomUUID();
    return errorResponse(errorReply(error, logInternal(requestId)), requestId);
  });
  return app;
}
