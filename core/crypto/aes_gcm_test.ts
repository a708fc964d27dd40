import assert from "node:assert/strict";
import { InvalidCiphertextException } from "../errors.ts";
import { aesGcmDecrypt, aesGcmEncrypt } from "./aes_gcm.ts";
import vectors from "./testdata/aes_gcm_256_wycheproof.json" with { type: "json" };

const hex = (s: string) => Uint8Array.fromHex(s);

interface Case {
  tcId: number;
  comment: string;
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: string;
}

const cases: Case[] = vectors.testGroups.flatMap((g) => g.tests);

Deno.test("the Wycheproof subset is the 256-bit-key, 96-bit-IV, 128-bit-tag group with valid and invalid cases", () => {
  assert.equal(cases.length, vectors.numberOfTests);
  for (const g of vectors.testGroups) {
    assert.deepEqual([g.keySize, g.ivSize, g.tagSize], [256, 96, 128]);
  }
  assert.ok(cases.some((c) => c.result === "valid"));
  assert.ok(cases.some((c) => c.result === "invalid"));
  assert.ok(cases.every((c) => c.result === "valid" || c.result === "invalid"));
});

Deno.test("AES-256-GCM encryption matches every valid Wycheproof vector", async () => {
  for (const c of cases.filter((c) => c.result === "valid")) {
    const out = await aesGcmEncrypt(hex(c.key), hex(c.iv), hex(c.msg), hex(c.aad));
    assert.equal(out.toHex(), c.ct + c.tag, `tcId ${c.tcId}`);
  }
});

Deno.test("AES-256-GCM decryption recovers the message of every valid Wycheproof vector", async () => {
  for (const c of cases.filter((c) => c.result === "valid")) {
    const out = await aesGcmDecrypt(hex(c.key), hex(c.iv), hex(c.ct + c.tag), hex(c.aad));
    assert.equal(out.toHex(), c.msg, `tcId ${c.tcId}`);
  }
});

Deno.test("AES-256-GCM decryption rejects every invalid Wycheproof vector with InvalidCiphertextException", async () => {
  for (const c of cases.filter((c) => c.result === "invalid")) {
    await assert.rejects(
      aesGcmDecrypt(hex(c.key), hex(c.iv), hex(c.ct + c.tag), hex(c.aad)),
      InvalidCiphertextException,
      `tcId ${c.tcId} (${c.comment})`,
    );
  }
});

Deno.test("AES-256-GCM agrees with WebCrypto on random inputs of many lengths", async () => {
  for (const len of [0, 1, 15, 16, 17, 32, 100, 1024, 4096]) {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const aad = crypto.getRandomValues(new Uint8Array(len % 70));
    const msg = crypto.getRandomValues(new Uint8Array(len));
    const ck = await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["encrypt", "decrypt"]);
    const expected = new Uint8Array(
      await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, ck, msg),
    );
    const ours = await aesGcmEncrypt(key, iv, msg, aad);
    assert.deepEqual(ours, expected, `length ${len}`);
    assert.deepEqual(await aesGcmDecrypt(key, iv, expected, aad), msg);
  }
});

Deno.test("AES-256-GCM decryption rejects input shorter than a tag", async () => {
  const key = new Uint8Array(32);
  const iv = new Uint8Array(12);
  for (const len of [0, 1, 15]) {
    await assert.rejects(
      aesGcmDecrypt(key, iv, new Uint8Array(len), new Uint8Array(0)),
      InvalidCiphertextException,
    );
  }
});

Deno.test("AES-256-GCM refuses keys other than 32 bytes and IVs other than 12 bytes", async () => {
  const msg = new Uint8Array(4);
  const aad = new Uint8Array(0);
  await assert.rejects(aesGcmEncrypt(new Uint8Array(16), new Uint8Array(12), msg, aad), RangeError);
  await assert.rejects(aesGcmEncrypt(new Uint8Array(32), new Uint8Array(16), msg, aad), RangeError);
  await assert.rejects(
    aesGcmDecrypt(new Uint8Array(24), new Uint8Array(12), new Uint8Array(20), aad),
    RangeError,
  );
  await assert.rejects(
    aesGcmDecrypt(new Uint8Array(32), new Uint8Array(8), new Uint8Array(20), aad),
    RangeError,
  );
});

Deno.test("AES-256-GCM outputs are plain Uint8Arrays of exact size", async () => {
  const key = new Uint8Array(32).fill(7);
  const iv = new Uint8Array(12).fill(8);
  const ct = await aesGcmEncrypt(key, iv, new Uint8Array(10), new Uint8Array(0));
  assert.equal(Object.getPrototypeOf(ct), Uint8Array.prototype);
  assert.equal(ct.buffer.byteLength, 26);
  const pt = await aesGcmDecrypt(key, iv, ct, new Uint8Array(0));
  assert.equal(Object.getPrototypeOf(pt), Uint8Array.prototype);
  assert.equal(pt.buffer.byteLength, 10);
});
