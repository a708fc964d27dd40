import assert from "node:assert/strict";
import {
  constraintsMet,
  contextEquals,
  contextIncludes,
  grantOperationsFor,
  grantPermits,
  type GrantRecord,
  isNoWiderThan,
  keyHexOf,
  newGrantId,
  newGrantToken,
  readGrantToken,
} from "./grants.ts";
import { InvalidGrantTokenException } from "../errors.ts";

const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
const BOB = "arn:aws:iam::111122223333:user/bob";

function grant(overrides: Partial<GrantRecord> = {}): GrantRecord {
  return {
    grantId: newGrantId(),
    keyId: KEY_ID,
    name: null,
    granteePrincipal: BOB,
    granteeServicePrincipal: null,
    retiringPrincipal: null,
    retiringServicePrincipal: null,
    issuingAccount: "arn:aws:iam::111122223333:root",
    operations: ["Decrypt", "GenerateDataKeyPair"],
    constraints: null,
    createdAt: 0,
    ...overrides,
  };
}

function plain(entries: [string, string][]): Record<string, string> {
  const context: Record<string, string> = Object.create(null);
  for (const [key, value] of entries) {
    Object.defineProperty(context, key, { value, enumerable: true });
  }
  return context;
}

Deno.test("a grant token names its grant and key and reads back", () => {
  const id = newGrantId();
  const token = newGrantToken(id, KEY_ID);
  assert.deepEqual(readGrantToken(token), { grantId: id, keyHex: keyHexOf(KEY_ID) });
  assert.notEqual(newGrantToken(id, KEY_ID), token, "every token is new");
});

Deno.test("a malformed grant token is InvalidGrantTokenException", () => {
  for (const token of ["x", "AAAA", "not base64 !!", newGrantToken(newGrantId(), KEY_ID) + "AA"]) {
    assert.throws(() => readGrantToken(token), InvalidGrantTokenException, token);
  }
});

Deno.test("a grant permits only its grantee and its operations", () => {
  const g = grant();
  assert.equal(grantPermits(g, { principalArn: BOB, operation: "Decrypt" }), true);
  assert.equal(grantPermits(g, { principalArn: BOB, operation: "Encrypt" }), false);
  assert.equal(
    grantPermits(g, { principalArn: "arn:aws:iam::111122223333:user/eve", operation: "Decrypt" }),
    false,
  );
});

Deno.test("EncryptionContextSubset: keys compare case-insensitively, values exactly", () => {
  const constraints = { EncryptionContextSubset: { Purpose: "test" } };
  assert.equal(constraintsMet(constraints, "Decrypt", { purpose: "test", extra: "1" }), true);
  assert.equal(constraintsMet(constraints, "Decrypt", { purpose: "Test" }), false);
  assert.equal(constraintsMet(constraints, "Decrypt", {}), false);
  assert.equal(constraintsMet(constraints, "Decrypt", undefined), false);
});

Deno.test("EncryptionContextEquals needs exactly the same pairs", () => {
  const constraints = { EncryptionContextEquals: { a: "1" } };
  assert.equal(constraintsMet(constraints, "Decrypt", { A: "1" }), true);
  assert.equal(constraintsMet(constraints, "Decrypt", { a: "1", b: "2" }), false);
});

Deno.test("context constraints do not apply to DescribeKey and RetireGrant", () => {
  const constraints = { EncryptionContextEquals: { a: "1" } };
  assert.equal(constraintsMet(constraints, "DescribeKey", undefined), true);
  assert.equal(constraintsMet(constraints, "RetireGrant", undefined), true);
});

Deno.test("constraint keys such as __proto__ and constructor match exactly", () => {
  const required = plain([["__proto__", "x"]]);
  assert.equal(contextIncludes(plain([["__proto__", "x"]]), required), true);
  assert.equal(contextIncludes({}, required), false);
  assert.equal(contextIncludes(plain([["constructor", "x"]]), plain([["constructor", "x"]])), true);
  assert.equal(contextIncludes({}, plain([["constructor", "x"]])), false);
  assert.equal(contextIncludes({}, plain([["toString", "x"]])), false);
  assert.equal(contextEquals(plain([["__proto__", "x"]]), {}), false);
});

Deno.test("a grant made through a grant may not widen operations or loosen constraints", () => {
  const parent = grant({
    operations: ["Decrypt", "CreateGrant"],
    constraints: { EncryptionContextSubset: { tenant: "a" } },
  });
  const strict = { EncryptionContextSubset: { tenant: "a", app: "x" } };
  assert.equal(isNoWiderThan({ operations: ["Decrypt"], constraints: strict }, parent), true);
  assert.equal(
    isNoWiderThan({
      operations: ["Decrypt"],
      constraints: { EncryptionContextEquals: { tenant: "a" } },
    }, parent),
    true,
  );
  assert.equal(isNoWiderThan({ operations: ["Encrypt"], constraints: strict }, parent), false);
  assert.equal(isNoWiderThan({ operations: ["Decrypt"], constraints: null }, parent), false);
  assert.equal(
    isNoWiderThan({
      operations: ["Decrypt"],
      constraints: { EncryptionContextSubset: { tenant: "b" } },
    }, parent),
    false,
  );
});

Deno.test("grant operations follow the key's usage", () => {
  const symmetric = grantOperationsFor({
    keySpec: "SYMMETRIC_DEFAULT",
    keyUsage: "ENCRYPT_DECRYPT",
  });
  assert.ok(symmetric.includes("GenerateDataKeyPair"));
  assert.ok(!symmetric.includes("Sign"));
  const signing = grantOperationsFor({ keySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY" });
  assert.deepEqual(signing.sort(), [
    "CreateGrant",
    "DescribeKey",
    "GetPublicKey",
    "RetireGrant",
    "Sign",
    "Verify",
  ]);
  assert.ok(
    grantOperationsFor({ keySpec: "HMAC_256", keyUsage: "GENERATE_VERIFY_MAC" }).includes(
      "VerifyMac",
    ),
  );
});
