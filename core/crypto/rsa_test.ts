import assert from "node:assert/strict";
import { createHash, createPublicKey } from "node:crypto";
import { rsaDigestBytes, type RsaSigningAlgorithm, RsaSigningKey, RsaVerifyingKey } from "./rsa.ts";

interface SignatureCase {
  tcId: number;
  msg: string;
  sig: string;
  result: "valid" | "invalid" | "acceptable";
}
interface SignatureGroup {
  keySize: number;
  publicKeyDer: string;
  tests: SignatureCase[];
}

async function readJson(file: string) {
  return JSON.parse(await Deno.readTextFile(new URL(`./testdata/${file}`, import.meta.url)));
}

async function testKey(spec: "RSA_2048" | "RSA_3072" | "RSA_4096") {
  const { pkcs8, spki } = (await readJson("signing_test_keys.json")).keys[spec];
  const bits = Number(spec.slice(4));
  return {
    signing: RsaSigningKey.fromPkcs8(Uint8Array.fromHex(pkcs8), bits),
    verifying: RsaVerifyingKey.fromSpki(Uint8Array.fromHex(spki), bits),
  };
}

function hashOf(algorithm: RsaSigningAlgorithm, message: Uint8Array): Uint8Array {
  const name = `sha${rsaDigestBytes(algorithm) * 8}`;
  return new Uint8Array(createHash(name).update(message).digest());
}

/** Runs a Wycheproof file through both the message and the digest verifier. */
async function checkWycheproof(file: string, algorithm: RsaSigningAlgorithm) {
  let checked = 0;
  for (const group of (await readJson(file)).testGroups as SignatureGroup[]) {
    const key = RsaVerifyingKey.fromSpki(Uint8Array.fromHex(group.publicKeyDer), group.keySize);
    for (const test of group.tests) {
      const msg = Uint8Array.fromHex(test.msg);
      const sig = Uint8Array.fromHex(test.sig);
      const byMessage = key.verifyMessage(algorithm, msg, sig);
      const byDigest = key.verifyDigest(algorithm, hashOf(algorithm, msg), sig);
      if (test.result === "acceptable") {
        assert.equal(byDigest, false, `tcId ${test.tcId}: digest path accepts only DER DigestInfo`);
      } else {
        assert.equal(byMessage, test.result === "valid", `tcId ${test.tcId} (message)`);
        assert.equal(byDigest, test.result === "valid", `tcId ${test.tcId} (digest)`);
      }
      checked++;
    }
  }
  return checked;
}

Deno.test("wycheproof RSASSA-PSS 2048 SHA-256 MGF1 salt 32: valid cases verify, invalid fail, message and digest", async () => {
  assert.equal(
    await checkWycheproof("rsa_pss_2048_sha256_mgf1_32_test.json", "RSASSA_PSS_SHA_256"),
    108,
  );
});

Deno.test("wycheproof RSASSA-PSS 4096 SHA-512 MGF1 salt 64: valid cases verify, invalid fail, message and digest", async () => {
  assert.equal(
    await checkWycheproof("rsa_pss_4096_sha512_mgf1_64_test.json", "RSASSA_PSS_SHA_512"),
    179,
  );
});

Deno.test("wycheproof RSASSA-PKCS1-v1_5 2048 SHA-256: valid cases verify, invalid fail, message and digest", async () => {
  assert.equal(
    await checkWycheproof("rsa_signature_2048_sha256_test.json", "RSASSA_PKCS1_V1_5_SHA_256"),
    259,
  );
});

const ALGORITHMS: RsaSigningAlgorithm[] = [
  "RSASSA_PSS_SHA_256",
  "RSASSA_PSS_SHA_384",
  "RSASSA_PSS_SHA_512",
  "RSASSA_PKCS1_V1_5_SHA_256",
  "RSASSA_PKCS1_V1_5_SHA_384",
  "RSASSA_PKCS1_V1_5_SHA_512",
];

