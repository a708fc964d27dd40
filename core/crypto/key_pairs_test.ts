import assert from "node:assert/strict";
import {
  DATA_KEY_PAIR_SPECS,
  type DataKeyPairSpec,
  generateKeyPair,
  isRsaSpec,
} from "./key_pairs.ts";
import { decodePkcs8, parseSpki } from "./key_encoding.ts";
import { Sm2Point } from "./sm2_curve.ts";
import {
  opensslCheckMany,
  opensslCheckPrivateKey,
  opensslParsePrivateKey,
  opensslParsePublicKey,
  opensslPublicFromPrivate,
  opensslSignAndVerify,
  runOpenssl,
} from "../../tests/helpers/openssl.ts";
import { rawGenerateAndExport } from "../../tests/bench/key_pair_baseline.ts";

/** RSA_3072 and RSA_4096 take seconds to generate here: they get one test with one key each. */
const FAST_SPECS = DATA_KEY_PAIR_SPECS.filter((s) => s !== "RSA_3072" && s !== "RSA_4096");
const EC_SPECS = FAST_SPECS.filter((s) => !isRsaSpec(s) && s !== "ECC_NIST_EDWARDS25519");

/** Everything OpenSSL can say about one generated pair; fails the test on any mismatch. */
async function assertOpensslAccepts(spec: DataKeyPairSpec): Promise<void> {
  const { publicKey, privateKey } = await generateKeyPair(spec);
  const pkcs8 = privateKey.expose();
  await opensslParsePublicKey(publicKey);
  await opensslParsePrivateKey(pkcs8);
  assert.equal((await opensslPublicFromPrivate(pkcs8)).toHex(), publicKey.toHex());
  const check = await opensslCheckPrivateKey(pkcs8);
  assert.ok(check.ok, check.output);
  assert.ok(await opensslSignAndVerify(pkcs8, publicKey, spec));
  const reencoded = await runOpenssl(
    ["pkcs8", "-topk8", "-nocrypt", "-inform", "DER"].concat([
      "-outform",
      "DER",
    ]),
    { stdin: pkcs8 },
  );
  assert.equal(reencoded.stdout.toHex(), pkcs8.toHex(), "OpenSSL re-encodes the PKCS#8 unchanged");
}

for (const spec of FAST_SPECS) {
  Deno.test(`generateKeyPair ${spec} gives keys OpenSSL parses, checks, matches and signs with`, async () => {
    await assertOpensslAccepts(spec);
  });
}

Deno.test("generateKeyPair RSA_3072 and RSA_4096 give OpenSSL-valid keys of the right size with e = 65537", async () => {
  for (const [spec, bits] of [["RSA_3072", 3072], ["RSA_4096", 4096]] as const) {
    const { publicKey, privateKey } = await generateKeyPair(spec);
    assert.deepEqual(parseSpki(publicKey), {
      type: "RSA",
      modulusBits: bits,
      publicExponent: 65537n,
    });
    assert.match(await opensslParsePublicKey(publicKey), new RegExp(`\\(${bits} bit\\)`));
    assert.equal((await opensslPublicFromPrivate(privateKey.expose())).toHex(), publicKey.toHex());
    assert.ok((await opensslCheckPrivateKey(privateKey.expose())).ok);
  }
});

Deno.test("generateKeyPair RSA_2048 has a 2048-bit modulus and e = 65537, as OpenSSL reads it", async () => {
  const { publicKey } = await generateKeyPair("RSA_2048");
  assert.deepEqual(parseSpki(publicKey), {
    type: "RSA",
    modulusBits: 2048,
    publicExponent: 65537n,
  });
  const text = await opensslParsePublicKey(publicKey);
  assert.match(text, /Public-Key: \(2048 bit\)/);
  assert.match(text, /Exponent: 65537 \(0x10001\)/);
});

Deno.test("generateKeyPair EC keys carry the named curve OpenSSL expects", async () => {
  const expected: Record<string, RegExp> = {
    ECC_NIST_P256: /NIST CURVE: P-256/,
    ECC_NIST_P384: /NIST CURVE: P-384/,
    ECC_NIST_P521: /NIST CURVE: P-521/,
    ECC_SECG_P256K1: /ASN1 OID: secp256k1/,
    SM2: /ASN1 OID: SM2/,
  };
  for (const spec of EC_SPECS) {
    const { publicKey } = await generateKeyPair(spec);
    assert.match(await opensslParsePublicKey(publicKey), expected[spec]!, spec);
  }
});

