/**
 * The database checks a start runs before it writes anything (README "Start-up checks"): for a
 * local file, that its directory exists and is writable, that the file is a SQLite database of
 * this KMS (or none yet), not locked by another process, whole (`PRAGMA quick_check`) and, when
 * a keyring is given, that the keyring serves it. Only reads: no pragma that writes (journal
 * mode), no migration. Each refusal is a StartupError of one line naming KMS_DB_URL, what is
 * wrong and how to fix it.
 *
 * Integrity is checked in a bounded time: a file up to FULL_CHECK_BYTES (256 MiB) gets a whole
 * `PRAGMA quick_check` (measured on a 256 MiB file on the 2-core build machine: 0.35 s with the
 * file in the page cache, 6.5 s from a cold cache); a larger one gets `quick_check` of every
 * table but the audit log's, which is what grows without bound, so the time then depends on the
 * number of keys, credentials and grants, not on the audit history.
 *
 * Remote (`libsql:`, `http(s):`, `ws(s):`) and in-memory databases are not checked here.
 * The SQL checks are in storage/preflight_sql.ts, the refusals' texts in storage/preflight_errors.ts.
 *
 * @module
 */
import type { Client } from "@libsql/client";
import { accessSync, constants } from "node:fs";
import { dirname } from "node:path";
import { StartupError } from "../core/config.ts";
import { isMemoryUrl, localFilePath, openDatabase, openForInspection } from "./client.ts";
import { type Migration, MIGRATIONS } from "./migrations.ts";
import { keyFileMissing, oneLine, reason, sqliteStartupError } from "./preflight_errors.ts";
import { checkIntegrity, checkOwnSchema, holdsData, listTables } from "./preflight_sql.ts";
import type { RootKeyring } from "./root_keyring.ts";
import { verifyRootKeyring } from "./root_key_table.ts";

/** What a database is, as far as a start is concerned. */
export interface DatabaseState {
  /**
   * `new`: no file yet, an empty file or a SQLite file without tables; `kms`: this KMS's
   * schema; `unchecked`: a remote or in-memory database.
   */
  kind: "new" | "kms" | "unchecked";
  /** Whether it holds stored values (root keys, credentials, keys): a new root key must not serve it. */
  hasData: boolean;
  /** The local file path, when it is one. */
  path: string | null;
}

/** Options of `preflightDatabase`. */
export interface PreflightOptions {
  /** Whether a missing directory is fine (it is the default one, created on first start). */
  directoryMayBeMissing?: boolean;
  /**
   * The root keyring the start will use: checked to serve the database (read only) when the
   * schema is current. `null`: there is none yet (no KMS_ROOT_KEY, no key file); a database
   * that holds data is refused then, naming `keyFile`.
   */
  keyring?: RootKeyring | null;
  /** The root key file, for the message when `keyring` is null. */
  keyFile?: string;
  /** How long to wait for another process's lock (ms); default LOCK_WAIT_MS. */
  lockWaitMs?: number;
  /** The migrations this version knows (tests pass their own). */
  migrations?: readonly Migration[];
}

/** How long a start waits for a lock another process holds before it says so. */
export const LOCK_WAIT_MS = 5000;
/** Files up to this size get a whole `PRAGMA quick_check`; larger ones skip the audit tables. */
export const FULL_CHECK_BYTES = 256 * 1024 * 1024;
const SQLITE_HEADER = new TextEncoder().encode("SQLite format 3\0");

/**
 * Checks the database of `url` before anything is written.
 * @throws {StartupError} one line: what is wrong with which file or directory and the fix.
 */
export async function preflightDatabase(
  url: string,
  options: PreflightOptions = {},
): Promise<DatabaseState> {
  const path = isMemoryUrl(url) ? null : localFilePath(url);
  if (path === null) return { kind: "unchecked", hasData: false, path: null };
  const directory = dirname(path);
  if (!await checkDirectory(directory, options.directoryMayBeMissing === true)) {
    return { kind: "new", hasData: false, path };
  }
  const size = await checkFile(path);
  if (size === null || size === 0) return { kind: "new", hasData: false, path };
  await checkHeader(path);
  return await inspect(url, path, size, options);
}

/** False when the directory is missing and may be; throws for any other problem with it. */
async function checkDirectory(directory: string, mayBeMissing: boolean): Promise<boolean> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(directory);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      if (mayBeMissing) return false;
      throw new StartupError(
        `KMS_DB_URL: directory ${directory} does not exist: create it (mkdir -p ${directory}) ` +
          "or point KMS_DB_URL at a file in an existing directory",
      );
    }
    throw new StartupError(`KMS_DB_URL: directory ${directory} cannot be read (${reason(e)})`);
  }
  if (!info.isDirectory) {
    throw new StartupError(
      `KMS_DB_URL: ${directory} is not a directory: point KMS_DB_URL at a file in a directory`,
    );
  }
  if (!accessible(directory, constants.W_OK | constants.X_OK)) {
    throw new StartupError(
      `KMS_DB_URL: directory ${directory} is not writable: SQLite creates the database and its ` +
        "-wal and -shm files there; make it writable for the KMS's user or choose another directory",
    );
  }
  return true;
}

