/**
 * The TagStore port (core/ports.ts) on libSQL: the `tags` table, one row per
 * key and TagKey. A part of SqliteStore (storage/sqlite_store.ts); creating
 * and replicating a key write their tags with `upsertTag`.
 *
 * @module
 */
import type { InStatement } from "@libsql/client";
import type { AuditRecord } from "../core/audit/record.ts";
import type { TagStore } from "../core/ports.ts";
import type { Tag } from "../core/types.ts";
import { auditRows, type SqliteParts } from "./sqlite_parts.ts";
import { text } from "./rows.ts";

/** Tags of keys on libSQL. */
export class SqliteTagStore implements TagStore {
  readonly #parts: SqliteParts;

  constructor(parts: SqliteParts) {
    this.#parts = parts;
  }

  /** Adds or overwrites tags of a key in one transaction. */
  async putTags(keyId: string, tags: readonly Tag[], audit?: AuditRecord): Promise<void> {
    await this.#parts.writes.submit(tags.map((tag) => upsertTag(keyId, tag)), auditRows(audit));
  }

  /** Removes tags of a key in one transaction; absent ones are ignored. */
  async removeTags(
    keyId: string,
    tagKeys: readonly string[],
    audit?: AuditRecord,
  ): Promise<void> {
    await this.#parts.writes.submit(
      tagKeys.map((tagKey) => ({
        sql: "DELETE FROM tags WHERE key_id = ? AND tag_key = ?",
        args: [keyId, tagKey],
      })),
      auditRows(audit),
    );
  }

  /** Tags of a key ordered by TagKey. */
  async listTags(keyId: string): Promise<Tag[]> {
    const result = await this.#parts.reads.execute({
      sql: "SELECT tag_key, tag_value FROM tags WHERE key_id = ? ORDER BY tag_key",
      args: [keyId],
    });
    return result.rows.map((row) => ({
      TagKey: text(row, "tag_key"),
      TagValue: text(row, "tag_value"),
    }));
  }
}

/** Adds a tag to a key, or overwrites the value of its TagKey. */
export function upsertTag(keyId: string, tag: Tag): InStatement {
  return {
    sql: "INSERT INTO tags (key_id, tag_key, tag_value) VALUES (?, ?, ?) " +
      "ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
    args: [keyId, tag.TagKey, tag.TagValue],
  };
}
