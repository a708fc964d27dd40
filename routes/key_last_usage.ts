/**
 * GetKeyLastUsage: schema -> core function.
 *
 * @module
 */
import { getKeyLastUsage } from "../core/operations/key_last_usage.ts";
import { type FamilyTable, operation } from "./operation_entry.ts";
import { GetKeyLastUsageRequest } from "./schemas/key_last_usage.ts";

/** The key-usage family of the operation table. */
export const KEY_LAST_USAGE_OPERATIONS: FamilyTable<"keyLastUsage"> = {
  GetKeyLastUsage: operation(GetKeyLastUsageRequest, getKeyLastUsage),
};
