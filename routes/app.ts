/**
 * createApp(deps): the Hono app. `POST /` speaks AWS JSON 1.1:
 * framing (body limit, content type, target, JSON) -> SigV4 -> schema ->
 * core operation -> reply. `GET /health` answers without authentication.
 *
 * @module
 */
import { Hono } from "hono";
import type { CredentialCache } from "../core/credentials.ts";
import { UnknownOperationException } from "../core/errors.ts";
import type { Kms } from "../core/kms.ts";
import { errorReply, errorResponse } from "./errors.ts";
import { OPERATIONS } from "./operations.ts";
import {
  AMZ_JSON,
  assertAmzJson,
  operationName,
  parseJsonObject,
  readBody,
  toWire,
} from "./protocol.ts";
import { verifySigV4 } from "./sigv4.ts";
import { validationError } from "./validation_message.ts";

/** Where the app logs: one JSON object per line, never a secret. */
export type LogSink = (record: Record<string, unknown>) => void;

/** What the app needs. */
export interface AppDeps {
  kms: Kms;
  credentials: CredentialCache;
  log: LogSink;
}

const REQUIRED_SIGNED_HEADERS = ["host", "x-amz-target", "content-type"] as const;

/** Answers one AWS JSON 1.1 request. */
async function handleKmsRequest(
  deps: AppDeps,
  request: Request,
  requestId: string,
): Promise<Response> {
  const body = await readBody(request);
  assertAmzJson(request.headers.get("content-type"));
  const name = operationName(request.headers.get("x-amz-target"));
  const op = OPERATIONS.get(name);
  if (op === undefined) throw new UnknownOperationException(`Unknown operation ${name}.`);
  const json = parseJsonObject(body);
  const caller = await verifySigV4(
    { method: request.method, url: request.url, headers: request.headers, body },
    {
      region: deps.kms.region,
      service: "kms",
      now: Date.now(),
      requiredSignedHeaders: REQUIRED_SIGNED_HEADERS,
      lookupCredential: (id) => deps.credentials.get(id),
    },
  );
  const parsed = op.schema.safeParse(json);
  if (!parsed.success) throw validationError(parsed.error, json);
  const result = await op.handler(deps.kms, caller, parsed.data);
  return new Response(JSON.stringify(toWire(result)), {
    status: 200,
    headers: { "content-type": AMZ_JSON, "x-amzn-requestid": requestId },
  });
}

/** Builds the HTTP app. */
export function createApp(deps: AppDeps): Hono {
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
    try {
      return await handleKmsRequest(deps, c.req.raw, requestId);
    } catch (error) {
      return errorResponse(errorReply(error, logInternal(requestId)), requestId);
    }
  });

  app.get("/health", (c) => {
    c.header("x-amzn-requestid", crypto.randomUUID());
    return c.json({ status: "ok" });
  });

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
