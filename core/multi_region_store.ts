/**
 * The store port of multi-Region keys (core/operations/multi_region.ts).
 * Key ids here are the public `mrk-` ids; regions are explicit.
 *
 * @module
 */
import type { AuditRecord } from "./audit/record.ts";
import type { KeyRecord, Tag } from "./types.ts";

/** A multi-Region key's family: where its primary is and every region that has one of its keys. */
export interface MultiRegionFamily {
  primaryRegion: string;
  /** Regions holding the primary or a replica, sorted. */
  regions: string[];
}

/** Multi-Region keys across regions. */
export interface MultiRegionStore {
  /** The family of the multi-Region key `keyId`, or null when no region has it. */
  getMultiRegionFamily(keyId: string): Promise<MultiRegionFamily | null>;
  /**
   * Creates `replica` (same id, another region) with a copy of every material version of the
   * key in `sourceRegion`, and its tags, in one transaction with the request's audit record.
   * Resolves false (writing nothing) when that region already has the key.
   */
  replicateKey(
    sourceRegion: string,
    replica: KeyRecord,
    tags: readonly Tag[],
    audit?: AuditRecord,
  ): Promise<boolean>;
  /** Makes `region` the family's primary region. */
  setPrimaryRegion(keyId: string, region: string, audit?: AuditRecord): Promise<void>;
}
