import assert from "node:assert/strict";
import { shake256 } from "@noble/hashes/sha3.js";
import { ml_dsa44, ml_dsa65, ml_dsa87 } from "@noble/post-quantum/ml-dsa.js";
import { type MlDsaParameterSet, MlDsaSigningKey, MlDsaVerifyingKey } from "./ml_dsa.ts";

async function readJson(file: string) {
  return JSON.parse(await Deno.readTextFile(new URL(`./testdata/${file}`, import.meta.url)));
}

// A DER writer independent of the module's asn1 parser.
function tlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return new Uint8Array([tag, ...length, ...content]);
}
const cat = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((part) => [...part]));

const OID_LAST: Record<MlDsaParameterSet, number> = {
  "ML-DSA-44": 0x11,
  "ML-DSA-65": 0x12,
  "ML-DSA-87": 0x13,
};
const DSA = { "ML-DSA-44": ml_dsa44, "ML-DSA-65": ml_dsa65, "ML-DSA-87": ml_dsa87 } as const;

function algorithmIdentifier(set: MlDsaParameterSet): Uint8Array {
  const oid = Uint8Array.of(0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, OID_LAST[set]);
  return tlv(0x30, tlv(0x06, oid));
}
function pkcs8(set: MlDsaParameterSet, privateKey: Uint8Array): Uint8Array {
  return tlv(
    0x30,
    cat(tlv(0x02, Uint8Array.of(0)), algorithmIdentifier(set), tlv(0x04, privateKey)),
  );
}
const seedForm = (seed: Uint8Array) => tlv(0x80, seed);
const expandedForm = (key: Uint8Array) => tlv(0x04, key);
const bothForm = (seed: Uint8Array, key: Uint8Array) =>
  tlv(0x30, cat(tlv(0x04, seed), tlv(0x04, key)));
function spki(set: MlDsaParameterSet, publicKey: Uint8Array): Uint8Array {
  return tlv(0x30, cat(algorithmIdentifier(set), tlv(0x03, cat(Uint8Array.of(0), publicKey))));
}

/** μ = SHAKE256(SHAKE256(pk, 64) || 0x00 || 0x00 || M, 64): FIPS 204 §6.2, empty context. */
function mu(publicKey: Uint8Array, message: Uint8Array): Uint8Array {
  const tr = shake256(publicKey, { dkLen: 64 });
  return shake256(cat(tr, Uint8Array.of(0, 0), message), { dkLen: 64 });
}

const ZERO_RND = new Uint8Array(32);

interface VerifyCase {
  tcId: number;
  msg: string;
  ctx?: string;
  sig: string;
  result: "valid" | "invalid";
}

Deno.test("wycheproof ML-DSA-44 verify: valid signatures verify, invalid ones and bad keys fail", async () => {
  let checked = 0;
  const data = await readJson("mldsa_44_verify_test.json");
  for (const group of data.testGroups as { publicKeyDer: string; tests: VerifyCase[] }[]) {
    let key: MlDsaVerifyingKey | undefined;
    try {
      key = MlDsaVerifyingKey.fromSpki("ML-DSA-44", Uint8Array.fromHex(group.publicKeyDer));
    } catch {
      key = undefined;
    }
    for (const test of group.tests) {
      if ((test.ctx ?? "") !== "") continue; // KMS signs with the empty context only
      const verified = key?.verify(Uint8Array.fromHex(test.msg), Uint8Array.fromHex(test.sig));
      assert.equal(verified ?? false, test.result === "valid", `tcId ${test.tcId}`);
      checked++;
    }
  }
  assert.equal(checked, 173);
});

interface SignCase {
  tcId: number;
  msg?: string;
  ctx?: string;
  mu?: string;
  rnd?: string;
  sig: string;
  result: "valid" | "invalid";
}
interface SignGroup {
  privateSeed: string;
  privateKeyPkcs8?: string;
  publicKey: string;
  tests: SignCase[];
}

Deno.test("wycheproof ML-DSA-44 sign from seed: RAW and EXTERNAL_MU give the expected signatures", async () => {
  let signed = 0;
  let refused = 0;
  const data = await readJson("mldsa_44_sign_seed_test.json");
  for (const group of data.testGroups as SignGroup[]) {
    const der = group.privateKeyPkcs8 !== undefined
      ? Uint8Array.fromHex(group.privateKeyPkcs8)
      : pkcs8("ML-DSA-44", seedForm(Uint8Array.fromHex(group.privateSeed)));
    let key: MlDsaSigningKey;
    try {
      key = MlDsaSigningKey.fromPkcs8("ML-DSA-44", der);
    } catch {
      assert.ok(group.tests.every((test) => test.result === "invalid"));
      refused += group.tests.length;
      continue;
    }
    const verifying = MlDsaVerifyingKey.fromSpki(
      "ML-DSA-44",
      spki("ML-DSA-44", Uint8Array.fromHex(group.publicKey)),
    );
    for (const test of group.tests) {
      if ((test.ctx ?? "") !== "") continue; // KMS signs with the empty context only
      assert.equal(test.result, "valid", `tcId ${test.tcId}`);
      const options = { rnd: test.rnd === undefined ? ZERO_RND : Uint8Array.fromHex(test.rnd) };
      if (test.msg !== undefined) {
        const msg = Uint8Array.fromHex(test.msg);
        assert.equal(key.sign(msg, options).toHex(), test.sig, `tcId ${test.tcId} (RAW)`);
        assert.equal(verifying.verify(msg, Uint8Array.fromHex(test.sig)), true);
      }
      if (test.mu !== undefined) {
        const representative = Uint8Array.fromHex(test.mu);
        assert.equal(
          key.signMu(representative, options).toHex(),
          test.sig,
          `tcId ${test.tcId} (mu)`,
        );
        assert.equal(verifying.verifyMu(representative, Uint8Array.fromHex(test.sig)), true);
      }
      signed++;
    }
  }
  assert.equal(signed, 79);
  assert.equal(refused, 3);
});

