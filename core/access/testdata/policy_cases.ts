/**
 * Authorization cases taken from AWS's documented policy examples. Each case names the page (and
 * anchor) its policy comes from; where an example is a lone statement it is placed in a key policy
 * (with the documented principal) or an identity policy as the page describes. Accounts follow AWS's
 * examples: 111122223333 owns the keys, 444455556666 is the external account.
 *
 * The runner (../policy_cases_test.ts) derives the caller's account from its ARN, treats
 * `arn:aws:iam::<acct>:root` as the account root, adds `aws:PrincipalArn`, `aws:PrincipalAccount`,
 * `kms:CallerAccount` and (for users) `aws:username` to the context, and calls `decide`.
 */
import type { ContextValue } from "../conditions.ts";

/** A policy document as JSON. */
export type PolicyDoc = Record<string, unknown>;

/** One documented authorization case. */
export interface PolicyCase {
  name: string;
  source: string;
  /** `null` for IAM-only actions (no key involved). */
  keyPolicy: PolicyDoc | null;
  identityPolicies?: PolicyDoc[];
  /** The caller's ARN. */
  caller: string;
  action: string;
  /** Defaults to {@link KEY} (or `"*"` when keyPolicy is null). */
  resource?: string;
  context?: Record<string, ContextValue>;
  encryptionContext?: Record<string, string>;
  grantAllows?: boolean;
  expect: "allow" | "deny";
}

export const A = "111122223333";
export const B = "444455556666";
const C = "777788889999";
export const KEY = `arn:aws:kms:us-west-2:${A}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY = `arn:aws:kms:us-west-2:${A}:key/0987dcba-09fe-87dc-65ba-ab0987654321`;
const EU_KEY = `arn:aws:kms:eu-west-1:${A}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const SG_KEY = `arn:aws:kms:ap-southeast-1:${A}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const ALIAS = `arn:aws:kms:us-west-2:${A}:alias/test`;

const root = (acct: string) => `arn:aws:iam::${acct}:root`;
const user = (name: string, acct = A) => `arn:aws:iam::${acct}:user/${name}`;
const role = (name: string, acct = A) => `arn:aws:iam::${acct}:role/${name}`;
const policy = (...statements: PolicyDoc[]): PolicyDoc => ({
  Version: "2012-10-17",
  Statement: statements,
});

// --- Sources -----------------------------------------------------------------------------------
const KMS = "https://docs.aws.amazon.com/kms/latest/developerguide";
const IAM = "https://docs.aws.amazon.com/IAM/latest/UserGuide";
const DEFAULT = `${KMS}/key-policy-default.html#key-policy-default-allow-root-enable-iam`;
const ADMINS_SRC = `${KMS}/key-policy-default.html#key-policy-default-allow-administrators`;
const USERS_SRC = `${KMS}/key-policy-default.html#key-policy-users-crypto`;
const PERSIST_SRC = `${KMS}/key-policy-default.html#key-policy-service-integration`;
const XACCT = `${KMS}/key-policy-modifying-external-accounts.html`;
const IAM_EX = `${KMS}/customer-managed-policies.html`;
const COND = `${KMS}/conditions-kms.html`;
const NITRO = `${KMS}/conditions-nitro-enclaves.html`;
const TAGS = `${KMS}/tag-authorization.html`;
const GRANTS = `${KMS}/grants.html`;
const OPS = `${IAM}/reference_policies_elements_condition_operators.html`;
const MULTI = `${IAM}/reference_policies_condition-logic-multiple-context-keys-or-values.html`;
const NOTP = `${IAM}/reference_policies_elements_notprincipal.html`;
const NOTA = `${IAM}/reference_policies_elements_notaction.html`;
const NOTR = `${IAM}/reference_policies_elements_notresource.html`;
const GLOBAL = `${IAM}/reference_policies_condition-keys.html`;
const DENY_IP = `${IAM}/reference_policies_examples_aws_deny-ip.html`;
const DATES = `${IAM}/reference_policies_examples_aws-dates.html`;
const XEVAL = `${IAM}/reference_policies_evaluation-logic-cross-account.html`;

// --- Documented statements -----------------------------------------------------------------------
const ENABLE_IAM: PolicyDoc = {
  Sid: "Enable IAM policies",
  Effect: "Allow",
  Principal: { AWS: root(A) },
  Action: "kms:*",
  Resource: "*",
};
const DEFAULT_POLICY = policy(ENABLE_IAM);
const ADMINS: PolicyDoc = {
  Sid: "Allow access for Key Administrators",
  Effect: "Allow",
  Principal: { AWS: [user("KMSAdminUser"), role("KMSAdminRole")] },
  Action: [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
  ],
  Resource: "*",
};
const CRYPTO = [
  "kms:Encrypt",
  "kms:Decrypt",
  "kms:ReEncrypt*",
  "kms:GenerateDataKey*",
  "kms:DescribeKey",
];
const USERS: PolicyDoc = {
  Sid: "Allow use of the key",
  Effect: "Allow",
  Principal: { AWS: [role("ExampleRole"), root(B)] },
  Action: CRYPTO,
  Resource: "*",
};
const PERSIST: PolicyDoc = {
  Sid: "Allow attachment of persistent resources",
  Effect: "Allow",
  Principal: { AWS: [role("ExampleRole"), root(B)] },
  Action: ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
  Resource: "*",
  Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
};
const CONSOLE_POLICY = policy(ENABLE_IAM, ADMINS, USERS, PERSIST);

const allowIdentity = (actions: string | string[], resource: string | string[]): PolicyDoc =>
  policy({ Effect: "Allow", Action: actions, Resource: resource });

/** A key policy with one statement for `principal` (the usual shape of the KMS examples). */
const keyStatement = (
  principal: unknown,
  action: string | string[],
  condition?: PolicyDoc,
  effect = "Allow",
): PolicyDoc => ({
  Effect: effect,
  Principal: principal,
  Action: action,
  Resource: "*",
  ...(condition ? { Condition: condition } : {}),
});

export const POLICY_CASES: PolicyCase[] = [];
const add = (c: PolicyCase) => POLICY_CASES.push(c);

// === Default key policy: the account principal enables IAM ======================================
add({
  name: "default policy: the account root may Decrypt",
  source: DEFAULT,
  keyPolicy: DEFAULT_POLICY,
  caller: root(A),
  action: "kms:Decrypt",
  expect: "allow",
});
add({
  name: "default policy: the account root may ScheduleKeyDeletion",
  source: DEFAULT,
  keyPolicy: DEFAULT_POLICY,
  caller: root(A),
  action: "kms:ScheduleKeyDeletion",
  expect: "allow",
});
add({
  name: "default policy: the account root may PutKeyPolicy",
  source: DEFAULT,
  keyPolicy: DEFAULT_POLICY,
  caller: root(A),
  action: "kms:PutKeyPolicy",
  expect: "allow",
});
add({
  name: "default policy: an IAM user without identity policies is denied",
  source: DEFAULT,
  keyPolicy: DEFAULT_POLICY,
  caller: user("alice"),
  action: "kms:Decrypt",
  expect: "deny",
});
add({
  name: "default policy: an IAM role without identity policies is denied",
  source: DEFAULT,
  keyPolicy: DEFAULT_POLICY,
  caller: role("app"),
  action: "kms:Encrypt",
  expect: "deny",
});
add({
  name: "default policy: an identity policy allowing Decrypt on the key ARN allows a user",
  source: IAM_EX + "#iam-policy-example-encrypt-decrypt-specific-cmks",
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [allowIdentity(["kms:Encrypt", "kms:Decrypt"], [KEY, OTHER_KEY])],
  caller: user("alice"),
  action: "kms:Decrypt",
  expect: "allow",
});
add({
  name: "default policy: an identity policy naming two keys allows the second key too",
  source: IAM_EX + "#iam-policy-example-encrypt-decrypt-specific-cmks",
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [allowIdentity(["kms:Encrypt", "kms:Decrypt"], [KEY, OTHER_KEY])],
  caller: user("alice"),
  action: "kms:Encrypt",
  resource: OTHER_KEY,
  expect: "allow",
});
add({
  name: "default policy: an identity policy for another key does not allow this key",
  source: IAM_EX + "#iam-policy-example-encrypt-decrypt-specific-cmks",
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [allowIdentity(["kms:Encrypt", "kms:Decrypt"], OTHER_KEY)],
  caller: user("alice"),
  action: "kms:Decrypt",
  expect: "deny",
});
add({
  name: "default policy: an identity policy allowing Encrypt/Decrypt does not allow Sign",
  source: IAM_EX + "#iam-policy-example-encrypt-decrypt-specific-cmks",
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [allowIdentity(["kms:Encrypt", "kms:Decrypt"], KEY)],
  caller: user("alice"),
  action: "kms:Sign",
  expect: "deny",
});
add({
  name: "default policy: an identity policy for any key in the account allows a role",
  source: IAM_EX + "#iam-policy-example-encrypt-decrypt-one-account",
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [allowIdentity(["kms:Encrypt", "kms:Decrypt"], `arn:aws:kms:*:${A}:key/*`)],
  caller: role("app"),
  action: "kms:Decrypt",
  expect: "allow",
});
add({
  name: "default policy: an identity policy for one Region allows a key in that Region",
  source: IAM_EX + "#iam-policy-example-encrypt-decrypt-one-account-one-region",
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [
    allowIdentity(["kms:Encrypt", "kms:Decrypt"], [`arn:aws:kms:us-west-2:${A}:key/*`]),
  ],
  caller: user("alice"),
  action: "kms:Encrypt",
  expect: "allow",
});
add({
  name: "default policy: an identity policy for one Region does not allow a key in another Region",
  source: IAM_EX + "#iam-policy-example-encrypt-decrypt-one-account-one-region",
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [
    allowIdentity(["kms:Encrypt", "kms:Decrypt"], [`arn:aws:kms:us-west-2:${A}:key/*`]),
  ],
  caller: user("alice"),
  action: "kms:Encrypt",
  resource: EU_KEY,
  expect: "deny",
});
add({
  name: "default policy: identity policy actions match case-insensitively",
  source: `${IAM}/reference_policies_elements_action.html`,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [allowIdentity("KMS:DECRYPT", "*")],
  caller: user("alice"),
  action: "kms:Decrypt",
  expect: "allow",
});
add({
  name: "default policy: a user of another account with an identity policy is denied",
  source: XACCT,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [allowIdentity("kms:*", "*")],
  caller: user("bob", B),
  action: "kms:Decrypt",
  expect: "deny",
});
add({
  name: "default policy: the root of another account is denied",
  source: XACCT,
  keyPolicy: DEFAULT_POLICY,
  caller: root(B),
  action: "kms:Decrypt",
  expect: "deny",
});
const DENY_DISABLE = policy({
  Effect: "Deny",
  Action: ["kms:DisableKey", "kms:ScheduleKeyDeletion"],
  Resource: "*",
});
const ALLOW_ALL = allowIdentity("kms:*", "*");
add({
  name: "identity Deny prevents DisableKey even when another identity policy allows kms:*",
  source: IAM_EX + "#iam-policy-example-deny-disable-delete",
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [ALLOW_ALL, DENY_DISABLE],
  caller: user("alice"),
  action: "kms:DisableKey",
  expect: "deny",
});
add({
  name: "identity Deny prevents ScheduleKeyDeletion even when another identity policy allows kms:*",
  source: IAM_EX + "#iam-policy-example-deny-disable-delete",
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [ALLOW_ALL, DENY_DISABLE],
  caller: user("alice"),
  action: "kms:ScheduleKeyDeletion",
  expect: "deny",
});
add({
  name: "identity Deny of DisableKey leaves Decrypt allowed",
  source: IAM_EX + "#iam-policy-example-deny-disable-delete",
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [ALLOW_ALL, DENY_DISABLE],
  caller: user("alice"),
  action: "kms:Decrypt",
  expect: "allow",
});

