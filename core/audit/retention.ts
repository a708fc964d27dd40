/**
 * The audit log's retention policy (`KMS_AUDIT_RETENTION`, README "Audit log"): how old and/or
 * how large the log may grow before its oldest records are removed (storage/audit_retention.ts),
 * leaving a checkpoint so that the rest still verifies.
 *
 * Syntax: one or two bounds separated by a comma, an age and/or a size:
 * - an age: a whole number and a unit, `s`, `m`, `h` or `d` (`30d`, `12h`, `90m`);
 * - a size: a whole number and a unit, `B`, `KiB`, `MiB`, `GiB`, `TiB` (powers of 1024) or `kB`,
 *   `MB`, `GB`, `TB` (powers of 1000) (`1GiB`, `500MB`). The size bounds the database's used
 *   pages (page_count - freelist_count, times page_size), the whole file's, so it must leave room
 *   for the keys.
 * `off` or empty: no retention (the default).
 *
 * @module
 */

/** The bounds of the log; null: no bound of that kind. */
export interface AuditRetention {
  /** Records older than this many milliseconds are removed. */
  readonly maxAgeMs: number | null;
  /** While the database uses more bytes than this, the oldest records are removed. */
  readonly maxBytes: number | null;
}

/** No retention. */
export const KEEP_EVERYTHING: AuditRetention = Object.freeze({ maxAgeMs: null, maxBytes: null });

const AGE_UNITS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const SIZE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
  kB: 1000,
  KB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
  TB: 1000 ** 4,
};

/** Whether a policy removes anything. */
export function retains(policy: AuditRetention): boolean {
  return policy.maxAgeMs !== null || policy.maxBytes !== null;
}

/**
 * Parses `KMS_AUDIT_RETENTION`.
 * @throws {RangeError} a message naming what is wrong (not a bound, two of a kind, zero).
 */
export function parseAuditRetention(text: string): AuditRetention {
  const trimmed = text.trim();
  if (trimmed === "" || trimmed === "off") return KEEP_EVERYTHING;
  let maxAgeMs: number | null = null;
  let maxBytes: number | null = null;
  for (const part of trimmed.split(",").map((p) => p.trim())) {
    const match = /^(\d{1,15})([A-Za-z]+)$/.exec(part);
    const amount = match === null ? NaN : Number(match[1]);
    const unit = match?.[2] ?? "";
    if (!(amount > 0)) {
      throw new RangeError(
        `"${part}" is not a positive age (30d, 12h, 90m, 45s) or size (1GiB, 500MB)`,
      );
    }
    if (unit in AGE_UNITS) {
      if (maxAgeMs !== null) throw new RangeError("two ages given; give at most one");
      maxAgeMs = amount * (AGE_UNITS[unit] as number);
    } else if (unit in SIZE_UNITS) {
      if (maxBytes !== null) throw new RangeError("two sizes given; give at most one");
      maxBytes = amount * (SIZE_UNITS[unit] as number);
    } else {
      throw new RangeError(
        `"${part}": unknown unit "${unit}" (ages: s, m, h, d; sizes: B, KiB, MiB, GiB, TiB, kB, MB, GB, TB)`,
      );
    }
  }
  return { maxAgeMs, maxBytes };
}
