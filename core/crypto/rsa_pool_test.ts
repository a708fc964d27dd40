import assert from "node:assert/strict";
import { SecretBytes } from "../secret.ts";
import type { GeneratedKeyPair, RsaSpec } from "./key_pairs.ts";
import { parseSpki } from "./key_encoding.ts";
import { RsaKeyPairPool } from "./rsa_pool.ts";
import { opensslCheckPrivateKey, opensslPublicFromPrivate } from "../../tests/helpers/openssl.ts";
import { nextTurn } from "../../tests/helpers/wait.ts";

/** A fake generator: pair #i has public key [i] and private key [i, i, i, i]; every call is logged. */
function fakeGenerator() {
  const calls: RsaSpec[] = [];
  const made: GeneratedKeyPair[] = [];
  const generate = (spec: RsaSpec): Promise<GeneratedKeyPair> => {
    calls.push(spec);
    const i = made.length + 1;
    const pair = {
      publicKey: Uint8Array.of(i),
      privateKey: new SecretBytes(new Uint8Array(4).fill(i)),
    };
    made.push(pair);
    return Promise.resolve(pair);
  };
  return { calls, made, generate };
}

/** A generator whose results the test releases one by one. */
function deferredGenerator() {
  const pending: { spec: RsaSpec; resolve: (p: GeneratedKeyPair) => void }[] = [];
  const generate = (spec: RsaSpec) =>
    new Promise<GeneratedKeyPair>((resolve) => pending.push({ spec, resolve }));
  const release = (i: number) => {
    const pair = {
      publicKey: Uint8Array.of(i),
      privateKey: new SecretBytes(new Uint8Array(4).fill(i)),
    };
    pending.shift()!.resolve(pair);
    return pair;
  };
  return { pending, generate, release };
}

const sizes = (RSA_2048: number, RSA_3072 = 0, RSA_4096 = 0) => ({ RSA_2048, RSA_3072, RSA_4096 });

/** Lets queued promise callbacks and macrotasks run until `done()` holds. */
async function until(done: () => boolean, what: string, rounds = 200): Promise<void> {
  for (let i = 0; i < rounds && !done(); i++) await nextTurn();
  assert.ok(done(), `timed out waiting until ${what}`);
}

Deno.test("RsaKeyPairPool hands each pooled pair out once, then refills", async () => {
  const fake = fakeGenerator();
  const pool = new RsaKeyPairPool({ sizes: sizes(2), generate: fake.generate });
  pool.start();
  await until(() => pool.stats().RSA_2048.ready === 2, "the pool is full");
  assert.equal(fake.calls.length, 2);
  const first = await pool.take("RSA_2048");
  const second = await pool.take("RSA_2048");
  assert.deepEqual([first.publicKey, second.publicKey], [Uint8Array.of(1), Uint8Array.of(2)]);
  await until(() => pool.stats().RSA_2048.ready === 2, "the pool is full again");
  const third = await pool.take("RSA_2048");
  assert.deepEqual(third.publicKey, Uint8Array.of(3));
  await until(() => pool.stats().RSA_2048.ready === 2, "the pool is full once more");
  assert.equal(fake.calls.length, 5, "2 to fill, 3 to refill after the takes, none on demand");
  await pool.close();
});

Deno.test("RsaKeyPairPool generates on demand when the pool is empty, not started, or of size 0", async () => {
  const fake = fakeGenerator();
  const pool = new RsaKeyPairPool({ sizes: sizes(0, 1), generate: fake.generate });
  const early = await pool.take("RSA_3072"); // before start: on demand, no refill
  assert.deepEqual(early.publicKey, Uint8Array.of(1));
  assert.deepEqual(fake.calls, ["RSA_3072"]);
  pool.start(); // starts filling RSA_3072 (pair 2)
  const zero = await pool.take("RSA_2048");
  assert.deepEqual(zero.publicKey, Uint8Array.of(3));
  assert.deepEqual(pool.stats().RSA_2048, {
    ready: 0,
    capacity: 0,
    generating: 0,
    pooledTakes: 0,
    onDemandTakes: 1,
  });
  await until(() => pool.stats().RSA_3072.ready === 1, "the RSA_3072 pool is full");
  assert.deepEqual(fake.calls, ["RSA_3072", "RSA_3072", "RSA_2048"]);
  await pool.close();
});

Deno.test("RsaKeyPairPool runs one background generation at a time by default, emptiest size first", async () => {
  const gen = deferredGenerator();
  const pool = new RsaKeyPairPool({ sizes: sizes(2, 1, 1), generate: gen.generate });
  pool.start();
  const order: RsaSpec[] = [];
  for (let i = 1; i <= 4; i++) {
    await until(() => gen.pending.length === 1, `generation ${i} started`);
    const total = Object.values(pool.stats()).reduce((n, s) => n + s.generating, 0);
    assert.equal(total, 1);
    order.push(gen.pending[0]!.spec);
    gen.release(i);
  }
  assert.deepEqual(order, ["RSA_2048", "RSA_3072", "RSA_4096", "RSA_2048"]);
  await until(() => pool.stats().RSA_2048.ready === 2, "the pools are full");
  assert.equal(gen.pending.length, 0);
  await pool.close();
});

