/**
 * Key policy operations: schema -> core function.
 *
 * @module
 */
import { getKeyPolicy, listKeyPolicies, putKeyPolicy } from "../core/operations/key_policies.ts";
import { type FamilyTable, operation } from "./operation_entry.ts";
import {
  GetKeyPolicyRequest,
  ListKeyPoliciesRequest,
  PutKeyPolicyRequest,
} from "./schemas/key_policies.ts";

/** The key policy family of the operation table. */
export const KEY_POLICY_OPERATIONS: FamilyTable<"keyPolicies"> = {
  PutKeyPolicy: operation(PutKeyPolicyRequest, putKeyPolicy),
  GetKeyPolicy: operation(GetKeyPolicyRequest, getKeyPolicy),
  ListKeyPolicies: operation(ListKeyPoliciesRequest, listKeyPolicies),
};
