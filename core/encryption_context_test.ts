import assert from "node:assert/strict";
import fc from "fast-check";
import { canonicalEncryptionContext, type EncryptionContext } from "./encryption_context.ts";
import { ValidationException } from "./errors.ts";

const utf8 = new TextEncoder();

/** Builds a null-prototype context, as the request schemas do. */
function ctx(entries: [string, string][]): EncryptionContext {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of entries) out[k] = v;
  return out;
}

/** The expected encoding, written out independently of the implementation. */
function expected(pairs: [string, string][]): Uint8Array {
  const parts: number[] = [];
  const u32 = (n: number) => parts.push(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  u32(pairs.length);
  for (const [k, v] of pairs) {
    const kb = utf8.encode(k);
    const vb = utf8.encode(v);
    u32(kb.length);
    parts.push(...kb);
    u32(vb.length);
    parts.push(...vb);
  }
  return new Uint8Array(parts);
}

Deno.test("an absent or empty context encodes as zero pairs", () => {
  assert.deepEqual(canonicalEncryptionContext(undefined), new Uint8Array(4));
  assert.deepEqual(canonicalEncryptionContext(ctx([])), new Uint8Array(4));
  assert.deepEqual(canonicalEncryptionContext({}), new Uint8Array(4));
});

Deno.test("a context encodes as count, then length-prefixed UTF-8 key and value per pair", () => {
  assert.deepEqual(
    canonicalEncryptionContext(ctx([["purpose", "test"], ["tenant", "ä"]])),
    expected([["purpose", "test"], ["tenant", "ä"]]),
  );
  assert.deepEqual(
    [...canonicalEncryptionContext(ctx([["a", "bc"]]))],
    [0, 0, 0, 1, 0, 0, 0, 1, 0x61, 0, 0, 0, 2, 0x62, 0x63],
  );
});

Deno.test("the encoding does not depend on insertion order", () => {
  const a = canonicalEncryptionContext(ctx([["b", "2"], ["a", "1"], ["c", "3"]]));
  const b = canonicalEncryptionContext(ctx([["c", "3"], ["a", "1"], ["b", "2"]]));
  assert.deepEqual(a, b);
  assert.deepEqual(a, expected([["a", "1"], ["b", "2"], ["c", "3"]]));
});

Deno.test("pairs are sorted by the UTF-8 bytes of the key, not by UTF-16 code units", () => {
  // UTF-16: "\u{1F600}" (D83D DE00) < "\uFF61"; UTF-8: "\uFF61" (EF BD A1) < "\u{1F600}" (F0 9F 98 80).
  assert.ok("\u{1F600}" < "\uFF61");
  const want = expected([["\uFF61", "x"], ["\u{1F600}", "y"]]);
  assert.deepEqual(canonicalEncryptionContext(ctx([["\u{1F600}", "y"], ["\uFF61", "x"]])), want);
  assert.deepEqual(canonicalEncryptionContext(ctx([["\uFF61", "x"], ["\u{1F600}", "y"]])), want);
});

Deno.test("a key that is a prefix of another sorts first", () => {
  assert.deepEqual(
    canonicalEncryptionContext(ctx([["ab", "2"], ["a", "1"]])),
    expected([["a", "1"], ["ab", "2"]]),
  );
});

Deno.test('{"ab":"c"} and {"a":"bc"} encode differently', () => {
  assert.notDeepEqual(
    canonicalEncryptionContext(ctx([["ab", "c"]])),
    canonicalEncryptionContext(ctx([["a", "bc"]])),
  );
});

Deno.test("NFC and NFD forms of the same text are different contexts (no normalisation)", () => {
  const nfc = "caf\u00e9";
  const nfd = "cafe\u0301";
  assert.equal(nfc.normalize("NFD"), nfd);
  assert.notDeepEqual(
    canonicalEncryptionContext(ctx([["k", nfc]])),
    canonicalEncryptionContext(ctx([["k", nfd]])),
  );
  assert.notDeepEqual(
    canonicalEncryptionContext(ctx([[nfc, "v"]])),
    canonicalEncryptionContext(ctx([[nfd, "v"]])),
  );
});

Deno.test("__proto__, constructor and toString are ordinary keys", () => {
  const pairs: [string, string][] = [["__proto__", "p"], ["constructor", "c"], ["toString", "t"]];
  const want = expected([["__proto__", "p"], ["constructor", "c"], ["toString", "t"]]);
  assert.deepEqual(canonicalEncryptionContext(ctx(pairs)), want);
  // JSON.parse makes `__proto__` an own property even on an ordinary object.
  const parsed = JSON.parse('{"constructor":"c","__proto__":"p","toString":"t"}');
  assert.deepEqual(canonicalEncryptionContext(parsed), want);
});

Deno.test("inherited properties are not part of the context", () => {
  const proto = { inherited: "x" };
  const withProto = Object.assign(Object.create(proto), { own: "y" });
  assert.deepEqual(canonicalEncryptionContext(withProto), expected([["own", "y"]]));
});

Deno.test("empty keys and values are encoded with zero length", () => {
  assert.deepEqual(canonicalEncryptionContext(ctx([["", ""]])), expected([["", ""]]));
});

Deno.test("a non-string value is rejected with ValidationException", () => {
  const bad = { k: 1 } as unknown as EncryptionContext;
  assert.throws(() => canonicalEncryptionContext(bad), ValidationException);
});

Deno.test("a lone surrogate in a key or value is rejected (it would collide with U+FFFD)", () => {
  assert.throws(() => canonicalEncryptionContext(ctx([["k", "\uD800"]])), ValidationException);
  assert.throws(() => canonicalEncryptionContext(ctx([["\uDC00", "v"]])), ValidationException);
  assert.deepEqual(
    canonicalEncryptionContext(ctx([["k", "\uFFFD"]])),
    expected([["k", "\uFFFD"]]),
  );
});

Deno.test("any context, ASCII or not, encodes as the reference layout (property)", () => {
  const text = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.string({ unit: "grapheme", maxLength: 6 }),
    fc.constantFrom("", "a", "A", "aa", "~", "\u007f", "\u0080", "é", "😀"),
  );
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(text, text), { maxLength: 6, selector: ([key]) => key }),
      (pairs) => {
        const byKeyBytes = [...pairs].sort(([a], [b]) => {
          const [x, y] = [utf8.encode(a), utf8.encode(b)];
          for (let i = 0; i < Math.min(x.length, y.length); i++) {
            if (x[i] !== y[i]) return x[i]! - y[i]!;
          }
          return x.length - y.length;
        });
        assert.deepEqual(canonicalEncryptionContext(ctx(pairs)), expected(byKeyBytes));
      },
    ),
    { numRuns: 1000, seed: 20261207 },
  );
});
