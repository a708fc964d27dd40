import assert from "node:assert/strict";
import { InvalidCiphertextException } from "../errors.ts";
import {
  isRsaOaepAlgorithm,
  type RsaOaepAlgorithm,
  RsaOaepKey,
  rsaOaepMaxPlaintextBytes,
} from "./rsa_oaep.ts";

interface OaepCase {
  tcId: number;
  msg: string;
  ct: string;
  label: string;
  result: "valid" | "invalid" | "acceptable";
}
interface OaepGroup {
  keySize: number;
  sha: string;
  mgfSha: string;
  privateKeyPkcs8: string;
  tests: OaepCase[];
}

async function readJson(file: string) {
  return JSON.parse(await Deno.readTextFile(new URL(`./testdata/${file}`, import.meta.url)));
}

async function testKeyPkcs8(spec: "RSA_2048" | "RSA_3072" | "RSA_4096"): Promise<Uint8Array> {
  return Uint8Array.fromHex((await readJson("signing_test_keys.json")).keys[spec].pkcs8);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected a rejection");
}

/**
 * Every case of a Wycheproof RSA-OAEP file: unlabelled valid cases decrypt to their message,
 * invalid ones fail with InvalidCiphertextException, and labelled ones fail too, because KMS's
 * label is always empty.
 */
async function checkWycheproof(file: string, algorithm: RsaOaepAlgorithm): Promise<number> {
  let checked = 0;
  for (const group of (await readJson(file)).testGroups as OaepGroup[]) {
    const hash = algorithm === "RSAES_OAEP_SHA_1" ? "SHA-1" : "SHA-256";
    assert.deepEqual([group.sha, group.mgfSha], [hash, hash], "AWS's OAEP: one hash for both");
    const key = await RsaOaepKey.fromPkcs8(Uint8Array.fromHex(group.privateKeyPkcs8), algorithm);
    assert.equal(key.modulusBytes * 8, group.keySize);
    for (const test of group.tests) {
      assert.notEqual(test.result, "acceptable", `tcId ${test.tcId}: no choice in ACCEPTABLE.md`);
      const ciphertext = Uint8Array.fromHex(test.ct);
      if (test.result === "valid" && test.label === "") {
        const plaintext = await key.decrypt(ciphertext);
        assert.equal(plaintext.expose().toHex(), test.msg, `tcId ${test.tcId}`);
      } else {
        const error = await rejection(key.decrypt(ciphertext));
        assert.ok(error instanceof InvalidCiphertextException, `tcId ${test.tcId}`);
        assert.equal(error.message, "", "no detail about why decryption failed");
      }
      checked++;
    }
  }
  return checked;
}

Deno.test("wycheproof RSA-OAEP 2048 SHA-1 with MGF1 SHA-1", async () => {
  assert.equal(
    await checkWycheproof("rsa_oaep_2048_sha1_mgf1sha1_test.json", "RSAES_OAEP_SHA_1"),
    36,
  );
});

Deno.test("wycheproof RSA-OAEP 2048 SHA-256 with MGF1 SHA-256", async () => {
  assert.equal(
    await checkWycheproof("rsa_oaep_2048_sha256_mgf1sha256_test.json", "RSAES_OAEP_SHA_256"),
    37,
  );
});

Deno.test("wycheproof RSA-OAEP 3072 SHA-256 with MGF1 SHA-256", async () => {
  assert.equal(
    await checkWycheproof("rsa_oaep_3072_sha256_mgf1sha256_test.json", "RSAES_OAEP_SHA_256"),
    37,
  );
});

Deno.test("wycheproof RSA-OAEP 4096 SHA-256 with MGF1 SHA-256", async () => {
  assert.equal(
    await checkWycheproof("rsa_oaep_4096_sha256_mgf1sha256_test.json", "RSAES_OAEP_SHA_256"),
    37,
  );
});

Deno.test("rsaOaepMaxPlaintextBytes gives AWS's published plaintext limits", () => {
  const limits: [number, RsaOaepAlgorithm, number][] = [
    [2048, "RSAES_OAEP_SHA_1", 214],
    [2048, "RSAES_OAEP_SHA_256", 190],
    [3072, "RSAES_OAEP_SHA_1", 342],
    [3072, "RSAES_OAEP_SHA_256", 318],
    [4096, "RSAES_OAEP_SHA_1", 470],
    [4096, "RSAES_OAEP_SHA_256", 446],
  ];
  for (const [bits, algorithm, limit] of limits) {
    assert.equal(rsaOaepMaxPlaintextBytes(bits, algorithm), limit, `${bits} ${algorithm}`);
  }
});

