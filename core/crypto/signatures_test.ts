import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { shake256 } from "@noble/hashes/sha3.js";
import { InvalidKeyUsageException, ValidationException } from "../errors.ts";
import { SecretBytes } from "../secret.ts";
import { sm2Digest } from "./sm2.ts";
import {
  importSigningKey,
  importVerifyingKey,
  type MessageType,
  SIGNING_ALGORITHMS,
  type SigningAlgorithmSpec,
  type SigningKey,
  type SigningKeySpec,
  type VerifyingKey,
} from "./signatures.ts";

interface KeyPairHex {
  pkcs8: string;
  spki: string;
}
/** An SM2 key pair made by `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:SM2`, then `openssl pkcs8 -topk8`. */
const SM2_TEST_KEY: KeyPairHex = {
  pkcs8:
    "308187020100301306072a8648ce3d020106082a811ccf5501822d046d306b0201010420d6a48b162866f7e5" +
    "e1392aa6e62c59de93302f475c58512f410e5594bac33555a1440342000428a1d84628992f6753df8815e1" +
    "8536926e304ec059827845cdab3ea07282acf3cd02692b84dfd762622c919e9923e1f1d43df72a98619f55" +
    "8558dbd53f5209d2",
  spki: "3059301306072a8648ce3d020106082a811ccf5501822d0342000428a1d84628992f6753df8815e18536926e" +
    "304ec059827845cdab3ea07282acf3cd02692b84dfd762622c919e9923e1f1d43df72a98619f558558dbd53f" +
    "5209d2",
};
const KEYS: Record<SigningKeySpec, KeyPairHex> = {
  ...JSON.parse(
    await Deno.readTextFile(new URL("./testdata/signing_test_keys.json", import.meta.url)),
  ).keys,
  SM2: SM2_TEST_KEY,
};
const SPECS = Object.keys(SIGNING_ALGORITHMS) as SigningKeySpec[];

async function keyPair(spec: SigningKeySpec): Promise<[SigningKey, VerifyingKey]> {
  const pkcs8 = new SecretBytes(Uint8Array.fromHex(KEYS[spec].pkcs8));
  return [
    await importSigningKey(spec, pkcs8),
    await importVerifyingKey(spec, Uint8Array.fromHex(KEYS[spec].spki)),
  ];
}

/** The hash AWS names at the end of an algorithm, as OpenSSL calls it. */
function hashName(algorithm: SigningAlgorithmSpec): "sha256" | "sha384" | "sha512" {
  return algorithm.endsWith("256") ? "sha256" : algorithm.endsWith("384") ? "sha384" : "sha512";
}

function digest(algorithm: SigningAlgorithmSpec, message: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(hashName(algorithm)).update(message).digest());
}

function rejectsWith(type: new (message: string) => Error, message: string) {
  return (error: unknown) => error instanceof type && error.message === message;
}

Deno.test("each key spec offers AWS's signing algorithms, in DescribeKey order", () => {
  const rsa = [
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
  ];
  assert.deepEqual(SIGNING_ALGORITHMS, {
    RSA_2048: rsa,
    RSA_3072: rsa,
    RSA_4096: rsa,
    ECC_NIST_P256: ["ECDSA_SHA_256"],
    ECC_NIST_P384: ["ECDSA_SHA_384"],
    ECC_NIST_P521: ["ECDSA_SHA_512"],
    ECC_SECG_P256K1: ["ECDSA_SHA_256"],
    ECC_NIST_EDWARDS25519: ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
    SM2: ["SM2DSA"],
    ML_DSA_44: ["ML_DSA_SHAKE_256"],
    ML_DSA_65: ["ML_DSA_SHAKE_256"],
    ML_DSA_87: ["ML_DSA_SHAKE_256"],
  });
});

Deno.test("Sign and Verify refuse an algorithm of another key spec with InvalidKeyUsageException", async () => {
  const cases: [SigningKeySpec, SigningAlgorithmSpec][] = [
    ["ECC_NIST_P521", "ECDSA_SHA_256"],
    ["ECC_NIST_P256", "ECDSA_SHA_384"],
    ["RSA_2048", "ECDSA_SHA_256"],
    ["RSA_3072", "SM2DSA"],
    ["ECC_NIST_EDWARDS25519", "ML_DSA_SHAKE_256"],
    ["ML_DSA_65", "ED25519_SHA_512"],
    ["SM2", "ECDSA_SHA_256"],
    ["ECC_NIST_P256", "SM2DSA"],
  ];
  for (const [spec, algorithm] of cases) {
    const [signing, verifying] = await keyPair(spec);
    const expected = rejectsWith(
      InvalidKeyUsageException,
      `Algorithm ${algorithm} is incompatible with key spec ${spec}.`,
    );
    await assert.rejects(signing.sign(algorithm, new Uint8Array(8), "RAW"), expected);
    await assert.rejects(
      verifying.verify(algorithm, new Uint8Array(8), "RAW", new Uint8Array(64)),
      expected,
    );
  }
});

