/**
 * Runs the AWS-documented authorization cases of testdata/policy_cases.ts through parsePolicy and
 * decide, and fails with the full list of unexpected allows (and denies).
 */
import assert from "node:assert/strict";
import { conditionContext, type ContextValue } from "./conditions.ts";
import { decide } from "./decide.ts";
import { isAccountRootArn, parsePolicy } from "./policy.ts";
import { A, KEY, POLICY_CASES, type PolicyCase } from "./testdata/policy_cases.ts";

function accountOf(arn: string): string {
  const account = arn.split(":")[4];
  assert.ok(account && /^\d{12}$/.test(account), `no account in ${arn}`);
  return account;
}

function run(c: PolicyCase): { allowed: boolean; reason: string } {
  const account = accountOf(c.caller);
  const userName = /:user\/(?:.*\/)?([^/]+)$/.exec(c.caller)?.[1];
  const entries: Record<string, ContextValue> = {
    "aws:PrincipalArn": c.caller,
    "aws:PrincipalAccount": account,
    "kms:CallerAccount": account,
    ...(userName ? { "aws:username": userName } : {}),
    ...c.context,
  };
  const keyPolicy = c.keyPolicy === null ? null : parsePolicy(JSON.stringify(c.keyPolicy), "key");
  return decide({
    request: {
      principalArn: c.caller,
      principalAccount: account,
      action: c.action,
      resource: c.resource ?? (c.keyPolicy === null ? "*" : KEY),
      context: conditionContext(entries, c.encryptionContext),
    },
    keyPolicy,
    keyAccount: keyPolicy === null ? null : A,
    callerIsAccountRoot: isAccountRootArn(c.caller),
    identityPolicies: (c.identityPolicies ?? []).map((p) =>
      parsePolicy(JSON.stringify(p), "identity")
    ),
    grantAllows: c.grantAllows ?? false,
  });
}

Deno.test("policy cases: at least 200 documented cases, uniquely named, each citing an AWS page", () => {
  assert.ok(POLICY_CASES.length >= 200, `only ${POLICY_CASES.length} cases`);
  const names = new Set(POLICY_CASES.map((c) => c.name));
  assert.equal(names.size, POLICY_CASES.length, "duplicate case names");
  for (const c of POLICY_CASES) {
    assert.match(c.source, /^https:\/\/docs\.aws\.amazon\.com\//, c.name);
  }
  const allows = POLICY_CASES.filter((c) => c.expect === "allow").length;
  assert.ok(allows > 50 && POLICY_CASES.length - allows > 50, "both outcomes are well represented");
});

Deno.test("policy cases: zero unexpected allows and zero unexpected denies", () => {
  const unexpectedAllows: string[] = [];
  const unexpectedDenies: string[] = [];
  for (const c of POLICY_CASES) {
    const { allowed, reason } = run(c);
    if (allowed && c.expect === "deny") unexpectedAllows.push(`${c.name} (${reason})`);
    if (!allowed && c.expect === "allow") unexpectedDenies.push(`${c.name} (${reason})`);
  }
  assert.deepEqual(
    unexpectedAllows,
    [],
    `${unexpectedAllows.length} unexpected allow(s):\n  ${unexpectedAllows.join("\n  ")}`,
  );
  assert.deepEqual(
    unexpectedDenies,
    [],
    `${unexpectedDenies.length} unexpected deny(s):\n  ${unexpectedDenies.join("\n  ")}`,
  );
});

for (const c of POLICY_CASES) {
  Deno.test(`policy case: ${c.name}`, () => {
    const { allowed, reason } = run(c);
    assert.equal(allowed ? "allow" : "deny", c.expect, `${reason} — ${c.source}`);
  });
}
