/**
 * Tests for ECDH `deriveSharedSecret`: Wycheproof's SPKI-encoded ECDH vectors
 * for P-256, P-384 and P-521 (their `acceptable` cases as testdata/ACCEPTABLE.md
 * records), OpenSSL as the referee for SM2, and the validation rules for the
 * peer public key.
 *
 * OpenSSL 3.0 refuses `pkeyutl -derive` on keys on the SM2 curve (it loads
 * them as the SM2 key type, which has no key exchange), even with explicit
 * curve parameters, because it recognises the SM2 parameters. The test
 * therefore gives OpenSSL explicit parameters of the same curve with the
 * generator negated (G' = -G): OpenSSL no longer recognises them, treats the
 * keys as plain EC and derives. The points are still points of the SM2 group,
 * and the ECDH result x([d]Q) does not involve the generator, so OpenSSL's
 * answer must equal ours for the same d and Q re-encoded on the named SM2 curve.
 *
 * @module
 */
import assert from "node:assert/strict";
import { documentedChoices } from "../../tests/helpers/acceptable.ts";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import { PrivateKey, PrivateKeyInfo } from "@peculiar/asn1-pkcs8";
import { ECParameters, ECPrivateKey, id_ecPublicKey } from "@peculiar/asn1-ecc";
import { p256 } from "@noble/curves/nist.js";
import { ValidationException } from "../errors.ts";
import { SecretBytes } from "../secret.ts";
import { SM2_CURVE, Sm2Point } from "./sm2_curve.ts";
import { deriveSharedSecret, type EcdhCurve } from "./ecdh.ts";

const OIDS: Record<EcdhCurve, string> = {
  ECC_NIST_P256: "1.2.840.10045.3.1.7",
  ECC_NIST_P384: "1.3.132.0.34",
  ECC_NIST_P521: "1.3.132.0.35",
  SM2: "1.2.156.10197.1.301",
};
const FIELD_BYTES: Record<EcdhCurve, number> = {
  ECC_NIST_P256: 32,
  ECC_NIST_P384: 48,
  ECC_NIST_P521: 66,
  SM2: 32,
};

type WycheproofEcdhTest = {
  tcId: number;
  flags: string[];
  public: string;
  private: string;
  shared: string;
  result: "valid" | "invalid" | "acceptable";
};

function ecAlgorithm(curve: EcdhCurve): AlgorithmIdentifier {
  const parameters = AsnConvert.serialize(new ECParameters({ namedCurve: OIDS[curve] }));
  return new AlgorithmIdentifier({ algorithm: id_ecPublicKey, parameters });
}

/** PKCS#8 (RFC 5958) of an EC private scalar on a named curve, without the optional public key. */
function ecPkcs8(curve: EcdhCurve, scalar: bigint): SecretBytes {
  const d = Uint8Array.fromHex(scalar.toString(16).padStart(FIELD_BYTES[curve] * 2, "0"));
  const ecKey = new ECPrivateKey({ version: 1, privateKey: new OctetString(d) });
  const info = new PrivateKeyInfo({
    privateKeyAlgorithm: ecAlgorithm(curve),
    privateKey: new PrivateKey(AsnConvert.serialize(ecKey)),
  });
  return new SecretBytes(new Uint8Array(AsnConvert.serialize(info)));
}

/** SPKI (RFC 5480) of a SEC1 point on a named curve. */
function ecSpki(curve: EcdhCurve, point: Uint8Array): Uint8Array {
  const info = new SubjectPublicKeyInfo({
    algorithm: ecAlgorithm(curve),
    subjectPublicKey: point.slice().buffer,
  });
  return new Uint8Array(AsnConvert.serialize(info));
}

/** Resolves to the shared secret in hex, or to the ValidationException it was refused with. */
async function derive(
  curve: EcdhCurve,
  pkcs8: SecretBytes,
  spki: Uint8Array,
): Promise<string | ValidationException> {
  try {
    return (await deriveSharedSecret(curve, pkcs8, spki)).expose().toHex();
  } catch (error) {
    if (error instanceof ValidationException) return error;
    throw error;
  }
}

/** Runs `openssl`; rejects when it fails. */
async function openssl(args: string[]): Promise<Uint8Array> {
  const { code, stdout, stderr } = await new Deno.Command("openssl", { args }).output();
  if (code !== 0) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
  return stdout;
}

// ecdh_secp256k1_test.json does not apply: AWS has no key agreement on ECC_SECG_P256K1.
const WYCHEPROOF: [EcdhCurve, string][] = [
  ["ECC_NIST_P256", "ecdh_secp256r1_test.json"],
  ["ECC_NIST_P384", "ecdh_secp384r1_test.json"],
  ["ECC_NIST_P521", "ecdh_secp521r1_test.json"],
];

