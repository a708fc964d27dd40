/**
 * The RotationStore port (core/rotation_store.ts) on libSQL, over
 * migrations/0006_rotation.sql. A part of SqliteStore (storage/sqlite_store.ts):
 * each change commits through its write queue (with its audit record, bumping
 * the change counter other instances watch).
 *
 * A rotation is one transaction of three statements: the INSERT of the new
 * material version, whose version comes from a sub-select that is NULL unless
 * every condition of the rotation still holds (the key Enabled at the version
 * the rotation read; for AUTOMATIC the schedule's next_rotation_date still the
 * one the scheduler read; for ON_DEMAND the on-demand count under the limit);
 * then the schedule's update and the move of keys.current_material_version. A
 * NULL version fails the INSERT's NOT NULL constraint, which rolls back the
 * whole transaction, audit record included: a rotation that lost a race
 * writes nothing. SQLite runs one write transaction at a time, so the
 * conditions checked by the INSERT still hold for the two statements after it.
 *
 * @module
 */
import type { InStatement } from "@libsql/client";
import type { AuditRecord } from "../core/audit/record.ts";
import { keyArn } from "../core/identifiers.ts";
import type {
  DueRotation,
  KeyRotation,
  MaterialVersionInfo,
  MaterialVersionPage,
  RotationSchedule,
  RotationStore,
  RotationType,
} from "../core/rotation_store.ts";
import { publicKeyId } from "../core/regional_store.ts";
import { materialAad } from "./root_wrapping.ts";
import { auditRows, type SqliteParts } from "./sqlite_parts.ts";
import { int, intOrNull, text, textOrNull } from "./rows.ts";

/** Rotation schedules and history on libSQL. */
export class SqliteRotationStore implements RotationStore {
  readonly #parts: SqliteParts;

  constructor(parts: SqliteParts) {
    this.#parts = parts;
  }

