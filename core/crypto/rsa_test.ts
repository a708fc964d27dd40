import assert from "node:assert/strict";
import { documentedChoices } from "../../tests/helpers/acceptable.ts";
import { createHash, createPublicKey } from "node:crypto";
import { rsaDigestBytes, type RsaSigningAlgorithm, RsaSigningKey, RsaVerifyingKey } from "./rsa.ts";

interface SignatureCase {
  tcId: number;
  msg: string;
  sig: string;
  flags: string[];
  result: "valid" | "invalid" | "acceptable";
}
interface SignatureGroup {
  keySize: number;
  sha: string;
  mgfSha?: string;
  sLen?: number;
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

const SIGNATURE_FILE = /^rsa_(pss|signature)_(\d+)_sha(\d+)_(?:mgf1_(\d+)_)?test\.json$/;

/** The AWS algorithm and key size of a Wycheproof RSA signature file, from its name. */
function suiteOf(file: string) {
  const [, scheme, bits, sha] = SIGNATURE_FILE.exec(file)!;
  const algorithm = `RSASSA_${scheme === "pss" ? "PSS" : "PKCS1_V1_5"}_SHA_${sha}`;
  const name = scheme === "pss"
    ? `RSASSA-PSS ${bits} SHA-${sha} MGF1 salt ${Number(sha) / 8}`
    : `RSASSA-PKCS1-v1_5 ${bits} SHA-${sha}`;
  return { algorithm: algorithm as RsaSigningAlgorithm, bits: Number(bits), name };
}

/** Each file with its number of cases: RSASSA-PSS for every (modulus, hash) file there is. */
const WYCHEPROOF: ReadonlyArray<[string, number]> = [
  ["rsa_pss_2048_sha256_mgf1_32_test.json", 108],
  ["rsa_pss_2048_sha384_mgf1_48_test.json", 141],
  ["rsa_pss_3072_sha256_mgf1_32_test.json", 108],
  ["rsa_pss_4096_sha256_mgf1_32_test.json", 108],
  ["rsa_pss_4096_sha384_mgf1_48_test.json", 141],
  ["rsa_pss_4096_sha512_mgf1_64_test.json", 179],
  ["rsa_signature_2048_sha256_test.json", 259],
  ["rsa_signature_2048_sha384_test.json", 258],
  ["rsa_signature_2048_sha512_test.json", 259],
  ["rsa_signature_3072_sha256_test.json", 259],
  ["rsa_signature_3072_sha384_test.json", 259],
  ["rsa_signature_3072_sha512_test.json", 260],
  ["rsa_signature_4096_sha256_test.json", 258],
  ["rsa_signature_4096_sha384_test.json", 259],
  ["rsa_signature_4096_sha512_test.json", 259],
];

for (const [file, count] of WYCHEPROOF) {
  const { algorithm, bits, name } = suiteOf(file);
  Deno.test(`wycheproof ${name}: valid cases verify, invalid fail, acceptable ones follow ACCEPTABLE.md, by message and digest`, async (t) => {
    const choices = await documentedChoices(file);
    const seen = new Map<string, number>();
    let checked = 0;
    for (const group of (await readJson(file)).testGroups as SignatureGroup[]) {
      // The group must use AWS's parameters: the file's hash, MGF1 with it, salt = hash length.
      assert.equal(group.sha, `SHA-${rsaDigestBytes(algorithm) * 8}`);
      assert.equal(group.keySize, bits);
      if (algorithm.startsWith("RSASSA_PSS")) {
        assert.equal(group.mgfSha, group.sha);
        assert.equal(group.sLen, rsaDigestBytes(algorithm));
      }
      const key = RsaVerifyingKey.fromSpki(Uint8Array.fromHex(group.publicKeyDer), group.keySize);
      for (const test of group.tests) {
        const msg = Uint8Array.fromHex(test.msg);
        const sig = Uint8Array.fromHex(test.sig);
        let want = test.result === "valid";
        if (test.result === "acceptable") {
          want = test.flags.map((flag) => {
            seen.set(flag, (seen.get(flag) ?? 0) + 1);
            const choice = choices.get(flag);
            assert.ok(choice, `tcId ${test.tcId}: ACCEPTABLE.md has no row for ${file} ${flag}`);
            return choice.accepts;
          }).every(Boolean);
        }
        assert.equal(key.verifyMessage(algorithm, msg, sig), want, `tcId ${test.tcId} (message)`);
        const digest = hashOf(algorithm, msg);
        assert.equal(key.verifyDigest(algorithm, digest, sig), want, `tcId ${test.tcId} (digest)`);
        checked++;
      }
    }
    assert.equal(checked, count);
    assert.deepEqual([...seen.keys()].sort(), [...choices.keys()].sort(), "one row per flag");
    for (const [flag, choice] of choices) {
      assert.equal(seen.get(flag), choice.cases, `ACCEPTABLE.md case count of ${flag}`);
      assert.ok(choice.assertedBy.includes(t.name), `ACCEPTABLE.md names this test for ${flag}`);
    }
  });
}

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