// === IAM-only actions (no key policy) ===========================================================
const READ_ONLY = policy(
  {
    Sid: "ReadOnlyAccessForAllKMS keysInAccount",
    Effect: "Allow",
    Action: [
      "kms:GetPublicKey",
      "kms:GetKeyRotationStatus",
      "kms:GetKeyPolicy",
      "kms:DescribeKey",
      "kms:ListKeyPolicies",
      "kms:ListResourceTags",
    ],
    Resource: `arn:aws:kms:*:${A}:key/*`,
  },
  {
    Sid: "ReadOnlyAccessForOperationsWithNoKMS key",
    Effect: "Allow",
    Action: ["kms:ListKeys", "kms:ListAliases", "iam:ListRoles", "iam:ListUsers"],
    Resource: "*",
  },
);
const CREATE_KEY = policy({ Effect: "Allow", Action: "kms:CreateKey", Resource: "*" });
const CREATE_RELATED = policy(
  {
    Sid: "IAMPermissionsForParticularKMS keys",
    Effect: "Allow",
    Action: "kms:TagResource",
    Resource: `arn:aws:kms:*:${A}:key/*`,
  },
  {
    Sid: "IAMPermissionsForParticularAliases",
    Effect: "Allow",
    Action: "kms:CreateAlias",
    Resource: `arn:aws:kms:*:${A}:alias/*`,
  },
  {
    Sid: "IAMPermissionsForAllKMS keys",
    Effect: "Allow",
    Action: ["kms:CreateKey", "kms:ListKeys", "kms:ListAliases"],
    Resource: "*",
  },
);
add({
  name: "CreateKey: the account root is allowed without identity policies",
  source: IAM_EX + "#iam-policy-example-create-key",
  keyPolicy: null,
  caller: root(A),
  action: "kms:CreateKey",
  expect: "allow",
});
add({
  name: "CreateKey: an identity policy with Resource * allows a user",
  source: IAM_EX + "#iam-policy-example-create-key",
  keyPolicy: null,
  identityPolicies: [CREATE_KEY],
  caller: user("alice"),
  action: "kms:CreateKey",
  expect: "allow",
});
add({
  name: "CreateKey: a user without identity policies is denied",
  source: IAM_EX + "#iam-policy-example-create-key",
  keyPolicy: null,
  caller: user("alice"),
  action: "kms:CreateKey",
  expect: "deny",
});
add({
  name: "CreateKey: an identity policy scoped to key ARNs does not allow CreateKey",
  source: IAM_EX + "#iam-policy-example-create-key",
  keyPolicy: null,
  identityPolicies: [allowIdentity("kms:CreateKey", `arn:aws:kms:*:${A}:key/*`)],
  caller: user("alice"),
  action: "kms:CreateKey",
  expect: "deny",
});
add({
  name: "read-only console policy allows ListKeys",
  source: IAM_EX + "#iam-policy-example-read-only-console",
  keyPolicy: null,
  identityPolicies: [READ_ONLY],
  caller: user("viewer"),
  action: "kms:ListKeys",
  expect: "allow",
});
add({
  name: "read-only console policy allows ListAliases",
  source: IAM_EX + "#iam-policy-example-read-only-console",
  keyPolicy: null,
  identityPolicies: [READ_ONLY],
  caller: user("viewer"),
  action: "kms:ListAliases",
  expect: "allow",
});
add({
  name: "read-only console policy does not allow CreateKey",
  source: IAM_EX + "#iam-policy-example-read-only-console",
  keyPolicy: null,
  identityPolicies: [READ_ONLY],
  caller: user("viewer"),
  action: "kms:CreateKey",
  expect: "deny",
});
add({
  name: "read-only console policy allows GetKeyPolicy on a key of the account",
  source: IAM_EX + "#iam-policy-example-read-only-console",
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [READ_ONLY],
  caller: user("viewer"),
  action: "kms:GetKeyPolicy",
  expect: "allow",
});
add({
  name: "read-only console policy does not allow DisableKey",
  source: IAM_EX + "#iam-policy-example-read-only-console",
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [READ_ONLY],
  caller: user("viewer"),
  action: "kms:DisableKey",
  expect: "deny",
});
add({
  name: "CreateKey helpers: CreateAlias is allowed on an alias of the account",
  source: IAM_EX + "#iam-policy-example-create-key",
  keyPolicy: null,
  identityPolicies: [CREATE_RELATED],
  caller: user("alice"),
  action: "kms:CreateAlias",
  resource: ALIAS,
  expect: "allow",
});
add({
  name: "CreateKey helpers: CreateAlias on the key side is not allowed by an alias-only statement",
  source: `${KMS}/alias-access.html`,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [CREATE_RELATED],
  caller: user("alice"),
  action: "kms:CreateAlias",
  expect: "deny",
});
add({
  name: "CreateKey helpers: TagResource is allowed on keys of the account",
  source: IAM_EX + "#iam-policy-example-create-key",
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [CREATE_RELATED],
  caller: user("alice"),
  action: "kms:TagResource",
  expect: "allow",
});
add({
  name: "GenerateRandom: an identity policy allows it without a key",
  source: `${KMS}/kms-api-permissions-reference.html`,
  keyPolicy: null,
  identityPolicies: [allowIdentity("kms:GenerateRandom", "*")],
  caller: user("alice"),
  action: "kms:GenerateRandom",
  expect: "allow",
});
add({
  name: "GenerateRandom: a user without identity policies is denied",
  source: `${KMS}/kms-api-permissions-reference.html`,
  keyPolicy: null,
  caller: user("alice"),
  action: "kms:GenerateRandom",
  expect: "deny",
});

// === Key administrators statement (without the account statement) ===============================
const ADMINS_ONLY = policy(ADMINS);
for (
  const action of [
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:DescribeKey",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
    "kms:RevokeGrant",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:DeleteAlias",
    "kms:DeleteImportedKeyMaterial",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
  ]
) {
  add({
    name: `key administrators statement: KMSAdminUser may call ${action}`,
    source: ADMINS_SRC,
    keyPolicy: ADMINS_ONLY,
    caller: user("KMSAdminUser"),
    action,
    expect: "allow",
  });
}
for (
  const action of [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:Sign",
    "kms:GenerateMac",
  ]
) {
  add({
    name: `key administrators statement: KMSAdminUser may not use the key for ${action}`,
    source: ADMINS_SRC,
    keyPolicy: ADMINS_ONLY,
    caller: user("KMSAdminUser"),
    action,
    expect: "deny",
  });
}
add({
  name: "key administrators statement: KMSAdminRole may DisableKey",
  source: ADMINS_SRC,
  keyPolicy: ADMINS_ONLY,
  caller: role("KMSAdminRole"),
  action: "kms:DisableKey",
  expect: "allow",
});
add({
  name: "key administrators statement: KMSAdminRole may not Decrypt",
  source: ADMINS_SRC,
  keyPolicy: ADMINS_ONLY,
  caller: role("KMSAdminRole"),
  action: "kms:Decrypt",
  expect: "deny",
});
add({
  name: "key administrators statement: a user not named is denied DisableKey",
  source: ADMINS_SRC,
  keyPolicy: ADMINS_ONLY,
  caller: user("alice"),
  action: "kms:DisableKey",
  expect: "deny",
});
add({
  name: "without the account statement, identity policies that allow are ineffective",
  source: DEFAULT,
  keyPolicy: ADMINS_ONLY,
  identityPolicies: [ALLOW_ALL],
  caller: user("alice"),
  action: "kms:Decrypt",
  expect: "deny",
});
add({
  name: "without the account statement, even the account root is denied",
  source: DEFAULT,
  keyPolicy: ADMINS_ONLY,
  caller: root(A),
  action: "kms:PutKeyPolicy",
  expect: "deny",
});
add({
  name: "without the account statement, identity policies that deny are still effective",
  source: DEFAULT,
  keyPolicy: ADMINS_ONLY,
  identityPolicies: [policy({ Effect: "Deny", Action: "kms:PutKeyPolicy", Resource: "*" })],
  caller: user("KMSAdminUser"),
  action: "kms:PutKeyPolicy",
  expect: "deny",
});

// === Key users statements ========================================================================
for (
  const action of [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:DescribeKey",
  ]
) {
  add({
    name: `key users statement: ExampleRole may call ${action}`,
    source: USERS_SRC,
    keyPolicy: CONSOLE_POLICY,
    caller: role("ExampleRole"),
    action,
    expect: "allow",
  });
}
for (
  const action of ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:CreateGrant", "kms:Sign"]
) {
  add({
    name: `key users statement: ExampleRole may not call ${action} without an identity policy`,
    source: USERS_SRC,
    keyPolicy: CONSOLE_POLICY,
    caller: role("ExampleRole"),
    action,
    expect: "deny",
  });
}
add({
  name: "persistent resources statement: CreateGrant is allowed for an AWS resource",
  source: PERSIST_SRC,
  keyPolicy: CONSOLE_POLICY,
  caller: role("ExampleRole"),
  action: "kms:CreateGrant",
  context: { "kms:GrantIsForAWSResource": true },
  expect: "allow",
});
add({
  name: "persistent resources statement: CreateGrant is denied when not for an AWS resource",
  source: PERSIST_SRC,
  keyPolicy: CONSOLE_POLICY,
  caller: role("ExampleRole"),
  action: "kms:CreateGrant",
  context: { "kms:GrantIsForAWSResource": false },
  expect: "deny",
});
add({
  name: "persistent resources statement: ListGrants is allowed for an AWS resource",
  source: PERSIST_SRC,
  keyPolicy: CONSOLE_POLICY,
  caller: role("ExampleRole"),
  action: "kms:ListGrants",
  context: { "kms:GrantIsForAWSResource": "true" },
  expect: "allow",
});
add({
  name: "persistent resources statement: RevokeGrant is allowed for an AWS resource",
  source: PERSIST_SRC,
  keyPolicy: CONSOLE_POLICY,
  caller: role("ExampleRole"),
  action: "kms:RevokeGrant",
  context: { "kms:GrantIsForAWSResource": "true" },
  expect: "allow",
});
add({
  name: "persistent resources statement: ListGrants without the condition key is denied",
  source: PERSIST_SRC,
  keyPolicy: CONSOLE_POLICY,
  caller: role("ExampleRole"),
  action: "kms:ListGrants",
  expect: "deny",
});
add({
  name: "console policy: KMSAdminUser may not Decrypt",
  source: ADMINS_SRC,
  keyPolicy: CONSOLE_POLICY,
  caller: user("KMSAdminUser"),
  action: "kms:Decrypt",
  expect: "deny",
});
add({
  name: "console policy: a user with an identity policy is allowed through the account statement",
  source: DEFAULT,
  keyPolicy: CONSOLE_POLICY,
  identityPolicies: [ALLOW_ALL],
  caller: user("alice"),
  action: "kms:Sign",
  expect: "allow",
});

// === External accounts ===========================================================================
const B_CRYPTO = allowIdentity(CRYPTO, KEY);
add({
  name: "external account key user: a user of that account with an IAM policy may Decrypt",
  source: XACCT + "#cross-account-iam-policy",
  keyPolicy: CONSOLE_POLICY,
  identityPolicies: [B_CRYPTO],
  caller: user("bob", B),
  action: "kms:Decrypt",
  expect: "allow",
});
add({
  name: "external account key user: a user of that account without an IAM policy is denied",
  source: XACCT + "#cross-account-iam-policy",
  keyPolicy: CONSOLE_POLICY,
  caller: user("bob", B),
  action: "kms:Decrypt",
  expect: "deny",
});
add({
  name: "external account key user: the root of that account may Decrypt",
  source: XACCT + "#cross-account-key-policy",
  keyPolicy: CONSOLE_POLICY,
  caller: root(B),
  action: "kms:Decrypt",
  expect: "allow",
});
add({
  name: "external account key user: an IAM policy allowing only Encrypt does not allow Decrypt",
  source: XACCT + "#cross-account-iam-policy",
  keyPolicy: CONSOLE_POLICY,
  identityPolicies: [allowIdentity("kms:Encrypt", KEY)],
  caller: user("bob", B),
  action: "kms:Decrypt",
  expect: "deny",
});
add({
  name:
    "external account key user: actions outside the key policy are not effective even if IAM allows them",
  source: XACCT + "#cross-account-iam-policy",
  keyPolicy: CONSOLE_POLICY,
  identityPolicies: [ALLOW_ALL],
  caller: user("bob", B),
  action: "kms:ScheduleKeyDeletion",
  expect: "deny",
});
add({
  name: "external account key user: the root of that account may not ScheduleKeyDeletion",
  source: XACCT + "#cross-account-key-policy",
  keyPolicy: CONSOLE_POLICY,
  caller: root(B),
  action: "kms:ScheduleKeyDeletion",
  expect: "deny",
});
add({
  name: "external account key user: CreateGrant for an AWS resource with an IAM policy is allowed",
  source: XACCT + "#cross-account-console",
  keyPolicy: CONSOLE_POLICY,
  identityPolicies: [allowIdentity("kms:CreateGrant", KEY)],
  caller: user("bob", B),
  action: "kms:CreateGrant",
  context: { "kms:GrantIsForAWSResource": true },
  expect: "allow",
});
add({
  name: "external account key user: a third account with an IAM policy is denied",
  source: XACCT,
  keyPolicy: CONSOLE_POLICY,
  identityPolicies: [ALLOW_ALL],
  caller: user("carol", C),
  action: "kms:Decrypt",
  expect: "deny",
});
const X_USERS = policy(
  ENABLE_IAM,
  keyStatement({ AWS: [role("ExampleRole", B), user("ExampleUser", B)] }, CRYPTO),
);
add({
  name: "external principals named in the key policy: ExampleRole with an IAM policy may Decrypt",
  source: XACCT + "#cross-account-key-policy",
  keyPolicy: X_USERS,
  identityPolicies: [B_CRYPTO],
  caller: role("ExampleRole", B),
  action: "kms:Decrypt",
  expect: "allow",
});
add({
  name: "external principals named in the key policy: ExampleRole still needs an IAM policy",
  source: XACCT + "#cross-account-key-policy",
  keyPolicy: X_USERS,
  caller: role("ExampleRole", B),
  action: "kms:Decrypt",
  expect: "deny",
});
add({
  name: "external principals named in the key policy: ExampleUser with an IAM policy may Encrypt",
  source: XACCT + "#cross-account-key-policy",
  keyPolicy: X_USERS,
  identityPolicies: [B_CRYPTO],
  caller: user("ExampleUser", B),
  action: "kms:Encrypt",
  expect: "allow",
});
add({
  name:
    "external principals named in the key policy: an IAM policy for other principals has no effect",
  source: XACCT + "#cross-account-iam-policy",
  keyPolicy: X_USERS,
  identityPolicies: [B_CRYPTO],
  caller: user("other", B),
  action: "kms:Encrypt",
  expect: "deny",
});
add({
  name: "external principals named in the key policy: the external root is not named",
  source: XACCT + "#cross-account-key-policy",
  keyPolicy: X_USERS,
  caller: root(B),
  action: "kms:Encrypt",
  expect: "deny",
});
add({
  name: "external principals named in the key policy: IAM may delegate a subset of actions only",
  source: XACCT + "#cross-account-iam-policy",
  keyPolicy: X_USERS,
  identityPolicies: [allowIdentity("kms:Decrypt", KEY)],
  caller: user("ExampleUser", B),
  action: "kms:DescribeKey",
  expect: "deny",
});
add({
  name: "cross-account: a grant allows an external user without an IAM policy",
  source: XACCT + "#cross-account-iam-policy",
  keyPolicy: DEFAULT_POLICY,
  caller: user("bob", B),
  action: "kms:Decrypt",
  grantAllows: true,
  expect: "allow",
});
add({
  name: "same account: a grant allows a user no policy allows",
  source: GRANTS,
  keyPolicy: DEFAULT_POLICY,
  caller: user("alice"),
  action: "kms:Encrypt",
  grantAllows: true,
  expect: "allow",
});
add({
  name: "a key policy Deny overrides a grant",
  source: COND + "#conditions-kms-encryption-algorithm",
  keyPolicy: policy(
    ENABLE_IAM,
    keyStatement({ AWS: user("alice") }, "kms:Decrypt", undefined, "Deny"),
  ),
  caller: user("alice"),
  action: "kms:Decrypt",
  grantAllows: true,
  expect: "deny",
});
add({
  name: "an identity policy Deny overrides a grant",
  source: `${IAM}/reference_policies_evaluation-logic.html`,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [policy({ Effect: "Deny", Action: "kms:*", Resource: "*" })],
  caller: user("alice"),
  action: "kms:Decrypt",
  grantAllows: true,
  expect: "deny",
});
add({
  name: "an identity policy Deny overrides a key policy naming the user",
  source: `${IAM}/reference_policies_evaluation-logic.html`,
  keyPolicy: policy(keyStatement({ AWS: user("alice") }, "kms:*")),
  identityPolicies: [policy({ Effect: "Deny", Action: "kms:Decrypt", Resource: KEY })],
  caller: user("alice"),
  action: "kms:Decrypt",
  expect: "deny",
});
add({
  name: "a key policy naming a user allows it without an IAM policy in the same account",
  source: `${KMS}/key-policy-overview.html`,
  keyPolicy: policy(keyStatement({ AWS: user("alice") }, "kms:*")),
  caller: user("alice"),
  action: "kms:Decrypt",
  expect: "allow",
});
add({
  name: "a key policy naming only a user does not allow the account root",
  source: DEFAULT,
  keyPolicy: policy(keyStatement({ AWS: user("alice") }, "kms:*")),
  caller: root(A),
  action: "kms:Decrypt",
  expect: "deny",
});

