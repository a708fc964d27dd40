/**
 * The AWS KMS authorization decision: key policy, IAM identity policies and grants combined.
 *
 * - An explicit Deny in the key policy or in any identity policy denies, whatever else allows
 *   (it "takes precedence over all grants"):
 *   https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-algorithm
 * - Without a key policy (IAM-only actions such as CreateKey, ListKeys, ListAliases,
 *   GenerateRandom) IAM alone decides: the account root, or an identity policy Allow.
 * - Same account: the key policy is required. An Allow naming `*` or the caller's own ARN is
 *   enough; an Allow naming only the account principal delegates to IAM, so the caller must be the
 *   root or hold an identity policy Allow:
 *   https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
 *   https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html
 * - Cross account: both sides must allow, the key policy (through `*`, the caller's ARN or the
 *   caller's account) and the caller's own account (its root, or an identity policy):
 *   https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
 * - A grant allows on its own, in the same account or across accounts, without an IAM policy:
 *   external users "cannot use the KMS key until you attach IAM policies that delegate those
 *   permissions, or use grants to manage access to the KMS key" (key-policy-modifying-external-
 *   accounts.html, step 2); https://docs.aws.amazon.com/kms/latest/developerguide/grants.html
 *
 * @module
 */
import { type CompiledPolicy, evaluatePolicy, type PolicyRequest } from "./policy.ts";

/** Everything one authorization decision needs; the caller resolves grants beforehand. */
export interface DecisionInput {
  request: PolicyRequest;
  /** `null` for IAM-only actions (CreateKey, ListKeys, ListAliases, GenerateRandom, ...). */
  keyPolicy: CompiledPolicy | null;
  /** The account owning the key; `null` when there is no key. */
  keyAccount: string | null;
  /** The caller is `arn:aws:iam::<its account>:root`. */
  callerIsAccountRoot: boolean;
  /** The caller's identity policies (empty for the account root). */
  identityPolicies: readonly CompiledPolicy[];
  /** A grant on the key allows this operation for this caller (constraints already checked). */
  grantAllows: boolean;
}

/** The outcome and a short reason for logs and tests. */
export interface Decision {
  allowed: boolean;
  reason: string;
}

/** Decides one request per AWS KMS evaluation logic (see the module documentation). */
export function decide(i: DecisionInput): Decision {
  const key = i.keyPolicy === null ? "None" : evaluatePolicy(i.keyPolicy, i.request);
  if (key === "Deny") return { allowed: false, reason: "explicit deny in key policy" };

  let identityAllows = false;
  for (const policy of i.identityPolicies) {
    const r = evaluatePolicy(policy, i.request);
    if (r === "Deny") return { allowed: false, reason: "explicit deny in identity policy" };
    if (r !== "None") identityAllows = true;
  }
  const iam = i.callerIsAccountRoot ? "account root" : identityAllows ? "identity policy" : null;

  if (i.keyPolicy === null) {
    return iam
      ? { allowed: true, reason: `allowed by ${iam} (no key policy applies)` }
      : { allowed: false, reason: "no identity policy allows (no key policy applies)" };
  }

  const sameAccount = i.keyAccount === null || i.keyAccount === i.request.principalAccount;
  if (sameAccount) {
    if (key === "AllowDirect") return { allowed: true, reason: "allowed by key policy" };
    if (key === "AllowViaAccount" && iam) {
      return { allowed: true, reason: `allowed by key policy (account principal) and ${iam}` };
    }
  } else if (key !== "None" && iam) {
    return { allowed: true, reason: `cross-account: allowed by key policy and ${iam}` };
  }
  if (i.grantAllows) return { allowed: true, reason: "allowed by grant" };

  if (key === "None") {
    return {
      allowed: false,
      reason: sameAccount
        ? "no key policy statement allows"
        : "cross-account: key policy does not allow",
    };
  }
  return {
    allowed: false,
    reason: sameAccount
      ? "key policy delegates to IAM but no identity policy allows"
      : "cross-account: key policy allows but no identity policy in the caller's account allows",
  };
}