Deno.test("RsaKeyPairPool with concurrency 2 runs two background generations", async () => {
  const gen = deferredGenerator();
  const pool = new RsaKeyPairPool({ sizes: sizes(3), generate: gen.generate, concurrency: 2 });
  pool.start();
  assert.equal(pool.stats().RSA_2048.generating, 2);
  gen.release(1);
  gen.release(2);
  await until(() => gen.pending.length === 1, "the third generation started");
  gen.release(3);
  await pool.close();
});

Deno.test("RsaKeyPairPool close wipes pooled private keys and stops refilling", async () => {
  const fake = fakeGenerator();
  const pool = new RsaKeyPairPool({ sizes: sizes(3), generate: fake.generate });
  pool.start();
  await until(() => pool.stats().RSA_2048.ready === 3, "the pool is full");
  const taken = await pool.take("RSA_2048");
  await until(() => pool.stats().RSA_2048.ready === 3, "the pool is full again");
  await pool.close();
  assert.equal(fake.made.length, 4);
  for (const pair of fake.made.filter((p) => p !== taken)) {
    assert.deepEqual(pair.privateKey.expose(), new Uint8Array(4), "a pooled key was not wiped");
  }
  assert.deepEqual(taken.privateKey.expose(), new Uint8Array(4).fill(1));
  assert.equal(pool.stats().RSA_2048.ready, 0);
  const after = await pool.take("RSA_2048"); // still served, on demand, and no refill starts
  assert.deepEqual(after.publicKey, Uint8Array.of(5));
  assert.equal(fake.calls.length, 5);
  assert.equal(pool.stats().RSA_2048.generating, 0);
});

Deno.test("RsaKeyPairPool close waits for an in-flight generation and wipes its pair", async () => {
  const gen = deferredGenerator();
  const pool = new RsaKeyPairPool({ sizes: sizes(1), generate: gen.generate });
  pool.start();
  let closed = false;
  const closing = pool.close().then(() => closed = true);
  await nextTurn();
  assert.equal(closed, false);
  const late = gen.release(1);
  await closing;
  assert.deepEqual(late.privateKey.expose(), new Uint8Array(4));
  assert.equal(pool.stats().RSA_2048.ready, 0);
});

Deno.test("RsaKeyPairPool pauses a size after a failed generation until the next take", async () => {
  const errors: [RsaSpec, unknown][] = [];
  let failures = 1;
  const fake = fakeGenerator();
  const generate = (spec: RsaSpec) =>
    failures-- > 0 ? Promise.reject(new Error("no entropy")) : fake.generate(spec);
  const pool = new RsaKeyPairPool({
    sizes: sizes(1),
    generate,
    onError: (spec, error) => errors.push([spec, error]),
  });
  pool.start();
  await until(() => errors.length === 1, "the failure is reported");
  for (let i = 0; i < 5; i++) await nextTurn();
  assert.equal(fake.calls.length, 0, "the pool retried without a take");
  assert.equal(errors[0]![0], "RSA_2048");
  await pool.take("RSA_2048"); // on demand, and the refill resumes
  await until(() => pool.stats().RSA_2048.ready === 1, "the pool refilled");
  assert.equal(fake.calls.length, 2);
  await pool.close();
});

Deno.test("RsaKeyPairPool rejects negative or fractional sizes and a zero concurrency", () => {
  assert.throws(() => new RsaKeyPairPool({ sizes: sizes(-1) }), RangeError);
  assert.throws(() => new RsaKeyPairPool({ sizes: sizes(0, 1.5) }), RangeError);
  assert.throws(() => new RsaKeyPairPool({ sizes: sizes(1), concurrency: 0 }), RangeError);
});

Deno.test("RsaKeyPairPool with the real generator pools a valid RSA_2048 pair", async () => {
  const pool = new RsaKeyPairPool({ sizes: sizes(1) });
  pool.start();
  await until(() => pool.stats().RSA_2048.ready === 1, "a real pair is pooled", 2000);
  const { publicKey, privateKey } = await pool.take("RSA_2048");
  await pool.close();
  assert.deepEqual(parseSpki(publicKey), {
    type: "RSA",
    modulusBits: 2048,
    publicExponent: 65537n,
  });
  assert.ok((await opensslCheckPrivateKey(privateKey.expose())).ok);
  assert.equal((await opensslPublicFromPrivate(privateKey.expose())).toHex(), publicKey.toHex());
});