Deno.test("isRsaOaepAlgorithm accepts exactly the two RSAES_OAEP algorithms", () => {
  assert.ok(isRsaOaepAlgorithm("RSAES_OAEP_SHA_1"));
  assert.ok(isRsaOaepAlgorithm("RSAES_OAEP_SHA_256"));
  for (const other of ["SYMMETRIC_DEFAULT", "SM2PKE", "toString", "RSAES_OAEP_SHA_384"]) {
    assert.ok(!isRsaOaepAlgorithm(other), other);
  }
});

Deno.test("RsaOaepKey round-trips the longest plaintext and refuses one byte more, for every modulus", async () => {
  for (const spec of ["RSA_2048", "RSA_3072", "RSA_4096"] as const) {
    const pkcs8 = await testKeyPkcs8(spec);
    for (const algorithm of ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"] as const) {
      const key = await RsaOaepKey.fromPkcs8(pkcs8, algorithm);
      assert.equal(key.modulusBytes, Number(spec.slice(4)) / 8);
      const longest = crypto.getRandomValues(new Uint8Array(key.maxPlaintextBytes));
      const ciphertext = await key.encrypt(longest);
      assert.equal(ciphertext.length, key.modulusBytes);
      assert.deepEqual((await key.decrypt(ciphertext)).expose(), longest);
      await assert.rejects(key.encrypt(new Uint8Array(key.maxPlaintextBytes + 1)), RangeError);
    }
  }
});

Deno.test("RsaOaepKey encryption is randomised and a ciphertext opens only with its own hash", async () => {
  const pkcs8 = await testKeyPkcs8("RSA_2048");
  const sha1 = await RsaOaepKey.fromPkcs8(pkcs8, "RSAES_OAEP_SHA_1");
  const sha256 = await RsaOaepKey.fromPkcs8(pkcs8, "RSAES_OAEP_SHA_256");
  const message = new TextEncoder().encode("same message");
  const first = await sha256.encrypt(message);
  assert.notDeepEqual(await sha256.encrypt(message), first);
  assert.ok(await rejection(sha1.decrypt(first)) instanceof InvalidCiphertextException);
});

Deno.test("RsaOaepKey refuses a ciphertext of the wrong length or with a flipped byte", async () => {
  const key = await RsaOaepKey.fromPkcs8(await testKeyPkcs8("RSA_2048"), "RSAES_OAEP_SHA_256");
  const ciphertext = await key.encrypt(new Uint8Array(32).fill(9));
  const flipped = ciphertext.slice();
  flipped[100] = flipped[100]! ^ 0x01;
  for (const bad of [ciphertext.subarray(1), Uint8Array.of(0, ...ciphertext), flipped]) {
    assert.ok(await rejection(key.decrypt(bad)) instanceof InvalidCiphertextException);
  }
});

Deno.test("OpenSSL decrypts what RsaOaepKey encrypts, with both OAEP hashes", async () => {
  const pkcs8 = await testKeyPkcs8("RSA_2048");
  const dir = await Deno.makeTempDir({ prefix: "rsa_oaep_" });
  try {
    await Deno.writeFile(`${dir}/key.der`, pkcs8);
    for (
      const [algorithm, md] of [["RSAES_OAEP_SHA_1", "sha1"], ["RSAES_OAEP_SHA_256", "sha256"]]
    ) {
      const key = await RsaOaepKey.fromPkcs8(pkcs8, algorithm as RsaOaepAlgorithm);
      const message = new TextEncoder().encode(`encrypted with ${algorithm}`);
      await Deno.writeFile(`${dir}/ct`, await key.encrypt(message));
      const { code, stdout, stderr } = await new Deno.Command("openssl", {
        args: ["pkeyutl", "-decrypt", "-inkey", "key.der", "-keyform", "DER", "-in", "ct"]
          .concat(["-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", `rsa_oaep_md:${md}`])
          .concat(["-pkeyopt", `rsa_mgf1_md:${md}`]),
        cwd: dir,
      }).output();
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      assert.deepEqual(stdout, message);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
