/**
 * Tests for SM2DSA and SM2PKE: OpenSSL's `evppkey_sm2.txt` vectors, the
 * GB/T 32918.5-2017 Annex A/C examples (with the fixed nonce k), OpenSSL 3 as
 * the referee in both directions, and rejection of every flipped bit and of
 * malformed encodings.
 *
 * The Annex values are copied from OpenSSL's `test/sm2_internal_test.c`
 * (https://github.com/openssl/openssl/blob/master/test/sm2_internal_test.c,
 * Apache-2.0), which reproduces GM/T 0003.5-2012 / GB/T 32918.5 Annexes A and C.
 *
 * @module
 */
import assert from "node:assert/strict";
import { AsnConvert } from "@peculiar/asn1-schema";
import { PrivateKeyInfo } from "@peculiar/asn1-pkcs8";
import { ECPrivateKey } from "@peculiar/asn1-ecc";
import { DER } from "@noble/curves/abstract/weierstrass.js";
import { InvalidCiphertextException } from "../errors.ts";
import { SM2_CURVE, Sm2Point } from "./sm2_curve.ts";
import {
  _sm2EncryptWithK,
  _sm2SignDigestWithK,
  SM2_DEFAULT_ID,
  sm2Decrypt,
  sm2Digest,
  sm2Encrypt,
  sm2Sign,
  sm2SignDigest,
  sm2Verify,
  sm2VerifyDigest,
  sm2Za,
} from "./sm2.ts";

type Sm2Key = { scalar: Uint8Array; point: Uint8Array; pem: string };
type Stanza = Map<string, string>;

const encoder = new TextEncoder();

/** Splits an OpenSSL evp_test file into stanzas; a PEM block becomes the value of the key before it. */
function parseEvpStanzas(text: string): Stanza[] {
  const stanzas: Stanza[] = [];
  let current: Stanza = new Map();
  let pemKey: string | undefined;
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (pemKey !== undefined) {
      current.set(pemKey, `${current.get(pemKey) ?? ""}${trimmed}\n`);
      if (trimmed.startsWith("-----END")) pemKey = undefined;
    } else if (trimmed === "") {
      if (current.size > 0) stanzas.push(current);
      current = new Map();
    } else if (!trimmed.startsWith("#")) {
      const eq = trimmed.indexOf("=");
      const key = trimmed.slice(0, eq).trim();
      current.set(key, trimmed.slice(eq + 1).trim());
      if (key === "PrivateKey") pemKey = "PEM";
    }
  }
  if (current.size > 0) stanzas.push(current);
  return stanzas;
}

/** Decodes an evp_test value: `"text"` is ASCII, anything else is hex. */
function evpValue(value: string): Uint8Array {
  if (value.startsWith('"') && value.endsWith('"')) return encoder.encode(value.slice(1, -1));
  return Uint8Array.fromHex(value.toLowerCase());
}

/** The scalar and the public point inside a PKCS#8 PEM EC private key. */
function sm2KeyFromPem(pem: string): Sm2Key {
  const base64 = pem.split("\n").filter((line) => line !== "" && !line.startsWith("-----")).join(
    "",
  );
  const info = AsnConvert.parse(Uint8Array.fromBase64(base64), PrivateKeyInfo);
  const ecKey = AsnConvert.parse(info.privateKey.buffer, ECPrivateKey);
  const scalar = new Uint8Array(ecKey.privateKey.buffer);
  const point = Sm2Point.BASE.multiply(BigInt(`0x${scalar.toHex()}`)).toBytes(false);
  if (ecKey.publicKey !== undefined) assert.deepEqual(new Uint8Array(ecKey.publicKey), point);
  return { scalar, point, pem };
}

/** Runs `openssl`; resolves to its exit code and stdout. */
async function openssl(args: string[]): Promise<{ code: number; stdout: Uint8Array }> {
  const { code, stdout } = await new Deno.Command("openssl", { args, stderr: "null" }).output();
  return { code, stdout };
}

/** Flips each bit of `bytes` in turn and passes the altered copy to `check`. */
function forEachBitFlip(bytes: Uint8Array, check: (altered: Uint8Array, bit: number) => void) {
  for (let bit = 0; bit < bytes.length * 8; bit++) {
    const altered = bytes.slice();
    altered[bit >> 3]! ^= 0x80 >> (bit & 7);
    check(altered, bit);
  }
}