// === Principal "*" and bare account ids ============================================================
const STAR = policy(keyStatement("*", CRYPTO));
add({
  name: "Principal *: a user of the key's account is allowed without an IAM policy",
  source: XACCT + "#cross-account-key-policy",
  keyPolicy: STAR,
  caller: user("alice"),
  action: "kms:Decrypt",
  expect: "allow",
});
add({
  name: "Principal *: a user of another account with an IAM policy is allowed",
  source: XACCT + "#cross-account-key-policy",
  keyPolicy: STAR,
  identityPolicies: [B_CRYPTO],
  caller: user("bob", B),
  action: "kms:Decrypt",
  expect: "allow",
});
add({
  name: "Principal *: a user of another account still needs an IAM policy",
  source: XEVAL,
  keyPolicy: STAR,
  caller: user("bob", B),
  action: "kms:Decrypt",
  expect: "deny",
});
add({
  name: "Principal {AWS: *}: a user of the key's account is allowed",
  source: `${IAM}/reference_policies_elements_principal.html`,
  keyPolicy: policy(keyStatement({ AWS: "*" }, CRYPTO)),
  caller: role("app"),
  action: "kms:GenerateDataKey",
  expect: "allow",
});
add({
  name: "Principal * does not allow actions it does not list",
  source: XACCT,
  keyPolicy: STAR,
  caller: user("alice"),
  action: "kms:ScheduleKeyDeletion",
  expect: "deny",
});
add({
  name: "a bare account id principal delegates to that account's IAM policies",
  source: `${IAM}/reference_policies_elements_principal.html#principal-accounts`,
  keyPolicy: policy(keyStatement({ AWS: B }, CRYPTO)),
  identityPolicies: [B_CRYPTO],
  caller: user("bob", B),
  action: "kms:Encrypt",
  expect: "allow",
});
add({
  name: "a bare account id principal needs an IAM policy for that account's users",
  source: `${IAM}/reference_policies_elements_principal.html#principal-accounts`,
  keyPolicy: policy(keyStatement({ AWS: B }, CRYPTO)),
  caller: user("bob", B),
  action: "kms:Encrypt",
  expect: "deny",
});
add({
  name: "an assumed-role session ARN principal allows that session",
  source: `${IAM}/reference_policies_elements_principal.html#sts-session-principals`,
  keyPolicy: policy(
    keyStatement(
      { AWS: `arn:aws:sts::${A}:assumed-role/data-processing/session-1` },
      "kms:Decrypt",
    ),
  ),
  caller: `arn:aws:sts::${A}:assumed-role/data-processing/session-1`,
  action: "kms:Decrypt",
  expect: "allow",
});
add({
  name: "a role with a path is matched by its full ARN",
  source: `${IAM}/reference_identifiers.html#identifiers-arns`,
  keyPolicy: policy(keyStatement({ AWS: role("division/app") }, "kms:Decrypt")),
  caller: role("division/app"),
  action: "kms:Decrypt",
  expect: "allow",
});
add({
  name: "a role ARN without the path does not match a role with a path",
  source: `${IAM}/reference_identifiers.html#identifiers-arns`,
  keyPolicy: policy(keyStatement({ AWS: role("app") }, "kms:Decrypt")),
  caller: role("division/app"),
  action: "kms:Decrypt",
  expect: "deny",
});

// === kms:CallerAccount (EBS AWS managed key statement) =============================================
const EBS = policy({
  Sid: "Allow access through EBS for all principals in the account that are authorized to use EBS",
  Effect: "Allow",
  Principal: { AWS: "*" },
  Condition: {
    StringEquals: { "kms:CallerAccount": A, "kms:ViaService": "ec2.us-west-2.amazonaws.com" },
  },
  Action: [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:CreateGrant",
    "kms:DescribeKey",
  ],
  Resource: "*",
});
const CALLER_ACCOUNT = COND + "#conditions-kms-caller-account";
add({
  name: "kms:CallerAccount: a principal of the account calling through EC2 may Encrypt",
  source: CALLER_ACCOUNT,
  keyPolicy: EBS,
  caller: user("alice"),
  action: "kms:Encrypt",
  context: { "kms:ViaService": "ec2.us-west-2.amazonaws.com" },
  expect: "allow",
});
add({
  name: "kms:CallerAccount: ReEncrypt* covers ReEncryptFrom through EC2",
  source: CALLER_ACCOUNT,
  keyPolicy: EBS,
  caller: role("app"),
  action: "kms:ReEncryptFrom",
  context: { "kms:ViaService": "ec2.us-west-2.amazonaws.com" },
  expect: "allow",
});
add({
  name: "kms:CallerAccount: a direct call (no kms:ViaService) is denied",
  source: CALLER_ACCOUNT,
  keyPolicy: EBS,
  caller: user("alice"),
  action: "kms:Encrypt",
  expect: "deny",
});
add({
  name: "kms:CallerAccount: a principal of another account is denied",
  source: CALLER_ACCOUNT,
  keyPolicy: EBS,
  identityPolicies: [ALLOW_ALL],
  caller: user("bob", B),
  action: "kms:Encrypt",
  context: { "kms:ViaService": "ec2.us-west-2.amazonaws.com" },
  expect: "deny",
});
add({
  name: "kms:CallerAccount: an action the statement does not list is denied",
  source: CALLER_ACCOUNT,
  keyPolicy: EBS,
  caller: user("alice"),
  action: "kms:Sign",
  context: { "kms:ViaService": "ec2.us-west-2.amazonaws.com" },
  expect: "deny",
});

// === Explicit Deny statements with negated conditions ==============================================
const ALG_ONLY = policy(
  ENABLE_IAM,
  keyStatement({ AWS: role("ExampleRole") }, CRYPTO),
  {
    Sid: "Allow only one encryption algorithm with this asymmetric KMS key",
    ...keyStatement(
      { AWS: role("ExampleRole") },
      ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*"],
      { StringNotEquals: { "kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256" } },
      "Deny",
    ),
  },
);
const ALG_SRC = COND + "#conditions-kms-encryption-algorithm";
add({
  name: "kms:EncryptionAlgorithm Deny: the required algorithm is allowed",
  source: ALG_SRC,
  keyPolicy: ALG_ONLY,
  caller: role("ExampleRole"),
  action: "kms:Decrypt",
  context: { "kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256" },
  expect: "allow",
});
add({
  name: "kms:EncryptionAlgorithm Deny: another algorithm is denied",
  source: ALG_SRC,
  keyPolicy: ALG_ONLY,
  caller: role("ExampleRole"),
  action: "kms:Decrypt",
  context: { "kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_1" },
  expect: "deny",
});
add({
  name: "kms:EncryptionAlgorithm Deny: a request without the key is denied (negated operator)",
  source: OPS,
  keyPolicy: ALG_ONLY,
  caller: role("ExampleRole"),
  action: "kms:Encrypt",
  expect: "deny",
});
add({
  name: "kms:EncryptionAlgorithm Deny: a grant cannot override it",
  source: ALG_SRC,
  keyPolicy: ALG_ONLY,
  caller: role("ExampleRole"),
  action: "kms:Encrypt",
  context: { "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT" },
  grantAllows: true,
  expect: "deny",
});
add({
  name: "kms:EncryptionAlgorithm Deny: actions it does not list stay allowed",
  source: ALG_SRC,
  keyPolicy: ALG_ONLY,
  caller: role("ExampleRole"),
  action: "kms:DescribeKey",
  expect: "allow",
});
const SYMMETRIC_ONLY = policy(
  {
    Effect: "Allow",
    Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
    Resource: `arn:aws:kms:us-west-2:${A}:key/*`,
  },
  {
    Sid: "AllowOnlySymmetricAlgorithm",
    Effect: "Deny",
    Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
    Resource: `arn:aws:kms:us-west-2:${A}:key/*`,
    Condition: { StringNotEquals: { "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT" } },
  },
);
add({
  name: "AllowOnlySymmetricAlgorithm: SYMMETRIC_DEFAULT is allowed",
  source: ALG_SRC,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [SYMMETRIC_ONLY],
  caller: user("alice"),
  action: "kms:Encrypt",
  context: { "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT" },
  expect: "allow",
});
add({
  name: "AllowOnlySymmetricAlgorithm: an RSA algorithm is denied",
  source: ALG_SRC,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [SYMMETRIC_ONLY],
  caller: user("alice"),
  action: "kms:Encrypt",
  context: { "kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256" },
  expect: "deny",
});
add({
  name: "AllowOnlySymmetricAlgorithm: GenerateDataKey with SYMMETRIC_DEFAULT is allowed",
  source: ALG_SRC,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [SYMMETRIC_ONLY],
  caller: user("alice"),
  action: "kms:GenerateDataKey",
  context: { "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT" },
  expect: "allow",
});
const ROTATION = policy(
  ENABLE_IAM,
  keyStatement("*", "kms:EnableKeyRotation", {
    NumericLessThanEquals: { "kms:RotationPeriodInDays": "180" },
  }, "Deny"),
);
const ROT_SRC = COND + "#conditions-kms-rotation-period-in-days";
add({
  name: "kms:RotationPeriodInDays: a 90-day period is denied",
  source: ROT_SRC,
  keyPolicy: ROTATION,
  caller: root(A),
  action: "kms:EnableKeyRotation",
  context: { "kms:RotationPeriodInDays": 90 },
  expect: "deny",
});
add({
  name: "kms:RotationPeriodInDays: a 180-day period is denied (less than or equal)",
  source: ROT_SRC,
  keyPolicy: ROTATION,
  caller: root(A),
  action: "kms:EnableKeyRotation",
  context: { "kms:RotationPeriodInDays": 180 },
  expect: "deny",
});
add({
  name: "kms:RotationPeriodInDays: a 365-day period is allowed",
  source: ROT_SRC,
  keyPolicy: ROTATION,
  caller: root(A),
  action: "kms:EnableKeyRotation",
  context: { "kms:RotationPeriodInDays": 365 },
  expect: "allow",
});
add({
  name: "kms:RotationPeriodInDays: a request without a period is not denied",
  source: OPS,
  keyPolicy: ROTATION,
  caller: root(A),
  action: "kms:EnableKeyRotation",
  expect: "allow",
});
const WINDOW = policy(
  ENABLE_IAM,
  keyStatement("*", "kms:ScheduleKeyDeletion", {
    NumericLessThanEquals: { "kms:ScheduleKeyDeletionPendingWindowInDays": "21" },
  }, "Deny"),
);
const WINDOW_SRC = COND + "#conditions-kms-schedule-key-deletion-pending-window-in-days";
add({
  name: "kms:ScheduleKeyDeletionPendingWindowInDays: 7 days is denied",
  source: WINDOW_SRC,
  keyPolicy: WINDOW,
  caller: root(A),
  action: "kms:ScheduleKeyDeletion",
  context: { "kms:ScheduleKeyDeletionPendingWindowInDays": 7 },
  expect: "deny",
});
add({
  name: "kms:ScheduleKeyDeletionPendingWindowInDays: 21 days is denied",
  source: WINDOW_SRC,
  keyPolicy: WINDOW,
  caller: root(A),
  action: "kms:ScheduleKeyDeletion",
  context: { "kms:ScheduleKeyDeletionPendingWindowInDays": 21 },
  expect: "deny",
});
add({
  name: "kms:ScheduleKeyDeletionPendingWindowInDays: 30 days is allowed",
  source: WINDOW_SRC,
  keyPolicy: WINDOW,
  caller: root(A),
  action: "kms:ScheduleKeyDeletion",
  context: { "kms:ScheduleKeyDeletionPendingWindowInDays": 30 },
  expect: "allow",
});
const ECDH_ONLY = policy(
  keyStatement({ AWS: role("ExampleRole") }, "kms:DeriveSharedSecret"),
  keyStatement({ AWS: role("ExampleRole") }, "kms:DeriveSharedSecret", {
    StringNotEquals: { "kms:KeyAgreementAlgorithm": "ECDH" },
  }, "Deny"),
);
const ECDH_SRC = COND + "#conditions-kms-key-agreement-algorithm";
add({
  name: "kms:KeyAgreementAlgorithm: ECDH is allowed",
  source: ECDH_SRC,
  keyPolicy: ECDH_ONLY,
  caller: role("ExampleRole"),
  action: "kms:DeriveSharedSecret",
  context: { "kms:KeyAgreementAlgorithm": "ECDH" },
  expect: "allow",
});
add({
  name: "kms:KeyAgreementAlgorithm: another algorithm is denied",
  source: ECDH_SRC,
  keyPolicy: ECDH_ONLY,
  caller: role("ExampleRole"),
  action: "kms:DeriveSharedSecret",
  context: { "kms:KeyAgreementAlgorithm": "ecdh" },
  expect: "deny",
});

