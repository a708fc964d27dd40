/**
 * The port of key rotation (core/operations/rotation.ts, core/rotation_scheduler.ts):
 * rotation schedules, the rotation history of key material, and the one
 * write that rotates a key. storage/sqlite_rotation_store.ts implements it on SQL.
 *
 * @module
 */
import type { AuditRecord } from "./audit/record.ts";
import type { ExpirationModel, KeyMaterial, KeyRecord } from "./types.ts";

/** AWS RotationType. */
export type RotationType = "AUTOMATIC" | "ON_DEMAND";

/** A key's rotation schedule as stored. Times are epoch milliseconds. */
export interface RotationSchedule {
  keyId: string;
  /** Whether automatic rotation is enabled (EnableKeyRotation). */
  enabled: boolean;
  /** RotationPeriodInDays, 90..2560 (365 unless told). */
  periodDays: number;
  /** When the scheduler rotates the key next; null while automatic rotation is disabled. */
  nextRotationDate: number | null;
  /** How many times the key was rotated on demand. */
  onDemandRotations: number;
}

/** One version of a key's material as ListKeyRotations reports it (no secret). */
export interface MaterialVersionInfo {
  keyId: string;
  version: number;
  keyMaterialId: string;
  createdAt: number;
  /** Null for the key's first material (and imported material not from a rotation). */
  rotationType: RotationType | null;
  /** When the rotation that made this version completed; null when rotationType is. */
  rotatedAt: number | null;
}

/** A key whose automatic rotation is due, as the scheduler reads it. */
export interface DueRotation {
  keyId: string;
  periodDays: number;
  /** The schedule's next_rotation_date when it was read: the rotation's claim. */
  nextRotationDate: number;
}

/** One rotation to commit: `material` becomes version `key.currentMaterialVersion + 1`. */
export interface KeyRotation {
  /** The key as the rotation read it (its current version is the one rotated from). */
  key: KeyRecord;
  /** The new material; its version is `key.currentMaterialVersion + 1`. */
  material: KeyMaterial;
  type: RotationType;
  rotatedAt: number;
  /**
   * AUTOMATIC: the next_rotation_date read (the claim: nothing is written when it changed) and
   * the one to set.
   */
  claim?: { nextRotationDate: number; newNextRotationDate: number } | undefined;
  /** ON_DEMAND: nothing is written when the key already had this many on-demand rotations. */
  maxOnDemandRotations?: number | undefined;
  /**
   * ON_DEMAND of a key with imported material: `material` is the key's pending material, whose
   * row goes, whose record gets its version, and whose expiration the key takes.
   */
  imported?: { expirationModel: ExpirationModel; validTo: number | null } | undefined;
}

/** A page of material versions: after version `after` (exclusive), at most `limit`. */
export interface MaterialVersionPage {
  limit: number;
  after?: number | undefined;
  /** Only versions made by a rotation (not a key's first material). */
  rotationsOnly?: boolean | undefined;
}

/** Rotation schedules and history. */
export interface RotationStore {
  /** The key's schedule, or null when it never had one. */
  getRotationSchedule(keyId: string): Promise<RotationSchedule | null>;
  /** Writes enabled, period and next date of a key's schedule (keeping its on-demand count). */
  putRotationSchedule(schedule: RotationSchedule, audit?: AuditRecord): Promise<void>;
  /**
   * Inserts the rotation's material, marks how it came to be and makes it the key's current
   * version, in one transaction with `audit`, only when the key is still Enabled at the
   * version the rotation read (and, for AUTOMATIC, its schedule still at the claimed date; for
   * ON_DEMAND, under the on-demand limit). Resolves false, having written nothing (not even
   * `audit`), when a condition did not hold: another rotation or change came first.
   */
  rotateKeyMaterial(rotation: KeyRotation, audit?: AuditRecord): Promise<boolean>;
  /** Versions of a key's material, ascending by version. */
  listMaterialVersions(
    keyId: string,
    page: MaterialVersionPage,
  ): Promise<MaterialVersionInfo[]>;
  /**
   * Enabled keys whose automatic rotation is enabled and due at or before `now`, earliest first,
   * at most `limit`.
   */
  listDueRotations(now: number, limit: number): Promise<DueRotation[]>;
}
