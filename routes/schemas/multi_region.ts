/**
 * Schemas of the multi-Region key operations.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_ReplicateKey.html
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdatePrimaryRegion.html
 * @module
 */
import { z } from "zod";
import type { ReplicateKeyInput, updatePrimaryRegion } from "../../core/operations/multi_region.ts";
import {
  Description,
  type InputOf,
  KeyIdType,
  PolicyDocument,
  requestOf,
  TagList,
} from "./shared.ts";

/** RegionType: 1..32, `^([a-z]+-){2,3}\d+$`. */
const RegionType = z.string().min(1).max(32).regex(/^([a-z]+-){2,3}\d+$/);

/** ReplicateKey. */
export const ReplicateKeyRequest = requestOf<ReplicateKeyInput>()(z.object({
  KeyId: KeyIdType,
  ReplicaRegion: RegionType,
  Policy: PolicyDocument.optional(),
  BypassPolicyLockoutSafetyCheck: z.boolean().optional(),
  Description: Description.optional(),
  Tags: TagList.optional(),
}));

/** UpdatePrimaryRegion. */
export const UpdatePrimaryRegionRequest = requestOf<InputOf<typeof updatePrimaryRegion>>()(
  z.object({
    KeyId: KeyIdType,
    PrimaryRegion: RegionType,
  }),
);
