/**
 * The MultiRegionStore port (core/multi_region_store.ts) on libSQL. Every
 * Region shares one database: a multi-Region key has one `keys` row per Region
 * under its regional storage id (`mrk-…@<region>`, core/regional_store.ts), and
 * `multi_region_keys` names its family's primary Region. A part of SqliteStore
 * (storage/sqlite_store.ts).
 *
 * @module
 */
import type { InStatement } from "@libsql/client";
import type { AuditRecord } from "../core/audit/record.ts";
import { keyArn } from "../core/identifiers.ts";
import type { MultiRegionFamily, MultiRegionStore } from "../core/multi_region_store.ts";
import { publicKeyId, storageKeyId } from "../core/regional_store.ts";
import type { KeyRecord, Tag } from "../core/types.ts";
import { materialAad } from "./root_wrapping.ts";
import { insertKey, keyFromRow, selectKey } from "./sqlite_key_rows.ts";
import { auditRows, isUniqueViolation, type SqliteParts } from "./sqlite_parts.ts";
import { upsertTag } from "./sqlite_tag_store.ts";
import { blob, int, text } from "./rows.ts";

/** Multi-Region key families on libSQL. */
export class SqliteMultiRegionStore implements MultiRegionStore {
  readonly #parts: SqliteParts;

  constructor(parts: SqliteParts) {
    this.#parts = parts;
  }

  /** The primary region and the regions of every key of a multi-Region family, or null. */
  async getMultiRegionFamily(keyId: string): Promise<MultiRegionFamily | null> {
    const [primary, regions] = await this.#parts.reads.batch([
      { sql: "SELECT primary_region FROM multi_region_keys WHERE key_id = ?", args: [keyId] },
      {
        sql: "SELECT region FROM keys WHERE key_id LIKE ? ORDER BY region",
        args: [`${keyId}@%`],
      },
    ], "read");
    const row = primary?.rows[0];
    if (row === undefined || regions === undefined || regions.rows.length === 0) return null;
    return {
      primaryRegion: text(row, "primary_region"),
      regions: regions.rows.map((r) => text(r, "region")),
    };
  }

  /**
   * Creates a replica with a copy of every material version of the key in `sourceRegion`
   * (re-wrapped under the replica's ARN; every column of each version row copied), and its tags.
   */
  async replicateKey(
    sourceRegion: string,
    replica: KeyRecord,
    tags: readonly Tag[],
    audit?: AuditRecord,
  ): Promise<boolean> {
    const publicId = publicKeyId(replica.keyId);
    const source = await this.#getKey(storageKeyId(publicId, sourceRegion));
    if (source === null) throw new Error("the key to replicate is gone");
    const existing = await this.#getKey(replica.keyId);
    if (existing !== null) return false;
    const copies = await this.#materialCopies(source, replica);
    try {
      await this.#parts.writes.submit([
        insertKey(replica),
        ...copies,
        ...tags.map((tag) => upsertTag(replica.keyId, tag)),
      ], auditRows(audit));
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
    return true;
  }

  /** Makes `region` the family's primary region. */
  async setPrimaryRegion(keyId: string, region: string, audit?: AuditRecord): Promise<void> {
    await this.#parts.writes.submit([{
      sql: "UPDATE multi_region_keys SET primary_region = ? WHERE key_id = ?",
      args: [region, keyId],
    }], auditRows(audit));
  }

  async #getKey(keyId: string): Promise<KeyRecord | null> {
    const row = (await this.#parts.reads.execute(selectKey(keyId))).rows[0];
    return row === undefined ? null : keyFromRow(row);
  }

  /** INSERTs of every material version of `source` for `replica`, re-wrapped under its ARN. */
  async #materialCopies(source: KeyRecord, replica: KeyRecord): Promise<InStatement[]> {
    const versions = await this.#parts.reads.execute({
      sql: "SELECT * FROM key_material WHERE key_id = ? ORDER BY version",
      args: [source.keyId],
    });
    const sourceArn = keyArn(source.region, source.accountId, source.keyId);
    const replicaArn = keyArn(replica.region, replica.accountId, replica.keyId);
    const copies: InStatement[] = [];
    for (const row of versions.rows) {
      const version = int(row, "version");
      const plain = await this.#parts.rootKey.unwrap(
        blob(row, "wrapped_material"),
        materialAad(sourceArn, version),
      );
      const wrapped = await this.#parts.rootKey.wrap(plain, materialAad(replicaArn, version));
      plain.fill(0);
      const columns = versions.columns;
      const args = columns.map((name) =>
        name === "key_id" ? replica.keyId : name === "wrapped_material" ? wrapped : row[name]!
      );
      copies.push({
        sql: `INSERT INTO key_material (${columns.join(", ")}) VALUES (${
          columns.map(() => "?").join(", ")
        })`,
        args,
      });
    }
    return copies;
  }
}

/** A new multi-Region key names its family's primary region (its own). */
export function multiRegionFamilyRow(key: KeyRecord): InStatement[] {
  const publicId = publicKeyId(key.keyId);
  if (publicId === key.keyId) return [];
  return [{
    sql: "INSERT INTO multi_region_keys (key_id, primary_region) VALUES (?, ?) " +
      "ON CONFLICT (key_id) DO NOTHING",
    args: [publicId, key.region],
  }];
}
