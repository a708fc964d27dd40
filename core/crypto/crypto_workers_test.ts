import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../config.ts";
import { SecretBytes } from "../secret.ts";
import {
  closeCryptoWorkers,
  configureCryptoWorkers,
  CryptoWorkerPool,
  type CryptoWorkerPoolOptions,
  cryptoWorkers,
  defaultPoolSize,
} from "./crypto_workers.ts";
import {
  importSigningKey,
  importVerifyingEngine,
  importVerifyingKey,
  OFFLOADED,
  type SigningAlgorithmSpec,
  type SigningKeySpec,
} from "./signatures.ts";
import { generateKeyPair } from "./key_pairs.ts";

const KEYS: Record<string, { pkcs8: string; spki: string }> = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/signing_test_keys.json", import.meta.url)),
).keys;

function pkcs8Of(spec: SigningKeySpec): Uint8Array {
  return Uint8Array.fromHex(KEYS[spec]!.pkcs8);
}

function spkiOf(spec: SigningKeySpec): Uint8Array {
  return Uint8Array.fromHex(KEYS[spec]!.spki);
}

/** Runs `fn` with a pool that is closed afterwards, whatever happens. */
async function withPool(
  options: CryptoWorkerPoolOptions,
  fn: (pool: CryptoWorkerPool) => Promise<void>,
): Promise<void> {
  const pool = new CryptoWorkerPool(options);
  try {
    await fn(pool);
  } finally {
    await pool.close();
  }
}

/** A worker module that is the real one, except that it dies on a 13-byte message to sign. */
function crashingWorkerUrl(): string {
  const real = new URL("./crypto_worker.ts", import.meta.url).href;
  const source = `import ${JSON.stringify(real)};
const serve = globalThis.onmessage;
globalThis.onmessage = (event) => {
  if (event.data.op === "sign" && event.data.message.length === 13) throw new Error("boom");
  serve(event);
};`;
  return URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
}

const MESSAGE = new TextEncoder().encode("a message to sign");

Deno.test("a pool signs and verifies ML-DSA in a worker, and the signatures verify in-process", async () => {
  await withPool({ size: 1 }, async (pool) => {
    assert.equal(pool.stats().workers, 0, "no worker before the first use");
    const signing = await pool.register("signing", "ML_DSA_44", pkcs8Of("ML_DSA_44"));
    const verifying = await pool.register("verifying", "ML_DSA_44", spkiOf("ML_DSA_44"));
    const request = { algorithm: "ML_DSA_SHAKE_256", message: MESSAGE, prehashed: false } as const;
    const signature = await pool.sign(signing, request);
    assert.equal(pool.stats().workers, 1);
    const inProcess = importVerifyingEngine("ML_DSA_44", spkiOf("ML_DSA_44"));
    assert.equal(inProcess("ML_DSA_SHAKE_256", MESSAGE, false, signature), true);
    assert.equal(await pool.verify(verifying, { ...request, signature }), true);
    signature[10] = signature[10]! ^ 1;
    assert.equal(await pool.verify(verifying, { ...request, signature }), false);
    assert.equal(MESSAGE.length, 17, "the caller's message is copied, not moved");
  });
});

Deno.test("a pool refuses key material of another spec with TypeError, echoes no key bytes and keeps nothing", async () => {
  await withPool({ size: 1 }, async (pool) => {
    const other = pkcs8Of("ML_DSA_87");
    await assert.rejects(pool.register("signing", "ML_DSA_44", other), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.ok(!error.message.toLowerCase().includes(other.subarray(-16).toHex()));
      return true;
    });
    await assert.rejects(pool.register("verifying", "RSA_2048", spkiOf("RSA_4096")), TypeError);
    assert.equal(pool.stats().keys, 0);
    assert.equal(other.length, pkcs8Of("ML_DSA_87").length, "the caller's bytes are intact");
  });
});

