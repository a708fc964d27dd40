import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./config.ts";
import {
  AWS_REQUEST_QUOTAS,
  cryptoKeyTypeOf,
  quotaFor,
  type QuotaRequest,
  RequestQuotas,
  Throttled,
  THROTTLING_MESSAGE,
} from "./quotas.ts";

/** A millisecond clock the test moves. */
class ManualMs {
  ms = 0;
  readonly now = () => this.ms;
}

/** Whether one request is let through. */
function allowed(quotas: RequestQuotas, request: QuotaRequest, account = "111122223333"): boolean {
  try {
    quotas.charge(account, request);
    return true;
  } catch (error) {
    if (error instanceof Throttled) return false;
    throw error;
  }
}

/**
 * Offers requests every `stepMs` for `seconds` of manual time and returns the rate let through
 * after the initial burst (the bucket starts full), in requests per second.
 */
function steadyRate(request: QuotaRequest, scale: number, seconds: number, stepMs: number) {
  const clock = new ManualMs();
  const quotas = new RequestQuotas({ scale, now: clock.now });
  let burst = 0;
  while (allowed(quotas, request)) burst++;
  let passed = 0;
  for (let t = stepMs; t <= seconds * 1000; t += stepMs) {
    clock.ms = t;
    if (allowed(quotas, request)) passed++;
  }
  return { burst, perSecond: passed / seconds };
}

function assertWithin10Percent(actual: number, expected: number, what: string) {
  assert.ok(
    Math.abs(actual - expected) <= expected * 0.1,
    `${what}: ${actual}/s is not within 10% of ${expected}/s`,
  );
}

Deno.test("a steady CreateKey caller is let through at AWS's 5/s times the scale", () => {
  const { burst, perSecond } = steadyRate(
    { operation: "CreateKey", region: "us-east-1" },
    0.01,
    2000,
    100,
  );
  assert.equal(AWS_REQUEST_QUOTAS.operations.CreateKey, 5);
  assert.equal(burst, 1);
  assertWithin10Percent(perSecond, 5 * 0.01, "CreateKey");
});

Deno.test("a steady Encrypt caller is let through at the Region's symmetric quota times the scale", () => {
  const euWest3 = steadyRate({ operation: "Encrypt", region: "eu-west-3" }, 0.01, 10, 1);
  assert.equal(euWest3.burst, 55);
  assertWithin10Percent(euWest3.perSecond, 5_500 * 0.01, "Encrypt eu-west-3");
  const usEast2 = steadyRate({ operation: "Encrypt", region: "us-east-2" }, 0.01, 10, 1);
  assertWithin10Percent(usEast2.perSecond, 10_000 * 0.01, "Encrypt us-east-2");
});

Deno.test("GenerateDataKeyPair RSA_4096 is let through once in each 10 s at scale 1", () => {
  const { burst, perSecond } = steadyRate(
    { operation: "GenerateDataKeyPair", region: "us-east-1", keyPairSpec: "RSA_4096" },
    1,
    1000,
    50,
  );
  assert.equal(burst, 1);
  assertWithin10Percent(perSecond, 0.1, "GenerateDataKeyPair RSA_4096");
});

Deno.test("cryptographic operations on keys of one type share one quota", () => {
  const clock = new ManualMs();
  const quotas = new RequestQuotas({ scale: 0.001, now: clock.now }); // RSA: 1/s, burst 1
  assert.ok(allowed(quotas, { operation: "Sign", region: "us-east-1", keyType: "rsa" }));
  assert.ok(!allowed(quotas, { operation: "Decrypt", region: "us-east-1", keyType: "rsa" }));
  // Other key types have their own quota.
  assert.ok(allowed(quotas, { operation: "Sign", region: "us-east-1", keyType: "ecc" }));
  assert.ok(allowed(quotas, { operation: "Decrypt", region: "us-east-1", keyType: "symmetric" }));
  clock.ms = 1000;
  assert.ok(allowed(quotas, { operation: "Decrypt", region: "us-east-1", keyType: "rsa" }));
});

