import assert from "node:assert/strict";
import fc from "fast-check";
import { SecretBytes } from "../secret.ts";
import { CryptoWorkerPool } from "./crypto_workers.ts";
import {
  ECC_SPECS,
  eccKeyPairPool,
  type EccSpec,
  KeyPairPool,
  KeyPairPools,
} from "./key_pair_pool.ts";
import { type GeneratedKeyPair, generateKeyPair } from "./key_pairs.ts";
import { RsaKeyPairPool } from "./rsa_pool.ts";
import {
  opensslCheckMany,
  opensslPublicFromPrivate,
  opensslSignAndVerify,
} from "../../tests/helpers/openssl.ts";
import { nextTurn, waitFor } from "../../tests/helpers/wait.ts";
import { ConfigError, parseConfig } from "../config.ts";

/** A counting generator: pair #i has public key [i >> 8, i & 255] and private key [i, i, i, i]. */
function countingGenerator() {
  let made = 0;
  const pair = (): GeneratedKeyPair => {
    const i = ++made;
    return {
      publicKey: Uint8Array.of(i >> 8, i & 255),
      privateKey: new SecretBytes(new Uint8Array(4).fill(i & 255)),
    };
  };
  return {
    made: () => made,
    batch: (_spec: EccSpec, count: number) => Promise.resolve(Array.from({ length: count }, pair)),
    single: (_spec: EccSpec) => Promise.resolve(pair()),
  };
}

const sizesOf = (size: number) =>
  Object.fromEntries(ECC_SPECS.map((spec) => [spec, size])) as Record<EccSpec, number>;

/** Runs `fn` with a real crypto worker pool of one worker, closed afterwards. */
async function withWorkers(
  fn: (workers: CryptoWorkerPool) => Promise<void>,
  options: { workerUrl?: string; onError?: (error: Error) => void } = {},
): Promise<void> {
  const workers = new CryptoWorkerPool({ size: 1, ...options });
  try {
    await fn(workers);
  } finally {
    await workers.close();
  }
}

Deno.test("KeyPairPool fills every spec in batches up to its size and refills after takes", async () => {
  const gen = countingGenerator();
  const pool = new KeyPairPool({
    specs: ECC_SPECS,
    sizes: sizesOf(10),
    generate: gen.batch,
    batch: 4,
  });
  pool.start();
  await waitFor(() => ECC_SPECS.every((s) => pool.stats()[s].ready === 10), "the pools are full");
  assert.equal(gen.made(), 30, "10 per spec, no more");
  for (let i = 0; i < 7; i++) await pool.take("SM2");
  await waitFor(() => pool.stats().SM2.ready === 10, "SM2's pool is full again");
  assert.equal(gen.made(), 37);
  assert.deepEqual(pool.stats().SM2, {
    ready: 10,
    capacity: 10,
    generating: 0,
    pooledTakes: 7,
    onDemandTakes: 0,
  });
  await pool.close();
});

Deno.test("KeyPairPool refills a spec only once it lacks a whole batch, then up to full", async () => {
  const gen = countingGenerator();
  const counts: number[] = [];
  const pool = new KeyPairPool({
    specs: ["SM2"] as const,
    sizes: { SM2: 10 },
    generate: (spec, count) => (counts.push(count), gen.batch(spec, count)),
    batch: 4,
  });
  pool.start();
  await waitFor(() => pool.stats().SM2.ready === 10, "the pool is full");
  counts.length = 0;
  for (let i = 0; i < 3; i++) await pool.take("SM2");
  await nextTurn();
  assert.deepEqual(counts, [], "three of a batch of four missing: no generation yet");
  assert.equal(pool.stats().SM2.ready, 7);
  for (let i = 0; i < 3; i++) await pool.take("SM2");
  await waitFor(() => pool.stats().SM2.ready === 10, "the pool is full again");
  assert.equal(counts.reduce((sum, n) => sum + n, 0), 6, "exactly the six taken were made");
  assert.ok(counts[0] === 4, `the refill starts with a whole batch (counts ${counts})`);
  await pool.close();
});

