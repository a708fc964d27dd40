/**
 * Key policy operations: schema -> core function.
 *
 * @module
 */
import { getKeyPolicy, listKeyPolicies, putKeyPolicy } from "../core/operations/key_policies.ts";
import { type Operation, operation } from "./operation.ts";
import {
  GetKeyPolicyRequest,
  ListKeyPoliciesRequest,
  PutKeyPolicyRequest,
} from "./schemas/key_policies.ts";

/** The key policy family of the operation table. */
export const KEY_POLICY_OPERATIONS: Readonly<Record<string, Operation>> = {
  PutKeyPolicy: operation(PutKeyPolicyRequest, putKeyPolicy),
  GetKeyPolicy: operation(GetKeyPolicyRequest, getKeyPolicy),
  ListKeyPolicies: operation(ListKeyPoliciesRequest, listKeyPolicies),
};