// === kms:EncryptionContext:context-key and kms:EncryptionContextKeys ================================
const EC_SRC = COND + "#conditions-kms-encryption-context";
const EC_CASE_SRC = COND + "#conditions-kms-encryption-context-case";
const ECK_SRC = COND + "#conditions-kms-encryption-context-keys";
const APP = role("RoleForExampleApp");
const EC_APP = policy(
  keyStatement({ AWS: APP }, "kms:GenerateDataKey", {
    StringEquals: { "kms:EncryptionContext:AppName": "ExampleApp" },
  }),
);
add({
  name: "EncryptionContext:AppName: the required pair is allowed",
  source: EC_SRC,
  keyPolicy: EC_APP,
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { AppName: "ExampleApp" },
  expect: "allow",
});
add({
  name: "EncryptionContext:AppName: other pairs are permitted alongside",
  source: EC_SRC,
  keyPolicy: EC_APP,
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { AppName: "ExampleApp", Project: "Alpha" },
  expect: "allow",
});
add({
  name: "EncryptionContext:AppName: a request without encryption context is denied",
  source: EC_SRC,
  keyPolicy: EC_APP,
  caller: APP,
  action: "kms:GenerateDataKey",
  expect: "deny",
});
add({
  name: "EncryptionContext:AppName: the value is case-sensitive under StringEquals",
  source: EC_CASE_SRC,
  keyPolicy: EC_APP,
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { AppName: "exampleapp" },
  expect: "deny",
});
add({
  name: "EncryptionContext:AppName: the context key name is not case-sensitive",
  source: EC_CASE_SRC,
  keyPolicy: EC_APP,
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { appname: "ExampleApp" },
  expect: "allow",
});
add({
  name: "EncryptionContext:AppName: the value under another key does not count",
  source: EC_SRC,
  keyPolicy: EC_APP,
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { Project: "ExampleApp" },
  expect: "deny",
});
add({
  name: "EncryptionContext:AppName: an action the statement does not list is denied",
  source: EC_SRC,
  keyPolicy: EC_APP,
  caller: APP,
  action: "kms:Decrypt",
  encryptionContext: { AppName: "ExampleApp" },
  expect: "deny",
});
const EC_APPNAME = policy(
  keyStatement({ AWS: APP }, "kms:Decrypt", {
    StringEquals: { "kms:EncryptionContext:Appname": "ExampleApp" },
  }),
);
add({
  name: "EncryptionContext:Appname in the policy matches an AppName key",
  source: EC_CASE_SRC,
  keyPolicy: EC_APPNAME,
  caller: APP,
  action: "kms:Decrypt",
  encryptionContext: { AppName: "ExampleApp" },
  expect: "allow",
});
add({
  name: "EncryptionContext:Appname in the policy matches an APPNAME key",
  source: EC_CASE_SRC,
  keyPolicy: EC_APPNAME,
  caller: APP,
  action: "kms:Decrypt",
  encryptionContext: { APPNAME: "ExampleApp" },
  expect: "allow",
});
const EC_ONLY_APP = policy(
  keyStatement({ AWS: role("KeyUsers") }, "kms:GenerateDataKey", {
    StringEquals: { "kms:EncryptionContext:AppName": "ExampleApp" },
    "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["AppName"] },
  }),
);
add({
  name: "AppName pair plus ForAllValues keys: exactly the required pair is allowed",
  source: EC_SRC,
  keyPolicy: EC_ONLY_APP,
  caller: role("KeyUsers"),
  action: "kms:GenerateDataKey",
  encryptionContext: { AppName: "ExampleApp" },
  expect: "allow",
});
add({
  name: "AppName pair plus ForAllValues keys: any other pair is forbidden",
  source: EC_SRC,
  keyPolicy: EC_ONLY_APP,
  caller: role("KeyUsers"),
  action: "kms:GenerateDataKey",
  encryptionContext: { AppName: "ExampleApp", Stage: "Test" },
  expect: "deny",
});
add({
  name: "AppName pair plus ForAllValues keys: no encryption context fails the pair condition",
  source: EC_SRC,
  keyPolicy: EC_ONLY_APP,
  caller: role("KeyUsers"),
  action: "kms:GenerateDataKey",
  expect: "deny",
});
add({
  name: "AppName pair plus ForAllValues keys: the key list compares case-sensitively",
  source: EC_CASE_SRC,
  keyPolicy: EC_ONLY_APP,
  caller: role("KeyUsers"),
  action: "kms:GenerateDataKey",
  encryptionContext: { appname: "ExampleApp" },
  expect: "deny",
});
const EC_DENY_STAGE = policy(
  keyStatement({ AWS: APP }, "kms:GenerateDataKey"),
  keyStatement({ AWS: APP }, "kms:GenerateDataKey", {
    StringEquals: { "kms:EncryptionContext:Stage": "Restricted" },
  }, "Deny"),
);
add({
  name: "Deny Stage=Restricted: that pair is denied",
  source: EC_SRC,
  keyPolicy: EC_DENY_STAGE,
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { Stage: "Restricted" },
  expect: "deny",
});
add({
  name: "Deny Stage=Restricted: Stage=Test is allowed",
  source: EC_SRC,
  keyPolicy: EC_DENY_STAGE,
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { Stage: "Test" },
  expect: "allow",
});
add({
  name: "Deny Stage=Restricted: no encryption context is allowed",
  source: EC_SRC,
  keyPolicy: EC_DENY_STAGE,
  caller: APP,
  action: "kms:GenerateDataKey",
  expect: "allow",
});
const EC_AND = policy(
  keyStatement({ AWS: APP }, "kms:Decrypt", {
    StringEquals: {
      "kms:EncryptionContext:Department": "IT",
      "kms:EncryptionContext:Project": "Alpha",
    },
  }),
);
add({
  name: "two required pairs: both present is allowed",
  source: EC_SRC,
  keyPolicy: EC_AND,
  caller: APP,
  action: "kms:Decrypt",
  encryptionContext: { Department: "IT", Project: "Alpha" },
  expect: "allow",
});
add({
  name: "two required pairs: both plus another pair is allowed",
  source: EC_SRC,
  keyPolicy: EC_AND,
  caller: APP,
  action: "kms:Decrypt",
  encryptionContext: { Department: "IT", Project: "Alpha", Owner: "x" },
  expect: "allow",
});
add({
  name: "two required pairs: one missing is denied (keys are ANDed)",
  source: EC_SRC,
  keyPolicy: EC_AND,
  caller: APP,
  action: "kms:Decrypt",
  encryptionContext: { Department: "IT" },
  expect: "deny",
});
add({
  name: "two required pairs: a wrong value is denied",
  source: EC_SRC,
  keyPolicy: EC_AND,
  caller: APP,
  action: "kms:Decrypt",
  encryptionContext: { Department: "IT", Project: "Beta" },
  expect: "deny",
});
const EC_OR = policy(
  keyStatement({ AWS: APP }, "kms:GenerateDataKey", {
    StringEquals: { "kms:EncryptionContext:Department": "IT" },
  }),
  keyStatement({ AWS: APP }, "kms:GenerateDataKey", {
    StringEquals: { "kms:EncryptionContext:Project": "Alpha" },
  }),
);
add({
  name: "pairs in separate statements: Department=IT alone is allowed",
  source: EC_SRC,
  keyPolicy: EC_OR,
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { Department: "IT" },
  expect: "allow",
});
add({
  name: "pairs in separate statements: Project=Alpha alone is allowed",
  source: EC_SRC,
  keyPolicy: EC_OR,
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { Project: "Alpha" },
  expect: "allow",
});
add({
  name: "pairs in separate statements: neither pair is denied",
  source: EC_SRC,
  keyPolicy: EC_OR,
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { Department: "HR" },
  expect: "deny",
});
const EC_AND_ONLY = policy(
  keyStatement({ AWS: APP }, "kms:GenerateDataKey", {
    StringEquals: {
      "kms:EncryptionContext:Department": "IT",
      "kms:EncryptionContext:Project": "Alpha",
    },
    "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["Department", "Project"] },
  }),
);
add({
  name: "two pairs and only those keys: exactly both is allowed",
  source: EC_SRC,
  keyPolicy: EC_AND_ONLY,
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { Department: "IT", Project: "Alpha" },
  expect: "allow",
});
add({
  name: "two pairs and only those keys: an extra key is denied",
  source: EC_SRC,
  keyPolicy: EC_AND_ONLY,
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { Department: "IT", Project: "Alpha", Owner: "x" },
  expect: "deny",
});
add({
  name: "two pairs and only those keys: one pair is denied",
  source: EC_SRC,
  keyPolicy: EC_AND_ONLY,
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { Department: "IT" },
  expect: "deny",
});
const EC_DENY_TWO = policy(
  keyStatement({ AWS: APP }, "kms:GenerateDataKey"),
  keyStatement({ AWS: APP }, "kms:GenerateDataKey", {
    StringEquals: { "kms:EncryptionContext:Stage": ["Restricted", "Production"] },
  }, "Deny"),
);
add({
  name: "Deny Stage Restricted or Production: Production is denied (values are ORed)",
  source: EC_SRC,
  keyPolicy: EC_DENY_TWO,
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { Stage: "Production" },
  expect: "deny",
});
add({
  name: "Deny Stage Restricted or Production: Restricted is denied",
  source: EC_SRC,
  keyPolicy: EC_DENY_TWO,
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { Stage: "Restricted" },
  expect: "deny",
});
add({
  name: "Deny Stage Restricted or Production: Test is allowed",
  source: EC_SRC,
  keyPolicy: EC_DENY_TWO,
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { Stage: "Test" },
  expect: "allow",
});
const ECK_ANY = policy(
  keyStatement({ AWS: APP }, ["kms:Encrypt", "kms:GenerateDataKey*"], {
    "ForAnyValue:StringEquals": { "kms:EncryptionContextKeys": "AppName" },
  }),
);
add({
  name: "ForAnyValue EncryptionContextKeys AppName: AppName among other keys is allowed",
  source: ECK_SRC,
  keyPolicy: ECK_ANY,
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { AppName: "Helper", Project: "Alpha" },
  expect: "allow",
});
add({
  name: "ForAnyValue EncryptionContextKeys AppName: only Project is denied",
  source: ECK_SRC,
  keyPolicy: ECK_ANY,
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { Project: "Alpha" },
  expect: "deny",
});
add({
  name: "ForAnyValue EncryptionContextKeys AppName: no encryption context is denied",
  source: ECK_SRC,
  keyPolicy: ECK_ANY,
  caller: APP,
  action: "kms:Encrypt",
  expect: "deny",
});
add({
  name:
    "ForAnyValue EncryptionContextKeys AppName: the key name is case-sensitive under StringEquals",
  source: ECK_SRC,
  keyPolicy: ECK_ANY,
  caller: APP,
  action: "kms:Encrypt",
  encryptionContext: { appname: "Helper" },
  expect: "deny",
});
add({
  name:
    "ForAnyValue EncryptionContextKeys AppName: GenerateDataKeyPair is covered by GenerateDataKey*",
  source: ECK_SRC,
  keyPolicy: ECK_ANY,
  caller: APP,
  action: "kms:GenerateDataKeyPair",
  encryptionContext: { AppName: "Helper" },
  expect: "allow",
});
const ECK_ANY_IC = policy(
  keyStatement({ AWS: APP }, ["kms:Encrypt", "kms:GenerateDataKey*"], {
    "ForAnyValue:StringEqualsIgnoreCase": { "kms:EncryptionContextKeys": "AppName" },
  }),
);
add({
  name: "ForAnyValue StringEqualsIgnoreCase EncryptionContextKeys: appname matches AppName",
  source: ECK_SRC,
  keyPolicy: ECK_ANY_IC,
  caller: APP,
  action: "kms:Encrypt",
  encryptionContext: { appname: "Helper" },
  expect: "allow",
});
const ECK_NOT_NULL = policy(
  keyStatement({ AWS: APP }, ["kms:Encrypt", "kms:GenerateDataKey*"], {
    Null: { "kms:EncryptionContextKeys": false },
  }),
);
add({
  name: "Null EncryptionContextKeys false: any encryption context is allowed",
  source: ECK_SRC,
  keyPolicy: ECK_NOT_NULL,
  caller: APP,
  action: "kms:Encrypt",
  encryptionContext: { anything: "goes" },
  expect: "allow",
});
add({
  name: "Null EncryptionContextKeys false: no encryption context is denied",
  source: ECK_SRC,
  keyPolicy: ECK_NOT_NULL,
  caller: APP,
  action: "kms:GenerateDataKeyWithoutPlaintext",
  expect: "deny",
});
const EC_VAR = policy(
  keyStatement({ AWS: [user("bob"), user("alice")] }, ["kms:Decrypt", "kms:Encrypt"], {
    StringEquals: { "kms:EncryptionContext:user": "${aws:username}" },
  }),
);
const EC_VAR_SRC = COND + "#conditions-kms-encryption-context";
add({
  name: "EncryptionContext:user = ${aws:username}: bob with user=bob is allowed",
  source: EC_VAR_SRC,
  keyPolicy: EC_VAR,
  caller: user("bob"),
  action: "kms:Decrypt",
  encryptionContext: { user: "bob" },
  expect: "allow",
});
add({
  name: "EncryptionContext:user = ${aws:username}: bob with user=alice is denied",
  source: EC_VAR_SRC,
  keyPolicy: EC_VAR,
  caller: user("bob"),
  action: "kms:Decrypt",
  encryptionContext: { user: "alice" },
  expect: "deny",
});
add({
  name: "EncryptionContext:user = ${aws:username}: alice with user=alice may Encrypt",
  source: EC_VAR_SRC,
  keyPolicy: EC_VAR,
  caller: user("alice"),
  action: "kms:Encrypt",
  encryptionContext: { user: "alice" },
  expect: "allow",
});
add({
  name: "EncryptionContext:user = ${aws:username}: no encryption context is denied",
  source: EC_VAR_SRC,
  keyPolicy: EC_VAR,
  caller: user("bob"),
  action: "kms:Decrypt",
  expect: "deny",
});
// KMS refuses this anti-pattern in key policies (OverlyPermissiveCondition); IAM accepts it in an
// identity policy, where it shows the documented effect.
const FAV_SINGLE = policy({
  Effect: "Allow",
  Action: "kms:GenerateDataKey",
  Resource: "*",
  Condition: { "ForAllValues:StringEquals": { "kms:EncryptionContext:Department": "IT" } },
});
add({
  name:
    "ForAllValues on the single-valued EncryptionContext key allows requests without encryption context",
  source: EC_SRC,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [FAV_SINGLE],
  caller: APP,
  action: "kms:GenerateDataKey",
  expect: "allow",
});
add({
  name: "ForAllValues on the single-valued EncryptionContext key allows unspecified pairs",
  source: EC_SRC,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [FAV_SINGLE],
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { Stage: "Restricted" },
  expect: "allow",
});
add({
  name: "ForAllValues on the single-valued EncryptionContext key still rejects another Department",
  source: EC_SRC,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [FAV_SINGLE],
  caller: APP,
  action: "kms:GenerateDataKey",
  encryptionContext: { Department: "HR" },
  expect: "deny",
});
const FAV_KEYS_ALONE = policy(
  keyStatement({ AWS: APP }, "kms:GenerateDataKey", {
    "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["AppName"] },
  }),
);
add({
  name: "ForAllValues EncryptionContextKeys alone allows a request with no encryption context",
  source: EC_SRC,
  keyPolicy: FAV_KEYS_ALONE,
  caller: APP,
  action: "kms:GenerateDataKey",
  expect: "allow",
});

