/**
 * Sign, Verify and GetPublicKey: schema -> core function.
 *
 * @module
 */
import { getPublicKey, sign, verify } from "../core/operations/asymmetric.ts";
import { type Operation, operation } from "./operation.ts";
import { GetPublicKeyRequest, SignRequest, VerifyRequest } from "./schemas/asymmetric.ts";

/** The asymmetric family of the operation table. */
export const ASYMMETRIC_OPERATIONS: Readonly<Record<string, Operation>> = {
  Sign: operation(SignRequest, sign),
  Verify: operation(VerifyRequest, verify),
  GetPublicKey: operation(GetPublicKeyRequest, getPublicKey),
};