Deno.test("Sign and Verify refuse a message type the algorithm does not take with ValidationException", async () => {
  const cases: [SigningKeySpec, SigningAlgorithmSpec, MessageType, number, string][] = [
    ["ECC_NIST_EDWARDS25519", "ED25519_SHA_512", "DIGEST", 64, "algorithm ED25519_SHA_512"],
    ["ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", "RAW", 64, "algorithm ED25519_PH_SHA_512"],
    [
      "ECC_NIST_EDWARDS25519",
      "ED25519_SHA_512",
      "EXTERNAL_MU",
      64,
      "key spec ECC_NIST_EDWARDS25519",
    ],
    ["ML_DSA_44", "ML_DSA_SHAKE_256", "DIGEST", 64, "key spec ML_DSA_44"],
    ["RSA_2048", "RSASSA_PSS_SHA_512", "EXTERNAL_MU", 64, "key spec RSA_2048"],
    ["ECC_SECG_P256K1", "ECDSA_SHA_256", "EXTERNAL_MU", 64, "key spec ECC_SECG_P256K1"],
    ["SM2", "SM2DSA", "EXTERNAL_MU", 64, "key spec SM2"],
  ];
  for (const [spec, algorithm, messageType, length, what] of cases) {
    const [signing, verifying] = await keyPair(spec);
    const expected = rejectsWith(
      ValidationException,
      `Message type ${messageType} is incompatible with ${what}.`,
    );
    const message = new Uint8Array(length);
    await assert.rejects(signing.sign(algorithm, message, messageType), expected);
    await assert.rejects(
      verifying.verify(algorithm, message, messageType, new Uint8Array(64)),
      expected,
    );
  }
});

Deno.test("Sign and Verify refuse a DIGEST or EXTERNAL_MU of the wrong length with ValidationException", async () => {
  for (const spec of SPECS) {
    const [signing, verifying] = await keyPair(spec);
    for (const algorithm of SIGNING_ALGORITHMS[spec]) {
      if (algorithm === "ED25519_SHA_512") continue;
      const messageType: MessageType = algorithm === "ML_DSA_SHAKE_256" ? "EXTERNAL_MU" : "DIGEST";
      const expected = rejectsWith(
        ValidationException,
        messageType === "DIGEST"
          ? `Digest is invalid length for algorithm ${algorithm}.`
          : `External Mu is invalid length for algorithm ${algorithm}.`,
      );
      const rightLength = algorithm === "SM2DSA"
        ? 32
        : algorithm.startsWith("ED25519") || algorithm.startsWith("ML_DSA")
        ? 64
        : digest(algorithm, new Uint8Array(0)).length;
      for (const length of [0, rightLength - 1, rightLength + 1, 32 + 64 - rightLength]) {
        if (length === rightLength) continue;
        const message = new Uint8Array(length);
        await assert.rejects(signing.sign(algorithm, message, messageType), expected, algorithm);
        await assert.rejects(
          verifying.verify(algorithm, message, messageType, new Uint8Array(64)),
          expected,
        );
      }
    }
  }
});

Deno.test("Verify answers false, never throws, for malformed or wrong signatures of every key spec", async () => {
  for (const spec of SPECS) {
    const [signing, verifying] = await keyPair(spec);
    for (const algorithm of SIGNING_ALGORITHMS[spec]) {
      const messageType: MessageType = algorithm === "ED25519_PH_SHA_512" ? "DIGEST" : "RAW";
      const message = messageType === "DIGEST" ? new Uint8Array(64).fill(1) : new Uint8Array(100);
      const signature = await signing.sign(algorithm, message, messageType);
      assert.equal(await verifying.verify(algorithm, message, messageType, signature), true);
      const flipped = signature.slice();
      flipped[flipped.length >> 1] = flipped[flipped.length >> 1]! ^ 0x10;
      const other = message.slice();
      other[0] = other[0]! ^ 1;
      for (const bad of [new Uint8Array(0), signature.subarray(1), flipped, new Uint8Array(9)]) {
        assert.equal(
          await verifying.verify(algorithm, message, messageType, bad),
          false,
          algorithm,
        );
      }
      assert.equal(await verifying.verify(algorithm, other, messageType, signature), false);
    }
  }
});