// === Request-parameter and key-property condition keys ===========================================
const ROLE = role("ExampleRole");
const on = (action: string | string[], condition: PolicyDoc) =>
  policy(keyStatement({ AWS: ROLE }, action, condition));
const iamOn = (action: string | string[], resource: string, condition: PolicyDoc) =>
  policy({ Effect: "Allow", Action: action, Resource: resource, Condition: condition });
const cases = (
  source: string,
  base: Omit<PolicyCase, "name" | "source" | "context" | "expect">,
  rows: [string, Record<string, ContextValue> | undefined, "allow" | "deny", string?][],
) => {
  for (const [name, context, expect, action] of rows) {
    add({
      ...base,
      name,
      source,
      ...(context ? { context } : {}),
      ...(action ? { action } : {}),
      expect,
    });
  }
};
const PAIR = ["kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext"];
cases(COND + "#conditions-kms-data-key-spec", {
  keyPolicy: on(PAIR, { StringLike: { "kms:DataKeyPairSpec": "RSA*" } }),
  caller: ROLE,
  action: "kms:GenerateDataKeyPair",
}, [
  ["kms:DataKeyPairSpec RSA*: RSA_2048 is allowed", { "kms:DataKeyPairSpec": "RSA_2048" }, "allow"],
  [
    "kms:DataKeyPairSpec RSA*: RSA_4096 without plaintext is allowed",
    { "kms:DataKeyPairSpec": "RSA_4096" },
    "allow",
    "kms:GenerateDataKeyPairWithoutPlaintext",
  ],
  [
    "kms:DataKeyPairSpec RSA*: ECC_NIST_P256 is denied",
    { "kms:DataKeyPairSpec": "ECC_NIST_P256" },
    "deny",
  ],
  ["kms:DataKeyPairSpec RSA*: a missing spec is denied", undefined, "deny"],
]);
cases(COND + "#conditions-kms-key-spec", {
  keyPolicy: null,
  identityPolicies: [iamOn("kms:CreateKey", "*", { StringLike: { "kms:KeySpec": "RSA_*" } })],
  caller: user("alice"),
  action: "kms:CreateKey",
}, [
  ["kms:KeySpec RSA_* on CreateKey: RSA_2048 is allowed", { "kms:KeySpec": "RSA_2048" }, "allow"],
  [
    "kms:KeySpec RSA_* on CreateKey: ECC_NIST_P384 is denied",
    { "kms:KeySpec": "ECC_NIST_P384" },
    "deny",
  ],
  ["kms:KeySpec RSA_* on CreateKey: SYMMETRIC_DEFAULT is denied", {
    "kms:KeySpec": "SYMMETRIC_DEFAULT",
  }, "deny"],
]);
cases(COND + "#conditions-kms-key-spec", {
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [
    iamOn(
      ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:DescribeKey"],
      `arn:aws:kms:us-west-2:${A}:key/*`,
      { StringEquals: { "kms:KeySpec": "SYMMETRIC_DEFAULT" } },
    ),
  ],
  caller: user("alice"),
  action: "kms:Decrypt",
}, [
  ["kms:KeySpec SYMMETRIC_DEFAULT: a symmetric key may Decrypt", {
    "kms:KeySpec": "SYMMETRIC_DEFAULT",
  }, "allow"],
  ["kms:KeySpec SYMMETRIC_DEFAULT: an RSA key is denied", { "kms:KeySpec": "RSA_2048" }, "deny"],
  [
    "kms:KeySpec SYMMETRIC_DEFAULT: DescribeKey of a symmetric key is allowed",
    { "kms:KeySpec": "SYMMETRIC_DEFAULT" },
    "allow",
    "kms:DescribeKey",
  ],
]);
cases(COND + "#conditions-kms-key-usage", {
  keyPolicy: null,
  identityPolicies: [
    iamOn("kms:CreateKey", "*", { StringEquals: { "kms:KeyUsage": "ENCRYPT_DECRYPT" } }),
  ],
  caller: user("alice"),
  action: "kms:CreateKey",
}, [
  [
    "kms:KeyUsage ENCRYPT_DECRYPT on CreateKey: allowed",
    { "kms:KeyUsage": "ENCRYPT_DECRYPT" },
    "allow",
  ],
  ["kms:KeyUsage ENCRYPT_DECRYPT on CreateKey: SIGN_VERIFY is denied", {
    "kms:KeyUsage": "SIGN_VERIFY",
  }, "deny"],
]);
cases(COND + "#conditions-kms-key-usage", {
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [
    iamOn(
      ["kms:CreateGrant", "kms:DescribeKey", "kms:GetPublicKey", "kms:ScheduleKeyDeletion"],
      `arn:aws:kms:us-west-2:${A}:key/*`,
      { StringEquals: { "kms:KeyUsage": "SIGN_VERIFY" } },
    ),
  ],
  caller: user("alice"),
  action: "kms:GetPublicKey",
}, [
  ["kms:KeyUsage SIGN_VERIFY: GetPublicKey of a signing key is allowed", {
    "kms:KeyUsage": "SIGN_VERIFY",
  }, "allow"],
  [
    "kms:KeyUsage SIGN_VERIFY: ScheduleKeyDeletion of an encryption key is denied",
    { "kms:KeyUsage": "ENCRYPT_DECRYPT" },
    "deny",
    "kms:ScheduleKeyDeletion",
  ],
]);
cases(COND + "#conditions-kms-key-origin", {
  keyPolicy: null,
  identityPolicies: [iamOn("kms:CreateKey", "*", { StringEquals: { "kms:KeyOrigin": "AWS_KMS" } })],
  caller: user("alice"),
  action: "kms:CreateKey",
}, [
  ["kms:KeyOrigin AWS_KMS on CreateKey: allowed", { "kms:KeyOrigin": "AWS_KMS" }, "allow"],
  [
    "kms:KeyOrigin AWS_KMS on CreateKey: EXTERNAL is denied",
    { "kms:KeyOrigin": "EXTERNAL" },
    "deny",
  ],
]);
cases(COND + "#conditions-kms-key-origin", {
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [
    iamOn(
      [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:GenerateDataKeyPair",
        "kms:GenerateDataKeyPairWithoutPlaintext",
        "kms:ReEncrypt*",
      ],
      `arn:aws:kms:us-west-2:${A}:key/*`,
      { StringEquals: { "kms:KeyOrigin": "AWS_CLOUDHSM" } },
    ),
  ],
  caller: user("alice"),
  action: "kms:Encrypt",
}, [
  ["kms:KeyOrigin AWS_CLOUDHSM: a custom key store key is allowed", {
    "kms:KeyOrigin": "AWS_CLOUDHSM",
  }, "allow"],
  ["kms:KeyOrigin AWS_CLOUDHSM: an AWS_KMS key is denied", { "kms:KeyOrigin": "AWS_KMS" }, "deny"],
]);
cases(COND + "#conditions-kms-signing-algorithm", {
  keyPolicy: policy(
    keyStatement({ AWS: role("testers") }, "kms:Sign", {
      StringLike: { "kms:SigningAlgorithm": "RSASSA_PSS*" },
    }),
  ),
  caller: role("testers"),
  action: "kms:Sign",
}, [
  ["kms:SigningAlgorithm RSASSA_PSS*: RSASSA_PSS_SHA_512 is allowed", {
    "kms:SigningAlgorithm": "RSASSA_PSS_SHA_512",
  }, "allow"],
  ["kms:SigningAlgorithm RSASSA_PSS*: RSASSA_PKCS1_V1_5_SHA_256 is denied", {
    "kms:SigningAlgorithm": "RSASSA_PKCS1_V1_5_SHA_256",
  }, "deny"],
  [
    "kms:SigningAlgorithm RSASSA_PSS*: Verify is not allowed by a Sign statement",
    { "kms:SigningAlgorithm": "RSASSA_PSS_SHA_512" },
    "deny",
    "kms:Verify",
  ],
]);
const MAC = policy(
  keyStatement({ AWS: role("testers") }, ["kms:GenerateMac", "kms:VerifyMac"], {
    StringEquals: { "kms:MacAlgorithm": "HMAC_SHA_384" },
  }),
  keyStatement({ AWS: role("testers") }, ["kms:GenerateMac", "kms:VerifyMac"], {
    StringEquals: { "kms:MacAlgorithm": "HMAC_SHA_512" },
  }),
);
cases(COND + "#conditions-kms-mac-algorithm", {
  keyPolicy: MAC,
  caller: role("testers"),
  action: "kms:GenerateMac",
}, [
  ["kms:MacAlgorithm: HMAC_SHA_384 is allowed by the first statement", {
    "kms:MacAlgorithm": "HMAC_SHA_384",
  }, "allow"],
  [
    "kms:MacAlgorithm: HMAC_SHA_512 is allowed by the second statement",
    { "kms:MacAlgorithm": "HMAC_SHA_512" },
    "allow",
    "kms:VerifyMac",
  ],
  ["kms:MacAlgorithm: HMAC_SHA_256 is denied", { "kms:MacAlgorithm": "HMAC_SHA_256" }, "deny"],
]);
cases(COND + "#conditions-kms-message-type", {
  keyPolicy: on("kms:Sign", { StringEquals: { "kms:MessageType": "RAW" } }),
  caller: ROLE,
  action: "kms:Sign",
}, [
  ["kms:MessageType RAW: signing a message is allowed", { "kms:MessageType": "RAW" }, "allow"],
  ["kms:MessageType RAW: signing a digest is denied", { "kms:MessageType": "DIGEST" }, "deny"],
]);
cases(COND + "#conditions-kms-multiregion", {
  keyPolicy: null,
  identityPolicies: [iamOn("kms:CreateKey", "*", { Bool: { "kms:MultiRegion": false } })],
  caller: user("alice"),
  action: "kms:CreateKey",
}, [
  [
    "kms:MultiRegion false: a single-Region key may be created",
    { "kms:MultiRegion": false },
    "allow",
  ],
  ["kms:MultiRegion false: a multi-Region key is denied", { "kms:MultiRegion": true }, "deny"],
]);
cases(COND + "#conditions-kms-multiregion-key-type", {
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [
    iamOn(["kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"], `arn:aws:kms:*:${A}:key/*`, {
      StringEquals: { "kms:MultiRegionKeyType": "REPLICA" },
    }),
  ],
  caller: user("alice"),
  action: "kms:ScheduleKeyDeletion",
}, [
  ["kms:MultiRegionKeyType REPLICA: a replica key may be scheduled for deletion", {
    "kms:MultiRegionKeyType": "REPLICA",
  }, "allow"],
  ["kms:MultiRegionKeyType REPLICA: a primary key is denied", {
    "kms:MultiRegionKeyType": "PRIMARY",
  }, "deny"],
  [
    "kms:MultiRegionKeyType REPLICA: a single-Region key (no key type) is denied",
    undefined,
    "deny",
    "kms:CancelKeyDeletion",
  ],
]);
cases(COND + "#conditions-kms-primary-region", {
  keyPolicy: policy(
    keyStatement({ AWS: role("Developer") }, "kms:UpdatePrimaryRegion", {
      StringEquals: {
        "kms:PrimaryRegion": ["us-east-1", "us-west-2", "eu-west-3", "ap-southeast-2"],
      },
    }),
  ),
  caller: role("Developer"),
  action: "kms:UpdatePrimaryRegion",
}, [
  ["kms:PrimaryRegion: us-west-2 is one of the listed Regions", {
    "kms:PrimaryRegion": "us-west-2",
  }, "allow"],
  [
    "kms:PrimaryRegion: eu-central-1 is not listed",
    { "kms:PrimaryRegion": "eu-central-1" },
    "deny",
  ],
]);
cases(COND + "#conditions-kms-replica-region", {
  keyPolicy: policy(
    keyStatement({ AWS: role("Administrator") }, "kms:ReplicateKey", {
      StringEquals: { "kms:ReplicaRegion": ["us-east-1", "eu-west-3", "ap-southeast-2"] },
    }),
  ),
  caller: role("Administrator"),
  action: "kms:ReplicateKey",
}, [
  ["kms:ReplicaRegion: eu-west-3 is allowed", { "kms:ReplicaRegion": "eu-west-3" }, "allow"],
  ["kms:ReplicaRegion: us-west-1 is denied", { "kms:ReplicaRegion": "us-west-1" }, "deny"],
]);
cases(COND + "#conditions-kms-reencrypt-on-same-key", {
  keyPolicy: on("kms:ReEncrypt*", { Bool: { "kms:ReEncryptOnSameKey": true } }),
  caller: ROLE,
  action: "kms:ReEncryptFrom",
}, [
  ["kms:ReEncryptOnSameKey true: re-encrypting under the same key is allowed", {
    "kms:ReEncryptOnSameKey": true,
  }, "allow"],
  [
    "kms:ReEncryptOnSameKey true: ReEncryptTo under the same key is allowed",
    { "kms:ReEncryptOnSameKey": "true" },
    "allow",
    "kms:ReEncryptTo",
  ],
  ["kms:ReEncryptOnSameKey true: another destination key is denied", {
    "kms:ReEncryptOnSameKey": false,
  }, "deny"],
]);
cases(COND + "#conditions-kms-grant-operations", {
  keyPolicy: on("kms:CreateGrant", {
    "ForAllValues:StringEquals": { "kms:GrantOperations": ["Encrypt", "ReEncryptTo"] },
  }),
  caller: ROLE,
  action: "kms:CreateGrant",
}, [
  ["kms:GrantOperations ForAllValues: a grant for Encrypt alone is allowed", {
    "kms:GrantOperations": ["Encrypt"],
  }, "allow"],
  ["kms:GrantOperations ForAllValues: a grant for Encrypt and ReEncryptTo is allowed", {
    "kms:GrantOperations": ["Encrypt", "ReEncryptTo"],
  }, "allow"],
  ["kms:GrantOperations ForAllValues: a grant that adds Decrypt is denied", {
    "kms:GrantOperations": ["Encrypt", "Decrypt"],
  }, "deny"],
]);
cases(COND + "#conditions-kms-grant-operations", {
  keyPolicy: on("kms:CreateGrant", {
    "ForAnyValue:StringEquals": { "kms:GrantOperations": ["Encrypt", "ReEncryptTo"] },
  }),
  caller: ROLE,
  action: "kms:CreateGrant",
}, [
  ["kms:GrantOperations ForAnyValue: Encrypt with Decrypt is allowed", {
    "kms:GrantOperations": ["Encrypt", "Decrypt"],
  }, "allow"],
  ["kms:GrantOperations ForAnyValue: Decrypt and ReEncryptFrom only is denied", {
    "kms:GrantOperations": ["Decrypt", "ReEncryptFrom"],
  }, "deny"],
]);
cases(COND + "#conditions-kms-grantee-principal", {
  keyPolicy: on("kms:CreateGrant", {
    StringEquals: { "kms:GranteePrincipal": role("LimitedAdminRole") },
  }),
  caller: ROLE,
  action: "kms:CreateGrant",
}, [
  ["kms:GranteePrincipal: a grant for LimitedAdminRole is allowed", {
    "kms:GranteePrincipal": role("LimitedAdminRole"),
  }, "allow"],
  ["kms:GranteePrincipal: a grant for another role is denied", {
    "kms:GranteePrincipal": role("OtherRole"),
  }, "deny"],
]);
cases(COND + "#conditions-kms-retiring-principal", {
  keyPolicy: on("kms:CreateGrant", {
    StringEquals: { "kms:RetiringPrincipal": role("LimitedAdminRole") },
  }),
  caller: ROLE,
  action: "kms:CreateGrant",
}, [
  ["kms:RetiringPrincipal: LimitedAdminRole as retiring principal is allowed", {
    "kms:RetiringPrincipal": role("LimitedAdminRole"),
  }, "allow"],
  ["kms:RetiringPrincipal: a grant without a retiring principal is denied", undefined, "deny"],
]);
cases(COND + "#conditions-kms-grant-constraint-type", {
  keyPolicy: policy(
    keyStatement({ AWS: APP }, "kms:CreateGrant", {
      StringEquals: { "kms:GrantConstraintType": "EncryptionContextEquals" },
    }),
  ),
  caller: APP,
  action: "kms:CreateGrant",
}, [
  ["kms:GrantConstraintType: an EncryptionContextEquals constraint is allowed", {
    "kms:GrantConstraintType": "EncryptionContextEquals",
  }, "allow"],
  ["kms:GrantConstraintType: an EncryptionContextSubset constraint is denied", {
    "kms:GrantConstraintType": "EncryptionContextSubset",
  }, "deny"],
  ["kms:GrantConstraintType: a grant without constraints is denied", undefined, "deny"],
]);
cases(COND + "#conditions-kms-grant-is-for-aws-resource", {
  keyPolicy: on("kms:CreateGrant", { Bool: { "kms:GrantIsForAWSResource": true } }),
  caller: ROLE,
  action: "kms:CreateGrant",
}, [
  ["kms:GrantIsForAWSResource: an integrated service creating the grant is allowed", {
    "kms:GrantIsForAWSResource": true,
  }, "allow"],
  ["kms:GrantIsForAWSResource: the user creating the grant directly is denied", {
    "kms:GrantIsForAWSResource": false,
  }, "deny"],
]);
cases(COND + "#conditions-kms-request-alias", {
  keyPolicy: policy({
    Sid: "Key policy using a request alias condition",
    ...keyStatement({ AWS: role("developer") }, "kms:GenerateDataKey", {
      StringEquals: { "kms:RequestAlias": "alias/finance-key" },
    }),
  }),
  caller: role("developer"),
  action: "kms:GenerateDataKey",
}, [
  ["kms:RequestAlias: naming the key by alias/finance-key is allowed", {
    "kms:RequestAlias": "alias/finance-key",
  }, "allow"],
  ["kms:RequestAlias: naming the key by key ARN is denied", undefined, "deny"],
  ["kms:RequestAlias: naming the key by another alias is denied", {
    "kms:RequestAlias": "alias/other",
  }, "deny"],
]);
const RES_ALIAS_ANY = policy({
  Sid: "AliasBasedIAMPolicy",
  Effect: "Allow",
  Action: "kms:GenerateDataKey",
  Resource: [`arn:aws:kms:*:${A}:key/*`, `arn:aws:kms:*:${B}:key/*`],
  Condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/finance-key" } },
});
cases(COND + "#conditions-kms-resource-aliases", {
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [RES_ALIAS_ANY],
  caller: user("alice"),
  action: "kms:GenerateDataKey",
}, [
  ["kms:ResourceAliases ForAnyValue: a key with alias/finance-key among others is allowed", {
    "kms:ResourceAliases": ["alias/finance-key", "alias/other"],
  }, "allow"],
  ["kms:ResourceAliases ForAnyValue: a key with only other aliases is denied", {
    "kms:ResourceAliases": ["alias/other"],
  }, "deny"],
  ["kms:ResourceAliases ForAnyValue: a key without aliases is denied", undefined, "deny"],
]);
const RES_ALIAS_TEST = policy({
  Sid: "AliasBasedIAMPolicy",
  Effect: "Allow",
  Action: ["kms:EnableKey", "kms:DisableKey"],
  Resource: `arn:aws:kms:*:${A}:key/*`,
  Condition: {
    "ForAllValues:StringLike": { "kms:ResourceAliases": ["alias/*Test*"] },
    "ForAnyValue:StringLike": { "kms:ResourceAliases": ["alias/*Test*"] },
  },
});
cases(COND + "#conditions-kms-resource-aliases", {
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [RES_ALIAS_TEST],
  caller: user("alice"),
  action: "kms:EnableKey",
}, [
  ["kms:ResourceAliases *Test*: a key whose aliases all contain Test is allowed", {
    "kms:ResourceAliases": ["alias/Test1", "alias/myTestKey"],
  }, "allow"],
  [
    "kms:ResourceAliases *Test*: one alias without Test denies",
    { "kms:ResourceAliases": ["alias/Test1", "alias/prod"] },
    "deny",
    "kms:DisableKey",
  ],
  [
    "kms:ResourceAliases *Test*: a key without aliases is denied by the ForAnyValue condition",
    undefined,
    "deny",
  ],
  ["kms:ResourceAliases *Test*: lowercase test does not match (case-sensitive)", {
    "kms:ResourceAliases": ["alias/mytestkey"],
  }, "deny"],
]);
cases(COND + "#conditions-kms-expiration-model", {
  keyPolicy: on("kms:ImportKeyMaterial", {
    StringEquals: { "kms:ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE" },
  }),
  caller: ROLE,
  action: "kms:ImportKeyMaterial",
}, [
  ["kms:ExpirationModel: non-expiring key material is allowed", {
    "kms:ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE",
  }, "allow"],
  ["kms:ExpirationModel: expiring key material is denied", {
    "kms:ExpirationModel": "KEY_MATERIAL_EXPIRES",
  }, "deny"],
]);
cases(COND + "#conditions-kms-expiration-model", {
  keyPolicy: on("kms:ImportKeyMaterial", { Null: { "kms:ExpirationModel": true } }),
  caller: ROLE,
  action: "kms:ImportKeyMaterial",
}, [
  ["Null kms:ExpirationModel: a request without ExpirationModel is allowed", undefined, "allow"],
  ["Null kms:ExpirationModel: a request with ExpirationModel is denied", {
    "kms:ExpirationModel": "KEY_MATERIAL_EXPIRES",
  }, "deny"],
]);
cases(COND + "#conditions-kms-valid-to", {
  keyPolicy: on("kms:ImportKeyMaterial", {
    NumericLessThanEquals: { "kms:ValidTo": "1546257599.0" },
  }),
  caller: ROLE,
  action: "kms:ImportKeyMaterial",
}, [
  ["kms:ValidTo: expiry at 1546257599 is allowed", { "kms:ValidTo": "1546257599" }, "allow"],
  ["kms:ValidTo: expiry one second later is denied", { "kms:ValidTo": "1546257600" }, "deny"],
  ["kms:ValidTo: an earlier expiry is allowed", { "kms:ValidTo": 1500000000 }, "allow"],
]);
cases(COND + "#conditions-kms-wrapping-algorithm", {
  keyPolicy: on("kms:GetParametersForImport", {
    StringNotEquals: { "kms:WrappingAlgorithm": "RSAES_OAEP_SHA_1" },
  }),
  caller: ROLE,
  action: "kms:GetParametersForImport",
}, [
  ["kms:WrappingAlgorithm not RSAES_OAEP_SHA_1: RSAES_OAEP_SHA_256 is allowed", {
    "kms:WrappingAlgorithm": "RSAES_OAEP_SHA_256",
  }, "allow"],
  ["kms:WrappingAlgorithm not RSAES_OAEP_SHA_1: RSAES_OAEP_SHA_1 is denied", {
    "kms:WrappingAlgorithm": "RSAES_OAEP_SHA_1",
  }, "deny"],
]);
cases(COND + "#conditions-kms-wrapping-key-spec", {
  keyPolicy: on("kms:GetParametersForImport", {
    StringEquals: { "kms:WrappingKeySpec": "RSA_4096" },
  }),
  caller: ROLE,
  action: "kms:GetParametersForImport",
}, [
  [
    "kms:WrappingKeySpec RSA_4096: RSA_4096 is allowed",
    { "kms:WrappingKeySpec": "RSA_4096" },
    "allow",
  ],
  [
    "kms:WrappingKeySpec RSA_4096: RSA_2048 is denied",
    { "kms:WrappingKeySpec": "RSA_2048" },
    "deny",
  ],
]);
const NO_BYPASS = policy({
  Effect: "Allow",
  Action: ["kms:CreateKey", "kms:PutKeyPolicy"],
  Resource: "*",
}, {
  Effect: "Deny",
  Action: ["kms:CreateKey", "kms:PutKeyPolicy"],
  Resource: "*",
  Condition: { Bool: { "kms:BypassPolicyLockoutSafetyCheck": true } },
});
cases(COND + "#conditions-kms-bypass-policy-lockout-safety-check", {
  keyPolicy: null,
  identityPolicies: [NO_BYPASS],
  caller: user("alice"),
  action: "kms:CreateKey",
}, [
  ["kms:BypassPolicyLockoutSafetyCheck Deny: CreateKey with the bypass is denied", {
    "kms:BypassPolicyLockoutSafetyCheck": true,
  }, "deny"],
  ["kms:BypassPolicyLockoutSafetyCheck Deny: CreateKey without the bypass is allowed", {
    "kms:BypassPolicyLockoutSafetyCheck": false,
  }, "allow"],
]);
add({
  name: "kms:BypassPolicyLockoutSafetyCheck Deny: PutKeyPolicy with the bypass is denied",
  source: COND + "#conditions-kms-bypass-policy-lockout-safety-check",
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [NO_BYPASS],
  caller: user("alice"),
  action: "kms:PutKeyPolicy",
  context: { "kms:BypassPolicyLockoutSafetyCheck": true },
  expect: "deny",
});
cases(COND + "#conditions-kms-bypass-policy-lockout-safety-check", {
  keyPolicy: on("kms:PutKeyPolicy", { Null: { "kms:BypassPolicyLockoutSafetyCheck": true } }),
  caller: ROLE,
  action: "kms:PutKeyPolicy",
}, [
  [
    "Null kms:BypassPolicyLockoutSafetyCheck: PutKeyPolicy without the parameter is allowed",
    undefined,
    "allow",
  ],
  ["Null kms:BypassPolicyLockoutSafetyCheck: PutKeyPolicy with the parameter is denied", {
    "kms:BypassPolicyLockoutSafetyCheck": false,
  }, "deny"],
]);
cases(COND + "#conditions-kms-via-service", {
  keyPolicy: on([
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:CreateGrant",
    "kms:ListGrants",
    "kms:DescribeKey",
  ], {
    StringEquals: {
      "kms:ViaService": ["ec2.us-west-2.amazonaws.com", "rds.us-west-2.amazonaws.com"],
    },
  }),
  caller: ROLE,
  action: "kms:Encrypt",
}, [
  ["kms:ViaService: a request through Amazon EC2 is allowed", {
    "kms:ViaService": "ec2.us-west-2.amazonaws.com",
  }, "allow"],
  [
    "kms:ViaService: a request through Amazon RDS is allowed",
    { "kms:ViaService": "rds.us-west-2.amazonaws.com" },
    "allow",
    "kms:ListGrants",
  ],
  ["kms:ViaService: a request through Lambda is denied", {
    "kms:ViaService": "lambda.us-west-2.amazonaws.com",
  }, "deny"],
  ["kms:ViaService: a direct request is denied", undefined, "deny"],
]);
cases(COND + "#conditions-kms-via-service", {
  keyPolicy: policy(
    keyStatement({ AWS: ROLE }, "kms:Encrypt"),
    keyStatement({ AWS: ROLE }, ["kms:Encrypt"], {
      StringEquals: { "kms:ViaService": ["lambda.us-west-2.amazonaws.com"] },
    }, "Deny"),
  ),
  caller: ROLE,
  action: "kms:Encrypt",
}, [
  ["kms:ViaService Deny: a request through Lambda is denied", {
    "kms:ViaService": "lambda.us-west-2.amazonaws.com",
  }, "deny"],
  ["kms:ViaService Deny: a direct request is allowed", undefined, "allow"],
]);

