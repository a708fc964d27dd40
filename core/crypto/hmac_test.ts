import assert from "node:assert/strict";
import { InvalidKeyUsageException } from "../errors.ts";
import { SecretBytes } from "../secret.ts";
import { HMAC_KEY_BYTES, importMacKey, MAC_ALGORITHMS, type MacAlgorithmSpec } from "./hmac.ts";

interface MacCase {
  tcId: number;
  key: string;
  msg: string;
  tag: string;
  result: "valid" | "invalid";
}
interface MacGroup {
  keySize: number;
  tagSize: number;
  tests: MacCase[];
}

const SUITES: ReadonlyArray<[MacAlgorithmSpec, string, number]> = [
  ["HMAC_SHA_224", "hmac_sha224_test.json", 28],
  ["HMAC_SHA_256", "hmac_sha256_test.json", 32],
  ["HMAC_SHA_384", "hmac_sha384_test.json", 48],
  ["HMAC_SHA_512", "hmac_sha512_test.json", 64],
];

function keySpecOf(algorithm: MacAlgorithmSpec) {
  return algorithm.replace("_SHA", "") as keyof typeof MAC_ALGORITHMS;
}

async function loadGroups(file: string): Promise<MacGroup[]> {
  const url = new URL(`./testdata/${file}`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url)).testGroups;
}

for (const [algorithm, file, fullBytes] of SUITES) {
  Deno.test(`wycheproof ${algorithm}: valid full-length tags verify and are generated, invalid ones fail`, async () => {
    const keySpec = keySpecOf(algorithm);
    let checked = 0;
    for (const group of await loadGroups(file)) {
      if (group.tagSize / 8 !== fullBytes) continue;
      for (const test of group.tests) {
        assert.notEqual(test.result, "acceptable", `tcId ${test.tcId}: no choice in ACCEPTABLE.md`);
        const key = await importMacKey(keySpec, new SecretBytes(Uint8Array.fromHex(test.key)));
        const msg = Uint8Array.fromHex(test.msg);
        const tag = Uint8Array.fromHex(test.tag);
        assert.equal(
          await key.verify(algorithm, msg, tag),
          test.result === "valid",
          `tcId ${test.tcId}`,
        );
        if (test.result === "valid") assert.deepEqual(await key.generate(algorithm, msg), tag);
        checked++;
      }
    }
    assert.ok(checked > 80, `only ${checked} cases ran`);
  });

  Deno.test(`wycheproof ${algorithm}: a truncated tag never verifies, as VerifyMac wants the full MAC`, async () => {
    const keySpec = keySpecOf(algorithm);
    let checked = 0;
    for (const group of await loadGroups(file)) {
      if (group.tagSize / 8 === fullBytes) continue;
      for (const test of group.tests) {
        assert.notEqual(test.result, "acceptable", `tcId ${test.tcId}: no choice in ACCEPTABLE.md`);
        const key = await importMacKey(keySpec, new SecretBytes(Uint8Array.fromHex(test.key)));
        const msg = Uint8Array.fromHex(test.msg);
        const tag = Uint8Array.fromHex(test.tag);
        assert.equal(await key.verify(algorithm, msg, tag), false, `tcId ${test.tcId}`);
        const prefix = (await key.generate(algorithm, msg)).subarray(0, tag.length);
        assert.equal(prefix.toHex() === test.tag, test.result === "valid", `tcId ${test.tcId}`);
        checked++;
      }
    }
    assert.ok(checked > 80, `only ${checked} cases ran`);
  });
}

Deno.test("GenerateMac rejects an algorithm of another key spec with InvalidKeyUsageException", async () => {
  const key = await importMacKey("HMAC_256", new SecretBytes(new Uint8Array(32).fill(7)));
  const message = new Uint8Array(10);
  await assert.rejects(
    key.generate("HMAC_SHA_512", message),
    (error: unknown) =>
      error instanceof InvalidKeyUsageException &&
      error.message === "Algorithm HMAC_SHA_512 is incompatible with key spec HMAC_256.",
  );
  await assert.rejects(
    key.verify("HMAC_SHA_224", message, new Uint8Array(28)),
    InvalidKeyUsageException,
  );
});

Deno.test("VerifyMac is false for a changed message, a changed tag or a tag of the wrong length", async () => {
  const key = await importMacKey("HMAC_384", new SecretBytes(new Uint8Array(48).fill(9)));
  const message = new TextEncoder().encode("message");
  const tag = await key.generate("HMAC_SHA_384", message);
  assert.equal(await key.verify("HMAC_SHA_384", message, tag), true);
  assert.equal(await key.verify("HMAC_SHA_384", new TextEncoder().encode("messagf"), tag), false);
  const flipped = tag.slice();
  flipped[47] = flipped[47]! ^ 1;
  assert.equal(await key.verify("HMAC_SHA_384", message, flipped), false);
  assert.equal(await key.verify("HMAC_SHA_384", message, new Uint8Array(0)), false);
  assert.equal(await key.verify("HMAC_SHA_384", message, new Uint8Array([...tag, 0])), false);
});

Deno.test("importMacKey copies the key, so wiping the caller's SecretBytes leaves the key usable", async () => {
  const secret = new SecretBytes(new Uint8Array(64).fill(3));
  const key = await importMacKey("HMAC_512", secret);
  const before = await key.generate("HMAC_SHA_512", new Uint8Array(4));
  secret.wipe();
  assert.deepEqual(await key.generate("HMAC_SHA_512", new Uint8Array(4)), before);
});

Deno.test("each HMAC key spec allows exactly its own algorithm and has AWS's key length", () => {
  assert.deepEqual(MAC_ALGORITHMS, {
    HMAC_224: ["HMAC_SHA_224"],
    HMAC_256: ["HMAC_SHA_256"],
    HMAC_384: ["HMAC_SHA_384"],
    HMAC_512: ["HMAC_SHA_512"],
  });
  assert.deepEqual(HMAC_KEY_BYTES, { HMAC_224: 28, HMAC_256: 32, HMAC_384: 48, HMAC_512: 64 });
});

Deno.test("importMacKey rejects empty key material", async () => {
  await assert.rejects(importMacKey("HMAC_256", new SecretBytes(new Uint8Array(0))), RangeError);
});
