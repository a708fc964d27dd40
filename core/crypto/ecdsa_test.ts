import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { p256 } from "@noble/curves/nist.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { type EcdsaCurve, ecdsaDigestBytes, EcdsaSigningKey, EcdsaVerifyingKey } from "./ecdsa.ts";

interface EcdsaCase {
  tcId: number;
  msg: string;
  sig: string;
  result: "valid" | "invalid" | "acceptable";
}
interface EcdsaGroup {
  publicKeyDer: string;
  tests: EcdsaCase[];
}

async function readJson(file: string) {
  return JSON.parse(await Deno.readTextFile(new URL(`./testdata/${file}`, import.meta.url)));
}

const SPEC_OF: Record<EcdsaCurve, string> = {
  "P-256": "ECC_NIST_P256",
  "P-384": "ECC_NIST_P384",
  "P-521": "ECC_NIST_P521",
  "secp256k1": "ECC_SECG_P256K1",
};

async function testKey(curve: EcdsaCurve) {
  const { pkcs8, spki } = (await readJson("signing_test_keys.json")).keys[SPEC_OF[curve]];
  return {
    signing: EcdsaSigningKey.fromPkcs8(curve, Uint8Array.fromHex(pkcs8)),
    verifying: EcdsaVerifyingKey.fromSpki(curve, Uint8Array.fromHex(spki)),
  };
}

function hashOf(curve: EcdsaCurve, message: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(`sha${ecdsaDigestBytes(curve) * 8}`).update(message).digest());
}

const SUITES: ReadonlyArray<[EcdsaCurve, string, number]> = [
  ["P-256", "ecdsa_secp256r1_sha256_test.json", 484],
  ["P-384", "ecdsa_secp384r1_sha384_test.json", 504],
  ["P-521", "ecdsa_secp521r1_sha512_test.json", 542],
  ["secp256k1", "ecdsa_secp256k1_sha256_test.json", 476],
];

for (const [curve, file, count] of SUITES) {
  Deno.test(`wycheproof ECDSA ${curve}: valid DER signatures verify and invalid ones fail, message and digest`, async () => {
    let checked = 0;
    for (const group of (await readJson(file)).testGroups as EcdsaGroup[]) {
      const key = EcdsaVerifyingKey.fromSpki(curve, Uint8Array.fromHex(group.publicKeyDer));
      for (const test of group.tests) {
        assert.notEqual(test.result, "acceptable", `tcId ${test.tcId}: no choice in ACCEPTABLE.md`);
        const msg = Uint8Array.fromHex(test.msg);
        const sig = Uint8Array.fromHex(test.sig);
        const want = test.result === "valid";
        assert.equal(key.verifyMessage(msg, sig), want, `tcId ${test.tcId} (message)`);
        assert.equal(key.verifyDigest(hashOf(curve, msg), sig), want, `tcId ${test.tcId} (digest)`);
        checked++;
      }
    }
    assert.equal(checked, count);
  });
}

for (const [curve] of SUITES) {
  Deno.test(`ECDSA ${curve}: a signature of the digest verifies as one of the message, and the reverse`, async () => {
    const { signing, verifying } = await testKey(curve);
    const message = new TextEncoder().encode(`signed on ${curve}`);
    const digest = hashOf(curve, message);
    const fromDigest = signing.signDigest(digest);
    const fromMessage = signing.signMessage(message);
    assert.equal(verifying.verifyMessage(message, fromDigest), true);
    assert.equal(verifying.verifyDigest(digest, fromMessage), true);
    assert.equal(verifying.verifyMessage(new TextEncoder().encode("other"), fromMessage), false);
    assert.equal(fromDigest[0], 0x30, "DER SEQUENCE");
  });
}

Deno.test("ECDSA verification accepts a high-S signature, as AWS does not require low S", async () => {
  for (const curve of ["P-256", "secp256k1"] as const) {
    const { signing, verifying } = await testKey(curve);
    const n = (curve === "P-256" ? p256 : secp256k1).Point.CURVE().n;
    const Signature = curve === "P-256" ? p256.Signature : secp256k1.Signature;
    const digest = hashOf(curve, new TextEncoder().encode("malleable"));
    const signature = Signature.fromBytes(signing.signDigest(digest), "der");
    const flipped = new Signature(signature.r, n - signature.s).toBytes("der");
    for (const der of [signature.toBytes("der"), flipped]) {
      assert.equal(verifying.verifyDigest(digest, der), true, curve);
    }
  }
});

Deno.test("ECDSA signatures of the same digest differ, as the nonces are randomised", async () => {
  const { signing } = await testKey("P-384");
  const digest = new Uint8Array(48).fill(5);
  assert.notDeepEqual(signing.signDigest(digest), signing.signDigest(digest));
});

Deno.test("ECDSA verification is false for malformed signature bytes", async () => {
  const { signing, verifying } = await testKey("P-256");
  const message = new Uint8Array(3);
  const der = signing.signMessage(message);
  const compact = p256.Signature.fromBytes(der, "der").toBytes("compact");
  for (
    const bad of [new Uint8Array(0), der.subarray(0, 20), new Uint8Array([...der, 0]), compact]
  ) {
    assert.equal(verifying.verifyMessage(message, bad), false);
    assert.equal(verifying.verifyDigest(hashOf("P-256", message), bad), false);
  }
});

Deno.test("ECDSA keys refuse a digest of the wrong length and a key on another curve", async () => {
  const { signing, verifying } = await testKey("P-521");
  assert.throws(() => signing.signDigest(new Uint8Array(66)), RangeError);
  assert.throws(() => verifying.verifyDigest(new Uint8Array(32), new Uint8Array(8)), RangeError);
  const keys = (await readJson("signing_test_keys.json")).keys;
  assert.throws(
    () => EcdsaSigningKey.fromPkcs8("P-384", Uint8Array.fromHex(keys.ECC_NIST_P256.pkcs8)),
    TypeError,
  );
  assert.throws(
    () => EcdsaVerifyingKey.fromSpki("secp256k1", Uint8Array.fromHex(keys.ECC_NIST_P256.spki)),
    TypeError,
  );
  assert.throws(() => EcdsaVerifyingKey.fromSpki("P-256", Uint8Array.fromHex(keys.RSA_2048.spki)));
});