/** The size of the database file, or null when there is none yet. */
async function checkFile(path: string): Promise<number | null> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new StartupError(`KMS_DB_URL: ${path} cannot be read (${reason(e)})`);
  }
  if (!info.isFile) {
    throw new StartupError(
      `KMS_DB_URL: ${path} is not a regular file: point KMS_DB_URL at the database file`,
    );
  }
  if (!accessible(path, constants.R_OK | constants.W_OK)) {
    throw new StartupError(
      `KMS_DB_URL: database ${path} is not readable and writable by this process: give the ` +
        "KMS's user read and write access (chmod 600) or start as its owner",
    );
  }
  return info.size;
}

/** Refuses a file that does not start with the SQLite header. */
async function checkHeader(path: string): Promise<void> {
  const file = await Deno.open(path, { read: true });
  const header = new Uint8Array(SQLITE_HEADER.length);
  try {
    let read = 0;
    while (read < header.length) {
      const n = await file.read(header.subarray(read));
      if (n === null) break;
      read += n;
    }
  } finally {
    file.close();
  }
  if (!header.every((byte, i) => byte === SQLITE_HEADER[i])) {
    throw new StartupError(
      `KMS_DB_URL: ${path} is not a SQLite database (no SQLite header): point KMS_DB_URL at this ` +
        "KMS's database, or move the file away to start with a new one",
    );
  }
}

/**
 * Opens the file and runs the SQL checks, which only read; the lock check comes last. The
 * -wal and -shm files that opening a WAL database creates are removed again when the start is
 * refused. (An existing -shm index is SQLite's shared memory: the first connection of any
 * process resets and rebuilds it, so its bytes may change; a read-only open that would not
 * touch it would leave this process unable to write the database, as the driver never really
 * closes a connection.)
 */
async function inspect(
  url: string,
  path: string,
  size: number,
  options: PreflightOptions,
): Promise<DatabaseState> {
  const lockWaitMs = options.lockWaitMs ?? LOCK_WAIT_MS;
  const sideFiles = [`${path}-wal`, `${path}-shm`];
  const existed = await Promise.all(sideFiles.map(exists));
  let db: Client | undefined;
  try {
    db = await openForInspection(url, lockWaitMs);
    await db.execute(`PRAGMA busy_timeout=${lockWaitMs}`);
    const state = await readChecks(db, path, size, options);
    // Takes and drops the write lock (the pool rolls back the empty transaction).
    if (state.kind === "kms") await db.execute("BEGIN IMMEDIATE");
    return state;
  } catch (e) {
    db?.close();
    db = undefined;
    await removeCreated(sideFiles, existed);
    if (e instanceof StartupError) throw e;
    throw sqliteStartupError(path, e, lockWaitMs);
  } finally {
    db?.close();
  }
}

/** The checks that only read: schema, integrity, stored data, root keyring. */
async function readChecks(
  db: Client,
  path: string,
  size: number,
  options: PreflightOptions,
): Promise<DatabaseState> {
  const tables = await listTables(db);
  if (tables.length === 0) return { kind: "new", hasData: false, path };
  const migrations = options.migrations ?? MIGRATIONS;
  const applied = await checkOwnSchema(db, path, tables, migrations);
  await checkIntegrity(db, path, size > FULL_CHECK_BYTES ? tables : null);
  const hasData = await holdsData(db, tables);
  if (hasData && options.keyring === null) throw keyFileMissing(path, options.keyFile);
  const current = migrations.every((m) => applied.has(m.version));
  if (options.keyring && current) await verifyRootKeyring(db, options.keyring);
  return { kind: "kms", hasData, path };
}

/**
 * Removes the -wal and -shm files that opening a WAL database created, when the start is
 * refused: the driver keeps them even after close, and a refused start must leave the directory
 * as it found it. Only an empty -wal goes (nothing was written to it: the checks only read).
 */
async function removeCreated(files: string[], existed: boolean[]): Promise<void> {
  const [wal, shm] = files;
  if (existed[0] || existed[1] || wal === undefined || shm === undefined) return;
  try {
    if ((await Deno.stat(wal)).size !== 0) return;
    await Deno.remove(wal);
  } catch {
    return;
  }
  await Deno.remove(shm).catch(() => {});
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a remote database (`libsql:`, `http(s):`, `ws(s):`) holds stored values: a start
 * with no root keyring asks before it makes a new key (reads only).
 * @throws {StartupError} when the server cannot be read.
 */
export async function remoteDatabaseHoldsData(url: string, authToken?: string): Promise<boolean> {
  const db = await openDatabase(url, authToken);
  try {
    return await holdsData(db, await listTables(db));
  } catch (e) {
    throw new StartupError(
      `KMS_DB_URL: the remote database cannot be read (${
        oneLine(reason(e), 160)
      }): check the URL, ` +
        "KMS_DB_AUTH_TOKEN and the server",
    );
  } finally {
    db.close();
  }
}

/** Whether this process may access `path` as `mode` asks (node:fs access). */
function accessible(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}