Deno.test("a DIGEST signature of SHA-x(M) verifies as a RAW signature of M, and the reverse", async () => {
  const message = new TextEncoder().encode("hash once, sign once");
  for (const spec of SPECS) {
    const [signing, verifying] = await keyPair(spec);
    for (const algorithm of SIGNING_ALGORITHMS[spec]) {
      if (/^(ED25519|ML_DSA|SM2)/.test(algorithm)) continue;
      const hashed = digest(algorithm, message);
      const fromDigest = await signing.sign(algorithm, hashed, "DIGEST");
      const fromRaw = await signing.sign(algorithm, message, "RAW");
      assert.equal(await verifying.verify(algorithm, message, "RAW", fromDigest), true, algorithm);
      assert.equal(await verifying.verify(algorithm, hashed, "DIGEST", fromRaw), true, algorithm);
      assert.equal(
        await verifying.verify(algorithm, hashed, "RAW", fromRaw),
        false,
        "hashed twice",
      );
    }
  }
});

Deno.test("SM2DSA: a DIGEST signature of e = SM3(Z_A || M) verifies as a RAW signature of M, and the reverse", async () => {
  const [signing, verifying] = await keyPair("SM2");
  const point = Uint8Array.fromHex(SM2_TEST_KEY.spki).subarray(-65);
  const message = new TextEncoder().encode("SM3 with the default distinguishing ID");
  const e = sm2Digest(point, message, "1234567812345678");
  const fromDigest = await signing.sign("SM2DSA", e, "DIGEST");
  const fromRaw = await signing.sign("SM2DSA", message, "RAW");
  assert.equal(await verifying.verify("SM2DSA", message, "RAW", fromDigest), true);
  assert.equal(await verifying.verify("SM2DSA", e, "DIGEST", fromRaw), true);
  assert.equal(await verifying.verify("SM2DSA", e, "RAW", fromRaw), false, "hashed twice");
  const otherId = sm2Digest(point, message, "another id");
  assert.equal(await verifying.verify("SM2DSA", otherId, "DIGEST", fromRaw), false, "other ID");
});

Deno.test("ML-DSA signs RAW and EXTERNAL_MU alike: each verifies as the other", async () => {
  for (const spec of ["ML_DSA_44", "ML_DSA_65", "ML_DSA_87"] as const) {
    const [signing, verifying] = await keyPair(spec);
    const publicKey = Uint8Array.fromHex(KEYS[spec].spki).subarray(
      -{
        ML_DSA_44: 1312,
        ML_DSA_65: 1952,
        ML_DSA_87: 2592,
      }[spec],
    );
    const message = new TextEncoder().encode("external mu");
    const tr = shake256(publicKey, { dkLen: 64 });
    const mu = shake256(new Uint8Array([...tr, 0, 0, ...message]), { dkLen: 64 });
    const raw = await signing.sign("ML_DSA_SHAKE_256", message, "RAW");
    const external = await signing.sign("ML_DSA_SHAKE_256", mu, "EXTERNAL_MU");
    assert.equal(await verifying.verify("ML_DSA_SHAKE_256", mu, "EXTERNAL_MU", raw), true, spec);
    assert.equal(await verifying.verify("ML_DSA_SHAKE_256", message, "RAW", external), true, spec);
  }
});

Deno.test("importSigningKey and importVerifyingKey refuse key material of another spec", async () => {
  const pairs: [SigningKeySpec, SigningKeySpec][] = [
    ["RSA_2048", "RSA_4096"],
    ["ECC_NIST_P256", "ECC_SECG_P256K1"],
    ["ECC_NIST_EDWARDS25519", "ECC_NIST_P256"],
    ["ML_DSA_44", "ML_DSA_87"],
    ["SM2", "ECC_SECG_P256K1"],
    ["ECC_SECG_P256K1", "SM2"],
  ];
  for (const [spec, other] of pairs) {
    const pkcs8 = new SecretBytes(Uint8Array.fromHex(KEYS[other].pkcs8));
    await assert.rejects(importSigningKey(spec, pkcs8), `${spec} from ${other}`);
    await assert.rejects(importVerifyingKey(spec, Uint8Array.fromHex(KEYS[other].spki)));
  }
});

