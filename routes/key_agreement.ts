/**
 * DeriveSharedSecret: schema -> core function.
 *
 * @module
 */
import { deriveSharedSecret } from "../core/operations/key_agreement.ts";
import { type FamilyTable, operation } from "./operation_entry.ts";
import { DeriveSharedSecretRequest } from "./schemas/key_agreement.ts";

/** The key-agreement family of the operation table. */
export const KEY_AGREEMENT_OPERATIONS: FamilyTable<"keyAgreement"> = {
  DeriveSharedSecret: operation(DeriveSharedSecretRequest, deriveSharedSecret),
};