const STANZAS = parseEvpStanzas(
  await Deno.readTextFile(new URL("./testdata/evppkey_sm2.txt", import.meta.url)),
);
const VECTOR_KEY = sm2KeyFromPem(
  STANZAS.find((s) => s.get("PrivateKey") === "SM2_key1")!.get("PEM")!,
);

const dir = await Deno.makeTempDir({ prefix: "sm2_test_" });
const keyFile = `${dir}/key.pem`;
const pubFile = `${dir}/pub.pem`;
assert.equal((await openssl(["genpkey", "-algorithm", "SM2", "-out", keyFile])).code, 0);
assert.equal((await openssl(["pkey", "-in", keyFile, "-pubout", "-out", pubFile])).code, 0);
const OPENSSL_KEY = sm2KeyFromPem(await Deno.readTextFile(keyFile));
let fileCounter = 0;

/** Writes bytes to a fresh temporary file and returns its path. */
async function tempFile(bytes: Uint8Array): Promise<string> {
  const file = `${dir}/${fileCounter++}.bin`;
  await Deno.writeFile(file, bytes);
  return file;
}

/** OpenSSL 3.0 SM2 flags for SM3 with a distinguishing ID over the raw message. */
function rawSm2Flags(id: string): string[] {
  return ["-rawin", "-digest", "sm3", "-pkeyopt", `distid:${id}`];
}

Deno.test("sm2VerifyDigest accepts the SM3 Verify vectors of evppkey_sm2.txt and rejects flipped bits", () => {
  const cases = STANZAS.filter((s) => s.has("Verify") && s.get("Ctrl") === "digest:SM3");
  assert.equal(cases.length, 2);
  for (const stanza of cases) {
    const digest = evpValue(stanza.get("Input")!);
    const signature = evpValue(stanza.get("Output")!);
    assert.equal(sm2VerifyDigest(VECTOR_KEY.point, digest, signature), true);
    forEachBitFlip(signature, (altered, bit) => {
      assert.equal(sm2VerifyDigest(VECTOR_KEY.point, digest, altered), false, `bit ${bit}`);
    });
    forEachBitFlip(digest, (altered, bit) => {
      assert.equal(sm2VerifyDigest(VECTOR_KEY.point, altered, signature), false, `e bit ${bit}`);
    });
  }
});

Deno.test("sm2Decrypt recovers the plaintext of both Decrypt vectors of evppkey_sm2.txt", () => {
  const cases = STANZAS.filter((s) => s.has("Decrypt"));
  assert.equal(cases.length, 2);
  for (const stanza of cases) {
    const plaintext = sm2Decrypt(VECTOR_KEY.scalar, evpValue(stanza.get("Input")!));
    assert.deepEqual(plaintext.expose(), evpValue(stanza.get("Output")!));
  }
});

Deno.test("sm2SignDigest signs the Sign vector's input with a fresh nonce, as the KEYOP_MISMATCH stanza expects", () => {
  const stanza = STANZAS.find((s) => s.has("Sign"))!;
  assert.equal(stanza.get("Result"), "KEYOP_MISMATCH");
  const digest = evpValue(stanza.get("Input")!);
  const signature = sm2SignDigest(VECTOR_KEY.scalar, digest);
  assert.notDeepEqual(signature, evpValue(stanza.get("Output")!));
  assert.equal(sm2VerifyDigest(VECTOR_KEY.point, digest, signature), true);
});

const ANNEX_D = Uint8Array.fromHex(
  "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8",
);
const ANNEX_K = Uint8Array.fromHex(
  "59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21",
);

Deno.test("SM2DSA reproduces the GB/T 32918.5 Annex A signature of 'message digest' with the fixed k", () => {
  const point = Sm2Point.BASE.multiply(BigInt(`0x${ANNEX_D.toHex()}`)).toBytes(false);
  assert.equal(
    point.toHex(),
    "0409f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020" +
      "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13",
  );
  const message = encoder.encode("message digest");
  const signature = _sm2SignDigestWithK(ANNEX_D, sm2Digest(point, message), ANNEX_K);
  assert.equal(
    signature.toHex(),
    "3046022100f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3" +
      "022100b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa",
  );
  assert.equal(sm2Verify(point, message, signature), true);
  assert.equal(sm2Verify(point, encoder.encode("message digesT"), signature), false);
});

