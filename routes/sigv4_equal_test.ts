import assert from "node:assert/strict";
import { constantTimeEqual } from "./sigv4.ts";

Deno.test("constantTimeEqual is true exactly for equal strings", () => {
  const signature = "a".repeat(63) + "b";
  assert.equal(constantTimeEqual(signature, "a".repeat(63) + "b"), true);
  assert.equal(constantTimeEqual(signature, "a".repeat(64)), false);
  assert.equal(constantTimeEqual(signature, "b" + "a".repeat(62) + "b"), false);
  assert.equal(constantTimeEqual(signature, signature.slice(0, 63)), false);
  assert.equal(constantTimeEqual("", ""), true);
  assert.equal(constantTimeEqual("é", "e"), false);
});
