/**
 * Sign, Verify and GetPublicKey: schema -> core function.
 *
 * @module
 */
import { getPublicKey, sign, verify } from "../core/operations/asymmetric.ts";
import { type FamilyTable, operation } from "./operation_entry.ts";
import { GetPublicKeyRequest, SignRequest, VerifyRequest } from "./schemas/asymmetric.ts";

/** The asymmetric family of the operation table. */
export const ASYMMETRIC_OPERATIONS: FamilyTable<"asymmetric"> = {
  Sign: operation(SignRequest, sign),
  Verify: operation(VerifyRequest, verify),
  GetPublicKey: operation(GetPublicKeyRequest, getPublicKey),
};
