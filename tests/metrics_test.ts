import assert from "node:assert/strict";
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
} from "@aws-sdk/client-kms";
import { ConfigError, parseConfig } from "../core/config.ts";
import { errorName, withServer } from "./helpers/server.ts";
import { signedFetch } from "./helpers/signed_fetch.ts";

/** The samples of a scrape, keyed `name{label="value",...}` exactly as written. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return await fetch(new URL("/metrics", url), { headers });
}

Deno.test("GET /metrics counts requests, errors by exception name, latency and keys by state", async () => {
  await withServer(async ({ client, url }) => {
    const keyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await client.send(new CreateKeyCommand({}));
    const blob = (await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array([1, 2, 3]) }),
    )).CiphertextBlob!;
    await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array([4]) }));
    await client.send(new DecryptCommand({ CiphertextBlob: blob }));
    await client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: "AES_256" }));
    const tampered = blob.slice();
    tampered[tampered.length - 1]! ^= 1;
    assert.equal(
      await errorName(client.send(new DecryptCommand({ CiphertextBlob: tampered }))),
      "InvalidCiphertextException",
    );
    const missing = "11111111-2222-3333-4444-555555555555";
    for (let i = 0; i < 2; i++) {
      assert.equal(
        await errorName(client.send(new DescribeKeyCommand({ KeyId: missing }))),
        "NotFoundException",
      );
    }
    await client.send(new DisableKeyCommand({ KeyId: keyId }));

    const response = await scrape(url);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const text = await response.text();
    const s = samples(text);
    assert.equal(s.get('kms_requests_total{operation="CreateKey"}'), 2);
    assert.equal(s.get('kms_requests_total{operation="Encrypt"}'), 2);
    assert.equal(s.get('kms_requests_total{operation="Decrypt"}'), 2);
    assert.equal(s.get('kms_requests_total{operation="GenerateDataKey"}'), 1);
    assert.equal(s.get('kms_requests_total{operation="DescribeKey"}'), 2);
    assert.equal(
      s.get('kms_request_errors_total{operation="Decrypt",exception="InvalidCiphertextException"}'),
      1,
    );
    assert.equal(
      s.get('kms_request_errors_total{operation="DescribeKey",exception="NotFoundException"}'),
      2,
    );
    assert.ok(
      ![...s.keys()].some((k) => k.startsWith('kms_request_errors_total{operation="Encrypt"')),
    );
    assert.equal(s.get('kms_request_duration_seconds_count{operation="Encrypt"}'), 2);
    assert.equal(s.get('kms_request_duration_seconds_bucket{operation="Encrypt",le="+Inf"}'), 2);
    assert.ok(s.get('kms_request_duration_seconds_sum{operation="Encrypt"}')! > 0);
    assert.equal(s.get('kms_keys{state="Enabled"}'), 1);
    assert.equal(s.get('kms_keys{state="Disabled"}'), 1);
    assert.equal(s.get('kms_keys{state="PendingDeletion"}'), 0);
    // The scrape itself is not a KMS request, and no label carries a key id.
    assert.ok(!text.includes(keyId));
    const again = samples(await (await scrape(url)).text());
    assert.equal(again.get('kms_requests_total{operation="CreateKey"}'), 2);
  });
});

Deno.test("GET /metrics labels unknown operations Unknown instead of adding series", async () => {
  await withServer(async ({ url }) => {
    for (let i = 0; i < 3; i++) {
      const reply = await signedFetch(url, `Invented${i}`, "{}");
      assert.equal(reply.type, "UnknownOperationException");
    }
    const text = await (await scrape(url)).text();
    assert.ok(!text.includes("Invented"));
    const s = samples(text);
    assert.equal(s.get('kms_requests_total{operation="Unknown"}'), 3);
    assert.equal(
      s.get('kms_request_errors_total{operation="Unknown",exception="UnknownOperationException"}'),
      3,
    );
  });
});

Deno.test("GET /metrics requires the bearer token when KMS_METRICS_TOKEN is set", async () => {
  const token = "metrics-token-0123456789";
  await withServer(async ({ url }) => {
    const none = await scrape(url);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), 'Bearer realm="metrics"');
    await none.body?.cancel();
    const wrong = await scrape(url, { authorization: "Bearer metrics-token-0123456780" });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const right = await scrape(url, { authorization: `Bearer ${token}` });
    assert.equal(right.status, 200);
    assert.match(await right.text(), /^# TYPE kms_requests_total counter$/m);
  }, { env: { KMS_METRICS_TOKEN: token } });
});

Deno.test("KMS_METRICS=off answers GET /metrics with 404", async () => {
  await withServer(async ({ url }) => {
    const response = await scrape(url);
    assert.equal(response.status, 404);
    await response.body?.cancel();
  }, { env: { KMS_METRICS: "off" } });
});

Deno.test("parseConfig reads KMS_METRICS and KMS_METRICS_TOKEN", () => {
  assert.equal(parseConfig({}).metrics, true);
  assert.equal(parseConfig({}).metricsToken, undefined);
  assert.equal(parseConfig({ KMS_METRICS: "on" }).metrics, true);
  assert.equal(parseConfig({ KMS_METRICS: "off" }).metrics, false);
  assert.equal(parseConfig({ KMS_METRICS_TOKEN: "" }).metricsToken, undefined);
  assert.equal(parseConfig({ KMS_METRICS_TOKEN: "t" }).metricsToken, "t");
  assert.throws(() => parseConfig({ KMS_METRICS: "yes" }), ConfigError);
});
