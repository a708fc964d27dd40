/**
 * AWS's request quotas over HTTP (`KMS_QUOTAS=aws`, `KMS_QUOTA_SCALE=0.01`): the SDK without
 * retries sees ThrottlingException past a quota, the SDK's standard retry mode gets through,
 * a throttled request changes nothing, and throttles are counted in `/metrics`.
 *
 * TagResource is the operation driven past its quota: AWS's 10/s × 0.01 is one request in each
 * 10 s, long beside any request's latency on a busy machine, so the second of two back-to-back
 * calls is throttled whatever the machine's speed.
 */
import assert from "node:assert/strict";
import {
  CreateKeyCommand,
  KMSClient,
  ListResourceTagsCommand,
  TagResourceCommand,
} from "@aws-sdk/client-kms";
import { ADMIN, REGION, withServer } from "./helpers/server.ts";
import { signRequest } from "./helpers/signed_fetch.ts";

const QUOTA_ENV = { KMS_QUOTAS: "aws", KMS_QUOTA_SCALE: "0.01" };

Deno.test("past TagResource's quota the SDK sees ThrottlingException without retries and gets through with standard retries", async () => {
  await withServer(async (server) => {
    const created = await server.client.send(new CreateKeyCommand({}));
    const keyId = created.KeyMetadata!.KeyId!;
    const tag = (key: string) =>
      new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: key, TagValue: "v" }] });

    await server.client.send(tag("first"));
    const throttled = await server.client.send(tag("refused")).then(
      () => assert.fail("the second TagResource within 10 s was not throttled"),
      (error: { name: string; message: string; $metadata: { httpStatusCode?: number } }) => error,
    );
    assert.equal(throttled.name, "ThrottlingException");
    assert.equal(
      throttled.message,
      "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.",
    );
    assert.equal(throttled.$metadata.httpStatusCode, 400);

    const retrying = new KMSClient({
      endpoint: server.url,
      region: REGION,
      credentials: ADMIN,
      retryMode: "standard",
    });
    try {
      const accepted = await retrying.send(tag("retried"));
      assert.ok(
        (accepted.$metadata.attempts ?? 1) >= 2,
        "the call got through without being throttled first",
      );
    } finally {
      retrying.destroy();
    }

    const tags = await server.client.send(new ListResourceTagsCommand({ KeyId: keyId }));
    assert.deepEqual(tags.Tags?.map((t) => t.TagKey).sort(), ["first", "retried"]);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const counted = /^kms_throttled_requests_total\{operation="TagResource"\} (\d+)$/m.exec(
      metrics,
    );
    assert.ok(counted !== null, "no kms_throttled_requests_total for TagResource");
    assert.ok(Number(counted[1]) >= 2, `only ${counted[1]} throttles counted`);
  }, { env: QUOTA_ENV });
});

Deno.test("a throttled reply says in x-amz-retry-after when the quota has room again", async () => {
  await withServer(async (server) => {
    const created = await server.client.send(new CreateKeyCommand({}));
    const body = JSON.stringify({
      KeyId: created.KeyMetadata!.KeyId!,
      Tags: [{ TagKey: "k", TagValue: "v" }],
    });
    const send = async () => {
      const parts = await signRequest(server.url, body, { target: "TrentService.TagResource" });
      return await fetch(new URL("/", server.url), {
        method: "POST",
        headers: parts.headers,
        body: parts.body,
      });
    };
    const first = await send();
    assert.equal(first.status, 200);
    await first.body?.cancel();
    const second = await send();
    assert.equal(second.status, 400);
    assert.equal((await second.json()).__type, "ThrottlingException");
    const ms = Number(second.headers.get("x-amz-retry-after"));
    assert.ok(ms > 0 && ms <= 10_000, `x-amz-retry-after ${ms} is not within 0..10000 ms`);
  }, { env: QUOTA_ENV });
});
