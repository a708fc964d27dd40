/**
 * Online backup of a local database file: `VACUUM INTO` copies a consistent snapshot (one read
 * transaction: every transaction committed before it began, none after) into a new file while
 * servers keep reading and writing (in WAL mode a reader blocks no writer). The copy holds key
 * material and secrets wrapped under the root keys only: the root keyring is NOT in it and
 * must be backed up separately.
 *
 * Remote libSQL databases (sqld, Turso) are not copied here: use the server's own snapshots or
 * the provider's point-in-time restore.
 *
 * @module
 */
import type { Client } from "@libsql/client";
import { isMemoryUrl, localFilePath } from "./client.ts";
import { rootKeyUsage, type Usage } from "./root_key_table.ts";

/** What a backup holds. */
export interface BackupSummary {
  path: string;
  bytes: number;
  keys: number;
  materials: number;
  credentials: number;
  /** Wrapped values per root-key id ("legacy": written before root keys had ids). */
  rootKeys: Usage;
  ms: number;
}

/** Thrown for a backup that cannot be taken (remote database, existing target...). */
export class BackupError extends Error {
  override readonly name = "BackupError";
}

/**
 * Copies the database at `dbUrl` (open as `db`) into a new file `path` (mode 0600), then opens
 * the copy and checks its integrity.
 * @throws {BackupError} for a remote or in-memory database, an existing target, or a copy that
 *   fails its integrity check.
 */
export async function backupDatabase(
  db: Client,
  dbUrl: string,
  path: string,
): Promise<BackupSummary> {
  if (isMemoryUrl(dbUrl) || localFilePath(dbUrl) === null) {
    throw new BackupError(
      "backup copies local database files only; for a remote libSQL database use its " +
        "server's snapshots or the provider's point-in-time restore",
    );
  }
  if (await exists(path)) throw new BackupError(`${path} exists; name a new file`);
  const started = performance.now();
  await db.execute({ sql: "VACUUM INTO ?", args: [path] });
  await Deno.chmod(path, 0o600);
  const ms = performance.now() - started;
  const { createClient } = await import("@libsql/client");
  const copy = createClient({ url: `file:${path}` });
  try {
    const check = await copy.execute("PRAGMA integrity_check");
    const verdict = String(check.rows[0]?.[0]);
    if (verdict !== "ok") throw new BackupError(`the copy fails its integrity check: ${verdict}`);
    const count = async (table: string) =>
      Number((await copy.execute(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.["n"]);
    return {
      path,
      bytes: (await Deno.stat(path)).size,
      keys: await count("keys"),
      materials: await count("key_material"),
      credentials: await count("credentials"),
      rootKeys: await rootKeyUsage(copy),
      ms,
    };
  } finally {
    copy.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