// OpenSSL 3.0 as the independent referee (it has no ML-DSA).

async function openssl(args: string[]): Promise<boolean> {
  const { code } = await new Deno.Command("openssl", { args, stdout: "null", stderr: "null" })
    .output();
  return code === 0;
}

function paddingOptions(flag: string, algorithm: SigningAlgorithmSpec): string[] {
  if (!algorithm.startsWith("RSASSA_PSS")) return [];
  return [flag, "rsa_padding_mode:pss", flag, "rsa_pss_saltlen:digest"];
}

const REFEREE_CASES: [SigningKeySpec, SigningAlgorithmSpec][] = [
  ...SIGNING_ALGORITHMS.RSA_2048.map((
    a,
  ): [SigningKeySpec, SigningAlgorithmSpec] => ["RSA_2048", a]),
  ["RSA_3072", "RSASSA_PSS_SHA_384"],
  ["RSA_3072", "RSASSA_PKCS1_V1_5_SHA_256"],
  ["RSA_4096", "RSASSA_PSS_SHA_512"],
  ["RSA_4096", "RSASSA_PKCS1_V1_5_SHA_384"],
  ["ECC_NIST_P256", "ECDSA_SHA_256"],
  ["ECC_NIST_P384", "ECDSA_SHA_384"],
  ["ECC_NIST_P521", "ECDSA_SHA_512"],
  ["ECC_SECG_P256K1", "ECDSA_SHA_256"],
];

