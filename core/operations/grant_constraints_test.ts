import assert from "node:assert/strict";
import { ValidationException } from "../errors.ts";
import { checkedGrantConstraints } from "./grants.ts";

Deno.test("grant constraints are normalised: empty constraints are none, contexts are copied", () => {
  assert.equal(checkedGrantConstraints(undefined, "SYMMETRIC_DEFAULT"), null);
  assert.equal(checkedGrantConstraints({}, "SYMMETRIC_DEFAULT"), null);
  const context = { purpose: "test" };
  const checked = checkedGrantConstraints(
    { EncryptionContextSubset: context },
    "SYMMETRIC_DEFAULT",
  );
  assert.deepEqual(Object.keys(checked ?? {}), ["EncryptionContextSubset"]);
  assert.deepEqual({ ...checked?.EncryptionContextSubset }, { purpose: "test" });
  assert.notEqual(checked?.EncryptionContextSubset, context);
});

Deno.test("encryption-context grant constraints are refused on keys whose operations take none", () => {
  assert.throws(
    () => checkedGrantConstraints({ EncryptionContextEquals: { a: "b" } }, "RSA_2048"),
    new ValidationException(
      "EncryptionContextEquals grant constraints are not supported for RSA_2048 KMS keys: their operations take no encryption context.",
    ),
  );
});

Deno.test("grant constraints take at most 8 pairs of values of at most 384 characters", () => {
  const nine = Object.fromEntries([...Array(9).keys()].map((i) => [`k${i}`, "v"]));
  assert.throws(
    () => checkedGrantConstraints({ EncryptionContextSubset: nine }, "SYMMETRIC_DEFAULT"),
    new ValidationException("EncryptionContextSubset can have at most 8 encryption context pairs."),
  );
  assert.throws(
    () =>
      checkedGrantConstraints(
        { EncryptionContextEquals: { k: "v".repeat(385) } },
        "SYMMETRIC_DEFAULT",
      ),
    new ValidationException(
      "Encryption context values in EncryptionContextEquals cannot exceed 384 characters.",
    ),
  );
  const eight = Object.fromEntries([...Array(8).keys()].map((i) => [`k${i}`, "v".repeat(384)]));
  const accepted = checkedGrantConstraints({ EncryptionContextSubset: eight }, "SYMMETRIC_DEFAULT");
  assert.deepEqual({ ...accepted?.EncryptionContextSubset }, eight);
});
