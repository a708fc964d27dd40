/**
 * DeriveSharedSecret: schema -> core function.
 *
 * @module
 */
import { deriveSharedSecret } from "../core/operations/key_agreement.ts";
import { type Operation, operation } from "./operation.ts";
import { DeriveSharedSecretRequest } from "./schemas/key_agreement.ts";

/** The key-agreement family of the operation table. */
export const KEY_AGREEMENT_OPERATIONS: Readonly<Record<string, Operation>> = {
  DeriveSharedSecret: operation(DeriveSharedSecretRequest, deriveSharedSecret),
};
