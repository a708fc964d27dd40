import assert from "node:assert/strict";
import { MalformedPolicyDocumentException } from "../errors.ts";
import {
  compileCondition,
  conditionContext,
  type ContextValue,
  evaluateCondition,
  parseDate,
  parseNumber,
} from "./conditions.ts";

/** Compiles `condition` (with policy variables on) and evaluates it against `entries`. */
function holds(
  condition: Record<string, unknown>,
  entries: Record<string, ContextValue | undefined> = {},
  encryptionContext?: Record<string, string>,
): boolean {
  const compiled = compileCondition(condition, { variables: true });
  return evaluateCondition(compiled, conditionContext(entries, encryptionContext));
}

function malformed(condition: unknown): void {
  assert.throws(
    () => compileCondition(condition, { variables: true }),
    MalformedPolicyDocumentException,
  );
}

Deno.test("conditionContext lowercases key names and keeps value case", () => {
  const ctx = conditionContext({ "aws:ResourceTag/Project": "Alpha" });
  assert.deepEqual([...ctx], [["aws:resourcetag/project", ["Alpha"]]]);
});

Deno.test("conditionContext turns booleans and numbers into strings and drops absent values", () => {
  const ctx = conditionContext({
    "aws:SecureTransport": true,
    "kms:MultiRegion": false,
    "kms:RotationPeriodInDays": 365,
    "kms:ViaService": undefined,
    "kms:GrantOperations": [],
  });
  assert.deepEqual(ctx.get("aws:securetransport"), ["true"]);
  assert.deepEqual(ctx.get("kms:multiregion"), ["false"]);
  assert.deepEqual(ctx.get("kms:rotationperiodindays"), ["365"]);
  assert.equal(ctx.has("kms:viaservice"), false);
  assert.equal(ctx.has("kms:grantoperations"), false);
});

Deno.test("conditionContext adds encryption context pairs with lowercased keys and the key list in original case", () => {
  const ctx = conditionContext({}, { AppName: "ExampleApp", Project: "Alpha" });
  assert.deepEqual(ctx.get("kms:encryptioncontext:appname"), ["ExampleApp"]);
  assert.deepEqual(ctx.get("kms:encryptioncontext:project"), ["Alpha"]);
  assert.deepEqual(ctx.get("kms:encryptioncontextkeys"), ["AppName", "Project"]);
});

Deno.test("an empty Condition block holds", () => {
  assert.equal(
    evaluateCondition(compileCondition(undefined, { variables: false }), new Map()),
    true,
  );
  assert.equal(holds({}), true);
});

Deno.test("StringEquals is case-sensitive on values and case-insensitive on key names", () => {
  const c = { StringEquals: { "kms:EncryptionContext:AppName": "ExampleApp" } };
  assert.equal(holds(c, {}, { AppName: "ExampleApp" }), true);
  assert.equal(holds(c, {}, { appname: "ExampleApp" }), true);
  assert.equal(holds(c, {}, { APPNAME: "ExampleApp" }), true);
  assert.equal(holds(c, {}, { AppName: "exampleapp" }), false);
});

Deno.test("multiple values for one key are ORed", () => {
  const c = { StringEquals: { "kms:EncryptionContext:Stage": ["Restricted", "Production"] } };
  assert.equal(holds(c, {}, { Stage: "Production" }), true);
  assert.equal(holds(c, {}, { Stage: "Test" }), false);
});

Deno.test("multiple keys under one operator are ANDed", () => {
  const c = {
    StringEquals: {
      "kms:EncryptionContext:Department": "IT",
      "kms:EncryptionContext:Project": "Alpha",
    },
  };
  assert.equal(holds(c, {}, { Department: "IT", Project: "Alpha" }), true);
  assert.equal(holds(c, {}, { Department: "IT" }), false);
});