Deno.test("KeyPairPool answers from an emptied pool by generating on demand", async () => {
  const gen = countingGenerator();
  let onDemand = 0;
  const pool = new KeyPairPool({
    specs: ECC_SPECS,
    sizes: sizesOf(2),
    generate: () => new Promise<GeneratedKeyPair[]>(() => {}), // the background never answers
    onDemand: (spec) => (onDemand++, gen.single(spec)),
  });
  pool.start();
  const pairs = await Promise.all(Array.from({ length: 5 }, () => pool.take("ECC_SECG_P256K1")));
  assert.equal(onDemand, 5);
  assert.equal(pool.stats().ECC_SECG_P256K1.onDemandTakes, 5);
  assert.equal(new Set(pairs.map((p) => p.publicKey.toHex())).size, 5);
});

Deno.test("KeyPairPool never hands out a pair twice, over any interleaving of takes and refills", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.constantFrom(...ECC_SPECS), fc.nat(3)), { maxLength: 60 }),
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 5 }),
      async (steps, size, batch) => {
        const gen = countingGenerator();
        const pool = new KeyPairPool({
          specs: ECC_SPECS,
          sizes: sizesOf(size),
          generate: gen.batch,
          onDemand: gen.single,
          batch,
        });
        pool.start();
        const seen = new Set<string>();
        for (const [spec, turns] of steps) {
          const pair = await pool.take(spec);
          const id = pair.publicKey.toHex();
          assert.ok(!seen.has(id), `pair ${id} handed out twice`);
          seen.add(id);
          for (let i = 0; i < turns; i++) await Promise.resolve();
        }
        await pool.close();
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("KeyPairPool pauses a spec whose background generation failed until its next take", async () => {
  const errors: string[] = [];
  let calls = 0;
  const pool = new KeyPairPool({
    specs: ["SM2"] as const,
    sizes: { SM2: 4 },
    generate: () => (calls++, Promise.reject(new Error("generator down"))),
    onDemand: countingGenerator().single,
    onError: (spec, error) => errors.push(`${spec}: ${(error as Error).message}`),
  });
  pool.start();
  await waitFor(() => errors.length === 1, "the failure is reported");
  assert.equal(calls, 1, "a failed spec is not retried in a loop");
  assert.equal((await pool.take("SM2")).publicKey.length, 2);
  await waitFor(() => errors.length === 2, "the take retried the refill once");
  assert.equal(calls, 2);
  await pool.close();
});

Deno.test("KeyPairPool close wipes the pooled private keys and a disabled pool does not refill", async () => {
  const gen = countingGenerator();
  const kept: GeneratedKeyPair[] = [];
  const pool = new KeyPairPool({
    specs: ECC_SPECS,
    sizes: sizesOf(3),
    generate: async (spec, count) => {
      const pairs = await gen.batch(spec, count);
      kept.push(...pairs);
      return pairs;
    },
  });
  pool.start();
  await waitFor(() => kept.length === 9, "the pools are full");
  await pool.close();
  assert.ok(kept.every((pair) => pair.privateKey.expose().every((b) => b === 0)));
  const disabled = new KeyPairPool({
    specs: ECC_SPECS,
    sizes: sizesOf(3),
    generate: gen.batch,
    enabled: () => false,
  });
  disabled.start();
  await disabled.take("SM2");
  assert.equal(disabled.stats().SM2.ready, 0);
  assert.equal(disabled.stats().SM2.generating, 0);
});

Deno.test("a lazy KeyPairPool fills a spec only after its first take", async () => {
  const gen = countingGenerator();
  const pool = new KeyPairPool({
    specs: ECC_SPECS,
    sizes: sizesOf(3),
    generate: gen.batch,
    onDemand: gen.single,
    lazy: true,
  });
  pool.start();
  await nextTurn();
  assert.equal(gen.made(), 0, "nothing generated before a take");
  await pool.take("SM2");
  await waitFor(() => pool.stats().SM2.ready === 3, "SM2's pool is full");
  assert.deepEqual([pool.stats().ECC_SECG_P256K1.ready, pool.stats().ECC_NIST_EDWARDS25519.ready], [
    0,
    0,
  ]);
  assert.equal(gen.made(), 4, "one on demand, three pooled");
  await pool.close();
});

Deno.test("KMS_ECC_POOL: 0..1024 pairs per spec, default 128; anything else is a ConfigError", () => {
  assert.equal(parseConfig({}).eccPoolSize, 128);
  assert.equal(parseConfig({ KMS_ECC_POOL: "" }).eccPoolSize, 128);
  for (const ok of [0, 1, 1024]) {
    assert.equal(parseConfig({ KMS_ECC_POOL: String(ok) }).eccPoolSize, ok);
  }
  for (const bad of ["-1", "1.5", "1025", "many"]) {
    assert.throws(() => parseConfig({ KMS_ECC_POOL: bad }), ConfigError, bad);
  }
});

Deno.test("KeyPairPools takes each spec from the pool that holds it and generates the others", async () => {
  const rsa = new RsaKeyPairPool({
    sizes: { RSA_2048: 0, RSA_3072: 0, RSA_4096: 0 },
    generate: () =>
      Promise.resolve({
        publicKey: Uint8Array.of(7),
        privateKey: new SecretBytes(Uint8Array.of(7)),
      }),
  });
  const ecc = new KeyPairPool({
    specs: ECC_SPECS,
    sizes: sizesOf(0),
    generate: countingGenerator().batch,
    onDemand: countingGenerator().single,
  });
  const pools = new KeyPairPools(rsa, ecc);
  assert.deepEqual((await pools.take("RSA_4096")).publicKey, Uint8Array.of(7));
  assert.deepEqual((await pools.take("ECC_NIST_EDWARDS25519")).publicKey, Uint8Array.of(0, 1));
  const p256 = await pools.take("ECC_NIST_P256");
  assert.equal(p256.publicKey.length, 91, "a real P-256 SPKI, from generateKeyPair");
  assert.deepEqual(
    Object.keys(pools.stats()).sort(),
    [...ECC_SPECS, "RSA_2048", "RSA_3072", "RSA_4096"].sort(),
  );
});

Deno.test("pairs generated by a crypto worker are distinct, OpenSSL-valid, and sign and verify", async () => {
  await withWorkers(async (workers) => {
    for (const spec of ECC_SPECS) {
      const pairs = await workers.generatePairs(spec, 4);
      assert.equal(pairs.length, 4);
      assert.equal(new Set(pairs.map((p) => p.publicKey.toHex())).size, 4);
      const checks = await opensslCheckMany(pairs.map((p) => p.privateKey.expose()));
      checks.forEach((check, i) => {
        assert.ok(check.valid, `${spec} pair ${i} is a valid key`);
        assert.equal(check.derivedPublicKey.toHex(), pairs[i]!.publicKey.toHex());
      });
      const [first] = pairs;
      assert.equal(
        (await opensslPublicFromPrivate(first!.privateKey.expose())).toHex(),
        first!.publicKey.toHex(),
      );
      assert.ok(await opensslSignAndVerify(first!.privateKey.expose(), first!.publicKey, spec));
    }
  });
});

Deno.test("a crypto worker refuses a batch of 0 or more than 256 pairs", async () => {
  await withWorkers(async (workers) => {
    await assert.rejects(workers.generatePairs("SM2", 0), RangeError);
    await assert.rejects(workers.generatePairs("SM2", 257), RangeError);
    assert.equal(workers.stats().started, 0, "no worker was asked");
  });
});

/** The real worker module, except that it dies on every `generate` request. */
function workerDyingOnGenerate(): string {
  const real = new URL("./crypto_worker.ts", import.meta.url).href;
  const source = `import ${JSON.stringify(real)};
const serve = globalThis.onmessage;
globalThis.onmessage = (event) => {
  if (event.data.op === "generate") throw new Error("boom in generate");
  serve(event);
};`;
  return URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
}

Deno.test("a pool whose crypto worker crashes while generating still answers every take", async () => {
  const url = workerDyingOnGenerate();
  const crashes: Error[] = [];
  const refillErrors: string[] = [];
  try {
    await withWorkers(async (workers) => {
      const pool = new KeyPairPool({
        specs: ECC_SPECS,
        sizes: sizesOf(8),
        batch: 4,
        generate: (spec, count) => workers.generatePairs(spec, count),
        enabled: () => workers.available,
        onError: (spec) => refillErrors.push(spec),
      });
      pool.start();
      await waitFor(() => refillErrors.length >= 1, "the failed refill is reported");
      for (const spec of ECC_SPECS) {
        const pair = await pool.take(spec);
        assert.ok(await opensslSignAndVerify(pair.privateKey.expose(), pair.publicKey, spec));
      }
      assert.ok(crashes.length >= 1);
      assert.ok(crashes.every((e) => !/[0-9a-f]{32}/.test(e.message)), "no key bytes in errors");
      await pool.close();
    }, { workerUrl: url, onError: (e) => crashes.push(e) });
  } finally {
    URL.revokeObjectURL(url);
  }
});

Deno.test("a pool fed by a real crypto worker fills up and hands out distinct valid pairs", async () => {
  await withWorkers(async (workers) => {
    const pool = new KeyPairPool({
      specs: ECC_SPECS,
      sizes: sizesOf(6),
      batch: 4,
      generate: (spec, count) => workers.generatePairs(spec, count),
    });
    pool.start();
    await waitFor(() => ECC_SPECS.every((s) => pool.stats()[s].ready === 6), "the pools are full");
    for (const spec of ECC_SPECS) {
      const pairs = await Promise.all(Array.from({ length: 8 }, () => pool.take(spec)));
      assert.equal(new Set(pairs.map((p) => p.publicKey.toHex())).size, 8);
      const checks = await opensslCheckMany(pairs.map((p) => p.privateKey.expose()));
      assert.ok(
        checks.every((c, i) =>
          c.valid && c.derivedPublicKey.toHex() === pairs[i]!.publicKey.toHex()
        ),
      );
    }
    await pool.close();
  });
});

/** Has `workers` start a worker and hear from it (a verifying key imported there). */
async function startWorker(workers: CryptoWorkerPool): Promise<void> {
  const pair = await generateKeyPair("ECC_NIST_P256");
  pair.privateKey.wipe();
  await workers.register("verifying", "ECC_NIST_P256", pair.publicKey);
}

Deno.test("an empty ECC pool whose workers have not started makes pairs inline, without waiting for one", async () => {
  await withWorkers(async (workers) => {
    const pool = eccKeyPairPool(0, undefined, () => workers);
    pool.start();
    for (const spec of ECC_SPECS) {
      const taken = pool.take(spec);
      assert.equal(workers.stats().inFlight, 0, `${spec}: no worker asked`);
      const pair = await taken;
      assert.ok(await opensslSignAndVerify(pair.privateKey.expose(), pair.publicKey, spec));
    }
    assert.equal(workers.stats().started, 0);
    await pool.close();
  });
});

Deno.test("an empty ECC pool has a running crypto worker make secp256k1 and SM2 pairs, distinct and OpenSSL-valid", async () => {
  await withWorkers(async (workers) => {
    await startWorker(workers);
    const pool = eccKeyPairPool(0, undefined, () => workers);
    pool.start();
    const ed25519 = pool.take("ECC_NIST_EDWARDS25519");
    assert.equal(workers.stats().inFlight, 0, "Ed25519 is made inline (cheaper than the hop)");
    (await ed25519).privateKey.wipe();
    for (const spec of ["ECC_SECG_P256K1", "SM2"] as const) {
      const taken = Array.from({ length: 3 }, () => pool.take(spec));
      assert.equal(workers.stats().inFlight, 3, `${spec}: each pair asked of the worker`);
      const pairs = await Promise.all(taken);
      assert.equal(pool.stats()[spec].onDemandTakes, 3);
      assert.equal(new Set(pairs.map((p) => p.publicKey.toHex())).size, 3);
      const checks = await opensslCheckMany(pairs.map((p) => p.privateKey.expose()));
      assert.ok(
        checks.every((c, i) =>
          c.valid && c.derivedPublicKey.toHex() === pairs[i]!.publicKey.toHex()
        ),
        `${spec}: every pair valid`,
      );
    }
    await pool.close();
  });
});

Deno.test("an empty ECC pool whose crypto worker crashes answers with a pair made inline", async () => {
  const url = workerDyingOnGenerate();
  const crashes: Error[] = [];
  try {
    await withWorkers(async (workers) => {
      await startWorker(workers);
      const pool = eccKeyPairPool(0, undefined, () => workers);
      pool.start();
      const taken = pool.take("SM2");
      assert.equal(workers.stats().inFlight, 1, "the pair is asked of the worker");
      for (
        const [spec, pair] of [["SM2", await taken], [
          "ECC_SECG_P256K1",
          await pool.take("ECC_SECG_P256K1"),
        ]] as const
      ) {
        assert.ok(await opensslSignAndVerify(pair.privateKey.expose(), pair.publicKey, spec));
      }
      assert.equal(crashes.length, 1, "the worker died once; the next pair was made inline");
      await pool.close();
    }, { workerUrl: url, onError: (e) => crashes.push(e) });
  } finally {
    URL.revokeObjectURL(url);
  }
});