Deno.test("SM2PKE reproduces the GB/T 32918.5 Annex C ciphertext of 'encryption standard' with the fixed k", () => {
  const point = Sm2Point.BASE.multiply(BigInt(`0x${ANNEX_D.toHex()}`)).toBytes(false);
  const ciphertext = _sm2EncryptWithK(point, encoder.encode("encryption standard"), ANNEX_K);
  assert.equal(
    ciphertext.toHex(),
    "307c022004ebfc718e8d1798620432268e77feb6415e2ede0e073c0f4f640ecd2e149a73" +
      "022100e858f9d81e5430a57b36daab8f950a3c64e6ee6a63094d99283aff767e124df0" +
      "042059983c18f809e262923c53aec295d30383b54e39d609d160afcb1908d0bd8766" +
      "041321886ca989ca9c7d58087307ca93092d651efa",
  );
  assert.equal(
    new TextDecoder().decode(sm2Decrypt(ANNEX_D, ciphertext).expose()),
    "encryption standard",
  );
});

Deno.test("sm2Sign signatures verify with openssl pkeyutl (SM3, default and custom distid)", async () => {
  for (
    const [length, id] of [[0, SM2_DEFAULT_ID], [1, SM2_DEFAULT_ID], [4096, SM2_DEFAULT_ID], [
      100,
      "ALICE123@YAHOO.COM",
    ]] as const
  ) {
    const message = crypto.getRandomValues(new Uint8Array(length));
    const signature = sm2Sign(OPENSSL_KEY.scalar, message, { id });
    const args = ["pkeyutl", "-verify", "-pubin", "-inkey", pubFile, ...rawSm2Flags(id)];
    const ok = await openssl([
      ...args,
      "-in",
      await tempFile(message),
      "-sigfile",
      await tempFile(signature),
    ]);
    assert.equal(ok.code, 0, `length ${length}, id ${id}`);
    const otherId = await openssl([
      "pkeyutl",
      "-verify",
      "-pubin",
      "-inkey",
      pubFile,
      ...rawSm2Flags(`${id}x`),
      "-in",
      await tempFile(message),
      "-sigfile",
      await tempFile(signature),
    ]);
    assert.notEqual(otherId.code, 0, "a different distid must not verify");
  }
});

Deno.test("sm2SignDigest over sm2Digest(M) verifies with openssl over the raw message M", async () => {
  const message = encoder.encode("DIGEST means e = SM3(Z_A || M)");
  const signature = sm2SignDigest(OPENSSL_KEY.scalar, sm2Digest(OPENSSL_KEY.point, message));
  const args = ["pkeyutl", "-verify", "-pubin", "-inkey", pubFile, ...rawSm2Flags(SM2_DEFAULT_ID)];
  const result = await openssl([
    ...args,
    "-in",
    await tempFile(message),
    "-sigfile",
    await tempFile(signature),
  ]);
  assert.equal(result.code, 0);
});

Deno.test("sm2Verify and sm2VerifyDigest accept OpenSSL's signatures and reject another ID", async () => {
  const message = crypto.getRandomValues(new Uint8Array(333));
  const signed = await openssl([
    "pkeyutl",
    "-sign",
    "-inkey",
    keyFile,
    ...rawSm2Flags(SM2_DEFAULT_ID),
    "-in",
    await tempFile(message),
  ]);
  assert.equal(signed.code, 0);
  assert.equal(sm2Verify(OPENSSL_KEY.point, message, signed.stdout), true);
  assert.equal(
    sm2Verify(OPENSSL_KEY.point, message, signed.stdout, { id: "1234567812345679" }),
    false,
  );

  const digest = sm2Digest(OPENSSL_KEY.point, message);
  const digestSigned = await openssl([
    "pkeyutl",
    "-sign",
    "-inkey",
    keyFile,
    "-in",
    await tempFile(digest),
  ]);
  assert.equal(digestSigned.code, 0);
  assert.equal(sm2VerifyDigest(OPENSSL_KEY.point, digest, digestSigned.stdout), true);
  assert.equal(sm2Verify(OPENSSL_KEY.point, message, digestSigned.stdout), true);
});