Deno.test("multiple operators are ANDed", () => {
  const c = {
    StringEquals: { "kms:CallerAccount": "111122223333" },
    Bool: { "aws:SecureTransport": "true" },
  };
  assert.equal(
    holds(c, { "kms:CallerAccount": "111122223333", "aws:SecureTransport": true }),
    true,
  );
  assert.equal(
    holds(c, { "kms:CallerAccount": "111122223333", "aws:SecureTransport": false }),
    false,
  );
});

Deno.test("a key absent from the request fails positive operators", () => {
  for (
    const op of [
      "StringEquals",
      "StringEqualsIgnoreCase",
      "StringLike",
      "NumericEquals",
      "NumericLessThan",
      "DateGreaterThan",
      "Bool",
      "BinaryEquals",
      "IpAddress",
      "ArnLike",
      "ArnEquals",
    ]
  ) {
    const value = op.startsWith("Numeric")
      ? "1"
      : op.startsWith("Date")
      ? "2020-01-01T00:00:00Z"
      : op === "Bool"
      ? "true"
      : op === "BinaryEquals"
      ? "QQ=="
      : op === "IpAddress"
      ? "10.0.0.0/8"
      : "arn:aws:iam::111122223333:user/x";
    assert.equal(holds({ [op]: { "test:Missing": value } }), false, op);
  }
});

Deno.test("a key absent from the request satisfies negated operators", () => {
  for (
    const [op, value] of [
      ["StringNotEquals", "a"],
      ["StringNotEqualsIgnoreCase", "a"],
      ["StringNotLike", "a*"],
      ["NumericNotEquals", "1"],
      ["DateNotEquals", "2020-01-01T00:00:00Z"],
      ["NotIpAddress", "10.0.0.0/8"],
      ["ArnNotEquals", "arn:aws:iam::111122223333:user/x"],
      ["ArnNotLike", "arn:aws:iam::111122223333:user/*"],
    ]
  ) {
    assert.equal(holds({ [op!]: { "test:Missing": value } }), true, op!);
  }
});

Deno.test("...IfExists holds when the key is absent and tests the value when present", () => {
  const c = { StringEqualsIfExists: { "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT" } };
  assert.equal(holds(c), true);
  assert.equal(holds(c, { "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT" }), true);
  assert.equal(holds(c, { "kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256" }), false);
});

Deno.test("StringNotEqualsIfExists holds when the key is absent", () => {
  const c = { StringNotEqualsIfExists: { "kms:ViaService": "ec2.us-west-2.amazonaws.com" } };
  assert.equal(holds(c), true);
  assert.equal(holds(c, { "kms:ViaService": "ec2.us-west-2.amazonaws.com" }), false);
});

Deno.test("Null true holds only when the key is absent, false only when present", () => {
  assert.equal(holds({ Null: { "aws:ResourceTag/Type": "true" } }), true);
  assert.equal(
    holds({ Null: { "aws:ResourceTag/Type": "true" } }, { "aws:ResourceTag/Type": "x" }),
    false,
  );
  assert.equal(holds({ Null: { "kms:EncryptionContextKeys": false } }), false);
  assert.equal(holds({ Null: { "kms:EncryptionContextKeys": false } }, {}, { a: "b" }), true);
});

Deno.test("ForAllValues holds for an absent key and requires every request value to match", () => {
  const c = { "ForAllValues:StringEquals": { "kms:GrantOperations": ["Encrypt", "ReEncryptTo"] } };
  assert.equal(holds(c), true);
  assert.equal(holds(c, { "kms:GrantOperations": ["Encrypt"] }), true);
  assert.equal(holds(c, { "kms:GrantOperations": ["Encrypt", "ReEncryptTo"] }), true);
  assert.equal(holds(c, { "kms:GrantOperations": ["Encrypt", "Decrypt"] }), false);
});

Deno.test("ForAnyValue fails for an absent key and requires one request value to match", () => {
  const c = { "ForAnyValue:StringEquals": { "kms:GrantOperations": ["Encrypt", "ReEncryptTo"] } };
  assert.equal(holds(c), false);
  assert.equal(holds(c, { "kms:GrantOperations": ["Encrypt", "Decrypt"] }), true);
  assert.equal(holds(c, { "kms:GrantOperations": ["Decrypt"] }), false);
});