Deno.test("HMAC keys and GenerateRandom count against the symmetric quota", () => {
  assert.equal(cryptoKeyTypeOf("HMAC_256"), "symmetric");
  assert.equal(cryptoKeyTypeOf("SM2"), "ecc");
  assert.equal(cryptoKeyTypeOf("RSA_3072"), "rsa");
  const random = quotaFor({ operation: "GenerateRandom", region: "eu-west-3" });
  const mac = quotaFor({ operation: "GenerateMac", region: "eu-west-3", keyType: "symmetric" });
  assert.deepEqual(random, mac);
  assert.deepEqual(random, { name: "Cryptographic operations (symmetric)", perSecond: 5_500 });
});

Deno.test("each management operation has its own quota, per account and Region", () => {
  const clock = new ManualMs();
  const quotas = new RequestQuotas({ scale: 0.01, now: clock.now }); // 0.05/s, burst 1
  assert.ok(allowed(quotas, { operation: "CreateKey", region: "us-east-1" }));
  assert.ok(!allowed(quotas, { operation: "CreateKey", region: "us-east-1" }));
  assert.ok(allowed(quotas, { operation: "CreateAlias", region: "us-east-1" }));
  assert.ok(allowed(quotas, { operation: "CreateKey", region: "eu-west-1" }));
  assert.ok(allowed(quotas, { operation: "CreateKey", region: "us-east-1" }, "444455556666"));
});

Deno.test("both GenerateDataKeyPair operations share the quota of their key pair spec", () => {
  const clock = new ManualMs();
  const quotas = new RequestQuotas({ scale: 1, now: clock.now });
  const rsa = { region: "us-east-1", keyPairSpec: "RSA_2048" };
  assert.ok(allowed(quotas, { operation: "GenerateDataKeyPair", ...rsa }));
  assert.ok(!allowed(quotas, { operation: "GenerateDataKeyPairWithoutPlaintext", ...rsa }));
  const ecc = { region: "us-east-1", keyPairSpec: "ECC_NIST_P256" };
  assert.ok(allowed(quotas, { operation: "GenerateDataKeyPairWithoutPlaintext", ...ecc }));
});

Deno.test("a throttled request gets AWS's ThrottlingException and when the quota has room", () => {
  const clock = new ManualMs();
  const quotas = new RequestQuotas({ scale: 0.01, now: clock.now }); // TagResource: 0.1/s
  quotas.charge("111122223333", { operation: "TagResource", region: "us-east-1" });
  clock.ms = 4000;
  let thrown: unknown;
  try {
    quotas.charge("111122223333", { operation: "TagResource", region: "us-east-1" });
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof Throttled);
  assert.equal(thrown.name, "ThrottlingException");
  assert.equal(thrown.message, THROTTLING_MESSAGE);
  assert.equal(thrown.retryAfterMs, 6000);
  clock.ms = 4000 + 5999;
  assert.ok(!allowed(quotas, { operation: "TagResource", region: "us-east-1" }));
  clock.ms = 4000 + 6000;
  assert.ok(allowed(quotas, { operation: "TagResource", region: "us-east-1" }));
});

Deno.test("operations and key specs without a documented quota are never throttled", () => {
  const quotas = new RequestQuotas({ scale: 0.000001, now: () => 0 });
  for (let i = 0; i < 100; i++) {
    assert.ok(allowed(quotas, { operation: "ListKeyRotations", region: "us-east-1" }));
    assert.ok(allowed(quotas, { operation: "Sign", region: "us-east-1", keyType: "unlisted" }));
    assert.ok(
      allowed(quotas, {
        operation: "GenerateDataKeyPair",
        region: "us-east-1",
        keyPairSpec: "ECC_NIST_EDWARDS25519",
      }),
    );
  }
});

Deno.test("quotas are off unless KMS_QUOTAS=aws; KMS_QUOTA_SCALE scales them", () => {
  assert.equal(parseConfig({}).quotas, undefined);
  assert.equal(parseConfig({ KMS_QUOTAS: "off" }).quotas, undefined);
  assert.deepEqual(parseConfig({ KMS_QUOTAS: "aws" }).quotas, { scale: 1 });
  assert.deepEqual(parseConfig({ KMS_QUOTAS: "aws", KMS_QUOTA_SCALE: "0.01" }).quotas, {
    scale: 0.01,
  });
  for (
    const env of [{ KMS_QUOTAS: "on" }, { KMS_QUOTAS: "aws", KMS_QUOTA_SCALE: "0" }, {
      KMS_QUOTAS: "aws",
      KMS_QUOTA_SCALE: "fast",
    }]
  ) {
    assert.throws(() => parseConfig(env), ConfigError);
  }
});
