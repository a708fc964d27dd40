/**
 * Sign, Verify and GetPublicKey: schema -> core function.
 *
 * @module
 */
import type { Operation } from "./operation.ts";

/** The asymmetric family of the operation table. */
export const ASYMMETRIC_OPERATIONS: Readonly<Record<string, Operation>> = {};
