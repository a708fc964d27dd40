/**
 * The key policy family (core/operations/key_policies.ts) in process: GetKeyPolicy,
 * PutKeyPolicy and ListKeyPolicies on a KMS over `:memory:` (tests/helpers/in_process.ts), and
 * the policy's effect on a caller of the account. The HTTP tests (tests/access_control_test.ts)
 * keep the protocol.
 *
 * @module
 */
import assert from "node:assert/strict";
import { rejectionOf, userCaller, withInProcessKms } from "../../tests/helpers/in_process.ts";
import { ACCOUNT_ID } from "../../tests/helpers/server.ts";

const CAROL_ARN = `arn:aws:iam::${ACCOUNT_ID}:user/carol`;
const CAROL = userCaller("carol");
const PLAINTEXT = new TextEncoder().encode("policy").toBase64();

/** A policy that keeps the account root's full access and lets `principal` call `actions`. */
function policyAllowing(principal: string, actions: string[]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "root",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "user",
        Effect: "Allow",
        Principal: { AWS: principal },
        Action: actions,
        Resource: "*",
      },
    ],
  });
}

Deno.test("a new key has the default policy, the only one ListKeyPolicies names", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    assert.deepEqual((await call("ListKeyPolicies", { KeyId })).PolicyNames, ["default"]);
    const policy = JSON.parse(
      (await call("GetKeyPolicy", { KeyId, PolicyName: "default" })).Policy,
    );
    assert.deepEqual(policy.Statement[0].Principal, { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` });
    assert.equal(policy.Statement[0].Action, "kms:*");
  }));

Deno.test("PutKeyPolicy's policy is what GetKeyPolicy returns and decides what another user of the account may call", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    assert.equal(
      await rejectionOf(call("Encrypt", { KeyId, Plaintext: PLAINTEXT }, CAROL)),
      "AccessDeniedException",
    );
    const Policy = policyAllowing(CAROL_ARN, ["kms:Encrypt"]);
    await call("PutKeyPolicy", { KeyId, PolicyName: "default", Policy });
    assert.equal((await call("GetKeyPolicy", { KeyId, PolicyName: "default" })).Policy, Policy);
    const { CiphertextBlob } = await call("Encrypt", { KeyId, Plaintext: PLAINTEXT }, CAROL);
    assert.equal(
      await rejectionOf(call("Decrypt", { CiphertextBlob: CiphertextBlob.toBase64() }, CAROL)),
      "AccessDeniedException",
      "Decrypt is not in the policy",
    );
  }, { users: ["carol"] }));

Deno.test("PutKeyPolicy with a policy that is not JSON is a MalformedPolicyDocumentException and keeps the old policy", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    const before = (await call("GetKeyPolicy", { KeyId, PolicyName: "default" })).Policy;
    assert.equal(
      await rejectionOf(
        call("PutKeyPolicy", { KeyId, PolicyName: "default", Policy: "{not json" }),
      ),
      "MalformedPolicyDocumentException",
    );
    assert.equal((await call("GetKeyPolicy", { KeyId, PolicyName: "default" })).Policy, before);
  }));
