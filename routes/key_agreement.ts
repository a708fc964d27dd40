/**
 * DeriveSharedSecret: schema -> core function.
 *
 * @module
 */
import type { Operation } from "./operation.ts";

/** The key-agreement family of the operation table. */
export const KEY_AGREEMENT_OPERATIONS: Readonly<Record<string, Operation>> = {};
