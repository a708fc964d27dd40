/**
 * Multi-Region key operations: schema -> core function.
 *
 * @module
 */
import { replicateKey, updatePrimaryRegion } from "../core/operations/multi_region.ts";
import { type FamilyTable, operation } from "./operation_entry.ts";
import { ReplicateKeyRequest, UpdatePrimaryRegionRequest } from "./schemas/multi_region.ts";

/** The multi-Region family of the operation table. */
export const MULTI_REGION_OPERATIONS: FamilyTable<"multiRegion"> = {
  ReplicateKey: operation(ReplicateKeyRequest, replicateKey),
  UpdatePrimaryRegion: operation(UpdatePrimaryRegionRequest, updatePrimaryRegion),
};