for (const [curve, file] of WYCHEPROOF) {
  Deno.test(`wycheproof ECDH ${curve}: valid cases derive, invalid ones are refused, acceptable ones follow ACCEPTABLE.md`, async (t) => {
    const vectors = JSON.parse(
      await Deno.readTextFile(new URL(`./testdata/${file}`, import.meta.url)),
    );
    const tests: WycheproofEcdhTest[] = vectors.testGroups.flatMap((g: { tests: unknown[] }) =>
      g.tests
    );
    assert.equal(tests.length, vectors.numberOfTests);
    const choices = await documentedChoices(file);
    const seen = new Map<string, number>();
    for (const test of tests) {
      const label = `tcId ${test.tcId} ${test.flags.join(",")}`;
      const outcome = await derive(
        curve,
        ecPkcs8(curve, BigInt(`0x${test.private}`)),
        Uint8Array.fromHex(test.public),
      );
      let accepted = test.result === "valid";
      if (test.result === "acceptable") {
        // Accepted only when every flag of the case says so in ACCEPTABLE.md.
        accepted = test.flags.map((flag) => {
          seen.set(flag, (seen.get(flag) ?? 0) + 1);
          const choice = choices.get(flag);
          assert.ok(choice, `${label}: ACCEPTABLE.md has no row for ${file} ${flag}`);
          return choice.accepts;
        }).every(Boolean);
      }
      if (accepted) {
        assert.equal(outcome, test.shared, label);
        assert.equal(test.shared.length, FIELD_BYTES[curve] * 2, label);
      } else {
        assert.ok(outcome instanceof ValidationException, label);
        if (test.flags.includes("UnnamedCurve")) assert.match(outcome.message, /name its curve/);
      }
    }
    assert.deepEqual([...seen.keys()].sort(), [...choices.keys()].sort(), "one row per flag");
    for (const [flag, choice] of choices) {
      assert.equal(seen.get(flag), choice.cases, `ACCEPTABLE.md case count of ${flag}`);
      assert.ok(choice.assertedBy.includes(t.name), `ACCEPTABLE.md names this test for ${flag}`);
    }
  });
}