Deno.test("OpenSSL verifies our RAW and DIGEST signatures, and we verify OpenSSL's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const message = new TextEncoder().encode("refereed by OpenSSL ".repeat(13));
    await Deno.writeFile(`${dir}/message`, message);
    for (const [spec, algorithm] of REFEREE_CASES) {
      const [signing, verifying] = await keyPair(spec);
      const hash = hashName(algorithm);
      await Deno.writeFile(`${dir}/public.der`, Uint8Array.fromHex(KEYS[spec].spki));
      await Deno.writeFile(`${dir}/private.der`, Uint8Array.fromHex(KEYS[spec].pkcs8));
      await Deno.writeFile(`${dir}/digest`, digest(algorithm, message));
      await Deno.writeFile(`${dir}/raw.sig`, await signing.sign(algorithm, message, "RAW"));
      const digestSignature = await signing.sign(algorithm, digest(algorithm, message), "DIGEST");
      await Deno.writeFile(`${dir}/digest.sig`, digestSignature);
      const rawVerified = await openssl([
        "dgst",
        `-${hash}`,
        "-verify",
        `${dir}/public.der`,
        "-keyform",
        "DER",
        ...paddingOptions("-sigopt", algorithm),
        "-signature",
        `${dir}/raw.sig`,
        `${dir}/message`,
      ]);
      assert.ok(rawVerified, `OpenSSL rejects our RAW ${spec} ${algorithm} signature`);
      const digestVerified = await openssl([
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        `${dir}/public.der`,
        "-keyform",
        "DER",
        "-pkeyopt",
        `digest:${hash}`,
        ...paddingOptions("-pkeyopt", algorithm),
        "-in",
        `${dir}/digest`,
        "-sigfile",
        `${dir}/digest.sig`,
      ]);
      assert.ok(digestVerified, `OpenSSL rejects our DIGEST ${spec} ${algorithm} signature`);
      const signed = await openssl([
        "dgst",
        `-${hash}`,
        "-sign",
        `${dir}/private.der`,
        "-keyform",
        "DER",
        ...paddingOptions("-sigopt", algorithm),
        "-out",
        `${dir}/openssl.sig`,
        `${dir}/message`,
      ]);
      assert.ok(signed);
      const theirs = await Deno.readFile(`${dir}/openssl.sig`);
      assert.equal(await verifying.verify(algorithm, message, "RAW", theirs), true, algorithm);
      const hashed = digest(algorithm, message);
      assert.equal(await verifying.verify(algorithm, hashed, "DIGEST", theirs), true, algorithm);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("OpenSSL verifies our pure Ed25519 signatures and we verify OpenSSL's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [signing, verifying] = await keyPair("ECC_NIST_EDWARDS25519");
    const message = new TextEncoder().encode("pure EdDSA, no prehash");
    await Deno.writeFile(`${dir}/message`, message);
    await Deno.writeFile(`${dir}/public.der`, Uint8Array.fromHex(KEYS.ECC_NIST_EDWARDS25519.spki));
    await Deno.writeFile(
      `${dir}/private.der`,
      Uint8Array.fromHex(KEYS.ECC_NIST_EDWARDS25519.pkcs8),
    );
    await Deno.writeFile(`${dir}/ours.sig`, await signing.sign("ED25519_SHA_512", message, "RAW"));
    const common = ["-rawin", "-in", `${dir}/message`];
    assert.ok(
      await openssl([
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        `${dir}/public.der`,
        "-keyform",
        "DER",
        ...common,
        "-sigfile",
        `${dir}/ours.sig`,
      ]),
    );
    assert.ok(
      await openssl([
        "pkeyutl",
        "-sign",
        "-inkey",
        `${dir}/private.der`,
        "-keyform",
        "DER",
        ...common,
        "-out",
        `${dir}/theirs.sig`,
      ]),
    );
    const theirs = await Deno.readFile(`${dir}/theirs.sig`);
    assert.equal(await verifying.verify("ED25519_SHA_512", message, "RAW", theirs), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("OpenSSL verifies our SM2DSA RAW and DIGEST signatures with distid 1234567812345678, and we verify OpenSSL's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [signing, verifying] = await keyPair("SM2");
    const message = new TextEncoder().encode("SM2 refereed by OpenSSL");
    const e = sm2Digest(Uint8Array.fromHex(SM2_TEST_KEY.spki).subarray(-65), message);
    await Deno.writeFile(`${dir}/message`, message);
    await Deno.writeFile(`${dir}/e`, e);
    await Deno.writeFile(`${dir}/public.der`, Uint8Array.fromHex(SM2_TEST_KEY.spki));
    await Deno.writeFile(`${dir}/private.der`, Uint8Array.fromHex(SM2_TEST_KEY.pkcs8));
    await Deno.writeFile(`${dir}/raw.sig`, await signing.sign("SM2DSA", message, "RAW"));
    await Deno.writeFile(`${dir}/digest.sig`, await signing.sign("SM2DSA", e, "DIGEST"));
    const distid = ["-sigopt", "distid:1234567812345678"];
    const dgst = ["dgst", "-sm3", "-keyform", "DER", ...distid];
    for (const signature of ["raw.sig", "digest.sig"]) {
      const verified = await openssl([
        ...dgst,
        "-verify",
        `${dir}/public.der`,
        "-signature",
        `${dir}/${signature}`,
        `${dir}/message`,
      ]);
      assert.ok(verified, `OpenSSL rejects our SM2DSA ${signature}`);
    }
    const overE = await openssl([
      "pkeyutl",
      "-verify",
      "-pubin",
      "-inkey",
      `${dir}/public.der`,
      "-keyform",
      "DER",
      "-in",
      `${dir}/e`,
      "-sigfile",
      `${dir}/digest.sig`,
    ]);
    assert.ok(overE, "OpenSSL rejects our SM2DSA signature as a signature of e");
    const wrongId = await openssl([
      "dgst",
      "-sm3",
      "-keyform",
      "DER",
      "-sigopt",
      "distid:another id",
      "-verify",
      `${dir}/public.der`,
      "-signature",
      `${dir}/raw.sig`,
      `${dir}/message`,
    ]);
    assert.equal(wrongId, false, "the distinguishing ID is part of what is signed");
    const signed = await openssl([
      ...dgst,
      "-sign",
      `${dir}/private.der`,
      "-out",
      `${dir}/openssl.sig`,
      `${dir}/message`,
    ]);
    assert.ok(signed);
    const theirs = await Deno.readFile(`${dir}/openssl.sig`);
    assert.equal(await verifying.verify("SM2DSA", message, "RAW", theirs), true);
    assert.equal(await verifying.verify("SM2DSA", e, "DIGEST", theirs), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the OpenSSL referee rejects a signature over another message", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [signing] = await keyPair("RSA_2048");
    const signature = await signing.sign("RSASSA_PSS_SHA_256", new Uint8Array(10), "RAW");
    await Deno.writeFile(`${dir}/public.der`, Uint8Array.fromHex(KEYS.RSA_2048.spki));
    await Deno.writeFile(`${dir}/sig`, signature);
    await Deno.writeFile(`${dir}/message`, new Uint8Array(11));
    const verified = await openssl([
      "dgst",
      "-sha256",
      "-verify",
      `${dir}/public.der`,
      "-keyform",
      "DER",
      ...paddingOptions("-sigopt", "RSASSA_PSS_SHA_256"),
      "-signature",
      `${dir}/sig`,
      `${dir}/message`,
    ]);
    assert.equal(verified, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
