/**
 * The checks the start-up checks (storage/preflight.ts) run inside an open database, reading
 * only: that it is this KMS's schema, that it is whole (`PRAGMA quick_check`), and whether it
 * holds stored values.
 *
 * @module
 */
import type { Client } from "@libsql/client";
import { StartupError } from "../core/config.ts";
import type { Migration } from "./migrations.ts";
import { corrupt, isBusy } from "./preflight_errors.ts";

/** Tables of the audit log, left out of the integrity check of a file over FULL_CHECK_BYTES. */
const AUDIT_TABLES = new Set(["audit_log", "audit_key_usage", "audit_dict", "audit_checkpoint"]);
/** Tables whose rows mean the database is in use: a new root key must not be made for it. */
const DATA_TABLES = ["root_keys", "credentials", "keys", "key_material"];

/** Names of the tables (not SQLite's own). */
export async function listTables(db: Client): Promise<string[]> {
  const result = await db.execute(
    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' " +
      "ORDER BY name",
  );
  return result.rows.map((row) => String(row[0]));
}

/**
 * Refuses a database that is not this KMS's: tables without `schema_migrations`, or a
 * `schema_migrations` of other migrations, or of a newer version of the KMS.
 * Resolves to the applied versions.
 */
export async function checkOwnSchema(
  db: Client,
  path: string,
  tables: string[],
  migrations: readonly Migration[],
): Promise<Set<number>> {
  const foreign = (why: string) =>
    new StartupError(
      `KMS_DB_URL: ${path} is not this KMS's database (${why}): point KMS_DB_URL at the KMS's ` +
        "database file or at a new file; the KMS never migrates another application's database",
    );
  if (!tables.includes("schema_migrations")) {
    const shown = tables.slice(0, 5).join(", ") + (tables.length > 5 ? ", …" : "");
    throw foreign(`it holds tables ${shown} and no schema_migrations record`);
  }
  let rows: { version: number; name: string }[];
  try {
    const result = await db.execute("SELECT version, name FROM schema_migrations ORDER BY version");
    rows = result.rows.map((row) => ({ version: Number(row[0]), name: String(row[1]) }));
  } catch (e) {
    if (isBusy(e)) throw e;
    throw foreign("its schema_migrations table is not the KMS's");
  }
  const known = new Map(migrations.map((m) => [m.version, m.name]));
  const newest = migrations.at(-1)?.version ?? 0;
  for (const row of rows) {
    const name = known.get(row.version);
    if (name === row.name) continue;
    if (name === undefined && row.version > newest) {
      throw new StartupError(
        `KMS_DB_URL: ${path} was migrated by a newer version of the KMS (migration ` +
          `${row.version}_${row.name}): run that version or newer`,
      );
    }
    throw foreign(`schema_migrations records ${row.version}_${row.name}, not a KMS migration`);
  }
  return new Set(rows.map((row) => row.version));
}

/**
 * `PRAGMA quick_check` of the whole file, or of `tables` but the audit ones (a big file).
 * @throws {StartupError} naming the first problem SQLite reports.
 */
export async function checkIntegrity(
  db: Client,
  path: string,
  tables: string[] | null,
): Promise<void> {
  const targets = tables === null
    ? ["PRAGMA quick_check(3)"]
    : tables.filter((t) => !AUDIT_TABLES.has(t)).map((t) => `PRAGMA quick_check("${t}")`);
  for (const sql of targets) {
    const result = await db.execute(sql);
    const problems = result.rows.map((row) => String(row[0])).filter((line) => line !== "ok");
    if (problems.length > 0) throw corrupt(path, problems.join("; "));
  }
}

/** Whether any table that only a used database fills has a row. */
export async function holdsData(db: Client, tables: string[]): Promise<boolean> {
  for (const table of DATA_TABLES.filter((t) => tables.includes(t))) {
    const result = await db.execute(`SELECT 1 FROM ${table} LIMIT 1`);
    if (result.rows.length > 0) return true;
  }
  return false;
}