Deno.test("ForAllValues with a negated operator requires no request value to match any policy value", () => {
  const c = { "ForAllValues:StringNotLike": { "aws:TagKeys": ["aws:*", "Secret*"] } };
  assert.equal(holds(c), true);
  assert.equal(holds(c, { "aws:TagKeys": ["Project", "Owner"] }), true);
  assert.equal(holds(c, { "aws:TagKeys": ["Project", "SecretLevel"] }), false);
});

Deno.test("ForAnyValue with a negated operator requires one request value matching no policy value", () => {
  const c = { "ForAnyValue:StringNotEquals": { "aws:TagKeys": ["Project"] } };
  assert.equal(holds(c), false);
  assert.equal(holds(c, { "aws:TagKeys": ["Project"] }), false);
  assert.equal(holds(c, { "aws:TagKeys": ["Project", "Owner"] }), true);
});

Deno.test("ForAnyValue...IfExists holds for an absent key", () => {
  const c = { "ForAnyValue:StringEqualsIfExists": { "kms:GrantOperations": "Encrypt" } };
  assert.equal(holds(c), true);
  assert.equal(holds(c, { "kms:GrantOperations": ["Decrypt"] }), false);
});

Deno.test("a plain operator on a multivalued key matches when any request value matches", () => {
  assert.equal(
    holds({ StringEquals: { "aws:TagKeys": "Owner" } }, { "aws:TagKeys": ["Project", "Owner"] }),
    true,
  );
  assert.equal(
    holds({ StringNotEquals: { "aws:TagKeys": "Owner" } }, { "aws:TagKeys": ["Project", "Owner"] }),
    false,
  );
});

Deno.test("a negated operator with several values is a NOR of them", () => {
  const c = {
    StringNotEquals: { "kms:EncryptionAlgorithm": ["SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_256"] },
  };
  assert.equal(holds(c, { "kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_1" }), true);
  assert.equal(holds(c, { "kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256" }), false);
});

Deno.test("StringEqualsIgnoreCase and StringNotEqualsIgnoreCase ignore value case", () => {
  const hash = "9fedcba8abcdef7abcdef6";
  assert.equal(
    holds({ StringEqualsIgnoreCase: { "kms:RecipientAttestation:ImageSha384": hash } }, {
      "kms:RecipientAttestation:ImageSha384": hash.toUpperCase(),
    }),
    true,
  );
  assert.equal(
    holds({ StringNotEqualsIgnoreCase: { "aws:username": "Bob" } }, { "aws:username": "BOB" }),
    false,
  );
});

Deno.test("StringLike supports * and ? anywhere and is case-sensitive", () => {
  assert.equal(
    holds({ StringLike: { "kms:KeySpec": "RSA_*" } }, { "kms:KeySpec": "RSA_2048" }),
    true,
  );
  assert.equal(
    holds({ StringLike: { "kms:KeySpec": "RSA_*" } }, { "kms:KeySpec": "rsa_2048" }),
    false,
  );
  assert.equal(
    holds({ StringLike: { "kms:KeySpec": "ECC_NIST_P?56" } }, { "kms:KeySpec": "ECC_NIST_P256" }),
    true,
  );
  assert.equal(
    holds({ StringLike: { "kms:KeySpec": "ECC_NIST_P?56" } }, { "kms:KeySpec": "ECC_NIST_P2256" }),
    false,
  );
  assert.equal(
    holds({ StringLike: { "kms:RequestAlias": "alias/*test*" } }, {
      "kms:RequestAlias": "alias/my-test-key",
    }),
    true,
  );
  assert.equal(holds({ StringLike: { "s:k": "a.b" } }, { "s:k": "axb" }), false);
  assert.equal(holds({ StringLike: { "s:k": "" } }, { "s:k": "" }), true);
});

