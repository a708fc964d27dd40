/**
 * Schema of GetKeyLastUsage.
 *
 * @see ../../../shared/reference/kms.smithy.json (GetKeyLastUsageRequest)
 * @module
 */
import { z } from "zod";
import { KeyIdType } from "./shared.ts";

/** GetKeyLastUsage: KeyId only (key id or key ARN). */
export const GetKeyLastUsageRequest = z.object({ KeyId: KeyIdType });