Deno.test("deriveSharedSecret on SM2 matches openssl pkeyutl -derive for the same scalars and points", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ecdh_test_" });
  try {
    const explicitDer = await openssl([
      "ecparam",
      "-name",
      "SM2",
      "-param_enc",
      "explicit",
      "-outform",
      "DER",
    ]);
    const gy = Uint8Array.fromHex(SM2_CURVE.Gy.toString(16).padStart(64, "0"));
    const negGy = Uint8Array.fromHex((SM2_CURVE.p - SM2_CURVE.Gy).toString(16).padStart(64, "0"));
    const at = explicitDer.toHex().indexOf(gy.toHex()) / 2;
    assert.ok(Number.isInteger(at) && at > 0, "the explicit parameters contain Gy");
    explicitDer.set(negGy, at);
    await Deno.writeFile(`${dir}/params.der`, explicitDer);
    await openssl([
      "ecparam",
      "-inform",
      "DER",
      "-in",
      `${dir}/params.der`,
      "-out",
      `${dir}/params.pem`,
    ]);

    for (let pair = 0; pair < 3; pair++) {
      const keys = await Promise.all(["a", "b"].map(async (name) => {
        const keyFile = `${dir}/${pair}${name}.pem`;
        const pubFile = `${dir}/${pair}${name}.pub.pem`;
        await openssl(["genpkey", "-paramfile", `${dir}/params.pem`, "-out", keyFile]);
        await openssl(["pkey", "-in", keyFile, "-pubout", "-out", pubFile]);
        const der = await openssl(["pkey", "-in", keyFile, "-outform", "DER"]);
        const pubDer = await openssl(["pkey", "-in", keyFile, "-pubout", "-outform", "DER"]);
        return { keyFile, pubFile, der, pubDer };
      }));
      const [a, b] = keys as [typeof keys[0], typeof keys[0]];
      const expected = await openssl([
        "pkeyutl",
        "-derive",
        "-inkey",
        a.keyFile,
        "-peerkey",
        b.pubFile,
      ]);
      assert.equal(expected.length, 32);

      const scalarOf = (der: Uint8Array) => {
        // `openssl pkey -outform DER` writes explicit-parameter EC keys as SEC1 ECPrivateKey.
        const key = AsnConvert.parse(der, ECPrivateKey);
        return BigInt(`0x${new Uint8Array(key.privateKey.buffer).toHex()}`);
      };
      const pointOf = (der: Uint8Array) =>
        new Uint8Array(AsnConvert.parse(der, SubjectPublicKeyInfo).subjectPublicKey);
      const ours = await deriveSharedSecret(
        "SM2",
        ecPkcs8("SM2", scalarOf(a.der)),
        ecSpki("SM2", pointOf(b.pubDer)),
      );
      assert.equal(ours.expose().toHex(), expected.toHex(), `pair ${pair}`);
      const reverse = await deriveSharedSecret(
        "SM2",
        ecPkcs8("SM2", scalarOf(b.der)),
        ecSpki("SM2", pointOf(a.pubDer)),
      );
      assert.equal(reverse.expose().toHex(), expected.toHex(), `pair ${pair} reversed`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deriveSharedSecret on SM2 accepts a compressed peer point and gives the same secret", async () => {
  const d = 0x1234567890abcdefn;
  const peer = Sm2Point.BASE.multiply(0xfedcba0987654321n);
  const uncompressed = await deriveSharedSecret(
    "SM2",
    ecPkcs8("SM2", d),
    ecSpki("SM2", peer.toBytes(false)),
  );
  const compressed = await deriveSharedSecret(
    "SM2",
    ecPkcs8("SM2", d),
    ecSpki("SM2", peer.toBytes(true)),
  );
  assert.deepEqual(compressed.expose(), uncompressed.expose());
  assert.equal(uncompressed.expose().toHex(), peer.multiply(d).x.toString(16).padStart(64, "0"));
});

Deno.test("deriveSharedSecret rejects peer keys that are not DER SPKI, not EC, on another curve, or not a curve point", async () => {
  const sm2Key = ecPkcs8("SM2", 7n);
  const sm2Point = Sm2Point.BASE.multiply(11n).toBytes(false);
  const good = ecSpki("SM2", sm2Point);
  const offCurve = sm2Point.slice();
  offCurve[64]! ^= 1;
  const ed25519 = await crypto.subtle.generateKey("Ed25519", true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const ed25519Spki = new Uint8Array(await crypto.subtle.exportKey("spki", ed25519.publicKey));
  const explicitParameters = new Uint8Array(AsnConvert.serialize(
    new SubjectPublicKeyInfo({
      algorithm: new AlgorithmIdentifier({
        algorithm: id_ecPublicKey,
        parameters: await openssl([
          "ecparam",
          "-name",
          "SM2",
          "-param_enc",
          "explicit",
          "-outform",
          "DER",
        ])
          .then((der) => der.slice().buffer),
      }),
      subjectPublicKey: sm2Point.slice().buffer,
    }),
  ));
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty", new Uint8Array(0), /DER-encoded X\.509 SubjectPublicKeyInfo/],
    ["garbage", Uint8Array.from([1, 2, 3, 4]), /DER-encoded X\.509 SubjectPublicKeyInfo/],
    ["trailing byte", Uint8Array.from([...good, 0]), /DER-encoded X\.509 SubjectPublicKeyInfo/],
    ["raw SEC1 point", sm2Point, /DER-encoded X\.509 SubjectPublicKeyInfo/],
    ["Ed25519 SPKI", ed25519Spki, /id-ecPublicKey/],
    [
      "P-256 SPKI",
      ecSpki("ECC_NIST_P256", p256.Point.BASE.toBytes(false)),
      /curve 1\.2\.840\.10045\.3\.1\.7, but the KMS key is SM2/,
    ],
    ["explicit parameters", explicitParameters, /must name its curve/],
    ["point off the curve", ecSpki("SM2", offCurve), /not a valid point on the SM2 curve/],
    ["point at infinity", ecSpki("SM2", Uint8Array.of(0)), /not a valid point on the SM2 curve/],
    ["x-only point", ecSpki("SM2", sm2Point.subarray(0, 33)), /not a valid point on the SM2 curve/],
  ];
  assert.equal(typeof await derive("SM2", sm2Key, good), "string", "the unaltered key is accepted");
  for (const [name, spki, message] of cases) {
    const outcome = await derive("SM2", sm2Key, spki);
    assert.ok(outcome instanceof ValidationException, name);
    assert.match(outcome.message, message, name);
  }
  const p256Key = ecPkcs8("ECC_NIST_P256", 7n);
  const onSm2 = await derive("ECC_NIST_P256", p256Key, good);
  assert.ok(onSm2 instanceof ValidationException);
  assert.match(onSm2.message, /curve 1\.2\.156\.10197\.1\.301, but the KMS key is ECC_NIST_P256/);
});

Deno.test("deriveSharedSecret refuses its own private key when it is not a PKCS#8 key on the curve", async () => {
  const peerSm2 = ecSpki("SM2", Sm2Point.BASE.multiply(3n).toBytes(false));
  const peerP384 = ecSpki(
    "ECC_NIST_P384",
    (await import("@noble/curves/nist.js")).p384.Point.BASE.toBytes(false),
  );
  await assert.rejects(
    deriveSharedSecret("SM2", ecPkcs8("ECC_NIST_P256", 5n), peerSm2),
    RangeError,
  );
  await assert.rejects(deriveSharedSecret("SM2", ecPkcs8("SM2", 0n), peerSm2), RangeError);
  await assert.rejects(deriveSharedSecret("SM2", ecPkcs8("SM2", SM2_CURVE.n), peerSm2), RangeError);
  await assert.rejects(
    deriveSharedSecret("SM2", new SecretBytes(new Uint8Array(8)), peerSm2),
    RangeError,
  );
  await assert.rejects(
    deriveSharedSecret("ECC_NIST_P384", ecPkcs8("ECC_NIST_P256", 5n), peerP384),
    RangeError,
  );
});