Deno.test("StringNotLike denies a matching value and allows a different one", () => {
  assert.equal(
    holds({ StringNotLike: { "kms:KeySpec": "RSA_*" } }, { "kms:KeySpec": "RSA_4096" }),
    false,
  );
  assert.equal(
    holds({ StringNotLike: { "kms:KeySpec": "RSA_*" } }, { "kms:KeySpec": "HMAC_256" }),
    true,
  );
});

Deno.test("ArnLike matches each colon-separated component separately, unlike StringLike (IAM example)", () => {
  const pattern = "arn:aws:someservice:*:111122223333:finance/*";
  const value =
    "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt";
  assert.equal(
    holds({ StringLike: { "aws:SourceArn": pattern } }, { "aws:SourceArn": value }),
    true,
  );
  assert.equal(holds({ ArnLike: { "aws:SourceArn": pattern } }, { "aws:SourceArn": value }), false);
  assert.equal(
    holds({ ArnLike: { "aws:SourceArn": pattern } }, {
      "aws:SourceArn": "arn:aws:someservice:us-east-2:111122223333:finance/a:b",
    }),
    true,
  );
});

Deno.test("ArnEquals behaves like ArnLike and is case-sensitive", () => {
  const c = { ArnEquals: { "aws:PrincipalArn": "arn:aws:iam::111122223333:role/*" } };
  assert.equal(holds(c, { "aws:PrincipalArn": "arn:aws:iam::111122223333:role/Admin" }), true);
  assert.equal(holds(c, { "aws:PrincipalArn": "arn:aws:iam::111122223333:ROLE/Admin" }), false);
  assert.equal(
    holds({ ArnNotLike: c.ArnEquals }, {
      "aws:PrincipalArn": "arn:aws:iam::111122223333:user/Bob",
    }),
    true,
  );
});

Deno.test("Numeric operators compare integers and decimals", () => {
  assert.equal(
    holds({ NumericLessThanEquals: { "kms:ValidTo": "1546257599.0" } }, {
      "kms:ValidTo": "1546257599",
    }),
    true,
  );
  assert.equal(
    holds({ NumericLessThanEquals: { "kms:ValidTo": "1546257599.0" } }, {
      "kms:ValidTo": 1546257600,
    }),
    false,
  );
  assert.equal(holds({ NumericLessThan: { "n:k": 10 } }, { "n:k": 9.5 }), true);
  assert.equal(holds({ NumericGreaterThan: { "n:k": "10" } }, { "n:k": "10" }), false);
  assert.equal(holds({ NumericGreaterThanEquals: { "n:k": "10" } }, { "n:k": "10" }), true);
  assert.equal(holds({ NumericEquals: { "n:k": "10" } }, { "n:k": "10.0" }), true);
  assert.equal(holds({ NumericNotEquals: { "n:k": "10" } }, { "n:k": "11" }), true);
  assert.equal(holds({ NumericEquals: { "n:k": "0" } }, { "n:k": "" }), false);
  assert.equal(holds({ NumericEquals: { "n:k": "1" } }, { "n:k": "one" }), false);
});

Deno.test("Date operators accept ISO 8601 and epoch seconds on both sides", () => {
  const after = { DateGreaterThan: { "aws:CurrentTime": "2024-01-01T00:00:00Z" } };
  assert.equal(holds(after, { "aws:CurrentTime": "2024-06-01T00:00:00Z" }), true);
  assert.equal(holds(after, { "aws:CurrentTime": "2023-06-01T00:00:00Z" }), false);
  assert.equal(holds(after, { "aws:CurrentTime": "1717200000" }), true);
  assert.equal(
    holds({ DateLessThan: { "aws:EpochTime": "1717200000" } }, { "aws:EpochTime": "1717199999" }),
    true,
  );
  assert.equal(
    holds({ DateEquals: { "aws:CurrentTime": "2024-01-01" } }, {
      "aws:CurrentTime": "2024-01-01T00:00:00Z",
    }),
    true,
  );
  assert.equal(
    holds({ DateLessThanEquals: { "aws:CurrentTime": "2024-01-01T02:00:00+02:00" } }, {
      "aws:CurrentTime": "2024-01-01T00:00:00Z",
    }),
    true,
  );
  assert.equal(
    holds({ DateNotEquals: { "aws:CurrentTime": "2024-01-01T00:00:00Z" } }, {
      "aws:CurrentTime": "garbage",
    }),
    true,
  );
});