// === Nitro Enclaves attestation =====================================================================
const IMAGE =
  "9fedcba8abcdef7abcdef6abcdef5abcdef4abcdef3abcdef2abcdef1abcdef1abcdef0abcdef1abcdef2abcdef3abcdef4abcdef5abcdef6abcdef7abcdef99";
const PCR1 =
  "0x1de4f2dcf774f6e3b679f62e5f120065b2e408dcea327bd1c9dddaea6664e7af7935581474844767453082c6f1586116376cede396a30a39a611b9aad7966c87";
const DP = role("data-processing");
cases(NITRO + "#conditions-kms-recipient-image-sha", {
  keyPolicy: policy({
    Sid: "Enable enclave data processing",
    ...keyStatement({ AWS: DP }, ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateRandom"], {
      StringEqualsIgnoreCase: { "kms:RecipientAttestation:ImageSha384": IMAGE },
    }),
  }),
  caller: DP,
  action: "kms:Decrypt",
}, [
  ["kms:RecipientAttestation:ImageSha384: the attested image hash is allowed", {
    "kms:RecipientAttestation:ImageSha384": IMAGE,
  }, "allow"],
  [
    "kms:RecipientAttestation:ImageSha384: the hash compares ignoring case",
    { "kms:RecipientAttestation:ImageSha384": IMAGE.toUpperCase() },
    "allow",
    "kms:GenerateDataKey",
  ],
  ["kms:RecipientAttestation:ImageSha384: another image is denied", {
    "kms:RecipientAttestation:ImageSha384": IMAGE.replace("99", "98"),
  }, "deny"],
  [
    "kms:RecipientAttestation:ImageSha384: a request without attestation is denied",
    undefined,
    "deny",
  ],
]);
cases(NITRO + "#conditions-kms-recipient-pcrs", {
  keyPolicy: policy({
    Sid: "Enable enclave data processing",
    ...keyStatement({ AWS: DP }, "kms:Decrypt", {
      StringEqualsIgnoreCase: { "kms:RecipientAttestation:PCR1": PCR1 },
    }),
  }),
  caller: DP,
  action: "kms:Decrypt",
}, [
  ["kms:RecipientAttestation:PCR1: the attested PCR1 is allowed", {
    "kms:RecipientAttestation:PCR1": PCR1,
  }, "allow"],
  ["kms:RecipientAttestation:PCR1: the PCR value compares ignoring case", {
    "kms:RecipientAttestation:PCR1": PCR1.toUpperCase(),
  }, "allow"],
  ["kms:RecipientAttestation:PCR1: another PCR1 is denied", {
    "kms:RecipientAttestation:PCR1": PCR1.replace("c87", "c88"),
  }, "deny"],
  ["kms:RecipientAttestation:PCR1: PCR0 alone does not satisfy a PCR1 condition", {
    "kms:RecipientAttestation:PCR0": PCR1,
  }, "deny"],
]);

