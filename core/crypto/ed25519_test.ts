import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Ed25519SigningKey, Ed25519VerifyingKey } from "./ed25519.ts";
import { encodeEd25519Pkcs8, encodeEd25519Spki } from "./key_encoding.ts";

interface EddsaCase {
  tcId: number;
  msg: string;
  sig: string;
  result: "valid" | "invalid";
}
interface EddsaGroup {
  publicKeyDer: string;
  tests: EddsaCase[];
}

async function readJson(file: string) {
  return JSON.parse(await Deno.readTextFile(new URL(`./testdata/${file}`, import.meta.url)));
}

async function testKey() {
  const { pkcs8, spki } = (await readJson("signing_test_keys.json")).keys.ECC_NIST_EDWARDS25519;
  return {
    signing: Ed25519SigningKey.fromPkcs8(Uint8Array.fromHex(pkcs8)),
    verifying: Ed25519VerifyingKey.fromSpki(Uint8Array.fromHex(spki)),
  };
}

Deno.test("wycheproof Ed25519: valid signatures verify and invalid ones fail", async () => {
  let checked = 0;
  for (const group of (await readJson("ed25519_test.json")).testGroups as EddsaGroup[]) {
    const key = Ed25519VerifyingKey.fromSpki(Uint8Array.fromHex(group.publicKeyDer));
    for (const test of group.tests) {
      assert.notEqual(test.result, "acceptable", `tcId ${test.tcId}: no choice in ACCEPTABLE.md`);
      const verified = key.verify(Uint8Array.fromHex(test.msg), Uint8Array.fromHex(test.sig));
      assert.equal(verified, test.result === "valid", `tcId ${test.tcId}`);
      checked++;
    }
  }
  assert.equal(checked, 151);
});

// RFC 8032 §7.3, "TEST abc": Ed25519ph of the message "abc".
const RFC8032_PH = {
  secretKey: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
  publicKey: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
  signature: "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41" +
    "31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406",
};

Deno.test("Ed25519ph reproduces the RFC 8032 section 7.3 test vector for 'abc'", () => {
  const signing = Ed25519SigningKey.fromPkcs8(
    encodeEd25519Pkcs8(Uint8Array.fromHex(RFC8032_PH.secretKey)),
  );
  const verifying = Ed25519VerifyingKey.fromSpki(
    encodeEd25519Spki(Uint8Array.fromHex(RFC8032_PH.publicKey)),
  );
  const abc = new TextEncoder().encode("abc");
  const signature = signing.signPrehashed(abc);
  assert.equal(signature.toHex(), RFC8032_PH.signature);
  assert.equal(verifying.verifyPrehashed(abc, signature), true);
  assert.equal(verifying.verify(abc, signature), false, "an Ed25519ph signature is not a pure one");
});

Deno.test("Ed25519ph over a SHA-512 digest round-trips and rejects a changed digest", async () => {
  const { signing, verifying } = await testKey();
  const digest = new Uint8Array(createHash("sha512").update("the data").digest());
  const signature = signing.signPrehashed(digest);
  assert.equal(signature.length, 64);
  assert.equal(verifying.verifyPrehashed(digest, signature), true);
  const changed = digest.slice();
  changed[0] = changed[0]! ^ 1;
  assert.equal(verifying.verifyPrehashed(changed, signature), false);
  assert.equal(verifying.verify(digest, signature), false);
});

Deno.test("pure Ed25519 signatures are deterministic and are not Ed25519ph signatures", async () => {
  const { signing, verifying } = await testKey();
  const message = new TextEncoder().encode("pure");
  const signature = signing.sign(message);
  assert.deepEqual(signing.sign(message), signature);
  assert.equal(verifying.verify(message, signature), true);
  assert.equal(verifying.verifyPrehashed(message, signature), false);
});

Deno.test("Ed25519 verification is false for malformed signature bytes", async () => {
  const { signing, verifying } = await testKey();
  const message = new Uint8Array(64);
  const signature = signing.signPrehashed(message);
  for (const bad of [new Uint8Array(0), signature.subarray(1), new Uint8Array([...signature, 0])]) {
    assert.equal(verifying.verify(message, bad), false);
    assert.equal(verifying.verifyPrehashed(message, bad), false);
  }
  const nonCanonical = signature.slice();
  nonCanonical.set(new Uint8Array(32).fill(0xff), 32);
  assert.equal(verifying.verifyPrehashed(message, nonCanonical), false, "S >= L");
});

Deno.test("Ed25519 keys refuse material of another key type", async () => {
  const keys = (await readJson("signing_test_keys.json")).keys;
  assert.throws(
    () => Ed25519SigningKey.fromPkcs8(Uint8Array.fromHex(keys.ECC_NIST_P256.pkcs8)),
    TypeError,
  );
  assert.throws(
    () => Ed25519VerifyingKey.fromSpki(Uint8Array.fromHex(keys.ECC_NIST_P256.spki)),
    TypeError,
  );
});
