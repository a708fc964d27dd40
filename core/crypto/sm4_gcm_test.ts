/**
 * SM4 and SM4-GCM against the published vectors (GB/T 32907-2016 appendix A,
 * RFC 8998 appendix A.1; `testdata/sm4_vectors.json`, sources in
 * `testdata/SOURCES.md`) and against OpenSSL 3 as referee (`enc -sm4-ecb`, and
 * `enc -sm4-ctr` for GCM's counter-mode keystream; this OpenSSL offers no
 * `sm4-gcm` in `enc -list`). The 1,000,000-encryption example runs with
 * `SM4_MILLION=1` (a few seconds).
 */
import assert from "node:assert/strict";
import { InvalidCiphertextException } from "../errors.ts";
import { runOpenssl } from "../../tests/helpers/openssl.ts";
import { randomBytes } from "./random.ts";
import { sm4EncryptBlocks } from "./sm4.ts";
import { sm4GcmDecrypt, sm4GcmEncrypt } from "./sm4_gcm.ts";

interface Sm4Vector {
  source: string;
  key: string;
  plaintext: string;
  iterations: number;
  ciphertext: string;
}
interface Sm4GcmVector {
  source: string;
  key: string;
  iv: string;
  aad: string;
  plaintext: string;
  ciphertext: string;
  tag: string;
}
const vectors = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/sm4_vectors.json", import.meta.url)),
) as { sm4: Sm4Vector[]; sm4_gcm: Sm4GcmVector[] };
const hex = (text: string) => Uint8Array.fromHex(text);

function sm4Iterated(vector: Sm4Vector): string {
  const key = hex(vector.key);
  let block: Uint8Array = hex(vector.plaintext);
  for (let i = 0; i < vector.iterations; i++) block = sm4EncryptBlocks(key, block);
  return block.toHex();
}

for (const vector of vectors.sm4) {
  Deno.test({
    name:
      `SM4 gives the standard's ciphertext after ${vector.iterations} encryption(s): ${vector.source}`,
    ignore: vector.iterations > 1 && Deno.env.get("SM4_MILLION") !== "1",
    fn: () => assert.equal(sm4Iterated(vector), vector.ciphertext),
  });
}

for (const vector of vectors.sm4_gcm) {
  Deno.test(`SM4-GCM encrypts to the published ciphertext and tag: ${vector.source}`, () => {
    const sealed = sm4GcmEncrypt(
      hex(vector.key),
      hex(vector.iv),
      hex(vector.plaintext),
      hex(vector.aad),
    );
    assert.equal(sealed.toHex(), vector.ciphertext + vector.tag);
  });
  Deno.test(`SM4-GCM decrypts the published ciphertext and tag: ${vector.source}`, () => {
    const opened = sm4GcmDecrypt(
      hex(vector.key),
      hex(vector.iv),
      hex(vector.ciphertext + vector.tag),
      hex(vector.aad),
    );
    assert.equal(opened.toHex(), vector.plaintext);
  });
}

Deno.test("SM4 blocks equal openssl enc -sm4-ecb -nopad over several blocks", async () => {
  const key = randomBytes(16);
  const blocks = randomBytes(16 * 5);
  const result = await runOpenssl(
    ["enc", "-sm4-ecb", "-nopad", "-K", key.toHex()],
    { stdin: blocks },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(sm4EncryptBlocks(key, blocks).toHex(), result.stdout.toHex());
});

Deno.test("SM4-GCM ciphertext equals openssl enc -sm4-ctr from inc32(J0), for lengths around block edges", async () => {
  for (const length of [1, 15, 16, 17, 100, 4096]) {
    const key = randomBytes(16);
    const iv = randomBytes(12);
    const plaintext = randomBytes(length);
    const sealed = sm4GcmEncrypt(key, iv, plaintext, randomBytes(7));
    const firstCounter = Uint8Array.of(...iv, 0, 0, 0, 2);
    const result = await runOpenssl(
      ["enc", "-sm4-ctr", "-K", key.toHex(), "-iv", firstCounter.toHex()],
      { stdin: plaintext },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(sealed.subarray(0, length).toHex(), result.stdout.toHex(), `length ${length}`);
  }
});

Deno.test("SM4-GCM round-trips every length from 0 to 48 bytes, with and without AAD", () => {
  const key = randomBytes(16);
  for (let length = 0; length <= 48; length++) {
    for (const aad of [new Uint8Array(0), randomBytes(length + 3)]) {
      const iv = randomBytes(12);
      const plaintext = randomBytes(length);
      const sealed = sm4GcmEncrypt(key, iv, plaintext, aad);
      assert.equal(sealed.length, length + 16);
      assert.deepEqual(sm4GcmDecrypt(key, iv, sealed, aad), plaintext);
    }
  }
});

Deno.test("SM4-GCM refuses a flipped bit anywhere in ciphertext or tag, another AAD, IV or key", () => {
  const vector = vectors.sm4_gcm[0]!;
  const key = hex(vector.key);
  const iv = hex(vector.iv);
  const aad = hex(vector.aad);
  const sealed = hex(vector.ciphertext + vector.tag);
  for (let index = 0; index < sealed.length; index++) {
    const damaged = sealed.slice();
    damaged[index]! ^= 0x01;
    assert.throws(() => sm4GcmDecrypt(key, iv, damaged, aad), InvalidCiphertextException);
  }
  const otherAad = aad.slice();
  otherAad[0]! ^= 0x80;
  assert.throws(() => sm4GcmDecrypt(key, iv, sealed, otherAad), InvalidCiphertextException);
  const otherIv = iv.slice();
  otherIv[11]! ^= 0x01;
  assert.throws(() => sm4GcmDecrypt(key, otherIv, sealed, aad), InvalidCiphertextException);
  assert.throws(
    () => sm4GcmDecrypt(randomBytes(16), iv, sealed, aad),
    InvalidCiphertextException,
  );
});

Deno.test("SM4-GCM refuses input shorter than a tag as an invalid ciphertext", () => {
  assert.throws(
    () => sm4GcmDecrypt(randomBytes(16), randomBytes(12), randomBytes(15), new Uint8Array(0)),
    InvalidCiphertextException,
  );
});

Deno.test("SM4 and SM4-GCM refuse a key that is not 16 bytes and an IV that is not 12", () => {
  assert.throws(() => sm4EncryptBlocks(randomBytes(32), new Uint8Array(16)), RangeError);
  assert.throws(() => sm4EncryptBlocks(randomBytes(16), new Uint8Array(15)), RangeError);
  assert.throws(
    () => sm4GcmEncrypt(randomBytes(32), randomBytes(12), new Uint8Array(1), new Uint8Array(0)),
    RangeError,
  );
  assert.throws(
    () => sm4GcmEncrypt(randomBytes(16), randomBytes(16), new Uint8Array(1), new Uint8Array(0)),
    RangeError,
  );
});