Deno.test("an RSA signature of SHA-x(M) as a digest verifies as a signature of M, and the reverse", async () => {
  const { signing, verifying } = await testKey("RSA_2048");
  const message = new TextEncoder().encode("a message signed one way and verified the other");
  for (const algorithm of ALGORITHMS) {
    const digest = hashOf(algorithm, message);
    const fromDigest = signing.signDigest(algorithm, digest);
    const fromMessage = signing.signMessage(algorithm, message);
    assert.equal(verifying.verifyMessage(algorithm, message, fromDigest), true, algorithm);
    assert.equal(verifying.verifyDigest(algorithm, digest, fromMessage), true, algorithm);
    assert.equal(verifying.verifyDigest(algorithm, digest, fromDigest), true, algorithm);
  }
});

Deno.test("PKCS#1 v1.5 signatures are deterministic and PSS signatures are salted", async () => {
  const { signing } = await testKey("RSA_2048");
  const digest = new Uint8Array(32).fill(1);
  const pkcs1 = signing.signDigest("RSASSA_PKCS1_V1_5_SHA_256", digest);
  assert.deepEqual(signing.signDigest("RSASSA_PKCS1_V1_5_SHA_256", digest), pkcs1);
  const pss = signing.signDigest("RSASSA_PSS_SHA_256", digest);
  assert.notDeepEqual(signing.signDigest("RSASSA_PSS_SHA_256", digest), pss);
});

Deno.test("RSA 3072 and 4096 keys sign digests that verify as messages", async () => {
  for (const spec of ["RSA_3072", "RSA_4096"] as const) {
    const { signing, verifying } = await testKey(spec);
    const message = new Uint8Array(300).fill(0x42);
    for (const algorithm of ["RSASSA_PSS_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512"] as const) {
      const signature = signing.signDigest(algorithm, hashOf(algorithm, message));
      assert.equal(signature.length, Number(spec.slice(4)) / 8);
      assert.equal(
        verifying.verifyMessage(algorithm, message, signature),
        true,
        `${spec} ${algorithm}`,
      );
    }
  }
});

Deno.test("RSA verification is false for a changed message, a wrong algorithm or malformed signature bytes", async () => {
  const { signing, verifying } = await testKey("RSA_2048");
  const message = new TextEncoder().encode("original");
  const digest = hashOf("RSASSA_PSS_SHA_256", message);
  const signature = signing.signMessage("RSASSA_PSS_SHA_256", message);
  const other = hashOf("RSASSA_PSS_SHA_256", new TextEncoder().encode("originaL"));
  assert.equal(verifying.verifyDigest("RSASSA_PSS_SHA_256", other, signature), false);
  assert.equal(verifying.verifyDigest("RSASSA_PKCS1_V1_5_SHA_256", digest, signature), false);
  const spki = Uint8Array.fromHex((await readJson("signing_test_keys.json")).keys.RSA_2048.spki);
  const jwk = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" })
    .export({ format: "jwk" });
  const modulus = Uint8Array.fromBase64(jwk.n!, { alphabet: "base64url" });
  const malformed = [
    new Uint8Array(0),
    signature.subarray(1),
    new Uint8Array([...signature, 0]),
    new Uint8Array(256).fill(0xff),
    modulus,
  ];
  for (const bad of malformed) {
    for (const algorithm of ALGORITHMS) {
      assert.equal(verifying.verifyMessage(algorithm, message, bad), false, algorithm);
      assert.equal(verifying.verifyDigest(algorithm, hashOf(algorithm, message), bad), false);
    }
  }
});

Deno.test("RSA keys refuse a digest of the wrong length and key material of another size", async () => {
  const { signing, verifying } = await testKey("RSA_2048");
  assert.throws(() => signing.signDigest("RSASSA_PSS_SHA_384", new Uint8Array(32)), RangeError);
  assert.throws(
    () =>
      verifying.verifyDigest("RSASSA_PKCS1_V1_5_SHA_256", new Uint8Array(64), new Uint8Array(256)),
    RangeError,
  );
  const keys = (await readJson("signing_test_keys.json")).keys;
  assert.throws(
    () => RsaSigningKey.fromPkcs8(Uint8Array.fromHex(keys.RSA_2048.pkcs8), 3072),
    TypeError,
  );
  assert.throws(
    () => RsaVerifyingKey.fromSpki(Uint8Array.fromHex(keys.RSA_4096.spki), 2048),
    TypeError,
  );
  assert.throws(() => RsaVerifyingKey.fromSpki(Uint8Array.fromHex(keys.ECC_NIST_P256.spki), 2048));
});
