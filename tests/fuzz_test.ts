/**
 * The model-driven fuzzer (tests/fuzz/): signed requests generated from AWS's
 * model for every operation, valid and mutated, against a real in-process
 * KMS with keys of every kind. CI runs `FUZZ_RUNS` cases (default 10,000);
 * `deno task fuzz` runs 100,000. A failure prints fast-check's seed and path:
 * `FUZZ_SEED=<seed> FUZZ_RUNS=<runs> deno task fuzz` replays the run, and
 * `FUZZ_PATH=<path>` added replays the failing case alone (README, "Fuzzing").
 *
 * @module
 */
import assert from "node:assert/strict";
import { withServer } from "./helpers/server.ts";
import { createFixtures } from "./fuzz/fixtures.ts";
import { loadModel } from "./fuzz/model.ts";
import { fuzz, optionsFromEnv, summary } from "./fuzz/run.ts";
import { call } from "./fuzz/send.ts";

const DEFAULT_RUNS = 10_000;

Deno.test("Generated requests for every operation of AWS's model never get a 5xx or a non-AWS reply, and the KMS stays healthy", () =>
  withServer(async (server) => {
    const model = await loadModel();
    const operations = Object.keys(model.operations).sort();
    assert.equal(operations.length, 54, "the model extract lists AWS's 54 KMS operations");
    const fixtures = await createFixtures(server.url);
    const options = optionsFromEnv(DEFAULT_RUNS);
    const started = performance.now();
    const stats = await fuzz(server.url, model, fixtures, operations, options);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`fuzz: ${seconds} s\n${summary(stats)}`);

    if (options.path === undefined) {
      assert.equal(stats.cases, options.runs);
      for (const operation of operations) {
        assert.ok(stats.byOperation.has(operation), `no case reached ${operation}`);
      }
    }
    const health = await fetch(new URL("/health", server.url));
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const key = await call(server.url, "CreateKey", {});
    const keyId = (key.KeyMetadata as { KeyId: string }).KeyId;
    const sealed = await call(server.url, "Encrypt", { KeyId: keyId, Plaintext: "aGVsbG8=" });
    const opened = await call(server.url, "Decrypt", { CiphertextBlob: sealed.CiphertextBlob });
    assert.equal(opened.Plaintext, "aGVsbG8=");
  }, { env: { KMS_REGIONS: "us-east-1,eu-west-1", KMS_SM2_ALL_REGIONS: "true" } }));