Deno.test("Bool compares true/false case-insensitively and accepts JSON booleans in the policy", () => {
  assert.equal(
    holds({ Bool: { "kms:GrantIsForAWSResource": true } }, { "kms:GrantIsForAWSResource": "true" }),
    true,
  );
  assert.equal(
    holds({ Bool: { "kms:GrantIsForAWSResource": "true" } }, {
      "kms:GrantIsForAWSResource": "True",
    }),
    true,
  );
  assert.equal(
    holds({ Bool: { "aws:SecureTransport": "false" } }, { "aws:SecureTransport": true }),
    false,
  );
});

Deno.test("BinaryEquals compares decoded base64 bytes", () => {
  assert.equal(
    holds({ BinaryEquals: { "b:k": "QmluYXJ5VmFsdWVJbkJhc2U2NA==" } }, {
      "b:k": btoa("BinaryValueInBase64"),
    }),
    true,
  );
  assert.equal(
    holds({ BinaryEquals: { "b:k": "QmluYXJ5VmFsdWVJbkJhc2U2NA==" } }, { "b:k": "QQ==" }),
    false,
  );
  assert.equal(holds({ BinaryEquals: { "b:k": "QQ==" } }, { "b:k": "not base64!" }), false);
});

Deno.test("IpAddress matches IPv4 and IPv6 CIDR ranges and a bare address as a host route", () => {
  const c = {
    IpAddress: { "aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64", "198.51.100.7"] },
  };
  assert.equal(holds(c, { "aws:SourceIp": "203.0.113.255" }), true);
  assert.equal(holds(c, { "aws:SourceIp": "203.0.114.1" }), false);
  assert.equal(holds(c, { "aws:SourceIp": "2001:db8:1234:5678:ffff::1" }), true);
  assert.equal(holds(c, { "aws:SourceIp": "2001:db8:1234:5679::1" }), false);
  assert.equal(holds(c, { "aws:SourceIp": "198.51.100.7" }), true);
  assert.equal(holds(c, { "aws:SourceIp": "198.51.100.8" }), false);
  assert.equal(holds(c, { "aws:SourceIp": "::ffff:203.0.113.9" }), true);
  assert.equal(holds(c, { "aws:SourceIp": "not-an-ip" }), false);
});

Deno.test("NotIpAddress holds outside the range and fails inside it", () => {
  const c = { NotIpAddress: { "aws:SourceIp": "192.0.2.0/24" } };
  assert.equal(holds(c, { "aws:SourceIp": "192.0.2.10" }), false);
  assert.equal(holds(c, { "aws:SourceIp": "10.1.1.1" }), true);
});

Deno.test("policy variables resolve from the request context; an unresolved variable does not match", () => {
  const c = { StringEquals: { "kms:EncryptionContext:user": "${aws:username}" } };
  assert.equal(holds(c, { "aws:username": "bob" }, { user: "bob" }), true);
  assert.equal(holds(c, { "aws:username": "alice" }, { user: "bob" }), false);
  assert.equal(holds(c, {}, { user: "bob" }), false);
  assert.equal(
    holds({ StringEquals: { "t:k": "${aws:username, 'nobody'}" } }, { "t:k": "nobody" }),
    true,
  );
});

Deno.test("StringLike treats variable values literally and ${*} as a literal asterisk", () => {
  const c = { StringLike: { "t:k": "home/${aws:username}/*" } };
  assert.equal(holds(c, { "aws:username": "bob", "t:k": "home/bob/file" }), true);
  assert.equal(holds(c, { "aws:username": "b*", "t:k": "home/bobby/file" }), false);
  assert.equal(holds({ StringLike: { "t:k": "a${*}b" } }, { "t:k": "a*b" }), true);
  assert.equal(holds({ StringLike: { "t:k": "a${*}b" } }, { "t:k": "axb" }), false);
});