Deno.test("a pool starts a second worker only while the first is busy, and never more than its size", async () => {
  await withPool({ size: 2 }, async (pool) => {
    const key = await pool.register("signing", "ML_DSA_65", pkcs8Of("ML_DSA_65"));
    const request = { algorithm: "ML_DSA_SHAKE_256", message: MESSAGE, prehashed: false } as const;
    for (let i = 0; i < 3; i++) await pool.sign(key, request);
    assert.equal(pool.stats().workers, 1, "sequential work needs one worker");
    await Promise.all(Array.from({ length: 8 }, () => pool.sign(key, request)));
    const { workers, started, inFlight } = pool.stats();
    assert.deepEqual({ workers, started, inFlight }, { workers: 2, started: 2, inFlight: 0 });
  });
});

Deno.test("close terminates the workers and rejects requests in flight; a later request starts a worker again", async () => {
  await withPool({ size: 1 }, async (pool) => {
    const key = await pool.register("signing", "ML_DSA_87", pkcs8Of("ML_DSA_87"));
    const request = { algorithm: "ML_DSA_SHAKE_256", message: MESSAGE, prehashed: false } as const;
    const inFlight = [pool.sign(key, request), pool.sign(key, request), pool.sign(key, request)];
    await pool.close();
    for (const signing of inFlight) {
      await assert.rejects(signing, { name: "Error", message: "crypto worker pool closed" });
    }
    assert.equal(pool.stats().workers, 0);
    const signature = await pool.sign(key, request);
    assert.equal(signature.length, 4627);
    assert.equal(pool.stats().started, 2, "the key was imported again into the new worker");
  });
});

Deno.test("a request that crashes every worker is retried once on a replacement, then rejects; the next request runs", async () => {
  const url = crashingWorkerUrl();
  const reported: Error[] = [];
  try {
    await withPool({ size: 1, workerUrl: url, onError: (e) => reported.push(e) }, async (pool) => {
      const key = await pool.register("signing", "RSA_2048", pkcs8Of("RSA_2048"));
      const sign = (message: Uint8Array) =>
        pool.sign(key, { algorithm: "RSASSA_PSS_SHA_256", message, prehashed: false });
      await sign(MESSAGE);
      await assert.rejects(sign(new Uint8Array(13)), { message: "crypto worker failed" });
      assert.equal(reported.length, 2, "the first worker and the retry's worker both died");
      assert.match(reported[0]!.message, /boom/);
      assert.equal(pool.stats().workers, 0);
      const verifying = importVerifyingEngine("RSA_2048", spkiOf("RSA_2048"));
      assert.equal(verifying("RSASSA_PSS_SHA_256", MESSAGE, false, await sign(MESSAGE)), true);
      assert.deepEqual([pool.stats().started, pool.available], [3, true]);
    });
  } finally {
    URL.revokeObjectURL(url);
  }
});

/** A worker module that is the real one, except that the first worker to see `marker` dies. */
function crashOnceWorkerUrl(marker: string, op: string): string {
  const real = new URL("./crypto_worker.ts", import.meta.url).href;
  const source = `import ${JSON.stringify(real)};
const serve = globalThis.onmessage;
globalThis.onmessage = (event) => {
  if (event.data.op === ${JSON.stringify(op)}) {
    let first = true;
    try { Deno.removeSync(${JSON.stringify(marker)}); } catch { first = false; }
    if (first) throw new Error("boom once");
  }
  serve(event);
};`;
  return URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
}

Deno.test("a signature whose worker crashes once is answered by a replacement worker", async () => {
  const marker = await Deno.makeTempFile();
  const url = crashOnceWorkerUrl(marker, "sign");
  const reported: Error[] = [];
  try {
    await withPool({ size: 1, workerUrl: url, onError: (e) => reported.push(e) }, async (pool) => {
      const key = await pool.register("signing", "RSA_2048", pkcs8Of("RSA_2048"));
      const signature = await pool.sign(key, {
        algorithm: "RSASSA_PSS_SHA_256",
        message: MESSAGE.slice(),
        prehashed: false,
      });
      assert.equal(reported.length, 1);
      assert.match(reported[0]!.message, /boom once/);
      const verifying = importVerifyingEngine("RSA_2048", spkiOf("RSA_2048"));
      assert.equal(verifying("RSASSA_PSS_SHA_256", MESSAGE, false, signature), true);
      assert.equal(pool.stats().started, 2);
    });
  } finally {
    URL.revokeObjectURL(url);
    await Deno.remove(marker).catch(() => {});
  }
});

