/**
 * Applies the embedded schema migrations in order, each in one transaction
 * with its row in `schema_migrations`, skipping those already applied.
 *
 * @module
 */
import type { Client } from "@libsql/client";
import { type Migration, MIGRATIONS } from "./migrations.ts";

const CREATE_SCHEMA_MIGRATIONS = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT`;

/** Applies the migrations not yet applied; resolves to the versions it applied. */
export async function migrate(
  db: Client,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  checkOrder(migrations);
  await refuseForeignDatabase(db);
  await db.execute(CREATE_SCHEMA_MIGRATIONS);
  const applied: number[] = [];
  for (const migration of migrations) {
    if (await isApplied(db, migration.version)) continue;
    try {
      await db.executeMultiple(migrationScript(migration, Date.now()));
    } catch (e) {
      // Another instance may have applied it first; then its row exists.
      if (await isApplied(db, migration.version)) continue;
      throw new Error(`migration ${migration.version}_${migration.name} failed`, { cause: e });
    }
    applied.push(migration.version);
  }
  return applied;
}

/** Versions recorded in `schema_migrations`, ascending. */
export async function appliedVersions(db: Client): Promise<number[]> {
  const result = await db.execute("SELECT version FROM schema_migrations ORDER BY version");
  return result.rows.map((row) => Number(row[0]));
}

/**
 * Refuses to migrate a database that holds tables but no `schema_migrations`: another
 * application's, never to be changed (storage/preflight.ts says so at start with the fix).
 */
async function refuseForeignDatabase(db: Client): Promise<void> {
  const result = await db.execute(
    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' " +
      "ORDER BY name",
  );
  const tables = result.rows.map((row) => String(row[0]));
  if (tables.length > 0 && !tables.includes("schema_migrations")) {
    throw new Error(
      `not this KMS's database: it holds tables ${tables.slice(0, 5).join(", ")} and no ` +
        "schema_migrations record; the KMS never migrates another application's database",
    );
  }
}

function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((migration, i) => {
    const previous = migrations[i - 1];
    if (!Number.isSafeInteger(migration.version) || !/^[a-z0-9_]+$/.test(migration.name)) {
      throw new Error(`invalid migration ${migration.version}_${migration.name}`);
    }
    if (previous !== undefined && previous.version >= migration.version) {
      throw new Error(`migrations out of order at version ${migration.version}`);
    }
  });
}

async function isApplied(db: Client, version: number): Promise<boolean> {
  const result = await db.execute({
    sql: "SELECT 1 FROM schema_migrations WHERE version = ?",
    args: [version],
  });
  return result.rows.length > 0;
}

/**
 * The migration as one script: the bookkeeping row goes first so that a
 * racing instance fails on its primary key before touching the schema.
 * Version and name are checked by `checkOrder`, so inlining them is safe.
 */
function migrationScript(migration: Migration, now: number): string {
  return [
    "BEGIN IMMEDIATE;",
    "INSERT INTO schema_migrations (version, name, applied_at)",
    `  VALUES (${migration.version}, '${migration.name}', ${now});`,
    migration.sql,
    ";",
    "COMMIT;",
  ].join("\n");
}