Deno.test("variables stay literal text when the policy version has no variables", () => {
  const compiled = compileCondition({ StringEquals: { "t:k": "${aws:username}" } }, {
    variables: false,
  });
  assert.equal(
    evaluateCondition(
      compiled,
      conditionContext({ "t:k": "${aws:username}", "aws:username": "x" }),
    ),
    true,
  );
});

Deno.test("compileCondition refuses unknown operators and misuse of Null", () => {
  malformed({ StringEqualz: { "a:b": "c" } });
  malformed({ "ForSomeValues:StringEquals": { "a:b": "c" } });
  malformed({ NullIfExists: { "a:b": "true" } });
  malformed({ "ForAnyValue:Null": { "a:b": "true" } });
  malformed({ Null: { "a:b": "maybe" } });
});

Deno.test("compileCondition refuses values the operator cannot use", () => {
  malformed({ NumericEquals: { "a:b": "ten" } });
  malformed({ DateLessThan: { "a:b": "yesterday" } });
  malformed({ IpAddress: { "a:b": "300.1.1.1/8" } });
  malformed({ IpAddress: { "a:b": "10.0.0.0/33" } });
  malformed({ Bool: { "a:b": "yes" } });
  malformed({ BinaryEquals: { "a:b": "@@" } });
  malformed({ StringEquals: { "a:b": { nested: true } } });
  malformed({ StringEquals: { "a:b": [] } });
  malformed({ StringEquals: { "a:b": null } });
  malformed({ StringEquals: {} });
  malformed({ StringEquals: "a" });
  malformed(["StringEquals"]);
  malformed({ StringEquals: { "": "x" } });
});

Deno.test("operator names and set prefixes are matched case-insensitively", () => {
  assert.equal(holds({ stringequals: { "a:b": "c" } }, { "a:b": "c" }), true);
  assert.equal(
    holds({ "forallvalues:stringequalsifexists": { "a:b": "c" } }, { "a:b": ["c"] }),
    true,
  );
});

Deno.test("parseNumber accepts decimal notation only", () => {
  assert.equal(parseNumber("10"), 10);
  assert.equal(parseNumber("-1.5e3"), -1500);
  assert.equal(Number.isNaN(parseNumber("")), true);
  assert.equal(Number.isNaN(parseNumber("0x10")), true);
  assert.equal(Number.isNaN(parseNumber(" 1")), true);
});

Deno.test("parseDate reads W3C ISO 8601 profiles (no zone means UTC) and epoch seconds", () => {
  const t = Date.UTC(2024, 0, 1);
  assert.equal(parseDate("2024-01-01T00:00:00Z"), t);
  assert.equal(parseDate("2024-01-01T00:00:00"), t);
  assert.equal(parseDate("2024-01-01T00:00Z"), t);
  assert.equal(parseDate("2024-01-01"), t);
  assert.equal(parseDate("2024-01"), t);
  assert.equal(parseDate("2024"), t);
  assert.equal(parseDate(String(t / 1000)), t);
  assert.equal(parseDate("1546257599.0"), 1546257599000);
  assert.equal(Number.isNaN(parseDate("01/01/2024")), true);
});
Deno.test("a many-wildcard pattern against a long value is matched without backtracking blow-up", () => {
  const pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*b";
  const long = "a".repeat(8192);
  assert.equal(
    holds({ StringLike: { "kms:EncryptionContext:k": pattern } }, {}, { k: long }),
    false,
  );
  assert.equal(
    holds({ StringLike: { "kms:EncryptionContext:k": pattern } }, {}, { k: `${long}b` }),
    true,
  );
  assert.equal(
    holds({ ArnLike: { "aws:SourceArn": `arn:*:*:*:*:${pattern}` } }, {
      "aws:SourceArn": `arn:aws:s:r:1:${long}`,
    }),
    false,
  );
});
