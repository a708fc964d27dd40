/**
 * Schemas of the key policy operations.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html
 * @module
 */
import { z } from "zod";
import type {
  getKeyPolicy,
  listKeyPolicies,
  putKeyPolicy,
} from "../../core/operations/key_policies.ts";
import { type InputOf, KeyIdType, Limit, Marker, PolicyDocument, requestOf } from "./shared.ts";

/** PolicyNameType: 1..128 word characters. */
const PolicyName = z.string().min(1).max(128).regex(/^\w+$/);

/** PutKeyPolicy. */
export const PutKeyPolicyRequest = requestOf<InputOf<typeof putKeyPolicy>>()(z.object({
  KeyId: KeyIdType,
  PolicyName: PolicyName.optional(),
  Policy: PolicyDocument,
  BypassPolicyLockoutSafetyCheck: z.boolean().optional(),
}));

/** GetKeyPolicy. */
export const GetKeyPolicyRequest = requestOf<InputOf<typeof getKeyPolicy>>()(z.object({
  KeyId: KeyIdType,
  PolicyName: PolicyName.optional(),
}));

/** ListKeyPolicies. */
export const ListKeyPoliciesRequest = requestOf<InputOf<typeof listKeyPolicies>>()(z.object({
  KeyId: KeyIdType,
  Limit: Limit.optional(),
  Marker: Marker.optional(),
}));
