import assert from "node:assert/strict";
import { escapeLabel, KEY_STATES, LATENCY_BUCKETS, Metrics } from "./metrics.ts";

/** A sample line of the text format: name, optional labels, value. */
const SAMPLE =
  /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (\S+)$/;

Deno.test("Metrics.render writes HELP and TYPE before the samples of each family", () => {
  const metrics = new Metrics();
  metrics.observe({ operation: "Encrypt", exception: undefined, seconds: 0.002 });
  const text = metrics.render(new Map([["Enabled", 3]]));
  assert.ok(text.endsWith("\n"));
  const declared = new Set<string>();
  for (const line of text.trimEnd().split("\n")) {
    const type = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line);
    if (type !== null) declared.add(type[1]!);
    if (line.startsWith("#")) continue;
    const sample = SAMPLE.exec(line);
    assert.ok(sample !== null, `not a sample line: ${line}`);
    const family = sample[1]!.replace(/_(bucket|sum|count)$/, "");
    assert.ok(declared.has(sample[1]!) || declared.has(family), `undeclared: ${line}`);
    assert.ok(Number.isFinite(Number(sample[3])) || sample[3] === "+Inf", line);
  }
});

Deno.test("Metrics counts requests and errors by operation and exception name", () => {
  const metrics = new Metrics();
  for (const exception of [undefined, undefined, "NotFoundException", "NotFoundException"]) {
    metrics.observe({ operation: "DescribeKey", exception, seconds: 0.001 });
  }
  metrics.observe({ operation: "Decrypt", exception: "InvalidCiphertextException", seconds: 0.01 });
  const text = metrics.render(new Map());
  assert.match(text, /^kms_requests_total\{operation="DescribeKey"\} 4$/m);
  assert.match(text, /^kms_requests_total\{operation="Decrypt"\} 1$/m);
  assert.match(
    text,
    /^kms_request_errors_total\{operation="DescribeKey",exception="NotFoundException"\} 2$/m,
  );
  assert.match(
    text,
    /^kms_request_errors_total\{operation="Decrypt",exception="InvalidCiphertextException"\} 1$/m,
  );
  assert.equal(metrics.requests("DescribeKey"), 4);
});

Deno.test("Metrics latency histograms are cumulative with +Inf, sum and count", () => {
  const metrics = new Metrics();
  for (const seconds of [0.0001, 0.003, 0.003, 0.2, 30]) {
    metrics.observe({ operation: "Sign", exception: undefined, seconds });
  }
  const text = metrics.render(new Map());
  const bucket = (le: string) =>
    Number(
      new RegExp(
        `^kms_request_duration_seconds_bucket\\{operation="Sign",le="${
          le.replace("+", "\\+")
        }"\\} (\\d+)$`,
        "m",
      ).exec(text)?.[1],
    );
  assert.equal(bucket("0.0005"), 1);
  assert.equal(bucket("0.0025"), 1);
  assert.equal(bucket("0.005"), 3);
  assert.equal(bucket("0.25"), 4);
  assert.equal(bucket("10"), 4);
  assert.equal(bucket("+Inf"), 5);
  let previous = 0;
  for (const le of LATENCY_BUCKETS) {
    assert.ok(bucket(String(le)) >= previous);
    previous = bucket(String(le));
  }
  assert.match(text, /^kms_request_duration_seconds_count\{operation="Sign"\} 5$/m);
  const sum = Number(
    /^kms_request_duration_seconds_sum\{operation="Sign"\} (\S+)$/m.exec(text)?.[1],
  );
  assert.ok(Math.abs(sum - 30.2061) < 1e-9);
});

Deno.test("Metrics lists every key state, 0 when no key has it", () => {
  const text = new Metrics().render(new Map([["Enabled", 5], ["PendingDeletion", 2]]));
  const states = [...text.matchAll(/^kms_keys\{state="(\w+)"\} (\d+)$/gm)];
  assert.deepEqual(states.map((m) => m[1]), [...KEY_STATES]);
  const value = (state: string) => Number(states.find((m) => m[1] === state)?.[2]);
  assert.equal(value("Enabled"), 5);
  assert.equal(value("PendingDeletion"), 2);
  assert.equal(value("Disabled"), 0);
});

Deno.test("escapeLabel escapes backslash, double quote and line feed", () => {
  assert.equal(escapeLabel('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
});