Deno.test("each worker holds at most keysPerWorker keys and imports an evicted key again when it is used", async () => {
  await withPool({ size: 1, keysPerWorker: 2 }, async (pool) => {
    const specs: SigningKeySpec[] = ["ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521"];
    const keys = [];
    for (const spec of specs) keys.push(await pool.register("verifying", spec, spkiOf(spec)));
    assert.equal(pool.stats().keysHeld, 2);
    const signing = await importSigningKey(
      "ECC_NIST_P256",
      new SecretBytes(pkcs8Of("ECC_NIST_P256")),
    );
    const signature = await signing.sign("ECDSA_SHA_256", MESSAGE, "RAW");
    const request = {
      algorithm: "ECDSA_SHA_256",
      message: MESSAGE,
      prehashed: false,
      signature,
    } as const;
    assert.equal(await pool.verify(keys[0]!, request), true, "the evicted first key");
    assert.deepEqual([pool.stats().keysHeld, pool.stats().keys], [2, 3]);
  });
});

Deno.test("a released key can no longer be used", async () => {
  await withPool({ size: 1 }, async (pool) => {
    const key = await pool.register("signing", "ECC_NIST_P256", pkcs8Of("ECC_NIST_P256"));
    const request = { algorithm: "ECDSA_SHA_256", message: MESSAGE, prehashed: false } as const;
    await pool.sign(key, request);
    pool.release(key);
    assert.deepEqual([pool.stats().keys, pool.stats().keysHeld], [0, 0]);
    await assert.rejects(pool.sign(key, request), TypeError);
  });
});

Deno.test("a worker module that cannot load makes the pool unavailable, and signing falls back in-process", async () => {
  const missing = new URL("./no_such_crypto_worker.ts", import.meta.url);
  await withPool({ size: 1, workerUrl: missing, onError: () => {} }, async (pool) => {
    assert.equal(pool.available, true);
    await assert.rejects(pool.register("signing", "ML_DSA_44", pkcs8Of("ML_DSA_44")), {
      message: "crypto worker failed",
    });
    assert.equal(pool.available, false);
  });
  configureCryptoWorkers({ workerUrl: missing, onError: () => {} });
  try {
    const key = await importSigningKey("ML_DSA_44", new SecretBytes(pkcs8Of("ML_DSA_44")));
    const signature = await key.sign("ML_DSA_SHAKE_256", MESSAGE, "RAW");
    const verifying = await importVerifyingKey("ML_DSA_44", spkiOf("ML_DSA_44"));
    assert.equal(await verifying.verify("ML_DSA_SHAKE_256", MESSAGE, "RAW", signature), true);
    assert.equal(cryptoWorkers().available, false);
  } finally {
    configureCryptoWorkers({});
    await closeCryptoWorkers();
  }
});

Deno.test("importSigningKey offloads RSA_4096 signing: a timer runs while the signature is computed", async () => {
  assert.equal(OFFLOADED.RSA_4096.sign, true);
  try {
    const key = await importSigningKey("RSA_4096", new SecretBytes(pkcs8Of("RSA_4096")));
    await key.sign("RSASSA_PSS_SHA_256", MESSAGE, "RAW");
    let ticked = false;
    const timer = setTimeout(() => ticked = true, 0);
    const signature = await key.sign("RSASSA_PKCS1_V1_5_SHA_256", MESSAGE, "RAW");
    clearTimeout(timer);
    assert.equal(ticked, true, "the event loop turned while RSA_4096 signed");
    const verifying = await importVerifyingKey("RSA_4096", spkiOf("RSA_4096"));
    assert.equal(
      await verifying.verify("RSASSA_PKCS1_V1_5_SHA_256", MESSAGE, "RAW", signature),
      true,
    );
    assert.ok(cryptoWorkers().stats().started >= 1);
  } finally {
    await closeCryptoWorkers();
  }
});

