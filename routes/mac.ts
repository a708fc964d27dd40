/**
 * GenerateMac and VerifyMac: schema -> core function.
 *
 * @module
 */
import { generateMac, verifyMac } from "../core/operations/mac.ts";
import { type FamilyTable, operation } from "./operation_entry.ts";
import { GenerateMacRequest, VerifyMacRequest } from "./schemas/mac.ts";

/** The mac family of the operation table. */
export const MAC_OPERATIONS: FamilyTable<"mac"> = {
  GenerateMac: operation(GenerateMacRequest, generateMac),
  VerifyMac: operation(VerifyMacRequest, verifyMac),
};
