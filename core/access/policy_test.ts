import assert from "node:assert/strict";
import { MalformedPolicyDocumentException } from "../errors.ts";
import { conditionContext } from "./conditions.ts";
import {
  evaluatePolicy,
  isAccountRootArn,
  parsePolicy,
  type PolicyKind,
  type PolicyRequest,
} from "./policy.ts";

const ACCOUNT = "111122223333";
const KEY = `arn:aws:kms:us-west-2:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;

/** AWS's default key policy (key-policy-default.html), as core/key_policy.ts writes it. */
function defaultKeyPolicy(account: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Id: "key-default-1",
    Statement: [{
      Sid: "Enable IAM User Permissions",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${account}:root` },
      Action: "kms:*",
      Resource: "*",
    }],
  });
}

function stmt(extra: Record<string, unknown>): Record<string, unknown> {
  return { Effect: "Allow", Principal: { AWS: ROOT }, Action: "kms:*", Resource: "*", ...extra };
}

function doc(...statements: Record<string, unknown>[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

function rejects(text: string, message: RegExp, kind: PolicyKind = "key"): void {
  assert.throws(() => parsePolicy(text, kind), (e: unknown) => {
    assert.ok(e instanceof MalformedPolicyDocumentException);
    assert.equal(e.name, "MalformedPolicyDocumentException");
    assert.match(e.message, message);
    return true;
  });
}

function request(overrides: Partial<PolicyRequest> = {}): PolicyRequest {
  return {
    principalArn: ALICE,
    principalAccount: ACCOUNT,
    action: "kms:Decrypt",
    resource: KEY,
    context: new Map(),
    ...overrides,
  };
}

Deno.test("parsePolicy accepts AWS's default key policy", () => {
  const p = parsePolicy(defaultKeyPolicy(ACCOUNT), "key");
  assert.equal(p.kind, "key");
  assert.equal(p.version, "2012-10-17");
  assert.equal(p.statements.length, 1);
  assert.equal(p.statements[0]!.sid, "Enable IAM User Permissions");
  assert.deepEqual([...p.statements[0]!.principal!.accounts], [ACCOUNT]);
  assert.ok(Object.isFrozen(p) && Object.isFrozen(p.statements));
});

Deno.test("parsePolicy accepts a single statement object, no Version, and Sids with spaces", () => {
  const p = parsePolicy(
    JSON.stringify({ Statement: stmt({ Sid: "Allow use of the key" }) }),
    "key",
  );
  assert.equal(p.version, null);
  assert.equal(p.statements[0]!.sid, "Allow use of the key");
  assert.equal(
    parsePolicy(JSON.stringify({ Version: "2008-10-17", Statement: [stmt({})] }), "key").version,
    "2008-10-17",
  );
});

Deno.test("parsePolicy refuses text that is not a JSON object without echoing it", () => {
  rejects("{not json SECRET", /not valid JSON/);
  assert.throws(
    () => parsePolicy("{not json SECRET", "key"),
    (e: Error) => !e.message.includes("SECRET"),
  );
  rejects("[]", /must be a JSON object/);
  rejects("null", /must be a JSON object/);
  rejects('"text"', /must be a JSON object/);
});

Deno.test("parsePolicy refuses an unknown Version", () => {
  rejects(JSON.stringify({ Version: "2012-10-18", Statement: [stmt({})] }), /invalid Version/);
  rejects(JSON.stringify({ Version: 2012, Statement: [stmt({})] }), /invalid Version/);
});

Deno.test("parsePolicy refuses a missing, empty or non-object Statement", () => {
  rejects(JSON.stringify({ Version: "2012-10-17" }), /missing the required Statement/);
  rejects(JSON.stringify({ Version: "2012-10-17", Statement: [] }), /at least one statement/);
  rejects(JSON.stringify({ Version: "2012-10-17", Statement: ["Allow"] }), /not a JSON object/);
});

Deno.test("parsePolicy refuses unknown top-level and statement fields", () => {
  rejects(
    JSON.stringify({ Version: "2012-10-17", Statement: [stmt({})], Extra: 1 }),
    /unknown element: Extra/,
  );
  rejects(doc(stmt({ Principals: "*" })), /unknown element: Principals/);
  rejects(doc(stmt({ effect: "Allow" })), /unknown element: effect/);
  rejects(JSON.stringify({ Id: 5, Statement: [stmt({})] }), /invalid Id/);
  rejects(doc(stmt({ Sid: 1 })), /invalid Sid/);
});

Deno.test("parsePolicy requires Effect Allow or Deny, case-sensitively", () => {
  rejects(doc({ Principal: "*", Action: "kms:*", Resource: "*" }), /without an Effect/);
  rejects(doc(stmt({ Effect: "allow" })), /invalid Effect/);
  rejects(doc(stmt({ Effect: "Permit" })), /invalid Effect/);
});

Deno.test("key policies require exactly one of Principal and NotPrincipal", () => {
  rejects(doc({ Effect: "Allow", Action: "kms:*", Resource: "*" }), /without a Principal/);
  rejects(doc(stmt({ NotPrincipal: { AWS: ALICE } })), /both Principal and NotPrincipal/);
});

Deno.test("NotPrincipal is refused with Allow (IAM supports it only with Deny)", () => {
  const s = { Effect: "Allow", NotPrincipal: { AWS: ALICE }, Action: "kms:*", Resource: "*" };
  rejects(doc(s), /one or more invalid principals/);
  assert.equal(parsePolicy(doc({ ...s, Effect: "Deny" }), "key").statements[0]!.notPrincipal, true);
});

Deno.test("identity policies refuse Principal and NotPrincipal", () => {
  rejects(doc(stmt({})), /must not specify a Principal/, "identity");
  rejects(
    doc({ Effect: "Deny", NotPrincipal: { AWS: ALICE }, Action: "kms:*", Resource: "*" }),
    /must not specify a Principal/,
    "identity",
  );
  const p = parsePolicy(doc({ Effect: "Allow", Action: "kms:Decrypt", Resource: KEY }), "identity");
  assert.equal(p.statements[0]!.principal, null);
});

Deno.test("parsePolicy accepts every documented AWS principal form", () => {
  for (
    const principal of [
      "*",
      { AWS: "*" },
      { AWS: ACCOUNT },
      { AWS: ROOT },
      { AWS: `arn:aws:iam::${ACCOUNT}:user/KMSAdminUser` },
      { AWS: `arn:aws:iam::${ACCOUNT}:user/division_abc/subdivision_xyz/Bob` },
      { AWS: `arn:aws:iam::${ACCOUNT}:role/KMSAdminRole` },
      { AWS: `arn:aws:iam::${ACCOUNT}:role/service-role/App.Role@x` },
      { AWS: `arn:aws:sts::${ACCOUNT}:assumed-role/data-processing/session-1` },
      { AWS: `arn:aws:sts::${ACCOUNT}:federated-user/Bob` },
      { AWS: ["arn:aws:iam::444455556666:root", `arn:aws:iam::${ACCOUNT}:role/ExampleRole`] },
      { Service: "ec2.amazonaws.com" },
      { Service: ["logs.us-west-2.amazonaws.com"] },
      { Federated: "cognito-identity.amazonaws.com" },
    ]
  ) {
    assert.doesNotThrow(
      () => parsePolicy(doc(stmt({ Principal: principal })), "key"),
      JSON.stringify(principal),
    );
  }
});

Deno.test("parsePolicy refuses invalid principals with AWS's message", () => {
  for (
    const principal of [
      "alice",
      {},
      { AWS: [] },
      { AWS: "" },
      { AWS: 111122223333 },
      { AWS: "12345" },
      { AWS: "arn:aws:iam::12345:root" },
      { AWS: `arn:aws:iam::${ACCOUNT}:user/*` },
      { AWS: `arn:aws:iam::${ACCOUNT}:role/a*b` },
      { AWS: `arn:aws:iam::${ACCOUNT}:group/Admins` },
      { AWS: `arn:aws:kms:us-west-2:${ACCOUNT}:key/abc` },
      { AWS: "arn:aws:iam::*:root" },
      { CanonicalUser: "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be" },
      { Service: "*" },
      { Federated: "*" },
      ["*"],
    ]
  ) {
    rejects(
      doc(stmt({ Principal: principal })),
      /^Policy contains a statement with one or more invalid principals\.$/,
    );
  }
});

Deno.test("parsePolicy requires exactly one of Action and NotAction, as valid actions", () => {
  rejects(doc({ Effect: "Allow", Principal: "*", Resource: "*" }), /without Action or NotAction/);
  rejects(doc(stmt({ NotAction: "kms:Decrypt" })), /both Action and NotAction/);
  rejects(doc(stmt({ Action: [] })), /invalid Action element/);
  rejects(doc(stmt({ Action: "" })), /invalid Action element/);
  rejects(doc(stmt({ Action: 5 })), /invalid Action element/);
  rejects(doc(stmt({ Action: "Decrypt" })), /invalid actions/);
  rejects(doc(stmt({ Action: "kms:Decrypt:More" })), /invalid actions/);
  rejects(doc(stmt({ Action: "kms:" })), /invalid actions/);
});

Deno.test("parsePolicy requires exactly one of Resource and NotResource, as * or ARNs", () => {
  rejects(
    doc({ Effect: "Allow", Principal: "*", Action: "kms:*" }),
    /without Resource or NotResource/,
  );
  rejects(doc(stmt({ NotResource: KEY })), /both Resource and NotResource/);
  rejects(doc(stmt({ Resource: "key/1234" })), /invalid resources/);
  rejects(doc(stmt({ Resource: [] })), /invalid Resource element/);
});

Deno.test("parsePolicy refuses an invalid Condition element", () => {
  rejects(doc(stmt({ Condition: "StringEquals" })), /invalid Condition element/);
  rejects(
    doc(stmt({ Condition: { StringEqualz: { "kms:CallerAccount": ACCOUNT } } })),
    /invalid condition operator: StringEqualz/,
  );
  rejects(
    doc(stmt({ Condition: { NumericLessThan: { "kms:ValidTo": "soon" } } })),
    /invalid numeric value/,
  );
});

Deno.test("an account principal matches every caller of that account via the account", () => {
  const p = parsePolicy(defaultKeyPolicy(ACCOUNT), "key");
  assert.equal(evaluatePolicy(p, request()), "AllowViaAccount");
  assert.equal(evaluatePolicy(p, request({ principalArn: ROOT })), "AllowViaAccount");
  assert.equal(
    evaluatePolicy(
      p,
      request({
        principalArn: "arn:aws:iam::444455556666:user/x",
        principalAccount: "444455556666",
      }),
    ),
    "None",
  );
});

Deno.test("a bare account id principal equals the account root ARN", () => {
  const p = parsePolicy(doc(stmt({ Principal: { AWS: ACCOUNT } })), "key");
  assert.equal(evaluatePolicy(p, request()), "AllowViaAccount");
});

Deno.test("Principal * and the caller's exact ARN allow directly", () => {
  assert.equal(
    evaluatePolicy(parsePolicy(doc(stmt({ Principal: "*" })), "key"), request()),
    "AllowDirect",
  );
  assert.equal(
    evaluatePolicy(parsePolicy(doc(stmt({ Principal: { AWS: "*" } })), "key"), request()),
    "AllowDirect",
  );
  assert.equal(
    evaluatePolicy(parsePolicy(doc(stmt({ Principal: { AWS: ALICE } })), "key"), request()),
    "AllowDirect",
  );
  assert.equal(
    evaluatePolicy(
      parsePolicy(doc(stmt({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/bob` } })), "key"),
      request(),
    ),
    "None",
  );
});

Deno.test("a direct Allow outranks an account Allow, and any Deny outranks both", () => {
  const both = parsePolicy(
    doc(stmt({}), stmt({ Principal: { AWS: ALICE }, Action: "kms:Decrypt" })),
    "key",
  );
  assert.equal(evaluatePolicy(both, request()), "AllowDirect");
  assert.equal(evaluatePolicy(both, request({ action: "kms:Encrypt" })), "AllowViaAccount");
  const denied = parsePolicy(
    doc(stmt({ Principal: "*" }), stmt({ Effect: "Deny", Action: "kms:Decrypt" })),
    "key",
  );
  assert.equal(evaluatePolicy(denied, request()), "Deny");
  assert.equal(evaluatePolicy(denied, request({ action: "kms:Encrypt" })), "AllowDirect");
});

Deno.test("an identity policy Allow is AllowDirect", () => {
  const p = parsePolicy(
    doc({ Effect: "Allow", Action: ["kms:Encrypt", "kms:Decrypt"], Resource: KEY }),
    "identity",
  );
  assert.equal(evaluatePolicy(p, request()), "AllowDirect");
  assert.equal(evaluatePolicy(p, request({ action: "kms:Sign" })), "None");
});

Deno.test("actions match case-insensitively with wildcards", () => {
  const p = parsePolicy(
    doc({
      Effect: "Allow",
      Action: ["KMS:decrypt", "kms:Generate*", "kms:Get?ublicKey"],
      Resource: "*",
    }),
    "identity",
  );
  for (
    const action of [
      "kms:Decrypt",
      "kms:GenerateDataKeyPairWithoutPlaintext",
      "kms:GenerateMac",
      "kms:GetPublicKey",
    ]
  ) {
    assert.equal(evaluatePolicy(p, request({ action })), "AllowDirect", action);
  }
  assert.equal(evaluatePolicy(p, request({ action: "kms:GetKeyPolicy" })), "None");
  const all = parsePolicy(doc({ Effect: "Allow", Action: "*", Resource: "*" }), "identity");
  assert.equal(evaluatePolicy(all, request({ action: "kms:ScheduleKeyDeletion" })), "AllowDirect");
});

Deno.test("resources match case-sensitively with wildcards", () => {
  const p = parsePolicy(
    doc({ Effect: "Allow", Action: "kms:*", Resource: `arn:aws:kms:*:${ACCOUNT}:key/*` }),
    "identity",
  );
  assert.equal(evaluatePolicy(p, request()), "AllowDirect");
  assert.equal(evaluatePolicy(p, request({ resource: KEY.toUpperCase() })), "None");
  assert.equal(
    evaluatePolicy(p, request({ resource: `arn:aws:kms:us-west-2:${ACCOUNT}:alias/x` })),
    "None",
  );
  assert.equal(evaluatePolicy(p, request({ resource: "*" })), "None");
});

Deno.test("NotAction and NotResource apply the statement to everything not listed", () => {
  const p = parsePolicy(
    doc({
      Effect: "Allow",
      NotAction: ["kms:ScheduleKeyDeletion"],
      NotResource: `arn:aws:kms:*:*:key/secret-*`,
    }),
    "identity",
  );
  assert.equal(evaluatePolicy(p, request()), "AllowDirect");
  assert.equal(evaluatePolicy(p, request({ action: "kms:ScheduleKeyDeletion" })), "None");
  assert.equal(
    evaluatePolicy(p, request({ resource: `arn:aws:kms:us-west-2:${ACCOUNT}:key/secret-1` })),
    "None",
  );
});

Deno.test("NotPrincipal with Deny spares a caller only when its account (and its ARN) are listed", () => {
  const spareBob = parsePolicy(
    doc(stmt({ Principal: "*" }), {
      Effect: "Deny",
      NotPrincipal: { AWS: [`arn:aws:iam::${ACCOUNT}:user/bob`, ROOT] },
      Action: "kms:*",
      Resource: "*",
    }),
    "key",
  );
  assert.equal(
    evaluatePolicy(spareBob, request({ principalArn: `arn:aws:iam::${ACCOUNT}:user/bob` })),
    "AllowDirect",
  );
  assert.equal(evaluatePolicy(spareBob, request({ principalArn: ROOT })), "AllowDirect");
  assert.equal(evaluatePolicy(spareBob, request()), "Deny");
  const withoutAccount = parsePolicy(
    doc(stmt({ Principal: "*" }), {
      Effect: "Deny",
      NotPrincipal: { AWS: `arn:aws:iam::${ACCOUNT}:user/bob` },
      Action: "kms:*",
      Resource: "*",
    }),
    "key",
  );
  assert.equal(
    evaluatePolicy(withoutAccount, request({ principalArn: `arn:aws:iam::${ACCOUNT}:user/bob` })),
    "Deny",
  );
});

Deno.test("policy variables in Resource resolve only under Version 2012-10-17", () => {
  const statement = {
    Effect: "Allow",
    Action: "kms:*",
    Resource: "arn:aws:kms:*:${aws:PrincipalAccount}:key/*",
  };
  const ctx = conditionContext({ "aws:PrincipalAccount": ACCOUNT });
  const v2012 = parsePolicy(
    JSON.stringify({ Version: "2012-10-17", Statement: [statement] }),
    "identity",
  );
  const v2008 = parsePolicy(
    JSON.stringify({ Version: "2008-10-17", Statement: [statement] }),
    "identity",
  );
  assert.equal(evaluatePolicy(v2012, request({ context: ctx })), "AllowDirect");
  assert.equal(evaluatePolicy(v2008, request({ context: ctx })), "None");
});

Deno.test("conditions gate a statement", () => {
  const p = parsePolicy(
    doc(stmt({ Principal: "*", Condition: { StringEquals: { "kms:CallerAccount": ACCOUNT } } })),
    "key",
  );
  assert.equal(
    evaluatePolicy(p, request({ context: conditionContext({ "kms:CallerAccount": ACCOUNT }) })),
    "AllowDirect",
  );
  assert.equal(
    evaluatePolicy(
      p,
      request({ context: conditionContext({ "kms:CallerAccount": "444455556666" }) }),
    ),
    "None",
  );
  assert.equal(evaluatePolicy(p, request()), "None");
});

Deno.test("isAccountRootArn recognises only account root ARNs", () => {
  assert.equal(isAccountRootArn(ROOT), true);
  assert.equal(isAccountRootArn(`arn:aws:iam::${ACCOUNT}:user/root`), false);
  assert.equal(isAccountRootArn("arn:aws:iam::1:root"), false);
});

Deno.test("key policies refuse ForAllValues on kms:EncryptionContext:<key> and aws:RequestTag/<key>", () => {
  const forAll = (key: string) =>
    doc(stmt({ Condition: { "ForAllValues:StringEquals": { [key]: "IT" } } }));
  rejects(
    forAll("kms:EncryptionContext:Department"),
    /^OverlyPermissiveCondition:EncryptionContext: .*remove ForAllValues\.$/,
  );
  rejects(forAll("aws:RequestTag/Project"), /^OverlyPermissiveCondition:RequestTag: /);
  assert.doesNotThrow(() => parsePolicy(forAll("kms:EncryptionContextKeys"), "key"));
  assert.doesNotThrow(() =>
    parsePolicy(
      doc({
        Effect: "Allow",
        Action: "kms:*",
        Resource: "*",
        Condition: { "ForAllValues:StringEquals": { "kms:EncryptionContext:Department": "IT" } },
      }),
      "identity",
    )
  );
});