Deno.test("generateKeyPair gives a different key pair on every call", async () => {
  for (const spec of FAST_SPECS) {
    const [a, b] = await Promise.all([generateKeyPair(spec), generateKeyPair(spec)]);
    assert.notEqual(a.publicKey.toHex(), b.publicKey.toHex(), spec);
    assert.notEqual(a.privateKey.expose().toHex(), b.privateKey.expose().toHex(), spec);
  }
});

Deno.test("generateKeyPair SM2 private keys are in [1, n-2] and match their public point", async () => {
  const n = Sm2Point.Fn.ORDER;
  for (let i = 0; i < 20; i++) {
    const { publicKey, privateKey } = await generateKeyPair("SM2");
    const key = decodePkcs8(privateKey.expose());
    const spki = parseSpki(publicKey);
    if (key.type !== "EC" || spki.type !== "EC") throw new Error("expected EC keys");
    const d = BigInt("0x" + key.scalar.expose().toHex());
    assert.ok(d >= 1n && d <= n - 2n);
    assert.deepEqual(Sm2Point.BASE.multiply(d).toBytes(false), spki.point);
  }
});

const WEBCRYPTO_IMPORT: [DataKeyPairSpec, EcKeyImportParams | RsaHashedImportParams | Algorithm][] =
  [
    ["ECC_NIST_P256", { name: "ECDSA", namedCurve: "P-256" }],
    ["ECC_NIST_P384", { name: "ECDSA", namedCurve: "P-384" }],
    ["ECC_NIST_P521", { name: "ECDSA", namedCurve: "P-521" }],
    ["ECC_NIST_EDWARDS25519", { name: "Ed25519" }],
    ["RSA_2048", { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as RsaHashedImportParams],
  ];

Deno.test("WebCrypto imports the P-256/384/521, Ed25519 and RSA pairs and they sign and verify", async () => {
  const message = new TextEncoder().encode("imported by WebCrypto");
  for (const [spec, algorithm] of WEBCRYPTO_IMPORT) {
    const { publicKey, privateKey } = await generateKeyPair(spec);
    const signer = await crypto.subtle.importKey(
      "pkcs8",
      privateKey.expose().slice(),
      algorithm,
      false,
      [
        "sign",
      ],
    );
    const verifier = await crypto.subtle.importKey("spki", publicKey, algorithm, false, ["verify"]);
    const params = { ...algorithm, hash: "SHA-256" };
    const signature = await crypto.subtle.sign(params, signer, message);
    assert.ok(await crypto.subtle.verify(params, verifier, signature, message), spec);
  }
});

Deno.test("50 pairs of each fast spec all pass OpenSSL's check and match OpenSSL's derived public key", async () => {
  for (const spec of FAST_SPECS.filter((s) => !isRsaSpec(s))) {
    const pairs = await Promise.all(Array.from({ length: 50 }, () => generateKeyPair(spec)));
    const results = await opensslCheckMany(pairs.map((p) => p.privateKey.expose()));
    results.forEach((result, i) => {
      assert.ok(result.valid, `${spec} #${i}`);
      assert.equal(result.derivedPublicKey.toHex(), pairs[i]!.publicKey.toHex(), `${spec} #${i}`);
    });
    assert.equal(new Set(pairs.map((p) => p.publicKey.toHex())).size, pairs.length);
  }
});

Deno.test("opensslCheckMany reports a corrupted key as invalid", async () => {
  const good = await generateKeyPair("ECC_SECG_P256K1");
  const bad = good.privateKey.expose().slice();
  bad[bad.length - 1]! ^= 0x01; // last byte of the [1] public key: no longer on the curve / d·G
  const [first, second] = await opensslCheckMany([good.privateKey.expose(), bad]);
  assert.ok(first?.valid);
  assert.equal(second?.valid, false);
});

Deno.test("generateKeyPair rejects a spec that is not a DataKeyPairSpec", async () => {
  await assert.rejects(
    async () => await generateKeyPair("ECC_NIST_P224" as DataKeyPairSpec),
    RangeError,
  );
  await assert.rejects(
    async () => await generateKeyPair("toString" as DataKeyPairSpec),
    RangeError,
  );
});

Deno.test("rawGenerateAndExport completes for every fast spec", async () => {
  for (const spec of FAST_SPECS) await rawGenerateAndExport(spec);
});

Deno.test("the private key never prints", async () => {
  const { privateKey } = await generateKeyPair("ECC_NIST_P256");
  assert.equal(JSON.stringify({ privateKey }), '{"privateKey":"[redacted]"}');
  assert.equal(Deno.inspect(privateKey), "[redacted]");
});
