/**
 * Key policy documents: AWS's default policy and the checks CreateKey and
 * PutKeyPolicy make before storing one.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
 * @module
 */
import { compilePolicyDocument } from "./access/access_control.ts";
import type { CompiledPolicy } from "./access/policy.ts";
import { MalformedPolicyDocumentException } from "./errors.ts";
import { accountRootArn } from "./identifiers.ts";
import type { AccessControl } from "./access/access_control.ts";
import type { Caller, KeyRecord } from "./types.ts";

/** What the key policy checks read: access control and whether an IAM principal exists. */
export interface PolicyChecks {
  readonly access: Pick<AccessControl, "policyAllows">;
  principalExists(arn: string): Promise<boolean>;
}

/** AWS's default key policy: the owning account's root may do everything. */
export function defaultKeyPolicy(accountId: string): string {
  return JSON.stringify(
    {
      Version: "2012-10-17",
      Id: "key-default-1",
      Statement: [{
        Sid: "Enable IAM User Permissions",
        Effect: "Allow",
        Principal: { AWS: accountRootArn(accountId) },
        Action: "kms:*",
        Resource: "*",
      }],
    },
    null,
    2,
  );
}

/**
 * Checks a key policy before it is stored: a document AWS accepts and, unless the caller
 * bypasses it, one that still lets the caller change the policy later (the lockout safety check).
 * @throws {MalformedPolicyDocumentException}
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-bypass-policy-lockout-safety-check
 */
export async function checkKeyPolicy(
  kms: PolicyChecks,
  caller: Caller,
  record: KeyRecord,
  bypassLockoutSafetyCheck: boolean,
): Promise<void> {
  const policy = compilePolicyDocument(record.policy, "key");
  if (
    await firstUnknownPrincipal(policy.compiled, (arn) => kms.principalExists(arn)) !== undefined
  ) {
    throw new MalformedPolicyDocumentException(
      "Policy contains a statement with one or more invalid principals.",
    );
  }
  if (!bypassLockoutSafetyCheck && !kms.access.policyAllows(caller, policy, record, PUT_POLICY)) {
    throw new MalformedPolicyDocumentException(
      "The new key policy will not allow you to update the key policy in the future.",
    );
  }
}

/**
 * The first IAM user or role ARN a key policy names that does not exist, if any: AWS refuses
 * policies naming those (CreateKey, PutKeyPolicy, and the seed file alike).
 */
export async function firstUnknownPrincipal(
  policy: Pick<CompiledPolicy, "statements">,
  principalExists: (arn: string) => Promise<boolean>,
): Promise<string | undefined> {
  for (const statement of policy.statements) {
    for (const arn of statement.principal?.arns ?? []) {
      if (IAM_USER_OR_ROLE.test(arn) && !await principalExists(arn)) return arn;
    }
  }
  return undefined;
}

const IAM_USER_OR_ROLE = /^arn:aws:iam::\d{12}:(?:user|role)\//;

const PUT_POLICY = "kms:PutKeyPolicy";
