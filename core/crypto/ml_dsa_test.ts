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

const SETS = ["ML-DSA-44", "ML-DSA-65", "ML-DSA-87"] as const;
const FILE_PREFIX = (set: MlDsaParameterSet) => `mldsa_${set.slice(-2)}`;

/** Cases run per verify file with the empty context, and those with a context (which fail). */
const VERIFY_COUNTS: Record<MlDsaParameterSet, { checked: number; withContext: number }> = {
  "ML-DSA-44": { checked: 173, withContext: 7 },
  "ML-DSA-65": { checked: 203, withContext: 7 },
  "ML-DSA-87": { checked: 234, withContext: 7 },
};

for (const set of SETS) {
  Deno.test(`wycheproof ${set} verify: valid signatures verify, invalid ones and bad keys fail, non-empty contexts fail`, async () => {
    let checked = 0;
    let withContext = 0;
    const data = await readJson(`${FILE_PREFIX(set)}_verify_test.json`);
    for (const group of data.testGroups as { publicKeyDer: string; tests: VerifyCase[] }[]) {
      let key: MlDsaVerifyingKey | undefined;
      try {
        key = MlDsaVerifyingKey.fromSpki(set, Uint8Array.fromHex(group.publicKeyDer));
      } catch {
        key = undefined;
      }
      for (const test of group.tests) {
        assert.notEqual(test.result, "acceptable", `tcId ${test.tcId}: no choice in ACCEPTABLE.md`);
        const verified = key?.verify(Uint8Array.fromHex(test.msg), Uint8Array.fromHex(test.sig));
        if ((test.ctx ?? "") !== "") {
          // KMS verifies with the empty context, so a signature under any other context fails.
          assert.equal(verified ?? false, false, `tcId ${test.tcId} (context)`);
          withContext++;
          continue;
        }
        assert.equal(verified ?? false, test.result === "valid", `tcId ${test.tcId}`);
        checked++;
      }
    }
    assert.deepEqual({ checked, withContext }, VERIFY_COUNTS[set]);
  });
}

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
  privateSeed?: string;
  privateKey?: string;
  privateKeyPkcs8?: string;
  publicKey: string | null;
  tests: SignCase[];
}
interface SignTally {
  /** Valid cases whose expected signature we reproduced. */
  signed: number;
  /** Invalid cases: the key import or the signing call refused them. */
  refused: number;
  /** Cases with a non-empty context: KMS signs with the empty context only. */
  skipped: number;
}

/** The group's private key as PKCS#8: Wycheproof's own, or the seed or expanded key wrapped. */
function groupPkcs8(set: MlDsaParameterSet, group: SignGroup): Uint8Array {
  if (group.privateKeyPkcs8 !== undefined) return Uint8Array.fromHex(group.privateKeyPkcs8);
  if (group.privateSeed !== undefined) {
    return pkcs8(set, seedForm(Uint8Array.fromHex(group.privateSeed)));
  }
  return pkcs8(set, expandedForm(Uint8Array.fromHex(group.privateKey!)));
}

/**
 * Signs one valid case and checks the signature: RAW when the case has a message, EXTERNAL_MU
 * when it has a μ and either no message or `bothPaths`. When both are given, μ is also checked
 * against the message (a hash, much cheaper than a signature) and the signature verified both ways.
 */
function checkSignature(
  keys: { signing: MlDsaSigningKey; verifying: MlDsaVerifyingKey; publicKey: Uint8Array },
  test: SignCase,
  { bothPaths }: { bothPaths: boolean },
): void {
  const options = { rnd: test.rnd === undefined ? ZERO_RND : Uint8Array.fromHex(test.rnd) };
  const signature = Uint8Array.fromHex(test.sig);
  const representative = test.mu === undefined ? undefined : Uint8Array.fromHex(test.mu);
  if (test.msg !== undefined) {
    const msg = Uint8Array.fromHex(test.msg);
    assert.equal(keys.signing.sign(msg, options).toHex(), test.sig, `tcId ${test.tcId} (RAW)`);
    assert.equal(keys.verifying.verify(msg, signature), true, `tcId ${test.tcId}`);
    if (representative !== undefined) assert.deepEqual(mu(keys.publicKey, msg), representative);
  }
  if (representative !== undefined) {
    assert.equal(keys.verifying.verifyMu(representative, signature), true, `tcId ${test.tcId}`);
    if (bothPaths || test.msg === undefined) {
      const got = keys.signing.signMu(representative, options).toHex();
      assert.equal(got, test.sig, `tcId ${test.tcId} (EXTERNAL_MU)`);
    }
  }
}

/** Runs every case of a Wycheproof ML-DSA sign file through MlDsaSigningKey. */
async function checkSignFile(
  set: MlDsaParameterSet,
  file: string,
  options: { bothPaths: boolean },
): Promise<SignTally> {
  const tally = { signed: 0, refused: 0, skipped: 0 };
  for (const group of (await readJson(file)).testGroups as SignGroup[]) {
    let signing: MlDsaSigningKey;
    try {
      signing = MlDsaSigningKey.fromPkcs8(set, groupPkcs8(set, group));
    } catch {
      assert.ok(group.tests.every((test) => test.result === "invalid"), "a valid key refused");
      tally.refused += group.tests.length;
      continue;
    }
    const publicKey = Uint8Array.fromHex(group.publicKey!);
    const keys = {
      signing,
      verifying: MlDsaVerifyingKey.fromSpki(set, spki(set, publicKey)),
      publicKey,
    };
    for (const test of group.tests) {
      if ((test.ctx ?? "") !== "") {
        tally.skipped++; // KMS signs with the empty context only
      } else if (test.result === "invalid") {
        // An expanded key that imports but is out of range must not sign.
        assert.throws(() => signing.sign(Uint8Array.fromHex(test.msg ?? "")), `tcId ${test.tcId}`);
        tally.refused++;
      } else {
        checkSignature(keys, test, options);
        tally.signed++;
      }
    }
  }
  return tally;
}

const SIGN_COUNTS: Record<string, SignTally> = {
  "mldsa_44_sign_seed_test.json": { signed: 79, refused: 3, skipped: 4 },
  "mldsa_65_sign_seed_test.json": { signed: 98, refused: 3, skipped: 4 },
  "mldsa_87_sign_seed_test.json": { signed: 89, refused: 3, skipped: 4 },
  "mldsa_44_sign_noseed_test.json": { signed: 66, refused: 4, skipped: 3 },
  "mldsa_65_sign_noseed_test.json": { signed: 71, refused: 4, skipped: 3 },
  "mldsa_87_sign_noseed_test.json": { signed: 62, refused: 4, skipped: 3 },
};

for (const set of SETS) {
  Deno.test(`wycheproof ${set} sign from seed: RAW and EXTERNAL_MU give the expected signatures`, async () => {
    const file = `${FILE_PREFIX(set)}_sign_seed_test.json`;
    // Signing both ways doubles the cost; ML-DSA-44 does it for every case, 65 and 87 once.
    const bothPaths = set === "ML-DSA-44";
    assert.deepEqual(await checkSignFile(set, file, { bothPaths }), SIGN_COUNTS[file]);
  });

  Deno.test(`wycheproof ${set} sign from an expanded key: the expected signatures, and out-of-range keys refused`, async () => {
    const file = `${FILE_PREFIX(set)}_sign_noseed_test.json`;
    assert.deepEqual(await checkSignFile(set, file, { bothPaths: false }), SIGN_COUNTS[file]);
  });
}

for (const set of SETS) {
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