// === Global condition keys ===========================================================================
cases(GLOBAL + "#condition-keys-principalarn", {
  keyPolicy: policy(
    keyStatement("*", "kms:Decrypt", {
      ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${A}:role/app-*` },
    }),
  ),
  caller: role("app-web"),
  action: "kms:Decrypt",
}, [
  ["aws:PrincipalArn ArnLike role/app-*: role app-web is allowed", undefined, "allow"],
]);
add({
  name: "aws:PrincipalArn ArnLike role/app-*: role batch is denied",
  source: GLOBAL + "#condition-keys-principalarn",
  keyPolicy: policy(
    keyStatement("*", "kms:Decrypt", {
      ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${A}:role/app-*` },
    }),
  ),
  caller: role("batch"),
  action: "kms:Decrypt",
  expect: "deny",
});
add({
  name: "aws:PrincipalArn ArnLike role/app-*: a user named app-x is denied",
  source: GLOBAL + "#condition-keys-principalarn",
  keyPolicy: policy(
    keyStatement("*", "kms:Decrypt", {
      ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${A}:role/app-*` },
    }),
  ),
  caller: user("app-x"),
  action: "kms:Decrypt",
  expect: "deny",
});
const PRINCIPAL_ACCOUNT = policy(
  keyStatement("*", CRYPTO, { StringEquals: { "aws:PrincipalAccount": A } }),
);
add({
  name: "aws:PrincipalAccount: a principal of the account is allowed",
  source: GLOBAL + "#condition-keys-principalaccount",
  keyPolicy: PRINCIPAL_ACCOUNT,
  caller: role("app"),
  action: "kms:Encrypt",
  expect: "allow",
});
add({
  name: "aws:PrincipalAccount: a principal of another account is denied",
  source: GLOBAL + "#condition-keys-principalaccount",
  keyPolicy: PRINCIPAL_ACCOUNT,
  identityPolicies: [ALLOW_ALL],
  caller: role("app", B),
  action: "kms:Encrypt",
  expect: "deny",
});
const SOURCE_IP = allowIdentity("kms:*", "*");
(SOURCE_IP.Statement as PolicyDoc[])[0]!.Condition = {
  IpAddress: { "aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"] },
};
cases(OPS + "#Conditions_IPAddress", {
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [SOURCE_IP],
  caller: user("alice"),
  action: "kms:Decrypt",
}, [
  ["aws:SourceIp IpAddress: an address in the IPv4 range is allowed", {
    "aws:SourceIp": "203.0.113.54",
  }, "allow"],
  ["aws:SourceIp IpAddress: an address outside the IPv4 range is denied", {
    "aws:SourceIp": "198.51.100.1",
  }, "deny"],
  ["aws:SourceIp IpAddress: an address in the IPv6 range is allowed", {
    "aws:SourceIp": "2001:db8:1234:5678::abcd",
  }, "allow"],
  ["aws:SourceIp IpAddress: an address outside the IPv6 range is denied", {
    "aws:SourceIp": "2001:db8:1234:5679::1",
  }, "deny"],
  [
    "aws:SourceIp IpAddress: a request without a source IP (VPC endpoint) is denied",
    undefined,
    "deny",
  ],
]);
const DENY_OUTSIDE = policy({ Effect: "Allow", Action: "kms:*", Resource: "*" }, {
  Effect: "Deny",
  Action: "*",
  Resource: "*",
  Condition: {
    NotIpAddress: { "aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"] },
    Bool: { "aws:ViaAWSService": "false" },
  },
});
cases(DENY_IP, {
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [DENY_OUTSIDE],
  caller: user("alice"),
  action: "kms:Decrypt",
}, [
  ["deny-ip example: a direct call from an allowed range is allowed", {
    "aws:SourceIp": "192.0.2.10",
    "aws:ViaAWSService": false,
  }, "allow"],
  ["deny-ip example: a direct call from elsewhere is denied", {
    "aws:SourceIp": "198.51.100.1",
    "aws:ViaAWSService": false,
  }, "deny"],
  ["deny-ip example: a call made by an AWS service on the user's behalf is not denied", {
    "aws:SourceIp": "198.51.100.1",
    "aws:ViaAWSService": true,
  }, "allow"],
]);
const DATE_WINDOW = policy({
  Effect: "Allow",
  Action: "kms:*",
  Resource: "*",
  Condition: {
    DateGreaterThan: { "aws:CurrentTime": "2020-04-01T00:00:00Z" },
    DateLessThan: { "aws:CurrentTime": "2020-06-30T23:59:59Z" },
  },
});
cases(DATES, {
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [DATE_WINDOW],
  caller: user("alice"),
  action: "kms:Encrypt",
}, [
  ["aws:CurrentTime window: a request inside the window is allowed", {
    "aws:CurrentTime": "2020-05-15T12:00:00Z",
  }, "allow"],
  ["aws:CurrentTime window: a request before the window is denied", {
    "aws:CurrentTime": "2020-03-31T23:59:59Z",
  }, "deny"],
  ["aws:CurrentTime window: a request after the window is denied", {
    "aws:CurrentTime": "2020-07-01T00:00:00Z",
  }, "deny"],
  ["aws:CurrentTime window: epoch seconds inside the window are allowed", {
    "aws:CurrentTime": "1589544000",
  }, "allow"],
]);
const TLS_ONLY = policy(
  ENABLE_IAM,
  keyStatement("*", "kms:*", { Bool: { "aws:SecureTransport": "false" } }, "Deny"),
);
cases(
  OPS + "#Conditions_Boolean",
  { keyPolicy: TLS_ONLY, caller: root(A), action: "kms:Decrypt" },
  [
    ["aws:SecureTransport false Deny: a plain-HTTP request is denied", {
      "aws:SecureTransport": false,
    }, "deny"],
    [
      "aws:SecureTransport false Deny: a TLS request is allowed",
      { "aws:SecureTransport": true },
      "allow",
    ],
  ],
);
const TAG_ALPHA = policy({
  Sid: "IAMPolicyWithResourceTag",
  Effect: "Allow",
  Action: ["kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt"],
  Resource: `arn:aws:kms:ap-southeast-1:${A}:key/*`,
  Condition: { StringEquals: { "aws:ResourceTag/Project": "Alpha" } },
});
cases(TAGS, {
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [TAG_ALPHA],
  caller: user("alice"),
  action: "kms:Decrypt",
  resource: SG_KEY,
}, [
  ["aws:ResourceTag/Project Alpha: a key tagged Project=Alpha is allowed", {
    "aws:ResourceTag/Project": "Alpha",
  }, "allow"],
  ["aws:ResourceTag/Project Alpha: a key tagged Project=Beta is denied", {
    "aws:ResourceTag/Project": "Beta",
  }, "deny"],
  ["aws:ResourceTag/Project Alpha: an untagged key is denied", undefined, "deny"],
  ["aws:ResourceTag/Project Alpha: the tag key in the condition key is not case-sensitive", {
    "aws:ResourceTag/project": "Alpha",
  }, "allow"],
  ["aws:ResourceTag/Project Alpha: the tag value is case-sensitive", {
    "aws:ResourceTag/Project": "alpha",
  }, "deny"],
]);
add({
  name: "aws:ResourceTag/Project Alpha: a key in another Region is denied",
  source: TAGS,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [TAG_ALPHA],
  caller: user("alice"),
  action: "kms:Decrypt",
  context: { "aws:ResourceTag/Project": "Alpha" },
  expect: "deny",
});
const TAG_RESERVED = policy(
  {
    Sid: "IAMAllowCryptographicOperations",
    Effect: "Allow",
    Action: ["kms:Encrypt", "kms:GenerateDataKey*", "kms:Decrypt", "kms:ReEncrypt*"],
    Resource: `arn:aws:kms:*:${A}:key/*`,
  },
  {
    Sid: "IAMDenyOnTag",
    Effect: "Deny",
    Action: "kms:*",
    Resource: `arn:aws:kms:*:${A}:key/*`,
    Condition: { StringEquals: { "aws:ResourceTag/Type": "Reserved" } },
  },
  {
    Sid: "IAMDenyNoTag",
    Effect: "Deny",
    Action: "kms:*",
    Resource: `arn:aws:kms:*:${A}:key/*`,
    Condition: { Null: { "aws:ResourceTag/Type": "true" } },
  },
);
cases(TAGS, {
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [TAG_RESERVED],
  caller: user("alice"),
  action: "kms:Encrypt",
}, [
  [
    "IAMDenyOnTag: a key tagged Type=Reserved is denied",
    { "aws:ResourceTag/Type": "Reserved" },
    "deny",
  ],
  ["IAMDenyNoTag: a key without a Type tag is denied", undefined, "deny"],
  [
    "IAMDenyOnTag: a key tagged Type=Normal is allowed",
    { "aws:ResourceTag/Type": "Normal" },
    "allow",
  ],
  ["IAMDenyOnTag: Type=reserved differs in case and is allowed", {
    "aws:ResourceTag/Type": "reserved",
  }, "allow"],
]);

// === Multiple keys and values (IAM User Guide tables, as a key policy) ===============================
const tagged = (dept?: string, tagRole?: string): Record<string, ContextValue> => ({
  ...(dept ? { "aws:PrincipalTag/department": dept } : {}),
  ...(tagRole ? { "aws:PrincipalTag/role": tagRole } : {}),
});
const TAG_CONDITION = {
  "aws:PrincipalTag/department": ["finance", "hr", "legal"],
  "aws:PrincipalTag/role": ["audit", "security"],
};
const ARNS = [user("Ana"), user("Mary")];
const MULTI_LIKE = policy({
  Sid: "ExamplePolicy",
  ...keyStatement("*", "kms:Decrypt", {
    StringEquals: TAG_CONDITION,
    ArnLike: { "aws:PrincipalArn": ARNS },
  }),
});
const MULTI_NOT = policy({
  Sid: "ExamplePolicy",
  ...keyStatement("*", "kms:Decrypt", {
    StringEquals: TAG_CONDITION,
    ArnNotLike: { "aws:PrincipalArn": ARNS },
  }),
});
const multiRows: [string, string, Record<string, ContextValue>, "allow" | "deny"][] = [
  ["legal/audit", "Mary", tagged("legal", "audit"), "allow"],
  ["hr/audit", "Nikki", tagged("hr", "audit"), "deny"],
  ["hr/payroll", "Mary", tagged("hr", "payroll"), "deny"],
  ["no role tag", "Mary", tagged("hr"), "deny"],
  ["no principal tags", "Mary", tagged(), "deny"],
];
for (const [tags, who, context, expect] of multiRows) {
  add({
    name: `StringEquals+ArnLike table: ${tags}, ${who} -> ${expect}`,
    source: MULTI + "#reference_policies_multiple-conditions-eval",
    keyPolicy: MULTI_LIKE,
    caller: user(who),
    action: "kms:Decrypt",
    context,
    expect,
  });
}
const notRows: [string, string, Record<string, ContextValue>, "allow" | "deny"][] = [
  ["legal/audit", "Nikki", tagged("legal", "audit"), "allow"],
  ["hr/audit", "Mary", tagged("hr", "audit"), "deny"],
  ["hr/payroll", "Nikki", tagged("hr", "payroll"), "deny"],
  ["no role tag", "Nikki", tagged("hr"), "deny"],
  ["no principal tags", "Nikki", tagged(), "deny"],
];
for (const [tags, who, context, expect] of notRows) {
  add({
    name: `StringEquals+ArnNotLike table: ${tags}, ${who} -> ${expect}`,
    source: MULTI + "#reference_policies_multiple-conditions-negated-matching-eval",
    keyPolicy: MULTI_NOT,
    caller: user(who),
    action: "kms:Decrypt",
    context,
    expect,
  });
}

// === NotPrincipal, NotAction, NotResource ============================================================
const spare = (...principals: string[]) =>
  policy(keyStatement("*", CRYPTO), {
    Effect: "Deny",
    NotPrincipal: { AWS: principals },
    Action: "kms:*",
    Resource: "*",
  });
add({
  name: "NotPrincipal Deny: the spared user (with its account listed) is allowed",
  source: NOTP,
  keyPolicy: spare(user("Bob"), root(A)),
  caller: user("Bob"),
  action: "kms:Decrypt",
  expect: "allow",
});
add({
  name: "NotPrincipal Deny: the listed account root is spared",
  source: NOTP,
  keyPolicy: spare(user("Bob"), root(A)),
  caller: root(A),
  action: "kms:Decrypt",
  expect: "allow",
});
add({
  name: "NotPrincipal Deny: every other user is denied",
  source: NOTP,
  keyPolicy: spare(user("Bob"), root(A)),
  caller: user("alice"),
  action: "kms:Decrypt",
  expect: "deny",
});
add({
  name: "NotPrincipal Deny: a user listed without its account is still denied",
  source: NOTP,
  keyPolicy: spare(user("Bob")),
  caller: user("Bob"),
  action: "kms:Decrypt",
  expect: "deny",
});
add({
  name: "NotPrincipal Deny: a spared role with its account listed is allowed",
  source: NOTP,
  keyPolicy: spare(role("ExampleRole"), root(A)),
  caller: role("ExampleRole"),
  action: "kms:Encrypt",
  expect: "allow",
});
add({
  name: "NotPrincipal Deny: a role of another account is denied even with IAM permission",
  source: NOTP,
  keyPolicy: spare(role("ExampleRole"), root(A)),
  identityPolicies: [ALLOW_ALL],
  caller: role("ExampleRole", B),
  action: "kms:Encrypt",
  expect: "deny",
});
const NOT_ACTION = policy({
  Effect: "Allow",
  NotAction: ["kms:ScheduleKeyDeletion", "kms:DisableKey"],
  Resource: `arn:aws:kms:*:${A}:key/*`,
});
add({
  name: "NotAction Allow: an unlisted action is allowed",
  source: NOTA,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [NOT_ACTION],
  caller: user("alice"),
  action: "kms:Decrypt",
  expect: "allow",
});
add({
  name: "NotAction Allow: a listed action is not allowed",
  source: NOTA,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [NOT_ACTION],
  caller: user("alice"),
  action: "kms:ScheduleKeyDeletion",
  expect: "deny",
});
const ONLY_DECRYPT = policy({ Effect: "Allow", Action: "kms:*", Resource: "*" }, {
  Effect: "Deny",
  NotAction: "kms:Decrypt",
  Resource: "*",
});
add({
  name: "NotAction Deny: the one excepted action stays allowed",
  source: NOTA,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [ONLY_DECRYPT],
  caller: user("alice"),
  action: "kms:Decrypt",
  expect: "allow",
});
add({
  name: "NotAction Deny: every other action is denied",
  source: NOTA,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [ONLY_DECRYPT],
  caller: user("alice"),
  action: "kms:Encrypt",
  expect: "deny",
});
const NOT_RESOURCE = policy({ Effect: "Allow", Action: "kms:*", NotResource: OTHER_KEY });
add({
  name: "NotResource Allow: another key is allowed",
  source: NOTR,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [NOT_RESOURCE],
  caller: user("alice"),
  action: "kms:Decrypt",
  expect: "allow",
});
add({
  name: "NotResource Allow: the excluded key is not allowed",
  source: NOTR,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [NOT_RESOURCE],
  caller: user("alice"),
  action: "kms:Decrypt",
  resource: OTHER_KEY,
  expect: "deny",
});
const DENY_NOT_RESOURCE = policy({ Effect: "Allow", Action: "kms:*", Resource: "*" }, {
  Effect: "Deny",
  Action: "kms:*",
  NotResource: [KEY],
});
add({
  name: "NotResource Deny: the one excepted key stays allowed",
  source: NOTR,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [DENY_NOT_RESOURCE],
  caller: user("alice"),
  action: "kms:Decrypt",
  expect: "allow",
});
add({
  name: "NotResource Deny: every other key is denied",
  source: NOTR,
  keyPolicy: DEFAULT_POLICY,
  identityPolicies: [DENY_NOT_RESOURCE],
  caller: user("alice"),
  action: "kms:Decrypt",
  resource: OTHER_KEY,
  expect: "deny",
});

// === IfExists ========================================================================================
cases(OPS + "#Conditions_IfExists", {
  keyPolicy: on(CRYPTO, {
    StringEqualsIfExists: { "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT" },
  }),
  caller: ROLE,
  action: "kms:Encrypt",
}, [
  [
    "StringEqualsIfExists: a request without the key is allowed",
    undefined,
    "allow",
    "kms:DescribeKey",
  ],
  ["StringEqualsIfExists: a matching value is allowed", {
    "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
  }, "allow"],
  ["StringEqualsIfExists: a different value is denied", {
    "kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256",
  }, "deny"],
]);
cases(OPS + "#Conditions_IfExists", {
  keyPolicy: policy(
    ENABLE_IAM,
    keyStatement("*", "kms:*", {
      StringNotEqualsIfExists: { "kms:ViaService": "ec2.us-west-2.amazonaws.com" },
    }, "Deny"),
  ),
  caller: root(A),
  action: "kms:Decrypt",
}, [
  ["StringNotEqualsIfExists Deny: a request without the key is still denied", undefined, "deny"],
  ["StringNotEqualsIfExists Deny: the excepted service is allowed", {
    "kms:ViaService": "ec2.us-west-2.amazonaws.com",
  }, "allow"],
  ["StringNotEqualsIfExists Deny: another service is denied", {
    "kms:ViaService": "lambda.us-west-2.amazonaws.com",
  }, "deny"],
]);
