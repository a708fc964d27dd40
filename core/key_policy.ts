/**
 * Key policy documents: AWS's default policy and the well-formedness check
 * CreateKey applies until policy evaluation arrives with the access-control issue.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
 * @module
 */
import { accountRootArn } from "./identifiers.ts";

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

/** True when a policy document is a JSON object with a Statement (full evaluation comes with key policies). */
export function isWellFormedPolicy(policy: string): boolean {
  try {
    const doc: unknown = JSON.parse(policy);
    return typeof doc === "object" && doc !== null && !Array.isArray(doc) &&
      "Statement" in doc;
  } catch {
    return false;
  }
}
