import assert from "node:assert/strict";
import { parseConfig } from "../core/config.ts";
import { openService, type Service } from "../main.ts";
import { signedFetch, signRequest } from "./helpers/signed_fetch.ts";
import { withServer } from "./helpers/server.ts";

async function withApp(fn: (service: Service) => Promise<void>): Promise<void> {
  const service = await openService(
    parseConfig({
      KMS_DB_URL: ":memory:",
      KMS_ROOT_KEY: new Uint8Array(32).fill(1).toBase64(),
      KMS_ADMIN_ACCESS_KEY_ID: "AKIAPROTOCOLTEST0001",
      KMS_ADMIN_SECRET_ACCESS_KEY: "secret",
      KMS_RSA_POOL_2048: "0",
      KMS_RSA_POOL_3072: "0",
      KMS_RSA_POOL_4096: "0",
    }),
    { log: () => {} },
  );
  try {
    await fn(service);
  } finally {
    await service.close();
  }
}

function post(
  service: Service,
  body: BodyInit,
  headers: Record<string, string>,
): Promise<Response> {
  return Promise.resolve(
    service.app.request("http://127.0.0.1:8080/", { method: "POST", body, headers }),
  );
}

const AMZ = {
  "content-type": "application/x-amz-json-1.1",
  "x-amz-target": "TrentService.ListKeys",
};

async function assertAwsError(response: Response, status: number, type: string): Promise<void> {
  assert.equal(response.status, status);
  assert.equal(response.headers.get("content-type"), "application/x-amz-json-1.1");
  assert.match(response.headers.get("x-amzn-requestid") ?? "", /^[0-9a-f-]{36}$/);
  assert.equal(response.headers.get("x-amzn-errortype"), type);
  const body = await response.json();
  assert.equal(body.__type, type);
  assert.equal(typeof body.message, "string");
}

Deno.test("Signed malformed JSON gets SerializationException 400, never an empty request", () =>
  withServer(async (server) => {
    for (const body of ["{", "not json", "[]", "null", "42", "", '"x"']) {
      const reply = await signedFetch(server.url, "ListKeys", body);
      assert.equal(reply.status, 400, body);
      assert.equal(reply.type, "SerializationException", body);
      assert.equal(typeof reply.message, "string");
    }
  }));

Deno.test("A wrong content type gets a 400 AWS error", () =>
  withApp(async (s) => {
    await assertAwsError(
      await post(s, "{}", { ...AMZ, "content-type": "text/plain" }),
      400,
      "SerializationException",
    );
    await assertAwsError(
      await post(s, "{}", { "x-amz-target": "TrentService.ListKeys" }),
      400,
      "SerializationException",
    );
  }));

Deno.test("An unknown or missing X-Amz-Target gets UnknownOperationException", () =>
  withApp(async (s) => {
    await assertAwsError(
      await post(s, "{}", { ...AMZ, "x-amz-target": "TrentService.Nope" }),
      400,
      "UnknownOperationException",
    );
    await assertAwsError(
      await post(s, "{}", { ...AMZ, "x-amz-target": "Other.ListKeys" }),
      400,
      "UnknownOperationException",
    );
    await assertAwsError(
      await post(s, "{}", { "content-type": AMZ["content-type"] }),
      400,
      "UnknownOperationException",
    );
  }));

Deno.test("A body over 1 MiB gets 413 without being read whole", () =>
  withApp(async (s) => {
    const big = "{" + " ".repeat(1024 * 1024) + "}";
    // A declared length over the limit is refused before anything else, signed or not.
    await assertAwsError(
      await post(s, big, { ...AMZ, "content-length": String(big.length) }),
      413,
      "RequestEntityTooLargeException",
    );
    const stream = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 20; i++) controller.enqueue(new Uint8Array(100_000).fill(32));
          controller.close();
        },
      });
    // A streamed body is read only once the headers authenticate (here: a known access key).
    const signed = await signRequest("http://127.0.0.1:8080", "{}", {
      accessKeyId: "AKIAPROTOCOLTEST0001",
      secret: "secret",
    });
    await assertAwsError(
      await post(s, stream(), signed.headers),
      413,
      "RequestEntityTooLargeException",
    );
    await assertAwsError(await post(s, stream(), AMZ), 403, "MissingAuthenticationTokenException");
  }));

Deno.test("An unsigned request gets MissingAuthenticationTokenException", () =>
  withApp(async (s) => {
    await assertAwsError(await post(s, "{}", AMZ), 403, "MissingAuthenticationTokenException");
  }));

Deno.test("Other paths and methods get a 404 AWS error with a request id", () =>
  withApp(async (s) => {
    await assertAwsError(
      await s.app.request("http://127.0.0.1/nope"),
      404,
      "UnknownOperationException",
    );
    await assertAwsError(
      await s.app.request("http://127.0.0.1/", { method: "PUT", body: "{}" }),
      404,
      "UnknownOperationException",
    );
  }));

Deno.test("GET /health answers ok with a request id", () =>
  withApp(async (s) => {
    const r = await s.app.request("http://127.0.0.1/health");
    assert.equal(r.status, 200);
    assert.ok(r.headers.get("x-amzn-requestid"));
    assert.deepEqual(await r.json(), { status: "ok" });
  }));
