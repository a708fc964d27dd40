/**
 * Schemas of the key policy operations.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html
 * @module
 */
import { z } from "zod";
import { KeyIdType, Limit, Marker, PolicyDocument } from "./shared.ts";

/** PolicyNameType: 1..128 word characters. */
const PolicyName = z.string().min(1).max(128).regex(/^\w+$/);

/** PutKeyPolicy. */
export const PutKeyPolicyRequest = z.object({
  KeyId: KeyIdType,
  PolicyName: PolicyName.optional(),
  Policy: PolicyDocument,
  BypassPolicyLockoutSafetyCheck: z.boolean().optional(),
});

/** GetKeyPolicy. */
export const GetKeyPolicyRequest = z.object({
  KeyId: KeyIdType,
  PolicyName: PolicyName.optional(),
});

/** ListKeyPolicies. */
export const ListKeyPoliciesRequest = z.object({
  KeyId: KeyIdType,
  Limit: Limit.optional(),
  Marker: Marker.optional(),
});
