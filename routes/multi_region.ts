/**
 * Multi-Region key operations: schema -> core function.
 *
 * @module
 */
import { replicateKey, updatePrimaryRegion } from "../core/operations/multi_region.ts";
import { type Operation, operation } from "./operation.ts";
import { ReplicateKeyRequest, UpdatePrimaryRegionRequest } from "./schemas/multi_region.ts";

/** The multi-Region family of the operation table. */
export const MULTI_REGION_OPERATIONS: Readonly<Record<string, Operation>> = {
  ReplicateKey: operation(ReplicateKeyRequest, replicateKey),
  UpdatePrimaryRegion: operation(UpdatePrimaryRegionRequest, updatePrimaryRegion),
};
