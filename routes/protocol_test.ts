import assert from "node:assert/strict";
import { SerializationException } from "../core/errors.ts";
import { MAX_JSON_DEPTH, nestsDeeperThan, parseJsonObject } from "./protocol.ts";

const utf8 = new TextEncoder();
const nested = (depth: number, open = "[", close = "]") =>
  utf8.encode(`{"a":${open.repeat(depth - 1)}${close.repeat(depth - 1)}}`);

Deno.test("nesting is measured exactly at the bound, with many openers or few", () => {
  assert.equal(nestsDeeperThan(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH), false);
  assert.equal(nestsDeeperThan(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH), true);
  assert.equal(nestsDeeperThan(nested(MAX_JSON_DEPTH + 1, '{"b":', "}"), MAX_JSON_DEPTH), true);
  // Many openers side by side nest only two deep.
  const wide = utf8.encode(`{"a":[${Array(200).fill("[]").join(",")}]}`);
  assert.equal(nestsDeeperThan(wide, MAX_JSON_DEPTH), false);
  // Brackets inside strings do not nest.
  const quoted = utf8.encode(JSON.stringify({ a: "[".repeat(500) }));
  assert.equal(nestsDeeperThan(quoted, MAX_JSON_DEPTH), false);
  assert.equal(nestsDeeperThan(utf8.encode("[[[]]]"), 2), true);
  assert.equal(nestsDeeperThan(utf8.encode("[[]]"), 2), false);
});

Deno.test("a body that is not UTF-8 is measured on its bytes: too deep, or else not JSON", () => {
  const deep = new Uint8Array([...nested(MAX_JSON_DEPTH + 1), 0xff]);
  assert.throws(
    () => parseJsonObject(deep),
    (e) => e instanceof SerializationException && /deeper than 64/.test(e.message),
  );
  assert.throws(
    () => parseJsonObject(new Uint8Array([...nested(3), 0xff])),
    (e) => e instanceof SerializationException && /not valid JSON/.test(e.message),
  );
});

Deno.test("nesting in text counts brackets outside strings only, escapes included", () => {
  const inString = utf8.encode(JSON.stringify({ a: "[{".repeat(100) + '\\"[' }));
  assert.deepEqual(Object.keys(parseJsonObject(inString)), ["a"]);
  const wide = utf8.encode(`{"a":[${Array(200).fill("[]").join(",")}]}`);
  assert.deepEqual(Object.keys(parseJsonObject(wide)), ["a"]);
});

Deno.test("a body nested past the bound is refused before parsing, one within it parses", () => {
  assert.throws(
    () => parseJsonObject(nested(MAX_JSON_DEPTH + 1)),
    (e) => e instanceof SerializationException && /deeper than 64/.test(e.message),
  );
  assert.deepEqual(Object.keys(parseJsonObject(nested(MAX_JSON_DEPTH))), ["a"]);
});
