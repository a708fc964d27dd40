import assert from "node:assert/strict";
import { Encoder } from "cbor-x";
import {
  type CiphertextBlob,
  decodeCiphertextBlob,
  encodeCiphertextBlob,
  headerBytes,
} from "./ciphertext_blob.ts";
import { InvalidCiphertextException } from "./errors.ts";

const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
const MRK_ID = "mrk-1234abcd12ab34cd56ef1234567890ab";

function sample(overrides: Partial<CiphertextBlob> = {}): CiphertextBlob {
  return {
    keyId: KEY_ID,
    materialVersion: 1,
    nonce: new Uint8Array(16).fill(0xa1),
    iv: new Uint8Array(12).fill(0xb2),
    ciphertext: new Uint8Array(32).fill(0xc3),
    ...overrides,
  };
}

// A minimal CBOR writer, independent of cbor-x, to build exact (and deliberately bad) encodings.
function head(major: number, n: number): number[] {
  const m = major << 5;
  if (n < 24) return [m | n];
  if (n < 0x100) return [m | 24, n];
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff];
  return [m | 26, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}
const uint = (n: number) => head(0, n);
const bstr = (b: Uint8Array) => [...head(2, b.length), ...b];
const tstr = (s: string) => {
  const b = new TextEncoder().encode(s);
  return [...head(3, b.length), ...b];
};
const array = (items: number[][]) => [...head(4, items.length), ...items.flat()];
const bytes = (a: number[]) => new Uint8Array(a);

function canonical(b: CiphertextBlob): number[] {
  return array([
    uint(1),
    tstr(b.keyId),
    uint(b.materialVersion),
    bstr(b.nonce),
    bstr(b.iv),
    bstr(b.ciphertext),
  ]);
}

function assertInvalid(input: Uint8Array, message?: string): void {
  assert.throws(
    () => decodeCiphertextBlob(input),
    (e: unknown) =>
      e instanceof InvalidCiphertextException && e.message === "The ciphertext is invalid.",
    message,
  );
}

Deno.test("a blob round-trips through encode and decode", () => {
  for (const blob of [sample(), sample({ keyId: MRK_ID, materialVersion: 0xffff_ffff })]) {
    assert.deepEqual(decodeCiphertextBlob(encodeCiphertextBlob(blob)), blob);
  }
});

Deno.test("the encoding is the canonical CBOR array [1, keyId, materialVersion, nonce, iv, ciphertext]", () => {
  for (const mv of [0, 1, 23, 24, 255, 256, 65535, 65536, 0xffff_ffff]) {
    for (const len of [16, 23, 24, 300, 70000]) {
      const blob = sample({ materialVersion: mv, ciphertext: new Uint8Array(len).fill(7) });
      assert.deepEqual(encodeCiphertextBlob(blob), bytes(canonical(blob)));
    }
  }
});

Deno.test("the encoding equals cbor-x's own encoding of the whole array, for every length class", () => {
  const cbor = new Encoder({ useRecords: false, tagUint8Array: false });
  for (const len of [16, 23, 24, 255, 256, 4112, 65535, 65536, 70000]) {
    const blob = sample({ ciphertext: new Uint8Array(len).fill(len & 0xff) });
    const whole = cbor.encode([
      1,
      blob.keyId,
      blob.materialVersion,
      blob.nonce,
      blob.iv,
      blob.ciphertext,
    ]);
    assert.deepEqual(encodeCiphertextBlob(blob), new Uint8Array(whole), `length ${len}`);
    assert.deepEqual(decodeCiphertextBlob(encodeCiphertextBlob(blob)), blob);
  }
});

Deno.test("the header bytes are the canonical CBOR array [1, keyId, materialVersion, nonce, iv]", () => {
  const blob = sample({ materialVersion: 300 });
  assert.deepEqual(
    headerBytes(blob),
    bytes(array([uint(1), tstr(blob.keyId), uint(300), bstr(blob.nonce), bstr(blob.iv)])),
  );
  const other: CiphertextBlob = { ...blob, ciphertext: new Uint8Array(99) };
  assert.deepEqual(headerBytes(blob), headerBytes(other));
});

Deno.test("blob overhead is 90 bytes for a 4096-byte plaintext (4186 < 6144)", () => {
  const encoded = encodeCiphertextBlob(sample({ ciphertext: new Uint8Array(4096 + 16) }));
  assert.equal(encoded.length, 4186);
  assert.ok(encoded.length < 6144);
  const small = encodeCiphertextBlob(sample({ ciphertext: new Uint8Array(16 + 16) }));
  assert.equal(small.length - 16, 89);
});