Deno.test("ECDSA and SM2 signing and RSA verification run in the crypto workers, Ed25519 in-process, and every signature verifies", async () => {
  try {
    const sm2 = await generateKeyPair("SM2");
    const cases: {
      spec: SigningKeySpec;
      algorithm: SigningAlgorithmSpec;
      pkcs8: Uint8Array;
      spki: Uint8Array;
    }[] = [
      {
        spec: "ECC_NIST_P256",
        algorithm: "ECDSA_SHA_256",
        pkcs8: pkcs8Of("ECC_NIST_P256"),
        spki: spkiOf("ECC_NIST_P256"),
      },
      {
        spec: "ECC_SECG_P256K1",
        algorithm: "ECDSA_SHA_256",
        pkcs8: pkcs8Of("ECC_SECG_P256K1"),
        spki: spkiOf("ECC_SECG_P256K1"),
      },
      { spec: "SM2", algorithm: "SM2DSA", pkcs8: sm2.privateKey.expose(), spki: sm2.publicKey },
      {
        spec: "RSA_2048",
        algorithm: "RSASSA_PSS_SHA_256",
        pkcs8: pkcs8Of("RSA_2048"),
        spki: spkiOf("RSA_2048"),
      },
      {
        spec: "ECC_NIST_EDWARDS25519",
        algorithm: "ED25519_SHA_512",
        pkcs8: pkcs8Of("ECC_NIST_EDWARDS25519"),
        spki: spkiOf("ECC_NIST_EDWARDS25519"),
      },
    ];
    for (const c of cases) {
      // Keys registered, not keys alive: garbage collection may release earlier keys meanwhile.
      const keys = () => cryptoWorkers().stats().registered;
      const before = keys();
      const signing = await importSigningKey(c.spec, new SecretBytes(c.pkcs8.slice()));
      const verifying = await importVerifyingKey(c.spec, c.spki);
      const inWorkers = c.spec !== "ECC_NIST_EDWARDS25519";
      assert.equal(
        keys() - before,
        inWorkers ? 2 : 0,
        `${c.spec}: both keys in the workers or none`,
      );
      assert.deepEqual(OFFLOADED[c.spec], { sign: inWorkers, verify: inWorkers });
      const signature = await signing.sign(c.algorithm, MESSAGE, "RAW");
      assert.equal(await verifying.verify(c.algorithm, MESSAGE, "RAW", signature), true);
      const inProcess = importVerifyingEngine(c.spec, c.spki);
      assert.equal(inProcess(c.algorithm, MESSAGE, false, signature), true, `${c.spec} in-process`);
      const forged = signature.slice();
      forged[forged.length - 1]! ^= 1;
      assert.equal(await verifying.verify(c.algorithm, MESSAGE, "RAW", forged), false);
    }
  } finally {
    await closeCryptoWorkers();
  }
});

Deno.test("KMS_CRYPTO_WORKERS: 0..64 workers, default min(2, cores); anything else is a ConfigError", () => {
  assert.equal(parseConfig({}).cryptoWorkers, defaultPoolSize());
  assert.equal(parseConfig({ KMS_CRYPTO_WORKERS: "" }).cryptoWorkers, defaultPoolSize());
  assert.ok(defaultPoolSize() >= 1 && defaultPoolSize() <= 2);
  for (const ok of [0, 1, 3, 64]) {
    assert.equal(parseConfig({ KMS_CRYPTO_WORKERS: String(ok) }).cryptoWorkers, ok);
  }
  for (const bad of ["-1", "1.5", "65", "two", "1e9"]) {
    assert.throws(() => parseConfig({ KMS_CRYPTO_WORKERS: bad }), ConfigError, bad);
  }
});

Deno.test("a pool starts no worker until its first job, and a pool of size 0 takes no key", async () => {
  await withPool({ size: 2 }, (pool) => {
    assert.deepEqual([pool.stats().workers, pool.stats().started, pool.available], [0, 0, true]);
    return Promise.resolve();
  });
  await withPool({ size: 0 }, async (pool) => {
    assert.equal(pool.available, false);
    await assert.rejects(pool.register("signing", "ML_DSA_44", pkcs8Of("ML_DSA_44")), Error);
    assert.deepEqual([pool.stats().started, pool.stats().keys], [0, 0]);
  });
});
