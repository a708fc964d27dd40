/**
 * SigV4 over real HTTP: requests signed by an independent signer (smithy with
 * the pure-JS @aws-crypto/sha256-js, as an SDK signs), then tampered with, and
 * sent to a running server. Every rejection must be an AWS-named 4xx.
 */
import assert from "node:assert/strict";
import { ListKeysCommand } from "@aws-sdk/client-kms";
import { sendSigned, type SignOptions, signRequest } from "./helpers/signed_fetch.ts";
import { ADMIN, REGION, type TestServer, withServer } from "./helpers/server.ts";
import { waitFor } from "./helpers/wait.ts";

function signedRequest(server: TestServer, options: SignOptions & { body?: string } = {}) {
  return signRequest(server.url, options.body ?? '{"Limit":10}', options);
}

function send(server: TestServer, request: { headers: Record<string, string>; body: string }) {
  return sendSigned(server.url, request);
}

Deno.test("SigV4 accepts a validly signed request over HTTP", () =>
  withServer(async (server) => {
    const r = await send(server, await signedRequest(server));
    assert.equal(r.type, undefined);
    assert.equal(r.status, 200);
  }));

Deno.test("SigV4 rejects a request signed with the wrong secret", () =>
  withServer(async (server) => {
    const r = await send(server, await signedRequest(server, { secret: "not-the-secret" }));
    assert.deepEqual([r.status, r.type], [400, "InvalidSignatureException"]);
    assert.doesNotMatch(r.message ?? "", new RegExp(ADMIN.secretAccessKey));
  }));

Deno.test("SigV4 rejects an unknown access key with UnrecognizedClientException", () =>
  withServer(async (server) => {
    const r = await send(
      server,
      await signedRequest(server, { accessKeyId: "AKIAUNKNOWN000000000" }),
    );
    assert.deepEqual([r.status, r.type], [400, "UnrecognizedClientException"]);
  }));

Deno.test("SigV4 rejects a request dated 5 min 1 s in the past or future and accepts 4 min 59 s", () =>
  withServer(async (server) => {
    const at = (offsetMs: number) => new Date(Date.now() + offsetMs);
    const late = await send(
      server,
      await signedRequest(server, { date: at(-(5 * 60 + 1) * 1000) }),
    );
    assert.equal(late.type, "InvalidSignatureException");
    assert.match(late.message ?? "", /^Signature expired/);
    const early = await send(
      server,
      await signedRequest(server, { date: at((5 * 60 + 1) * 1000) }),
    );
    assert.equal(early.type, "InvalidSignatureException");
    assert.match(early.message ?? "", /^Signature not yet current/);
    for (const offset of [-(4 * 60 + 59) * 1000, (4 * 60 + 59) * 1000]) {
      const ok = await send(server, await signedRequest(server, { date: at(offset) }));
      assert.equal(ok.status, 200, `offset ${offset}`);
    }
  }));

Deno.test("SigV4 rejects a request without Authorization with MissingAuthenticationTokenException", () =>
  withServer(async (server) => {
    const request = await signedRequest(server);
    delete request.headers.authorization;
    const r = await send(server, request);
    assert.deepEqual([r.status, r.type], [403, "MissingAuthenticationTokenException"]);
  }));

Deno.test("SigV4 rejects a body changed after signing: one byte, whitespace, reordered or duplicated keys", () =>
  withServer(async (server) => {
    const body = '{"Limit":10,"Marker":"a2V5OjA="}';
    for (
      const tampered of [
        '{"Limit":11,"Marker":"a2V5OjA="}',
        '{"Limit":10, "Marker":"a2V5OjA="}',
        '{"Marker":"a2V5OjA=","Limit":10}',
        '{"Limit":10,"Limit":10,"Marker":"a2V5OjA="}',
      ]
    ) {
      const request = await signedRequest(server, { body });
      const r = await send(server, { ...request, body: tampered });
      assert.deepEqual([r.status, r.type], [400, "InvalidSignatureException"], tampered);
    }
  }));

Deno.test("SigV4 rejects a signed header changed after signing", () =>
  withServer(async (server) => {
    const request = await signedRequest(server);
    request.headers["x-amz-target"] = "TrentService.ListAliases";
    const r = await send(server, request);
    assert.deepEqual([r.status, r.type], [400, "InvalidSignatureException"]);
  }));

Deno.test("SigV4 rejects a lying x-amz-content-sha256", () =>
  withServer(async (server) => {
    const request = await signedRequest(server);
    request.headers["x-amz-content-sha256"] = "0".repeat(64);
    const r = await send(server, request);
    assert.deepEqual([r.status, r.type], [400, "InvalidSignatureException"]);
  }));

Deno.test("SigV4 rejects a malformed signature and a scope for another region or service", () =>
  withServer(async (server) => {
    const request = await signedRequest(server);
    const auth = request.headers.authorization!;
    const cases: [string, string][] = [
      [auth.replace(/Signature=[0-9a-f]+/, "Signature=xyz"), "InvalidSignatureException"],
      [auth.replace(`/${REGION}/`, "/eu-west-1/"), "InvalidSignatureException"],
      [auth.replace("/kms/", "/s3/"), "InvalidSignatureException"],
      [auth.replace("aws4_request", "aws5_request"), "InvalidSignatureException"],
      [auth.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"), "IncompleteSignatureException"],
      [auth.replace(/, Signature=[0-9a-f]+/, ""), "IncompleteSignatureException"],
    ];
    for (const [authorization, type] of cases) {
      const r = await send(server, { ...request, headers: { ...request.headers, authorization } });
      assert.equal(r.type, type, authorization);
      assert.ok(r.status >= 400 && r.status < 500);
    }
  }));

Deno.test("SigV4 rejects a disabled access key", () =>
  withServer(async (server) => {
    const { client } = server;
    await client.send(new ListKeysCommand({}));
    await server.service.store.setCredentialEnabled(ADMIN.accessKeyId, false);
    // The credential cache trusts what it read for at most 1 s.
    await waitFor(
      async () => (await send(server, await signedRequest(server))).status === 400,
      "the disabled key to be refused",
    );
    const r = await send(server, await signedRequest(server));
    assert.deepEqual([r.status, r.type], [400, "UnrecognizedClientException"]);
  }));
