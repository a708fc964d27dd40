/**
 * Key policies: PutKeyPolicy, GetKeyPolicy, ListKeyPolicies. Every key has
 * exactly one policy, named `default`.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html
 * @module
 */
import { NotFoundException } from "../errors.ts";
import { assertKeyStateAllows } from "../key_state.ts";
import { checkKeyPolicy } from "../key_policy.ts";
import type { KeyCommits, KeyResolver } from "../operation_ports.ts";
import type { PolicyChecks } from "../key_policy.ts";
import type { Caller } from "../types.ts";

/** What this family of operations uses of the KMS. */
export type KeyPolicyPorts = KeyResolver & KeyCommits & PolicyChecks;

/** The one policy name AWS KMS knows. */
export const DEFAULT_POLICY_NAME = "default";

function assertDefaultName(name: string | undefined, arn: string): void {
  if (name !== undefined && name !== DEFAULT_POLICY_NAME) {
    throw new NotFoundException(`No such policy exists: ${name} for key ${arn}.`);
  }
}

/**
 * PutKeyPolicy: replaces the key policy after the document and lockout checks.
 * @throws {NotFoundException} @throws {MalformedPolicyDocumentException}
 * @throws {KMSInvalidStateException} @throws {AccessDeniedException}
 */
export async function putKeyPolicy(
  kms: KeyPolicyPorts,
  caller: Caller,
  input: {
    KeyId: string;
    PolicyName?: string | undefined;
    Policy: string;
    BypassPolicyLockoutSafetyCheck?: boolean | undefined;
  },
): Promise<Record<string, never>> {
  const bypass = input.BypassPolicyLockoutSafetyCheck === true;
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:PutKeyPolicy",
    conditions: { bypassPolicyLockoutSafetyCheck: bypass },
  });
  assertDefaultName(input.PolicyName, key.arn);
  assertKeyStateAllows("PutKeyPolicy", { arn: key.arn, state: key.record.state });
  const record = { ...key.record, policy: input.Policy };
  await checkKeyPolicy(kms, caller, record, bypass);
  await kms.saveKey(caller, record);
  return {};
}

/**
 * GetKeyPolicy: the key policy document.
 * @throws {NotFoundException} @throws {AccessDeniedException}
 */
export async function getKeyPolicy(
  kms: KeyPolicyPorts,
  caller: Caller,
  input: { KeyId: string; PolicyName?: string | undefined },
): Promise<{ Policy: string; PolicyName: string }> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:GetKeyPolicy",
  });
  assertDefaultName(input.PolicyName, key.arn);
  assertKeyStateAllows("GetKeyPolicy", { arn: key.arn, state: key.record.state });
  return { Policy: key.record.policy, PolicyName: DEFAULT_POLICY_NAME };
}

/**
 * ListKeyPolicies: always `["default"]`.
 * @throws {NotFoundException} @throws {AccessDeniedException}
 */
export async function listKeyPolicies(
  kms: KeyPolicyPorts,
  caller: Caller,
  input: { KeyId: string; Limit?: number | undefined; Marker?: string | undefined },
): Promise<{ PolicyNames: string[]; Truncated: boolean }> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:ListKeyPolicies",
  });
  assertKeyStateAllows("ListKeyPolicies", { arn: key.arn, state: key.record.state });
  return { PolicyNames: [DEFAULT_POLICY_NAME], Truncated: false };
}