Deno.test("sm2Encrypt ciphertexts decrypt with openssl pkeyutl, and OpenSSL's decrypt with sm2Decrypt", async () => {
  for (const length of [1, 31, 32, 33, 100, 1024, 4096]) {
    const plaintext = crypto.getRandomValues(new Uint8Array(length));
    const ours = sm2Encrypt(OPENSSL_KEY.point, plaintext);
    const decrypted = await openssl([
      "pkeyutl",
      "-decrypt",
      "-inkey",
      keyFile,
      "-in",
      await tempFile(ours),
    ]);
    assert.equal(decrypted.code, 0, `length ${length}`);
    assert.deepEqual(decrypted.stdout, plaintext, `openssl decrypts ours, length ${length}`);

    const theirs = await openssl([
      "pkeyutl",
      "-encrypt",
      "-pubin",
      "-inkey",
      pubFile,
      "-in",
      await tempFile(plaintext),
    ]);
    assert.equal(theirs.code, 0);
    assert.deepEqual(sm2Decrypt(OPENSSL_KEY.scalar, theirs.stdout).expose(), plaintext);
  }
});

Deno.test("sm2Decrypt rejects every flipped bit of a ciphertext with a detail-free InvalidCiphertextException", () => {
  const ciphertext = sm2Encrypt(VECTOR_KEY.point, encoder.encode("flip me"));
  forEachBitFlip(ciphertext, (altered, bit) => {
    assert.throws(
      () => sm2Decrypt(VECTOR_KEY.scalar, altered),
      (error: unknown) => error instanceof InvalidCiphertextException && error.message === "",
      `bit ${bit}`,
    );
  });
});

/** DER helpers that build encodings field by field, so tests can alter one field at a time. */
const { _tlv: tlv } = DER;
function derSequence(fields: [tag: number, contentHex: string][]): Uint8Array {
  return Uint8Array.fromHex(
    tlv.encode(0x30, fields.map(([tag, hex]) => tlv.encode(tag, hex)).join("")),
  );
}
/** The content octets (hex) of each field of a DER SEQUENCE. */
function derFields(bytes: Uint8Array): string[] {
  const fields: string[] = [];
  let rest = tlv.decode(0x30, bytes).v;
  while (rest.length > 0) {
    const field = tlv.decode(rest[0]!, rest);
    fields.push(field.v.toHex());
    rest = field.l;
  }
  return fields;
}
/** A non-minimal encoding of the same non-negative INTEGER: one more leading zero byte. */
function padInteger(hex: string): string {
  return `00${hex}`;
}

Deno.test("sm2Decrypt rejects malformed ciphertexts: empty, truncated, trailing bytes, bad C1, empty C2, wrong C3 length, BER", () => {
  const good = sm2Encrypt(VECTOR_KEY.point, encoder.encode("xyz"));
  const [x, y, c3, c2] = derFields(good) as [string, string, string, string];
  const rebuilt = (fx = x, fy = y, fc3 = c3, fc2 = c2) =>
    derSequence([[0x02, fx], [0x02, fy], [0x04, fc3], [0x04, fc2]]);
  assert.deepEqual(rebuilt(), good, "the builder reproduces a valid ciphertext");
  assert.deepEqual(sm2Decrypt(VECTOR_KEY.scalar, rebuilt()).expose(), encoder.encode("xyz"));
  const p = `00${SM2_CURVE.p.toString(16)}`;
  const lastByteFlipped = (hex: string) =>
    hex.slice(0, -2) + (parseInt(hex.slice(-2), 16) ^ 1).toString(16).padStart(2, "0");
  const longFormX = Uint8Array.fromHex(
    tlv.encode(
      0x30,
      `0281${(x.length / 2).toString(16)}${x}` + good.subarray(2 + 2 + x.length / 2).toHex(),
    ),
  );
  const malformed: Record<string, Uint8Array> = {
    empty: new Uint8Array(0),
    truncated: good.subarray(0, good.length - 1),
    "trailing byte": Uint8Array.from([...good, 0]),
    "SET instead of SEQUENCE": Uint8Array.from([0x31, ...good.subarray(1)]),
    "C1 at infinity (0, 0)": rebuilt("00", "00"),
    "C1 off the curve": rebuilt(x, lastByteFlipped(y)),
    "C1 x = p": rebuilt(p, y),
    "negative x": rebuilt(`80${x.slice(2)}`, y),
    "non-minimal x": rebuilt(padInteger(x)),
    "long-form length of x": longFormX,
    "empty C2": rebuilt(x, y, c3, ""),
    "31-byte C3": rebuilt(x, y, c3.slice(2)),
    "33-byte C3": rebuilt(x, y, `${c3}00`),
    "C3 and C2 swapped (C1C2C3 order)": rebuilt(x, y, c2, c3),
  };
  for (const [name, ciphertext] of Object.entries(malformed)) {
    assert.throws(
      () => sm2Decrypt(VECTOR_KEY.scalar, ciphertext),
      (error: unknown) => error instanceof InvalidCiphertextException && error.message === "",
      name,
    );
  }
});