for (const set of ["ML-DSA-44", "ML-DSA-65", "ML-DSA-87"] as const) {
  Deno.test(`${set}: a RAW signature verifies as EXTERNAL_MU of the message's mu, and the reverse`, () => {
    const seed = new Uint8Array(32).fill(OID_LAST[set]);
    const { publicKey } = DSA[set].keygen(seed.slice());
    const signing = MlDsaSigningKey.fromPkcs8(set, pkcs8(set, seedForm(seed)));
    const verifying = MlDsaVerifyingKey.fromSpki(set, spki(set, publicKey));
    const message = new TextEncoder().encode(`post-quantum ${set}`);
    const representative = mu(publicKey, message);
    const raw = signing.sign(message);
    const external = signing.signMu(representative);
    assert.equal(raw.length, DSA[set].lengths.signature);
    assert.equal(verifying.verify(message, raw), true);
    assert.equal(verifying.verifyMu(representative, raw), true);
    assert.equal(verifying.verify(message, external), true);
    assert.equal(verifying.verify(new TextEncoder().encode("another"), raw), false);
    assert.deepEqual(
      signing.sign(message, { rnd: ZERO_RND }),
      signing.signMu(representative, { rnd: ZERO_RND }),
      "same message, same signature",
    );
    assert.notDeepEqual(signing.sign(message), raw, "hedged signing draws fresh randomness");
  });
}

Deno.test("ML-DSA private keys import from the seed, expandedKey and both forms alike", () => {
  const seed = new Uint8Array(32).fill(9);
  const { secretKey } = ml_dsa44.keygen(seed.slice());
  const message = new Uint8Array(5);
  const expected = MlDsaSigningKey.fromPkcs8("ML-DSA-44", pkcs8("ML-DSA-44", seedForm(seed)))
    .sign(message, { rnd: ZERO_RND });
  for (const form of [expandedForm(secretKey), bothForm(seed, secretKey)]) {
    const key = MlDsaSigningKey.fromPkcs8("ML-DSA-44", pkcs8("ML-DSA-44", form));
    assert.deepEqual(key.sign(message, { rnd: ZERO_RND }), expected);
  }
});

Deno.test("ML-DSA import refuses a mismatched both form, another parameter set and non-DER", () => {
  const seed = new Uint8Array(32).fill(9);
  const other = ml_dsa44.keygen(new Uint8Array(32).fill(8)).secretKey;
  assert.throws(
    () => MlDsaSigningKey.fromPkcs8("ML-DSA-44", pkcs8("ML-DSA-44", bothForm(seed, other))),
    TypeError,
  );
  assert.throws(
    () => MlDsaSigningKey.fromPkcs8("ML-DSA-65", pkcs8("ML-DSA-44", seedForm(seed))),
    TypeError,
  );
  const der = pkcs8("ML-DSA-44", seedForm(seed));
  const longForm = cat(Uint8Array.of(0x30, 0x81, der[1]!), der.subarray(2));
  assert.throws(() => MlDsaSigningKey.fromPkcs8("ML-DSA-44", longForm), TypeError);
  const { publicKey } = ml_dsa44.keygen(seed.slice());
  assert.throws(
    () => MlDsaVerifyingKey.fromSpki("ML-DSA-87", spki("ML-DSA-44", publicKey)),
    TypeError,
  );
  assert.throws(
    () => MlDsaVerifyingKey.fromSpki("ML-DSA-44", spki("ML-DSA-44", publicKey.subarray(1))),
    TypeError,
  );
});

Deno.test("ML-DSA verification is false for malformed signatures and refuses a mu of the wrong length", () => {
  const seed = new Uint8Array(32).fill(4);
  const { publicKey } = ml_dsa44.keygen(seed.slice());
  const signing = MlDsaSigningKey.fromPkcs8("ML-DSA-44", pkcs8("ML-DSA-44", seedForm(seed)));
  const verifying = MlDsaVerifyingKey.fromSpki("ML-DSA-44", spki("ML-DSA-44", publicKey));
  const message = new Uint8Array(1);
  const signature = signing.sign(message);
  for (const bad of [new Uint8Array(0), signature.subarray(1), new Uint8Array([...signature, 0])]) {
    assert.equal(verifying.verify(message, bad), false);
    assert.equal(verifying.verifyMu(mu(publicKey, message), bad), false);
  }
  assert.throws(() => signing.signMu(new Uint8Array(32)), RangeError);
  assert.throws(() => verifying.verifyMu(new Uint8Array(65), signature), RangeError);
});