  /** The key's schedule, or null. */
  async getRotationSchedule(keyId: string): Promise<RotationSchedule | null> {
    const result = await this.#parts.reads.execute({
      sql: "SELECT enabled, period_days, next_rotation_date, on_demand_rotations " +
        "FROM key_rotation WHERE key_id = ?",
      args: [keyId],
    });
    const row = result.rows[0];
    if (row === undefined) return null;
    return {
      keyId,
      enabled: int(row, "enabled") === 1,
      periodDays: int(row, "period_days"),
      nextRotationDate: intOrNull(row, "next_rotation_date"),
      onDemandRotations: int(row, "on_demand_rotations"),
    };
  }

  /** Writes enabled, period and next date, keeping the on-demand count. */
  async putRotationSchedule(schedule: RotationSchedule, audit?: AuditRecord): Promise<void> {
    await this.#parts.writes.submit([{
      sql: "INSERT INTO key_rotation (key_id, enabled, period_days, next_rotation_date, " +
        "on_demand_rotations) VALUES (?, ?, ?, ?, 0) ON CONFLICT (key_id) DO UPDATE SET " +
        "enabled = excluded.enabled, period_days = excluded.period_days, " +
        "next_rotation_date = excluded.next_rotation_date",
      args: [
        schedule.keyId,
        schedule.enabled ? 1 : 0,
        schedule.periodDays,
        schedule.nextRotationDate,
      ],
    }], auditRows(audit));
  }

  /** Commits the rotation when its conditions hold; resolves false (nothing written) otherwise. */
  async rotateKeyMaterial(rotation: KeyRotation, audit?: AuditRecord): Promise<boolean> {
    const { key, material } = rotation;
    const from = key.currentMaterialVersion;
    if (material.keyId !== key.keyId || material.version !== from + 1) {
      throw new Error("a rotation's material must be the next version of its key");
    }
    const wrapped = await this.#parts.rootKey.wrap(
      material.material.expose(),
      materialAad(keyArn(key.region, key.accountId, key.keyId), material.version),
    );
    let condition: InStatement;
    let schedule: InStatement;
    if (rotation.type === "AUTOMATIC") {
      const claim = rotation.claim;
      if (claim === undefined) throw new Error("an automatic rotation needs its claim");
      condition = {
        sql: "JOIN key_rotation r ON r.key_id = k.key_id " +
          "WHERE k.key_id = ? AND k.current_material_version = ? AND k.state = 'Enabled' " +
          "AND r.enabled = 1 AND r.next_rotation_date = ?",
        args: [key.keyId, from, claim.nextRotationDate],
      };
      schedule = {
        sql: "UPDATE key_rotation SET next_rotation_date = ? WHERE key_id = ?",
        args: [claim.newNextRotationDate, key.keyId],
      };
    } else {
      condition = {
        sql: "LEFT JOIN key_rotation r ON r.key_id = k.key_id " +
          "WHERE k.key_id = ? AND k.current_material_version = ? AND k.state = 'Enabled' " +
          "AND coalesce(r.on_demand_rotations, 0) < ?",
        args: [key.keyId, from, rotation.maxOnDemandRotations ?? Number.MAX_SAFE_INTEGER],
      };
      schedule = {
        sql: "INSERT INTO key_rotation (key_id, enabled, period_days, next_rotation_date, " +
          "on_demand_rotations) VALUES (?, 0, 365, NULL, 1) ON CONFLICT (key_id) DO UPDATE SET " +
          "on_demand_rotations = on_demand_rotations + 1",
        args: [key.keyId],
      };
    }
    const insert: InStatement = {
      sql: "INSERT INTO key_material (key_id, version, key_material_id, wrapped_material, " +
        "created_at, rotation_type, rotated_at) VALUES (?, " +
        `(SELECT k.current_material_version + 1 FROM keys k ${condition.sql}), ?, ?, ?, ?, ?)`,
      args: [
        key.keyId,
        ...(condition.args as (string | number)[]),
        material.keyMaterialId,
        wrapped,
        material.createdAt,
        rotation.type,
        rotation.rotatedAt,
      ],
    };
    const move: InStatement = {
      sql: "UPDATE keys SET current_material_version = ? WHERE key_id = ?",
      args: [material.version, key.keyId],
    };
    const replicas = await this.#replicaStatements(rotation);
    const imported = importedRotationStatements(rotation);
    try {
      await this.#parts.writes.submit(
        [insert, schedule, move, ...imported, ...replicas],
        auditRows(audit),
      );
      return true;
    } catch (error) {
      if (isLostRotation(error)) return false;
      throw error;
    }
  }

  /**
   * A multi-Region key's rotation gives every other key of its family (same `mrk-` id, other
   * regions: core/regional_store.ts) the same new version, wrapped under each one's ARN, in the
   * rotation's transaction (which the primary's conditional INSERT guards).
   */
  async #replicaStatements(rotation: KeyRotation): Promise<InStatement[]> {
    const { key, material } = rotation;
    const publicId = publicKeyId(key.keyId);
    if (publicId === key.keyId) return [];
    const family = await this.#parts.reads.execute({
      sql: "SELECT key_id, region, account_id FROM keys WHERE key_id LIKE ? AND key_id != ?",
      args: [`${publicId}@%`, key.keyId],
    });
    const statements: InStatement[] = [];
    for (const row of family.rows) {
      const replicaId = text(row, "key_id");
      const arn = keyArn(text(row, "region"), text(row, "account_id"), replicaId);
      const wrapped = await this.#parts.rootKey.wrap(
        material.material.expose(),
        materialAad(arn, material.version),
      );
      statements.push({
        sql: "INSERT OR IGNORE INTO key_material (key_id, version, key_material_id, " +
          "wrapped_material, created_at, rotation_type, rotated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        args: [
          replicaId,
          material.version,
          material.keyMaterialId,
          wrapped,
          material.createdAt,
          rotation.type,
          rotation.rotatedAt,
        ],
      }, {
        sql: "UPDATE keys SET current_material_version = ? " +
          "WHERE key_id = ? AND current_material_version < ?",
        args: [material.version, replicaId, material.version],
      });
    }
    return statements;
  }

  /** Versions after `page.after`, ascending. */
  async listMaterialVersions(
    keyId: string,
    page: MaterialVersionPage,
  ): Promise<MaterialVersionInfo[]> {
    const result = await this.#parts.reads.execute({
      sql: "SELECT version, key_material_id, created_at, rotation_type, rotated_at " +
        "FROM key_material WHERE key_id = ? AND version > ? " +
        (page.rotationsOnly === true ? "AND rotation_type IS NOT NULL " : "") +
        "ORDER BY version LIMIT ?",
      args: [keyId, page.after ?? 0, page.limit],
    });
    return result.rows.map((row) => ({
      keyId,
      version: int(row, "version"),
      keyMaterialId: text(row, "key_material_id"),
      createdAt: int(row, "created_at"),
      rotationType: textOrNull(row, "rotation_type") as RotationType | null,
      rotatedAt: intOrNull(row, "rotated_at"),
    }));
  }

  /** Enabled keys with automatic rotation due at or before `now`, earliest first. */
  async listDueRotations(now: number, limit: number): Promise<DueRotation[]> {
    const result = await this.#parts.reads.execute({
      sql: "SELECT r.key_id, r.period_days, r.next_rotation_date FROM key_rotation r " +
        "JOIN keys k ON k.key_id = r.key_id " +
        "WHERE r.enabled = 1 AND r.next_rotation_date <= ? AND k.state = 'Enabled' " +
        "ORDER BY r.next_rotation_date, r.key_id LIMIT ?",
      args: [now, limit],
    });
    return result.rows.map((row) => ({
      keyId: text(row, "key_id"),
      periodDays: int(row, "period_days"),
      nextRotationDate: int(row, "next_rotation_date"),
    }));
  }
}

/** Whether a rotation's INSERT found its conditions broken (its version sub-select was NULL). */
function isLostRotation(error: unknown): boolean {
  return /NOT NULL constraint failed: key_material\.version/.test(String(error));
}

/**
 * The statements of an on-demand rotation to imported material
 * (migrations/0011_aws_managed_keys.sql): the pending row goes, the material's record gets its
 * version, the key takes its expiration.
 */
function importedRotationStatements(rotation: KeyRotation): InStatement[] {
  const imported = rotation.imported;
  if (imported === undefined) return [];
  const { key, material } = rotation;
  return [
    { sql: "DELETE FROM pending_key_material WHERE key_id = ?", args: [key.keyId] },
    {
      sql: "UPDATE imported_material SET version = ? WHERE key_id = ? AND key_material_id = ?",
      args: [material.version, key.keyId, material.keyMaterialId],
    },
    {
      sql: "UPDATE keys SET expiration_model = ?, valid_to = ? WHERE key_id = ?",
      args: [imported.expirationModel, imported.validTo, key.keyId],
    },
  ];
}