Deno.test("sm2Verify returns false without throwing for malformed signatures and r or s out of range", () => {
  const message = encoder.encode("m");
  const good = sm2Sign(VECTOR_KEY.scalar, message);
  const [r, s] = derFields(good) as [string, string];
  const sig = (fr: string, fs: string) => derSequence([[0x02, fr], [0x02, fs]]);
  assert.deepEqual(sig(r, s), good, "the builder reproduces a valid signature");
  const n = `00${SM2_CURVE.n.toString(16)}`;
  const bad: Record<string, Uint8Array> = {
    empty: new Uint8Array(0),
    garbage: crypto.getRandomValues(new Uint8Array(70)),
    "trailing byte": Uint8Array.from([...good, 0]),
    truncated: good.subarray(0, good.length - 1),
    "r = 0": sig("00", s),
    "s = 0": sig(r, "00"),
    "r = n": sig(n, s),
    "s = n": sig(r, n),
    "negative r": sig(`80${r.slice(2)}`, s),
    "non-minimal r": sig(padInteger(r), s),
    "non-minimal s": sig(r, padInteger(s)),
    "r and s swapped": sig(s, r),
  };
  for (const [name, signature] of Object.entries(bad)) {
    assert.equal(sm2Verify(VECTOR_KEY.point, message, signature), false, name);
  }
  assert.equal(sm2Verify(VECTOR_KEY.point, message, good), true);
});

Deno.test("SM2 private scalars must be 32 bytes in [1, n-2]; n-2 still signs and decrypts", () => {
  const scalar = (value: bigint) => Uint8Array.fromHex(value.toString(16).padStart(64, "0"));
  const message = encoder.encode("edge");
  for (const value of [0n, SM2_CURVE.n - 1n, SM2_CURVE.n]) {
    assert.throws(() => sm2Sign(scalar(value), message), RangeError);
  }
  assert.throws(() => sm2Sign(new Uint8Array(31).fill(1), message), RangeError);
  const last = scalar(SM2_CURVE.n - 2n);
  const point = Sm2Point.BASE.multiply(SM2_CURVE.n - 2n).toBytes(false);
  assert.equal(sm2Verify(point, message, sm2Sign(last, message)), true);
  assert.deepEqual(sm2Decrypt(last, sm2Encrypt(point, message)).expose(), message);
  assert.throws(() => sm2Encrypt(point, new Uint8Array(0)), RangeError);
  assert.throws(() => sm2SignDigest(last, new Uint8Array(31)), RangeError);
});

Deno.test("sm2Za depends on the distinguishing ID and rejects IDs longer than 8191 bytes", () => {
  assert.notDeepEqual(sm2Za(VECTOR_KEY.point), sm2Za(VECTOR_KEY.point, "ALICE123@YAHOO.COM"));
  assert.deepEqual(sm2Za(VECTOR_KEY.point), sm2Za(VECTOR_KEY.point, SM2_DEFAULT_ID));
  assert.equal(sm2Za(VECTOR_KEY.point, "a".repeat(8191)).length, 32);
  assert.throws(() => sm2Za(VECTOR_KEY.point, "a".repeat(8192)), RangeError);
});

globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
