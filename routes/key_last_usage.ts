/**
 * GetKeyLastUsage: schema -> core function.
 *
 * @module
 */
import { getKeyLastUsage } from "../core/operations/key_last_usage.ts";
import { type Operation, operation } from "./operation.ts";
import { GetKeyLastUsageRequest } from "./schemas/key_last_usage.ts";

/** The key-usage family of the operation table. */
export const KEY_LAST_USAGE_OPERATIONS: Readonly<Record<string, Operation>> = {
  GetKeyLastUsage: operation(GetKeyLastUsageRequest, getKeyLastUsage),
};
