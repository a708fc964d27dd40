import assert from "node:assert/strict";
import { randomBytes, RandomPool } from "./random.ts";

/** Every `width`-byte window of `bytes`, as hex. */
function windows(bytes: Uint8Array, width: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + width <= bytes.length; i++) out.push(bytes.subarray(i, i + width).toHex());
  return out;
}

Deno.test("no two draws from the pool share bytes, across refills", () => {
  const pool = new RandomPool(new Uint8Array(1024));
  const seen = new Map<string, number>();
  // 28-byte draws (a nonce and an IV) and 32-byte draws (a data key), through ~10 refills.
  for (let draw = 0; draw < 400; draw++) {
    const bytes = pool.draw(draw % 2 === 0 ? 28 : 32);
    // Any 8 bytes of a draw seen in another draw would mean handed-out bytes were reused
    // (a chance repeat of 8 random bytes is ~2^-64 per pair).
    for (const window of windows(bytes, 8)) {
      const owner = seen.get(window);
      assert.ok(owner === undefined || owner === draw, `draws ${owner} and ${draw} overlap`);
      seen.set(window, draw);
    }
  }
});

Deno.test("bytes handed out are zeroed in the pool at once, the rest stays random", () => {
  const buffer = new Uint8Array(256);
  const pool = new RandomPool(buffer);
  const first = pool.draw(100);
  assert.equal(pool.remaining, 156);
  assert.ok(buffer.subarray(0, 100).every((byte) => byte === 0), "handed-out bytes wiped");
  assert.ok(buffer.subarray(100).some((byte) => byte !== 0), "the rest is CSPRNG output");
  assert.ok(first.some((byte) => byte !== 0));
  // The draw is a copy: wiping it does not touch the pool, and the pool's wipe did not touch it.
  const second = pool.draw(100);
  assert.notDeepEqual(second, first);
  first.fill(0);
  assert.ok(second.some((byte) => byte !== 0));
});

Deno.test("a draw longer than what is left refills the pool and never returns handed-out bytes", () => {
  const buffer = new Uint8Array(64);
  const pool = new RandomPool(buffer);
  const a = pool.draw(40);
  const b = pool.draw(40);
  assert.equal(pool.remaining, 24);
  assert.ok(buffer.subarray(0, 40).every((byte) => byte === 0));
  assert.notDeepEqual(a.subarray(0, 24), b.subarray(0, 24));
});

Deno.test("randomBytes gives fresh arrays of the asked length, pooled and unpooled", () => {
  for (const n of [0, 1, 16, 28, 32, 256, 257, 4096, 70_000]) {
    const bytes = randomBytes(n);
    assert.equal(bytes.length, n);
    assert.equal(bytes.byteOffset, 0);
    assert.equal(bytes.buffer.byteLength, n, "an exactly sized buffer, not a view of the pool");
  }
  assert.notDeepEqual(randomBytes(32), randomBytes(32));
  assert.throws(() => randomBytes(-1), RangeError);
  assert.throws(() => randomBytes(1.5), RangeError);
});

Deno.test("a pool refuses draws larger than itself and empty or oversized buffers", () => {
  assert.throws(() => new RandomPool(new Uint8Array(16)).draw(17), RangeError);
  assert.throws(() => new RandomPool(new Uint8Array(0)), RangeError);
  assert.throws(() => new RandomPool(new Uint8Array(65537)), RangeError);
});
