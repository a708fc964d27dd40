import assert from "node:assert/strict";
import { InvalidMarkerException } from "../errors.ts";
import { cutPage, decodeMarker, encodeMarker } from "./paging.ts";

const digits = (position: string) => /^\d+$/.test(position) ? Number(position) : undefined;

Deno.test("a marker decodes to the position it was made from, for its own listing", () => {
  assert.equal(decodeMarker(encodeMarker("tags", 42), "tags", digits), 42);
  assert.equal(decodeMarker(encodeMarker("alias", "alias/a:b"), "alias", (p) => p), "alias/a:b");
});

Deno.test("a marker of another listing, a rejected position or non-base64 is InvalidMarkerException", () => {
  for (const marker of [encodeMarker("key", 42), encodeMarker("tags", "x"), "%%%", btoa("tags")]) {
    assert.throws(() => decodeMarker(marker, "tags", digits), (error: unknown) => {
      assert.ok(error instanceof InvalidMarkerException);
      assert.equal(error.message, "Invalid marker");
      return true;
    });
  }
});

Deno.test("cutPage shows the first `limit` rows and a marker after the last shown when more follow", () => {
  const rows = ["a", "b", "c"];
  assert.deepEqual(cutPage(rows, 2, (last, shown) => `${last}/${shown}`), {
    shown: ["a", "b"],
    end: { NextMarker: "b/2", Truncated: true },
  });
  assert.deepEqual(cutPage(rows, 3, () => "never"), {
    shown: rows,
    end: { Truncated: false },
  });
});
