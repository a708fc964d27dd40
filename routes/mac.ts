/**
 * GenerateMac and VerifyMac: schema -> core function.
 *
 * @module
 */
import type { Operation } from "./operation.ts";

/** The mac family of the operation table. */
export const MAC_OPERATIONS: Readonly<Record<string, Operation>> = {};
