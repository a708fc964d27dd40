import assert from "node:assert/strict";
import { decide } from "./decide.ts";
import { parsePolicy } from "./policy.ts";
import { conditionValues } from "./request_context.ts";

const CALLER = {
  accessKeyId: "AKIAREQUESTCONTEXT01",
  accountId: "111122223333",
  principalArn: "arn:aws:iam::111122223333:user/alice",
  region: "us-east-1",
  sourceIp: "192.0.2.7",
};

function identityPolicy(statement: Record<string, unknown>) {
  return parsePolicy(
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "kms:*", Resource: "*", ...statement }],
    }),
    "identity",
  );
}

function decideWith(policy: ReturnType<typeof identityPolicy>) {
  const context = conditionValues(CALLER, null, { keySpec: "SYMMETRIC_DEFAULT" }, Date.now());
  const decision = decide({
    request: {
      principalArn: CALLER.principalArn,
      principalAccount: CALLER.accountId,
      action: "kms:CreateKey",
      resource: "*",
      context,
    },
    keyPolicy: null,
    keyAccount: null,
    callerIsAccountRoot: false,
    identityPolicies: [policy],
    grantAllows: false,
  });
  return { allowed: decision.allowed, built: context.built };
}

Deno.test("a request allowed by an unconditional statement never builds its condition context", () => {
  assert.deepEqual(decideWith(identityPolicy({})), { allowed: true, built: false });
});

Deno.test("a condition builds the context on its first read and is decided on its values", () => {
  const on = (name: string) =>
    identityPolicy({ Condition: { StringEquals: { "aws:username": name } } });
  assert.deepEqual(decideWith(on("alice")), { allowed: true, built: true });
  assert.deepEqual(decideWith(on("bob")), { allowed: false, built: true });
});

Deno.test("the lazy context holds the request's values under lowercased keys", () => {
  const now = Date.UTC(2026, 11, 7, 17, 0, 0);
  const context = conditionValues(
    CALLER,
    null,
    { encryptionContext: { Purpose: "bench" }, keySpec: "SYMMETRIC_DEFAULT" },
    now,
  );
  assert.equal(context.built, false);
  assert.deepEqual(context.get("aws:username"), ["alice"]);
  assert.equal(context.built, true);
  assert.deepEqual(context.get("aws:currenttime"), ["2026-12-07T17:00:00.000Z"]);
  assert.deepEqual(context.get("kms:encryptioncontext:purpose"), ["bench"]);
  assert.deepEqual(context.get("kms:encryptioncontextkeys"), ["Purpose"]);
  assert.deepEqual(context.get("aws:sourceip"), ["192.0.2.7"]);
  assert.equal(context.has("aws:resourceaccount"), false);
  assert.equal(new Map(context).get("kms:keyspec")?.[0], "SYMMETRIC_DEFAULT");
  assert.equal(context.size, [...context.keys()].length);
});
