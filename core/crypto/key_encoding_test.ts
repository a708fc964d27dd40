import assert from "node:assert/strict";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import { PrivateKeyInfo } from "@peculiar/asn1-pkcs8";
import { ECParameters, ECPrivateKey, id_ecPublicKey } from "@peculiar/asn1-ecc";
import { p521 } from "@noble/curves/nist.js";
import {
  decodePkcs8,
  EC_CURVES,
  type EcCurve,
  ecPointOfCanonicalPkcs8,
  encodeEcPkcs8,
  encodeEcSpki,
  encodeEd25519Pkcs8,
  encodeEd25519Spki,
  isCanonicalEd25519Pkcs8,
  KeyEncodingError,
  parseSpki,
  publicKeyFromPkcs8,
} from "./key_encoding.ts";
import {
  opensslCheckPrivateKey,
  opensslPublicFromPrivate,
  runOpenssl,
} from "../../tests/helpers/openssl.ts";

const CURVES = Object.keys(EC_CURVES) as EcCurve[];
const GENPKEY_ARGS: Record<EcCurve | "Ed25519", string[]> = {
  "P-256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
  "P-384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
  "P-521": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
  "secp256k1": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"],
  "SM2": ["-algorithm", "SM2"],
  "Ed25519": ["-algorithm", "ED25519"],
};

/** An OpenSSL-generated key as OpenSSL's own PKCS#8 DER and SPKI DER. */
async function opensslKey(
  type: EcCurve | "Ed25519",
): Promise<{ pkcs8: Uint8Array; spki: Uint8Array }> {
  const pem = await runOpenssl(["genpkey", ...GENPKEY_ARGS[type]]);
  assert.equal(pem.code, 0, pem.stderr);
  const pkcs8 = await runOpenssl(["pkcs8", "-topk8", "-nocrypt", "-outform", "DER"], {
    stdin: pem.stdout,
  });
  assert.equal(pkcs8.code, 0, pkcs8.stderr);
  return { pkcs8: pkcs8.stdout, spki: await opensslPublicFromPrivate(pkcs8.stdout) };
}

function ecAlgorithm(curve: EcCurve): AlgorithmIdentifier {
  const parameters = AsnConvert.serialize(new ECParameters({ namedCurve: EC_CURVES[curve].oid }));
  return new AlgorithmIdentifier({ algorithm: id_ecPublicKey, parameters });
}

/** PKCS#8 built by the schemas directly, with optional [0] parameters and [1] public key. */
function schemaEcPkcs8(
  curve: EcCurve,
  key: { scalar: Uint8Array; point?: Uint8Array; withParameters?: boolean },
): Uint8Array {
  const ecPrivateKey = new ECPrivateKey({ privateKey: new OctetString(key.scalar) });
  if (key.point) ecPrivateKey.publicKey = key.point.slice().buffer;
  if (key.withParameters) {
    ecPrivateKey.parameters = new ECParameters({ namedCurve: EC_CURVES[curve].oid });
  }
  return new Uint8Array(AsnConvert.serialize(
    new PrivateKeyInfo({
      privateKeyAlgorithm: ecAlgorithm(curve),
      privateKey: new OctetString(AsnConvert.serialize(ecPrivateKey)),
    }),
  ));
}

for (const curve of CURVES) {
  Deno.test(`${curve} keys re-encode to OpenSSL's PKCS#8 and SPKI byte for byte`, async () => {
    const openssl = await opensslKey(curve);
    const decoded = decodePkcs8(openssl.pkcs8);
    assert.equal(decoded.type, "EC");
    if (decoded.type !== "EC") return;
    assert.equal(decoded.curve, curve);
    assert.ok(decoded.point);
    const spki = encodeEcSpki(curve, decoded.point);
    const pkcs8 = encodeEcPkcs8(curve, { scalar: decoded.scalar.expose(), point: decoded.point });
    assert.equal(spki.toHex(), openssl.spki.toHex());
    assert.equal(pkcs8.toHex(), openssl.pkcs8.toHex());
    assert.deepEqual(ecPointOfCanonicalPkcs8(curve, pkcs8), decoded.point);
    assert.deepEqual(parseSpki(spki), { type: "EC", curve, point: decoded.point });
  });
}

Deno.test("EC encodings equal what the asn1 schemas serialize directly", () => {
  for (const curve of CURVES) {
    const { scalarBytes, pointBytes } = EC_CURVES[curve];
    const scalar = crypto.getRandomValues(new Uint8Array(scalarBytes));
    const point = crypto.getRandomValues(new Uint8Array(pointBytes));
    point[0] = 0x04;
    const spki = AsnConvert.serialize(
      new SubjectPublicKeyInfo({ algorithm: ecAlgorithm(curve), subjectPublicKey: point.buffer }),
    );
    assert.equal(encodeEcSpki(curve, point).toHex(), new Uint8Array(spki).toHex(), curve);
    assert.equal(
      encodeEcPkcs8(curve, { scalar, point }).toHex(),
      schemaEcPkcs8(curve, { scalar, point }).toHex(),
      curve,
    );
  }
});

Deno.test("a short P-521 scalar is zero-padded to 66 bytes and OpenSSL accepts the key", async () => {
  const point = p521.Point.BASE.toBytes(false); // the public key of d = 1
  const pkcs8 = encodeEcPkcs8("P-521", { scalar: Uint8Array.of(1), point });
  const decoded = decodePkcs8(pkcs8);
  assert.equal(decoded.type === "EC" && decoded.scalar.expose().toHex(), "00".repeat(65) + "01");
  assert.ok((await opensslCheckPrivateKey(pkcs8)).ok);
  assert.equal(
    (await opensslPublicFromPrivate(pkcs8)).toHex(),
    encodeEcSpki("P-521", point).toHex(),
  );
});