Deno.test("encode returns a plain Uint8Array that later encodes do not overwrite", () => {
  const first = encodeCiphertextBlob(sample());
  const copy = first.slice();
  encodeCiphertextBlob(sample({ ciphertext: new Uint8Array(5000).fill(9) }));
  assert.equal(Object.getPrototypeOf(first), Uint8Array.prototype);
  assert.deepEqual(first, copy);
});

Deno.test("decoded fields are copies, independent of the input bytes", () => {
  const encoded = encodeCiphertextBlob(sample());
  const blob = decodeCiphertextBlob(encoded);
  encoded.fill(0);
  assert.deepEqual(blob, sample());
  for (const field of [blob.nonce, blob.iv, blob.ciphertext]) {
    assert.equal(Object.getPrototypeOf(field), Uint8Array.prototype);
  }
});

Deno.test("decode leaves no properties on the caller's input", () => {
  const encoded = encodeCiphertextBlob(sample());
  decodeCiphertextBlob(encoded);
  assert.deepEqual(Object.keys(encoded).filter((k) => !/^\d+$/.test(k)), []);
  assert.equal(Object.getOwnPropertyNames(encoded).filter((k) => !/^\d+$/.test(k)).length, 0);
});

Deno.test("decode rejects input that is not CBOR or is empty", () => {
  assertInvalid(new Uint8Array(0));
  assertInvalid(new TextEncoder().encode("not a ciphertext at all"));
  assertInvalid(bytes([0x86]));
  assertInvalid(bytes([0x86, 0x01]));
  assertInvalid(bytes([0x86, 0x01, 0xff]));
});

Deno.test("decode rejects every truncation and an appended byte", () => {
  const encoded = encodeCiphertextBlob(sample());
  for (let n = 0; n < encoded.length; n++) assertInvalid(encoded.subarray(0, n), `length ${n}`);
  for (const extra of [0x00, 0x01, 0xff, 0x40]) assertInvalid(bytes([...encoded, extra]));
});

Deno.test("decode rejects an unknown format version", () => {
  for (const version of [0, 3, 23, 255]) {
    const b = sample();
    assertInvalid(
      bytes(
        array([
          uint(version),
          tstr(b.keyId),
          uint(1),
          bstr(b.nonce),
          bstr(b.iv),
          bstr(b.ciphertext),
        ]),
      ),
    );
  }
});

Deno.test("decode rejects a wrong number of items", () => {
  const b = sample();
  assertInvalid(bytes(array([uint(1), tstr(b.keyId), uint(1), bstr(b.nonce), bstr(b.iv)])));
  assertInvalid(
    bytes(
      array([
        uint(1),
        tstr(b.keyId),
        uint(1),
        bstr(b.nonce),
        bstr(b.iv),
        bstr(b.ciphertext),
        uint(0),
      ]),
    ),
  );
  assertInvalid(bytes([...head(5, 0)]));
});

Deno.test("decode rejects malformed key ids", () => {
  const b = sample();
  for (
    const keyId of [
      "",
      KEY_ID.toUpperCase(),
      KEY_ID.slice(1),
      `${KEY_ID}0`,
      `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`,
      "alias/foo",
      "mrk-1234",
      `${KEY_ID}\n`,
    ]
  ) {
    assertInvalid(bytes(canonical({ ...b, keyId })), JSON.stringify(keyId));
  }
  // The key id as a byte string instead of a text string.
  assertInvalid(
    bytes(
      array([
        uint(1),
        bstr(new TextEncoder().encode(KEY_ID)),
        uint(1),
        bstr(b.nonce),
        bstr(b.iv),
        bstr(b.ciphertext),
      ]),
    ),
  );
});

Deno.test("decode rejects wrong nonce, IV and ciphertext lengths", () => {
  assertInvalid(bytes(canonical(sample({ nonce: new Uint8Array(15) }))));
  assertInvalid(bytes(canonical(sample({ nonce: new Uint8Array(17) }))));
  assertInvalid(bytes(canonical(sample({ iv: new Uint8Array(11) }))));
  assertInvalid(bytes(canonical(sample({ iv: new Uint8Array(16) }))));
  assertInvalid(bytes(canonical(sample({ ciphertext: new Uint8Array(15) }))));
  assertInvalid(bytes(canonical(sample({ ciphertext: new Uint8Array(0) }))));
  // The shortest valid ciphertext is a bare 16-byte tag.
  assert.equal(
    decodeCiphertextBlob(bytes(canonical(sample({ ciphertext: new Uint8Array(16) })))).ciphertext
      .length,
    16,
  );
});

