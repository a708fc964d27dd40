/**
 * Schema of GetKeyLastUsage.
 *
 * @see ../../../shared/reference/kms.smithy.json (GetKeyLastUsageRequest)
 * @module
 */
import { z } from "zod";
import type { getKeyLastUsage } from "../../core/operations/key_last_usage.ts";
import { type InputOf, KeyIdType, requestOf } from "./shared.ts";

/** GetKeyLastUsage: KeyId only (key id or key ARN). */
export const GetKeyLastUsageRequest = requestOf<InputOf<typeof getKeyLastUsage>>()(
  z.object({ KeyId: KeyIdType }),
);