Deno.test("Ed25519 keys re-encode to OpenSSL's RFC 8410 PKCS#8 and SPKI byte for byte", async () => {
  const openssl = await opensslKey("Ed25519");
  const decoded = decodePkcs8(openssl.pkcs8);
  assert.equal(decoded.type, "ED25519");
  if (decoded.type !== "ED25519") return;
  const parsed = parseSpki(openssl.spki);
  assert.equal(parsed.type, "ED25519");
  if (parsed.type !== "ED25519") return;
  assert.equal(encodeEd25519Pkcs8(decoded.seed.expose()).toHex(), openssl.pkcs8.toHex());
  assert.equal(encodeEd25519Spki(parsed.publicKey).toHex(), openssl.spki.toHex());
  assert.ok(isCanonicalEd25519Pkcs8(openssl.pkcs8));
  assert.equal(publicKeyFromPkcs8(openssl.pkcs8).toHex(), openssl.spki.toHex());
});

Deno.test("publicKeyFromPkcs8 computes the EC public key when the PKCS#8 omits it", async () => {
  for (const curve of ["P-384", "secp256k1", "SM2"] as const) {
    const openssl = await opensslKey(curve);
    const decoded = decodePkcs8(openssl.pkcs8);
    if (decoded.type !== "EC") throw new Error("expected an EC key");
    const withoutPublic = schemaEcPkcs8(curve, { scalar: decoded.scalar.expose() });
    const stripped = decodePkcs8(withoutPublic);
    assert.ok(stripped.type === "EC" && stripped.point === undefined);
    assert.equal(publicKeyFromPkcs8(withoutPublic).toHex(), openssl.spki.toHex(), curve);
  }
});

Deno.test("a PKCS#8 with [0] parameters is not canonical but decodes to the same key", async () => {
  const openssl = await opensslKey("SM2");
  const decoded = decodePkcs8(openssl.pkcs8);
  if (decoded.type !== "EC" || decoded.point === undefined) throw new Error("expected an EC key");
  const scalar = decoded.scalar.expose();
  const other = schemaEcPkcs8("SM2", { scalar, point: decoded.point, withParameters: true });
  assert.equal(ecPointOfCanonicalPkcs8("SM2", other), undefined);
  assert.equal(ecPointOfCanonicalPkcs8("P-256", openssl.pkcs8), undefined);
  const again = decodePkcs8(other);
  assert.ok(again.type === "EC" && again.curve === "SM2");
  assert.equal(again.scalar.expose().toHex(), scalar.toHex());
  assert.deepEqual(again.point, decoded.point);
});

Deno.test("RSA SPKI parses to modulus size and exponent, and the PKCS#8 yields OpenSSL's SPKI", async () => {
  const pem = await runOpenssl([
    "genpkey",
    "-algorithm",
    "RSA",
    "-pkeyopt",
    "rsa_keygen_bits:1024",
  ]);
  const pkcs8 = (await runOpenssl(["pkcs8", "-topk8", "-nocrypt", "-outform", "DER"], {
    stdin: pem.stdout,
  })).stdout;
  const spki = await opensslPublicFromPrivate(pkcs8);
  assert.deepEqual(parseSpki(spki), { type: "RSA", modulusBits: 1024, publicExponent: 65537n });
  assert.equal(publicKeyFromPkcs8(pkcs8).toHex(), spki.toHex());
});

Deno.test("parseSpki and decodePkcs8 reject non-DER, trailing bytes and unsupported algorithms", async () => {
  const { spki, pkcs8 } = await opensslKey("P-256");
  const longLength = Uint8Array.of(0x30, 0x81, spki[1]!, ...spki.subarray(2)); // BER long form
  const x25519 = (await runOpenssl(["genpkey", "-algorithm", "X25519", "-outform", "DER"])).stdout;
  const cases: [string, () => unknown][] = [
    ["long-form length", () => parseSpki(longLength)],
    ["trailing byte", () => parseSpki(Uint8Array.of(...spki, 0))],
    ["truncated", () => parseSpki(spki.subarray(0, spki.length - 1))],
    ["PKCS#8 given as SPKI", () => parseSpki(pkcs8)],
    ["trailing byte PKCS#8", () => decodePkcs8(Uint8Array.of(...pkcs8, 0))],
    ["X25519", () => decodePkcs8(x25519)],
    ["garbage", () => decodePkcs8(Uint8Array.of(1, 2, 3))],
  ];
  for (const [name, parse] of cases) assert.throws(parse, KeyEncodingError, name);
});

Deno.test("encoders reject points and keys of the wrong form", () => {
  const point = new Uint8Array(65).fill(4);
  assert.throws(() => encodeEcSpki("P-384", point), RangeError);
  assert.throws(() => encodeEcSpki("P-256", Uint8Array.of(2, ...point.subarray(1))), RangeError);
  const longScalar = new Uint8Array(33);
  assert.throws(() => encodeEcPkcs8("P-256", { scalar: longScalar, point }), RangeError);
  assert.throws(() => encodeEd25519Spki(new Uint8Array(31)), RangeError);
  assert.throws(() => encodeEd25519Pkcs8(new Uint8Array(33)), RangeError);
});