Deno.test("decode rejects material versions that are negative, fractional, floats or too large", () => {
  const b = sample();
  const withVersion = (v: number[]) =>
    bytes(array([uint(1), tstr(b.keyId), v, bstr(b.nonce), bstr(b.iv), bstr(b.ciphertext)]));
  assertInvalid(withVersion(head(1, 0))); // -1
  assertInvalid(withVersion([0xf9, 0x3c, 0x00])); // half float 1.0
  assertInvalid(withVersion([0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0])); // 1.5
  assertInvalid(withVersion([0xf9, 0x80, 0x00])); // -0.0
  assertInvalid(withVersion([0x1b, 0, 0, 0, 1, 0, 0, 0, 0])); // 2^32
  assertInvalid(withVersion(tstr("1")));
  assertInvalid(withVersion([0xf6])); // null
});

Deno.test("decode rejects non-canonical encodings of valid content", () => {
  const b = sample();
  const items = [uint(1), tstr(b.keyId), uint(1), bstr(b.nonce), bstr(b.iv), bstr(b.ciphertext)];
  // Non-minimal integer heads.
  assertInvalid(bytes(array([[0x18, 0x01], ...items.slice(1)])));
  assertInvalid(bytes(array([items[0]!, items[1]!, [0x19, 0x00, 0x01], ...items.slice(3)])));
  // Non-minimal length of a byte string and of the array.
  assertInvalid(bytes(array([...items.slice(0, 3), [0x58, 16, ...b.nonce], ...items.slice(4)])));
  assertInvalid(bytes([0x98, 6, ...items.flat()]));
  // Indefinite-length array and byte string.
  assertInvalid(bytes([0x9f, ...items.flat(), 0xff]));
  assertInvalid(bytes(array([...items.slice(0, 5), [0x5f, ...bstr(b.ciphertext), 0xff]])));
  // A typed-array tag (64) around a byte string, and a self-described CBOR tag around the whole.
  assertInvalid(bytes(array([...items.slice(0, 5), [0xd8, 0x40, ...bstr(b.ciphertext)]])));
  assertInvalid(bytes([0xd9, 0xd9, 0xf7, ...array(items)]));
});

Deno.test("decode rejects a record-extension or set tag in place of a field", () => {
  const b = sample();
  const items = [uint(1), tstr(b.keyId), uint(1), bstr(b.nonce), bstr(b.iv), bstr(b.ciphertext)];
  assertInvalid(
    bytes(array([...items.slice(0, 5), [0xd8, 0x69, ...array([array([tstr("a")]), uint(1)])]])),
  );
  assertInvalid(bytes(array([...items.slice(0, 5), [0xd9, 0x01, 0x02, ...array([uint(1)])]])));
  // A later, valid blob still decodes.
  assert.deepEqual(decodeCiphertextBlob(bytes(canonical(b))), b);
});

Deno.test("decode rejects deeply nested input without a stack overflow escaping", () => {
  assertInvalid(bytes([0x86, 0x01, ...new Array(100_000).fill(0x81)]));
});

Deno.test("decode of random bytes behind a valid prefix only ever throws InvalidCiphertextException", () => {
  const valid = encodeCiphertextBlob(sample());
  for (let i = 0; i < 3000; i++) {
    const len = 2 + (i % 120);
    const junk = crypto.getRandomValues(new Uint8Array(len));
    junk[0] = 0x86;
    junk[1] = 0x01;
    assertInvalid(junk);
    // Random garbage spliced into a valid blob.
    const spliced = valid.slice();
    const at = 2 + (i % (valid.length - 2));
    spliced.set(junk.subarray(2, 2 + Math.min(8, spliced.length - at)), at);
    try {
      decodeCiphertextBlob(spliced);
    } catch (e) {
      assert.ok(e instanceof InvalidCiphertextException);
    }
  }
});

Deno.test("encode and headerBytes refuse malformed fields with TypeError", () => {
  const cases: Partial<CiphertextBlob>[] = [
    { keyId: "alias/x" },
    { materialVersion: -1 },
    { materialVersion: 1.5 },
    { materialVersion: 2 ** 32 },
    { nonce: new Uint8Array(15) },
    { iv: new Uint8Array(13) },
  ];
  for (const c of cases) {
    assert.throws(() => encodeCiphertextBlob(sample(c)), TypeError);
    assert.throws(() => headerBytes(sample(c)), TypeError);
  }
  assert.throws(() => encodeCiphertextBlob(sample({ ciphertext: new Uint8Array(15) })), TypeError);
});

Deno.test("format version 2 names SM4-GCM: [2, keyId, …] decodes with cipher SM4_GCM and round-trips", () => {
  const b = sample({ cipher: "SM4_GCM" });
  const encoded = bytes(
    array([uint(2), tstr(b.keyId), uint(1), bstr(b.nonce), bstr(b.iv), bstr(b.ciphertext)]),
  );
  assert.deepEqual(encodeCiphertextBlob(b), encoded);
  assert.deepEqual(decodeCiphertextBlob(encoded), b);
  assert.equal(headerBytes(b)[1], 2);
  assert.equal(decodeCiphertextBlob(encodeCiphertextBlob(sample())).cipher, undefined);
});
